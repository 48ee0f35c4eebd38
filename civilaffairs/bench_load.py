"""The mixed-workload case of ``manage.py bench`` (issue #8): wrk against gunicorn with a Lua
script that rotates over list API and page requests, the dashboard as served, a deep page by
cursor, and inspectors' mobile submissions (a new finding POSTed with a fresh client UUID, as
the phone's sync queue sends it). The findings it creates are deleted afterwards (with their
timeline entries): the database is left as found."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from contextlib import contextmanager
from pathlib import Path

# The subprocesses are our own gunicorn and wrk, on the loopback interface.
# ruff: noqa: S603, S310

LUA = r"""
local threads = 0
local counter = 0
local visit = @@VISIT@@

function setup(thread)
  -- runs in the main state: number the threads, so that each seeds its own UUIDs
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  math.randomseed(os.time() * 100 + (thread_number or 0))
end

local function uuid()
  return (string.gsub("xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx", "[xy]", function (c)
    local v = (c == "x") and math.random(0, 15) or math.random(8, 11)
    return string.format("%x", v)
  end))
end

local reads = {
@@READS@@
}

local post_headers = {
  ["Cookie"] = "@@INSPECTOR_COOKIE@@",
  ["X-CSRFToken"] = "@@CSRF@@",
  ["Content-Type"] = "application/json",
}

