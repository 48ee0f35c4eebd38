import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from civilaffairs.models import AuditEvent
from civilaffairs.services import audit_record, orgunit_update

pytestmark = pytest.mark.django_db


def test_services_write_audit_events_in_the_same_transaction(city):
    before = AuditEvent.objects.count()
    orgunit_update(actor=city["sysadmin"], unit=city.inst_a, name="甲区东街防寒庇护站（新址）")
    event = AuditEvent.objects.latest("id")
    assert AuditEvent.objects.count() == before + 1
    assert event.action == "orgunit.update"
    assert event.actor == city["sysadmin"]
    assert event.changes["name"] == ["甲区东街防寒庇护站", "甲区东街防寒庇护站（新址）"]


def test_a_failed_service_leaves_no_audit_event(city):
    from civilaffairs.exceptions import ServiceError

    before = AuditEvent.objects.count()
    with pytest.raises(ServiceError):
        orgunit_update(
            actor=city["sysadmin"], unit=city.inst_a, parent=city.street_a, code=city.inst_b.code
        )
    assert AuditEvent.objects.count() == before


def test_update_of_an_audit_row_over_the_app_connection_fails(city):
    event = audit_record(actor=city["sysadmin"], action="test.event", summary="原文")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE civilaffairs_auditevent SET summary = 'tampered' WHERE id = %s", [event.pk]
        )
    event.refresh_from_db()
    assert event.summary == "原文"


def test_delete_of_an_audit_row_over_the_app_connection_fails(city):
    event = audit_record(actor=city["sysadmin"], action="test.event")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action="x")
    assert AuditEvent.objects.filter(pk=event.pk, action="test.event").exists()


def test_truncate_is_refused_without_the_maintenance_setting(city):
    audit_record(actor=None, action="test.event")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL civilaffairs.allow_audit_truncate = 'off'")
        cursor.execute("TRUNCATE civilaffairs_auditevent")
    assert AuditEvent.objects.exists()


def test_request_context_is_recorded(city):
    from civilaffairs import context

    token = context.set_current(context.RequestContext(ip="10.1.2.3", user_agent="pytest"))
    try:
        event = audit_record(actor=city["sysadmin"], action="test.ip")
    finally:
        context.reset(token)
    assert event.ip == "10.1.2.3"
    assert event.user_agent == "pytest"


def test_auditor_filters_and_exports_the_trail(city, client):
    audit_record(actor=city["sysadmin"], action="orgunit.special", summary="一条可找到的记录")
    client.force_login(city["auditor"])
    page = client.get(reverse("audit-list"), {"q": "可找到"})
    assert page.status_code == 200
    assert "一条可找到的记录" in page.content.decode()
    empty = client.get(reverse("audit-list"), {"q": "不存在的内容"})
    assert "一条可找到的记录" not in empty.content.decode()
    export = client.get(
        reverse("audit-list"), {"q": "可找到", "export": "xlsx"}, REMOTE_ADDR="10.1.2.3"
    )
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    import io

    import openpyxl

    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert len(rows) == 2  # header + the one matching event
    assert "一条可找到的记录" in rows[1]
    # The export itself is audited.
    exported = AuditEvent.objects.get(action="audit.export", actor=city["auditor"])
    assert exported.ip == "10.1.2.3"  # taken from the request by the middleware


def test_changes_holding_lists_and_dicts_are_shown_not_a_500(city, client):
    audit_record(
        actor=city["supervisor"],
        action="flash.distribute",
        summary="分发",
        changes={"recipients": [3, 5, 8], "options": {"copy": True}, "state": ["draft", "open"]},
    )
    event = AuditEvent.objects.get(action="flash.distribute")
    text = event.changes_display()
    assert "3、5、8" in text and "copy=是" in text
    client.force_login(city["auditor"])
    assert client.get(reverse("audit-list")).status_code == 200


# --- Sign-ins, failures, sign-outs ----------------------------------------------------------


def _all_audit_text() -> str:
    return " ".join(str(row) for row in AuditEvent.objects.values())


