"""The audit trail's hash chain: every event is linked to the one before it, ``audit_verify``
names the first edited, removed or slipped-in row, concurrent writers still make one chain,
and purging past the retention period keeps what is younger and leaves a chain that verifies."""

import datetime as dt
import importlib
import itertools
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from civilaffairs import auditchain
from civilaffairs.models import AuditEvent, AuditPurge
from civilaffairs.services import audit_record

ROOT = Path(__file__).resolve().parent.parent


def _events(count, **kw):
    return [
        audit_record(actor=None, action="test.chain", summary=f"第{i}条", **kw)
        for i in range(count)
    ]


def _old_event(days_ago, now=None, action="test.old"):
    """An event written ``days_ago`` days back (only tests give a time)."""
    event = AuditEvent(
        at=(now or timezone.now()) - dt.timedelta(days=days_ago),
        action=action,
        actor_name="系统",
        summary=f"{days_ago}天前",
    )
    event.save()
    return event


def _verify_fails():
    with pytest.raises(CommandError) as failure:
        call_command("audit_verify")
    assert failure.value.returncode == 1
    return str(failure.value)


def _tamper(sql, params):
    """Change the table behind the application's back: the test database user is the owner,
    so it can switch the append-only trigger off (inside the test's transaction only)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE civilaffairs_auditevent "
            "DISABLE TRIGGER civilaffairs_auditevent_no_update_delete"
        )
        cursor.execute(sql, params)
        cursor.execute(
            "ALTER TABLE civilaffairs_auditevent "
            "ENABLE TRIGGER civilaffairs_auditevent_no_update_delete"
        )


# --- The chain ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_each_event_links_to_the_one_before_and_the_chain_verifies(capsys):
    events = _events(4)
    for before, after in itertools.pairwise(events):
        assert after.prev_hash == before.hash
        assert after.pk > before.pk
    stored = AuditEvent.objects.get(pk=events[-1].pk)
    content = {f: getattr(stored, f) for f in auditchain.CONTENT_FIELDS}
    assert auditchain.digest(content, stored.prev_hash) == stored.hash
    call_command("audit_verify", batch_size=3)  # several batches
    out = capsys.readouterr().out
    assert "intact" in out
    assert f"tip {events[-1].hash}" in out
    result = auditchain.verify(batch_size=2)
    assert result.broken is None
    assert result.count == AuditEvent.objects.count()


@pytest.mark.django_db
def test_the_first_event_links_to_the_genesis():
    assert not AuditEvent.objects.exists()
    (event,) = _events(1)
    assert event.prev_hash == auditchain.GENESIS


@pytest.mark.django_db
def test_audit_record_costs_the_lock_and_one_query_besides_its_insert(
    django_assert_num_queries,
):
    _events(1)
    # The test runs inside a transaction, as services call it: no savepoint of its own.
    with django_assert_num_queries(3):  # the lock, the tip's hash with the next id, the insert
        audit_record(actor=None, action="test.chain")


@pytest.mark.django_db
def test_values_that_the_database_normalises_still_verify():
    from civilaffairs import context

    token = context.set_current(context.RequestContext(ip="::FFFF:10.1.2.3", user_agent="测试"))
    try:
        audit_record(
            actor=None,
            action="test.values",
            summary="含“引号”和\\反斜杠\n换行",
            changes={
                "float": 5.0,
                "big": 1e16,
                "small": 1e-7,
                "fraction": 0.1,
                "nested": {"z": [1, 2.5, None, True], "a": "中文"},
                "when": dt.date(2026, 11, 24),
            },
        )
    finally:
        context.reset(token)
    audit_record(actor=None, action="test.values")
    assert auditchain.verify().broken is None


@pytest.mark.django_db
def test_audit_events_cannot_be_saved_twice():
    (event,) = _events(1)
    event.summary = "改过"
    with pytest.raises(TypeError, match="append-only"):
        event.save()


# --- Tampering is found ---------------------------------------------------------------------


@pytest.mark.django_db
def test_verify_names_an_edited_row():
    events = _events(5)
    edited = events[2]
    _tamper("UPDATE civilaffairs_auditevent SET summary = %s WHERE id = %s", ["改写", edited.pk])
    message = _verify_fails()
    assert f"event {edited.pk}:" in message
    assert "edited" in message
    result = auditchain.verify()
    assert result.broken.event_id == edited.pk and result.broken.reason == "content"


@pytest.mark.django_db
def test_an_edited_row_whose_hash_was_recomputed_breaks_the_next_link():
    events = _events(5)
    edited = events[1]
    row = AuditEvent.objects.get(pk=edited.pk)
    row.actor_name = "别人"
    content = {f: getattr(row, f) for f in auditchain.CONTENT_FIELDS}
    forged = auditchain.digest(content, row.prev_hash)
    _tamper(
        "UPDATE civilaffairs_auditevent SET actor_name = %s, hash = %s WHERE id = %s",
        ["别人", forged, edited.pk],
    )
    message = _verify_fails()
    assert f"event {events[2].pk}:" in message
    assert auditchain.verify().broken.reason == "link"


@pytest.mark.django_db
def test_verify_finds_a_removed_middle_row():
    events = _events(5)
    _tamper("DELETE FROM civilaffairs_auditevent WHERE id = %s", [events[2].pk])
    message = _verify_fails()
    assert f"event {events[3].pk}:" in message
    assert f"({events[1].pk})" in message  # the event before the gap
    assert "removed" in message


@pytest.mark.django_db
def test_verify_finds_a_row_slipped_into_the_chain():
    first = audit_record(actor=None, action="test.chain")
    with connection.cursor() as cursor:  # an id left free between two events
        cursor.execute("SELECT nextval(pg_get_serial_sequence('civilaffairs_auditevent', 'id'))")
        (free_id,) = cursor.fetchone()
    after = audit_record(actor=None, action="test.chain")
    forged = {
        "id": free_id,
        "at": first.at,
        "actor_id": None,
        "actor_name": "系统",
        "action": "role.grant",
        "object_type": "",
        "object_id": "",
        "object_repr": "",
        "summary": "补记一条",
        "changes": {},
        "ip": None,
        "user_agent": "",
    }
    with connection.cursor() as cursor:  # INSERT is allowed: it is how events are written
        cursor.execute(
            "INSERT INTO civilaffairs_auditevent (id, at, actor_name, action, object_type, "
            "object_id, object_repr, summary, changes, user_agent, prev_hash, hash) "
            "VALUES (%s, %s, %s, %s, '', '', '', %s, '{}', '', %s, %s)",
            [
                free_id,
                first.at,
                "系统",
                "role.grant",
                "补记一条",
                first.hash,
                auditchain.digest(forged, first.hash),
            ],
        )
    assert f"event {after.pk}:" in _verify_fails()


@pytest.mark.django_db
def test_removing_the_oldest_rows_without_a_purge_is_found():
    events = _events(3)
    _tamper("DELETE FROM civilaffairs_auditevent WHERE id = %s", [events[0].pk])
    assert f"event {events[1].pk}:" in _verify_fails()


def _manage(*args):
    """Run manage.py against the test database (committed data: transactional tests)."""
    db = connection.settings_dict
    host = db["HOST"] or db.get("OPTIONS", {}).get("host") or "127.0.0.1"
    if host.startswith("/"):  # the embedded server's Unix socket directory (no DATABASE_URL)
        url = f"postgres://{db['USER']}@/{db['NAME']}?host={host}&port={db['PORT'] or 5432}"
    else:
        url = f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}"
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db(transaction=True)
def test_verify_exit_status_from_the_command_line():
    events = _events(4)
    intact = _manage("audit_verify")
    assert intact.returncode == 0, intact.stderr[-2000:]
    assert "4 events verified" in intact.stdout
    try:
        _tamper(
            "UPDATE civilaffairs_auditevent SET changes = %s WHERE id = %s",
            ['{"role": "sysadmin"}', events[1].pk],
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE civilaffairs_auditevent "
                "ENABLE TRIGGER civilaffairs_auditevent_no_update_delete"
            )
    broken = _manage("audit_verify")
    assert broken.returncode == 1
    assert f"broken at event {events[1].pk}:" in broken.stderr


# --- Concurrent writers ---------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_make_one_chain():
    threads_count, per_thread = 6, 8
    barrier = threading.Barrier(threads_count)
    errors = []

    def write(n):
        try:
            barrier.wait()
            for i in range(per_thread):
                with transaction.atomic():
                    # Some other work of the transaction before and after its audit event.
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_sleep(0.002)")
                    audit_record(actor=None, action="test.concurrent", summary=f"{n}-{i}")
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_sleep(0.002)")
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    result = auditchain.verify()
    assert result.broken is None
    assert result.count == threads_count * per_thread
    hashes = list(AuditEvent.objects.order_by("id").values_list("prev_hash", "hash"))
    assert len({prev for prev, _hash in hashes}) == len(hashes)  # no fork: each link used once


# --- Existing events are chained by the migration -------------------------------------------


@pytest.mark.django_db
def test_the_migration_chains_events_written_before_the_chain():
    migration = importlib.import_module("civilaffairs.migrations.0009_audit_chain")
    _events(2)
    with connection.cursor() as cursor:  # rows as they were before the chain existed
        for i in range(5):
            cursor.execute(
                "INSERT INTO civilaffairs_auditevent (at, actor_name, action, object_type, "
                "object_id, object_repr, summary, changes, ip, user_agent, prev_hash, hash) "
                "VALUES (now(), '系统', 'legacy', '', '', '', %s, %s, '10.0.0.1', '', '', '')",
                [f"旧记录{i}", json.dumps({"n": i, "x": 1.5})],
            )
    assert auditchain.verify().broken is not None
    with connection.cursor() as cursor:
        cursor.execute(
            "ALTER TABLE civilaffairs_auditevent "
            "DISABLE TRIGGER civilaffairs_auditevent_no_update_delete"
        )
        chained = migration.chain_existing(cursor, batch=3)
        cursor.execute(
            "ALTER TABLE civilaffairs_auditevent "
            "ENABLE TRIGGER civilaffairs_auditevent_no_update_delete"
        )
    assert chained == 7
    assert auditchain.verify().broken is None
    later = audit_record(actor=None, action="test.chain")  # the chain goes on from there
    assert auditchain.verify().count == 8
    assert later.prev_hash == AuditEvent.objects.filter(pk__lt=later.pk).latest("id").hash


# --- Retention ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_purge_removes_only_events_older_than_the_retention(settings):
    settings.AUDIT_RETENTION_DAYS = 365
    now = timezone.now()
    old = [_old_event(days, now) for days in (500, 450, 400)]
    middle = [_old_event(days, now) for days in (300, 200)]
    recent = [_old_event(10, now), *_events(2)]
    assert auditchain.purge(now=now) == 3
    assert not AuditEvent.objects.filter(pk__in=[e.pk for e in old]).exists()
    kept = [e.pk for e in middle + recent]
    assert sorted(AuditEvent.objects.values_list("pk", flat=True)) == kept
    anchor = AuditPurge.objects.get()
    assert (anchor.last_id, anchor.last_hash, anchor.removed) == (old[-1].pk, old[-1].hash, 3)
    result = auditchain.verify()
    assert result.broken is None and result.count == len(kept)
    call_command("audit_verify")

    settings.AUDIT_RETENTION_DAYS = 180
    assert auditchain.purge(now=now) == 2
    assert auditchain.purge(now=now) == 0  # a second run finds nothing more
    assert auditchain.verify().count == len(recent)
    after = audit_record(actor=None, action="test.chain")
    assert auditchain.verify().broken is None
    assert after.prev_hash == recent[-1].hash


@pytest.mark.django_db
def test_purge_never_removes_an_event_younger_than_the_retention(settings):
    """Even one written between old events (an id order that time does not follow): only the
    prefix of the chain that is all old goes."""
    settings.AUDIT_RETENTION_DAYS = 180
    now = timezone.now()
    gone = _old_event(400, now)
    young = _old_event(179, now)
    old_after_young = _old_event(400, now)
    assert auditchain.purge(now=now) == 1
    left = set(AuditEvent.objects.values_list("pk", flat=True))
    assert gone.pk not in left and {young.pk, old_after_young.pk} <= left
    assert auditchain.verify().broken is None


@pytest.mark.django_db
def test_a_retention_below_the_legal_minimum_is_not_applied(settings):
    settings.AUDIT_RETENTION_DAYS = 30  # as if start-up had not refused it
    now = timezone.now()
    kept = _old_event(100, now)
    assert auditchain.retention_days() == 180
    assert auditchain.purge(now=now) == 0
    assert AuditEvent.objects.filter(pk=kept.pk).exists()


@pytest.mark.django_db
def test_the_database_refuses_to_purge_young_events():
    (event,) = _events(1)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("SET LOCAL civilaffairs.audit_purge = 'on'")
        cursor.execute("DELETE FROM civilaffairs_auditevent WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_purge_anchors_cannot_be_changed():
    now = timezone.now()
    _old_event(400, now)
    _events(1)
    auditchain.purge(now=now)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditPurge.objects.update(last_hash="0" * 64)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditPurge.objects.all().delete()


@pytest.mark.django_db
def test_purge_in_batches_leaves_a_verifiable_chain(settings):
    now = timezone.now()
    for days in (600, 590, 580, 570, 560):
        _old_event(days, now)
    recent = _events(2)
    assert auditchain.purge(now=now, batch_size=2) == 5
    assert AuditPurge.objects.count() == 3
    result = auditchain.verify()
    assert result.broken is None and result.count == 2 and result.first_id == recent[0].pk


@pytest.mark.django_db
def test_purge_task_and_command():
    from civilaffairs.tasks import purge_audit_events

    now = timezone.now()
    _old_event(400, now)
    _events(1)
    assert purge_audit_events() == 1
    _old_event(400, now)  # written out of order after the purge: stays (not a prefix)
    call_command("audit_purge")
    assert AuditEvent.objects.count() == 2


@pytest.mark.django_db
def test_the_purge_is_scheduled_nightly():
    from civilaffairs.management.commands.setup_schedules import SCHEDULES

    assert any(task == "civilaffairs.tasks.purge_audit_events" for task, _ in SCHEDULES.values())


@pytest.mark.parametrize(("days", "starts"), [("90", False), ("179", False), ("180", True)])
def test_a_retention_below_180_days_is_refused_at_start_up(days, starts):
    env = {**os.environ, "AUDIT_RETENTION_DAYS": days}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env={**env, "DJANGO_SETTINGS_MODULE": "civilaffairs.settings"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (result.returncode == 0) is starts, result.stderr[-2000:]
    if not starts:
        assert "AUDIT_RETENTION_DAYS" in result.stderr and "180" in result.stderr
