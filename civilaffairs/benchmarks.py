"""The benchmark suite behind ``manage.py bench`` and ``make bench`` (issue #8 item 2).

Each case times an operation of the application against the bare operation underneath it,
measured in the same run (the two are interleaved, so load on the machine hits both alike), and
writes median and p95 over N runs (warm-up runs excluded, ``time.perf_counter``, percentiles
from the sorted samples). A case that cannot run here says so and why: no figure is ever made
up. Whatever writes to the database does it inside a transaction that is rolled back (and
deletes the files it stored)."""

import datetime as dt
import gc
import math
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import connection, transaction

# The SQL below is fixed text with parameters; the subprocesses are our own gunicorn and wrk;
# the pseudo-random numbers only make noise for test images.
# ruff: noqa: S608, S603, S311

# --- measuring ---------------------------------------------------------------------------------


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile of the sorted samples."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed(fn: Callable) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


BUDGET_SECONDS = 60.0  # per sampled group: slow operations (a cold dashboard) get fewer runs
MIN_RUNS = 5


def sample(fns: dict[str, Callable], runs: int, warmup: int = 1) -> dict[str, list[float]]:
    """Time each callable ``runs`` times after ``warmup`` untimed calls, interleaved (a, b, a,
    b, …) so that a change of load on the machine falls on all of them alike. When one round
    of warm-up takes long, fewer runs are made (at least MIN_RUNS, or ``runs`` if lower), so
    that the suite ends in reasonable time at city scale; a round longer than the whole
    budget (a deadline scan of minutes) is not repeated: its warm-up times are the samples
    (N = 1). The case states its N."""
    first: dict[str, float] = {}
    for n in range(warmup):
        for name, fn in fns.items():
            elapsed = timed(fn)
            if n == 0:
                first[name] = elapsed
    if warmup:
        per_round = sum(first.values())
        if per_round > BUDGET_SECONDS:
            return {name: [first[name]] for name in fns}
        runs = min(runs, max(MIN_RUNS, int(BUDGET_SECONDS / max(per_round, 1e-6))))
    out: dict[str, list[float]] = {name: [] for name in fns}
    for _n in range(runs):
        for name, fn in fns.items():
            out[name].append(timed(fn))
    return out


class _Rollback(Exception):
    pass


def rolled_back(fn: Callable):
    """Run ``fn`` in a transaction that is rolled back; returns what it returned."""
    box = {}
    try:
        with transaction.atomic():
            box["value"] = fn()
            raise _Rollback
    except _Rollback:
        pass
    return box.get("value")


# --- reporting ---------------------------------------------------------------------------------


@dataclass
class Case:
    key: str
    title: str
    status: str = "not implemented"  # measured, not measured, error
    reason: str = ""
    runs: int = 0
    warmup: int = 0
    rows: list[tuple[str, float, float]] = field(default_factory=list)  # label, median, p95 (ms)
    checks: list[tuple[str, str, str, str]] = field(
        default_factory=list
    )  # what, value, target, verdict
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    extra: list[str] = field(default_factory=list)  # markdown written after the notes

    def row(self, label: str, samples: list[float]):
        if self.runs and len(samples) != self.runs:
            label += f" (N = {len(samples)}: time budget" + (
                ", the one cold run)" if len(samples) == 1 else ")"
            )
        self.rows.append((label, statistics.median(samples) * 1000, p95(samples) * 1000))

    def check(self, what: str, value: float, target: float, fmt: str, higher_is_better=False):
        ok = value >= target if higher_is_better else value <= target
        sign = "≥" if higher_is_better else "≤"
        self.checks.append(
            (what, fmt.format(value), f"{sign} {fmt.format(target)}", "PASS" if ok else "GAP")
        )

    def lines(self) -> list[str]:
        out = [f"## {self.title}", ""]
        if self.status != "measured":
            out += [f"**{self.status}**: {self.reason}", ""]
            return out
        out.append(
            f"**measured**: N = {self.runs} runs per operation ({self.warmup} warm-up run(s) "
            f"excluded), {self.seconds:.1f} s for the case."
        )
        out.append("")
        if self.rows:
            out += ["| operation | median ms | p95 ms |", "|---|---:|---:|"]
            out += [f"| {label} | {m:.1f} | {p:.1f} |" for label, m, p in self.rows]
            out.append("")
        if self.checks:
            out += ["| check | measured | target | verdict |", "|---|---:|---:|---|"]
            out += [f"| {w} | {v} | {t} | {verdict} |" for w, v, t, verdict in self.checks]
            out.append("")
        out += [f"- {note}" for note in self.notes]
        if self.notes:
            out.append("")
        out += self.extra
        return out

    def summary(self) -> str:
        if self.status != "measured":
            return f"{self.title}: {self.status} ({self.reason})"
        verdicts = [c[3] for c in self.checks]
        gaps = verdicts.count("GAP")
        return (
            f"{self.title}: measured, N={self.runs}; "
            + "; ".join(f"{w} {v} (target {t}) {verdict}" for w, v, t, verdict in self.checks)
            + (f" — {gaps} GAP" if gaps else "")
        )


# --- the machine and the dataset ---------------------------------------------------------------


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    ram = "unknown"
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemTotal:"):
                    ram = f"{int(line.split()[1]) / 2**20:.1f} GiB"
                    break
    except OSError:
        pass
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg = cursor.fetchone()[0]
    import django

    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    return {
        "CPU": f"{cpu} × {os.cpu_count()} logical CPU(s)",
        "RAM": ram,
        "Python": platform.python_version(),
        "Django": django.get_version(),
        "PostgreSQL": pg,
        "OS": platform.platform(),
        "Load average at start (1/5/15 min)": " / ".join(f"{v:.2f}" for v in load)
        if load
        else "unknown",
        "Database": f"{connection.settings_dict.get('NAME')} on "
        f"{connection.settings_dict.get('HOST') or 'local socket'}",
    }


