"""Flash reports (五五快报): the workflow, the yearly serial under concurrency, the same-day rule
around midnight in Asia/Shanghai, visibility per persona, secrecy of linked findings, the
evening watchdog, the pages and the API."""

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from civilaffairs.exceptions import Conflict, PermissionDenied, ServiceError
from civilaffairs.models import AuditEvent, Notification, TimelineEntry
from reports import services
from reports.flash_querysets import same_day_deadline, signed_on_time
from reports.models import FlashRecipient, FlashReport, FlashSerial
from tests.flash_data import SHANGHAI, approved, distributed, draft, finding, signed
from tests.personas import build_city

UTC = dt.UTC


def _timeline(report):
    return list(
        TimelineEntry.objects.filter(
            content_type__model="flashreport", object_id=report.pk
        ).values_list("verb", flat=True)
    )


def _audits(report):
    return AuditEvent.objects.filter(object_type="reports.flashreport", object_id=str(report.pk))


# --- The workflow ---------------------------------------------------------------------------


def test_the_happy_path_numbers_flags_distributes_and_receipts(city):
    report = distributed(city, leaders=[city["leader"], city["leader_a"]])
    assert report.state == "distributed"
    assert (report.year, report.serial) == (timezone.now().astimezone(SHANGHAI).year, 1)
    assert report.signed_by == city["office_head"] and report.on_time is True
    assert "1" in report.issue_label and str(report.year) in report.issue_label
    assert _timeline(report) == ["created", "submit", "approve", "sign_off", "distribute"]
    assert _audits(report).count() == 5
    assert set(report.recipients.values_list("user__username", flat=True)) == {
        "leader",
        "leader_a",
    }
    told = Notification.objects.filter(event_key=f"flash:{report.pk}:distributed")
    assert set(told.values_list("recipient__username", flat=True)) == {"leader", "leader_a"}

    assert services.flash_mark_read(report=report, actor=city["leader_a"]) is True
    assert services.flash_mark_read(report=report, actor=city["leader_a"]) is False
    assert services.flash_mark_read(report=report, actor=city["supervisor"]) is False
    receipt = FlashRecipient.objects.get(report=report, user=city["leader_a"])
    assert receipt.read_at is not None
    assert FlashRecipient.objects.get(report=report, user=city["leader"]).read_at is None
    assert _timeline(report).count("mark_read") == 1


def test_distributing_again_adds_leaders_and_tells_nobody_twice(city):
    report = distributed(city, leaders=[city["leader"]])
    with pytest.raises(ServiceError):
        services.flash_transition(
            report=report,
            actor=city["supervisor"],
            action="distribute",
            recipients=[city["leader"]],
        )
    services.flash_transition(
        report=report,
        actor=city["supervisor"],
        action="distribute",
        recipients=[city["leader"], city["leader_a"]],
    )
    assert report.recipients.count() == 2
    assert Notification.objects.filter(event_key=f"flash:{report.pk}:distributed").count() == 2


def test_only_leaders_receive_flash_reports(city):
    report = signed(city)
    for bad in ([], [city["liaison_a"]], ["x"], [999999]):
        with pytest.raises(ServiceError):
            services.flash_transition(
                report=report, actor=city["supervisor"], action="distribute", recipients=bad
            )
    report.refresh_from_db()
    assert report.state == "signed" and not report.recipients.exists()


def test_return_needs_a_note_and_reopens_editing(city):
    report = draft(city)
    services.flash_transition(report=report, actor=city["supervisor"], action="submit")
    with pytest.raises(ServiceError):
        services.flash_transition(report=report, actor=city["office_head"], action="return")
    returned = services.flash_transition(
        report=report, actor=city["office_head"], action="return", note="补充原因分析"
    )
    assert returned.state == "returned"
    updated = services.flash_update(
        report=returned, actor=city["supervisor"], version=returned.version, causes="新的分析"
    )
    assert updated.causes == "新的分析" and updated.version == returned.version + 1


def test_submitting_needs_the_situation_and_the_problems(city):
    report = draft(city, situation="", problems="")
    with pytest.raises(ServiceError):
        services.flash_transition(report=report, actor=city["supervisor"], action="submit")
    report.refresh_from_db()
    assert report.state == "draft"


