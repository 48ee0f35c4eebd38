"""The list pages' filter selects (#8): options rendered in Python from (id, label) pairs, the
current value selected, labels escaped; an institution chosen by link is listed although the
select otherwise leaves institutions out."""

import re

import pytest

pytestmark = pytest.mark.django_db


def select(html: str, name: str) -> list[tuple[str, bool, str]]:
    body = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S).group(1)
    return [
        (value, bool(selected), label)
        for value, selected, label in re.findall(
            r'<option value="([^"]*)"( selected)?>(.*?)</option>', body
        )
    ]


def test_unit_select_lists_units_above_institutions_and_the_chosen_one(city, client):
    from civilaffairs.services import orgunit_update

    orgunit_update(actor=None, unit=city.district_b, name="乙区<b>民政局</b>")
    client.force_login(city["supervisor"])
    html = client.get("/inspections/findings/").content.decode()
    options = select(html, "unit")
    assert options[0] == ("", False, "全部")  # nothing chosen: the browser shows the first
    values = {value for value, _selected, _label in options}
    assert str(city.district_a.pk) in values and str(city.inst_a.pk) not in values
    assert (str(city.district_b.pk), False, "乙区&lt;b&gt;民政局&lt;/b&gt;") in options

    html = client.get(f"/inspections/findings/?unit={city.inst_a.pk}&state=open").content.decode()
    chosen = [option for option in select(html, "unit") if option[1]]
    assert chosen == [(str(city.inst_a.pk), True, city.inst_a.name)]
    assert [value for value, selected, _label in select(html, "state") if selected] == ["open"]


def test_plan_select_lists_plans_by_title_the_chosen_one_selected(city, client):
    from tests.inspection_data import make_plan

    plan = make_plan(city)
    client.force_login(city["supervisor"])
    html = client.get(f"/inspections/findings/?plan={plan.pk}").content.decode()
    assert (str(plan.pk), True, plan.title) in select(html, "plan")
