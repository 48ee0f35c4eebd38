"""Repeat problems (#4 item 7): the same category at the same unit within the window is flagged
and links its history, as far as each user may see it."""

import datetime as dt
import importlib
import os
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import reverse
from django.utils import timezone

from civilaffairs.choices import BottomLine, Role
from civilaffairs.models import AuditEvent
from civilaffairs.services import timeline_of, user_create
from inspections import services
from inspections.choices import Category, Disposition
from inspections.models import Finding
from inspections.querysets import shift_months
from tests.chromium import CHROMEDRIVER, CHROMIUM, start_chromium
from tests.inspection_data import make_visit
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

FIRE, DUTY = Category.FIRE_HAZARD, Category.DUTY_ABSENCE


def ago(months=0, days=0):
    return shift_months(timezone.now(), -months) - dt.timedelta(days=days)


def open_visit(city, unit=None, inspector=None):
    inspector = inspector or city["inspector"]
    visit = make_visit(city, targets=[unit or city.inst_a], team=[inspector])
    services.visit_checkin(actor=inspector, visit=visit, latitude=23.12, longitude=113.26)
    for item in visit.templates.get().items.all():
        services.result_record(actor=inspector, visit=visit, item=item, outcome="pass")
    return visit


def record(city, visit, *, category=FIRE, found_at=None, title="消防通道堵塞", inspector=None):
    finding, _ = services.finding_create(
        actor=inspector or city["inspector"],
        visit=visit,
        title=title,
        bottom_line=BottomLine.SAFETY,
        category=category,
        severity="general",
        disposition=Disposition.RECTIFY_BY_DEADLINE,
        found_at=found_at or timezone.now(),
    )
    return finding


def file_finding(city, *, unit=None, category=FIRE, found_at=None, inspector=None, title=None):
    """One visit to ``unit`` with one finding, submitted."""
    visit = open_visit(city, unit, inspector)
    finding = record(
        city,
        visit,
        category=category,
        found_at=found_at,
        inspector=inspector,
        title=title or "消防通道堵塞",
    )
    services.visit_submit(actor=inspector or city["inspector"], visit=visit)
    finding.refresh_from_db()
    return finding


# --- The rule -------------------------------------------------------------------------------


def test_same_unit_and_category_within_the_window_is_a_repeat(city):
    first = file_finding(city, found_at=ago(months=5))
    second = file_finding(city)
    assert first.repeat_of is None and not first.is_repeat
    assert second.repeat_of == first and second.is_repeat
    filed = [e for e in timeline_of(second) if e.verb == "filed"]
    assert filed[0].data["repeat_of"] == first.code


def test_a_draft_is_flagged_as_soon_as_it_is_recorded(city):
    first = file_finding(city, found_at=ago(months=1))
    visit = open_visit(city)
    draft = record(city, visit)
    assert draft.state == "draft" and draft.repeat_of == first
    recorded = timeline_of(draft).get(verb="recorded")
    assert recorded.data == {"repeat_of": first.code}


def test_outside_the_window_is_not_a_repeat(city, settings):
    settings.REPEAT_PROBLEM_MONTHS = 6
    file_finding(city, found_at=ago(months=6, days=2))
    later = file_finding(city)
    assert later.repeat_of is None


def test_the_window_follows_the_setting(city, settings):
    settings.REPEAT_PROBLEM_MONTHS = 12
    first = file_finding(city, found_at=ago(months=7))
    assert file_finding(city).repeat_of == first


def test_another_category_or_another_unit_is_not_a_repeat(city):
    file_finding(city, found_at=ago(months=1), category=DUTY)
    file_finding(city, found_at=ago(months=1), unit=city.inst_b)
    assert file_finding(city).repeat_of is None


def test_it_links_the_most_recent_earlier_finding(city):
    oldest = file_finding(city, found_at=ago(months=5))
    middle = file_finding(city, found_at=ago(months=2))
    newest = file_finding(city)
    assert (oldest.repeat_of, middle.repeat_of, newest.repeat_of) == (None, oldest, middle)


def test_two_findings_of_one_visit_are_not_repeats_of_each_other(city):
    visit = open_visit(city)
    a = record(city, visit, title="一楼通道堵塞")
    b = record(city, visit, title="二楼通道堵塞")
    services.visit_submit(actor=city["inspector"], visit=visit)
    assert Finding.objects.filter(pk__in=[a.pk, b.pk], repeat_of__isnull=False).count() == 0


