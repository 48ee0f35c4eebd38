"""Time the rendering of a one-page flash report PDF in a warm process (target: 0.5 s).

Prints what it measures: the first render (cold: fonts loaded, templates compiled) and then
the minimum, median and maximum of the warm renders."""

import datetime as dt
import io
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

SITUATION = (
    "3月5日21时，市局五·五专项办督查组对甲区东街防寒庇护站开展寒潮期间夜间暗访。"
    "当晚收住受助人员12名。"
)
PROBLEMS = "二楼安全出口被铁链锁闭，消防通道堆放被褥、纸箱等杂物，不能保证紧急疏散。"
CAUSES = "站点负责人安全意识不强，街道日常监管不到位。"
SUGGESTIONS = "已责令当晚整改完毕；由甲区民政局约谈街道分管负责人，3个工作日内报送整改情况。"


def sample_report():
    """An unsaved report of a realistic one-page length."""
    from reports.models import FlashReport

    now = timezone.now()
    return FlashReport(
        year=now.year,
        serial=15,
        title="甲区东街防寒庇护站安全出口锁闭、消防通道堵塞",
        found_at=now - dt.timedelta(hours=3),
        occurred_at=now - dt.timedelta(hours=4),
        situation=SITUATION,
        problems=PROBLEMS,
        causes=CAUSES,
        suggestions=SUGGESTIONS,
        issuing_office="五·五专项工作办公室",
        state="signed",
        signed_at=now,
        created_at=now,
    )


class Command(BaseCommand):
    help = "Measure the time to render a one-page flash report PDF in a warm process."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=10)
        parser.add_argument("--report", type=int, help="a stored report's id instead")

    def handle(self, *args, runs, report, **options):
        import pypdf

        from civilaffairs.pdf import render_pdf
        from reports.flash_pdf import pdf_audience, render_document
        from reports.models import FlashReport

        if report is not None:
            subject = FlashReport.objects.filter(pk=report).first()
            if subject is None:
                raise CommandError(f"no flash report {report}")
            readers = pdf_audience(subject)
        else:
            subject, readers = sample_report(), []

        def once() -> tuple[float, bytes]:
            started = time.perf_counter()
            content = render_pdf(render_document(subject, readers))
            return time.perf_counter() - started, content

        cold, content = once()
        pages = len(pypdf.PdfReader(io.BytesIO(content)).pages)
        warm = [once()[0] for _ in range(max(1, runs))]
        self.stdout.write(
            f"flash report PDF: {pages} page(s), {len(content) / 1024:.0f} KiB\n"
            f"cold render: {cold:.3f} s\n"
            f"warm renders ({len(warm)}): min {min(warm):.3f} s, "
            f"median {statistics.median(warm):.3f} s, max {max(warm):.3f} s "
            f"(target 0.5 s)"
        )
