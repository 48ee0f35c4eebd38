"""Background jobs: work too heavy for a request (a 100 000-row ledger, a brief with charts)
runs in a Celery worker while the person who asked watches a progress bar; the file it makes is
kept as an attachment of the job and the owner is notified when it is ready.

An app registers a kind of job once::

    jobs.register("ledger", _("Excel ledger"), run_ledger, keep_days=7)

where ``run_ledger(job, progress)`` does the work, calls ``progress(done, total, stage)`` as it
goes (cheap to call often: it writes at most twice a second) and returns a ``JobOutput``: the
path of a file it wrote (a temporary file, so memory stays flat) or its bytes. Raising
``ServiceError`` fails the job with that message; any other error fails it with a generic one
(and a log entry for the administrators).

Jobs are claimed with a conditional UPDATE, so a task delivered twice runs the work once. While
it runs, a heartbeat thread marks the job alive; a running job whose heartbeat stopped for
JOBS_LEASE_SECONDS lost its worker (killed, out of memory, host gone) and may be claimed again —
by the redelivered task (tasks are acknowledged late) or by the sweep — up to JOBS_MAX_ATTEMPTS
times. Each attempt finishes only if it is still the job's latest attempt, so a file is stored
and its owner told once. The sweep also re-queues jobs whose task never reached the broker."""

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from civilaffairs.choices import JobState, NotificationKind
from civilaffairs.exceptions import ServiceError
from civilaffairs.files import FileKind, hash_file
from civilaffairs.models import Attachment, BackgroundJob

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobOutput:
    filename: str
    kind: FileKind
    path: str | None = None  # a file the runner wrote; removed once stored
    content: bytes | None = None


@dataclass(frozen=True)
class JobType:
    kind: str
    label: str
    run: Callable[[BackgroundJob, "Progress"], JobOutput]
    keep_days: int | None = None  # None: kept until deleted by hand


REGISTRY: dict[str, JobType] = {}


def register(kind: str, label, run, *, keep_days: int | None = None) -> JobType:
    REGISTRY[kind] = JobType(kind, label, run, keep_days)
    return REGISTRY[kind]


def job_type(kind: str) -> JobType | None:
    return REGISTRY.get(kind)


class Progress:
    """Progress reports of a running job, written at most every ``interval`` seconds (and
    always when the stage changes), so a loop may call it on every row."""

    def __init__(self, job: BackgroundJob, interval: float = 0.5):
        self.job = job
        self.interval = interval
        self._written_at = 0.0
        self._stage = job.stage

    def __call__(self, done: int, total: int | None = None, stage: str | None = None):
        now = time.monotonic()
        stage_changed = stage is not None and stage != self._stage
        if not stage_changed and now - self._written_at < self.interval:
            return
        values = {"done": max(0, int(done)), "heartbeat_at": timezone.now()}
        if total is not None:
            values["total"] = max(0, int(total))
        if stage is not None:
            values["stage"] = str(stage)[:100]
            self._stage = stage
        BackgroundJob.objects.filter(pk=self.job.pk, state=JobState.RUNNING).update(**values)
        self._written_at = now


def job_start(*, owner, kind: str, title: str, params: dict | None = None) -> BackgroundJob:
    """Queue a job for ``owner``. At most JOBS_MAX_ACTIVE_PER_USER may wait or run at once."""
    from civilaffairs.services import audit_record

    if kind not in REGISTRY:
        raise ServiceError(_("Unknown kind of job."), code="job_kind")
    with transaction.atomic():
        # Serialise one person's requests so two clicks cannot both pass the limit.
        get_user_model().objects.select_for_update().filter(pk=owner.pk).first()
        active = BackgroundJob.objects.filter(owner=owner).unfinished().count()
        if active >= settings.JOBS_MAX_ACTIVE_PER_USER:
            raise ServiceError(
                _(
                    "You already have %(count)s files being prepared; "
                    "wait until one is ready, then try again."
                )
                % {"count": active},
                code="too_many_jobs",
            )
        job = BackgroundJob.objects.create(
            owner_id=owner.pk, kind=kind, title=str(title)[:200], params=params or {}
        )
        audit_record(
            actor=owner,
            action=f"job.{kind}",
            obj=job,
            summary=_("Requested: %(title)s") % {"title": job.title},
            changes={"params": job.params},
        )
        transaction.on_commit(lambda: _enqueue(job.pk))
    return job


