"""Time a leadership brief PDF (DESIGN §6: a leader opens a PDF brief in under a second).

Builds the brief exactly as the worker does — the dashboard for the user, the charts, the key
findings with their photos, the PDF — for a city-wide leader and this month by default, on the
data in the database (the demo city after ``load_demo``). Prints the first run (cold: fonts
loaded, templates compiled, caches empty) and the median of the warm runs, each split into
building the content and rendering the PDF, with the page count and size."""

import io
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import translation


class Command(BaseCommand):
    help = "Time a city-wide month brief PDF for a leader (cold and warm)."

    def add_arguments(self, parser):
        parser.add_argument("--user", default="leader", help="username (default: leader)")
        parser.add_argument("--preset", default="month", help="week, month, quarter or year")
        parser.add_argument("--since", help="YYYY-MM-DD (with --until, instead of --preset)")
        parser.add_argument("--until")
        parser.add_argument("--district", help="a district bureau's id")
        parser.add_argument("--runs", type=int, default=5, help="warm runs (default 5)")
        parser.add_argument("--output", help="also write the PDF here")

    def handle(self, *args, **options):
        import pypdf
        from django.conf import settings
        from django.template.loader import render_to_string

        from civilaffairs.models import User
        from civilaffairs.pdf import render_pdf
        from reports import briefs, dashboard

        user = User.objects.filter(username=options["user"]).first()
        if user is None:
            raise CommandError(f"no user {options['user']!r} (load the demo city first)")
        if not briefs.may_request(user):
            raise CommandError(f"{user.username} may not use the dashboard")
        data = {"district": options["district"] or ""}
        if options["since"] or options["until"]:
            data.update(since=options["since"] or "", until=options["until"] or "")
        else:
            data["preset"] = options["preset"]
        translation.activate(settings.LANGUAGE_CODE)
        filters, errors = dashboard.parse_filters(user, data)
        if errors:
            raise CommandError("; ".join(errors))

        def once() -> tuple[float, float, bytes]:
            started = time.perf_counter()
            html = render_to_string("reports/brief_pdf.html", briefs.brief_context(user, filters))
            built = time.perf_counter()
            content = render_pdf(html)
            return built - started, time.perf_counter() - built, content

        build, render, content = once()
        pages = len(pypdf.PdfReader(io.BytesIO(content)).pages)
        warm = [once()[:2] for _ in range(max(1, options["runs"]))]
        totals = [b + r for b, r in warm]
        if options["output"]:
            with open(options["output"], "wb") as handle:
                handle.write(content)
        scope = briefs.scope_label(user, filters)
        self.stdout.write(
            f"brief PDF for {user.username} ({scope}, {filters.since} to {filters.until}): "
            f"{pages} page(s), {len(content) / 1024:.0f} KiB\n"
            f"cold: {build + render:.3f} s (content {build:.3f} s, PDF {render:.3f} s)\n"
            f"warm median of {len(warm)}: {statistics.median(totals):.3f} s "
            f"(content {statistics.median(b for b, _r in warm):.3f} s, "
            f"PDF {statistics.median(r for _b, r in warm):.3f} s); "
            f"min {min(totals):.3f} s, max {max(totals):.3f} s (target 1 s)"
        )
