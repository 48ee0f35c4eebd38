"""Daily bottom-line reports: one per unit per day, nil reports, the cut-off in Asia/Shanghai,
who may file, who may see, and an abnormal line becoming a finding."""

import datetime as dt

import pytest

from civilaffairs.choices import BottomLine
from civilaffairs.exceptions import PermissionDenied, ServiceError
from civilaffairs.models import AuditEvent
from civilaffairs.services import timeline_of
from inspections.models import Finding
from reports.daily import abnormal_line_to_finding, period_update
from reports.models import DailyDigest, DailyReport, DailyReportLine, SensitivePeriod
from tests.daily_data import DAY, at, clock, lines, make_period, submit

pytestmark = pytest.mark.django_db


@pytest.fixture
def period(city):
    return make_period(city)


def test_units_default_to_active_district_bureaus_and_affiliated_units(city, period):
    assert set(period.units.all()) == {city.district_a, city.district_b, city.affiliated}


def test_only_the_office_opens_a_period(city):
    from reports.daily import period_create

    with pytest.raises(PermissionDenied):
        period_create(
            actor=city["liaison_a"],
            name="x",
            start_date=DAY,
            end_date=DAY,
            cutoff=dt.time(16),
        )


def test_period_refuses_end_before_start_and_institutions(city):
    from reports.daily import period_create

    with pytest.raises(ServiceError):
        period_create(
            actor=city["supervisor"],
            name="x",
            start_date=DAY,
            end_date=DAY - dt.timedelta(1),
            cutoff=dt.time(16),
        )
    with pytest.raises(ServiceError):
        period_create(
            actor=city["supervisor"],
            name="x",
            start_date=DAY,
            end_date=DAY,
            cutoff=dt.time(16),
            units=[city.inst_a],
        )
    assert not SensitivePeriod.objects.exists()


def test_nil_report_is_five_normal_lines(city, period):
    report, created = submit(city, period, city.district_a, "liaison_a", at(10))
    assert created and report.nil and not report.late
    assert report.reporter == city["liaison_a"]
    assert sorted(report.lines.values_list("bottom_line", "status")) == sorted(
        (line, "normal") for line in BottomLine.values
    )


def test_one_report_per_unit_per_day_and_a_resubmission_corrects_it(city, period):
    first, created = submit(city, period, city.district_a, "liaison_a", at(10))
    again, created_again = submit(
        city,
        period,
        city.district_a,
        "liaison_a",
        at(11),
        lines=lines({"safety": "东街庇护站暖气故障"}),
    )
    assert created and not created_again and again.pk == first.pk
    assert DailyReport.objects.filter(period=period, unit=city.district_a, day=DAY).count() == 1
    again.refresh_from_db()
    assert not again.nil
    assert again.lines.get(bottom_line="safety").note == "东街庇护站暖气故障"
    # the first filing time stands: correcting does not make a report late or earlier
    assert again.submitted_at == at(10)
    assert [e.verb for e in timeline_of(again)] == ["submitted", "corrected"]
    assert AuditEvent.objects.filter(action="daily.correct", object_id=str(again.pk)).exists()


def test_after_the_cutoff_only_the_office_corrects(city, period):
    submit(city, period, city.district_a, "liaison_a", at(15))
    with pytest.raises(ServiceError, match=r"cut-off|截止"):
        submit(city, period, city.district_a, "liaison_a", at(16, 30), lines=lines({"ethics": "x"}))
    report, _created = submit(
        city,
        period,
        city.district_a,
        "office_head",
        at(16, 30),
        lines=lines({"ethics": "补充情况"}),
    )
    assert report.lines.get(bottom_line="ethics").status == "abnormal"


@pytest.mark.parametrize(
    ("moment", "late"),
    [
        (at(15, 59, 59), False),
        (at(16, 0, 0), False),  # at the cut-off itself: on time
        (at(16, 0, 1), True),
        (at(23, 59), True),
    ],
)
def test_late_flag_around_the_cutoff_in_shanghai(city, period, moment, late):
    report, _created = submit(city, period, city.district_a, "liaison_a", moment)
    assert report.late is late


