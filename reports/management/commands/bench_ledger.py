"""Measure the background ledger at scale: the orders ledger with its status-history sheet,
built by the worker's own code (``jobs.run_job`` on a queued job) for 10 %, 50 % and 100 % of
``--rows`` orders (default 100 000).

Everything it needs is created inside one transaction that is rolled back at the end: a
throwaway org subtree (codes ``BENCH-LEDGER-…``) with the orders nested so that one unit filter
selects each size, their timelines (bulk_create), a city-wide owner, the jobs and their files
(the stored files are deleted too). The database is left as it was found, and the command
checks that it is.

Prints, per size: orders, history rows, seconds, peak Python memory (tracemalloc), peak RSS
growth (the process's high-water mark, reset before each run where Linux allows) and the
file's size; then the ratio of the largest size's peaks to the smallest's — flat memory means
the ratio stays near 1 while the rows grow tenfold. tracemalloc slows Python down, so each
size is built twice: timed without it, then traced."""

import datetime as dt
import gc
import resource
import time
import tracemalloc

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

PREFIX = "BENCH-LEDGER"
BATCH = 5000
TITLES = [
    "二楼疏散通道被护理床堵塞",
    "厨房燃气报警器失效",
    "灭火器过期未更换",
    "值班人员夜间脱岗",
    "救助物资台账与实物不符",
    "低保资金公示信息不全",
]
# State of each order by n % 20, and the steps its timeline holds for it.
STATES = ["issued"] * 6 + ["acknowledged"] * 4 + ["submitted"] * 3 + ["verified"] * 6 + ["returned"]
STEPS = {
    "issued": ["issued"],
    "acknowledged": ["issued", "acknowledge"],
    "submitted": ["issued", "acknowledge", "submit"],
    "verified": ["issued", "acknowledge", "submit", "verify"],
    "returned": ["issued", "acknowledge", "submit", "return"],
}


class _Rollback(Exception):
    pass


