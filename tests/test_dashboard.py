"""The leadership dashboard: every figure, bar and trend point equals the count of the list it
links to, for a city-wide and a district-scoped user; what a user may not see is not counted."""

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from civilaffairs.choices import Role
from inspections.models import Finding, Visit
from reports import dashboard
from reports.models import DashboardSnapshot, SensitivePeriod
from tests.busy_city import fill
from tests.flash_data import finding as bare_finding


def _links(board):
    """Every (label, shown value, url) on the dashboard."""
    for fig in board.figures.values():
        if fig.url:
            yield fig.key, fig.value, fig.url
    for series in [*board.breakdowns.values(), *board.trends.values()]:
        for row in series.rows:
            yield f"{series.key}:{row.label}", row.value, row.url
    for row in board.repeats:
        yield f"repeat:{row.label}", row.value, row.url


@pytest.fixture
def busy_city(city):
    return fill(city)


PERSONAS = ["leader", "leader_a", "office_head", "supervisor"]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("scope", ["city", "district"])
def test_every_figure_equals_its_list(busy_city, client, persona, scope):
    city = busy_city
    user = city[persona]
    query = {"preset": "year"}
    if scope == "district":
        query["district"] = str(city.district_a.pk)
    filters, errors = dashboard.parse_filters(user, query)
    assert errors == []
    board = dashboard.build_dashboard(user, filters)
    client.force_login(user)
    checked = 0
    for label, value, url in _links(board):
        response = client.get(url)
        assert response.status_code == 200, (label, url)
        assert response.context["total"] == value, (label, url)
        checked += 1
    assert checked > 40
    assert board.figures["findings"].value > 0


def test_district_leader_does_not_count_what_they_may_not_see(busy_city):
    city = busy_city
    office = dashboard.build_dashboard(
        city["supervisor"], dashboard.parse_filters(city["supervisor"], {"preset": "year"})[0]
    )
    district = dashboard.build_dashboard(
        city["leader_a"], dashboard.parse_filters(city["leader_a"], {"preset": "year"})[0]
    )
    # inst_b is in district B: its findings, orders and the secret visit in progress there
    # exist for the office but not for district A's leader.
    b_findings = Finding.objects.filter(target=city.inst_b).exclude(state="draft").count()
    assert b_findings >= 1
    assert office.figures["findings"].value - district.figures["findings"].value >= b_findings
    assert district.figures["orders_overdue"].value == 0
    assert office.figures["orders_overdue"].value == 1
    assert Visit.objects.filter(target=city.inst_b, state="in_progress").exists()
    names = {
        row.label
        for row in district.breakdowns.get("district_findings", dashboard.Series("", "", [])).rows
    }
    assert city.district_b.name not in names
    # The draft finding of the secret visit still on site is not a problem found yet, for
    # anyone; the office sees it in the findings list, not in the figures.
    assert Finding.objects.filter(state="draft").count() == 1
    assert office.figures["findings"].value == Finding.objects.exclude(state="draft").count()
    assert all(row.label != city.inst_b.name for row in district.repeats)


def test_daily_report_figures(busy_city):
    city = busy_city
    user = city["leader"]
    board = dashboard.build_dashboard(user, dashboard.parse_filters(user, {"preset": "year"})[0])
    f = board.figures
    reporting_units = SensitivePeriod.objects.get().units.count()
    assert f["daily_expected"].value == reporting_units * 7
    assert f["daily_received"].value == 3 and f["daily_late"].value == 1
    assert f["daily_abnormal"].value == 1
    district = dashboard.build_dashboard(
        city["leader_a"],
        dashboard.parse_filters(city["leader_a"], {"preset": "year"})[0],
    )
    assert district.figures["daily_received"].value == 2
    assert district.figures["daily_expected"].value == 7


def test_rates_are_shares_of_their_linked_figures(busy_city):
    city = busy_city
    user = city["leader"]
    board = dashboard.build_dashboard(user, dashboard.parse_filters(user, {"preset": "year"})[0])
    rates = board.rates
    assert rates["rectification_rate"].value == dashboard.rate(
        board.figures["orders_closed"].value, board.figures["orders"].value
    )
    assert board.figures["orders_closed"].value == 1 and board.figures["orders"].value == 3
    assert rates["rectification_rate"].value == "33.3"
    assert rates["on_time_rate"].value == "100.0"
    assert dashboard.rate(235, 236) == "99.6"
    assert dashboard.rate(1, 8) == "12.5"
    assert dashboard.rate(2, 3) == "66.7"
    assert dashboard.rate(0, 0) is None


def test_page_for_roles_and_bad_filters(busy_city, client):
    city = busy_city
    url = reverse("reports:dashboard")
    for persona, status in [
        ("leader", 200),
        ("leader_a", 200),
        ("office_head", 200),
        ("supervisor", 200),
        ("liaison_a", 403),
        ("department", 403),
        ("inspector", 403),
        ("auditor", 403),
        ("sysadmin", 403),
    ]:
        client.force_login(city[persona])
        assert client.get(url).status_code == status, persona
    client.force_login(city["leader_a"])
    page = client.get(url, {"since": "2026-13-01", "district": str(city.district_b.pk)})
    assert page.status_code == 200
    text = page.content.decode()
    assert "请按 YYYY-MM-DD 格式输入日期" in text and "请从列表中选择区" in text
    assert city.district_b.name not in re.sub(r"<select.*?</select>", "", text, flags=re.S)
    client.force_login(city["leader"])
    page = client.get(url, {"preset": "year"}).content.decode()
    board = dashboard.dashboard_for(
        city["leader"], dashboard.parse_filters(city["leader"], {"preset": "year"})[0]
    )
    assert (
        'data-figure="findings"' in page
        and board.figures["findings"].url.replace("&", "&amp;") in page
    )
    assert 'id="dashboard-charts"' in page


def test_snapshot_is_served_until_stale_and_refreshed_by_the_task(busy_city, settings):
    city = busy_city
    user = city["leader"]
    filters = dashboard.parse_filters(user, {"preset": "year"})[0]
    first = dashboard.dashboard_for(user, filters)
    assert not first.from_snapshot and DashboardSnapshot.objects.count() == 1
    bare_finding(city, target=city.inst_a)
    cached = dashboard.dashboard_for(user, filters)
    assert (
        cached.from_snapshot and cached.figures["findings"].value == first.figures["findings"].value
    )
    # Two city-wide leaders share the snapshot; a district leader has their own.
    dashboard.dashboard_for(
        city["leader_a"], dashboard.parse_filters(city["leader_a"], {"preset": "year"})[0]
    )
    assert DashboardSnapshot.objects.count() == 2
    DashboardSnapshot.objects.update(computed_at=timezone.now() - dt.timedelta(hours=1))
    assert dashboard.refresh_snapshots() == 2
    fresh = dashboard.dashboard_for(user, filters)
    assert (
        fresh.from_snapshot
        and fresh.figures["findings"].value == first.figures["findings"].value + 1
    )
    # Someone who lost the dashboard role has their snapshots dropped.
    city["leader_a"].roles.filter(role=Role.LEADER).delete()
    DashboardSnapshot.objects.update(computed_at=timezone.now() - dt.timedelta(hours=1))
    assert dashboard.refresh_snapshots() == 1
    assert DashboardSnapshot.objects.count() == 1
