import datetime as dt
import uuid

import pytest
from django.urls import reverse

from civilaffairs.exceptions import Conflict, PermissionDenied, ServiceError
from civilaffairs.models import AuditEvent
from inspections import services
from inspections.choices import Disposition, InspectionMethod
from inspections.models import Finding, InspectionPlan, Visit
from tests.inspection_data import make_checklist, make_plan, make_visit

pytestmark = pytest.mark.django_db


def checkin(city, visit, **kw):
    return services.visit_checkin(
        actor=city["inspector"], visit=visit, latitude=23.12, longitude=113.26, accuracy=10, **kw
    )


def answer_all(city, visit, fail_first=True):
    for i, item in enumerate(visit.templates.get().items.all()):
        services.result_record(
            actor=city["inspector"],
            visit=visit,
            item=item,
            outcome="fail" if (i == 0 and fail_first) else "pass",
        )


# --- Secrecy -------------------------------------------------------------------------------


def secret_surfaces(plan, visit):
    return [
        reverse("inspections:plan-list"),
        reverse("inspections:visit-list"),
        reverse("api-plan-list"),
        reverse("api-visit-list"),
    ], [
        reverse("inspections:plan-detail", args=[plan.pk]),
        reverse("inspections:visit-detail", args=[visit.pk]),
        reverse("api-plan-detail", args=[plan.pk]),
        reverse("api-visit-detail", args=[visit.pk]),
    ]


@pytest.mark.parametrize("persona", ["liaison_a", "department", "staff_a"])
def test_target_cannot_see_an_unannounced_plan_before_its_visit_starts(city, client, persona):
    visit = make_visit(city)
    plan = visit.plan
    user = city.staff_a if persona == "staff_a" else city[persona]
    client.force_login(user)
    lists, details = secret_surfaces(plan, visit)
    for url in lists:
        # The htmx partial is exactly the result list (the page around it echoes filters).
        response = client.get(url, HTTP_HX_REQUEST="true")
        assert response.status_code in (200, 403), url
        if response.status_code != 200:
            continue
        if "/api/" in url:
            assert response.json()["count"] == 0, url
        else:
            body = response.content.decode()
            assert plan.title not in body, url
            assert visit.target.name not in body, url
    for url in details:
        assert client.get(url).status_code == 404, url
    # Counts derived from the plan are invisible too.
    assert not InspectionPlan.objects.visible_to(user).exists()
    assert not Visit.objects.visible_to(user).exists()


def test_liaison_sees_the_visit_once_it_starts_but_never_the_plan(city, client):
    visit = make_visit(city)
    checkin(city, visit)
    client.force_login(city["liaison_a"])
    assert client.get(reverse("api-visit-detail", args=[visit.pk])).status_code == 200
    assert client.get(reverse("api-plan-detail", args=[visit.plan.pk])).status_code == 404
    assert not InspectionPlan.objects.visible_to(city["liaison_a"]).exists()


def test_other_district_never_sees_it(city):
    visit = make_visit(city)
    checkin(city, visit)
    assert not Visit.objects.visible_to(city["liaison_b"]).exists()


def test_an_announced_plan_visit_is_visible_to_its_target_but_the_plan_is_not(city):
    visit = make_visit(city, method=InspectionMethod.ANNOUNCED)
    assert Visit.objects.visible_to(city["liaison_a"]).filter(pk=visit.pk).exists()
    assert not InspectionPlan.objects.visible_to(city["liaison_a"]).exists()


def test_office_leaders_and_team_see_the_secret_plan(city):
    visit = make_visit(city)
    for persona in ("supervisor", "office_head", "leader", "inspector"):
        assert InspectionPlan.objects.visible_to(city[persona]).filter(pk=visit.plan_id).exists()
        assert Visit.objects.visible_to(city[persona]).filter(pk=visit.pk).exists()
    for persona in ("sysadmin", "auditor", "liaison_b"):
        assert not Visit.objects.visible_to(city[persona]).exists(), persona


