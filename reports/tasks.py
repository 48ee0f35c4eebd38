"""Background work of the reports app."""

from celery import shared_task


@shared_task(ignore_result=True, acks_late=True)
def render_flash_pdf(report_id: int):
    """Idempotent (a PDF already rendered for the report's current version is kept), so it
    may be redelivered."""
    from reports.flash_pdf import store_flash_pdf

    return bool(store_flash_pdf(report_id))


@shared_task(ignore_result=True, acks_late=True)
def flash_watchdog():
    """The 20:00 reminder of major findings without a flash report. Idempotent (each
    reminder is unique per person, finding and day), so it may be redelivered."""
    from reports.services import watchdog

    return watchdog()


@shared_task(ignore_result=True, acks_late=True)
def refresh_dashboards():
    """Recompute the dashboards looked at recently (only writes snapshots: safe to rerun)."""
    from reports.dashboard import refresh_snapshots

    return refresh_snapshots()
