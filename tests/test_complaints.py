"""Complaints on the rectification engine (#7): the guarded workflow, the order it rides,
masking and the audited reveal, visibility per persona, figures and their rounding, the API."""

import datetime as dt
import io
import re
from decimal import Decimal

import openpyxl
import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from civilaffairs.exceptions import Conflict, PermissionDenied, ServiceError
from civilaffairs.models import AuditEvent, Notification, TimelineEntry
from civilaffairs.notifications import dispatch_pending
from civilaffairs.services import timeline_of
from rectification import complaints
from rectification.choices import ComplaintState as C
from rectification.choices import RectificationState as S
from rectification.choices import SourceType
from rectification.figures import format_percent, percent
from rectification.models import Complaint, Rectification
from rectification.services import rectification_transition
from tests.complaint_data import NAME, PHONE, act, register, replied, triage
from tests.rectification_data import step
from tests.test_query_counts import count_queries
from tests.visibility import ALLOWED, FORBIDDEN, HIDDEN, Surface, check_visibility

pytestmark = pytest.mark.django_db


# --- The workflow ----------------------------------------------------------------------------


def test_a_complaint_rides_an_order_from_triage_to_a_satisfied_return_visit(city):
    complaint = register(city, nature="consultation")
    assert complaint.state == C.RECEIVED and complaint.code.startswith("TS")
    complaint = triage(city, complaint)
    order = complaint.order
    assert complaint.state == C.TRIAGED
    assert order.source_type == SourceType.COMPLAINT and order.responsible_unit == city.inst_a
    # A policy enquiry gets two working days, counted from dispatch by the engine.
    assert order.deadline_working_days == 2
    assert order.supervising_department == city.dept_relief
    order = step(order, city["liaison_a"], "acknowledge")
    step(order, city["liaison_a"], "submit", note="已答复政策")
    complaint = act(
        complaint, city["supervisor"], "reply", reply_to="complainant", content="已电话解释政策"
    )
    complaint.order.refresh_from_db()
    assert complaint.state == C.REPLIED and complaint.reply_on_time is True
    assert complaint.order.state == S.VERIFIED  # the office checked the unit's report
    complaint = act(complaint, city["supervisor"], "return_visit", satisfaction="satisfied")
    assert complaint.state == C.CLOSED and complaint.closed_at is not None
    verbs = [e.verb for e in timeline_of(complaint)]
    assert verbs == ["received", "triage", "reply", "return_visit"]
    actions = set(
        AuditEvent.objects.filter(object_id=str(complaint.pk)).values_list("action", flat=True)
    )
    assert {"complaint.create", "complaint.triage", "complaint.reply"} <= actions


def test_an_unsatisfied_return_visit_reopens_the_case_and_its_order_on_the_timeline(city):
    complaint = replied(city, register(city))
    order = complaint.order
    old_deadline = order.deadline
    complaint = act(
        complaint,
        city["supervisor"],
        "return_visit",
        satisfaction="unsatisfied",
        note="补发金额不对",
    )
    order.refresh_from_db()
    assert complaint.state == C.REOPENED and complaint.times_reopened == 1
    assert complaint.satisfaction == "unsatisfied" and complaint.closed_at is None
    assert order.state == S.ISSUED and order.closed_at is None
    assert order.deadline >= old_deadline  # a fresh clock from the reopening
    entry = list(timeline_of(complaint))[-1]
    assert entry.verb == "reopen" and entry.data["satisfaction"] == "unsatisfied"
    assert "补发金额不对" in entry.note
    assert [e.verb for e in timeline_of(order)][-1] == "reopen"
    assert AuditEvent.objects.filter(action="complaint.reopen", object_id=str(complaint.pk))
    # The unit handles it again; the office replies again, and the first reply's timeliness
    # stays what it was.
    liaison = city["liaison_a"]
    order = step(order, liaison, "acknowledge")
    step(order, liaison, "submit")
    complaint = act(
        complaint, city["supervisor"], "reply", reply_to="complainant", content="重新核算"
    )
    assert complaint.state == C.REPLIED
    complaint = act(complaint, city["supervisor"], "return_visit", satisfaction="basically")
    assert complaint.state == C.CLOSED