def test_filing_an_earlier_finding_later_relinks_the_newer_one(city):
    """A visit filed late (offline phone) with a finding found before an already filed one."""
    newest = file_finding(city)
    late_visit = open_visit(city)
    earlier = record(city, late_visit, found_at=ago(days=10))
    assert earlier.repeat_of is None
    services.visit_submit(actor=city["inspector"], visit=late_visit)
    newest.refresh_from_db()
    assert newest.repeat_of_id == earlier.pk


def test_a_draft_of_another_visit_is_not_repeated(city):
    visit = open_visit(city)
    record(city, visit, found_at=ago(days=3))  # still a draft
    assert file_finding(city).repeat_of is None


def test_amending_the_category_changes_the_link(city):
    fire = file_finding(city, found_at=ago(months=2))
    duty = file_finding(city, category=DUTY)
    assert duty.repeat_of is None
    duty = services.finding_amend(
        actor=city["supervisor"], finding=duty, reason="类别填错", category=FIRE
    )
    assert duty.repeat_of_id == fire.pk
    event = AuditEvent.objects.filter(action="finding.amend", object_id=str(duty.pk)).get()
    assert event.changes["repeat_of"] == ["", fire.code]
    # The earlier one changes category: the later one no longer repeats it.
    services.finding_amend(
        actor=city["supervisor"], finding=fire, reason="类别填错", category=Category.OTHER
    )
    duty.refresh_from_db()
    assert duty.repeat_of_id is None


def test_amending_other_fields_keeps_the_link_and_the_version_rule(city):
    first = file_finding(city, found_at=ago(months=1))
    second = file_finding(city)
    second = services.finding_amend(
        actor=city["supervisor"], finding=second, reason="补充", title="消防通道被杂物堵塞"
    )
    assert second.repeat_of_id == first.pk and second.version == 2


def test_the_migration_backfills_existing_findings_in_batches(city, monkeypatch):
    first = file_finding(city, found_at=ago(months=3))
    second = file_finding(city, found_at=ago(months=1))
    third = file_finding(city)
    other = file_finding(city, unit=city.inst_b)
    Finding.objects.update(repeat_of=None)
    migration = importlib.import_module("inspections.migrations.0003_finding_repeat_of")
    monkeypatch.setattr(migration, "BATCH", 1)
    migration.link_repeats(apps, None)
    links = dict(Finding.objects.values_list("pk", "repeat_of_id"))
    assert links == {first.pk: None, second.pk: first.pk, third.pk: second.pk, other.pk: None}


# --- Who sees the history ----------------------------------------------------------------------


@pytest.fixture
def history(city):
    """inst_a: a fire hazard three months ago (found by the city inspector) and one now, found
    by a second inspector who was not on the first visit."""
    second_inspector = user_create(
        actor=None,
        username="inspector2",
        real_name="检查员二",
        org_unit=city.office,
        roles=[(Role.INSPECTOR, None)],
    )
    earlier = file_finding(city, found_at=ago(months=3), title="三个月前通道堵塞")
    later = file_finding(city, inspector=second_inspector, title="本次通道又被堵塞")
    return earlier, later, second_inspector


def test_history_lists_both_directions_for_those_who_may_see_it(city, history):
    earlier, later, _inspector2 = history
    unrelated = file_finding(city, category=DUTY)
    for persona in ("supervisor", "liaison_a", "leader_a", "department"):
        user = city[persona]
        assert list(Finding.objects.history_of(later, user=user)) == [earlier], persona
        assert list(Finding.objects.history_of(earlier, user=user)) == [later], persona
        assert unrelated not in Finding.objects.history_of(later, user=user)


def test_history_hides_what_the_user_may_not_see(city, history):
    _earlier, later, inspector2 = history
    assert list(Finding.objects.history_of(later, user=inspector2)) == []
    assert list(Finding.objects.history_of(later, user=city["liaison_b"])) == []
    assert list(Finding.objects.history_of(later, user=city["auditor"])) == []


def test_history_never_lists_drafts(city, history):
    _earlier, later, _inspector2 = history
    visit = open_visit(city)
    draft = record(city, visit, found_at=ago(days=1))
    assert draft not in Finding.objects.history_of(later, user=city["supervisor"])
    assert draft not in Finding.objects.history_of(later, user=city["inspector"])


