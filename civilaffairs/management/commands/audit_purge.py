"""Remove audit events older than AUDIT_RETENTION_DAYS (never younger than 180 days); the
nightly task does the same. The chain still verifies afterwards from the purge's anchor."""

from django.core.management.base import BaseCommand

from civilaffairs import auditchain


class Command(BaseCommand):
    help = "Purge audit events older than the retention period (AUDIT_RETENTION_DAYS)."

    def handle(self, *args, **options):
        removed = auditchain.purge()
        self.stdout.write(
            f"removed {removed} audit events older than {auditchain.retention_days()} days"
        )