def test_the_detail_page_shows_the_reopening(city, client):
    complaint = replied(city, register(city))
    act(complaint, city["supervisor"], "return_visit", satisfaction="unsatisfied", note="不满意")
    client.force_login(city["supervisor"])
    page = client.get(reverse("rectification:complaint-detail", args=[complaint.pk]))
    assert page.status_code == 200
    assert page.context["timeline"][-1].verb == "reopen"


def _snapshot(complaint):
    complaint.refresh_from_db()
    content_type = ContentType.objects.get_for_model(Complaint)
    return (
        complaint.state,
        complaint.version,
        TimelineEntry.objects.filter(content_type=content_type, object_id=complaint.pk).count(),
        AuditEvent.objects.count(),
    )


def test_illegal_steps_are_refused_and_change_nothing(city):
    complaint = register(city)
    before = _snapshot(complaint)
    with pytest.raises(ServiceError):  # nothing reported yet: no reply
        act(complaint, city["supervisor"], "reply", reply_to="complainant", content="x")
    with pytest.raises(ServiceError):  # not replied yet: no return visit
        act(complaint, city["supervisor"], "return_visit", satisfaction="satisfied")
    with pytest.raises(PermissionDenied):  # only the office triages
        act(complaint, city["leader"], "triage", responsible_unit=city.inst_a)
    with pytest.raises(PermissionDenied):  # not visible to the liaison at all yet
        act(complaint, city["liaison_a"], "triage", responsible_unit=city.inst_a)
    with pytest.raises(Conflict):
        act(complaint, city["supervisor"], "triage", responsible_unit=city.inst_a, version=99)
    with pytest.raises(ServiceError):
        act(complaint, city["supervisor"], "triage", responsible_unit=None)
    assert _snapshot(complaint) == before
    assert not Rectification.objects.filter(complaint=complaint).exists()


def test_the_reply_needs_the_units_report_and_an_unsatisfied_visit_needs_a_note(city):
    complaint = triage(city, register(city))
    with pytest.raises(ServiceError):
        act(complaint, city["supervisor"], "reply", reply_to="complainant", content="x")
    complaint = replied(city, register(city))
    with pytest.raises(ServiceError):
        act(complaint, city["supervisor"], "return_visit", satisfaction="unsatisfied")
    with pytest.raises(ServiceError):  # not a referred case
        act(register(city), city["supervisor"], "reply", reply_to="referrer", content="x")


def test_the_complaints_order_is_cancelled_and_reopened_only_through_the_complaint(city):
    complaint = triage(city, register(city))
    with pytest.raises(ServiceError):
        rectification_transition(
            rectification=complaint.order, actor=city["supervisor"], action="cancel", note="x"
        )
    from rectification.services import available_steps

    assert "cancel" not in available_steps(complaint.order, city["supervisor"])


def test_a_duplicate_is_merged_and_its_order_cancelled(city):
    first = triage(city, register(city))
    duplicate = triage(city, register(city, title="低保金没到账"))
    with pytest.raises(ServiceError):
        act(duplicate, city["supervisor"], "merge", into=duplicate, note="重复")
    with pytest.raises(ServiceError):  # a note says why
        act(duplicate, city["supervisor"], "merge", into=first)
    duplicate = act(duplicate, city["supervisor"], "merge", into=first, note="同一事项重复反映")
    duplicate.order.refresh_from_db()
    assert duplicate.state == C.MERGED and duplicate.merged_into == first
    assert duplicate.order.state == S.CANCELLED
    with pytest.raises(ServiceError):  # a merged case takes no more steps
        act(duplicate, city["supervisor"], "merge", into=first, note="再次")
    third = register(city)
    with pytest.raises(ServiceError):  # not into a case that was itself merged
        act(third, city["supervisor"], "merge", into=duplicate, note="重复")


def test_deadline_days_by_nature_come_from_the_setting(city, settings):
    settings.COMPLAINT_DEADLINE_DAYS = "consultation:3,report:20,bogus:4,personal:x"
    days = complaints.deadline_days()
    assert days["consultation"] == 3 and days["report"] == 20 and days["personal"] == 10
    complaint = triage(city, register(city, nature="report"))
    assert complaint.order.deadline_working_days == 20
    assert complaint.order.priority == "high"


