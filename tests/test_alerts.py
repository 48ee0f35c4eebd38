"""Deadline alerts and the escalation ladder (#4): once per (order, level, day), whatever the
scan's repetitions; the ladder climbs with the working days overdue."""

import datetime as dt
import threading

import pytest
from django.db import connection

from civilaffairs.models import Notification
from rectification import alerts
from rectification.choices import AlertLevel
from rectification.models import Alert
from tests.rectification_data import issue

pytestmark = pytest.mark.django_db

DEADLINE = dt.date(2026, 12, 1)  # a Tuesday


@pytest.fixture
def order(city, settings):
    from civilaffairs.services import orgunit_update

    settings.RECTIFICATION_ESCALATION = "liaison:1,unit_head:3,office:5,leader:8"
    settings.RECTIFICATION_DUE_SOON_DAYS = 3
    orgunit_update(actor=None, unit=city.inst_a, head=city.staff_a)
    return issue(city, deadline=DEADLINE, working_days=None)


def recipients(order, day):
    alert = Alert.objects.get(rectification=order, day=day)
    return alert.level, set(
        Notification.objects.filter(event_key=f"alert:{alert.pk}").values_list(
            "recipient__username", flat=True
        )
    )


def test_yellow_starts_three_working_days_before_the_deadline(order):
    assert alerts.deadline_scan(dt.date(2026, 11, 25)) == {}  # four working days left
    assert alerts.deadline_scan(dt.date(2026, 11, 26)) == {"due_soon": 1}  # Fri, Mon, Tue
    level, people = recipients(order, dt.date(2026, 11, 26))
    assert level == AlertLevel.DUE_SOON and people == {"liaison_a"}
    title = Notification.objects.get(event_key__startswith="alert:").title
    assert order.code in title and "3" in title
    assert alerts.deadline_scan(dt.date(2026, 12, 1)) == {"due_soon": 1}  # due today


def test_the_scan_run_twice_sends_each_alert_once(order):
    day = dt.date(2026, 12, 2)
    assert alerts.deadline_scan(day) == {"liaison": 1}
    assert alerts.deadline_scan(day) == {}
    assert Alert.objects.count() == 1
    assert Notification.objects.filter(event_key__startswith="alert:").count() == 1


def test_stepping_through_ten_overdue_days_climbs_the_ladder(order):
    sequence, day = [], DEADLINE
    while len(sequence) < 10:
        day += dt.timedelta(days=1)
        sent = alerts.deadline_scan(day)
        if day.weekday() >= 5:
            assert sent == {}  # nothing on days off
            continue
        level, people = recipients(order, day)
        sequence.append((level, people))
    unit = {"liaison_a"}
    head = unit | {"staff_a"}
    office = head | {"supervisor", "office_head"}
    leader = office | {"leader", "leader_a"}
    assert sequence == [
        ("liaison", unit),
        ("liaison", unit),
        ("unit_head", head),
        ("unit_head", head),
        ("office", office),
        ("office", office),
        ("office", office),
        ("leader", leader),
        ("leader", leader),
        ("leader", leader),
    ]
    # The ten alerts are the whole story: one a working day.
    assert Alert.objects.count() == 10


def test_a_closed_order_is_not_chased(order, city):
    from tests.rectification_data import step

    step(order, city["supervisor"], "cancel")
    assert alerts.deadline_scan(dt.date(2026, 12, 10)) == {}


@pytest.mark.django_db(transaction=True)
def test_two_scans_at_once_send_each_alert_once(settings):
    from civilaffairs.services import orgunit_update
    from tests.personas import build_city

    city = build_city()
    settings.RECTIFICATION_ESCALATION = "liaison:1,unit_head:3,office:5,leader:8"
    orgunit_update(actor=None, unit=city.inst_a, head=city.staff_a)
    orders = [issue(city, deadline=DEADLINE, working_days=None) for _ in range(5)]
    day = dt.date(2026, 12, 9)  # six working days overdue: the office rung
    barrier, results, errors = threading.Barrier(2), [], []

    def scan():
        try:
            barrier.wait(timeout=10)
            results.append(alerts.deadline_scan(day))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    assert sum(r.get("office", 0) for r in results) == len(orders)
    assert Alert.objects.count() == len(orders)
    per_order = Notification.objects.filter(event_key__startswith="alert:").count()
    assert per_order == len(orders) * 4  # liaison, head, supervisor (issuer), office head