def test_the_cutoff_is_shanghai_time_whatever_the_server_zone(city, period, settings):
    settings.TIME_ZONE = "UTC"
    # 08:30 UTC is 16:30 in Shanghai: late, although it is morning on a UTC clock.
    moment = dt.datetime(2026, 1, 15, 8, 30, tzinfo=dt.UTC)
    report, _created = submit(city, period, city.district_a, "liaison_a", moment)
    assert report.late and report.day == DAY


def test_only_a_liaison_of_the_unit_files(city, period):
    for who in ("liaison_b", "department", "leader", "inspector"):
        with pytest.raises(PermissionDenied):
            submit(city, period, city.district_a, who, at(10))
    # the office corrects reports but does not file them for a unit
    with pytest.raises(PermissionDenied):
        submit(city, period, city.district_a, "office_head", at(10))
    assert not DailyReport.objects.exists()


def test_abnormal_line_needs_a_note_and_nothing_is_stored(city, period):
    with pytest.raises(ServiceError) as error:
        submit(city, period, city.district_a, "liaison_a", at(10), lines=lines({"safety": ""}))
    assert error.value.field == "note_safety"
    with pytest.raises(ServiceError):
        submit(city, period, city.district_a, "liaison_a", at(10), lines=lines()[:4])
    with pytest.raises(ServiceError):
        submit(city, period, city.district_a, "liaison_a", at(10), responsible_leader=" ")
    assert not DailyReport.objects.exists()


def test_days_outside_the_period_or_in_the_future_are_refused(city, period):
    with pytest.raises(ServiceError):
        submit(city, period, city.district_a, "liaison_a", at(10, day=DAY + dt.timedelta(days=10)))
    with clock(at(10)), pytest.raises(ServiceError):
        from reports.daily import daily_report_submit

        daily_report_submit(
            actor=city["liaison_a"],
            period=period,
            unit=city.district_a,
            day=DAY + dt.timedelta(days=1),
            nil=True,
            responsible_leader="王",
        )


def test_a_unit_outside_the_period_cannot_report(city):
    period = make_period(city, units=[city.district_b])
    with pytest.raises(ServiceError):
        submit(city, period, city.district_a, "liaison_a", at(10))


def test_period_dates_cannot_shrink_past_a_filed_report(city, period):
    submit(city, period, city.district_a, "liaison_a", at(10))
    with pytest.raises(ServiceError):
        period_update(actor=city["supervisor"], period=period, start_date=DAY + dt.timedelta(1))
    updated = period_update(actor=city["supervisor"], period=period, name="春节保障期")
    assert updated.name == "春节保障期"


def test_abnormal_line_becomes_a_finding_in_one_click(city, period):
    report, _created = submit(
        city,
        period,
        city.district_a,
        "liaison_a",
        at(10),
        lines=lines({"safety": "东街庇护站暖气故障，已报修"}),
    )
    line = report.lines.get(bottom_line="safety")
    with pytest.raises(PermissionDenied):
        abnormal_line_to_finding(actor=city["liaison_a"], line=line)
    finding = abnormal_line_to_finding(actor=city["supervisor"], line=line)
    line.refresh_from_db()
    assert line.finding == finding
    assert finding.target == city.district_a and finding.bottom_line == "safety"
    assert finding.state == "open" and finding.code.startswith("WT")
    assert finding.visit is None and finding.source == "adhoc"
    # the unit's liaison sees it on record, like any filed finding at its unit
    assert Finding.objects.visible_to(city["liaison_a"]).filter(pk=finding.pk).exists()
    with pytest.raises(ServiceError):
        abnormal_line_to_finding(actor=city["supervisor"], line=line)
    normal = report.lines.get(bottom_line="ethics")
    with pytest.raises(ServiceError):
        abnormal_line_to_finding(actor=city["supervisor"], line=normal)
    assert Finding.objects.count() == 1