ILLEGAL = [
    # (how far the report got, persona, action)
    ("draft", "office_head", "approve"),
    ("draft", "office_head", "sign_off"),
    ("draft", "supervisor", "distribute"),
    ("draft", "leader", "submit"),
    ("draft", "liaison_a", "submit"),
    ("draft", "inspector", "submit"),
    ("submitted", "supervisor", "approve"),
    ("submitted", "leader", "sign_off"),
    ("submitted", "supervisor", "submit"),
    ("approved", "supervisor", "sign_off"),
    ("approved", "leader_a", "sign_off"),
    ("approved", "department", "sign_off"),
    ("signed", "office_head", "sign_off"),
    ("signed", "leader", "distribute"),
    ("signed", "supervisor", "approve"),
    ("distributed", "supervisor", "submit"),
    ("distributed", "office_head", "return"),
    ("distributed", "auditor", "mark_read"),
    ("draft", "supervisor", "explode"),
]


def _at(city, stage):
    report = draft(city)
    steps = {
        "submitted": [("supervisor", "submit")],
        "approved": [("supervisor", "submit"), ("office_head", "approve")],
        "signed": [("supervisor", "submit"), ("office_head", "approve"), ("leader", "sign_off")],
        "distributed": [
            ("supervisor", "submit"),
            ("office_head", "approve"),
            ("office_head", "sign_off"),
            ("supervisor", "distribute"),
        ],
    }.get(stage, [])
    for persona, action in steps:
        report = services.flash_transition(
            report=report,
            actor=city[persona],
            action=action,
            recipients=[city["leader"]] if action == "distribute" else (),
        )
    return report


@pytest.mark.parametrize(("stage", "persona", "action"), ILLEGAL)
def test_illegal_transitions_are_refused_and_change_nothing(city, stage, persona, action):
    report = _at(city, stage)
    before = FlashReport.objects.values().get(pk=report.pk)
    timeline, audits = len(_timeline(report)), _audits(report).count()
    serial = FlashSerial.objects.filter().values_list("year", "last")
    serial_before = list(serial)
    with pytest.raises(ServiceError):
        services.flash_transition(
            report=report,
            actor=city[persona],
            action=action,
            note="说明",
            recipients=[city["leader"]],
        )
    assert FlashReport.objects.values().get(pk=report.pk) == before
    assert len(_timeline(report)) == timeline and _audits(report).count() == audits
    assert list(serial) == serial_before


def test_a_city_leader_signs_off(city):
    report = approved(city)
    report = services.flash_transition(report=report, actor=city["leader"], action="sign_off")
    assert report.signed_by == city["leader"] and report.serial == 1


def test_a_stale_version_is_a_conflict(city):
    report = draft(city)
    services.flash_update(report=report, actor=city["office_head"], version=1, title="标题改了")
    with pytest.raises(Conflict):
        services.flash_update(report=report, actor=city["supervisor"], version=1, causes="x")
    with pytest.raises(Conflict):
        services.flash_transition(
            report=report, actor=city["supervisor"], action="submit", version=1
        )
    report.refresh_from_db()
    assert (report.title, report.state, report.version) == ("标题改了", "draft", 2)


def test_saving_what_is_stored_keeps_the_version(city):
    report = draft(city)
    again = services.flash_update(
        report=report, actor=city["supervisor"], version=1, title=report.title, findings=[]
    )
    assert again.version == 1 and _audits(report).filter(action="flash.update").count() == 0


@pytest.mark.parametrize("persona", ["leader", "liaison_a", "inspector", "department", "auditor"])
def test_only_the_office_drafts_and_edits(city, persona):
    with pytest.raises(PermissionDenied):
        draft(city, actor=city[persona])
    report = draft(city)
    with pytest.raises(PermissionDenied):
        services.flash_update(report=report, actor=city[persona], version=1, title="改")


def test_a_submitted_report_cannot_be_edited(city):
    report = draft(city)
    report = services.flash_transition(report=report, actor=city["supervisor"], action="submit")
    with pytest.raises(ServiceError):
        services.flash_update(
            report=report, actor=city["supervisor"], version=report.version, title="改"
        )


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"title": "  "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"found_at": None}, "found_at"),
        ({"found_at": "yesterday"}, "found_at"),
        ({"found_at": timezone.now() + dt.timedelta(days=1)}, "found_at"),
        (
            {"occurred_at": timezone.now(), "found_at": timezone.now() - dt.timedelta(hours=2)},
            "occurred_at",
        ),
        ({"findings": ["abc"]}, "findings"),
        ({"findings": [999999]}, "findings"),
        ({"visits": [999999]}, "visits"),
        ({"rectifications": [999999]}, "rectifications"),
    ],
)
def test_bad_input_names_its_field_and_stores_nothing(city, fields, field):
    with pytest.raises(ServiceError) as refused:
        draft(city, **fields)
    assert refused.value.field == field
    assert not FlashReport.objects.exists()