DATASET_MODELS = [
    ("org units", "civilaffairs.OrgUnit"),
    ("users", "civilaffairs.User"),
    ("inspection plans", "inspections.InspectionPlan"),
    ("visits", "inspections.Visit"),
    ("findings", "inspections.Finding"),
    ("photos", "inspections.Photo"),
    ("rectification orders", "rectification.Rectification"),
    ("timeline entries", "civilaffairs.TimelineEntry"),
    ("complaints", "rectification.Complaint"),
    ("flash reports", "reports.FlashReport"),
    ("daily reports", "reports.DailyReport"),
    ("notifications", "civilaffairs.Notification"),
]


def dataset() -> list[tuple[str, int | None]]:
    from django.apps import apps

    out = []
    for label, name in DATASET_MODELS:
        try:
            model = apps.get_model(name)
        except LookupError:
            out.append((label, None))
            continue
        out.append((label, model.objects.count()))
    return out


def dataset_label(counts: dict) -> str:
    findings = counts.get("findings") or 0
    if findings >= 900_000:
        return "city scale (about 1M findings)"
    if findings >= 50_000:
        return "a medium dataset (not the 1M-finding city scale the targets are stated for)"
    return (
        "a small dataset (the demo city or test data) — NOT the city-scale dataset the "
        "targets are stated for (1M findings, 1M orders); figures at city scale will differ"
    )


# --- context shared by the cases ---------------------------------------------------------------


@dataclass
class Options:
    quick: bool = False
    runs: int | None = None

    def n(self, full: int, quick: int = 3) -> int:
        if self.runs:
            return self.runs
        return quick if self.quick else full


def _user_with_role(role, city_wide: bool):
    from civilaffairs.models import RoleAssignment

    assignments = RoleAssignment.objects.filter(role=role, user__is_active=True)
    if city_wide:
        assignments = assignments.filter(scope__parent__isnull=True) | assignments.filter(
            scope__isnull=True
        )
    first = assignments.select_related("user").order_by("user_id").first()
    return first.user if first else None


_BENCH_DEVICES: list[int] = []  # two-factor devices made for the run, deleted by cleanup()


def _client(user):
    """A test Client signed in as ``user``, with the second sign-in step passed when the user's
    role requires one (as after a real sign-in; a confirmed device is made for the run if the
    user has none, and deleted at the end)."""
    from django.test import Client
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from civilaffairs.security import OTP_ENROLLED_SESSION_KEY, otp_device, otp_step_needed

    client = Client()
    client.force_login(user)
    if otp_step_needed(user):
        device = otp_device(user)
        if device is None:
            device = TOTPDevice.objects.create(user=user, name="bench", confirmed=True)
            _BENCH_DEVICES.append(device.pk)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session[OTP_ENROLLED_SESSION_KEY] = True
        session.save()
    return client