def test_visibility_per_persona(city, period):
    a, _ = submit(city, period, city.district_a, "liaison_a", at(10))
    b, _ = submit(city, period, city.district_b, "liaison_b", at(10))
    expected = {
        "supervisor": {a, b},
        "office_head": {a, b},
        "inspector": {a, b},
        "leader": {a, b},
        "leader_a": {a},
        "liaison_a": {a},
        "liaison_b": {b},
        "department": set(),
        "sysadmin": set(),
        "auditor": set(),
    }
    for who, reports in expected.items():
        assert set(DailyReport.objects.visible_to(city[who])) == reports, who
    assert SensitivePeriod.objects.visible_to(city["department"]).count() == 0
    assert SensitivePeriod.objects.visible_to(city["liaison_a"]).count() == 1
    assert SensitivePeriod.objects.visible_to(city["leader_a"]).count() == 1
    alone = make_period(city, name="乙区专项", units=[city.district_b])
    assert alone not in SensitivePeriod.objects.visible_to(city["liaison_a"])
    for who, sees in {
        "leader": True,
        "office_head": True,
        "leader_a": False,
        "liaison_a": False,
    }.items():
        assert DailyDigest.objects.visible_to(city[who]).model is DailyDigest
        assert (DailyDigest.objects.visible_to(city[who]).query.is_empty()) is (not sees), who


def test_line_rows_are_unique_per_bottom_line(city, period):
    report, _ = submit(city, period, city.district_a, "liaison_a", at(10))
    assert DailyReportLine.objects.filter(report=report).count() == 5


# --- Pages ---------------------------------------------------------------------------------


def _form_post(client, period, unit, **extra):
    import uuid

    data = {
        "period": period.pk,
        "unit": unit.pk,
        "client_uuid": str(uuid.uuid4()),
        "responsible_leader": "王副局长",
        **{f"status_{k}": "normal" for k in BottomLine.values},
    }
    data.update(extra)
    return client.post("/reports/daily/", data)


def test_phone_form_nil_report_in_one_tap_and_a_double_tap_counts_once(city, period, login):
    client = login(city["liaison_a"])
    with clock(at(10)):
        page = client.get("/reports/daily/")
        assert page.status_code == 200
        assert "period" in page.content.decode()
        sent = _form_post(client, period, city.district_a, nil="1")
        assert sent.status_code == 302
        again = _form_post(
            client,
            period,
            city.district_a,
            nil="1",
            client_uuid=sent.wsgi_request.POST["client_uuid"],
        )
        assert again.status_code == 302
    report = DailyReport.objects.get()
    assert report.nil and report.unit == city.district_a
    assert [e.verb for e in timeline_of(report)] == ["submitted"]


def test_phone_form_abnormal_without_note_is_refused_with_a_message(city, period, login):
    client = login(city["liaison_a"])
    with clock(at(10)):
        response = _form_post(client, period, city.district_a, status_safety="abnormal")
    assert response.status_code == 400
    assert not DailyReport.objects.exists()


def test_phone_form_for_someone_elses_unit_is_404(city, period, login):
    client = login(city["liaison_a"])
    with clock(at(10)):
        assert (
            client.get(f"/reports/daily/?period={period.pk}&unit={city.district_b.pk}").status_code
            == 404
        )
        assert _form_post(client, period, city.district_b, nil="1").status_code == 404
        assert client.get("/reports/daily/?period=x&unit=y").status_code in (200, 404)
    assert not DailyReport.objects.exists()


def test_board_for_office_and_leaders_not_liaisons(city, period, login):
    submit(city, period, city.district_a, "liaison_a", at(10), lines=lines({"safety": "暖气故障"}))
    with clock(at(11)):
        office = login(city["office_head"]).get(
            f"/reports/daily/board/?period={period.pk}&day={DAY}"
        )
        assert office.status_code == 200
        text = office.content.decode()
        assert city.district_b.name in text and "暖气故障" in text
        partial = login(city["supervisor"]).get(
            f"/reports/daily/board/?period={period.pk}&day={DAY}", HTTP_HX_REQUEST="true"
        )
        assert partial.status_code == 200 and "<html" not in partial.content.decode()
        district = login(city["leader_a"]).get(
            f"/reports/daily/board/?period={period.pk}&day={DAY}"
        )
        assert city.district_a.name in district.content.decode()
        assert city.district_b.name not in district.content.decode()
        assert login(city["liaison_a"]).get("/reports/daily/board/").status_code == 403
        assert (
            login(city["office_head"]).get("/reports/daily/board/?period=999999").status_code == 404
        )
        assert (
            login(city["office_head"]).get("/reports/daily/board/?day=garbage").status_code == 200
        )


