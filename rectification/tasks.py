from celery import shared_task

from rectification import alerts


@shared_task(ignore_result=True, acks_late=True)
def deadline_scan():
    """Idempotent (each alert is claimed by a unique row), so it may be redelivered."""
    return alerts.deadline_scan()