def cleanup():
    """Remove what the run made to sign its users in."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.filter(pk__in=_BENCH_DEVICES).delete()
    _BENCH_DEVICES.clear()


# --- case 1: dashboard -------------------------------------------------------------------------


def _dashboard_sql(filters, today) -> list[tuple[str, list]]:
    """The dashboard's figures, breakdowns and trends as plain SQL aggregates (what a
    hand-written report for a city-wide reader would run): one statement per table or
    grouping, no visibility filter (a city-wide leader sees everything; unannounced plans are
    not excluded here, which makes the bare side do slightly less)."""
    from django.utils import timezone

    from inspections.choices import Disposition, FindingState, Severity
    from rectification.choices import OPEN_STATES
    from rectification.filtersets import due_soon_limit

    tz = "Asia/Shanghai"
    since, until = filters.since, filters.until
    open_states = list(OPEN_STATES)
    from reports.dashboard import _months, _weeks

    twelve_months = _months(until, 12)[0][0]
    twelve_weeks = _weeks(until, 12)[0][0]
    # Local days as ranges of instants (what the app's filters send, which an index serves).
    zone = timezone.get_current_timezone()

    def at(day):
        return dt.datetime.combine(day, dt.time.min, tzinfo=zone)

    def upto(day):
        return at(day + dt.timedelta(days=1))

    found = "f.found_at >= %s AND f.found_at < %s"
    dispatched = "r.dispatched_at >= %s AND r.dispatched_at < %s"
    # Only constants are spliced into these statements (tz, found, dispatched); every value is
    # a parameter (bandit B608 on the f-strings below).
    return [
        (
            "SELECT count(*) FROM inspections_visit WHERE state = 'submitted' "
            "AND scheduled_date BETWEEN %s AND %s",
            [since, until],
        ),
        (
            "SELECT count(*), count(*) FILTER (WHERE EXISTS (SELECT 1 FROM inspections_visit v "
            "WHERE v.target_id = u.id AND v.state = 'submitted' "
            "AND v.scheduled_date BETWEEN %s AND %s)) "
            "FROM civilaffairs_orgunit u WHERE u.kind = 'institution' AND u.active",
            [since, until],
        ),
        (
            "SELECT count(*), count(*) FILTER (WHERE disposition = %s), "  # nosec B608
            "count(*) FILTER (WHERE state = %s), count(*) FILTER (WHERE state = %s), "
            "count(*) FILTER (WHERE severity = %s), "
            "count(*) FILTER (WHERE repeat_of_id IS NOT NULL) "
            f"FROM inspections_finding f WHERE f.state <> 'draft' AND {found}",
            [
                Disposition.FIXED_ON_SITE,
                FindingState.OPEN,
                FindingState.TRANSFERRED,
                Severity.MAJOR,
                at(since),
                upto(until),
            ],
        ),
        (
            "SELECT f.bottom_line, f.severity, f.category, u.institution_type, u.kind, "  # nosec B608
            "u.district_id, count(*) FROM inspections_finding f "
            "JOIN civilaffairs_orgunit u ON u.id = f.target_id "
            f"WHERE f.state <> 'draft' AND {found} "
            "GROUP BY GROUPING SETS ((f.bottom_line), (f.severity), (f.category), "
            "(u.institution_type), (u.kind), (u.district_id))",
            [at(since), upto(until)],
        ),
        (
            f"SELECT date_trunc('week', f.found_at AT TIME ZONE '{tz}'), count(*) "  # nosec B608
            f"FROM inspections_finding f WHERE f.state <> 'draft' AND {found} "
            "GROUP BY 1",
            [at(twelve_weeks), upto(until)],
        ),
        (
            f"SELECT date_trunc('month', f.found_at AT TIME ZONE '{tz}'), count(*) "  # nosec B608
            f"FROM inspections_finding f WHERE f.state <> 'draft' AND {found} "
            "GROUP BY 1",
            [at(twelve_months), upto(until)],
        ),
        (
            "SELECT f.target_id, u.name, f.category, count(*) AS n FROM inspections_finding f "  # nosec B608
            "JOIN civilaffairs_orgunit u ON u.id = f.target_id "
            f"WHERE f.state <> 'draft' AND f.repeat_of_id IS NOT NULL AND {found} "
            "GROUP BY 1, 2, 3 ORDER BY n DESC, u.name LIMIT 10",
            [at(since), upto(until)],
        ),
        (
            "SELECT count(*), count(*) FILTER (WHERE state = 'verified'), "  # nosec B608
            "count(*) FILTER (WHERE state = 'verified' "
            f"AND (closed_at AT TIME ZONE '{tz}')::date <= deadline), "
            "count(*) FILTER (WHERE state = 'verified') "
            f"FROM rectification_rectification r WHERE {dispatched}",
            [at(since), upto(until)],
        ),
        (
            "SELECT count(*) FILTER (WHERE deadline < %s), "
            "count(*) FILTER (WHERE deadline BETWEEN %s AND %s) "
            "FROM rectification_rectification WHERE state = ANY(%s)",
            [today, today, due_soon_limit(today), open_states],
        ),
        (
            "SELECT u.district_id, count(*) FROM rectification_rectification r "
            "JOIN civilaffairs_orgunit u ON u.id = r.responsible_unit_id "
            "WHERE r.state = ANY(%s) AND r.deadline < %s GROUP BY 1",
            [open_states, today],
        ),
        (
            "SELECT supervising_department_id, count(*) FROM rectification_rectification r "  # nosec B608
            f"WHERE {dispatched} GROUP BY 1",
            [at(since), upto(until)],
        ),
        (
            f"SELECT date_trunc('month', r.dispatched_at AT TIME ZONE '{tz}'), count(*) "  # nosec B608
            f"FROM rectification_rectification r WHERE {dispatched} GROUP BY 1",
            [at(twelve_months), upto(until)],
        ),
        (
            "SELECT r.code, r.title, u.name, r.deadline FROM rectification_rectification r "
            "JOIN civilaffairs_orgunit u ON u.id = r.responsible_unit_id "
            "WHERE r.state = ANY(%s) AND r.deadline < %s ORDER BY r.deadline, r.id LIMIT 10",
            [open_states, today],
        ),
        (
            # The scorecards: per unit, orders, closed on time, overdue now.
            "SELECT responsible_unit_id, count(*), count(*) FILTER (WHERE state = 'verified' "  # nosec B608
            f"AND (closed_at AT TIME ZONE '{tz}')::date <= deadline), "
            "count(*) FILTER (WHERE state = ANY(%s) AND deadline < %s) "
            f"FROM rectification_rectification r WHERE {dispatched} GROUP BY 1",
            [open_states, today, at(since), upto(until)],
        ),
        (
            "SELECT count(*), count(*) FILTER (WHERE on_time) FROM reports_flashreport "  # nosec B608
            f"WHERE state IN ('signed', 'distributed') AND (found_at AT TIME ZONE '{tz}')::date "
            "BETWEEN %s AND %s",
            [since, until],
        ),
        (
            "SELECT count(*), count(*) FILTER (WHERE late) FROM reports_dailyreport "
            "WHERE day BETWEEN %s AND %s",
            [since, min(until, today)],
        ),
    ]


def case_dashboard(opts: Options) -> Case:
    from django.conf import settings
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from civilaffairs.choices import Role
    from reports import dashboard

    case = Case("dashboard", "Case 1: dashboard figures vs raw SQL aggregates")
    user = _user_with_role(Role.LEADER, city_wide=True)
    if user is None:
        case.status, case.reason = "not measured", "no city-wide leader in the database"
        return case
    runs = case.runs = opts.n(20)
    case.warmup = 1
    today = timezone.localdate()
    client = _client(user)
    api, page = reverse("api-dashboard"), reverse("reports:dashboard")
    counts = {}
    for preset in ("month", "year"):
        filters, _errors = dashboard.parse_filters(user, {"preset": preset})
        statements = _dashboard_sql(filters, today)

        def recompute(filters=filters):
            dashboard.build_dashboard(user, filters, today)

        def bare(statements=statements):
            with connection.cursor() as cursor:
                for sql, params in statements:
                    cursor.execute(sql, params)
                    cursor.fetchall()

        def get(url, preset=preset):
            response = client.get(url, {"preset": preset})
            if response.status_code != 200:
                raise RuntimeError(f"{url}: HTTP {response.status_code}")

        # The snapshot the 5-minute job keeps fresh (computed here once, before timing).
        dashboard.dashboard_for(user, filters, refresh=True)
        samples = sample(
            {
                "endpoint": lambda: get(api),
                "page": lambda: get(page),
                "recompute": recompute,
                "bare": bare,
            },
            runs,
            case.warmup,
        )
        with CaptureQueriesContext(connection) as captured:
            recompute()
        counts[preset] = len(captured)
        with CaptureQueriesContext(connection) as served_queries:
            get(api)
        span = f"{preset} ({filters.since} to {filters.until})"
        case.row(
            f"GET {api}?preset={preset} as served (fresh snapshot), {len(served_queries)} queries",
            samples["endpoint"],
        )
        case.row(
            f"GET {page}?preset={preset}, the page as served (fresh snapshot)", samples["page"]
        )
        case.row(
            f"build_dashboard cold recompute, leader `{user.username}`, {span}, "
            f"{counts[preset]} queries",
            samples["recompute"],
        )
        case.row(f"raw SQL aggregates, {preset} ({len(statements)} statements)", samples["bare"])
        bare_median = statistics.median(samples["bare"])
        case.check(
            f"ratio dashboard endpoint as served / raw SQL, {preset} (medians)",
            statistics.median(samples["endpoint"]) / bare_median,
            1.5,
            "{:.2f}",
        )
        case.check(
            f"dashboard endpoint p95 ms, {preset}", p95(samples["endpoint"]) * 1000, 150, "{:.1f}"
        )
        case.check(
            f"ratio cold recompute / raw SQL, {preset} (medians)",
            statistics.median(samples["recompute"]) / bare_median,
            1.5,
            "{:.2f}",
        )
        case.check(
            f"cold recompute p95 ms, {preset}", p95(samples["recompute"]) * 1000, 150, "{:.1f}"
        )
    client.logout()
    case.notes.append(
        f"**As served** is what a user gets: `{api}` (JSON) and the page read the "
        "DashboardSnapshot summary table through `dashboard_for`, which a Celery task refreshes "
        f"every 5 minutes for the views looked at recently; a snapshot may be up to "
        f"DASHBOARD_MAX_AGE = {settings.DASHBOARD_MAX_AGE} s old (the page says when it was "
        "computed). Only a view nobody has opened recently (or `?refresh=1`, rate-limited) "
        "pays the **cold recompute**."
    )
    case.notes.append(
        "The raw SQL is hand-written plain COUNT/FILTER/GROUP BY (GROUPING SETS for the "
        "breakdowns) over the same tables and indexes, without the visibility rules, with the "
        "same local-day ranges as the app's filters; the recompute ratio is the cost of the "
        "app's filterset-per-figure design (each figure is a list page's count, so figure and "
        "list cannot disagree) on top of the aggregates themselves."
    )
    return case


# --- case 2: list pages and API ----------------------------------------------------------------


def _list_variants(user) -> list[tuple[str, str, dict]]:
    from django.urls import reverse
    from django.utils import timezone

    from civilaffairs.choices import OrgKind
    from civilaffairs.models import OrgUnit
    from inspections.models import Finding
    from rectification.models import Rectification

    district = (
        OrgUnit.objects.visible_to(user)
        .filter(kind=OrgKind.DISTRICT_BUREAU)
        .order_by("code")
        .first()
    )
    today = timezone.localdate()
    since = (today - dt.timedelta(days=90)).isoformat()
    found = {"since": since, "until": today.isoformat()}
    sent = {"dispatched_from": since, "dispatched_to": today.isoformat()}
    per_district = {"district": district.pk} if district else {}
    f_last = max(1, math.ceil(Finding.objects.visible_to(user).count() / 50))
    o_last = max(1, math.ceil(Rectification.objects.visible_to(user).count() / 50))
    out = []
    for kind, page, api in (
        ("findings", reverse("inspections:finding-list"), reverse("api-finding-list")),
        ("orders", reverse("rectification:order-list"), reverse("api-rectification-list")),
    ):
        dates, state, last = (
            (found, "open", f_last) if kind == "findings" else (sent, "issued", o_last)
        )
        typical = {"state": state, **per_district, **dates}
        for surface, url in (("page", page), ("API", api)):
            out += [
                (f"{kind} {surface}, first page", url, {"page_size": 50}),
                (f"{kind} {surface}, state+district+dates", url, {"page_size": 50, **typical}),
                (f"{kind} {surface}, deep page {last}", url, {"page_size": 50, "page": last}),
            ]
        model, ordering = (
            (Finding, ["-found_at", "-id"])
            if kind == "findings"
            else (Rectification, ["deadline", "id"])
        )
        cursor = deep_cursor(model, ordering, user)
        if cursor:
            out.append(
                (
                    f"{kind} API, deep page by cursor (row {cursor[1]:,})",
                    api,
                    {"page_size": 50, "cursor": cursor[0]},
                )
            )
    return out


def deep_cursor(model, ordering, user, depth: float = 0.95):
    """The API's cursor for the rows after the one at ``depth`` of the list (found once with
    OFFSET, before timing), and that row's position; None for an empty list."""
    from civilaffairs.api.pagination import make_cursor, sort_key

    queryset = model.objects.visible_to(user).order_by(*ordering)
    position = int(queryset.count() * depth)
    row = queryset[position : position + 1].first()
    return (make_cursor(model, sort_key(queryset), row), position) if row else None


