"""Unit scorecards (#4 item 8): figures on hand-built orders, cards by the thresholds in
settings, visibility per persona, filters, sorting, export and query counts."""

import datetime as dt
import io
import os
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from civilaffairs.services import orgunit_create
from rectification.models import Rectification
from rectification.scorecards import card_reasons, unit_scorecards
from tests.chromium import CHROMEDRIVER, CHROMIUM, start_chromium
from tests.personas import PASSWORD
from tests.rectification_data import issue

pytestmark = pytest.mark.django_db

# Orders are placed relative to today: the pages and the API count "overdue" against it.
TODAY = timezone.localdate()


def at(day: dt.date, hour=10, minute=0):
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def days(n):
    return TODAY - dt.timedelta(days=n)


def order(city, unit, *, dispatched, deadline, state, closed=None, returned=0, department=None):
    """An order with its history written directly: the figures are what is tested here."""
    made = issue(city, responsible_unit=unit, supervising_department=department)
    Rectification.objects.filter(pk=made.pk).update(
        dispatched_at=at(dispatched) if isinstance(dispatched, dt.date) else dispatched,
        deadline=deadline,
        state=state,
        closed_at=closed if closed is None or isinstance(closed, dt.datetime) else at(closed),
        times_returned=returned,
    )
    return made


@pytest.fixture
def orders(city):
    """inst_a (district A, supervised by 社会救助处): on time ×2 (one closed late in the evening
    of the deadline day), late ×1 (returned twice), overdue ×1 (returned once), open ×1,
    cancelled ×1 (returned 5 times, never counted). inst_b (养老服务处): one closed on time.
    affiliated: four closed on time and one overdue."""
    a, b, aff = city.inst_a, city.inst_b, city.affiliated
    dept = city.dept_relief
    order(city, a, dispatched=days(30), deadline=days(20), state="verified", closed=days(22),
          department=dept)  # fmt: skip
    order(city, a, dispatched=days(30), deadline=days(20), state="verified",
          closed=at(days(20), 23, 30), department=dept)  # fmt: skip
    order(city, a, dispatched=days(40), deadline=days(30), state="verified", closed=days(25),
          returned=2, department=dept)  # fmt: skip
    order(city, a, dispatched=days(20), deadline=days(5), state="acknowledged", returned=1,
          department=dept)  # fmt: skip
    order(city, a, dispatched=days(3), deadline=TODAY + dt.timedelta(days=7), state="issued",
          department=dept)  # fmt: skip
    order(city, a, dispatched=days(10), deadline=days(1), state="cancelled", returned=5,
          department=dept)  # fmt: skip
    order(city, b, dispatched=days(10), deadline=days(2), state="verified", closed=days(6),
          department=city.dept_elder)  # fmt: skip
    for _ in range(4):
        order(city, aff, dispatched=days(15), deadline=days(5), state="verified", closed=days(6))
    order(city, aff, dispatched=days(15), deadline=days(5), state="submitted")
    return city


def rows_for(user, **filters):
    filters.setdefault("today", TODAY)
    return {r["unit_id"]: r for r in unit_scorecards(user, **filters)}


# --- Figures ------------------------------------------------------------------------------


def test_figures_on_hand_built_orders(orders):
    city = orders
    rows = rows_for(city["supervisor"])
    a = rows[city.inst_a.pk]
    assert (a["orders"], a["open"], a["overdue"]) == (5, 2, 1)
    assert (a["verified"], a["on_time"], a["late"]) == (3, 2, 1)
    assert a["on_time_rate"] == Decimal("50.0")  # 2 on time ÷ (3 closed + 1 overdue)
    assert a["avg_days"] == Decimal("11.0")  # (8 + 10 + 15) / 3
    assert a["times_returned"] == 3  # the cancelled order's 5 returns are not counted
    assert a["card"] == "red"

    b = rows[city.inst_b.pk]
    assert (b["orders"], b["verified"], b["on_time"], b["overdue"]) == (1, 1, 1, 0)
    assert (b["on_time_rate"], b["avg_days"], b["card"]) == (
        Decimal("100.0"),
        Decimal("4.0"),
        "none",
    )

    aff = rows[city.affiliated.pk]
    assert (aff["orders"], aff["verified"], aff["overdue"]) == (5, 4, 1)
    assert aff["on_time_rate"] == Decimal("80.0")  # 4 ÷ (4 + 1)
    assert aff["avg_days"] == Decimal("9.0")
    assert aff["card"] == "yellow"
    # Worst first: red, then yellow, then none.
    assert [r["unit_id"] for r in unit_scorecards(city["supervisor"], today=TODAY)] == [
        city.inst_a.pk,
        city.affiliated.pk,
        city.inst_b.pk,
    ]


