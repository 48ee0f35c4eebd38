"""Public commitments on the rectification engine (#7): the order they ride, milestones and
progress, who sees and writes what, and the public page that carries no personal data."""

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from civilaffairs.exceptions import Conflict, PermissionDenied, ServiceError
from civilaffairs.models import AuditEvent, User
from civilaffairs.services import timeline_of
from rectification import commitments
from rectification.choices import CommitmentStanding, SourceType
from rectification.choices import RectificationState as S
from rectification.models import Commitment, Rectification
from tests.complaint_data import NAME, PHONE, commitment, register, replied
from tests.rectification_data import step
from tests.test_query_counts import count_queries
from tests.visibility import ALLOWED, FORBIDDEN, HIDDEN, Surface, check_visibility

pytestmark = pytest.mark.django_db

PHONE_PATTERN = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_PATTERN = re.compile(r"(?<!\d)\d{17}[\dXx](?!\d)")


def test_a_commitment_rides_an_order_to_its_department(city):
    c = commitment(city)
    order = c.order
    assert order.source_type == SourceType.COMMITMENT and order.responsible_unit == city.dept_relief
    assert order.deadline == timezone.localdate() + dt.timedelta(days=200)
    assert c.milestones.count() == 2 and c.code.startswith("CN")
    assert commitments.standing(c) == CommitmentStanding.IN_PROGRESS
    assert [e.verb for e in timeline_of(c)] == ["created"]
    assert AuditEvent.objects.filter(action="commitment.create", object_id=str(c.pk)).exists()


def test_the_department_reports_progress_and_fulfils_it_through_the_order(city):
    c = commitment(city)
    first = c.milestones.order_by("due_date").first()
    commitments.commitment_progress(
        actor=city["department"], commitment=c, content="已压缩审批环节", reached=first
    )
    first.refresh_from_db()
    assert first.reached_at is not None
    with pytest.raises(ServiceError):  # reached once only
        commitments.commitment_progress(
            actor=city["department"], commitment=c, content="再次", reached=first
        )
    order = step(c.order, city["department"], "acknowledge")
    order = step(order, city["department"], "submit", note="已全面实现网上办理")
    step(order, city["supervisor"], "verify")
    c.refresh_from_db()
    assert commitments.standing(c) == CommitmentStanding.FULFILLED
    with pytest.raises(ServiceError):  # closed: no more progress
        commitments.commitment_progress(actor=city["department"], commitment=c, content="x")


def test_behind_schedule_once_the_deadline_has_passed(city):
    c = commitment(city)
    Rectification.objects.filter(pk=c.order.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=1)
    )
    c = Commitment.objects.select_related("order").get(pk=c.pk)
    assert commitments.standing(c) == CommitmentStanding.OVERDUE


def test_only_the_office_records_and_edits_and_a_stale_edit_is_refused(city):
    with pytest.raises(PermissionDenied):
        commitment(city, actor=city["department"])
    with pytest.raises(ServiceError):  # the department must be a bureau department
        commitment(city, department=city.inst_a)
    with pytest.raises(ServiceError):  # a milestone after the deadline
        commitment(city, milestones=[("晚了", timezone.localdate() + dt.timedelta(days=400))])
    c = commitment(city)
    c = commitments.commitment_update(
        actor=city["supervisor"], commitment=c, version=c.version, promise="新的承诺"
    )
    assert c.version == 2 and c.promise == "新的承诺"
    with pytest.raises(Conflict):
        commitments.commitment_update(
            actor=city["supervisor"], commitment=c, version=1, promise="又改"
        )
    with pytest.raises(PermissionDenied):
        commitments.commitment_update(actor=city["department"], commitment=c, promise="x")
    c.refresh_from_db()
    assert c.promise == "新的承诺" and c.version == 2


def test_visibility_per_persona(city):
    c = commitment(city)
    surface = Surface(
        list_url=reverse("rectification:commitment-list"),
        detail_url=reverse("rectification:commitment-detail", args=[c.pk]),
        api_list_url=reverse("api-commitment-list"),
        api_detail_url=reverse("api-commitment-detail", args=[c.pk]),
        marker=c.code,
        api_id=c.pk,
    )
    for persona, outcome in {
        "supervisor": ALLOWED,
        "office_head": ALLOWED,
        "leader": ALLOWED,
        "department": ALLOWED,
        "leader_a": HIDDEN,
        "liaison_a": FORBIDDEN,
        "inspector": FORBIDDEN,
        "auditor": FORBIDDEN,
        "sysadmin": FORBIDDEN,
    }.items():
        check_visibility(city[persona], surface, outcome)


