"""End to end on a real Celery worker and the real Redis broker: the beat schedule's deadline
scan runs as a task and leaves notification rows (#4)."""

import datetime as dt
import time

import pytest
from celery.contrib.testing.worker import start_worker

from civilaffairs.celery import app
from civilaffairs.models import Notification
from rectification.models import Alert

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_schedule_to_task_to_notification_row(monkeypatch):
    from django_celery_beat.models import PeriodicTask
    from django_celery_beat.schedulers import DatabaseScheduler

    from civilaffairs.management.commands.setup_schedules import SCHEDULES, setup_schedules
    from rectification import alerts
    from tests.personas import build_city
    from tests.rectification_data import issue

    city = build_city()
    # A deadline a month ahead on a working day; the worker's clock is set to that day.
    deadline = _workday_on_or_after(dt.date.today() + dt.timedelta(days=30))
    monkeypatch.setattr(alerts, "today", lambda: deadline)
    order = issue(city, deadline=deadline, working_days=None)
    assert [created for _name, created in setup_schedules()] == [True] * len(SCHEDULES)
    assert [created for _name, created in setup_schedules()] == [False] * len(SCHEDULES)
    # A renamed entry of one of our tasks does not linger beside the new one.
    stale = PeriodicTask.objects.get(name="rectification: deadline scan hourly")
    stale.pk, stale.id, stale.name = None, None, "rectification: old name"
    stale.save()
    setup_schedules()
    assert not PeriodicTask.objects.filter(name="rectification: old name").exists()
    scan = PeriodicTask.objects.get(name="rectification: deadline scan hourly")
    assert scan.task == "rectification.tasks.deadline_scan" and scan.enabled

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        # What beat does when the entry is due: the scheduler sends the entry's task.
        scheduler = DatabaseScheduler(app=app, lazy=True)
        result = scheduler.apply_async(scheduler.Entry(scan, app=app), advance=False)
        assert result is not None
        waited_until = time.monotonic() + 30
        while time.monotonic() < waited_until and not Alert.objects.exists():
            time.sleep(0.2)

    alert = Alert.objects.get(rectification=order)
    assert alert.level == "due_soon" and alert.day == deadline
    notice = Notification.objects.get(event_key=f"alert:{alert.pk}")
    assert notice.recipient == city["liaison_a"] and notice.kind == "due_soon"


def _workday_on_or_after(day: dt.date) -> dt.date:
    from civilaffairs.workdays import WorkCalendar

    calendar = WorkCalendar(day, day + dt.timedelta(days=20))
    while not calendar.is_workday(day):
        day += dt.timedelta(days=1)
    return day