def test_the_scan_directory_names_whom_the_ladder_names(order, city):
    """The set-based scan resolves recipients from a directory read once; for every unit of
    the city (departments included), every level, a nearer liaison, an inactive head, an
    inactive issuer and robots up the tree, it names exactly the people and robots the
    order-by-order functions name."""
    from civilaffairs.models import OrgUnit, RoleAssignment, WebhookEndpoint
    from civilaffairs.services import orgunit_update

    RoleAssignment.objects.create(user=city.staff_b, role="unit_liaison", scope=city.inst_b)
    orgunit_update(actor=None, unit=city.district_b, head=city["liaison_b"])
    orgunit_update(actor=None, unit=city.inst_b, head=city["inspector"])
    city["inspector"].is_active = False
    city["inspector"].save(update_fields=["is_active"])
    WebhookEndpoint.objects.create(unit=city.district_a, name="甲区群", url="http://r/a")
    WebhookEndpoint.objects.create(
        unit=city.inst_a, name="站群", url="http://r/s", kinds=["overdue"]
    )
    WebhookEndpoint.objects.create(
        unit=city.district_b, name="乙区群", url="http://r/b", include_subunits=False
    )
    directory = alerts._Directory()
    checked = 0
    for issuer_active, person in ((True, None), (False, city.staff_a)):
        order.created_by.is_active = issuer_active
        order.responsible_person = person
        for unit in OrgUnit.objects.all():
            order.responsible_unit = unit
            row = {
                "responsible_unit_id": unit.pk,
                "responsible_person_id": person and person.pk,
                "responsible_person__is_active": person and person.is_active,
                "created_by_id": order.created_by_id,
                "created_by__is_active": issuer_active,
            }
            directory.load_units([unit.pk])
            for level in alerts.LADDER_ORDER:
                expected = [u.pk for u in alerts.ladder_recipients(order, level) if u.is_active]
                got = directory.ladder(row, level)
                assert sorted(got) == sorted(set(expected)), (unit.name, level)
                checked += 1
            for kind in ("due_soon", "overdue", "escalation"):
                expected = {r.pk for r in WebhookEndpoint.objects.for_unit(unit) if r.wants(kind)}
                assert set(directory.robots_for(unit.pk, kind)) == expected, (unit.name, kind)
    assert checked == 2 * OrgUnit.objects.count() * len(alerts.LADDER_ORDER)


def test_scan_notifications_are_queued_in_batches_after_commit(
    order, city, monkeypatch, django_capture_on_commit_callbacks
):
    """Every notification the scan writes is handed to the delivery queue exactly once, in
    batches of DELIVERY_BATCH, and only once the scan's transaction has committed."""
    from civilaffairs import notifications, tasks

    batches = []
    monkeypatch.setattr(notifications, "DELIVERY_BATCH", 2)
    monkeypatch.setattr(notifications, "enqueue", lambda task, *args: batches.append((task, args)))
    for _ in range(4):
        issue(city, deadline=DEADLINE, working_days=None)
    day = dt.date(2026, 12, 2)
    with django_capture_on_commit_callbacks() as callbacks:
        assert alerts.deadline_scan(day) == {"liaison": 5}
    assert batches == [] and callbacks  # nothing queued before the commit
    for callback in callbacks:
        callback()
    assert {task for task, _args in batches} == {tasks.deliver_notifications}
    sizes = [len(args[0]) for _task, args in batches]
    assert sizes == [2, 2, 1]
    queued = [pk for _task, (ids,) in batches for pk in ids]
    written = Notification.objects.filter(event_key__startswith="alert:")
    assert sorted(queued) == sorted(written.values_list("pk", flat=True))
    assert [a.recipients for a in Alert.objects.filter(day=day)] == [1] * 5