def test_board_line_to_finding_button(city, period, login):
    report, _ = submit(
        city, period, city.district_a, "liaison_a", at(10), lines=lines({"safety": "暖气故障"})
    )
    line = report.lines.get(bottom_line="safety")
    assert (
        login(city["liaison_a"]).post(f"/reports/daily/lines/{line.pk}/finding/").status_code == 403
    )
    response = login(city["supervisor"]).post(f"/reports/daily/lines/{line.pk}/finding/")
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.finding is not None


def test_period_pages(city, login):
    client = login(city["supervisor"])
    response = client.post(
        "/reports/periods/new/",
        {
            "name": "春节保障期",
            "start_date": "2026-02-10",
            "end_date": "2026-02-20",
            "cutoff": "16:00",
            "remind_minutes": "60",
            "active": "on",
            "units": [city.district_a.pk, city.affiliated.pk],
        },
    )
    assert response.status_code == 302
    period = SensitivePeriod.objects.get()
    assert set(period.units.all()) == {city.district_a, city.affiliated}
    bad = client.post(
        f"/reports/periods/{period.pk}/edit/",
        {
            "name": "x",
            "start_date": "2026-02-20",
            "end_date": "2026-02-10",
            "cutoff": "16:00",
            "remind_minutes": "60",
            "units": [city.district_a.pk],
        },
    )
    assert bad.status_code == 400
    assert client.get("/reports/periods/").status_code == 200
    assert login(city["liaison_a"]).get("/reports/periods/new/").status_code == 403


def test_weekly_pages_and_version_check(city, login):
    client = login(city["office_head"])
    week = "2026-01-12"
    assert client.get(f"/reports/weekly/edit/?week={week}").status_code == 200
    saved = client.post(
        "/reports/weekly/edit/",
        {"week": week, "version": "0", "plan": "下周暗访3家", "summary": "本周完成督查"},
    )
    assert saved.status_code == 302
    stale = client.post(
        "/reports/weekly/edit/", {"week": week, "version": "0", "plan": "x", "summary": "y"}
    )
    assert stale.status_code == 400
    page = client.get(f"/reports/weekly/{week}/")
    assert page.status_code == 200 and "下周暗访3家" in page.content.decode()
    assert login(city["leader"]).get(f"/reports/weekly/{week}/").status_code == 200
    assert login(city["liaison_a"]).get(f"/reports/weekly/{week}/").status_code == 403
    assert login(city["office_head"]).get("/reports/weekly/not-a-date/").status_code == 404


def test_list_pages_have_constant_query_counts(city, period, login, django_assert_max_num_queries):
    from reports.digest import build_digest

    client = login(city["office_head"])
    submit(city, period, city.district_b, "liaison_b", at(9))
    with clock(at(16, 30)):
        build_digest(period, DAY, now=at(16, 30))

    def count(url):
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx)

    urls = [
        "/reports/digests/",
        "/reports/periods/",
        f"/reports/daily/board/?period={period.pk}&day={DAY}",
    ]
    before = {u: count(u) for u in urls}
    for n, unit_day in enumerate([DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=2)]):
        make_period(city, name=f"期{n}")
        submit(city, period, city.district_b, "liaison_b", at(10, day=unit_day))
        with clock(at(16, 30, day=unit_day)):
            build_digest(period, unit_day, now=at(16, 30, day=unit_day))
    submit(
        city,
        period,
        city.district_a,
        "liaison_a",
        at(10),
        lines=lines({"safety": "a", "ethics": "b"}),
    )
    after = {u: count(u) for u in urls}
    assert after == before, (before, after)


# --- API -----------------------------------------------------------------------------------


def _api_body(period, unit, client_uuid, **extra):
    return {
        "period": period.pk,
        "unit": unit.pk,
        "day": DAY.isoformat(),
        "responsible_leader": "王副局长",
        "nil": True,
        "client_uuid": client_uuid,
        **extra,
    }