def test_a_sign_in_on_the_pages_is_audited(city, client):
    from tests.personas import PASSWORD

    response = client.post(
        reverse("login"), {"username": "supervisor", "password": PASSWORD}, REMOTE_ADDR="10.9.8.7"
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == city["supervisor"]
    assert event.ip == "10.9.8.7"
    assert event.changes == {"via": "web"}
    assert event.action_label != event.action  # a human label


def test_a_failed_sign_in_records_the_username_tried_and_never_the_password(city, client):
    secret = "Wrong#Secret-8241"
    client.post(reverse("login"), {"username": "supervisor", "password": secret})
    client.post(reverse("login"), {"username": "nobody-here", "password": secret})
    events = list(AuditEvent.objects.filter(action="auth.login_failed").order_by("id"))
    assert [e.changes["username"] for e in events] == ["supervisor", "nobody-here"]
    assert all(e.actor_id is None for e in events)  # whoever typed it, not the account
    assert events[0].object_id == str(city["supervisor"].pk)
    assert events[1].object_id == ""  # an unknown username has no account
    assert secret not in _all_audit_text()


def test_signing_out_is_audited(city, client):
    client.force_login(city["supervisor"])
    assert AuditEvent.objects.filter(action="auth.login", actor=city["supervisor"]).exists()
    client.post(reverse("logout"))
    assert AuditEvent.objects.get(action="auth.logout").actor == city["supervisor"]


def test_an_api_token_sign_in_and_its_failure_are_audited(city, client):
    from tests.personas import PASSWORD

    ok = client.post(reverse("api-token"), {"username": "supervisor", "password": PASSWORD})
    assert ok.status_code == 200
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == city["supervisor"] and event.changes == {"via": "api"}
    bad = client.post(reverse("api-token"), {"username": "supervisor", "password": "Nope#1234x"})
    assert bad.status_code == 400
    failed = AuditEvent.objects.get(action="auth.login_failed")
    assert failed.changes == {"username": "supervisor", "via": "api"}
    assert "Nope#1234x" not in _all_audit_text()
    assert PASSWORD not in _all_audit_text()


# --- Denials --------------------------------------------------------------------------------


def test_a_refused_page_is_audited_with_who_what_and_how(city, client):
    client.force_login(city["supervisor"])
    response = client.get(reverse("audit-list"), REMOTE_ADDR="10.1.1.1")
    assert response.status_code == 403
    event = AuditEvent.objects.get(action="access.denied")
    assert event.actor == city["supervisor"]
    assert event.changes == {"http_method": "GET", "path": "/audit/", "status": 403}
    assert event.ip == "10.1.1.1"


def test_a_refused_api_request_is_audited_signed_in_or_not(city, client):
    url = reverse("api-token").replace("auth/token/", "users/")
    assert client.get(url).status_code == 403  # not signed in
    client.force_login(city["auditor"])  # the auditor reads the trail, not the directory
    assert client.get(url).status_code == 403
    anonymous, auditor = AuditEvent.objects.filter(action="access.denied").order_by("id")
    assert anonymous.actor_id is None
    assert anonymous.changes == {"http_method": "GET", "path": url, "status": 403}
    assert auditor.actor == city["auditor"]


def test_not_found_is_not_a_denial(city, client):
    client.force_login(city["supervisor"])
    assert client.get(reverse("user-detail", args=[10**9])).status_code == 404
    assert not AuditEvent.objects.filter(action="access.denied").exists()


def test_a_service_refusal_shown_as_a_message_is_audited(city, client):
    from tests.complaint_data import register

    complaint = register(city)
    client.force_login(city["leader"])  # may read complaints, may not reveal contacts
    url = reverse("rectification:complaint-reveal", args=[complaint.pk])
    response = client.post(url, {"reason": "回访"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="access.denied")
    assert event.actor == city["leader"]
    assert event.changes["http_method"] == "POST" and event.changes["path"] == url
    assert event.summary  # the refusal's own message
    assert not AuditEvent.objects.filter(action="complaint.reveal").exists()


def test_a_storm_of_denials_is_one_event_each(city, client):
    client.force_login(city["supervisor"])
    for _ in range(20):
        assert client.get(reverse("audit-list")).status_code == 403
    assert AuditEvent.objects.filter(action="access.denied").count() == 20


# --- Exports --------------------------------------------------------------------------------


def test_a_list_export_is_audited(city, client):
    client.force_login(city["supervisor"])
    response = client.get(reverse("orgunit-list"), {"export": "xlsx", "kind": "institution"})
    assert response.status_code == 200
    event = AuditEvent.objects.get(action="list.export")
    assert event.actor == city["supervisor"]
    assert event.changes["rows"] == 2
    assert event.changes["path"] == reverse("orgunit-list")
    assert "kind=institution" in event.changes["filters"]
    assert event.action_label != event.action


def test_a_background_export_is_audited_when_asked_and_when_downloaded(city, client, settings):
    from civilaffairs import jobs
    from civilaffairs.models import BackgroundJob

    settings.EXPORT_SYNC_LIMIT = 0
    client.force_login(city["supervisor"])
    asked = client.post(f"{reverse('orgunit-list')}?kind=institution", {"export": "xlsx"})
    assert asked.status_code == 302
    job = BackgroundJob.objects.get()
    assert not AuditEvent.objects.filter(action="list.export").exists()
    requested = AuditEvent.objects.get(action="job.ledger")
    assert requested.action_label != requested.action
    jobs.run_job(job.pk)  # as the worker would
    download = client.get(reverse("job-download", args=[job.uuid]))
    assert download.status_code == 200
    event = AuditEvent.objects.get(action="job.download")
    assert event.actor == city["supervisor"]
    assert event.changes["file"].endswith(".xlsx")


def test_every_action_recorded_here_has_a_human_label(city, client):
    from tests.personas import PASSWORD

    client.post(reverse("login"), {"username": "supervisor", "password": "x"})
    client.post(reverse("login"), {"username": "supervisor", "password": PASSWORD})
    client.get(reverse("audit-list"))
    client.get(reverse("orgunit-list"), {"export": "xlsx"})
    client.post(reverse("logout"))
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"auth.login_failed", "auth.login", "access.denied", "list.export"} <= actions
    for event in AuditEvent.objects.all():
        assert event.action_label != event.action, event.action


def test_the_trail_export_carries_each_events_number_and_hash(city, client):
    import io

    import openpyxl

    event = audit_record(actor=city["sysadmin"], action="orgunit.special", summary="带哈希的记录")
    client.force_login(city["auditor"])
    export = client.get(reverse("audit-list"), {"q": "带哈希", "export": "xlsx"})
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content)))
    _header, row = workbook.active.iter_rows(values_only=True)
    assert str(event.pk) in [str(v) for v in row]
    assert event.hash in row and len(event.hash) == 64


def test_a_sign_in_to_the_admin_site_is_audited(city, client):
    from tests.personas import PASSWORD

    response = client.post(
        "/admin/login/?next=/admin/", {"username": "sysadmin", "password": PASSWORD}
    )
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == city["sysadmin"]
    assert event.changes == {"via": "admin"}


def test_every_action_code_written_in_the_code_has_a_human_label():
    """Each ``audit_record(action="x.y")`` in the apps has a label in ACTION_LABELS (codes
    built at run time, like ``f"plan.{action}"``, are registered from their step tables)."""
    import re
    from importlib import import_module
    from pathlib import Path

    from django.conf import settings

    from civilaffairs.models.audit import ACTION_LABELS

    import_module(settings.ROOT_URLCONF)  # every view module, so every registration, loaded
    root = Path(__file__).resolve().parent.parent
    codes = set()
    for app in ("civilaffairs", "inspections", "rectification", "reports"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            for call in re.findall(r"audit_record\((.*?)\)\n", path.read_text(), re.S):
                codes.update(re.findall(r'action="([a-z_]+\.[a-z_]+)"', call))
    assert {"auth.login", "access.denied", "complaint.reveal"} <= codes
    assert sorted(c for c in codes if c not in ACTION_LABELS) == []