def _enqueue(job_id: int):
    from civilaffairs import tasks
    from civilaffairs.notifications import enqueue

    enqueue(tasks.run_job, job_id)


# run_job's answer when the job is running elsewhere and that worker still beats.
BUSY = "busy"


def orphaned(now=None) -> Q:
    """Running jobs whose worker stopped beating for a lease: it died mid-way."""
    cut = (now or timezone.now()) - timezone.timedelta(seconds=settings.JOBS_LEASE_SECONDS)
    return Q(state=JobState.RUNNING) & (
        Q(heartbeat_at__lt=cut) | Q(heartbeat_at__isnull=True, started_at__lt=cut)
    )


def run_job(job_id: int) -> str | None:
    """Do the work of a queued job (or of one whose worker died) once; returns its final state,
    BUSY if another live worker runs it, None if there is nothing to do."""
    now = timezone.now()
    claimable = Q(state=JobState.QUEUED) | (
        orphaned(now) & Q(attempts__lt=settings.JOBS_MAX_ATTEMPTS)
    )
    claimed = BackgroundJob.objects.filter(claimable, pk=job_id).update(
        state=JobState.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        if _fail_exhausted(now, pk=job_id):
            return JobState.FAILED
        running = BackgroundJob.objects.filter(pk=job_id, state=JobState.RUNNING).exists()
        return BUSY if running else None
    job = BackgroundJob.objects.select_related("owner").get(pk=job_id)
    if job.attempts > 1:
        log.warning("background job %s (%s): attempt %s", job.pk, job.kind, job.attempts)
    spec = REGISTRY.get(job.kind)
    output = None
    heartbeat = Heartbeat(job)
    heartbeat.start()
    try:
        if spec is None:
            raise ServiceError(_("Unknown kind of job."))
        output = spec.run(job, Progress(job))
        attachment = _store(job, output)
    except ServiceError as error:
        return _fail(job, str(error.message))
    except Exception:
        log.exception("background job %s (%s) failed", job.pk, job.kind)
        return _fail(
            job, _("The file could not be prepared. Try again later or tell the administrator.")
        )
    finally:
        heartbeat.stop()
        if output is not None and output.path:
            with contextlib.suppress(OSError):
                os.unlink(output.path)
    with transaction.atomic():
        # Only the job's latest attempt finishes it: a worker presumed dead that comes back
        # late must not store a second file or tell the owner twice.
        updated = BackgroundJob.objects.filter(
            pk=job.pk, state=JobState.RUNNING, attempts=job.attempts
        ).update(state=JobState.DONE, result=attachment, finished_at=timezone.now(), stage="")
        if updated:
            _notify_ready(job)
        else:
            name, storage = attachment.file.name, attachment.file.storage
            attachment.delete()
            transaction.on_commit(lambda: storage.delete(name))
    return JobState.DONE if updated else None


class Heartbeat:
    """Marks a running job alive every JOBS_HEARTBEAT_SECONDS from a thread of its own (the work
    may spend minutes in one call that reports no progress)."""

    def __init__(self, job: BackgroundJob):
        self.job_id, self.attempt = job.pk, job.attempts
        self.interval = max(0.1, float(settings.JOBS_HEARTBEAT_SECONDS))
        self._stopped = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"job-{job.pk}-heartbeat", daemon=True
        )

    def start(self):
        self._thread.start()

    def stop(self):
        self._stopped.set()
        self._thread.join(timeout=10)

    def _run(self):
        try:
            while not self._stopped.wait(self.interval):
                BackgroundJob.objects.filter(
                    pk=self.job_id, state=JobState.RUNNING, attempts=self.attempt
                ).update(heartbeat_at=timezone.now())
        except Exception:  # a missed beat only risks a second attempt, never the job
            log.warning("heartbeat of background job %s failed", self.job_id, exc_info=True)
        finally:
            connection.close()  # this thread's own connection


