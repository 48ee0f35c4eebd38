"""Check the audit trail's hash chain from its start (or the last purge) to its tip.

Exit status 0 with the number of events checked when the chain is intact; 1 naming the first
event whose content (an edited row) or link (a row removed or slipped in before it) does not
match. Rows are read in batches, so it runs in constant memory on any number of events. Keep
the printed tip hash somewhere else too: removing the newest events cannot be seen from the
chain alone, only by comparing with a tip recorded earlier."""

from django.core.management.base import BaseCommand, CommandError

from civilaffairs import auditchain


class Command(BaseCommand):
    help = "Verify the audit trail's hash chain; exit 1 naming the first event that fails."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args, batch_size, **options):
        result = auditchain.verify(batch_size=max(1, batch_size))
        start = f"after purged event {result.anchor_id}" if result.anchor_id else "from the genesis"
        broken = result.broken
        if broken is not None:
            if broken.reason == "content":
                why = "its content does not match its hash: the row was edited"
            else:
                why = (
                    "its link does not match the event before it "
                    f"({broken.previous_id or 'none'}): an event was removed or inserted there"
                )
            raise CommandError(
                f"audit chain broken at event {broken.event_id}: {why} "
                f"(expected {broken.expected}, found {broken.found}; "
                f"{result.count} events before it verified {start})",
                returncode=1,
            )
        self.stdout.write(
            f"audit chain intact: {result.count} events verified {start}; tip {result.tip}"
        )