def test_inspector_not_on_the_team_does_not_see_it(city):
    from civilaffairs.choices import Role
    from civilaffairs.services import user_create

    other = user_create(
        actor=None,
        username="inspector2",
        real_name="另一检查员",
        org_unit=city.office,
        roles=[(Role.INSPECTOR, None)],
    )
    make_visit(city)
    assert not InspectionPlan.objects.visible_to(other).exists()
    assert not Visit.objects.visible_to(other).exists()


def test_finding_is_seen_by_its_target_only_once_filed(city):
    visit = make_visit(city)
    checkin(city, visit)
    answer_all(city, visit)
    finding, _ = services.finding_create(
        actor=city["inspector"],
        visit=visit,
        title="应急灯损坏",
        bottom_line="safety",
        category="safety_hazard",
        severity="general",
        disposition=Disposition.RECTIFY_BY_DEADLINE,
    )
    assert not Finding.objects.visible_to(city["liaison_a"]).exists()
    services.visit_submit(actor=city["inspector"], visit=visit, summary="总体良好")
    visible = Finding.objects.visible_to(city["liaison_a"])
    assert finding in visible
    assert not Finding.objects.visible_to(city["liaison_b"]).exists()


# --- Workflow ------------------------------------------------------------------------------


def test_plan_approval_flow_and_roles(city):
    plan = make_plan(city, approve=False)
    with pytest.raises(PermissionDenied):
        services.plan_transition(actor=city["supervisor"], plan=plan, action="approve")
    services.plan_transition(actor=city["supervisor"], plan=plan, action="submit")
    with pytest.raises(ServiceError, match="原因"):
        services.plan_transition(actor=city["office_head"], plan=plan, action="return")
    plan = services.plan_transition(actor=city["office_head"], plan=plan, action="approve")
    assert plan.state == "approved" and plan.approved_by == city["office_head"]
    with pytest.raises(ServiceError):
        services.plan_transition(actor=city["office_head"], plan=plan, action="approve")
    assert AuditEvent.objects.filter(action="plan.approve").count() == 1


def test_stale_version_is_refused(city):
    plan = make_plan(city, approve=False)
    services.plan_transition(actor=city["supervisor"], plan=plan, action="submit")
    with pytest.raises(Conflict):
        services.plan_transition(actor=city["office_head"], plan=plan, action="approve", version=1)


def test_random_draw_is_reproducible_and_recorded(city):
    from civilaffairs.services import orgunit_create

    for i in range(12):
        orgunit_create(
            actor=None,
            parent=city.street_a,
            code=f"D{i}",
            name=f"颐养院{i}",
            kind="institution",
            institution_type="elder_care",
        )
    checklist = make_checklist(city)
    common = {
        "title": "抽查",
        "method": "spot_check",
        "period_start": dt.date.today(),
        "period_end": dt.date.today(),
        "team": [city["inspector"]],
        "templates": [checklist],
        "scope_mode": "draw",
        "institution_types": ["elder_care"],
        "draw_count": 4,
        "draw_seed": 42,
    }
    first = services.plan_create(actor=city["supervisor"], **common)
    second = services.plan_create(actor=city["supervisor"], **common)
    chosen = sorted(first.visits.values_list("target_id", flat=True))
    assert chosen == sorted(second.visits.values_list("target_id", flat=True))
    assert first.draw_record["chosen"] == chosen
    assert first.draw_record["candidates"] == 13  # 12 + inst_b
    assert first.code != second.code


def test_checkin_computes_the_distance_and_flags_far(city):
    visit = make_visit(city)
    far = services.visit_checkin(
        actor=city["inspector"], visit=visit, latitude=23.20, longitude=113.26, accuracy=15
    )
    assert far.checkin_distance_m == pytest.approx(8896, rel=0.01)
    assert far.checkin_far
    assert (
        far.plan.state == "in_progress"
        or InspectionPlan.objects.get(pk=far.plan_id).state == "in_progress"
    )