def test_detail_page_links_the_history_the_user_may_see(city, history, client):
    earlier, later, inspector2 = history
    client.force_login(city["liaison_a"])
    page = client.get(reverse("inspections:finding-detail", args=[later.pk])).content.decode()
    assert 'id="repeat-problem"' in page
    assert reverse("inspections:finding-detail", args=[earlier.pk]) in page

    client.force_login(inspector2)
    page = client.get(reverse("inspections:finding-detail", args=[later.pk])).content.decode()
    assert 'id="repeat-problem"' in page  # flagged …
    assert reverse("inspections:finding-detail", args=[earlier.pk]) not in page  # … no link
    assert earlier.title not in page


def test_api_gives_the_link_only_to_those_who_may_see_it(city, history, client):
    earlier, later, inspector2 = history
    client.force_login(city["supervisor"])
    data = client.get(reverse("api-finding-detail", args=[later.pk])).json()
    assert data["is_repeat"] is True and data["repeat_of"] == earlier.pk
    listed = client.get(reverse("api-finding-list"), {"repeat": "true"}).json()
    assert [f["id"] for f in listed["results"]] == [later.pk]
    listed = client.get(reverse("api-finding-list"), {"repeat": "false"}).json()
    assert [f["id"] for f in listed["results"]] == [earlier.pk]

    client.force_login(inspector2)
    data = client.get(reverse("api-finding-detail", args=[later.pk])).json()
    assert data["is_repeat"] is True and data["repeat_of"] is None
    visit = client.get(reverse("api-visit-detail", args=[later.visit_id])).json()
    assert [(f["is_repeat"], f["repeat_of"]) for f in visit["findings"]] == [(True, None)]


def test_list_page_filters_and_flags_repeats(city, history, client):
    earlier, later, _inspector2 = history
    client.force_login(city["supervisor"])
    url = reverse("inspections:finding-list")
    repeats = client.get(url, {"repeat": "true"}, HTTP_HX_REQUEST="true").content.decode()
    assert later.title in repeats and earlier.title not in repeats
    others = client.get(url, {"repeat": "false"}, HTTP_HX_REQUEST="true").content.decode()
    assert earlier.title in others and later.title not in others
    for sort in ("repeat", "-repeat"):
        assert client.get(url, {"sort": sort, "repeat": "maybe"}).status_code == 200
    export = client.get(url, {"export": "xlsx"})
    assert export.status_code == 200


# --- Screenshots ------------------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason="Chromium/chromedriver not installed")
@pytest.mark.django_db(transaction=True)
def test_repeat_pages_in_a_browser(live_server, city):
    from selenium.webdriver.common.by import By

    earlier = file_finding(city, found_at=ago(months=4), title="疏散通道堆放杂物")
    later = file_finding(city, title="疏散通道再次堆放杂物")
    file_finding(city, category=DUTY, title="值班人员不在岗")
    shots = Path(
        os.environ.get(
            "SCREENSHOT_DIR", Path(__file__).resolve().parent.parent / "var" / "screenshots"
        )
    )
    shots.mkdir(parents=True, exist_ok=True)
    driver = start_chromium(1366, 768)
    try:
        driver.get(f"{live_server.url}/login/")
        driver.find_element(By.NAME, "username").send_keys("supervisor")
        driver.find_element(By.NAME, "password").send_keys(PASSWORD)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        pages = {
            "finding-list": reverse("inspections:finding-list"),
            "finding-list-repeats": reverse("inspections:finding-list") + "?repeat=true",
            "finding-detail-repeat": reverse("inspections:finding-detail", args=[later.pk]),
            "finding-detail-earlier": reverse("inspections:finding-detail", args=[earlier.pk]),
        }
        for size, (width, height) in {"desktop": (1366, 768), "phone": (390, 844)}.items():
            driver.set_window_size(width, height)
            for name, path in pages.items():
                driver.get(f"{live_server.url}{path}")
                assert "服务器错误" not in driver.page_source
                driver.save_screenshot(str(shots / f"{name}-{size}.png"))
                full = driver.execute_script("return document.body.scrollHeight")
                driver.set_window_size(width, max(height, full))
                driver.find_element(By.TAG_NAME, "body").screenshot(
                    str(shots / f"{name}-{size}-full.png")
                )
                driver.set_window_size(width, height)
        assert driver.find_element(By.ID, "repeat-problem")
    finally:
        driver.quit()
