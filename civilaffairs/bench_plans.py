"""The query plans section of BENCHMARKS.md (issue #8 item 3): the slowest statements of the
dashboard, the finding and order lists (page and API, typical filters, a deep cursor page), the
deadline scan and the daily digest, each with its ``EXPLAIN (ANALYZE, BUFFERS)``.

The statements are captured while the real operation runs (Django's CaptureQueriesContext, so
the text is exactly what was sent), then each SELECT is explained inside a transaction that is
rolled back."""

import time
from collections.abc import Callable

from django.db import connection
from django.test.utils import CaptureQueriesContext


def captured(fn: Callable) -> list[tuple[str, float]]:
    """The statements ``fn`` ran, with their time in ms, slowest first."""
    with CaptureQueriesContext(connection) as queries:
        fn()
    out = [(q["sql"], float(q["time"]) * 1000) for q in queries.captured_queries]
    return sorted(out, key=lambda item: -item[1])


def explain(sql: str) -> str:
    from civilaffairs.benchmarks import rolled_back

    def run():
        with connection.cursor() as cursor:
            # The text Django itself sent a moment before, not user input.
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql.replace("%", "%%"))  # nosec B608
            return "\n".join(row[0] for row in cursor.fetchall())

    return rolled_back(run)


def _short(sql: str, limit: int = 600) -> str:
    return sql if len(sql) <= limit else sql[:limit] + " …"


def operations(quick: bool) -> list[tuple[str, Callable, int]]:
    """(label, operation, how many of its slowest statements to explain)."""
    from django.urls import reverse
    from django.utils import timezone

    from civilaffairs.benchmarks import _client, _list_variants, _user_with_role
    from civilaffairs.choices import Role
    from reports import dashboard
    from reports.models import SensitivePeriod

    out = []
    leader = _user_with_role(Role.LEADER, city_wide=True)
    if leader is not None:
        filters, _e = dashboard.parse_filters(leader, {"preset": "month"})
        out.append(
            (
                "dashboard recompute (build_dashboard, month, city-wide leader)",
                lambda: dashboard.build_dashboard(leader, filters),
                3,
            )
        )
    supervisor = _user_with_role(Role.SUPERVISOR, city_wide=True)
    if supervisor is not None:
        client = _client(supervisor)
        variants = {label: (url, params) for label, url, params in _list_variants(supervisor)}
        for label in (
            "findings page, first page",
            "findings API, state+district+dates",
            "orders page, first page",
            "orders API, state+district+dates",
        ):
            if label in variants:
                url, params = variants[label]
                out.append((label, lambda url=url, params=params: client.get(url, params), 2))
        from civilaffairs.benchmarks import deep_cursor
        from inspections.models import Finding
        from rectification.models import Rectification

        for name, api, model, ordering in (
            ("findings", "api-finding-list", Finding, ["-found_at", "-id"]),
            ("orders", "api-rectification-list", Rectification, ["deadline", "id"]),
        ):
            cursor = deep_cursor(model, ordering, supervisor)
            if cursor:
                out.append(
                    (
                        f"{name} API, deep page by cursor (row {cursor[1]:,})",
                        lambda api=api, cursor=cursor[0]: client.get(
                            reverse(api), {"page_size": 50, "cursor": cursor}
                        ),
                        1,
                    )
                )
    from rectification.models import Rectification

    today = timezone.localdate()
    # The deadline scan's reads, as deadline_scan makes them (the scan itself, minutes of
    # per-order alert writes at city scale, is timed in Case 5).
    orders = Rectification.objects.open().select_related(
        "responsible_unit", "responsible_person", "created_by", "supervising_department"
    )
    out.append(
        (
            "deadline scan reads (open orders' deadlines; first chunk of open orders)",
            lambda: (
                set(orders.values_list("deadline", flat=True).distinct()),
                list(orders[:500]),
            ),
            2,
        )
    )
    period = SensitivePeriod.objects.order_by("-start_date", "-pk").first()
    if period is not None:
        from reports.digest import digest_data

        day = min(max(today, period.start_date), period.end_date)
        out.append(
            (
                "daily digest data",
                lambda: digest_data(period, day, timezone.now()),
                2,
            )
        )
    return out


def case_plans(opts):
    from civilaffairs.benchmarks import Case

    case = Case("plans", "Case 8: EXPLAIN (ANALYZE, BUFFERS) of the top queries")
    started = time.perf_counter()
    blocks: list[str] = []
    for label, fn, top in operations(opts.quick):
        fn()  # warm
        statements = [s for s in captured(fn) if s[0].lstrip().upper().startswith("SELECT")]
        total = sum(ms for _sql, ms in statements)
        blocks += [f"### {label}", "", f"{len(statements)} SELECT statements, {total:.1f} ms."]
        for sql, ms in statements[:top]:
            plan = explain(sql)
            case.rows.append((f"{label}: statement of {ms:.1f} ms", ms, ms))
            blocks += ["", f"{ms:.1f} ms: `{_short(sql)}`", "", "```", plan, "```"]
        blocks.append("")
    case.status = "measured"
    case.runs, case.warmup = 1, 1
    case.seconds = time.perf_counter() - started
    case.notes.append(
        "Each operation run once to warm the cache, then once with its statements captured; "
        "the slowest SELECTs are explained (the plan's own timing is a third run). Median and "
        "p95 above are that one capture (N = 1)."
    )
    case.extra = blocks
    return case
