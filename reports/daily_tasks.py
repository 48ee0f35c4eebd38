"""Scheduled work of the daily bottom-line reports (imported by ReportsConfig.ready(), so the
worker knows these tasks; the flash reports' tasks live in reports/tasks.py).

Both are idempotent — reminders are unique per person and event, the digest is claimed by its
unique (period, day) row — so they acknowledge late and may be redelivered."""

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def remind_daily_reports():
    """Every 5 minutes: chase the units that have not reported before the cut-off."""
    from reports.digest import remind_missing

    return remind_missing()


@shared_task(ignore_result=True, acks_late=True)
def build_daily_digests():
    """Every 5 minutes: build each digest whose cut-off has passed, once."""
    from reports.digest import build_due_digests

    return build_due_digests()