def _proc_status_kb(field: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak_rss() -> bool:
    """Reset the process's RSS high-water mark (Linux ≥ 4.0); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        return False
    return _proc_status_kb("VmHWM") is not None


class RssPeak:
    """Peak RSS growth of a block: the high-water mark after it minus the RSS before it."""

    def __enter__(self):
        gc.collect()
        self.exact = _reset_peak_rss()
        if self.exact:
            self.before = _proc_status_kb("VmRSS")
        else:  # ru_maxrss only grows: growth beyond the process's earlier peak
            self.before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return self

    def __exit__(self, *exc):
        self.peak_kb = (
            _proc_status_kb("VmHWM")
            if self.exact
            else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        )
        self.growth_kb = max(0, self.peak_kb - self.before)
        return False


def _counts() -> dict:
    from civilaffairs.models import (
        Attachment,
        BackgroundJob,
        Notification,
        OrgUnit,
        TimelineEntry,
        User,
    )
    from rectification.models import Rectification

    models = [Attachment, BackgroundJob, Notification, OrgUnit, TimelineEntry, User, Rectification]
    return {m.__name__: m.objects.count() for m in models}


class Command(BaseCommand):
    help = (
        "Measure the background Excel ledger of rectification orders (with its status "
        "history) at 10 %, 50 % and 100 % of --rows orders: time, peak memory, file size. "
        "Leaves the database as it found it."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rows", type=int, default=100_000, help="orders at the largest size")

    def handle(self, *args, rows, **options):
        if rows < 30:
            raise CommandError("--rows must be at least 30")
        sizes = [rows // 10, rows // 2, rows]
        before = _counts()
        results = []
        try:
            with transaction.atomic():
                started = time.perf_counter()
                owner, units = self._setup(sizes)
                self.stdout.write(
                    f"bench_ledger: {rows} orders and their timelines created in "
                    f"{time.perf_counter() - started:.1f} s (rolled back at the end)"
                )
                # A first run loads what every run shares (modules, catalogs, the calendar):
                # not counted, so the figures are those of a warm worker.
                self._run(owner, units[0], sizes[0], traced=False)
                for size, unit in zip(sizes, units, strict=True):
                    results.append(self._measure(owner, unit, size))
                raise _Rollback
        except _Rollback:
            pass
        self._report(results)
        after = _counts()
        if after != before:
            changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
            raise CommandError(f"the database was not left as it was found: {changed}")
        self.stdout.write(
            "database left as found: yes ("
            + ", ".join(f"{name} {count}" for name, count in sorted(after.items()))
            + ")"
        )

    # --- set-up ----------------------------------------------------------------------------

    def _setup(self, sizes):
        from civilaffairs.choices import Role
        from civilaffairs.services import orgunit_create, user_create

        def unit(parent, suffix, kind, name, **extra):
            return orgunit_create(
                actor=None,
                parent=parent,
                code=f"{PREFIX}-{suffix}",
                name=f"基准测试{name}（{PREFIX}）",
                kind=kind,
                **extra,
            )

        # Under the city's root, inside the city-wide owner's scope (the root row stays locked
        # until the rollback); nested so that "unit and below" selects 10 %, 50 % and 100 %.
        from civilaffairs.models import OrgUnit

        root = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()
        if root is None:
            root = unit(None, "ROOT", "bureau", "民政局")
        largest = unit(root, "D", "district_bureau", "区民政局")
        middle = unit(largest, "S", "street", "街道")
        smallest = unit(middle, "I", "institution", "养老院", institution_type="elder_care")
        owner = user_create(
            actor=None,
            username=f"{PREFIX.lower()}-owner",
            real_name="基准测试督查员",
            roles=[(Role.SUPERVISOR, None)],
        )
        shares = [
            (smallest, sizes[0]),
            (middle, sizes[1] - sizes[0]),
            (largest, sizes[2] - sizes[1]),
        ]
        n = 0
        for target, count in shares:
            for start in range(0, count, BATCH):
                batch = range(n + start, n + min(count, start + BATCH))
                self._create_orders(target, batch, owner)
            n += count
        return owner, [smallest, middle, largest]

    def _create_orders(self, unit, numbers, owner):
        from django.contrib.contenttypes.models import ContentType

        from civilaffairs.models import TimelineEntry
        from rectification.models import Rectification

        now = timezone.now()
        orders = []
        for n in numbers:
            state = STATES[n % len(STATES)]
            dispatched = now - dt.timedelta(days=n % 90, minutes=n % 600)
            closed = dispatched + dt.timedelta(days=n % 20) if state == "verified" else None
            orders.append(
                Rectification(
                    code=f"{PREFIX}-{n:07d}",
                    title=TITLES[n % len(TITLES)],
                    requirements="立即整改，3个工作日内报送整改情况",
                    responsible_unit=unit,
                    priority=("normal", "high", "urgent")[n % 3],
                    dispatched_at=dispatched,
                    deadline=timezone.localdate(dispatched) + dt.timedelta(days=14),
                    deadline_working_days=10,
                    state=state,
                    acknowledged_at=dispatched + dt.timedelta(hours=2)
                    if state != "issued"
                    else None,
                    submitted_at=dispatched + dt.timedelta(days=3)
                    if state in ("submitted", "verified", "returned")
                    else None,
                    closed_at=closed,
                    times_returned=1 if state == "returned" else 0,
                    created_by=owner,
                )
            )
        Rectification.objects.bulk_create(orders, batch_size=BATCH)
        content_type = ContentType.objects.get_for_model(Rectification)
        entries = [
            TimelineEntry(
                content_type=content_type,
                object_id=order.pk,
                actor=owner,
                verb=verb,
                note="复查发现仍未整改到位" if verb == "return" else "",
                data={"deadline": order.deadline.isoformat()} if verb == "issued" else {},
                notified_at=now,  # nothing to notify
            )
            for order in orders
            for verb in STEPS[order.state]
        ]
        TimelineEntry.objects.bulk_create(entries, batch_size=BATCH)

    # --- measuring -------------------------------------------------------------------------

    def _run(self, owner, unit, size, traced: bool):
        from civilaffairs import jobs
        from civilaffairs.choices import JobState

        job = jobs.job_start(
            owner=owner,
            kind="ledger",
            title=f"bench {size}",
            params={"path": reverse("rectification:order-list"), "query": f"unit={unit.pk}"},
        )
        if traced:
            gc.collect()
            tracemalloc.start()
        started = time.perf_counter()
        with RssPeak() as rss:
            state = jobs.run_job(job.pk)
        seconds = time.perf_counter() - started
        peak = 0
        if traced:
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        job.refresh_from_db()
        if state != JobState.DONE:
            raise CommandError(f"the ledger job failed: {job.error}")
        attachment = job.result
        size_bytes = attachment.size
        attachment.file.storage.delete(attachment.file.name)  # the rollback keeps no file
        return {
            "seconds": seconds,
            "peak": peak,
            "rss": rss.growth_kb,
            "rss_peak": rss.peak_kb,
            "rss_exact": rss.exact,
            "bytes": size_bytes,
            "written": job.total,
        }

    def _measure(self, owner, unit, size):
        timed = self._run(owner, unit, size, traced=False)
        traced = self._run(owner, unit, size, traced=True)
        return {
            "orders": size,
            "history": timed["written"] - size,
            "seconds": timed["seconds"],
            "traced_seconds": traced["seconds"],
            "peak_mb": traced["peak"] / 2**20,
            "rss_mb": timed["rss"] / 1024,
            "rss_peak_mb": timed["rss_peak"] / 1024,
            "rss_exact": timed["rss_exact"],
            "kb": timed["bytes"] / 1024,
        }

    def _report(self, results):
        if not results:
            return
        out = self.stdout.write
        out(
            "orders ledger with its status history, built by the worker (jobs.run_job), "
            "owner city-wide:"
        )
        out(
            f"{'orders':>8} {'history rows':>12} {'seconds':>8} {'py peak MB':>10} "
            f"{'RSS growth MB':>13} {'RSS peak MB':>11} {'file KB':>9}"
        )
        for r in results:
            out(
                f"{r['orders']:>8} {r['history']:>12} {r['seconds']:>8.2f} "
                f"{r['peak_mb']:>10.2f} {r['rss_mb']:>13.1f} {r['rss_peak_mb']:>11.1f} "
                f"{r['kb']:>9.0f}"
            )
        small, large = results[0], results[-1]
        growth = large["orders"] / small["orders"]
        peak_ratio = large["peak_mb"] / small["peak_mb"] if small["peak_mb"] else float("nan")
        rss_note = "" if small["rss_exact"] else " (ru_maxrss: growth beyond the earlier peak)"
        out(
            f"flat memory: {large['orders']} vs {small['orders']} orders ({growth:.0f}x rows): "
            f"py peak ratio {peak_ratio:.2f}, RSS growth {small['rss_mb']:.1f} -> "
            f"{large['rss_mb']:.1f} MB, RSS peak ratio "
            f"{large['rss_peak_mb'] / small['rss_peak_mb']:.2f}{rss_note}"
        )
        out(
            "seconds without tracemalloc; traced runs took "
            + ", ".join(f"{r['traced_seconds']:.2f}" for r in results)
            + " s"
        )
