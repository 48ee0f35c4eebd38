"""Time the rendering of a 20-page daily digest PDF in a warm process (target: 5 s).

Builds the digest's content in memory (no database needed): a city of reporting units, some
late or missing, abnormal lines on every bottom line, new findings and overdue orders, sized
to about 20 A4 pages. Prints the page count, the first (cold) render and the warm renders."""

import datetime as dt
import io
import statistics
import time
from types import SimpleNamespace

from django.core.management.base import BaseCommand
from django.utils import timezone

from civilaffairs.choices import BottomLine
from reports.daily_querysets import CUTOFF_ZONE

NOTE = "寒潮期间夜间巡查发现供暖设备故障，已联系维修，临时增加棉被并安排专人值守。"


def sample_data(units: int = 230) -> dict:
    day = timezone.localdate()
    cutoff = dt.datetime.combine(day, dt.time(16), tzinfo=CUTOFF_ZONE)
    rows, missing = [], []
    by_line = {key: [] for key in BottomLine.values}
    for n in range(units):
        name = f"第{n // 12 + 1}区民政局所属第{n % 12 + 1}服务机构"
        if n % 17 == 0:
            missing.append({"id": n, "name": name})
            rows.append({"unit": name, "status": "missing"})
            continue
        abnormal = []
        if n % 5 == 0:
            key = BottomLine.values[n % 5 if n % 25 else (n // 5) % 5]
            abnormal.append(str(BottomLine(key).label))
            by_line[key].append(
                {"unit": name, "note": NOTE, "finding": f"WT2026-{n:04d}" if n % 2 else ""}
            )
        rows.append(
            {
                "unit": name,
                "status": "late" if n % 11 == 0 else "on_time",
                "submitted_at": f"16:2{n % 10}" if n % 11 == 0 else f"15:{n % 60:02d}",
                "reporter": "联络员",
                "leader": "王副局长",
                "nil": not abnormal,
                "abnormal": abnormal,
            }
        )
    findings = [
        {
            "code": f"WT2026-{n:04d}",
            "unit": f"第{n}服务机构",
            "title": NOTE[:30],
            "severity": "一般",
            "bottom_line": "安全",
        }
        for n in range(60)
    ]
    overdue = [
        {
            "code": f"ZG2026-{n:04d}",
            "unit": f"第{n}服务机构",
            "title": NOTE[:30],
            "deadline": "2026-01-05",
            "days": 10,
        }
        for n in range(60)
    ]
    return {
        "period": SimpleNamespace(name="2026年冬季寒潮防御期"),
        "day": day,
        "as_of": cutoff,
        "cutoff": cutoff,
        "rows": rows,
        "missing": missing,
        "by_line": [
            {"key": k, "label": str(label), "lines": by_line[k]} for k, label in BottomLine.choices
        ],
        "findings": findings,
        "overdue": overdue,
        "figures": {
            "units": units,
            "on_time": 0,
            "late": 0,
            "missing": len(missing),
            "new_findings": 60,
            "overdue_orders": 60,
        },
        "abnormal_total": sum(len(v) for v in by_line.values()),
    }


class Command(BaseCommand):
    help = "Time a 20-page daily digest PDF in a warm process (target 5 s)."

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=3)
        parser.add_argument("--units", type=int, default=230)

    def handle(self, *args, runs, units, **options):
        import pypdf

        from reports.digest import render_digest_pdf

        data = sample_data(units)
        start = time.perf_counter()
        pdf = render_digest_pdf(data)
        cold = time.perf_counter() - start
        pages = len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
        times = []
        for _ in range(max(1, runs)):
            start = time.perf_counter()
            render_digest_pdf(data)
            times.append(time.perf_counter() - start)
        self.stdout.write(
            f"daily digest PDF: {pages} pages, {len(pdf) // 1024} KB; cold {cold:.2f} s; warm "
            f"min {min(times):.2f} s, median {statistics.median(times):.2f} s, "
            f"max {max(times):.2f} s (target 5 s)"
        )
