"""Background delivery of notifications.

Sending is at most once: each channel is claimed in the database before it is used, so these
tasks keep the default early acknowledgement (a lost worker loses a message rather than
sending it twice). The sweeps only claim and write rows, so they may be redelivered
(acks_late)."""

from celery import shared_task

from civilaffairs import notifications


@shared_task(ignore_result=True)
def deliver_notification(notification_id: int):
    return notifications.deliver(notification_id)


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
def send_daily_digests():
    return notifications.send_digests()


@shared_task(ignore_result=True, acks_late=True)
def purge_unattached_uploads():
    from civilaffairs.files import purge_unattached

    return purge_unattached()


@shared_task(ignore_result=True)
def run_job(job_id: int):
    # Early acknowledgement: the job row is claimed before the work starts, and a worker lost
    # mid-way leaves the job "running" until the sweep fails it, so it never runs twice.
    from civilaffairs import jobs

    return jobs.run_job(job_id)


@shared_task(ignore_result=True, acks_late=True)
def sweep_jobs():
    from civilaffairs import jobs

    return jobs.sweep()


@shared_task(ignore_result=True, acks_late=True)
def purge_audit_events():
    # Safe to run twice: each batch runs under the chain's lock and removes only what is old.
    from civilaffairs import auditchain

    return auditchain.purge()
