"""List rows' cells are rendered in Python (#8); each must come out exactly as the template's
``{{ cell }}`` rendered it: local time, localized, escaped unless already safe."""

import datetime as dt
import decimal

from django.template import Context, Template
from django.utils import timezone, translation
from django.utils.html import format_html

from civilaffairs.views.generic import Column, row_cells


def test_cells_render_as_the_template_rendered_them():
    values = [
        "疏散通道<堵塞> & 占用",
        format_html("<a href='{}'>{}</a>", "/x/?a=1&b=2", "链接"),
        42,
        1234567,
        decimal.Decimal("3.50"),
        dt.date(2026, 11, 25),
        timezone.make_aware(dt.datetime(2026, 11, 25, 9, 30)),
        True,
        None,
        "",
    ]
    columns = [
        Column(f"c{i}", "label", (lambda v: lambda _obj: v)(value), css="d-none" if i % 2 else "")
        for i, value in enumerate(values)
    ]
    template = Template(
        '{% for css, cell in cells %}<td{% if css %} class="{{ css }}"{% endif %}>'
        "{{ cell }}</td>{% endfor %}"
    )
    for language in ("zh-hans", "en"):
        with translation.override(language):
            cells = [(c.css, c.cell(object())) for c in columns]
            assert row_cells(object(), columns) == template.render(Context({"cells": cells}))


def test_detail_link_is_the_reversed_url_for_every_row():
    from types import SimpleNamespace

    from django.urls import reverse, set_script_prefix

    from civilaffairs.views.generic import detail_link

    names = [
        "inspections:plan-detail",
        "inspections:visit-detail",
        "inspections:finding-detail",
        "inspections:checklist-detail",
        "rectification:order-detail",
    ]
    try:
        for prefix in ("/", "/dudu/"):
            set_script_prefix(prefix)
            for name in names:
                link = detail_link(name)
                for pk in (1, 7, 2_147_483_647, 12_345_678_901):
                    assert link(SimpleNamespace(pk=pk)) == reverse(name, args=[pk])
    finally:
        set_script_prefix("/")