def test_personal_data_needs_consent_and_a_referral_is_registered_once(city):
    with pytest.raises(ServiceError):
        register(city, consent=False)
    anonymous = register(city, complainant_name="", complainant_phone="", consent=False)
    assert anonymous.complainant_name == ""
    with pytest.raises(ServiceError):
        register(city, complainant_phone="call me")
    register(city, channel="referral", referring_body="市信访局", reference_number="XF-1")
    with pytest.raises(ServiceError):
        register(city, channel="referral", referring_body="市信访局", reference_number="XF-1")
    with pytest.raises(ServiceError):  # a referral names who referred it
        register(city, channel="referral", referring_body="")
    with pytest.raises(PermissionDenied):
        register(city, actor=city["liaison_a"])


# --- Masking and the audited reveal -----------------------------------------------------------


def _pages(client, complaint):
    urls = [
        reverse("rectification:complaint-list"),
        reverse("rectification:complaint-detail", args=[complaint.pk]),
        reverse("api-complaint-list"),
        reverse("api-complaint-detail", args=[complaint.pk]),
    ]
    return {url: client.get(url).content.decode() for url in urls}


@pytest.mark.parametrize("persona", ["supervisor", "leader", "liaison_a", "department"])
def test_names_and_phones_are_masked_on_every_page_api_and_export(city, client, persona):
    complaint = replied(city, register(city))
    dispatch_pending()
    client.force_login(city[persona])
    for url, body in _pages(client, complaint).items():
        assert NAME not in body and PHONE not in body, url
    detail = client.get(reverse("rectification:complaint-detail", args=[complaint.pk]))
    assert "张*丰" in detail.content.decode() and "139****8765" in detail.content.decode()
    api = client.get(reverse("api-complaint-detail", args=[complaint.pk])).json()
    assert api["complainant_name"] == "张*丰" and api["complainant_phone"] == "139****8765"
    export = client.get(reverse("rectification:complaint-list"), {"export": "xlsx"})
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(export.streaming_content))).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert "张*丰" in cells and not any(NAME in c or PHONE in c for c in cells)
    # Neither the timeline, the trail nor any notification carries the data.
    texts = [f"{e.note} {e.data}" for e in TimelineEntry.objects.all()]
    texts += [f"{a.summary} {a.changes} {a.object_repr}" for a in AuditEvent.objects.all()]
    texts += [f"{n.title} {n.body}" for n in Notification.objects.all()]
    assert not any(NAME in t or PHONE in t for t in texts)


