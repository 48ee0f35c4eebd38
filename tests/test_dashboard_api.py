"""GET /api/v1/dashboard/ (#8): the page's figures as JSON for the page's roles and filters,
served through dashboard_for (a fresh snapshot when there is one)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from reports import dashboard
from reports.models import DashboardSnapshot
from tests.busy_city import fill
from tests.flash_data import finding as bare_finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def busy_city(city):
    return fill(city)


@pytest.mark.parametrize(
    "persona,status",
    [
        ("leader", 200),
        ("leader_a", 200),
        ("office_head", 200),
        ("supervisor", 200),
        ("liaison_a", 403),
        ("department", 403),
        ("inspector", 403),
        ("auditor", 403),
        ("sysadmin", 403),
    ],
)
def test_roles_of_the_page(busy_city, client, persona, status):
    client.force_login(busy_city[persona])
    assert client.get(reverse("api-dashboard")).status_code == status


def test_anonymous_is_refused(client):
    assert client.get(reverse("api-dashboard")).status_code in (401, 403)


@pytest.mark.parametrize("persona", ["leader", "leader_a"])
def test_figures_are_the_dashboards_for_the_same_filters(busy_city, client, persona):
    user = busy_city[persona]
    client.force_login(user)
    query = {"preset": "year"}
    body = client.get(reverse("api-dashboard"), query).json()
    board = dashboard.build_dashboard(user, dashboard.parse_filters(user, query)[0])
    assert {k: f["value"] for k, f in body["figures"].items()} == {
        k: f.value for k, f in board.figures.items()
    }
    assert body["figures"]["findings"]["url"] == board.figures["findings"].url
    assert body["filters"]["preset"] == "year" and body["computed_at"]
    assert set(body) >= {"rates", "breakdowns", "trends", "overdue", "repeats", "cards"}


def test_district_filter_and_visibility(busy_city, client):
    city = busy_city
    client.force_login(city["leader_a"])
    own = client.get(reverse("api-dashboard"), {"district": city.district_a.pk})
    assert own.status_code == 200 and own.json()["filters"]["district_id"] == city.district_a.pk
    with translation.override("zh-hans"):
        message = gettext("Choose a district from the list.")
    other = client.get(reverse("api-dashboard"), {"district": city.district_b.pk})
    assert other.status_code == 400 and other.json() == {"detail": message}


@pytest.mark.parametrize(
    "query,msgid",
    [
        ({"preset": "decade"}, "Unknown period."),
        ({"since": "2026-13-01"}, "Enter dates as YYYY-MM-DD."),
        ({"since": "2026-05-01", "until": "2026-04-01"}, "The period ends before it starts."),
    ],
)
def test_bad_filters_answer_400_in_chinese(busy_city, client, query, msgid):
    client.force_login(busy_city["leader"])
    answer = client.get(reverse("api-dashboard"), query, HTTP_ACCEPT_LANGUAGE="zh-hans")
    with translation.override("zh-hans"):
        assert answer.status_code == 400 and answer.json() == {"detail": gettext(msgid)}
    assert DashboardSnapshot.objects.count() == 0


def test_served_from_the_snapshot_while_fresh(busy_city, client):
    city = busy_city
    client.force_login(city["leader"])
    url = reverse("api-dashboard")
    first = client.get(url, {"preset": "year"}).json()
    assert DashboardSnapshot.objects.count() == 1
    bare_finding(city, target=city.inst_a)
    with CaptureQueriesContext(connection) as captured:
        again = client.get(url, {"preset": "year"}).json()
    assert again["figures"]["findings"]["value"] == first["figures"]["findings"]["value"]
    assert again["computed_at"] == first["computed_at"] and again["from_snapshot"] is True
    assert len(captured) < 10  # read the snapshot, not 40 aggregates