def test_a_draft_finding_cannot_be_linked(city):
    unfiled = finding(city, state="draft")
    with pytest.raises(ServiceError):
        draft(city, findings=[unfiled])
    filed = finding(city)
    report = draft(city, findings=[filed.pk])
    assert list(report.findings.all()) == [filed]


# --- The serial -----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_twenty_sign_offs_at_once_get_twenty_consecutive_serials():
    city = build_city()
    reports = [approved(city, title=f"快报{n}") for n in range(20)]
    barrier, outcomes, errors = threading.Barrier(20), [], []

    def sign(report_id, actor):
        try:
            barrier.wait()
            report = FlashReport.objects.get(pk=report_id)
            outcomes.append(
                services.flash_transition(report=report, actor=actor, action="sign_off").serial
            )
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connection.close()

    actors = [city["office_head"], city["leader"]]
    threads = [
        threading.Thread(target=sign, args=(r.pk, actors[n % 2])) for n, r in enumerate(reports)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(outcomes) == list(range(1, 21))
    stored = sorted(FlashReport.objects.values_list("serial", flat=True))
    assert stored == list(range(1, 21))
    year = timezone.now().astimezone(SHANGHAI).year
    assert FlashSerial.objects.get(year=year).last == 20
    assert TimelineEntry.objects.filter(verb="sign_off").count() == 20


def test_each_year_starts_at_one(city, monkeypatch):
    first = approved(city)
    second = approved(city)
    services.flash_transition(report=first, actor=city["office_head"], action="sign_off")
    new_year = dt.datetime(timezone.now().year + 1, 1, 1, 0, 5, tzinfo=SHANGHAI)
    monkeypatch.setattr("django.utils.timezone.now", lambda: new_year)
    second = services.flash_transition(report=second, actor=city["office_head"], action="sign_off")
    assert (second.year, second.serial) == (new_year.year, 1)


# --- The same-day rule ----------------------------------------------------------------------

FOUND_LOCAL = dt.datetime(2026, 3, 5, 10, 0, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("found_at", "signed_at", "on_time"),
    [
        (FOUND_LOCAL, dt.datetime(2026, 3, 5, 23, 59, 59, tzinfo=SHANGHAI), True),
        (FOUND_LOCAL, dt.datetime(2026, 3, 6, 0, 0, 1, tzinfo=SHANGHAI), False),
        (FOUND_LOCAL, dt.datetime(2026, 3, 6, 0, 0, 0, tzinfo=SHANGHAI), False),
        # Found at 00:30 UTC = 08:30 in Guangzhou, on the 5th: midnight is 16:00 UTC that day.
        (
            dt.datetime(2026, 3, 5, 0, 30, tzinfo=UTC),
            dt.datetime(2026, 3, 5, 15, 59, 59, tzinfo=UTC),
            True,
        ),
        (
            dt.datetime(2026, 3, 5, 0, 30, tzinfo=UTC),
            dt.datetime(2026, 3, 5, 16, 0, 1, tzinfo=UTC),
            False,
        ),
        # Found at 16:30 UTC on the 4th is 00:30 on the 5th in Guangzhou: a whole day to go.
        (
            dt.datetime(2026, 3, 4, 16, 30, tzinfo=UTC),
            dt.datetime(2026, 3, 5, 12, 0, tzinfo=UTC),
            True,
        ),
    ],
)
def test_same_day_rule_around_midnight_in_shanghai(city, monkeypatch, found_at, signed_at, on_time):
    assert signed_on_time(found_at, signed_at) is on_time
    monkeypatch.setattr("django.utils.timezone.now", lambda: found_at + dt.timedelta(minutes=1))
    report = approved(city, found_at=found_at)
    monkeypatch.setattr("django.utils.timezone.now", lambda: signed_at)
    report = services.flash_transition(report=report, actor=city["office_head"], action="sign_off")
    assert report.on_time is on_time
    assert (FlashReport.objects.breaches().count() == 1) is (not on_time)


def test_the_deadline_is_midnight_in_guangzhou_whatever_the_server_zone(settings):
    settings.TIME_ZONE = "UTC"
    found = dt.datetime(2026, 3, 5, 0, 30, tzinfo=UTC)
    assert same_day_deadline(found) == dt.datetime(2026, 3, 5, 16, 0, tzinfo=UTC)


def test_breaches_and_overdue_unsigned_are_counted(city, monkeypatch):
    yesterday = timezone.now() - dt.timedelta(days=2)
    late = approved(city, found_at=yesterday)
    services.flash_transition(report=late, actor=city["office_head"], action="sign_off")
    signed(city)
    draft(city, found_at=yesterday)
    counts = FlashReport.objects.same_day_counts()
    assert counts == {"total": 3, "on_time": 1, "breached": 1, "overdue_unsigned": 1}
    assert FlashReport.objects.overdue_unsigned().count() == 1


# --- Visibility -----------------------------------------------------------------------------


def test_visibility_per_persona(city):
    drafted = draft(city)
    waiting = approved(city)
    to_leader = distributed(city, leaders=[city["leader"]])
    to_district = distributed(city, leaders=[city["leader_a"]])

    def seen(persona):
        return set(FlashReport.objects.visible_to(city[persona]).values_list("pk", flat=True))

    everything = {drafted.pk, waiting.pk, to_leader.pk, to_district.pk}
    assert seen("supervisor") == everything
    assert seen("office_head") == everything
    # The city's leader: issued reports and those waiting for sign-off, never drafts.
    assert seen("leader") == {waiting.pk, to_leader.pk, to_district.pk}
    # A district's leader: what was distributed to them, nothing else.
    assert seen("leader_a") == {to_district.pk}
    for persona in ("inspector", "liaison_a", "liaison_b", "department", "auditor", "sysadmin"):
        assert seen(persona) == set(), persona
    from django.contrib.auth.models import AnonymousUser

    assert not FlashReport.objects.visible_to(AnonymousUser()).exists()


def test_linked_findings_show_only_what_the_reader_may_see(city):
    from reports.flash_pdf import render_document, visible_links

    here = finding(city, target=city.inst_a)
    there = finding(city, target=city.inst_b)
    there.title = "乙区颐养院护理员缺岗"
    there.save()
    report = distributed(city, leaders=[city["leader_a"]], findings=[here, there])
    assert [b.finding for b in visible_links(report, [city["leader_a"]])["findings"]] == [here]
    assert len(visible_links(report, [city["supervisor"]])["findings"]) == 2
    html = render_document(report, [city["leader_a"]])
    assert "乙区颐养院护理员缺岗" not in html and here.title in html
    # The stored PDF takes every recipient's view: leader_a's here.
    from reports.flash_pdf import pdf_audience

    assert pdf_audience(report) == [city["leader_a"]]


# --- The watchdog ---------------------------------------------------------------------------


def test_the_watchdog_reminds_once_per_finding_per_day(city, monkeypatch):
    evening = timezone.now().astimezone(SHANGHAI).replace(hour=20, minute=0, second=0)
    monkeypatch.setattr("django.utils.timezone.now", lambda: evening)
    morning = evening.replace(hour=9)
    lonely = finding(city, found_at=morning)
    covered = finding(city, found_at=morning)
    finding(city, found_at=morning, severity="serious")
    finding(city, found_at=morning, state="draft")
    finding(city, found_at=morning - dt.timedelta(days=1))
    draft(city, findings=[covered], found_at=morning)
    office = {"supervisor", "office_head"}

    assert services.watchdog(now=evening) == len(office)
    assert services.watchdog(now=evening) == 0
    told = Notification.objects.filter(event_key__startswith="flash-watchdog:")
    assert set(told.values_list("recipient__username", flat=True)) == office
    assert {n.object_id for n in told} == {lonely.pk}
    # The next evening is another day, but the finding was not found that day: nothing.
    assert services.watchdog(now=evening + dt.timedelta(days=1)) == 0


@pytest.mark.django_db(transaction=True)
def test_two_watchdogs_at_once_tell_each_person_once():
    city = build_city()
    evening = timezone.now().astimezone(SHANGHAI).replace(hour=20, minute=0, second=0)
    finding(city, found_at=evening.replace(hour=9))
    barrier, results = threading.Barrier(2), []

    def run():
        try:
            barrier.wait()
            results.append(services.watchdog(now=evening))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 2
    assert Notification.objects.filter(event_key__startswith="flash-watchdog:").count() == 2


def test_the_watchdog_is_scheduled_at_eight_pm():
    from civilaffairs.management.commands.setup_schedules import SCHEDULES

    entries = [v for v in SCHEDULES.values() if v[0] == "reports.tasks.flash_watchdog"]
    assert entries == [("reports.tasks.flash_watchdog", {"minute": "0", "hour": "20"})]


# --- Step notifications ---------------------------------------------------------------------


def test_steps_tell_the_other_side(city):
    from civilaffairs.notifications import dispatch_timeline_entry

    report = draft(city)
    services.flash_transition(report=report, actor=city["supervisor"], action="submit")
    for entry in TimelineEntry.objects.filter(content_type__model="flashreport"):
        dispatch_timeline_entry(entry.pk)
    heads = Notification.objects.filter(recipient=city["office_head"], object_id=report.pk)
    assert heads.count() == 1
    assert not Notification.objects.filter(recipient=city["leader"]).exists()


# --- Pages ----------------------------------------------------------------------------------


def _ok(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response


def test_pages_for_the_office(city, login):
    report = distributed(city)
    editing = draft(city)
    client = login(city["supervisor"])
    page = _ok(client, reverse("reports:flash-list")).content.decode()
    assert report.title in page and editing.title in page
    _ok(client, reverse("reports:flash-list") + "?q=消防&year=2026&on_time=false&sort=-serial")
    _ok(client, reverse("reports:flash-list") + "?year=abc&state=nonsense&page=x")
    export = client.get(reverse("reports:flash-list") + "?export=xlsx")
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    _ok(client, reverse("reports:flash-detail", args=[report.pk]))
    _ok(client, reverse("reports:flash-preview", args=[report.pk]))
    _ok(client, reverse("reports:flash-edit", args=[editing.pk]))
    _ok(client, reverse("reports:flash-create"))
    _ok(client, reverse("reports:flash-link-search") + "?kind=findings&q=消防")
    _ok(client, reverse("reports:flash-link-search") + "?kind=bogus&q=")
    # A signed report is no longer edited: the editor sends the reader to the report.
    assert client.get(reverse("reports:flash-edit", args=[report.pk])).status_code == 302


def test_creating_and_autosaving_through_the_pages(city, login):
    client = login(city["supervisor"])
    response = client.post(
        reverse("reports:flash-create"),
        {
            "title": "乙区颐养院夜间无人值守",
            "found_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert response.status_code == 302
    report = FlashReport.objects.get()
    url = reverse("reports:flash-autosave", args=[report.pk])
    saved = client.post(
        url,
        {"version": 1, "title": report.title, "situation": "基本情况", "found_at": "x"},
        HTTP_HX_REQUEST="true",
    )
    assert saved.status_code == 400 and "version" in saved.content.decode()
    report.refresh_from_db()
    assert report.situation == "" and report.version == 1  # bad time: nothing saved
    saved = client.post(
        url,
        {
            "version": 1,
            "title": report.title,
            "situation": "基本情况",
            "found_at": timezone.localtime(report.found_at).strftime("%Y-%m-%dT%H:%M"),
        },
        HTTP_HX_REQUEST="true",
    )
    assert saved.status_code == 200 and "version" in saved.content.decode()
    report.refresh_from_db()
    assert report.situation == "基本情况" and report.version == 2
    stale = client.post(url, {"version": 1, "title": "旧的"}, HTTP_HX_REQUEST="true")
    assert stale.status_code == 409
    report.refresh_from_db()
    assert report.title != "旧的"


def test_steps_through_the_pages(city, login):
    report = approved(city)
    client = login(city["office_head"])
    url = reverse("reports:flash-transition", args=[report.pk, "sign_off"])
    assert client.post(url, {"version": report.version}).status_code == 302
    report.refresh_from_db()
    assert report.state == "signed"
    stale = client.post(
        reverse("reports:flash-transition", args=[report.pk, "distribute"]),
        {"version": 1, "recipients": [city["leader"].pk]},
    )
    assert stale.status_code == 302
    report.refresh_from_db()
    assert report.state == "signed"
    client.post(
        reverse("reports:flash-transition", args=[report.pk, "distribute"]),
        {"version": report.version, "recipients": [city["leader"].pk]},
    )
    report.refresh_from_db()
    assert report.state == "distributed"
    leader = login(city["leader"])
    _ok(leader, reverse("reports:flash-detail", args=[report.pk]))
    assert FlashRecipient.objects.get(report=report).read_at is not None
    assert (
        client.post(reverse("reports:flash-transition", args=[report.pk, "nope"])).status_code
        == 404
    )


@pytest.mark.parametrize("persona", ["liaison_a", "department", "inspector", "leader_a"])
def test_outsiders_get_404(city, login, persona):
    report = distributed(city)
    client = login(city[persona])
    for name in ("flash-detail", "flash-preview", "flash-pdf", "flash-edit"):
        assert client.get(reverse(f"reports:{name}", args=[report.pk])).status_code == 404
    assert (
        client.post(reverse("reports:flash-transition", args=[report.pk, "distribute"])).status_code
        == 404
    )


def test_the_list_is_forbidden_to_roles_without_reports(city, login):
    assert login(city["liaison_a"]).get(reverse("reports:flash-list")).status_code == 403
    assert login(city["leader_a"]).get(reverse("reports:flash-list")).status_code == 200


def test_the_list_makes_a_constant_number_of_queries(city, login):
    client = login(city["supervisor"])
    distributed(city)
    url = reverse("reports:flash-list")
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    for n in range(6):
        distributed(city, title=f"快报{n}", findings=[finding(city)])
        draft(city, title=f"草稿{n}")
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


# --- API ------------------------------------------------------------------------------------


def _json(client, method, url, data=None):
    return getattr(client, method)(url, data=data, content_type="application/json")


def test_the_api_drafts_moves_and_refuses(city, client):
    client.force_login(city["supervisor"])
    base = reverse("api-flash-report-list")
    created = _json(
        client,
        "post",
        base,
        {
            "title": "甲区东街防寒庇护站消防通道堵塞",
            "found_at": timezone.now().isoformat(),
            "situation": "基本情况",
            "problems": "发现问题",
            "findings": [finding(city).pk],
        },
    )
    assert created.status_code == 201, created.content
    pk, body = created.json()["id"], created.json()
    assert body["state"] == "draft" and body["version"] == 1 and len(body["findings"]) == 1
    detail = reverse("api-flash-report-detail", args=[pk])
    patched = _json(client, "patch", detail, {"version": 1, "causes": "原因"})
    assert patched.status_code == 200 and patched.json()["version"] == 2
    assert _json(client, "patch", detail, {"version": 1, "causes": "旧"}).status_code == 409
    assert _json(client, "patch", detail, {"causes": "无版本"}).status_code == 400
    assert _json(client, "post", base, {"title": ""}).status_code == 400
    step = reverse("api-flash-report-transition", args=[pk])
    assert _json(client, "post", step, {"action": "submit", "version": 2}).status_code == 200
    assert _json(client, "post", step, {"action": "approve", "version": 3}).status_code == 403
    assert _json(client, "post", step, {"action": "fly", "version": 3}).status_code == 400
    client.force_login(city["office_head"])
    assert _json(client, "post", step, {"action": "approve", "version": 3}).status_code == 200
    assert _json(client, "post", step, {"action": "sign_off", "version": 4}).status_code == 200
    assert (
        _json(
            client,
            "post",
            step,
            {"action": "distribute", "version": 5, "recipients": [city["leader"].pk]},
        ).status_code
        == 200
    )
    client.force_login(city["leader"])
    listed = client.get(base)
    assert [r["id"] for r in listed.json()["results"]] == [pk]
    read = reverse("api-flash-report-read", args=[pk])
    assert client.post(read).status_code == 200
    assert client.get(detail).json()["recipients"][0]["read_at"]
    client.force_login(city["liaison_a"])
    assert client.get(detail).status_code == 404
    assert client.get(base).status_code == 403


def test_the_api_list_filters_and_counts_queries(city, client):
    client.force_login(city["office_head"])
    base = reverse("api-flash-report-list")
    distributed(city)
    client.get(base)
    with CaptureQueriesContext(connection) as few:
        client.get(base)
    for n in range(5):
        distributed(city, title=f"快报{n}", findings=[finding(city)])
    with CaptureQueriesContext(connection) as many:
        response = client.get(base + "?state=distributed&on_time=true")
    assert response.status_code == 200 and response.json()["count"] == 6
    assert len(many) == len(few)
    assert client.get(base + "?year=abc").status_code == 400