def test_the_office_reveals_with_a_reason_and_the_reveal_is_audited(city, client):
    complaint = register(city)
    client.force_login(city["supervisor"])
    url = reverse("rectification:complaint-reveal", args=[complaint.pk])
    assert client.get(url).status_code == 405  # never on a GET (no prefetch, no history)
    response = client.post(url, {"reason": ""}, follow=True)
    assert NAME not in response.content.decode()
    assert not AuditEvent.objects.filter(action="complaint.reveal").exists()
    response = client.post(url, {"reason": "回访需要"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert response.status_code == 200 and NAME in body and PHONE in body
    assert response["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(action="complaint.reveal")
    assert event.actor == city["supervisor"] and event.object_id == str(complaint.pk)
    assert event.changes == {"reason": "回访需要"}
    assert NAME not in str(event.changes) and PHONE not in event.object_repr
    # The next page load is masked again.
    detail = client.get(reverse("rectification:complaint-detail", args=[complaint.pk]))
    assert NAME not in detail.content.decode()


def test_who_may_reveal(city, client):
    complaint = triage(city, register(city))
    assert complaints.can_reveal(city["office_head"], complaint)
    assert complaints.can_reveal(city["liaison_a"], complaint)  # the handling unit
    assert not complaints.can_reveal(city["leader"], complaint)
    assert not complaints.can_reveal(city["leader_a"], complaint)
    assert not complaints.can_reveal(city["department"], complaint)  # supervises, not handles
    for persona in ("leader", "leader_a", "department"):
        with pytest.raises(PermissionDenied):
            complaints.complaint_reveal(complaint=complaint, actor=city[persona], reason="x")
    for persona in ("liaison_b", "inspector", "auditor"):
        with pytest.raises(PermissionDenied):
            complaints.complaint_reveal(complaint=complaint, actor=city[persona], reason="x")
    assert not AuditEvent.objects.filter(action="complaint.reveal").exists()
    client.force_login(city["leader"])
    api = reverse("api-complaint-reveal", args=[complaint.pk])
    assert client.post(api, {"reason": "看看"}).status_code == 403
    client.force_login(city["liaison_b"])
    assert client.post(api, {"reason": "看看"}).status_code == 404
    client.force_login(city["liaison_a"])
    response = client.post(api, {"reason": "联系群众"})
    assert response.status_code == 200
    assert response.json() == {"name": NAME, "phone": PHONE, "id_number": ""}
    assert (
        AuditEvent.objects.filter(action="complaint.reveal", actor=city["liaison_a"]).count() == 1
    )


# --- Visibility -------------------------------------------------------------------------------


def _surface(complaint):
    return Surface(
        list_url=reverse("rectification:complaint-list"),
        detail_url=reverse("rectification:complaint-detail", args=[complaint.pk]),
        api_list_url=reverse("api-complaint-list"),
        api_detail_url=reverse("api-complaint-detail", args=[complaint.pk]),
        marker=complaint.code,
        api_id=complaint.pk,
    )


def test_visibility_per_persona(city):
    complaint = triage(city, register(city, district=city.district_a))
    expected = {
        "supervisor": ALLOWED,
        "office_head": ALLOWED,
        "leader": ALLOWED,
        "leader_a": ALLOWED,
        "liaison_a": ALLOWED,
        "department": ALLOWED,  # supervises the handling unit
        "liaison_b": HIDDEN,
        "inspector": FORBIDDEN,
        "auditor": FORBIDDEN,
        "sysadmin": FORBIDDEN,
    }
    for persona, outcome in expected.items():
        check_visibility(city[persona], _surface(complaint), outcome)
    check_visibility(None, _surface(complaint), ALLOWED)


def test_an_untriaged_complaint_is_the_offices_and_leaders_only(city):
    complaint = register(city, district=city.district_b)
    for persona, outcome in {
        "supervisor": ALLOWED,
        "leader": ALLOWED,
        "leader_a": HIDDEN,  # another district
        "liaison_a": HIDDEN,
        "liaison_b": HIDDEN,
        "department": HIDDEN,
    }.items():
        check_visibility(city[persona], _surface(complaint), outcome)


def test_a_department_assigned_a_case_handles_it_through_the_engine(city):
    complaint = triage(city, register(city), unit=city.dept_relief)
    order = complaint.order
    assert order.supervising_department is None
    order = step(order, city["department"], "acknowledge")
    step(order, city["department"], "submit")
    assert complaints.can_reveal(city["department"], complaint)
    complaint = act(
        complaint, city["supervisor"], "reply", reply_to="complainant", content="已答复"
    )
    assert complaint.state == C.REPLIED


# --- Pages -----------------------------------------------------------------------------------


def test_the_office_registers_and_triages_from_the_pages(city, client):
    client.force_login(city["supervisor"])
    response = client.post(
        reverse("rectification:complaint-create"),
        {
            "channel": "hotline_12345",
            "referring_body": "12345热线",
            "reference_number": "GD-0001",
            "domain": "elder_care",
            "nature": "attitude",
            "title": "养老院护理员态度差",
            "content": "家属反映护理员态度恶劣。",
            "complainant_name": NAME,
            "complainant_phone": PHONE,
            "consent": "on",
        },
    )
    complaint = Complaint.objects.get(reference_number="GD-0001")
    assert response.status_code == 302 and complaint.channel == "hotline_12345"
    detail = client.get(response["Location"]).content.decode()
    assert "12345" in detail and NAME not in detail
    page = client.post(
        reverse("rectification:complaint-transition", args=[complaint.pk, "triage"]),
        {"version": complaint.version, "responsible_unit": city.inst_b.pk, "working_days": 10},
    )
    assert page.status_code == 302
    complaint.refresh_from_db()
    assert complaint.state == C.TRIAGED and complaint.order.responsible_unit == city.inst_b
    stale = client.post(
        reverse("rectification:complaint-transition", args=[complaint.pk, "merge"]),
        {"version": 1, "into": register(city).pk, "note": "重复"},
        follow=True,
    )
    complaint.refresh_from_db()
    assert complaint.state == C.TRIAGED and stale.status_code == 200
    assert list(stale.context["messages"])[-1].level_tag == "error"


def test_missing_consent_is_a_form_error(city, client):
    client.force_login(city["supervisor"])
    response = client.post(
        reverse("rectification:complaint-create"),
        {
            "channel": "phone",
            "domain": "marriage",
            "nature": "consultation",
            "title": "咨询",
            "content": "咨询婚姻登记材料",
            "complainant_phone": PHONE,
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["consent"]
    assert not Complaint.objects.exists()


def test_detail_offers_only_the_allowed_steps(city, client):
    complaint = triage(city, register(city))
    client.force_login(city["supervisor"])
    page = client.get(reverse("rectification:complaint-detail", args=[complaint.pk]))
    assert [s["name"] for s in page.context["steps"]] == ["merge"]  # waiting for the unit
    client.force_login(city["liaison_a"])
    page = client.get(reverse("rectification:complaint-detail", args=[complaint.pk]))
    assert page.context["steps"] == [] and page.context["can_reveal"]
    client.force_login(city["leader"])
    page = client.get(reverse("rectification:complaint-detail", args=[complaint.pk]))
    assert page.context["steps"] == [] and not page.context["can_reveal"]
    denied = client.post(
        reverse("rectification:complaint-transition", args=[complaint.pk, "merge"]),
        {"version": complaint.version, "into": register(city).pk, "note": "x"},
    )
    assert denied.status_code == 302
    complaint.refresh_from_db()
    assert complaint.state == C.TRIAGED


def test_overdue_filter_lists_cases_past_the_reply_deadline(city, client, monkeypatch):
    late = triage(city, register(city, title="逾期未回告"))
    triage(city, register(city, title="按期"))
    Rectification.objects.filter(pk=late.order.pk).update(
        deadline=timezone.localdate() - dt.timedelta(days=3)
    )
    client.force_login(city["supervisor"])
    page = client.get(reverse("rectification:complaint-list"), {"overdue": "true"})
    assert page.context["total"] == 1 and "逾期未回告" in page.content.decode()


# --- Figures ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("numerator", "denominator", "expected"),
    [
        (235, 236, Decimal("99.6")),
        (2, 3, Decimal("66.7")),
        (1, 8, Decimal("12.5")),
        (1, 16, Decimal("6.3")),  # 6.25: half up, where float rounding gives 6.2
        (1, 3, Decimal("33.3")),
        (0, 5, Decimal("0.0")),
        (5, 5, Decimal("100.0")),
    ],
)
def test_rates_round_half_up_to_one_decimal(numerator, denominator, expected):
    assert percent(numerator, denominator) == expected
    assert format_percent(percent(numerator, denominator)) == f"{expected}%"


def test_a_rate_over_nothing_is_a_dash():
    assert percent(0, 0) is None and format_percent(None) == "—"


def test_the_figures_page_with_nothing_shows_dashes(city, client):
    client.force_login(city["supervisor"])
    page = client.get(reverse("rectification:complaint-figures"))
    assert page.status_code == 200
    assert page.content.decode().count("—") >= 3


def _build_figures_city(city):
    closed = replied(city, register(city, channel="phone", nature="consultation"))
    act(closed, city["supervisor"], "return_visit", satisfaction="satisfied")
    unhappy = replied(city, register(city, channel="online", domain="elder_care"))
    act(unhappy, city["supervisor"], "return_visit", satisfaction="unsatisfied", note="不满意")
    triage(city, register(city, channel="phone", district=city.district_b), unit=city.inst_b)
    original = register(city, channel="referral", referring_body="市信访局", reference_number="1")
    duplicate = register(city, channel="referral", referring_body="市信访局", reference_number="2")
    act(duplicate, city["supervisor"], "merge", into=original, note="重复")


def test_figures_count_cases_and_every_number_lists_its_cases(city, client):
    _build_figures_city(city)
    client.force_login(city["supervisor"])
    page = client.get(reverse("rectification:complaint-figures"))
    figures = page.context["figures"]
    assert figures.total.count == 4  # the merged duplicate is not a case
    assert figures.closure.numerator.count == 1 and figures.closure.text == "25.0%"
    assert figures.on_time_reply.text == "100.0%"
    assert figures.satisfaction_rate.text == "50.0%"
    channels = {f.query["channel"]: f.count for f in figures.by_channel}
    assert channels["phone"] == 2 and channels["referral"] == 1 and channels["hotline_12345"] == 0
    html = page.content.decode()
    links = re.findall(r'href="([^"]+)" class="[^"]*figure-link[^"]*">[^<]*?(\d+)</a>', html)
    links += re.findall(r'class="[^"]*figure-link[^"]*" href="([^"]+)">[^<]*?(\d+)</a>', html)
    assert len(links) > 20
    for url, number in links:
        listed = client.get(url.replace("&amp;", "&"))
        assert listed.status_code == 200, url
        assert listed.context["total"] == int(number), url


def test_figures_follow_the_period_and_district_filters(city, client):
    _build_figures_city(city)
    client.force_login(city["supervisor"])
    page = client.get(reverse("rectification:complaint-figures"), {"district": city.district_b.pk})
    assert page.context["figures"].total.count == 1
    tomorrow = (timezone.localdate() + dt.timedelta(days=1)).isoformat()
    page = client.get(reverse("rectification:complaint-figures"), {"received_from": tomorrow})
    assert page.context["figures"].total.count == 0
    assert page.context["figures"].closure.text == "—"
    api = client.get(reverse("api-complaint-figures-list"), {"district": city.district_b.pk})
    assert api.status_code == 200 and api.json()["total"]["count"] == 1
    assert api.json()["closure"]["value"] == "0.0"


def test_a_liaison_counts_only_the_cases_it_sees(city, client):
    _build_figures_city(city)
    client.force_login(city["liaison_b"])
    page = client.get(reverse("rectification:complaint-figures"))
    assert page.context["figures"].total.count == 1


# --- API -------------------------------------------------------------------------------------


def test_the_api_registers_triages_and_answers_409_on_a_stale_version(city, client):
    client.force_login(city["supervisor"])
    created = client.post(
        reverse("api-complaint-list"),
        {
            "channel": "online",
            "domain": "funeral",
            "nature": "suggestion",
            "title": "建议增加公益性公墓",
            "content": "建议在东部增设公益性公墓。",
            "complainant_name": NAME,
            "complainant_phone": PHONE,
            "consent": True,
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["complainant_name"] == "张*丰" and PHONE not in created.content.decode()
    url = reverse("api-complaint-transition", args=[body["id"]])
    triaged = client.post(
        url,
        {"action": "triage", "version": body["version"], "responsible_unit": city.inst_b.pk},
        content_type="application/json",
    )
    assert triaged.status_code == 200, triaged.json()
    assert triaged.json()["state"] == "triaged" and triaged.json()["order"]["code"]
    stale = client.post(
        url,
        {"action": "merge", "version": body["version"], "into": register(city).pk, "note": "x"},
        content_type="application/json",
    )
    assert stale.status_code == 409
    assert Complaint.objects.get(pk=body["id"]).state == C.TRIAGED
    bad = client.post(url, {"action": "fly"}, content_type="application/json")
    assert bad.status_code == 400
    client.force_login(city["liaison_a"])
    assert client.post(reverse("api-complaint-list"), {}).status_code == 403


# --- Query counts ----------------------------------------------------------------------------


def test_list_pages_and_endpoints_run_a_fixed_number_of_queries(city, client):
    for i in range(30):
        complaint = register(city, title=f"投诉{i}")
        if i % 2:
            triage(city, complaint)
    for persona, url_name in [
        ("supervisor", "rectification:complaint-list"),
        ("liaison_a", "rectification:complaint-list"),
        ("supervisor", "api-complaint-list"),
        ("leader_a", "api-complaint-list"),
    ]:
        client.force_login(city[persona])
        url = reverse(url_name)
        count_queries(client, url, page_size=25)
        small = count_queries(client, url, page_size=25)
        large = count_queries(client, url, page_size=100)
        assert small == large, f"{persona} {url_name}: {small} vs {large}"


def test_the_order_page_links_back_to_its_complaint_for_those_who_may_see_it(city, client):
    complaint = triage(city, register(city))
    order = Rectification.objects.get(complaint=complaint)
    url = reverse("rectification:order-detail", args=[order.pk])
    back = reverse("rectification:complaint-detail", args=[complaint.pk])
    client.force_login(city["supervisor"])
    assert back in client.get(url).content.decode()
    client.force_login(city["leader"])  # the link only where the case itself is visible
    page = client.get(url)
    visible = Complaint.objects.visible_to(city["leader"]).filter(pk=complaint.pk).exists()
    assert (back in page.content.decode()) == visible
