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