def case_lists(opts: Options) -> Case:
    from django.test.utils import CaptureQueriesContext

    from civilaffairs.choices import Role

    case = Case("lists", "Case 2: finding and order list pages and API (50 a page)")
    user = _user_with_role(Role.SUPERVISOR, city_wide=True) or _user_with_role(
        Role.SUPERVISOR, city_wide=False
    )
    if user is None:
        case.status, case.reason = "not measured", "no supervisor in the database"
        return case
    client = _client(user)
    runs = case.runs = opts.n(30)
    case.warmup = 2
    worst = {"typical": 0.0, "cursor": 0.0, "offset": 0.0}
    query_counts = {}
    for label, url, params in _list_variants(user):

        def get(url=url, params=params):
            response = client.get(url, params)
            if response.status_code != 200:
                raise RuntimeError(f"{url} {params}: HTTP {response.status_code}")

        samples = sample({"get": get}, runs, case.warmup)["get"]
        with CaptureQueriesContext(connection) as captured:
            get()
        query_counts[label] = len(captured)
        case.row(f"{label} ({len(captured)} queries)", samples)
        kind = "cursor" if "cursor" in params else "offset" if "page" in params else "typical"
        worst[kind] = max(worst[kind], p95(samples) * 1000)
    case.check(
        "worst p95 ms, first pages and typical filters (page and API)",
        worst["typical"],
        50,
        "{:.1f}",
    )
    if worst["cursor"]:
        case.check("worst p95 ms, API deep page by cursor", worst["cursor"], 50, "{:.1f}")
    case.notes.append(
        f"deep pages by number (OFFSET), no target: worst p95 {worst['offset']:.1f} ms; the API "
        "answers deep pages by cursor, the page lists are meant for the first pages"
    )
    by_surface: dict[str, set] = {}
    for label, n in query_counts.items():
        by_surface.setdefault(label.split(",")[0], set()).add(n)
    for surface, ns in by_surface.items():
        case.notes.append(
            f"query count, {surface}: {', '.join(str(n) for n in sorted(ns))} "
            f"({'constant' if len(ns) == 1 else 'varies with filters/page'} across the variants)"
        )
    case.notes.append(
        f"Django test Client in-process, logged in as supervisor `{user.username}` (sessions, "
        "middleware, templates and serializers included; no network). `deep page N` is the "
        "last page by number (OFFSET: the database reads and drops every row before it); "
        "`deep page by cursor` is the API's keyset pagination (`?cursor=`, see "
        "civilaffairs/api/pagination.py) at 95 % of the list, which is what a client walking "
        "the list uses."
    )
    return case


