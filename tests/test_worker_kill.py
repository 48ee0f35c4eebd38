"""A worker killed mid-task loses nothing and duplicates nothing (#9 item 8): a real Celery
worker (a subprocess, on a Redis server of the test's own) runs a slow background job and is
SIGKILLed half-way; the job then completes exactly once — one run to the end, one file, one
notification, one e-mail."""

import os
import signal
import subprocess
import sys
import time

import pytest

from civilaffairs import jobs
from civilaffairs.choices import Channel, JobState
from civilaffairs.models import Attachment, BackgroundJob, Delivery, Notification
from tests import fault_jobs
from tests.fault_helpers import ROOT, broker_at, own_redis, subprocess_env, wait_for
from tests.personas import build_city

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LEASE = 3


def start_worker(env, name, log_path):
    return subprocess.Popen(  # the project's own Celery app
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "civilaffairs",
            "worker",
            "--include",
            "tests.fault_jobs",
            "--concurrency",
            "1",
            "--loglevel",
            "INFO",
            "--hostname",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=open(log_path, "w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def ready(log_path):
    return lambda: " ready." in log_path.read_text(errors="replace")


def runs(log):
    lines = log.read_text().splitlines() if log.exists() else []
    return [line.split()[0] for line in lines], lines


@pytest.mark.parametrize("what", ["whole worker", "pool process"])
def test_a_job_whose_worker_is_killed_completes_once(settings, tmp_path, what):
    owner = build_city()["supervisor"]
    owner.email = "supervisor@example.org"
    owner.save(update_fields=["email"])
    log = tmp_path / "runs.log"
    workers = []
    with own_redis() as url, broker_at(f"{url}/0"):
        env = subprocess_env(
            REDIS_URL=f"{url}/0",
            MEDIA_ROOT=settings.MEDIA_ROOT,
            CELERY_VISIBILITY_TIMEOUT=LEASE + 1,
            JOBS_HEARTBEAT_SECONDS=1,
            JOBS_LEASE_SECONDS=LEASE,
            EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        )
        try:
            first_log = tmp_path / "worker1.log"
            workers.append(start_worker(env, "first", first_log))
            wait_for(ready(first_log), 90, message="the first worker did not start")

            job = jobs.job_start(
                owner=owner,
                kind=fault_jobs.KIND,
                title="慢任务",
                params={"seconds": 8, "log": str(log)},
            )
            wait_for(
                lambda: BackgroundJob.objects.filter(pk=job.pk, done__gte=15).exists(),
                60,
                message="the job did not start",
            )
            started, lines = runs(log)
            assert started == ["start"]
            if what == "whole worker":
                # The host dies: the worker and its pool process at once.
                stop(workers[0])
                second_log = tmp_path / "worker2.log"
                workers.append(start_worker(env, "second", second_log))
                wait_for(ready(second_log), 90, message="the second worker did not start")
            else:
                # Out of memory: the pool process dies, the worker survives and replaces it.
                os.kill(int(lines[0].split()[2]), signal.SIGKILL)
            assert BackgroundJob.objects.get(pk=job.pk).state == JobState.RUNNING

            # The broker redelivers the unacknowledged task, or beat's sweep_jobs (every 5
            # minutes in production; every few seconds here) re-queues the job whose worker
            # stopped beating: whichever comes first, exactly one run may finish it.
            last_sweep = [time.monotonic()]

            def completed():
                if BackgroundJob.objects.filter(pk=job.pk, state=JobState.DONE).exists():
                    return True
                if time.monotonic() - last_sweep[0] > LEASE + 2:
                    jobs.sweep()
                    last_sweep[0] = time.monotonic()
                return False

            wait_for(completed, 90, message=f"the job was not completed: {runs(log)[1]}")
            notice = wait_for(
                lambda: Notification.objects.filter(
                    event_key=f"job:{job.pk}", emailed_at__isnull=False
                ).first(),
                30,
                message="the owner was not told",
            )
            # Nothing more arrives once every message had time to come back.
            time.sleep(LEASE + 3)
        finally:
            for worker in workers:
                stop(worker)

    job.refresh_from_db()
    started, lines = runs(log)
    assert started == ["start", "start", "finish"], lines
    assert job.attempts == 2 and job.state == JobState.DONE
    assert Attachment.objects.filter(object_id=job.pk).count() == 1
    files = [p for p in settings.MEDIA_ROOT.rglob("*") if p.is_file()]
    assert len(files) == 1 and files[0].read_bytes().startswith(b"%PDF")
    assert Notification.objects.filter(event_key=f"job:{job.pk}").count() == 1
    sent = Delivery.objects.filter(notification=notice, channel=Channel.EMAIL)
    assert sent.count() == 1