def test_only_assigned_inspectors_record(city):
    visit = make_visit(city)
    with pytest.raises(PermissionDenied):
        services.visit_checkin(
            actor=city["supervisor"], visit=visit, latitude=23.12, longitude=113.26
        )


def test_submit_needs_every_item_and_files_findings(city):
    visit = make_visit(city)
    checkin(city, visit)
    with pytest.raises(ServiceError, match="尚未填写"):
        services.visit_submit(actor=city["inspector"], visit=visit)
    answer_all(city, visit)
    visit = services.visit_submit(actor=city["inspector"], visit=visit, summary="完成")
    assert visit.state == "submitted"
    finding = Finding.objects.get(visit=visit)  # made from the failed item
    assert finding.state == "open" and finding.code.startswith("WT")
    assert finding.source == "checklist"
    with pytest.raises(ServiceError):
        services.result_record(
            actor=city["inspector"],
            visit=visit,
            item=visit.templates.get().items.first(),
            outcome="pass",
        )


def test_fixed_on_site_needs_an_after_photo(city):
    visit = make_visit(city)
    checkin(city, visit)
    answer_all(city, visit, fail_first=False)
    services.finding_create(
        actor=city["inspector"],
        visit=visit,
        title="灭火器过期",
        bottom_line="safety",
        category="fire_hazard",
        severity="general",
        disposition=Disposition.FIXED_ON_SITE,
        fix_note="已更换",
    )
    with pytest.raises(ServiceError, match="整改后"):
        services.visit_submit(actor=city["inspector"], visit=visit)


def test_transfer_needs_a_department(city):
    visit = make_visit(city)
    checkin(city, visit)
    with pytest.raises(ServiceError, match="处室"):
        services.finding_create(
            actor=city["inspector"],
            visit=visit,
            title="政策落实不到位",
            bottom_line="stability",
            category="poor_service",
            severity="general",
            disposition=Disposition.TRANSFERRED,
        )
    finding, _ = services.finding_create(
        actor=city["inspector"],
        visit=visit,
        title="政策落实不到位",
        bottom_line="stability",
        category="poor_service",
        severity="general",
        disposition=Disposition.TRANSFERRED,
        transferred_to=city.dept_relief,
    )
    answer_all(city, visit, fail_first=False)
    services.visit_submit(actor=city["inspector"], visit=visit)
    finding.refresh_from_db()
    assert finding.state == "transferred"
    assert Finding.objects.visible_to(city["department"]).filter(pk=finding.pk).exists()


def test_filed_finding_is_corrected_by_amendment(city):
    from civilaffairs.services import timeline_of

    visit = make_visit(city)
    checkin(city, visit)
    answer_all(city, visit)
    services.visit_submit(actor=city["inspector"], visit=visit)
    finding = Finding.objects.get(visit=visit)
    services.finding_amend(
        actor=city["supervisor"], finding=finding, reason="定级有误", severity="major"
    )
    finding.refresh_from_db()
    assert finding.severity == "major"
    entry = timeline_of(finding).last()
    assert entry.verb == "amended" and entry.note == "定级有误"
    assert entry.data["severity"] == ["serious", "major"]


# --- Exactly once --------------------------------------------------------------------------


