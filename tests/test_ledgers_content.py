"""What the ledgers (台账, #6 item 4) hold: the orders ledger with every order's status history,
the findings, flash and daily-report ledgers; a filtered list exports exactly what it shows, at
once and through the background job; typed text never becomes a formula; dates are dates; the
header row is frozen; nobody's ledger holds what they may not see; the number of queries does
not grow with the rows; and the benchmark command cannot rot."""

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest
from django.core.management import call_command
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from civilaffairs import jobs
from civilaffairs.choices import BottomLine, JobState
from civilaffairs.models import BackgroundJob, OrgUnit, TimelineEntry
from inspections import services as inspections
from inspections.choices import Category, Disposition
from inspections.models import Finding, InspectionPlan
from rectification.choices import RectificationState
from rectification.models import Rectification
from tests.daily_data import DAY, at, lines, make_period, submit
from tests.inspection_data import make_visit
from tests.rectification_data import issue, step

pytestmark = pytest.mark.django_db

DANGEROUS = [
    "=1+1",
    "+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1)",
    '=HYPERLINK("http://evil.example/","点我")',
]
ORDERS = reverse("rectification:order-list")
FINDINGS = reverse("inspections:finding-list")
DAILY = reverse("reports:daily-report-list")


@pytest.fixture(autouse=True)
def _no_broker(monkeypatch):
    queued = []
    monkeypatch.setattr(jobs, "_enqueue", queued.append)
    return queued


# --- helpers --------------------------------------------------------------------------------