@pytest.mark.parametrize("persona", ["supervisor", "liaison_a", "department"])
def test_it_is_one_query(orders, persona):
    user = orders[persona]
    user.has_role("supervisor")  # the roles are read once per user object
    with CaptureQueriesContext(connection) as captured:
        rows = list(unit_scorecards(user, card="carded", district=orders.district_a))
    assert len(captured) == 1 and rows


def test_a_rate_is_rounded_to_one_decimal_and_none_without_closed_or_overdue(city):
    for _ in range(2):
        order(city, city.inst_a, dispatched=days(9), deadline=days(1), state="verified",
              closed=days(3))  # fmt: skip
    order(city, city.inst_a, dispatched=days(9), deadline=days(4), state="verified",
          closed=days(2))  # fmt: skip
    order(city, city.inst_b, dispatched=days(1), deadline=TODAY, state="issued")
    rows = rows_for(city["supervisor"])
    assert rows[city.inst_a.pk]["on_time_rate"] == Decimal("66.7")
    assert rows[city.inst_b.pk]["on_time_rate"] is None
    assert rows[city.inst_b.pk]["avg_days"] is None
    assert rows[city.inst_b.pk]["card"] == "none"  # nothing overdue, nothing closed yet


def test_a_deadline_of_today_is_not_overdue_yet(city):
    order(city, city.inst_a, dispatched=days(5), deadline=TODAY, state="issued")
    assert rows_for(city["supervisor"])[city.inst_a.pk]["overdue"] == 0


# --- Cards --------------------------------------------------------------------------------


def test_card_thresholds_follow_the_settings(orders, settings):
    city = orders
    settings.SCORECARD_RED_ON_TIME_RATE = 40
    rows = rows_for(city["supervisor"])
    assert rows[city.inst_a.pk]["card"] == "yellow"  # 50% is no longer red, still below 90%

    settings.SCORECARD_YELLOW_ON_TIME_RATE = 50
    settings.SCORECARD_YELLOW_OVERDUE = 5
    rows = rows_for(city["supervisor"])
    assert rows[city.inst_a.pk]["card"] == "none"  # 50% is not *below* 50%
    assert rows[city.affiliated.pk]["card"] == "none"

    settings.SCORECARD_RED_OVERDUE = 1
    rows = rows_for(city["supervisor"])
    assert rows[city.affiliated.pk]["card"] == "red"  # one overdue order reaches red
    assert len(card_reasons(rows[city.affiliated.pk])) == 1  # 80% is above the red rate


def test_red_wins_over_yellow_and_reasons_name_both_causes(orders, settings):
    city = orders
    settings.SCORECARD_RED_OVERDUE = 1
    row = rows_for(city["supervisor"])[city.inst_a.pk]
    assert row["card"] == "red"
    reasons = card_reasons(row)
    assert len(reasons) == 2
    assert "50.0" in reasons[0] and "70" in reasons[0]
    assert "1" in reasons[1]


def test_overdue_count_alone_gives_yellow(city):
    order(city, city.inst_b, dispatched=days(20), deadline=days(1), state="issued")
    for _ in range(9):
        order(city, city.inst_b, dispatched=days(20), deadline=days(3), state="verified",
              closed=days(4))  # fmt: skip
    row = rows_for(city["supervisor"])[city.inst_b.pk]
    assert row["on_time_rate"] == Decimal("90.0") and row["overdue"] == 1
    assert row["card"] == "yellow"  # 90% is not below 90%, but one overdue order is