# --- case 3: Excel export ----------------------------------------------------------------------


def _finding_ledger_rows(user, size: int):
    from django.test import RequestFactory
    from django.urls import reverse

    from inspections.views import FindingListView

    request = RequestFactory().get(reverse("inspections:finding-list"))
    request.user = user
    view = FindingListView()
    view.setup(request)
    columns = view.export_columns()
    rows = list(view.export_rows(view.export_queryset(), columns))
    headers = [str(c.label) for c in columns]
    if not rows:
        return headers, [], 0
    real = len(rows)
    return headers, [rows[n % real] for n in range(size)], real


def _bare_xlsx(path, title, headers, rows):
    import xlsxwriter

    book = xlsxwriter.Workbook(
        path,
        {
            "constant_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "remove_timezone": True,
        },
    )
    sheet = book.add_worksheet(title)
    date_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, headers)
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(r, c, value, date_format)
            else:
                sheet.write(r, c, value)
    book.close()


def case_excel(opts: Options) -> Case:
    from civilaffairs.choices import Role
    from civilaffairs.exports import Sheet, write_workbook

    size = 2_000 if opts.quick else 100_000
    case = Case("excel", f"Case 3: Excel export of {size:,} rows vs bare XlsxWriter")
    user = _user_with_role(Role.SUPERVISOR, city_wide=True)
    if user is None:
        case.status, case.reason = "not measured", "no city-wide supervisor in the database"
        return case
    headers, rows, real = _finding_ledger_rows(user, size)
    if not rows:
        case.status, case.reason = "not measured", "no findings to export"
        return case
    runs = case.runs = opts.n(3, 2)
    case.warmup = 1
    tmp = tempfile.mkdtemp(prefix="bench-xlsx-")
    try:
        app_path, bare_path = Path(tmp, "app.xlsx"), Path(tmp, "bare.xlsx")

        def app():
            write_workbook(str(app_path), [Sheet("问题台账", headers, iter(rows))])

        def bare():
            _bare_xlsx(str(bare_path), "问题台账", headers, rows)

        samples = sample({"app": app, "bare": bare}, runs, case.warmup)
        case.row("civilaffairs.exports.write_workbook (findings ledger rows)", samples["app"])
        case.row("XlsxWriter constant_memory, same rows, write()/write_datetime()", samples["bare"])
        peaks = {}
        for name, fn in (("app", app), ("bare", bare)):
            gc.collect()
            tracemalloc.start()
            fn()
            peaks[name] = tracemalloc.get_traced_memory()[1] / 2**20
            tracemalloc.stop()
        ratio = statistics.median(samples["app"]) / statistics.median(samples["bare"])
        case.check("ratio write_workbook / bare XlsxWriter (medians)", ratio, 1.3, "{:.2f}")
        case.notes.append(
            f"peak traced memory (tracemalloc, one run each, rows already in memory): "
            f"write_workbook {peaks['app']:.2f} MiB, bare XlsxWriter {peaks['bare']:.2f} MiB; "
            f"files {app_path.stat().st_size / 2**20:.1f} MiB and "
            f"{bare_path.stat().st_size / 2**20:.1f} MiB"
        )
        case.notes.append(
            f"{len(headers)} columns; the {real} findings of the database's ledger (as "
            f"FindingListView.export_rows gives them to a city-wide supervisor) repeated to "
            f"{size:,} rows, prepared in memory before timing. Fetching the rows from the "
            "database is not in either side (bench_ledger measures the whole background job)."
        )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return case


# --- case 4: PDFs ------------------------------------------------------------------------------