def test_pages_record_edit_and_report_progress(city, client):
    client.force_login(city["supervisor"])
    deadline = (timezone.localdate() + dt.timedelta(days=100)).isoformat()
    soon = (timezone.localdate() + dt.timedelta(days=30)).isoformat()
    response = client.post(
        reverse("rectification:commitment-create"),
        {
            "problem": "殡葬服务收费不透明",
            "department": city.dept_elder.pk,
            "promise": "一个月内全面公示收费标准。",
            "deadline": deadline,
            "milestones": f"{soon} 公示收费标准",
            "public": "on",
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    c = Commitment.objects.get(problem="殡葬服务收费不透明")
    assert c.milestones.get().title == "公示收费标准"
    bad = client.post(
        reverse("rectification:commitment-edit", args=[c.pk]),
        {"problem": "x", "promise": "y", "milestones": "明天 公示", "version": c.version},
    )
    assert bad.status_code == 200 and bad.context["form"].errors["milestones"]
    edited = client.post(
        reverse("rectification:commitment-edit", args=[c.pk]),
        {
            "problem": c.problem,
            "promise": "两周内全面公示收费标准。",
            "milestones": f"{soon} 公示收费标准",
            "version": c.version,
        },
    )
    assert edited.status_code == 302
    c.refresh_from_db()
    assert c.promise == "两周内全面公示收费标准。" and not c.public
    progress = client.post(
        reverse("rectification:commitment-progress", args=[c.pk]),
        {"content": "已在大厅公示", "reached": c.milestones.get().pk},
    )
    assert progress.status_code == 302 and c.progress.count() == 1
    detail = client.get(reverse("rectification:commitment-detail", args=[c.pk]))
    assert "已在大厅公示" in detail.content.decode()


def test_the_api_creates_updates_with_409_and_reports_progress(city, client):
    client.force_login(city["supervisor"])
    deadline = (timezone.localdate() + dt.timedelta(days=100)).isoformat()
    created = client.post(
        reverse("api-commitment-list"),
        {
            "problem": "婚姻登记排队时间长",
            "department": city.dept_relief.pk,
            "promise": "推行预约办理。",
            "deadline": deadline,
            "milestones": [{"title": "上线预约", "due_date": deadline}],
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["standing"] == "in_progress" and len(body["milestones"]) == 1
    url = reverse("api-commitment-detail", args=[body["id"]])
    ok = client.patch(url, {"version": 1, "public": False}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["public"] is False
    stale = client.patch(url, {"version": 1, "public": True}, content_type="application/json")
    assert stale.status_code == 409
    client.force_login(city["department"])
    assert client.patch(url, {"public": True}, content_type="application/json").status_code in (
        403,
        404,
    )
    progress = client.post(
        reverse("api-commitment-progress", args=[body["id"]]),
        {"content": "预约系统已上线", "reached": body["milestones"][0]["id"]},
        content_type="application/json",
    )
    assert progress.status_code == 201, progress.json()
    assert progress.json()["milestones"][0]["reached_at"]
    wrong = client.post(
        reverse("api-commitment-progress", args=[body["id"]]),
        {"content": "x", "reached": 999999},
        content_type="application/json",
    )
    assert wrong.status_code == 400


# --- The public page ---------------------------------------------------------------------------


def test_the_public_page_needs_no_sign_in_and_lists_published_commitments(city):
    shown = commitment(city)
    hidden = commitment(city, problem="内部整改事项", public=False)
    withdrawn = commitment(city, problem="已撤回的承诺")
    order = withdrawn.order
    step(order, city["supervisor"], "cancel", note="合并到其他承诺")
    page = Client().get(reverse("public-commitments"))
    assert page.status_code == 200
    html = page.content.decode()
    assert shown.problem in html and shown.department.name in html
    assert hidden.problem not in html and "已撤回的承诺" not in html
    assert "群众可感知的明显改善" in html
    assert reverse("public-commitments") == "/public/commitments/"


def test_the_public_page_carries_no_phone_id_number_or_name(city):
    # Complaints with personal data exist; staff with names and phones write progress, one
    # of them carelessly typing a phone and an ID number.
    replied(city, register(city))
    c = commitment(city)
    commitments.commitment_progress(
        actor=city["department"],
        commitment=c,
        content=f"已联系{PHONE}，核对身份证440104199001011234",
    )
    page = Client().get(reverse("public-commitments"))
    html = page.content.decode()
    assert not PHONE_PATTERN.search(html), PHONE_PATTERN.search(html)
    assert not ID_PATTERN.search(html)
    names = [NAME, *User.objects.exclude(real_name="").values_list("real_name", flat=True)]
    leaked = [n for n in names if n in html]
    assert not leaked, leaked
    assert "已联系****" in html


def test_list_pages_and_endpoints_run_a_fixed_number_of_queries(city, client):
    for i in range(30):
        commitment(city, problem=f"承诺{i}")
    for persona, url_name in [
        ("supervisor", "rectification:commitment-list"),
        ("department", "rectification:commitment-list"),
        ("supervisor", "api-commitment-list"),
    ]:
        client.force_login(city[persona])
        url = reverse(url_name)
        count_queries(client, url, page_size=25)
        small = count_queries(client, url, page_size=25)
        large = count_queries(client, url, page_size=100)
        assert small == large, f"{persona} {url_name}: {small} vs {large}"
    anonymous = Client()
    url = reverse("public-commitments")
    count_queries(anonymous, url)
    before = count_queries(anonymous, url)
    commitment(city, problem="再加一个")
    assert count_queries(anonymous, url) == before


def test_order_states_are_the_engines(city):
    c = commitment(city)
    assert c.order.state == S.ISSUED