def _fail_exhausted(now, **filters) -> int:
    """Fail the orphaned jobs that have used all their attempts (the work itself may be what
    kills the worker, e.g. out of memory)."""
    return (
        BackgroundJob.objects.filter(orphaned(now), **filters)
        .filter(attempts__gte=settings.JOBS_MAX_ATTEMPTS)
        .update(
            state=JobState.FAILED,
            error=_(
                "The file could not be prepared: the worker stopped each time. "
                "Tell the administrator."
            ),
            finished_at=now,
        )
    )


def _store(job: BackgroundJob, output: JobOutput) -> Attachment:
    """Keep the result as the job's attachment, streamed from disk when the runner wrote a file."""
    if output.path:
        handle = open(output.path, "rb")  # noqa: SIM115 - closed below
        size = os.path.getsize(output.path)
    else:
        from django.core.files.base import ContentFile

        handle = ContentFile(output.content or b"")
        size = len(output.content or b"")
    try:
        upload = File(handle, name=output.filename)
        attachment = Attachment(
            original_name=output.filename[-200:],
            content_type_detected=output.kind.mime,
            extension=output.kind.extension,
            size=size,
            sha256=hash_file(upload),
            uploaded_by=job.owner,
            description=_("Generated file"),
            owner=job,
        )
        attachment.uploaded_at = timezone.now()
        attachment.file.save(output.filename, upload, save=False)
        attachment.save()
    finally:
        handle.close()
    return attachment


def _fail(job: BackgroundJob, message: str) -> str | None:
    failed = BackgroundJob.objects.filter(
        pk=job.pk, state=JobState.RUNNING, attempts=job.attempts
    ).update(state=JobState.FAILED, error=message[:500], finished_at=timezone.now())
    return JobState.FAILED if failed else None


def _notify_ready(job: BackgroundJob):
    from civilaffairs.notifications import notify

    notify(
        recipients=[job.owner],
        kind=NotificationKind.FILE_READY,
        title=_("Ready to download: %(title)s") % {"title": job.title},
        url=job.get_absolute_url(),
        subject=job,
        event_key=f"job:{job.pk}",
    )


def sweep(now=None) -> dict:
    """Re-queue jobs whose task was lost or whose worker died mid-way, fail jobs that ran out of
    time or attempts, remove old ledgers."""
    now = now or timezone.now()
    # A job whose worker stopped beating after the task time limit was stopped by the limit:
    # running it again would only hit the limit again.
    out_of_time = now - timezone.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT)
    stale = now - timezone.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 300)
    failed = BackgroundJob.objects.filter(
        Q(started_at__lt=stale) | (orphaned(now) & Q(started_at__lt=out_of_time)),
        state=JobState.RUNNING,
    ).update(
        state=JobState.FAILED,
        error=_("The file could not be prepared in time. Try again later."),
        finished_at=now,
    )
    failed += _fail_exhausted(now)
    requeued = 0
    lost = Q(state=JobState.QUEUED, created_at__lt=now - timezone.timedelta(minutes=2))
    for job_id in BackgroundJob.objects.filter(lost | orphaned(now)).values_list("pk", flat=True):
        _enqueue(job_id)
        requeued += 1
    removed = 0
    for spec in REGISTRY.values():
        if spec.keep_days is None:
            continue
        old = BackgroundJob.objects.filter(
            kind=spec.kind, created_at__lt=now - timezone.timedelta(days=spec.keep_days)
        ).exclude(state__in=[JobState.QUEUED, JobState.RUNNING])
        for job in old.select_related("result"):
            removed += _delete(job)
    return {"requeued": requeued, "failed": failed, "removed": removed}


def _delete(job: BackgroundJob) -> int:
    with transaction.atomic():
        attachment = job.result
        job.delete()
        if attachment is not None:
            name, storage = attachment.file.name, attachment.file.storage
            attachment.delete()
            transaction.on_commit(lambda: storage.delete(name))
    return 1