def test_api_submit_exactly_once_and_409_on_changed_content(city, period, login):
    import uuid

    client = login(city["liaison_a"])
    key = str(uuid.uuid4())
    with clock(at(10)):
        first = client.post(
            "/api/v1/daily-reports/",
            _api_body(period, city.district_a, key),
            content_type="application/json",
        )
        again = client.post(
            "/api/v1/daily-reports/",
            _api_body(period, city.district_a, key),
            content_type="application/json",
        )
        changed = client.post(
            "/api/v1/daily-reports/",
            _api_body(
                period,
                city.district_a,
                key,
                nil=False,
                lines=lines({"safety": "暖气故障"}),
            ),
            content_type="application/json",
        )
    assert first.status_code == 201, first.content
    assert again.status_code == 200 and again.json()["id"] == first.json()["id"]
    assert changed.status_code == 409
    assert DailyReport.objects.count() == 1 and DailyReport.objects.get().nil
    assert [e.verb for e in timeline_of(DailyReport.objects.get())] == ["submitted"]


def test_api_refuses_bad_input_without_500(city, period, login):
    client = login(city["liaison_a"])
    with clock(at(10)):
        for body in (
            {},
            {"period": "x"},
            _api_body(period, city.district_a, "not-a-uuid"),
            _api_body(period, city.district_a, None, nil=False, lines=[{"bottom_line": "nope"}]),
            _api_body(period, city.district_b, None),
        ):
            response = client.post("/api/v1/daily-reports/", body, content_type="application/json")
            assert 400 <= response.status_code < 500, (body, response.status_code)
    assert not DailyReport.objects.exists()


def test_api_lists_per_persona_with_constant_queries(city, period, login):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    submit(city, period, city.district_a, "liaison_a", at(10), lines=lines({"safety": "a"}))

    def count(user, url):
        client = login(city[user])
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url)
        assert response.status_code == 200
        return len(ctx), response.json()

    before, body = count("office_head", "/api/v1/daily-reports/")
    assert body["count"] == 1
    submit(city, period, city.district_b, "liaison_b", at(10), lines=lines({"ethics": "b"}))
    after, body = count("office_head", "/api/v1/daily-reports/")
    assert body["count"] == 2 and after == before
    assert count("liaison_a", "/api/v1/daily-reports/")[1]["count"] == 1
    assert login(city["department"]).get("/api/v1/daily-reports/").status_code == 403
    assert count("liaison_a", "/api/v1/sensitive-periods/")[1]["count"] == 1
    assert login(city["liaison_a"]).get("/api/v1/daily-digests/").status_code == 403
    assert count("leader", "/api/v1/daily-digests/")[1]["count"] == 0


def test_api_weekly_and_period_for_the_office(city, login):
    client = login(city["supervisor"])
    created = client.post(
        "/api/v1/sensitive-periods/",
        {
            "name": "春节保障期",
            "start_date": "2026-02-10",
            "end_date": "2026-02-20",
            "cutoff": "16:00",
        },
        content_type="application/json",
    )
    assert created.status_code == 201 and len(created.json()["units"]) == 3
    weekly = client.post(
        "/api/v1/weekly-reports/",
        {"week_start": "2026-01-12", "plan": "计划", "version": 0},
        content_type="application/json",
    )
    assert weekly.status_code == 201 and weekly.json()["version"] == 1
    stale = client.post(
        "/api/v1/weekly-reports/",
        {"week_start": "2026-01-12", "plan": "改", "version": 0},
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert (
        login(city["liaison_a"])
        .post("/api/v1/weekly-reports/", {}, content_type="application/json")
        .status_code
        == 403
    )


def test_home_page_tells_a_liaison_whose_unit_has_not_reported(city, period, login):
    client = login(city["liaison_a"])
    with clock(at(10)):
        assert "daily-pending" in client.get("/").content.decode()
        submit(city, period, city.district_a, "liaison_a", at(10))
        assert "daily-pending" not in client.get("/").content.decode()