def export_now(client, url, params=None) -> bytes:
    response = client.get(url, {**(params or {}), "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    return b"".join(response.streaming_content)


def export_in_background(client, url, params=None) -> tuple[bytes, BackgroundJob]:
    """Confirm a large export, run the worker's job, download its file."""
    confirm = client.get(url, {**(params or {}), "export": "xlsx"})
    assert 'id="export-confirm"' in confirm.content.decode()
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    response = client.post(f"{url}?{query}", {"export": "xlsx"})
    assert response.status_code == 302
    job = BackgroundJob.objects.get(uuid=response.url.rstrip("/").split("/")[-1])
    assert jobs.run_job(job.pk) == JobState.DONE
    job.refresh_from_db()
    download = client.get(reverse("job-download", args=[job.uuid]))
    return b"".join(download.streaming_content), job


def book(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def rows_of(sheet) -> list[tuple]:
    return list(sheet.iter_rows(values_only=True))


def column(sheet, header: str) -> int:
    headers = rows_of(sheet)[0]
    assert header in headers, (header, headers)
    return headers.index(header)


def page(client, url, params=None):
    response = client.get(url, params or {})
    assert response.status_code == 200
    return response.context["total"], [obj for obj, _cells in response.context["rows"]]


def formulas_in(content: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return [
            name
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and "<f>" in archive.read(name).decode()
        ]


def filed_finding(city, unit, *, title="消防通道堵塞", description="", plan_title=None):
    """A finding at ``unit`` filed from a visit of a secret (unannounced) plan, with its
    order."""
    inspector = city["inspector"]
    visit = make_visit(city, targets=[unit])
    if plan_title:
        InspectionPlan.objects.filter(pk=visit.plan_id).update(title=plan_title)
    inspections.visit_checkin(actor=inspector, visit=visit, latitude=23.12, longitude=113.26)
    for item in visit.templates.get().items.all():
        inspections.result_record(actor=inspector, visit=visit, item=item, outcome="pass")
    finding, _created = inspections.finding_create(
        actor=inspector,
        visit=visit,
        title=title,
        description=description,
        bottom_line=BottomLine.SAFETY,
        category=Category.FIRE_HAZARD,
        severity="general",
        disposition=Disposition.RECTIFY_BY_DEADLINE,
        found_at=timezone.now(),
    )
    # Filing issues the finding's order after commit: run that listener as the real one would.
    with TestCase.captureOnCommitCallbacks(execute=True):
        inspections.visit_submit(actor=inspector, visit=visit)
    finding.refresh_from_db()
    return finding


def in_b(city, **kw):
    return issue(city, responsible_unit=city.inst_b, supervising_department=city.dept_elder, **kw)


@pytest.fixture
def orders(city):
    """Three orders in district A with different histories, one in district B."""
    returned = issue(city, title="二楼安全出口锁闭")
    step(returned, city["liaison_a"], "acknowledge")
    step(returned, city["liaison_a"], "submit")
    step(returned, city["supervisor"], "return", note="复查未通过")
    extended = issue(city, title="灭火器过期")
    step(
        extended,
        city["liaison_a"],
        "request_extension",
        note="等待采购",
        new_deadline=extended.deadline + dt.timedelta(days=10),
    )
    step(extended, city["office_head"], "approve_extension")
    fresh = issue(city, title="值班人员脱岗")
    other = in_b(city, title="乙区颐养院消防通道堵塞")
    step(other, city["liaison_b"], "acknowledge")
    return {"returned": returned, "extended": extended, "fresh": fresh, "other": other}


def expected_history(codes):
    """(code, verb) of every timeline entry of the orders ``codes``, order by order."""
    by_code = {o.code: o for o in Rectification.objects.filter(code__in=codes)}
    result = []
    for code in codes:
        entries = TimelineEntry.objects.filter(
            content_type__model="rectification", object_id=by_code[code].pk
        ).order_by("at", "id")
        result += [(code, e.at, e.verb, e.note) for e in entries]
    return result


# --- the orders ledger ----------------------------------------------------------------------


def test_orders_ledger_has_the_history_of_exactly_the_exported_orders_in_order(
    city, client, orders
):
    client.force_login(city["supervisor"])
    params = {"district": city.district_a.pk}
    total, listed = page(client, ORDERS, params)
    workbook = book(export_now(client, ORDERS, params))
    main, history = workbook.worksheets
    assert history.title == "状态变化记录" or history.title == "Status history"
    codes = [row[0] for row in rows_of(main)[1:]]
    assert codes == [o.code for o in listed] and len(codes) == total == 3
    assert orders["other"].code not in codes

    rows = rows_of(history)[1:]
    expected = expected_history(codes)
    assert [r[0] for r in rows] == [e[0] for e in expected]
    for row, entry in zip(rows, expected, strict=True):
        local = timezone.localtime(entry[1]).replace(tzinfo=None)
        assert isinstance(row[1], dt.datetime) and abs(row[1] - local) < dt.timedelta(seconds=1)
        assert row[7] == (entry[3] or None)

    returned = [r for r in rows if r[0] == orders["returned"].code]
    labels = {s: str(s.label) for s in RectificationState}
    assert [(r[4], r[5]) for r in returned] == [
        (None, labels[RectificationState.ISSUED]),
        (labels[RectificationState.ISSUED], labels[RectificationState.ACKNOWLEDGED]),
        (labels[RectificationState.ACKNOWLEDGED], labels[RectificationState.SUBMITTED]),
        (labels[RectificationState.SUBMITTED], labels[RectificationState.RETURNED]),
    ]
    assert returned[-1][7] == "复查未通过" and returned[-1][2] == str(city["supervisor"])
    approved = [r for r in rows if r[0] == orders["extended"].code][-1]
    orders["extended"].refresh_from_db()
    assert orders["extended"].deadline.isoformat() in approved[6]
    assert approved[4] is None and approved[5] is None  # the state did not move


def test_orders_ledger_columns_for_a_ledger(city, client, orders):
    client.force_login(city["supervisor"])
    main = book(export_now(client, ORDERS)).worksheets[0]
    returned = next(r for r in rows_of(main) if r[0] == orders["returned"].code)
    headers = rows_of(main)[0]
    for header in ("来源", "责任人", "优先级", "下发时间", "整改期限", "暂定期限", "签收时间"):
        assert header in headers
    assert returned[column(main, "退回次数")] == 1
    extended = next(r for r in rows_of(main) if r[0] == orders["extended"].code)
    assert extended[column(main, "延期待审批")] == "否"
    approved = next(h for h in headers if h in ("已批准延期次数", "Extensions approved"))
    assert extended[headers.index(approved)] == 1


def test_filtered_order_list_exports_exactly_what_the_page_counts(city, client, orders, settings):
    step(orders["fresh"], city["liaison_a"], "acknowledge")
    more = [issue(city, title=f"第{n}项问题") for n in range(2)]
    client.force_login(city["supervisor"])
    params = {"state": "issued", "district": city.district_a.pk}
    total, listed = page(client, ORDERS, params)
    expected = [o.code for o in listed]
    assert total == 3 and set(expected) == {orders["extended"].code, *(o.code for o in more)}

    settings.EXPORT_SYNC_LIMIT = 1000
    at_once = book(export_now(client, ORDERS, params))
    settings.EXPORT_SYNC_LIMIT = 2
    content, job = export_in_background(client, ORDERS, params)
    in_background = book(content)
    for workbook in (at_once, in_background):
        main, history = workbook.worksheets
        assert [r[0] for r in rows_of(main)[1:]] == expected
        assert {r[0] for r in rows_of(history)[1:]} == set(expected)
        assert len(rows_of(history)) - 1 == len(expected_history(expected))
    # The progress bar counted both sheets and reached its end.
    assert job.total == job.done == total + len(expected_history(expected))


def test_findings_ledger_exports_exactly_what_the_page_counts(city, client, settings):
    for unit in (city.inst_a, city.inst_a, city.inst_b):
        filed_finding(city, unit)
    client.force_login(city["supervisor"])
    params = {"district": city.district_a.pk}
    total, listed = page(client, FINDINGS, params)
    assert total == 2
    settings.EXPORT_SYNC_LIMIT = 1
    content, _job = export_in_background(client, FINDINGS, params)
    main = book(content).worksheets[0]
    assert [r[0] for r in rows_of(main)[1:]] == [f.code for f in listed]
    order = Rectification.objects.get(finding=listed[0])
    first = rows_of(main)[1]
    assert order.code in first and str(order.get_state_display()) in first


# --- formulas, dates, the frozen header -------------------------------------------------------


def test_typed_text_in_the_orders_ledger_never_becomes_a_formula(city, client, settings):
    order = issue(city, title=DANGEROUS[0], requirements=DANGEROUS[1])
    step(order, city["liaison_a"], "acknowledge", note=DANGEROUS[2])
    step(order, city["liaison_a"], "submit", note=DANGEROUS[4])
    step(order, city["supervisor"], "return", note=DANGEROUS[3])
    client.force_login(city["supervisor"])
    for limit in (1000, 0):  # at once, and through the background job
        settings.EXPORT_SYNC_LIMIT = limit
        content = export_now(client, ORDERS) if limit else export_in_background(client, ORDERS)[0]
        assert formulas_in(content) == []
        typed = [
            cell
            for sheet in book(content).worksheets
            for row in sheet.iter_rows(min_row=2)
            for cell in row
            if cell.value in DANGEROUS
        ]
        assert {c.value for c in typed} == set(DANGEROUS)
        assert all(c.data_type == "s" for c in typed)


def test_typed_text_in_the_findings_ledger_never_becomes_a_formula(city, client, settings):
    for n, text in enumerate(DANGEROUS):
        filed_finding(city, city.inst_a, title=text, description=DANGEROUS[-1 - n])
    client.force_login(city["supervisor"])
    for limit in (1000, 0):
        settings.EXPORT_SYNC_LIMIT = limit
        content = (
            export_now(client, FINDINGS) if limit else export_in_background(client, FINDINGS)[0]
        )
        assert formulas_in(content) == []
        sheet = book(content).worksheets[0]
        typed = [c for row in sheet.iter_rows(min_row=2) for c in row if c.value in DANGEROUS]
        assert len(typed) == 2 * len(DANGEROUS)  # title and description
        assert all(c.data_type == "s" for c in typed)


def test_dates_are_dates_and_the_header_row_is_frozen(city, client, orders):
    filed_finding(city, city.inst_a)
    period = make_period(city)
    submit(city, period, city.district_a, "liaison_a", at(15))
    client.force_login(city["supervisor"])
    ledgers = {
        ORDERS: ["下发时间", "整改期限", "签收时间"],
        FINDINGS: ["发现时间"],
        DAILY: ["日期", "报送时间"],
    }
    for url, headers in ledgers.items():
        workbook = book(export_now(client, url))
        for sheet in workbook.worksheets:
            assert sheet.freeze_panes == "A2", (url, sheet.title)
        main = workbook.worksheets[0]
        for header in headers:
            index = column(main, header)
            cells = [row[index] for row in main.iter_rows(min_row=2) if row[index].value]
            assert cells and all(c.is_date for c in cells), (url, header)
    history = book(export_now(client, ORDERS)).worksheets[1]
    assert all(row[1].is_date for row in history.iter_rows(min_row=2))


# --- who sees what --------------------------------------------------------------------------


def test_district_leader_ledgers_hold_only_their_district(city, client, orders, settings):
    filed_finding(city, city.inst_a, plan_title="甲区暗访计划")
    filed_finding(city, city.inst_b, title="乙区问题", plan_title="乙区绝密暗访计划")
    client.force_login(city["leader_a"])
    a_codes = {o.code for o in Rectification.objects.filter(responsible_unit=city.inst_a)}
    for limit in (1000, 0):
        settings.EXPORT_SYNC_LIMIT = limit
        for url in (ORDERS, FINDINGS):
            content = export_now(client, url) if limit else export_in_background(client, url)[0]
            text = " ".join(
                str(v) for s in book(content).worksheets for r in rows_of(s) for v in r if v
            )
            assert "乙区" not in text and "乙区绝密暗访计划" not in text, url
            if url == ORDERS:
                main, history = book(content).worksheets
                assert {r[0] for r in rows_of(main)[1:]} == a_codes
                assert {r[0] for r in rows_of(history)[1:]} == a_codes


def test_a_secret_plan_stays_out_of_the_ledger_of_those_who_may_not_see_it(city, client):
    finding = filed_finding(city, city.inst_a, plan_title="寒潮绝密暗访")
    client.force_login(city["supervisor"])
    main = book(export_now(client, FINDINGS)).worksheets[0]
    plan = column(main, "检查计划")
    assert rows_of(main)[1][plan] == "寒潮绝密暗访"  # the office sees its plan

    client.force_login(city["liaison_a"])  # the target sees the filed finding, never the plan
    assert not InspectionPlan.objects.visible_to(city["liaison_a"]).exists()
    content = export_now(client, FINDINGS)
    main = book(content).worksheets[0]
    assert [r[0] for r in rows_of(main)[1:]] == [finding.code]
    assert rows_of(main)[1][plan] is None
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = b"".join(archive.read(name) for name in archive.namelist())
    assert "寒潮绝密暗访".encode() not in xml


# --- the daily reports list and ledger ---------------------------------------------------------


@pytest.fixture
def daily(city):
    period = make_period(city)
    on_time = submit(city, period, city.district_a, "liaison_a", at(15))
    late = submit(
        city,
        period,
        city.district_b,
        "liaison_b",
        at(17),
        lines=lines({BottomLine.STABILITY: "=1+1 群众聚集"}),
    )
    earlier = submit(city, period, city.district_a, "liaison_a", at(15, day=DAY - dt.timedelta(1)))
    return {"period": period, "on_time": on_time, "late": late, "earlier": earlier}


def test_daily_report_list_filters_like_the_api(city, client, daily):
    client.force_login(city["supervisor"])
    cases = {
        "": 3,
        "status=late": 1,
        "status=on_time": 2,
        "status=nil": 2,
        "status=abnormal": 1,
        f"district={city.district_a.pk}": 2,
        f"unit={city.district_b.pk}": 1,
        f"day_from={DAY}&day_to={DAY}": 2,
        f"period={daily['period'].pk}&status=abnormal": 1,
    }
    for query, count in cases.items():
        params = dict(p.split("=") for p in query.split("&")) if query else {}
        assert page(client, DAILY, params)[0] == count, query
        api = client.get("/api/v1/daily-reports/", params).json()
        assert api["count"] == count, query
    assert client.get("/api/v1/daily-reports/", {"late": "true"}).json()["count"] == 1
    assert client.get("/api/v1/daily-reports/", {"day": DAY}).json()["count"] == 2


def test_daily_report_ledger_has_every_line_and_the_notes(city, client, daily):
    client.force_login(city["supervisor"])
    content = export_now(client, DAILY, {"status": "abnormal"})
    assert formulas_in(content) == []
    main = book(content).worksheets[0]
    rows = rows_of(main)
    assert len(rows) == 2
    row = rows[1]
    assert row[column(main, "单位")] == city.district_b.name
    assert row[column(main, "稳定")] == "异常" and row[column(main, "安全")] == "正常"
    assert row[column(main, "迟报")] == "是"
    notes = next(v for v in row if isinstance(v, str) and "群众聚集" in v)
    assert notes.endswith("=1+1 群众聚集")


def test_daily_report_list_shows_a_liaison_only_their_units(city, client, daily):
    client.force_login(city["liaison_a"])
    total, listed = page(client, DAILY)
    assert total == 2 and {r.unit for r in listed} == {city.district_a}
    main = book(export_now(client, DAILY)).worksheets[0]
    assert {r[1] for r in rows_of(main)[1:]} == {city.district_a.name}
    client.force_login(city["department"])
    assert client.get(DAILY).status_code == 403


def test_daily_report_list_is_linked_from_the_board_and_the_form(city, client, daily):
    client.force_login(city["supervisor"])
    board = client.get(reverse("reports:daily-board")).content.decode()
    assert f"{DAILY}?period={daily['period'].pk}" in board
    client.force_login(city["liaison_a"])
    assert DAILY in client.get(reverse("reports:daily-form")).content.decode()


# --- queries do not grow with the rows -------------------------------------------------------


def count_export_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        export_now(client, url)
    return len(captured)


def grow(city, period, days):
    """An order with a step, a filed finding (and its order) and two daily reports a day."""
    for day in days:
        order = issue(city, title=f"问题{day}")
        step(order, city["liaison_a"], "acknowledge")
        filed_finding(city, city.inst_a if day % 2 else city.inst_b)
        for unit, who in ((city.district_a, "liaison_a"), (city.district_b, "liaison_b")):
            submit(city, period, unit, who, at(15, day=period.start_date + dt.timedelta(day)))


def test_export_queries_do_not_grow_with_the_rows(city, client):
    client.force_login(city["supervisor"])
    period = make_period(city)
    ledgers = (ORDERS, FINDINGS, DAILY)
    grow(city, period, [0])
    count_export_queries(client, ORDERS)  # warm caches (content types, the session)
    small = {url: count_export_queries(client, url) for url in ledgers}
    grow(city, period, [1, 2, 3, 4])
    assert Rectification.objects.count() == 10 and Finding.objects.count() == 5
    large = {url: count_export_queries(client, url) for url in ledgers}
    assert small == large


def test_daily_report_page_queries_do_not_depend_on_page_size(city, client, daily):
    client.force_login(city["supervisor"])
    page(client, DAILY, {"page_size": 25})
    with CaptureQueriesContext(connection) as small:
        page(client, DAILY, {"page_size": 25})
    with CaptureQueriesContext(connection) as large:
        page(client, DAILY, {"page_size": 100})
    assert len(small) == len(large)


# --- the benchmark ------------------------------------------------------------------------------


def test_bench_ledger_prints_its_figures_and_leaves_the_database_as_it_found_it(
    city, settings, tmp_path
):
    tables = (OrgUnit, Rectification, TimelineEntry, BackgroundJob)
    before = {t.__name__: t.objects.count() for t in tables}
    out = io.StringIO()
    call_command("bench_ledger", rows=300, stdout=out)
    text = out.getvalue()
    for figure in ("seconds", "py peak MB", "RSS growth MB", "file KB", "flat memory"):
        assert figure in text
    assert re.search(r"^\s+300\s+\d+\s+[\d.]+\s+[\d.]+", text, re.M), text
    assert re.search(r"py peak ratio \d+\.\d\d", text)
    assert "database left as found: yes" in text
    assert {t.__name__: t.objects.count() for t in tables} == before
    assert not OrgUnit.objects.filter(code__startswith="BENCH-LEDGER").exists()
    media = Path(settings.MEDIA_ROOT)
    assert not media.exists() or not [p for p in media.rglob("*") if p.is_file()]


def test_daily_report_list_is_in_the_menu_as_the_only_current_entry(city, client, daily):
    from civilaffairs.navigation import menu_for

    for persona in ("liaison_a", "supervisor", "leader_a"):
        menu = menu_for(city[persona], DAILY)
        current = [i["url"] for s in menu for i in s["items"] if i["active"]]
        assert current == [DAILY], persona
    department = [i["url"] for s in menu_for(city["department"], "/") for i in s["items"]]
    assert DAILY not in department