# --- Visibility -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "units"),
    [
        ("supervisor", {"inst_a", "inst_b", "affiliated"}),
        ("office_head", {"inst_a", "inst_b", "affiliated"}),
        ("leader", {"inst_a", "inst_b", "affiliated"}),
        ("leader_a", {"inst_a"}),
        ("liaison_a", {"inst_a"}),
        ("liaison_b", {"inst_b"}),
        ("department", {"inst_a"}),
    ],
)
def test_each_persona_sees_only_its_units(orders, client, persona, units):
    city = orders
    expected = {getattr(city, name).pk for name in units}
    assert set(rows_for(city[persona])) == expected
    client.force_login(city[persona])
    data = client.get(reverse("api-scorecard-list")).json()
    assert {r["unit_id"] for r in data["results"]} == expected
    for name in {"inst_a", "inst_b", "affiliated"} - units:
        pk = getattr(city, name).pk
        assert client.get(reverse("rectification:scorecard-detail", args=[pk])).status_code == 404
        assert client.get(reverse("api-scorecard-detail", args=[pk])).status_code == 404
    for name in units:
        pk = getattr(city, name).pk
        assert client.get(reverse("rectification:scorecard-detail", args=[pk])).status_code == 200


@pytest.mark.parametrize("persona", ["inspector", "auditor", "sysadmin"])
def test_other_roles_have_no_scorecards(orders, client, persona):
    client.force_login(orders[persona])
    assert client.get(reverse("rectification:scorecard-list")).status_code == 403
    detail = reverse("rectification:scorecard-detail", args=[orders.inst_a.pk])
    assert client.get(detail).status_code == 404
    assert client.get(reverse("api-scorecard-list")).status_code == 403
    api_detail = reverse("api-scorecard-detail", args=[orders.inst_a.pk])
    assert client.get(api_detail).status_code == 404


def test_anonymous_is_sent_to_sign_in(orders, client):
    response = client.get(reverse("rectification:scorecard-list"))
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert client.get(reverse("api-scorecard-list")).status_code in (401, 403)


def test_unit_in_scope_without_orders_has_a_page_without_card(city, client):
    client.force_login(city["liaison_a"])
    response = client.get(reverse("rectification:scorecard-detail", args=[city.street_a.pk]))
    assert response.status_code == 200
    assert response.context["row"]["orders"] == 0 and response.context["row"]["card"] == "none"
    data = client.get(reverse("api-scorecard-detail", args=[city.street_a.pk])).json()
    assert (data["orders"], data["card"], data["on_time_rate"]) == (0, "none", None)


def test_detail_shows_the_orders_the_user_may_see_only(orders, client):
    city = orders
    client.force_login(city["liaison_a"])
    response = client.get(reverse("rectification:scorecard-detail", args=[city.inst_a.pk]))
    shown = response.context["orders"]
    assert len(shown) == 6  # the cancelled one is listed too, with its state
    assert all(o.responsible_unit_id == city.inst_a.pk for o in shown)
    assert sum(o.is_overdue for o in shown) == 1
    assert sum(o.closed_on_time for o in shown) == 2
    page = response.content.decode()
    try:
        url = reverse("rectification:order-detail", args=[shown[0].pk])
    except NoReverseMatch:  # the order pages are optional for this page
        url = None
    if url:
        assert f'href="{url}"' in page


def test_detail_lists_the_units_repeat_findings(city, client):
    from tests.test_repeat_findings import ago, file_finding

    file_finding(city, found_at=ago(months=2))
    repeat = file_finding(city)
    elsewhere_first = file_finding(city, unit=city.inst_b, found_at=ago(months=1))
    elsewhere = file_finding(city, unit=city.inst_b)
    assert elsewhere.repeat_of == elsewhere_first
    client.force_login(city["supervisor"])
    response = client.get(reverse("rectification:scorecard-detail", args=[city.inst_a.pk]))
    assert [f.pk for f in response.context["repeat_findings"]] == [repeat.pk]
    assert reverse("inspections:finding-detail", args=[repeat.pk]) in response.content.decode()


def test_api_detail_gives_reasons_and_thresholds(orders, client, settings):
    settings.SCORECARD_RED_OVERDUE = 1
    client.force_login(orders["supervisor"])
    data = client.get(reverse("api-scorecard-detail", args=[orders.inst_a.pk])).json()
    assert data["card"] == "red" and len(data["card_reasons"]) == 2
    assert data["thresholds"] == {
        "yellow_rate": 90,
        "red_rate": 70,
        "yellow_overdue": 1,
        "red_overdue": 1,
    }


# --- Filters, sorting, export -----------------------------------------------------------------