function request()
  counter = counter + 1
  -- every third request is a mobile submission
  if counter % 3 == 0 then
    local body = '{"client_uuid": "' .. uuid() .. '", "visit": ' .. visit ..
      ', "title": "压测：楼道堆放杂物", "bottom_line": "safety", "category": "fire_hazard",' ..
      ' "severity": "general", "disposition": "rectify_by_deadline"}'
    return wrk.format("POST", "@@FINDINGS_URL@@", post_headers, body)
  end
  local path = reads[(counter % #reads) + 1]
  return wrk.format("GET", path, {["Cookie"] = "@@READER_COOKIE@@"})
end

function done(summary, latency, requests)
  io.write(string.format("MIXED requests %d\n", summary.requests))
  io.write(string.format("MIXED seconds %.3f\n", summary.duration / 1e6))
  for _, p in ipairs({50, 90, 95, 99}) do
    io.write(string.format("MIXED p%d %.3f\n", p, latency:percentile(p) / 1000))
  end
  local e = summary.errors
  io.write(string.format("MIXED errors %d\n", e.connect + e.read + e.write + e.status + e.timeout))
end
"""


# The worker model of the production image (Dockerfile CMD): 3 processes × 4 threads, which
# overlap one request's database waits with another's Python.
WORKERS, THREADS = 3, 4
SERVER = f"{WORKERS} workers × {THREADS} threads (gthread, as the image runs it)"


@contextmanager
def gunicorn(workers: int = WORKERS, threads: int = THREADS):
    """Our own gunicorn on a free loopback port, DEBUG off; stopped (its process group) on
    exit. Yields (the process, the base URL)."""
    from django.conf import settings

    from civilaffairs.benchmarks import _free_port

    binary = Path(sys.executable).with_name("gunicorn")
    port = _free_port()
    # gunicorn beside this Python, a fixed argument list: no input of anyone's reaches it.
    server = subprocess.Popen(  # nosec B603
        [
            str(binary),
            "civilaffairs.wsgi",
            *("-w", str(workers), "--threads", str(threads), "-b", f"127.0.0.1:{port}"),
            *("--log-level", "warning"),
        ],
        cwd=settings.BASE_DIR,
        env={**os.environ, "DEBUG": "0"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        yield server, f"http://127.0.0.1:{port}"
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def cpu_seconds(server_pid: int) -> tuple[float, float] | None:
    """CPU time (user + system, seconds) used so far by the gunicorn ``server_pid`` and its
    workers, and by every PostgreSQL process of this machine, read from /proc (None elsewhere).
    The difference over a run divided by the requests served is each side's CPU per request,
    which, unlike requests/s, does not depend on what else the shared cores were doing."""
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return None
    tick = os.sysconf("SC_CLK_TCK")
    server = database = 0
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            command = (entry / "cmdline").read_bytes().split(b"\0", 1)[0]
        except OSError:  # the process ended meanwhile
            continue
        # After the command name: state, ppid, …; utime and stime are the 12th and 13th.
        used = int(fields[11]) + int(fields[12])
        if int(entry.name) == server_pid or int(fields[1]) == server_pid:
            server += used
        elif command.startswith(b"postgres"):
            database += used
    return server / tick, database / tick


def wait_ready(server, url: str, cookie: str, seconds: float = 60):
    deadline = time.monotonic() + seconds
    while True:
        try:
            request = urllib.request.Request(url, headers={"Cookie": cookie})
            # The benchmark's own http://127.0.0.1 server.
            with urllib.request.urlopen(request, timeout=10) as answer:  # nosec B310
                if answer.status == 200:
                    return
        except Exception:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    "gunicorn did not start: " + server.stderr.read().decode()[-500:]
                ) from None
            time.sleep(0.5)


def _open_visit():
    """A visit in progress with an assigned inspector (benchmark rows first)."""
    from inspections.models import Visit

    visits = Visit.objects.filter(state="in_progress", inspectors__isnull=False).order_by("pk")
    return visits.filter(target__code__startswith="BENCH-").first() or visits.first()


def case_mixed(opts):
    from django.conf import settings
    from django.middleware.csrf import _get_new_csrf_string
    from django.urls import reverse

    from civilaffairs.benchmarks import (
        TITLES,
        Case,
        _client,
        _list_variants,
        _user_with_role,
        deep_cursor,
    )
    from civilaffairs.choices import Role
    from civilaffairs.models import TimelineEntry
    from inspections.models import Finding

    case = Case("mixed", TITLES["mixed"])
    wrk = shutil.which("wrk")
    if opts.quick:
        case.status, case.reason = "not measured", "skipped in --quick mode"
        return case
    if wrk is None or not Path(sys.executable).with_name("gunicorn").exists():
        case.status, case.reason = "not measured", "wrk or gunicorn missing"
        return case
    reader = _user_with_role(Role.SUPERVISOR, city_wide=True)
    visit = _open_visit()
    if reader is None or visit is None:
        case.status = "not measured"
        case.reason = "no city-wide supervisor, or no visit in progress with an inspector"
        return case
    inspector = visit.inspectors.order_by("pk").first()
    reader_client, inspector_client = _client(reader), _client(inspector)
    name = settings.SESSION_COOKIE_NAME
    csrf = _get_new_csrf_string()
    reader_cookie = f"{name}={reader_client.cookies[name].value}"
    inspector_cookie = (
        f"{name}={inspector_client.cookies[name].value}; {settings.CSRF_COOKIE_NAME}={csrf}"
    )
    variants = {label: (url, params) for label, url, params in _list_variants(reader)}
    reads = []
    for label in (
        "findings API, first page",
        "orders API, state+district+dates",
        "findings page, state+district+dates",
        "orders page, first page",
    ):
        if label in variants:
            url, params = variants[label]
            reads.append(f"{url}?{urllib.parse.urlencode(params)}")
    reads.append(f"{reverse('api-dashboard')}?preset=month")
    cursor = deep_cursor(Finding, ["-found_at", "-id"], reader)
    if cursor:
        query = urllib.parse.urlencode({"page_size": 50, "cursor": cursor[0]})
        reads.append(f"{reverse('api-finding-list')}?{query}")
    # The dashboard as served: the snapshot the 5-minute job keeps fresh.
    from reports import dashboard

    dashboard.dashboard_for(reader, dashboard.parse_filters(reader, {"preset": "month"})[0])
    script = (
        LUA.replace("@@VISIT@@", str(visit.pk))
        .replace("@@READS@@", ",\n".join(f'  "{r}"' for r in reads))
        .replace("@@INSPECTOR_COOKIE@@", inspector_cookie)
        .replace("@@READER_COOKIE@@", reader_cookie)
        .replace("@@CSRF@@", csrf)
        .replace("@@FINDINGS_URL@@", reverse("api-finding-list"))
    )
    before = set(Finding.objects.filter(visit=visit).values_list("pk", flat=True))
    duration, connections = 20, 4
    started = time.perf_counter()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(script)
    output = ""
    try:
        with gunicorn() as (server, base):
            wait_ready(server, base + reads[0], reader_cookie)
            # wrk found on PATH by the suite, with the suite's own arguments and Lua script.
            output = subprocess.run(  # nosec B603
                [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "-s", lua.name, base],
                capture_output=True,
                text=True,
                timeout=duration + 60,
            ).stdout
    finally:
        os.unlink(lua.name)
        created = Finding.objects.filter(visit=visit).exclude(pk__in=before)
        created_ids = list(created.values_list("pk", flat=True))
        from django.contrib.contenttypes.models import ContentType

        TimelineEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(Finding), object_id__in=created_ids
        ).delete()
        created.delete()
        reader_client.logout()
        inspector_client.logout()
    values = {}
    for line in output.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[0] == "MIXED":
            values[parts[1]] = float(parts[2])
    if "p95" not in values:
        raise RuntimeError(f"wrk printed no summary: {output[-500:]}")
    case.status = "measured"
    case.runs, case.warmup = 1, 0
    case.seconds = time.perf_counter() - started
    case.rows.append(
        (
            f"all requests, {int(values['requests'])} in {values['seconds']:.1f} s "
            f"(p50 {values['p50']:.0f} ms, p90 {values['p90']:.0f} ms, p99 {values['p99']:.0f} "
            "ms)",
            values["p50"],
            values["p95"],
        )
    )
    case.check("p95 ms, mixed workload", values["p95"], 300, "{:.0f}")
    case.check("errors (non-2xx, socket errors, timeouts)", values["errors"], 0, "{:.0f}")
    case.notes.append(
        f"throughput: {values['requests'] / values['seconds']:.0f} requests/s (no target)"
    )
    case.notes.append(
        f"wrk -t2 -c{connections} -d{duration}s with a Lua script: every third request POSTs a "
        f"new finding (fresh client UUID) to `{reverse('api-finding-list')}` as inspector "
        f"`{inspector.username}` on visit {visit.pk}; the others rotate over: "
        + "; ".join(f"`{r[:90]}`" for r in reads)
        + f" as supervisor `{reader.username}`. gunicorn {SERVER}, DEBUG off; server, "
        f"wrk and PostgreSQL share the machine's 2 cores. {len(created_ids)} findings were "
        "created and deleted afterwards. Latencies are wrk's (client side, including queueing "
        "behind the workers); no per-URL split."
    )
    return case