def case_pdf(opts: Options) -> Case:
    from weasyprint import HTML

    from civilaffairs.pdf import configure_fonts
    from reports.digest import digest_html, render_digest_pdf
    from reports.flash_pdf import flash_pdf_bytes, render_document
    from reports.management.commands.bench_digest_pdf import sample_data
    from reports.management.commands.bench_flash_pdf import sample_report

    case = Case("pdf", "Case 4: flash-report PDF and digest PDF vs bare WeasyPrint")
    configure_fonts()
    runs = case.runs = opts.n(10, 2)
    case.warmup = 1
    report = sample_report()
    flash_html = render_document(report, [])
    flash = sample(
        {
            "app": lambda: flash_pdf_bytes(report, readers=[]),
            "bare": lambda: HTML(string=flash_html).write_pdf(),
        },
        runs,
        case.warmup,
    )
    case.row("reports.flash_pdf.flash_pdf_bytes (template + PDF)", flash["app"])
    case.row("weasyprint.HTML(string=html).write_pdf(), same HTML", flash["bare"])
    ratio = statistics.median(flash["app"]) / statistics.median(flash["bare"])
    case.check("ratio flash PDF / bare WeasyPrint (medians)", ratio, 1.2, "{:.2f}")

    import io

    import pypdf

    units = 20 if opts.quick else 230
    data = sample_data(units)
    html = digest_html(data)  # exactly what render_digest_pdf lays out
    pages = len(pypdf.PdfReader(io.BytesIO(render_digest_pdf(data))).pages)
    digest_runs = opts.n(3, 1)
    digest = sample(
        {
            "app": lambda: render_digest_pdf(data),
            "bare": lambda: HTML(string=html).write_pdf(),
        },
        digest_runs,
        1,
    )
    case.row(f"reports.digest.render_digest_pdf, {pages} pages ({units} units)", digest["app"])
    case.row("weasyprint.HTML(string=html).write_pdf(), same HTML", digest["bare"])
    ratio = statistics.median(digest["app"]) / statistics.median(digest["bare"])
    case.check(f"ratio {pages}-page digest / bare WeasyPrint (medians)", ratio, 1.2, "{:.2f}")
    case.notes.append(
        f"digest: N = {digest_runs} runs (1 warm-up excluded). Content from the bench_flash_pdf "
        "and bench_digest_pdf samples (no database); the app side includes its template "
        "rendering, the bare side gets the HTML already rendered."
    )
    return case


# --- case 5: deadline scan and the daily digest ------------------------------------------------


def case_jobs(opts: Options) -> Case:
    from django.utils import timezone

    from rectification import alerts
    from rectification.models import Rectification
    from reports.digest import digest_data, render_digest_pdf, render_digest_xlsx
    from reports.models import SensitivePeriod

    case = Case("jobs", "Case 5: deadline scan and daily digest build")
    runs = case.runs = opts.n(3, 1)
    case.warmup = 1
    today = timezone.localdate()
    open_orders = Rectification.objects.open().count()
    sent = {}

    def scan():
        sent.update(rolled_back(lambda: alerts.deadline_scan(today)) or {})

    samples = sample({"scan": scan}, runs, case.warmup)["scan"]
    case.row(f"deadline_scan({today}), {open_orders} open orders, rolled back", samples)
    case.check("deadline scan p95 s", p95(samples), 30, "{:.2f}")
    case.notes.append(
        f"deadline scan: each run in its own rolled-back transaction (alerts and notifications "
        f"not kept); alerts it would send: {dict(sent) or 'none'}"
        + (
            ""
            if alerts_workday(today)
            else " — today is not a working day: the scan returns at once"
        )
    )

    period = SensitivePeriod.objects.order_by("-start_date", "-pk").first()
    if period is None:
        case.notes.append("daily digest: not measured — no sensitive period in the database")
        return case
    day = min(max(today, period.start_date), period.end_date)
    as_of = timezone.now()
    box = {}

    def build():
        data = digest_data(period, day, as_of)
        render_digest_pdf(data)
        render_digest_xlsx(data)
        box["units"] = len(data["rows"])

    build_samples = sample({"build": build}, runs, 1)["build"]
    units = box.get("units", 0)
    case.row(
        f"daily digest build (digest_data + PDF + Excel), period {period.pk}, {day}, {units} units",
        build_samples,
    )
    case.check(
        f"daily digest p95 s ({units} units; target stated for 1,000)",
        p95(build_samples),
        10,
        "{:.2f}",
    )
    case.notes.append(
        "daily digest: what build_digest does apart from storing the files and notifying "
        "(read-only, nothing kept)."
    )
    return case


def alerts_workday(day) -> bool:
    from rectification.alerts import _Counter

    try:
        return _Counter(day, []).calendar.is_workday(day)
    except Exception:
        return True


# --- case 6: photo upload ----------------------------------------------------------------------


def noisy_jpeg(width: int, height: int, target_bytes: int, seed: int) -> bytes:
    """A photo-like JPEG: smooth gradients plus coarse and fine noise, the quality chosen so
    the file is near ``target_bytes``."""
    import io
    import random

    from PIL import Image, ImageFilter

    # Repeatable generated data, not secrets (bandit B311).
    rng = random.Random(seed)  # nosec B311
    small = Image.new("RGB", (64, 48))
    small.putdata([tuple(rng.randrange(256) for _c in range(3)) for _p in range(64 * 48)])
    base = small.resize((width, height), Image.BICUBIC).filter(ImageFilter.GaussianBlur(4))
    noise = Image.effect_noise((width, height), 40).convert("RGB")
    image = Image.blend(base, noise, 0.18)
    best = b""
    low, high = 30, 95
    for _step in range(6):
        quality = (low + high) // 2
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=quality)
        data = buffer.getvalue()
        if not best or abs(len(data) - target_bytes) < abs(len(best) - target_bytes):
            best = data
        if len(data) > target_bytes:
            high = quality - 1
        else:
            low = quality + 1
    return best