def api_units(client, **params):
    response = client.get(reverse("api-scorecard-list"), params)
    assert response.status_code == 200, response.content
    return [r["unit_id"] for r in response.json()["results"]]


def page_units(client, **params):
    response = client.get(reverse("rectification:scorecard-list"), params)
    assert response.status_code == 200
    return [obj["unit_id"] for obj, _cells in response.context["rows"]]


@pytest.mark.parametrize("fetch", [api_units, page_units])
def test_filters(orders, client, fetch):
    city = orders
    client.force_login(city["supervisor"])
    a, b, aff = city.inst_a.pk, city.inst_b.pk, city.affiliated.pk
    assert fetch(client, district=city.district_a.pk) == [a]
    assert fetch(client, unit_kind="affiliated_unit") == [aff]
    assert fetch(client, card="red") == [a]
    assert fetch(client, card="yellow") == [aff]
    assert fetch(client, card="none") == [b]
    assert fetch(client, card="carded") == [a, aff]
    assert set(fetch(client, since=days(25).isoformat())) == {a, b, aff}
    assert fetch(client, since=days(4).isoformat()) == [a]  # only its open order
    assert fetch(client, until=days(35).isoformat()) == [a]  # only its late order
    assert fetch(client, since=days(35).isoformat(), until=days(25).isoformat()) == [a]
    assert fetch(client, until=days(2000).isoformat()) == []


def test_period_narrows_the_figures(orders):
    city = orders
    row = rows_for(city["supervisor"], since=days(25), until=days(1))[city.inst_a.pk]
    assert (row["orders"], row["open"], row["overdue"], row["verified"]) == (2, 2, 1, 0)
    assert row["on_time_rate"] == Decimal("0.0") and row["card"] == "red"


def test_bad_filters_are_a_form_error_or_400_not_500(orders, client):
    client.force_login(orders["supervisor"])
    url = reverse("rectification:scorecard-list")
    for params in (
        {"since": "2026-13-45"},
        {"since": "2026-11-20", "until": "2026-11-01"},
        {"district": "abc"},
        {"card": "purple"},
        {"unit_kind": "castle"},
    ):
        response = client.get(url, params)
        assert response.status_code == 200, params
        assert response.context["filterset"].errors, params
        assert response.context["rows"] == []
        assert client.get(reverse("api-scorecard-list"), params).status_code == 400, params
    detail = reverse("rectification:scorecard-detail", args=[orders.inst_a.pk])
    response = client.get(detail, {"since": "not-a-date"})
    assert response.status_code == 200 and response.context["period_form"].errors
    api_detail = reverse("api-scorecard-detail", args=[orders.inst_a.pk])
    assert client.get(api_detail, {"until": "x"}).status_code == 400
    assert client.get(reverse("api-scorecard-list"), {"ordering": "bogus"}).status_code == 400
    assert client.get(url, {"sort": "bogus", "page": "x", "page_size": "y"}).status_code == 200


SORTS = ["unit", "district", "orders", "open", "overdue", "verified", "on_time", "late",
         "on_time_rate", "avg_days", "times_returned", "card"]  # fmt: skip


@pytest.mark.parametrize("sort", SORTS)
def test_every_figure_sorts_both_ways(orders, client, sort):
    client.force_login(orders["supervisor"])
    for direction in ("", "-"):
        assert len(page_units(client, sort=f"{direction}{sort}")) == 3
        assert len(api_units(client, ordering=f"{direction}{sort}")) == 3


def test_sort_by_orders_and_rate(orders, client):
    city = orders
    client.force_login(city["supervisor"])
    assert page_units(client, sort="-orders")[0] in (city.inst_a.pk, city.affiliated.pk)
    assert page_units(client, sort="orders")[0] == city.inst_b.pk
    assert api_units(client, ordering="-on_time_rate") == [
        city.inst_b.pk,
        city.affiliated.pk,
        city.inst_a.pk,
    ]


