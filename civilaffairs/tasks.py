"""Background delivery of notifications, background jobs and their sweeps.

Every task is acknowledged late (CELERY_TASK_ACKS_LATE): a worker killed mid-task leaves the
message to be delivered again, so each task must be idempotent. Sending is claimed in the
database before each channel is used (a conditional UPDATE or a unique row), so a redelivered
delivery task sends nothing twice; a worker killed between the claim and the send loses that
one message rather than duplicating it. Jobs are claimed the same way (civilaffairs.jobs)."""

from celery import shared_task

from civilaffairs import notifications


@shared_task(ignore_result=True)
def deliver_notification(notification_id: int):
    return notifications.deliver(notification_id)


@shared_task(ignore_result=True)
def deliver_notifications(notification_ids: list[int]):
    """A batch (the deadline scan and every notify() queue these): each one claimed and sent
    as deliver_notification would."""
    return sum(1 for pk in notification_ids if notifications.deliver(pk))


@shared_task(ignore_result=True)
def post_to_robot(endpoint_id: int, event_key: str, text: str):
    return notifications.post_to_robot(endpoint_id, event_key, text)


@shared_task(ignore_result=True, acks_late=True)
def dispatch_timeline(entry_id: int):
    return notifications.dispatch_timeline_entry(entry_id)


@shared_task(ignore_result=True, acks_late=True)
def dispatch_pending_timeline():
    return notifications.dispatch_pending()


@shared_task(ignore_result=True, acks_late=True)
def deliver_pending_notifications():
    """E-mails and texts whose task was lost (broker down, worker killed before its claim)."""
    return notifications.deliver_pending()


@shared_task(ignore_result=True, acks_late=True)
def send_daily_digests():
    return notifications.send_digests()


@shared_task(ignore_result=True, acks_late=True)
def purge_unattached_uploads():
    from civilaffairs.files import purge_unattached

    return purge_unattached()


@shared_task(bind=True, ignore_result=True, acks_late=True)
def run_job(self, job_id: int):
    """Acknowledged late: a worker killed mid-job leaves the message to be redelivered, and the
    job row (claimed by a conditional UPDATE, kept alive by a heartbeat) decides whether the
    work runs again: only once its previous worker has stopped beating."""
    from django.conf import settings

    from civilaffairs import jobs

    outcome = jobs.run_job(job_id)
    if outcome == jobs.BUSY and (self.request.delivery_info or {}).get("redelivered"):
        # Redelivered because a worker was lost, whose heartbeat is not yet stale: look again
        # once the lease has run out (the sweep would find it too, only later).
        raise self.retry(countdown=settings.JOBS_LEASE_SECONDS + 1, max_retries=1)
    return outcome


@shared_task(ignore_result=True, acks_late=True)
def sweep_jobs():
    from civilaffairs import jobs

    return jobs.sweep()


@shared_task(ignore_result=True, acks_late=True)
def disable_idle_accounts():
    from civilaffairs.account_security import idle_accounts_disable

    return len(idle_accounts_disable())


@shared_task(ignore_result=True, acks_late=True)
def clear_expired_sessions():
    from civilaffairs.session_store import SessionStore

    SessionStore.clear_expired()


@shared_task(ignore_result=True, acks_late=True)
def purge_audit_events():
    # Safe to run twice: each batch runs under the chain's lock and removes only what is old.
    from civilaffairs import auditchain

    return auditchain.purge()