def case_photos(opts: Options) -> Case:
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.urls import reverse
    from django.utils import timezone

    from inspections.models import Photo, Visit

    case = Case("photos", "Case 6: photo upload through the API (three photos)")
    visit = (
        Visit.objects.filter(inspectors__isnull=False, plan__isnull=False)
        .order_by("-state", "pk")
        .first()
    )
    if visit is None:
        case.status, case.reason = "not measured", "no visit with an inspector in the database"
        return case
    inspector = visit.inspectors.order_by("pk").first()
    size, target = ((1600, 1200), 300_000) if opts.quick else ((4000, 3000), 2_000_000)
    photos = [noisy_jpeg(*size, target, seed) for seed in range(3)]
    runs = case.runs = opts.n(5, 1)
    case.warmup = 1
    samples: list[float] = []
    url = reverse("api-photo-list")

    def upload_three(record: bool):
        def run():
            Visit.objects.filter(pk=visit.pk).update(state="in_progress", started_at=timezone.now())
            client = _client(inspector)
            before = set(Photo.objects.filter(visit=visit).values_list("pk", flat=True))
            try:
                for n, content in enumerate(photos):
                    upload = SimpleUploadedFile(f"IMG_{n}.jpg", content, content_type="image/jpeg")
                    started = time.perf_counter()
                    response = client.post(url, {"visit": visit.pk, "file": upload})
                    elapsed = time.perf_counter() - started
                    if response.status_code not in (200, 201):
                        raise RuntimeError(
                            f"photo upload: HTTP {response.status_code} {response.content[:300]!r}"
                        )
                    if record:
                        samples.append(elapsed)
            finally:
                for photo in Photo.objects.filter(visit=visit).exclude(pk__in=before):
                    for stored in (photo.file, photo.thumbnail):
                        if stored:
                            stored.storage.delete(stored.name)

        rolled_back(run)

    started = time.perf_counter()
    for _n in range(case.warmup):
        upload_three(record=False)
    for _n in range(runs):
        upload_three(record=True)
    case.seconds = time.perf_counter() - started
    case.row(
        f"POST {url} one photo {size[0]}×{size[1]} JPEG "
        f"(~{statistics.mean(len(p) for p in photos) / 2**20:.2f} MiB)",
        samples,
    )
    case.check("photo upload p95 ms", p95(samples) * 1000, 500, "{:.0f}")
    case.notes.append(
        f"N = {runs} runs × 3 photos = {len(samples)} samples; inspector `{inspector.username}` "
        f"on visit {visit.pk} (set in progress inside a rolled-back transaction; the stored "
        "files are deleted). Time of the test Client's POST: the server's work (checks, decode, "
        "re-encode, thumbnail, hash, storage) plus the in-process multipart encoding."
    )
    return case


# --- case 7: load with wrk ---------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def case_load(opts: Options) -> Case:
    from django.conf import settings
    from django.urls import reverse

    from civilaffairs.choices import Role

    case = Case("load", "Case 7: load — finding list API under wrk against gunicorn")
    wrk = shutil.which("wrk")
    if opts.quick:
        case.status, case.reason = "not measured", "skipped in --quick mode"
        return case
    if wrk is None:
        case.status, case.reason = "not measured", "wrk missing (apt-get install wrk)"
        return case
    if not Path(sys.executable).with_name("gunicorn").exists():
        case.status, case.reason = "not measured", "gunicorn missing from the virtualenv"
        return case
    user = _user_with_role(Role.SUPERVISOR, city_wide=True)
    if user is None:
        case.status, case.reason = "not measured", "no city-wide supervisor in the database"
        return case
    from civilaffairs.bench_load import SERVER, cpu_seconds, gunicorn, wait_ready

    client = _client(user)  # a committed session (the suite does not run in a transaction here)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    path = f"{reverse('api-finding-list')}?page_size=50"
    try:
        with gunicorn() as (server, base):
            url = base + path
            wait_ready(server, url, cookie)

            header = f"Cookie: {cookie}"

            def load(seconds):
                # An argument list without a shell, programs of this machine (bandit B603).
                return subprocess.run(  # nosec B603
                    [wrk, "-t2", "-c8", f"-d{seconds}s", "--latency", "-H", header, url],
                    capture_output=True,
                    text=True,
                    timeout=60,
                ).stdout

            load(3)  # warm-up: every worker and thread has answered before the measurement
            # Three runs: on a shared machine one 10 s run has come out anywhere from half to
            # the whole of the others; the check takes the median run.
            before = cpu_seconds(server.pid)
            outputs = [load(10) for _run in range(LOAD_RUNS)]
            after = cpu_seconds(server.pid)
    finally:
        client.logout()
    runs = sorted((_wrk_value(out, "Requests/sec:"), out) for out in outputs)
    rps, output = runs[len(runs) // 2]
    errors = sum(_wrk_errors(out) for out in outputs)
    latency = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] in ("50%", "90%", "99%"):
            latency[parts[0]] = parts[1]
    case.status = "measured"
    case.runs, case.warmup = LOAD_RUNS, 1
    case.check(
        "requests/s, finding list API (50 a page)", rps, 250, "{:.0f}", higher_is_better=True
    )
    case.check("errors (non-2xx and socket errors)", float(errors), 0, "{:.0f}")
    served = sum(_wrk_requests(out) for out in outputs)
    if before and after and served:
        server_ms = (after[0] - before[0]) / served * 1000
        database_ms = (after[1] - before[1]) / served * 1000
        case.notes.append(
            f"CPU per request over the {LOAD_RUNS} runs ({served} requests, from /proc): "
            f"gunicorn {server_ms:.1f} ms, PostgreSQL {database_ms:.1f} ms. With the server "
            f"alone on two cores that is at most {2000 / server_ms:.0f} requests/s; wrk and "
            "PostgreSQL took the rest of the cores here."
        )
    case.notes.append(
        f"wrk -t2 -c8 -d10s, {LOAD_RUNS} runs after a 3 s warm-up run, on {path} with a "
        f"supervisor's session (`{user.username}`), gunicorn {SERVER}, DEBUG off, same "
        "database; the server, wrk and PostgreSQL share the machine's cores. Requests/s of "
        "the runs: " + ", ".join(f"{value:.0f}" for value, _out in runs) + "; the median "
        "run's latency " + ", ".join(f"{k} {v}" for k, v in latency.items()) + "; errors "
        "summed over the runs."
    )
    case.notes.append("mixed workload (mobile submissions, lists, dashboard): Case 9")
    return case