def test_same_uuid_same_content_is_applied_once_and_different_content_is_409(city, client):
    visit = make_visit(city)
    client.force_login(city["inspector"])
    key = str(uuid.uuid4())
    url = reverse("api-visit-checkin", args=[visit.pk])
    body = {
        "client_uuid": key,
        "latitude": "23.12",
        "longitude": "113.26",
        "accuracy": 10,
        "at": "2026-11-24T10:00:00+08:00",
    }
    assert client.post(url, body, content_type="application/json").status_code == 201
    assert client.post(url, body, content_type="application/json").status_code == 200
    changed = {**body, "latitude": "23.5"}
    response = client.post(url, changed, content_type="application/json")
    assert response.status_code == 409
    assert "不同" in response.json()["detail"]

    item = visit.templates.get().items.first()
    result_url = reverse("api-visit-results", args=[visit.pk])
    rkey = str(uuid.uuid4())
    payload = {"client_uuid": rkey, "item": item.pk, "outcome": "fail", "note": "堵塞"}
    first = client.post(result_url, payload, content_type="application/json")
    again = client.post(result_url, payload, content_type="application/json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    other = client.post(result_url, {**payload, "outcome": "pass"}, content_type="application/json")
    assert other.status_code == 409

    fkey = str(uuid.uuid4())
    finding = {
        "client_uuid": fkey,
        "visit": visit.pk,
        "title": "楼梯间堆放杂物",
        "bottom_line": "safety",
        "category": "fire_hazard",
        "severity": "serious",
        "disposition": "rectify_by_deadline",
    }
    url = reverse("api-finding-list")
    assert client.post(url, finding, content_type="application/json").status_code == 201
    assert client.post(url, finding, content_type="application/json").status_code == 200
    assert (
        client.post(url, {**finding, "title": "别的"}, content_type="application/json").status_code
        == 409
    )
    assert Finding.objects.filter(client_uuid=fkey).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_uploads_with_the_same_uuid_store_one_row(city):
    import threading

    from django.db import connection

    visit = make_visit(city)
    checkin(city, visit)
    key = uuid.uuid4()
    barrier = threading.Barrier(2)
    outcomes = []

    def upload():
        try:
            barrier.wait()
            finding, created = services.finding_create(
                actor=city["inspector"],
                visit=visit,
                title="同一个问题",
                bottom_line="safety",
                category="fire_hazard",
                severity="general",
                disposition=Disposition.RECTIFY_BY_DEADLINE,
                client_uuid=key,
            )
            outcomes.append(("ok", created, finding.pk))
        except Exception as exc:
            outcomes.append(("error", type(exc).__name__, str(exc)))
        finally:
            connection.close()

    threads = [threading.Thread(target=upload) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert Finding.objects.filter(client_uuid=key).count() == 1
    assert sorted(o[1] for o in outcomes) == [False, True], outcomes
    assert len({o[2] for o in outcomes}) == 1


def test_bad_input_is_400_in_chinese(city, client):
    visit = make_visit(city)
    client.force_login(city["inspector"])
    url = reverse("api-visit-checkin", args=[visit.pk])
    response = client.post(
        url, {"latitude": "abc", "longitude": 200}, content_type="application/json"
    )
    assert response.status_code == 400
    response = client.post(
        reverse("api-visit-results", args=[visit.pk]),
        {"item": 999999, "outcome": "pass"},
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "检查" in response.json()["detail"] or "签到" in response.json()["detail"]


def test_pages_render_for_the_office(city, client):
    visit = make_visit(city)
    checkin(city, visit)
    answer_all(city, visit)
    services.visit_submit(actor=city["inspector"], visit=visit)
    finding = Finding.objects.get()
    client.force_login(city["supervisor"])
    for url in [
        reverse("inspections:plan-list"),
        reverse("inspections:plan-create"),
        reverse("inspections:plan-detail", args=[visit.plan_id]),
        reverse("inspections:visit-list"),
        reverse("inspections:visit-detail", args=[visit.pk]),
        reverse("inspections:finding-list"),
        reverse("inspections:finding-list") + "?severity=serious&sort=-found_at",
        reverse("inspections:finding-detail", args=[finding.pk]),
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    export = client.get(reverse("inspections:finding-list"), {"export": "xlsx"})
    assert export.status_code == 200


def test_plan_wizard_creates_a_plan(city, client):
    checklist = make_checklist(city)
    client.force_login(city["supervisor"])
    today = dt.date.today().isoformat()
    response = client.post(
        reverse("inspections:plan-create"),
        {
            "title": "节前值班暗访",
            "method": "duty_check",
            "secret": "on",
            "period_start": today,
            "period_end": today,
            "templates": [checklist.pk],
            "team": [city["inspector"].pk],
            "scope_mode": "explicit",
            "targets": [city.inst_a.pk, city.inst_b.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    plan = InspectionPlan.objects.get(title="节前值班暗访")
    assert plan.visits.count() == 2 and plan.secret
    bad = client.post(reverse("inspections:plan-create"), {"title": "", "method": "x"})
    assert bad.status_code == 200
    assert InspectionPlan.objects.count() == 1


def test_findings_export_selected_rows_only(city, client):
    import io

    import openpyxl

    visit = make_visit(city)
    checkin(city, visit)
    for item in visit.templates.get().items.all():
        services.result_record(actor=city["inspector"], visit=visit, item=item, outcome="fail")
    services.visit_submit(actor=city["inspector"], visit=visit)
    first, *_rest = Finding.objects.order_by("pk")
    client.force_login(city["supervisor"])
    page = client.get(reverse("inspections:finding-list")).content.decode()
    assert 'name="selected"' in page
    response = client.get(
        reverse("inspections:finding-list"), {"export": "xlsx", "selected": [first.pk, "x"]}
    )
    rows = list(
        openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(
            values_only=True
        )
    )
    assert len(rows) == 2 and rows[1][0] == first.code
    everything = client.get(reverse("inspections:finding-list"), {"export": "xlsx"})
    rows = list(
        openpyxl.load_workbook(io.BytesIO(b"".join(everything.streaming_content))).active.iter_rows(
            values_only=True
        )
    )
    assert len(rows) == 1 + Finding.objects.count()


def test_submit_and_checkin_replays_are_answered_after_submission(city, client):
    visit = make_visit(city)
    client.force_login(city["inspector"])
    checkin_key, submit_key = str(uuid.uuid4()), str(uuid.uuid4())
    checkin_body = {"client_uuid": checkin_key, "latitude": "23.12", "longitude": "113.26"}
    checkin_url = reverse("api-visit-checkin", args=[visit.pk])
    assert (
        client.post(checkin_url, checkin_body, content_type="application/json").status_code == 201
    )
    answer_all(city, visit)
    submit_url = reverse("api-visit-submit", args=[visit.pk])
    body = {"client_uuid": submit_key, "summary": "完成"}
    first = client.post(submit_url, body, content_type="application/json")
    assert first.status_code == 200 and first.json()["state"] == "submitted"
    again = client.post(submit_url, body, content_type="application/json")
    assert again.status_code == 200
    assert (
        client.post(
            submit_url, {**body, "summary": "改了"}, content_type="application/json"
        ).status_code
        == 409
    )
    assert (
        client.post(
            submit_url, {"client_uuid": str(uuid.uuid4())}, content_type="application/json"
        ).status_code
        == 400
    )
    # The check-in, replayed after the submission, is still the same check-in.
    assert (
        client.post(checkin_url, checkin_body, content_type="application/json").status_code == 200
    )
    assert Finding.objects.filter(visit=visit).count() == 1


def test_checklists_are_versioned_and_a_filed_visit_keeps_its_version(city, client):
    visit = make_visit(city)
    old = visit.templates.get()
    client.force_login(city["supervisor"])
    response = client.post(
        reverse("api-checklist-list"),
        {
            "code": old.code,
            "name": "防寒庇护站安全检查表（修订）",
            "items": [{"bottom_line": "safety", "category": "fire_hazard", "text": "新检查项"}],
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 2
    old.refresh_from_db()
    assert not old.is_current
    assert list(visit.templates.all()) == [old]  # the visit keeps what it was checked against
    assert client.get(reverse("inspections:checklist-list")).status_code == 200
    page = client.get(reverse("inspections:checklist-detail", args=[old.pk]))
    assert "消防通道畅通" in page.content.decode()
    client.force_login(city["inspector"])
    denied = client.post(
        reverse("api-checklist-list"),
        {"code": "X", "name": "X", "items": []},
        content_type="application/json",
    )
    assert denied.status_code == 403
    client.force_login(city["liaison_a"])
    assert client.get(reverse("inspections:checklist-detail", args=[old.pk])).status_code == 404
