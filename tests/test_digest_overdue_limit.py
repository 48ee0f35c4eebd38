"""The daily digest at city scale (#8): it lists at most DIGEST_OVERDUE_LIMIT overdue orders,
the longest overdue first, and its figure still counts them all."""

import datetime as dt

import pytest
from django.template.loader import render_to_string
from django.utils import timezone

from rectification.models import Rectification
from reports.digest import digest_data
from tests.daily_data import DAY, make_period
from tests.rectification_data import issue

pytestmark = pytest.mark.django_db


def test_digest_lists_the_longest_overdue_and_counts_all(city, settings):
    settings.DIGEST_OVERDUE_LIMIT = 2
    period = make_period(city)
    orders = [issue(city, title=f"逾期{i}") for i in range(3)]
    for days, order in zip((5, 9, 7), orders, strict=True):
        Rectification.objects.filter(pk=order.pk).update(deadline=DAY - dt.timedelta(days=days))
    data = digest_data(period, DAY, timezone.now())
    assert data["figures"]["overdue_orders"] == 3
    assert [o["days"] for o in data["overdue"]] == [9, 7]
    html = render_to_string("reports/daily/digest_pdf.html", {**data, "status_labels": {}})
    assert "The 2 longest overdue of 3 orders" in html or "仅列出逾期最久的 2 件" in html
    settings.DIGEST_OVERDUE_LIMIT = 10
    data = digest_data(period, DAY, timezone.now())
    assert len(data["overdue"]) == data["figures"]["overdue_orders"] == 3


def test_a_big_days_pdf_lists_the_units_needing_attention_and_counts_the_rest(city, settings):
    """Above DIGEST_PDF_ALL_UNITS_UP_TO units the PDF lists the late, missing and abnormal
    units and says how many others reported on time; the workbook keeps every unit."""
    from reports.digest import pdf_selection, render_digest_xlsx
    from tests.daily_data import at, lines, submit

    period = make_period(city)  # district A, district B, the affiliated unit
    submit(city, period, city.district_a, "liaison_a", at(10))
    submit(city, period, city.district_b, "liaison_b", at(11), lines=lines({"safety": "漏水"}))
    data = digest_data(period, DAY, at(20))
    settings.DIGEST_PDF_ALL_UNITS_UP_TO = 3
    assert pdf_selection(data)["rows_not_listed"] == 0  # a small period: every unit listed
    settings.DIGEST_PDF_ALL_UNITS_UP_TO = 2
    chosen = pdf_selection(data)
    names = [r["unit"] for r in chosen["pdf_rows"]]
    assert names == [r["unit"] for r in data["rows"] if r["unit"] != city.district_a.name]
    assert chosen["rows_not_listed"] == 1
    html = render_to_string(
        "reports/daily/digest_pdf.html", {**data, **chosen, "status_labels": {}}
    )
    assert "1 other unit reported on time" in html or "另有 1 个单位按时报送" in html
    assert city.district_a.name not in html.split("<h2>")[-1]  # not in the by-unit table
    assert len(data["rows"]) == 3 and render_digest_xlsx(data)  # the workbook has all three


def test_the_pdf_lists_the_most_severe_new_findings_in_filing_order(settings):
    from reports.digest import pdf_selection

    settings.DIGEST_PDF_FINDINGS_LIMIT = 2
    findings = [
        {"code": "F1", "severity_key": "general"},
        {"code": "F2", "severity_key": "major"},
        {"code": "F3", "severity_key": "serious"},
        {"code": "F4", "severity_key": "major"},
    ]
    data = {"rows": [], "findings": findings}
    chosen = pdf_selection(data)
    assert [f["code"] for f in chosen["pdf_findings"]] == ["F2", "F4"]
    assert chosen["findings_not_listed"] == 2
    settings.DIGEST_PDF_FINDINGS_LIMIT = 3
    assert [f["code"] for f in pdf_selection(data)["pdf_findings"]] == ["F2", "F3", "F4"]