LOAD_RUNS = 3


def _wrk_requests(output: str) -> int:
    """Requests wrk completed ("N requests in …")."""
    for line in output.splitlines():
        parts = line.split()
        if len(parts) > 2 and parts[1] == "requests" and parts[2] == "in":
            return int(parts[0])
    return 0


def _wrk_errors(output: str) -> int:
    """Non-2xx answers and socket errors that wrk reports."""
    errors = 0
    for line in output.splitlines():
        stripped = line.strip()
        if stripped.startswith("Non-2xx or 3xx responses:"):
            errors += int(stripped.split(":")[1])
        if stripped.startswith("Socket errors:"):
            errors += sum(int(p.split()[-1]) for p in stripped.split(":", 1)[1].split(","))
    return errors


def _wrk_value(output: str, label: str) -> float:
    for line in output.splitlines():
        if line.strip().startswith(label):
            return float(line.split(":")[1].strip())
    raise RuntimeError(f"wrk printed no {label!r}: {output[-500:]}")


CASES: dict[str, Callable[[Options], Case]] = {
    "dashboard": case_dashboard,
    "lists": case_lists,
    "excel": case_excel,
    "pdf": case_pdf,
    "jobs": case_jobs,
    "photos": case_photos,
    "load": case_load,
    "plans": lambda opts: _lazy("civilaffairs.bench_plans", "case_plans")(opts),
    "mixed": lambda opts: _lazy("civilaffairs.bench_load", "case_mixed")(opts),
}


def _lazy(module: str, name: str):
    import importlib

    return getattr(importlib.import_module(module), name)


TITLES = {
    "dashboard": "Case 1: dashboard figures vs raw SQL aggregates",
    "lists": "Case 2: finding and order list pages and API (50 a page)",
    "excel": "Case 3: Excel export vs bare XlsxWriter",
    "pdf": "Case 4: flash-report PDF and digest PDF vs bare WeasyPrint",
    "jobs": "Case 5: deadline scan and daily digest build",
    "photos": "Case 6: photo upload through the API (three photos)",
    "load": "Case 7: load — finding list API under wrk against gunicorn",
    "plans": "Case 8: EXPLAIN (ANALYZE, BUFFERS) of the top queries",
    "mixed": "Case 9: mixed workload — mobile submissions, lists, dashboard under wrk (gunicorn)",
}


def run_case(key: str, opts: Options) -> Case:
    started = time.perf_counter()
    try:
        case = CASES[key](opts)
        if case.status == "not implemented" and (case.rows or case.checks):
            case.status = "measured"
    except Exception as error:
        case = Case(key, TITLES[key], status="error", reason=f"{type(error).__name__}: {error}")
    if not case.seconds:
        case.seconds = time.perf_counter() - started
    return case


def render(cases: list[Case], info: dict, counts: list, opts: Options, seconds: float) -> str:
    count_map = dict(counts)
    out = [
        "# BENCHMARKS",
        "",
        f"Written by `manage.py bench{' --quick' if opts.quick else ''}` on "
        f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC in {seconds:.0f} s. "
        "Re-run with `make bench`.",
        "",
        "> **Noise.** These timings come from a 2-core machine on which the server, "
        "PostgreSQL and the load generator share the cores, and on which the suite does not "
        "control what else runs (the load averages at the start, under Machine, and at the "
        "end, under Summary, tell how busy it was); treat absolute times as indicative. Each "
        "ratio compares two operations measured interleaved in the same run, so it is less "
        "affected than the absolute times.",
        "",
        f"> **Dataset.** This run used {dataset_label(count_map)}.",
        "",
        "## Machine",
        "",
    ]
    out += [f"- {k}: {v}" for k, v in info.items()]
    out += ["", "## Dataset", "", "| table | rows |", "|---|---:|"]
    out += [f"| {label} | {'—' if n is None else f'{n:,}'} |" for label, n in counts]
    out += ["", "## Summary", "", "| case | status | checks |", "|---|---|---|"]
    for case in cases:
        checks = "; ".join(f"{w}: {v} ({t}) **{verdict}**" for w, v, t, verdict in case.checks)
        out.append(f"| {case.title} | {case.status} | {checks or case.reason} |")
    out += [
        "",
        "Method: `time.perf_counter`; warm-up runs excluded; median and p95 (nearest rank) "
        "from the sorted samples; the app operation and its bare counterpart interleaved; "
        "DEBUG off; the in-process cases run in a process settled as each server worker "
        "settles itself (civilaffairs.wsgi: URLconf loaded, start-up objects frozen out of "
        "the garbage collector's full passes). PASS/GAP compares with the issue's target, "
        "which is stated at city scale.",
        "",
    ]
    if hasattr(os, "getloadavg"):
        out += [
            "Load average at the end (1/5/15 min): "
            + " / ".join(f"{v:.2f}" for v in os.getloadavg())
            + ".",
            "",
        ]
    from civilaffairs.bench_gaps import gap_lines

    out += gap_lines(cases)
    for case in cases:
        out += case.lines()
    return "\n".join(out).rstrip() + "\n"