def test_excel_export(orders, client):
    from openpyxl import load_workbook

    client.force_login(orders["liaison_a"])
    response = client.get(reverse("rectification:scorecard-list"), {"export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2  # the header and inst_a only: the liaison's view
    values = rows[1]
    assert values[0] == orders.inst_a.name and values[-2] == orders.district_a.name
    # on-time rate, overdue, orders, closed, on time, late, open, average days, times returned
    assert list(values[2:11]) == [50, 1, 5, 3, 2, 1, 2, 11, 3]


def test_list_page_explains_the_thresholds_in_use(orders, client, settings):
    settings.SCORECARD_RED_ON_TIME_RATE = 65
    settings.SCORECARD_RED_OVERDUE = 4
    client.force_login(orders["supervisor"])
    page = client.get(reverse("rectification:scorecard-list")).content.decode()
    assert "65%" in page and "scorecard-rules" in page


def test_orgunit_page_links_the_scorecard_for_those_who_may_see_it(orders, client):
    city = orders
    url = reverse("orgunit-detail", args=[city.inst_a.pk])
    link = reverse("rectification:scorecard-detail", args=[city.inst_a.pk])
    for persona, shown in (("supervisor", True), ("liaison_a", True), ("inspector", False)):
        client.force_login(city[persona])
        assert (link in client.get(url).content.decode()) is shown, persona
    client.force_login(city["sysadmin"])
    assert link not in client.get(url).content.decode()


# --- Query counts -----------------------------------------------------------------------------


def test_query_count_does_not_depend_on_page_size(city, client):
    for i in range(60):
        unit = orgunit_create(
            actor=None,
            parent=city.street_a,
            code=f"SC-{i}",
            name=f"考评机构{i}",
            kind="institution",
            institution_type="elder_care",
        )
        order(city, unit, dispatched=days(10), deadline=days(i % 3), state="issued")
    for persona in ("supervisor", "liaison_a"):
        client.force_login(city[persona])
        for url_name in ("rectification:scorecard-list", "api-scorecard-list"):
            url = reverse(url_name)
            client.get(url, {"page_size": 25})  # warm caches (content types, sessions)
            counts = []
            for size in (25, 100):
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(url, {"page_size": size})
                assert response.status_code == 200
                counts.append(len(captured))
            assert counts[0] == counts[1], (persona, url_name, counts)


# --- Screenshots ------------------------------------------------------------------------------

SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "var" / "screenshots")
)
SIZES = {"desktop": (1366, 768), "phone": (390, 844)}


@pytest.mark.browser
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Chromium/chromedriver not installed")
@pytest.mark.django_db(transaction=True)
def test_scorecard_pages_in_a_browser(live_server, city):
    from selenium.webdriver.common.by import By

    from tests.test_repeat_findings import ago, file_finding

    order(city, city.inst_a, dispatched=days(30), deadline=days(20), state="verified",
          closed=days(22), returned=1)  # fmt: skip
    order(city, city.inst_a, dispatched=days(20), deadline=days(5), state="acknowledged")
    order(city, city.inst_b, dispatched=days(10), deadline=days(2), state="verified",
          closed=days(6))  # fmt: skip
    for _ in range(4):
        order(city, city.affiliated, dispatched=days(15), deadline=days(5), state="verified",
              closed=days(6))  # fmt: skip
    order(city, city.affiliated, dispatched=days(15), deadline=days(5), state="submitted")
    file_finding(city, found_at=ago(months=2), title="疏散通道堆放杂物")
    file_finding(city, title="疏散通道再次堆放杂物")
    SHOTS.mkdir(parents=True, exist_ok=True)
    driver = start_chromium(*SIZES["desktop"])
    try:
        driver.get(f"{live_server.url}/login/")
        driver.find_element(By.NAME, "username").send_keys("supervisor")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        pages = {
            "scorecard-list": reverse("rectification:scorecard-list"),
            "scorecard-detail": reverse("rectification:scorecard-detail", args=[city.inst_a.pk]),
            "orgunit-detail": reverse("orgunit-detail", args=[city.inst_a.pk]),
        }
        for size, (width, height) in SIZES.items():
            driver.set_window_size(width, height)
            for name, path in pages.items():
                driver.get(f"{live_server.url}{path}")
                assert "服务器错误" not in driver.page_source
                driver.save_screenshot(str(SHOTS / f"{name}-{size}.png"))
                body = driver.find_element(By.TAG_NAME, "body")
                full = driver.execute_script("return document.body.scrollHeight")
                driver.set_window_size(width, max(height, full))
                body.screenshot(str(SHOTS / f"{name}-{size}-full.png"))
                driver.set_window_size(width, height)
    finally:
        driver.quit()
