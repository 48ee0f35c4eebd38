"""Create or update the periodic tasks that Celery beat runs (idempotent: run it after every
deploy). Schedules are looked up by name, so a second run changes nothing."""

from django.core.management.base import BaseCommand
from django.db import transaction

# name → (task, crontab fields or an interval in minutes, description)
SCHEDULES = {
    "rectification: deadline scan at 08:30": (
        "rectification.tasks.deadline_scan",
        {"minute": "30", "hour": "8"},
    ),
    "rectification: deadline scan hourly": (
        "rectification.tasks.deadline_scan",
        {"minute": "0", "hour": "*"},
    ),
    "notifications: timeline sweep": (
        "civilaffairs.tasks.dispatch_pending_timeline",
        {"minute": "*/5", "hour": "*"},
    ),
    "notifications: deliver e-mails and texts left undelivered every 5 minutes": (
        "civilaffairs.tasks.deliver_pending_notifications",
        {"minute": "*/5", "hour": "*"},
    ),
    "notifications: daily digest at 17:30": (
        "civilaffairs.tasks.send_daily_digests",
        {"minute": "30", "hour": "17"},
    ),
    "reports: flash report watchdog at 20:00": (
        "reports.tasks.flash_watchdog",
        {"minute": "0", "hour": "20"},
    ),
    "reports: remind units of the daily report every 5 minutes": (
        "reports.daily_tasks.remind_daily_reports",
        {"minute": "*/5", "hour": "*"},
    ),
    "reports: build daily digests after the cut-off every 5 minutes": (
        "reports.daily_tasks.build_daily_digests",
        {"minute": "*/5", "hour": "*"},
    ),
    "jobs: re-queue lost, fail stuck, remove old ledgers every 5 minutes": (
        "civilaffairs.tasks.sweep_jobs",
        {"minute": "*/5", "hour": "*"},
    ),
    "reports: refresh the dashboards people look at every 5 minutes": (
        "reports.tasks.refresh_dashboards",
        {"minute": "*/5", "hour": "*"},
    ),
    "attachments: purge abandoned uploads at 03:10": (
        "civilaffairs.tasks.purge_unattached_uploads",
        {"minute": "10", "hour": "3"},
    ),
    "audit: purge events past the retention period at 03:40": (
        "civilaffairs.tasks.purge_audit_events",
        {"minute": "40", "hour": "3"},
    ),
    "accounts: disable accounts idle for ACCOUNT_IDLE_DAYS at 02:40": (
        "civilaffairs.tasks.disable_idle_accounts",
        {"minute": "40", "hour": "2"},
    ),
    "sessions: remove expired sessions at 03:20": (
        "civilaffairs.tasks.clear_expired_sessions",
        {"minute": "20", "hour": "3"},
    ),
}


def setup_schedules() -> list[tuple[str, bool]]:
    from django.conf import settings
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    results = []
    with transaction.atomic():
        for name, (task, cron) in SCHEDULES.items():
            crontab, _created = CrontabSchedule.objects.get_or_create(
                minute=cron["minute"],
                hour=cron["hour"],
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=settings.CELERY_TIMEZONE,
            )
            _task, created = PeriodicTask.objects.update_or_create(
                name=name, defaults={"task": task, "crontab": crontab, "enabled": True}
            )
            results.append((name, created))
        # Entries of this product's own tasks that are no longer listed (renamed or dropped)
        # would keep running: remove them. Tasks an administrator added by hand stay.
        owned = {task for task, _cron in SCHEDULES.values()}
        PeriodicTask.objects.filter(task__in=owned).exclude(name__in=SCHEDULES).delete()
    return results


class Command(BaseCommand):
    help = "Create or update the periodic tasks run by Celery beat (idempotent)."

    def handle(self, *args, **options):
        for name, created in setup_schedules():
            self.stdout.write(f"{'created' if created else 'up to date'}: {name}")
