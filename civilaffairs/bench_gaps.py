"""Why a benchmark target is missed and what is planned, for the "Gaps" section of
BENCHMARKS.md: each GAP verdict is listed with the note whose prefix its check starts with.
Keep these in step with what the suite measures (issue #8: "each target met, or the gap stated
with the reason and the plan")."""

# (check prefix, reason, plan)
GAPS = [
    (
        "ratio dashboard endpoint as served",
        "The snapshot read is a handful of small queries plus JSON of a few hundred figures; on a "
        "small dataset the raw aggregates themselves take only milliseconds, so a constant few "
        "milliseconds of request handling dominate the ratio.",
        "None needed at city scale, where the raw SQL takes seconds; on small data the absolute "
        "p95 is what matters.",
    ),
    (
        "dashboard endpoint p95",
        "The request shares two cores with PostgreSQL and other engineers' work; the snapshot "
        "read itself is a few queries.",
        "Re-measure on an idle machine; the work per request does not grow with the data.",
    ),
    (
        "ratio cold recompute",
        "Every figure is computed by its list's own FilterSet over visible_to(user) so that a "
        "figure and the list it links to can never disagree: about 40 queries, several of which "
        "scan the same hundreds of thousands of findings or orders that the 16 hand-written "
        "statements read once with GROUPING SETS.",
        "Users are served the DashboardSnapshot summary table (see the 'as served' rows: within "
        "target). Next: a per-day summary table (findings and orders per day × unit × bottom "
        "line × severity × state, kept by the timeline queue) from which the recompute reads "
        "days instead of rows, and merging the per-figure counts of one table into one "
        "statement with FILTER clauses.",
    ),
    (
        "cold recompute p95",
        "At 1M findings a year's aggregates read about half of each large table; the same "
        "statements by hand take seconds too (the raw SQL row), so 150 ms is out of reach of any "
        "recompute over rows.",
        "The target is met as served (snapshot); the per-day summary table above would bring "
        "the recompute itself to the order of the number of days × units.",
    ),
    (
        "worst p95 ms, first pages",
        "The count and the unit select are no longer the cost (typical filters are counted by "
        "an index-only scan on (unit, state, found_at); the units above the institutions come "
        "from a partial index): what is left is Python — 50 rows of nine cells and a filter bar "
        "of up to 500 choices — on cores shared with PostgreSQL. The same request measured a "
        "median of 49 to 76 ms in runs minutes apart on this machine (its CPU time per request "
        "varied as much), so a few milliseconds over the target is within that spread.",
        "Cache the filter bar's choices per visibility scope (invalidated when units or plans "
        "change) and re-measure with the server on cores of its own.",
    ),
    (
        "worst p95 ms, API deep page by cursor",
        "The keyset query itself takes well under a millisecond (Case 8 plans); the rest is "
        "request handling on a loaded machine.",
        "Re-measure on an idle machine.",
    ),
    (
        "requests/s, finding list API",
        "The rate is bound by CPU per request (the case's note, read from /proc). The list is "
        "read as values, without model instances, and an unfiltered request builds no "
        "FilterSet; still, about 6 ms of the server's CPU is fixed per request (a one-row page "
        "measured 5.9-6.5 ms and 228-254 requests/s here: session, CSRF, authentication, the "
        "two-factor gate and security headers, DRF's dispatch, two statements compiled) and "
        "the 50 rows add about 4 ms. 250 requests/s on two cores leaves 8 ms per request for "
        "gunicorn, PostgreSQL and wrk together.",
        "Keep the session and the user's role assignments in Redis (invalidated when they "
        "change), skip the page-only middleware for API calls, and measure with the server on "
        "cores of its own (the note gives the rate its CPU per request allows).",
    ),
    (
        "p95 ms, mixed workload",
        "The mix includes page renders and finding submissions (a write, a repeat check and a "
        "timeline entry each) queued behind two sync workers on cores shared with wrk and "
        "PostgreSQL.",
        "As for the list endpoint: lighter list serialisation, gthread workers, the server on "
        "its own cores.",
    ),
    (
        "errors",
        "Some requests failed under load (see the case's notes for the status).",
        "Look at the gunicorn log of a re-run; no request may answer 500.",
    ),
    (
        "deadline scan",
        "The scan is set-based (a few statements per 2,000 orders); what is left is writing the "
        "day's notifications (about 240,000 rows for 70,000 alerts at city scale).",
        "Queue one digest notification per person and day for the lower rungs instead of one per "
        "order, if the bureau agrees.",
    ),
    (
        "daily digest",
        "WeasyPrint lays out about 8 pages a second here; the PDF of a thousand-unit day lists "
        "the units needing attention, the abnormal lines and up to 100 new findings and 100 "
        "overdue orders (about 20 pages).",
        "Lower DIGEST_PDF_FINDINGS_LIMIT, or build the PDF in the background as the daily task "
        "already does (the build is a Celery task; nobody waits on it).",
    ),
    (
        "photo upload",
        "Decoding, re-encoding and thumbnailing a 12-megapixel photo is CPU work on a shared core.",
        "Re-measure on an idle machine; thumbnails could move to a background task.",
    ),
    (
        "ratio 20-page digest",
        "The app side adds its template rendering (230 units' tables) to WeasyPrint's layout, "
        "about 10–20 % of the time; with N = 3 runs of several seconds on a shared machine the "
        "ratio moves by a few hundredths from run to run (1.14 on the demo run).",
        "Render the digest's tables with a compiled, loop-light template (one row partial) and "
        "re-measure with more runs on an idle machine.",
    ),
    (
        "ratio flash PDF",
        "Template rendering on top of WeasyPrint, measured on a shared machine.",
        "Re-measure with more runs on an idle machine.",
    ),
    (
        "ratio write_workbook",
        "The ledger writer's per-cell typing (text for typed input, dates as dates) on top of "
        "XlsxWriter.",
        "Profile write_workbook's cell loop.",
    ),
    (
        "ratio",
        "See the case's notes.",
        "See the case's notes.",
    ),
]


def gap_lines(cases) -> list[str]:
    out = []
    for case in cases:
        for what, value, target, verdict in case.checks:
            if verdict != "GAP":
                continue
            note = next((g for g in GAPS if what.startswith(g[0])), None)
            reason, plan = (note[1], note[2]) if note else ("See the case's notes.", "—")
            out.append(
                f"- **{case.title.split(':')[0]} — {what}: {value} (target {target}).** "
                f"Reason: {reason} Plan: {plan}"
            )
    if not out:
        return []
    return ["## Gaps: reasons and plans", "", *out, ""]
