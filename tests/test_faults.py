"""Faults (#9 item 8): with Redis unreachable — cache and broker — pages and API writes still
answer, notifications wait in the database and go out once when Redis is back; background jobs
whose worker died run again, once."""

import logging
import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from civilaffairs import jobs, notifications, tasks
from civilaffairs.celery import app
from civilaffairs.choices import JobState
from civilaffairs.models import (
    Attachment,
    BackgroundJob,
    Notification,
    NotificationPreference,
    TimelineEntry,
)
from tests.fault_helpers import broker_at, dead_redis_url, own_redis, wait_for
from tests.personas import PASSWORD

# Every request of the outage must answer within this (the dead address refuses at once; the
# point is that nothing waits for retries).
BOUND = 5.0


def _point_cache_at(settings, base_url: str):
    settings.CACHES = {
        "default": {**settings.CACHES["default"], "LOCATION": f"{base_url.rsplit('/', 1)[0]}/1"}
    }


@pytest.fixture
def redis_down(settings):
    """Cache and broker at an address where nothing listens."""
    dead = dead_redis_url()
    _point_cache_at(settings, dead)
    with broker_at(dead):
        yield dead


def timed(call, *args, **kwargs):
    started = time.monotonic()
    response = call(*args, **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < BOUND, f"{args[0] if args else call} took {elapsed:.1f} s"
    return response


# --- the cache ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_cache_answers_as_empty_and_warns_once_when_redis_is_down(redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="civilaffairs.cache"):
        started = time.monotonic()
        cache.set("a", 1)
        assert cache.get("a") is None and cache.get("a", 7) == 7
        assert cache.add("b", 1) is False and cache.has_key("b") is False
        assert cache.get_or_set("c", lambda: 3) == 3
        assert cache.get_many(["a", "b"]) == {} and cache.delete("a") is False
        with pytest.raises(ValueError):
            cache.incr("n")
        assert time.monotonic() - started < 1
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "Redis unreachable" in caplog.records[0].message


@pytest.mark.django_db
def test_queuing_with_the_broker_down_gives_up_fast_and_then_does_not_retry(redis_down, caplog):
    started = time.monotonic()
    assert notifications.enqueue(tasks.sweep_jobs) is False
    first = time.monotonic() - started
    started = time.monotonic()
    for _ in range(20):
        assert notifications.enqueue(tasks.sweep_jobs) is False
    assert first < 2 and time.monotonic() - started < 0.1  # no broker tried for a while
    assert "periodic sweep will retry" in caplog.text


# --- the whole outage, end to end ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_pages_and_writes_work_with_redis_down_and_notifications_go_out_once_it_is_back(
    city, client, settings, redis_down
):
    liaison = city["liaison_a"]
    liaison.email = "liaison@example.org"
    liaison.save(update_fields=["email"])

    # Sessions live in the database: signing in needs no Redis.
    from importlib import import_module

    from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore

    engine = import_module(settings.SESSION_ENGINE).SessionStore
    assert issubclass(engine, DatabaseSessionStore)
    response = timed(
        client.post, reverse("login"), {"username": "supervisor", "password": PASSWORD}
    )
    assert response.status_code == 302, response.content.decode()[:500]
    for url in (
        reverse("home"),
        reverse("rectification:order-list"),
        reverse("reports:dashboard"),
        reverse("javascript-catalog"),  # a cached view
    ):
        assert timed(client.get, url).status_code == 200, url
    response = timed(
        client.post,
        reverse("api-rectification-list"),
        {
            "responsible_unit": city.inst_a.pk,
            "title": "安全出口指示灯损坏",
            "requirements": "更换指示灯",
            "working_days": 5,
            "supervising_department": city.dept_relief.pk,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    # The step is recorded; telling the unit waits in the database for the sweep.
    assert TimelineEntry.objects.filter(notified_at__isnull=True).count() == 1

    health = timed(client.get, reverse("healthz"))
    assert health.status_code == 503
    assert health.json()["checks"]["redis"]["ok"] is False
    assert health.json()["checks"]["database"]["ok"] is True

    # The timeline sweep runs (beat and worker are on the same Redis, but the sweep is only
    # database work): the notification rows exist, not yet e-mailed.
    assert notifications.dispatch_pending() == 1
    [notice] = Notification.objects.filter(recipient=liaison)
    assert notice.emailed_at is None and mail.outbox == []
    # The sweep leaves fresh rows to their own task for a minute: this one is older.
    Notification.objects.filter(pk=notice.pk).update(
        created_at=timezone.now() - timezone.timedelta(minutes=2)
    )

    with own_redis() as url:
        _point_cache_at(settings, f"{url}/1")
        with (
            broker_at(f"{url}/0"),
            start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10),
        ):
            cache.set("back", 1)
            assert cache.get("back") == 1
            tasks.deliver_pending_notifications.delay()
            wait_for(
                lambda: Notification.objects.filter(pk=notice.pk, emailed_at__isnull=False),
                timeout=30,
                message="the sweep did not deliver",
            )
            # A second sweep (and the notification's own task, were it delivered late) sends
            # nothing more.
            tasks.deliver_pending_notifications.delay()
            tasks.deliver_notification.delay(notice.pk)
            time.sleep(1.5)
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["liaison@example.org"]
    assert notice.title in mail.outbox[0].subject


# --- the delivery sweep --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_delivery_sweep_sends_what_each_person_wants_once(city):
    settings_user = city["liaison_a"]
    settings_user.email = "a@example.org"
    settings_user.save(update_fields=["email"])
    digest = city["liaison_b"]
    digest.email = "b@example.org"
    digest.save(update_fields=["email"])
    NotificationPreference.objects.create(user=digest, digest=True)
    no_email = city["department"]  # no address: nothing to send

    old = timezone.now() - timezone.timedelta(minutes=5)
    rows = []
    for person in (settings_user, digest, no_email):
        rows += notifications.notify(recipients=[person], kind="update", title="甲", event_key="e1")
    fresh = notifications.notify(
        recipients=[settings_user], kind="update", title="新", event_key="e2"
    )
    stale = notifications.notify(
        recipients=[settings_user], kind="update", title="旧", event_key="e3"
    )
    Notification.objects.filter(pk__in=[r.pk for r in rows]).update(created_at=old)
    Notification.objects.filter(pk=stale[0].pk).update(
        created_at=timezone.now() - timezone.timedelta(days=3)
    )

    assert notifications.deliver_pending() == 1
    assert [m.to for m in mail.outbox] == [["a@example.org"]]
    assert notifications.deliver_pending() == 0 and len(mail.outbox) == 1
    assert Notification.objects.get(pk=fresh[0].pk).emailed_at is None  # its own task's turn


@pytest.mark.django_db
def test_the_delivery_sweep_is_scheduled():
    from civilaffairs.management.commands.setup_schedules import SCHEDULES

    assert "civilaffairs.tasks.deliver_pending_notifications" in {t for t, _c in SCHEDULES.values()}


# --- background jobs whose worker died ---------------------------------------------------------


def _text_job(content=b"ok"):
    def run(job, progress):
        progress(1, 1, "writing")
        return jobs.JobOutput(filename="fault.txt", kind=_kind(), content=content)

    return run


def _kind():
    from civilaffairs.files import PDF

    return PDF


@pytest.fixture
def fault_kind(monkeypatch):
    monkeypatch.setitem(jobs.REGISTRY, "fault_test", jobs.JobType("fault_test", "t", _text_job()))
    return "fault_test"


def _job(user, kind, **values):
    job = BackgroundJob.objects.create(owner=user, kind=kind, title="测试文件")
    if values:
        BackgroundJob.objects.filter(pk=job.pk).update(**values)
    return job


@pytest.mark.django_db
def test_a_job_whose_worker_stopped_beating_runs_again_once(city, fault_kind, settings):
    now = timezone.now()
    lease = timezone.timedelta(seconds=settings.JOBS_LEASE_SECONDS)
    user = city["supervisor"]
    alive = _job(
        user, fault_kind, state=JobState.RUNNING, attempts=1, started_at=now, heartbeat_at=now
    )
    dead = _job(
        user,
        fault_kind,
        state=JobState.RUNNING,
        attempts=1,
        started_at=now - 2 * lease,
        heartbeat_at=now - 2 * lease,
    )
    assert jobs.run_job(alive.pk) == jobs.BUSY
    assert jobs.run_job(dead.pk) == JobState.DONE
    assert jobs.run_job(dead.pk) is None
    dead.refresh_from_db()
    assert dead.attempts == 2 and dead.result is not None
    assert Attachment.objects.filter(object_id=dead.pk).count() == 1
    assert Notification.objects.filter(event_key=f"job:{dead.pk}").count() == 1


@pytest.mark.django_db
def test_a_job_that_kills_its_worker_every_time_fails_after_the_last_attempt(
    city, fault_kind, settings
):
    long_ago = timezone.now() - timezone.timedelta(seconds=settings.JOBS_LEASE_SECONDS * 2)
    job = _job(
        city["supervisor"],
        fault_kind,
        state=JobState.RUNNING,
        attempts=settings.JOBS_MAX_ATTEMPTS,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    assert jobs.run_job(job.pk) == JobState.FAILED
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error
    assert not Attachment.objects.filter(object_id=job.pk).exists()


@pytest.mark.django_db
def test_a_presumed_dead_attempt_that_finishes_late_stores_nothing(city, monkeypatch, settings):
    """Attempt 1 is slow, not dead: while it works, attempt 2 takes the job over. Attempt 1's
    file is thrown away and its owner is told once (by attempt 2)."""
    user = city["supervisor"]

    def slow_then_overtaken(job, progress):
        if job.attempts == 1:
            stale = timezone.now() - timezone.timedelta(seconds=settings.JOBS_LEASE_SECONDS + 5)
            BackgroundJob.objects.filter(pk=job.pk).update(heartbeat_at=stale)
            assert jobs.run_job(job.pk) == JobState.DONE  # attempt 2, inside attempt 1
        return jobs.JobOutput(filename="f.txt", kind=_kind(), content=b"x")

    monkeypatch.setitem(
        jobs.REGISTRY, "overtaken", jobs.JobType("overtaken", "t", slow_then_overtaken)
    )
    job = _job(user, "overtaken")
    assert jobs.run_job(job.pk) is None  # attempt 1 lost the job
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 2
    assert Attachment.objects.filter(object_id=job.pk).count() == 1
    assert Notification.objects.filter(event_key=f"job:{job.pk}").count() == 1


@pytest.mark.django_db
def test_the_sweep_requeues_jobs_whose_worker_died(city, fault_kind, settings, monkeypatch):
    queued = []
    monkeypatch.setattr(jobs, "_enqueue", queued.append)
    now = timezone.now()
    stale = now - timezone.timedelta(seconds=settings.JOBS_LEASE_SECONDS + 5)
    user = city["supervisor"]
    died = _job(
        user, fault_kind, state=JobState.RUNNING, attempts=1, started_at=stale, heartbeat_at=stale
    )
    alive = _job(
        user, fault_kind, state=JobState.RUNNING, attempts=1, started_at=stale, heartbeat_at=now
    )
    assert jobs.sweep(now)["requeued"] == 1
    assert queued == [died.pk]
    assert BackgroundJob.objects.get(pk=alive.pk).state == JobState.RUNNING


# --- the daily digest -------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_digest_is_claimed_before_it_is_sent_and_given_back_if_the_mail_server_refuses(
    city, monkeypatch
):
    """Claimed and committed before sending: a worker killed after sending cannot send it again
    on redelivery. A refused send gives the claim back for the next run."""
    from smtplib import SMTPException

    from django.db import connection

    from civilaffairs.choices import DeliveryStatus
    from civilaffairs.models import Delivery

    person = city["liaison_a"]
    person.email = "a@example.org"
    person.save(update_fields=["email"])
    NotificationPreference.objects.create(user=person, digest=True)
    notifications.notify(recipients=[person], kind="update", title="甲", event_key="d1")
    notifications.notify(recipients=[person], kind="update", title="乙", event_key="d2")
    depth = len(connection.atomic_blocks)
    seen = []
    real_send_mail = notifications.send_mail

    def refused(**kwargs):
        unclaimed = Notification.objects.filter(recipient=person, digested_at__isnull=True)
        seen.append((len(connection.atomic_blocks), unclaimed.count()))
        raise SMTPException("mail server down")

    monkeypatch.setattr(notifications, "send_mail", refused)
    assert notifications.send_digests() == 0
    assert seen == [(depth, 0)]  # no transaction of its own open, both rows claimed
    assert Notification.objects.filter(recipient=person, digested_at__isnull=True).count() == 2
    assert Delivery.objects.filter(status=DeliveryStatus.FAILED, target="a@example.org").exists()

    monkeypatch.setattr(notifications, "send_mail", real_send_mail)
    assert notifications.send_digests() == 1
    assert notifications.send_digests() == 0
    assert len(mail.outbox) == 1 and "甲" in mail.outbox[0].body and "乙" in mail.outbox[0].body
