"""The order pages (#4 item 9): to-do, list, detail with its steps, issuing by hand.

Assertions are on status codes, the database and the context, not on Chinese text (the
catalog is regenerated separately); the few that read text say so."""

import datetime as dt
import io

import pytest
from django.contrib.messages import constants as message_levels
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from civilaffairs.models import Attachment, AuditEvent, TimelineEntry
from civilaffairs.workdays import add_working_days
from rectification.choices import RectificationState as S
from rectification.models import ExtensionRequest, Rectification
from tests.rectification_data import evidence, issue, png_bytes, step

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def detail_url(order):
    return reverse("rectification:order-detail", args=[order.pk])


def step_url(order, action):
    return reverse("rectification:order-transition", args=[order.pk, action])


def messages_of(response):
    return [(m.level, str(m)) for m in response.context["messages"]] if response.context else []


def errors_of(response):
    return [text for level, text in messages_of(response) if level == message_levels.ERROR]


def move_deadline(order, days_from_today):
    """Test data only: the service refuses a deadline in the past, as it should."""
    Rectification.objects.filter(pk=order.pk).update(
        deadline=timezone.localdate() + dt.timedelta(days=days_from_today)
    )
    order.refresh_from_db()
    return order


def media_files(settings):
    root = settings.MEDIA_ROOT
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def filed_finding(city):
    """A finding filed on a visit to inst_a, without an order (the after-commit listener that
    issues one does not run inside a test transaction)."""
    from inspections import services as inspections
    from inspections.models import Finding
    from tests.inspection_data import walked_visit

    visit = walked_visit(city)
    inspections.visit_submit(actor=city["inspector"], visit=visit)
    return Finding.objects.filter(visit=visit).filed().get()


# --- To-do and home ------------------------------------------------------------------------


def blocks(response):
    return {b["block"].key: [r["order"].pk for r in b["rows"]] for b in response.context["blocks"]}


def test_todo_blocks_follow_each_role(city, client):
    issued = issue(city)
    acknowledged = step(issue(city, title="灭火器过期"), city["liaison_a"], "acknowledge")
    reported = step(
        step(issue(city, title="值班缺岗"), city["liaison_a"], "acknowledge"),
        city["liaison_a"],
        "submit",
    )
    step(
        issued,
        city["liaison_a"],
        "request_extension",
        new_deadline=issued.deadline + dt.timedelta(days=10),
    )
    overdue_b = move_deadline(
        issue(city, title="床位老化", responsible_unit=city.inst_b, supervising_department=None),
        -3,
    )

    client.force_login(city["liaison_a"])
    seen = blocks(client.get(reverse("rectification:todo")))
    assert seen == {"acknowledge": [issued.pk], "report": [acknowledged.pk]}

    client.force_login(city["liaison_b"])
    seen = blocks(client.get(reverse("rectification:todo")))
    assert seen == {"acknowledge": [overdue_b.pk], "report": []}

    client.force_login(city["supervisor"])
    seen = blocks(client.get(reverse("rectification:todo")))
    assert seen == {"verify": [reported.pk]}

    client.force_login(city["office_head"])
    seen = blocks(client.get(reverse("rectification:todo")))
    assert seen == {"verify": [reported.pk], "extensions": [issued.pk]}

    client.force_login(city["department"])  # 社会救助处 supervises inst_a's orders
    assert blocks(client.get(reverse("rectification:todo"))) == {
        "acknowledge": [],
        "report": [],
        "verify": [reported.pk],
    }
    # An order for the department itself (a complaint or commitment assigned to it) is its
    # own work to acknowledge, as the service allows.
    own = issue(city, title="答复群众来电", responsible_unit=city.dept_relief)
    assert blocks(client.get(reverse("rectification:todo")))["acknowledge"] == [own.pk]
    step(own, city["department"], "acknowledge")
    assert blocks(client.get(reverse("rectification:todo")))["report"] == [own.pk]

    client.force_login(city["leader"])
    assert blocks(client.get(reverse("rectification:todo"))) == {"overdue": [overdue_b.pk]}
    client.force_login(city["leader_a"])  # district A's leader: B's overdue order is not theirs
    assert blocks(client.get(reverse("rectification:todo"))) == {"overdue": []}


def test_the_reporter_is_not_asked_to_verify_their_own_report(city, client):
    from civilaffairs.choices import Role
    from civilaffairs.services import role_grant

    both = city["department"]
    role_grant(actor=None, user=both, role=Role.UNIT_LIAISON, scope=city.inst_a)
    order = step(step(issue(city), both, "acknowledge"), both, "submit")
    client.force_login(both)
    assert blocks(client.get(reverse("rectification:todo")))["verify"] == []
    response = client.get(detail_url(order))
    assert [s["name"] for s in response.context["steps"]] == []
    # The service agrees: a forced POST is refused and changes nothing.
    response = client.post(step_url(order, "verify"), {"version": order.version}, follow=True)
    assert errors_of(response)
    assert Rectification.objects.get(pk=order.pk).state == S.SUBMITTED


@pytest.mark.parametrize("persona", ["auditor", "sysadmin"])
def test_todo_and_list_are_not_for_non_business_roles(city, client, persona):
    client.force_login(city[persona])
    assert client.get(reverse("rectification:todo")).status_code == 403
    assert client.get(reverse("rectification:order-list")).status_code == 403


def test_anonymous_is_sent_to_sign_in(city, client):
    order = issue(city)
    for url in (
        reverse("rectification:todo"),
        reverse("rectification:order-list"),
        reverse("rectification:order-issue"),
        detail_url(order),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    response = client.post(step_url(order, "acknowledge"), {"version": 1})
    assert response.status_code == 302 and "/login/" in response["Location"]
    assert Rectification.objects.get(pk=order.pk).state == S.ISSUED


def test_an_inspector_without_todo_work_sees_an_empty_state(city, client):
    client.force_login(city["inspector"])
    response = client.get(reverse("rectification:todo"))
    assert response.status_code == 200 and response.context["blocks"] == []


def test_home_page_counts_what_is_waiting(city, client):
    issue(city)
    issue(city, title="灭火器过期")
    client.force_login(city["liaison_a"])
    response = client.get(reverse("home"))
    counts = {block.key: n for block, n in response.context["todo"]}
    assert counts == {"acknowledge": 2, "report": 0}
    assert response.context["todo_total"] == 2
    assert reverse("rectification:todo") in response.content.decode()
    client.force_login(city["auditor"])
    assert "todo" not in client.get(reverse("home")).context


# --- List ------------------------------------------------------------------------------------


def listed(client, **params):
    response = client.get(reverse("rectification:order-list"), {"page_size": 100, **params})
    assert response.status_code == 200
    return {obj.pk for obj, _cells in response.context["rows"]}


def test_list_shows_only_orders_in_scope(city, client):
    a = issue(city)
    b = issue(city, title="床位老化", responsible_unit=city.inst_b, supervising_department=None)
    expected = {
        "supervisor": {a.pk, b.pk},
        "office_head": {a.pk, b.pk},
        "leader": {a.pk, b.pk},
        "leader_a": {a.pk},
        "liaison_a": {a.pk},
        "liaison_b": {b.pk},
        "department": {a.pk},
        "inspector": set(),
    }
    for persona, pks in expected.items():
        client.force_login(city[persona])
        assert listed(client) == pks, persona
    client.force_login(city["liaison_b"])
    assert a.code not in client.get(reverse("rectification:order-list")).content.decode()


def test_list_filters_by_overdue_level_state_search_and_pending_extension(city, client):
    today = timezone.localdate()
    soon_limit = add_working_days(today, 3).date  # RECTIFICATION_DUE_SOON_DAYS default
    red = move_deadline(issue(city, title="红牌"), -2)
    yellow = issue(city, title="黄牌", deadline=soon_limit)
    due_today = issue(city, title="今日到期", deadline=today)
    green = issue(city, title="正常", deadline=soon_limit + dt.timedelta(days=1))
    closed_late = step(
        step(
            step(issue(city, title="已销号"), city["liaison_a"], "acknowledge"),
            city["liaison_a"],
            "submit",
        ),
        city["supervisor"],
        "verify",
    )
    move_deadline(closed_late, -5)  # closed orders are never yellow or red
    step(yellow, city["liaison_a"], "request_extension", new_deadline=today + dt.timedelta(30))
    client.force_login(city["supervisor"])
    assert listed(client, overdue_level="red") == {red.pk}
    assert listed(client, overdue_level="yellow") == {yellow.pk, due_today.pk}
    assert listed(client, overdue="true") == {red.pk}
    assert listed(client, state=["issued"]) == {red.pk, yellow.pk, due_today.pk, green.pk}
    assert listed(client, state=["verified", "acknowledged"]) == {closed_late.pk}
    assert listed(client, q="黄牌") == {yellow.pk}
    assert listed(client, q=red.code) == {red.pk}
    assert listed(client, pending_extension="true") == {yellow.pk}
    # A bad filter value lists nothing instead of failing.
    assert listed(client, overdue_level="purple") == set()
    assert listed(client, deadline_from="not-a-date") == set()
    # The API answers the same filters with the same filterset.
    api = client.get(reverse("api-rectification-list"), {"overdue_level": "yellow"}).json()
    assert {row["id"] for row in api["results"]} == {yellow.pk, due_today.pk}
    assert client.get(reverse("api-rectification-list"), {"overdue_level": "x"}).status_code == 400


def test_list_page_marks_overdue_and_provisional_deadlines(city, client):
    red = move_deadline(issue(city, title="红牌"), -2)
    Rectification.objects.filter(pk=red.pk).update(deadline_provisional=True)
    client.force_login(city["supervisor"])
    html = client.get(reverse("rectification:order-list")).content.decode()
    assert "status-overdue" in html and "<abbr" in html
    assert reverse("rectification:order-issue") in html  # the office may issue by hand
    client.force_login(city["liaison_a"])
    html = client.get(reverse("rectification:order-list")).content.decode()
    assert reverse("rectification:order-issue") not in html


def test_htmx_request_gets_only_the_table(city, client):
    issue(city)
    client.force_login(city["supervisor"])
    response = client.get(reverse("rectification:order-list"), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "<html" not in response.content.decode()


def test_export_is_an_excel_ledger_of_the_filtered_orders(city, client):
    import openpyxl

    red = move_deadline(issue(city, title='=HYPERLINK("x")'), -2)
    issue(city, title="另一个")
    issue(city, title="乙区", responsible_unit=city.inst_b, supervising_department=None)
    client.force_login(city["liaison_a"])
    response = client.get(
        reverse("rectification:order-list"), {"export": "xlsx", "overdue_level": "red"}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert len(rows) == 2  # header + the one red order of liaison_a's unit
    header, row = rows
    assert row[header.index(header[0])] == red.code
    assert '=HYPERLINK("x")' in row  # written as text, never a formula
    assert sheet.cell(row=2, column=2).data_type == "s"


def test_list_query_count_does_not_depend_on_page_size(city, client):
    for i in range(60):
        order = issue(city, title=f"问题{i}", priority="high" if i % 2 else "normal")
        if i % 3 == 0:
            step(order, city["liaison_a"], "acknowledge")
        if i % 5 == 0:
            move_deadline(order, -i)
    for persona, url_name in [
        ("supervisor", "rectification:order-list"),
        ("liaison_a", "rectification:order-list"),
        ("supervisor", "api-rectification-list"),
        ("office_head", "api-extension-request-list"),
    ]:
        client.force_login(city[persona])
        url = reverse(url_name)

        def count(size, url=url):
            with CaptureQueriesContext(connection) as captured:
                assert client.get(url, {"page_size": size}).status_code == 200
            return len(captured)

        count(25)
        assert count(25) == count(100), (persona, url_name)


def test_todo_and_detail_query_counts_do_not_grow_with_the_data(city, client):
    client.force_login(city["office_head"])

    def count(url):
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    order = step(step(issue(city), city["liaison_a"], "acknowledge"), city["liaison_a"], "submit")
    step(
        issue(city, title="延期"),
        city["liaison_a"],
        "request_extension",
        new_deadline=timezone.localdate() + dt.timedelta(days=60),
    )
    count(reverse("rectification:todo"))  # warm caches (content types, session)
    count(detail_url(order))
    todo_before, detail_before = count(reverse("rectification:todo")), count(detail_url(order))
    for i in range(8):
        other = step(issue(city, title=f"更多{i}"), city["liaison_a"], "acknowledge")
        step(other, city["liaison_a"], "submit")
        step(
            issue(city, title=f"延期{i}"),
            city["liaison_a"],
            "request_extension",
            new_deadline=timezone.localdate() + dt.timedelta(days=60),
        )
    # The order goes round three more times, each report with two files on the timeline.
    for _round in range(3):
        order = step(order, city["supervisor"], "return")
        order = step(order, city["liaison_a"], "acknowledge")
        order = step(
            order,
            city["liaison_a"],
            "submit",
            attachments=[evidence(city["liaison_a"]), evidence(city["liaison_a"])],
        )
    assert count(reverse("rectification:todo")) == todo_before
    assert count(detail_url(order)) == detail_before


# --- Detail ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("supervisor", 200),
        ("office_head", 200),
        ("leader", 200),
        ("leader_a", 200),
        ("liaison_a", 200),
        ("department", 200),
        ("liaison_b", 404),
        ("inspector", 404),
        ("auditor", 404),
        ("sysadmin", 404),
    ],
)
def test_detail_is_404_outside_ones_view(city, client, persona, status):
    order = issue(city)
    client.force_login(city[persona])
    assert client.get(detail_url(order)).status_code == status


def test_detail_offers_only_the_steps_the_user_may_take_now(city, client):
    order = issue(city)

    def offered(persona):
        client.force_login(city[persona])
        return [s["name"] for s in client.get(detail_url(order)).context["steps"]]

    assert offered("liaison_a") == ["acknowledge", "request_extension"]
    assert offered("supervisor") == ["reassign", "cancel"]
    assert offered("office_head") == ["reassign", "cancel"]
    assert offered("leader") == [] and offered("department") == []
    step(
        order,
        city["liaison_a"],
        "request_extension",
        new_deadline=order.deadline + dt.timedelta(days=5),
    )
    assert offered("liaison_a") == ["acknowledge"]  # one pending request at a time
    assert offered("office_head") == ["reassign", "cancel", "approve_extension", "reject_extension"]
    assert offered("supervisor") == ["reassign", "cancel"]
    order = step(step(order, city["liaison_a"], "acknowledge"), city["liaison_a"], "submit")
    assert offered("liaison_a") == []
    assert offered("department") == ["verify", "return"]
    order = step(order, city["department"], "verify")
    assert offered("supervisor") == ["reopen"]


def test_detail_shows_evidence_extensions_and_the_source_finding(city, client):
    finding = filed_finding(city)
    client.force_login(city["supervisor"])
    order = issue(city, finding=finding, title=finding.title)
    step(
        order,
        city["liaison_a"],
        "request_extension",
        new_deadline=order.deadline + dt.timedelta(days=5),
        note="需采购",
    )
    order = step(order, city["liaison_a"], "acknowledge")
    photo = evidence(city["liaison_a"], name="现场照片.png")
    order = step(order, city["liaison_a"], "submit", attachments=[photo])
    response = client.get(detail_url(order))
    html = response.content.decode()
    assert reverse("inspections:finding-detail", args=[finding.pk]) in html
    assert photo.get_absolute_url() in html and "现场照片.jpg" in html  # re-encoded
    assert [e.pk for e in response.context["extensions"]] == list(
        ExtensionRequest.objects.filter(rectification=order).values_list("pk", flat=True)
    )
    submitted = [e for e in response.context["timeline"] if e.verb == "submit"]
    assert [f.pk for f in submitted[0].files] == [photo.pk]
    # The file is served to whoever sees the order, and to nobody else.
    assert client.get(photo.get_absolute_url()).status_code == 200
    client.force_login(city["liaison_b"])
    assert client.get(photo.get_absolute_url()).status_code == 404


def test_a_timeline_entry_naming_a_bad_or_missing_file_still_renders(city, client):
    from civilaffairs.services import timeline_add

    order = issue(city)
    timeline_add(
        subject=order,
        actor=None,
        verb="submit",
        data={"attachments": ["not-a-uuid", "0b5f8a8e-6f4e-4a59-9d1f-7f4e3c7c2b11", 7]},
    )
    timeline_add(subject=order, actor=None, verb="reassign", data={"unit": ["x", None]})
    client.force_login(city["supervisor"])
    response = client.get(detail_url(order))
    assert response.status_code == 200
    assert all(e.files == [] for e in response.context["timeline"])


# --- Steps through the pages -----------------------------------------------------------------


def test_the_whole_flow_through_the_pages_with_evidence(city, client, settings):
    order = issue(city)
    liaison, office = city["liaison_a"], city["supervisor"]

    client.force_login(liaison)
    response = client.post(step_url(order, "acknowledge"), {"version": 1}, follow=True)
    assert response.redirect_chain[-1][0] == detail_url(order)
    assert [lvl for lvl, _t in messages_of(response)] == [message_levels.SUCCESS]
    order.refresh_from_db()
    assert order.state == S.ACKNOWLEDGED

    files = [
        SimpleUploadedFile("整改后.png", png_bytes(), content_type="image/png"),
        SimpleUploadedFile("整改报告.pdf", PDF, content_type="application/pdf"),
    ]
    response = client.post(
        step_url(order, "submit"),
        {"version": order.version, "note": "通道已清理", "files": files},
        follow=True,
    )
    order.refresh_from_db()
    assert order.state == S.SUBMITTED, errors_of(response)
    stored = Attachment.objects.filter(object_id=order.pk, content_type__model="rectification")
    assert sorted(stored.values_list("original_name", flat=True)) == [
        "整改后.jpg",
        "整改报告.pdf",
    ]  # photos re-encoded
    entry = TimelineEntry.objects.filter(object_id=order.pk, verb="submit").get()
    assert sorted(entry.data["attachments"]) == sorted(str(a.uuid) for a in stored)

    client.force_login(office)
    response = client.post(
        step_url(order, "return"), {"version": order.version, "note": "照片不清晰"}
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.state, order.times_returned) == (S.RETURNED, 1)

    client.force_login(liaison)
    client.post(step_url(order, "acknowledge"), {"version": order.version})
    order.refresh_from_db()
    client.post(
        step_url(order, "submit"),
        {
            "version": order.version,
            "note": "重新拍照",
            "files": [SimpleUploadedFile("新.png", png_bytes())],
        },
    )
    order.refresh_from_db()
    assert order.state == S.SUBMITTED

    client.force_login(city["department"])
    response = client.post(
        step_url(order, "verify"), {"version": order.version, "note": ""}, follow=True
    )
    order.refresh_from_db()
    assert order.state == S.VERIFIED and order.closed_by == city["department"]
    html = response.content.decode()
    assert all(a.get_absolute_url() in html for a in stored)
    verbs = list(
        TimelineEntry.objects.filter(object_id=order.pk)
        .order_by("pk")
        .values_list("verb", flat=True)
    )
    assert verbs == ["issued", "acknowledge", "submit", "return", "acknowledge", "submit", "verify"]


def test_refused_steps_change_nothing_and_say_why(city, client, settings):
    order = issue(city)
    client.force_login(city["liaison_a"])
    before = (TimelineEntry.objects.count(), AuditEvent.objects.count())

    # A step the role may not take (the page never offers it; a forged POST is refused).
    response = client.post(step_url(order, "cancel"), {"version": 1, "note": "x"}, follow=True)
    assert response.status_code == 200 and errors_of(response)
    # A step the state does not allow.
    response = client.post(
        step_url(order, "submit"),
        {"version": 1, "note": "x", "files": [SimpleUploadedFile("a.png", png_bytes())]},
        follow=True,
    )
    assert errors_of(response)
    # A note is needed to ask for more time, and the new deadline must be later.
    response = client.post(
        step_url(order, "request_extension"),
        {"version": 1, "new_deadline": order.deadline.isoformat(), "note": "x"},
        follow=True,
    )
    assert errors_of(response)
    response = client.post(
        step_url(order, "request_extension"),
        {"version": 1, "new_deadline": "2099-13-45"},
        follow=True,
    )
    assert errors_of(response)
    # A missing or non-numeric version is an input error, not a crash.
    assert errors_of(client.post(step_url(order, "acknowledge"), {"version": "abc"}, follow=True))
    assert errors_of(client.post(step_url(order, "acknowledge"), {}, follow=True))

    order.refresh_from_db()
    assert (order.state, order.version) == (S.ISSUED, 1)
    # The forged step is on the audit trail as a refusal; nothing else was written.
    denied = AuditEvent.objects.filter(action="access.denied")
    assert denied.get().changes["path"] == step_url(order, "cancel")
    assert (TimelineEntry.objects.count(), AuditEvent.objects.count() - 1) == before
    assert not Attachment.objects.exists() and media_files(settings) == []


def test_reporting_without_or_with_bad_evidence_stores_nothing(city, client, settings):
    order = step(issue(city), city["liaison_a"], "acknowledge")
    client.force_login(city["liaison_a"])
    url = step_url(order, "submit")
    assert errors_of(client.post(url, {"version": order.version, "note": "已整改"}, follow=True))
    bad = SimpleUploadedFile("photo.png", b"<?php echo 1; ?>" * 20, content_type="image/png")
    good = SimpleUploadedFile("ok.png", png_bytes(), content_type="image/png")
    response = client.post(
        url, {"version": order.version, "note": "已整改", "files": [good, bad]}, follow=True
    )
    # Marked: the file name leads the message whatever the language.
    assert any(text.startswith("photo.png") for text in errors_of(response))
    too_many = [SimpleUploadedFile(f"{i}.png", png_bytes()) for i in range(11)]
    assert errors_of(
        client.post(url, {"version": order.version, "note": "x", "files": too_many}, follow=True)
    )
    order.refresh_from_db()
    assert order.state == S.ACKNOWLEDGED
    assert not Attachment.objects.exists() and media_files(settings) == []


def test_a_stale_version_is_refused_with_a_message_and_leaves_no_file(city, client, settings):
    order = step(issue(city), city["liaison_a"], "acknowledge")
    seen = order.version
    # Someone else acts first (the unit asks for more time: the version moves on).
    step(
        order,
        city["liaison_a"],
        "request_extension",
        new_deadline=order.deadline + dt.timedelta(days=9),
    )
    client.force_login(city["liaison_a"])
    response = client.post(
        step_url(order, "submit"),
        {"version": seen, "note": "已整改", "files": [SimpleUploadedFile("a.png", png_bytes())]},
        follow=True,
    )
    errors = errors_of(response)
    assert errors
    # Marked Chinese: the conflict message asks to reload (刷新) once the catalog is compiled.
    order.refresh_from_db()
    assert order.state == S.ACKNOWLEDGED
    assert not Attachment.objects.exists() and media_files(settings) == []


@pytest.mark.parametrize("persona", ["liaison_b", "inspector", "auditor", "sysadmin"])
def test_steps_on_an_order_out_of_view_are_404(city, client, persona):
    order = issue(city)
    client.force_login(city[persona])
    assert client.post(step_url(order, "acknowledge"), {"version": 1}).status_code == 404
    assert client.post(step_url(order, "cancel"), {"version": 1, "note": "x"}).status_code == 404
    assert Rectification.objects.get(pk=order.pk).state == S.ISSUED


def test_unknown_steps_and_gets_do_not_crash(city, client):
    order = issue(city)
    client.force_login(city["supervisor"])
    assert client.post(step_url(order, "explode"), {"version": 1}).status_code == 404
    assert client.get(step_url(order, "cancel")).status_code == 405
    missing = reverse("rectification:order-transition", args=[999999, "cancel"])
    assert client.post(missing, {"version": 1}).status_code == 404


def test_extension_reassign_cancel_and_reopen_through_the_pages(city, client):
    order = issue(city)
    client.force_login(city["liaison_a"])
    new = order.deadline + dt.timedelta(days=20)
    client.post(
        step_url(order, "request_extension"),
        {"version": 1, "new_deadline": new.isoformat(), "note": "需采购设备"},
    )
    assert ExtensionRequest.objects.get(rectification=order).state == "pending"
    client.force_login(city["supervisor"])  # only the office head decides
    response = client.post(step_url(order, "approve_extension"), {"version": 2}, follow=True)
    assert errors_of(response)
    client.force_login(city["office_head"])
    client.post(step_url(order, "approve_extension"), {"version": 2})
    order.refresh_from_db()
    assert order.deadline == new and order.version == 3

    client.force_login(city["supervisor"])
    response = client.post(
        step_url(order, "reassign"),
        {"version": 3, "note": "属乙区管辖", "responsible_unit": city.inst_b.pk},
    )
    order.refresh_from_db()
    assert order.responsible_unit == city.inst_b and order.state == S.ISSUED
    client.force_login(city["liaison_a"])
    assert client.get(detail_url(order)).status_code == 404
    client.force_login(city["supervisor"])
    assert errors_of(client.post(step_url(order, "cancel"), {"version": 4}, follow=True))  # no note
    client.post(step_url(order, "cancel"), {"version": 4, "note": "重复下发"})
    order.refresh_from_db()
    assert order.state == S.CANCELLED
    client.post(step_url(order, "reopen"), {"version": 5, "note": "误撤销"})
    order.refresh_from_db()
    assert order.state == S.ISSUED


def test_reassign_refuses_a_unit_out_of_view(city, client):
    from civilaffairs.services import orgunit_create

    order = issue(city)
    client.force_login(city["supervisor"])
    response = client.post(
        step_url(order, "reassign"),
        {"version": 1, "note": "x", "responsible_unit": 987654},
        follow=True,
    )
    assert errors_of(response)
    inactive = orgunit_create(
        actor=None,
        parent=city.street_a,
        code="T-X",
        name="已撤并机构",
        kind="institution",
        institution_type="cold_shelter",
        active=False,
    )
    response = client.post(
        step_url(order, "reassign"),
        {"version": 1, "note": "x", "responsible_unit": inactive.pk},
        follow=True,
    )
    assert errors_of(response)
    assert Rectification.objects.get(pk=order.pk).responsible_unit == city.inst_a


# --- Issuing by hand -------------------------------------------------------------------------


def issue_form(city, **overrides):
    data = {
        "responsible_unit": city.inst_a.pk,
        "title": "安全出口指示灯损坏",
        "requirements": "三日内更换",
        "deadline_mode": "days",
        "working_days": "5",
        "deadline": "",
        "supervising_department": city.dept_relief.pk,
        "responsible_person": "",
        "priority": "high",
        "source_type": "finding",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("persona", "status"),
    [
        ("supervisor", 200),
        ("office_head", 200),
        ("liaison_a", 403),
        ("leader", 403),
        ("department", 403),
        ("inspector", 403),
        ("auditor", 403),
    ],
)
def test_only_the_office_may_open_the_issue_page(city, client, persona, status):
    client.force_login(city[persona])
    assert client.get(reverse("rectification:order-issue")).status_code == status
    if status == 403:
        client.post(reverse("rectification:order-issue"), issue_form(city))
        assert not Rectification.objects.exists()


def test_issuing_by_hand_in_working_days_or_by_date(city, client):
    client.force_login(city["supervisor"])
    response = client.post(
        reverse("rectification:order-issue"),
        issue_form(city, responsible_person=city["liaison_a"].pk),
    )
    order = Rectification.objects.get()
    assert response.status_code == 302 and response["Location"] == detail_url(order)
    assert order.deadline_working_days == 5 and order.priority == "high"
    assert order.responsible_person == city["liaison_a"] and order.created_by == city["supervisor"]
    assert order.deadline == add_working_days(timezone.localdate(), 5).date
    date = timezone.localdate() + dt.timedelta(days=12)
    client.post(
        reverse("rectification:order-issue"),
        issue_form(city, deadline_mode="date", deadline=date.isoformat(), working_days=""),
    )
    second = Rectification.objects.latest("pk")
    assert second.deadline == date and second.deadline_working_days is None


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"title": "  "}, "title"),
        ({"working_days": ""}, "working_days"),
        ({"working_days": "0"}, "working_days"),
        ({"working_days": "abc"}, "working_days"),
        ({"deadline_mode": "date", "deadline": ""}, "deadline"),
        ({"deadline_mode": "date", "deadline": "2020-01-01"}, "deadline"),
        ({"deadline_mode": "date", "deadline": "2026-02-30"}, "deadline"),
        ({"responsible_unit": ""}, "responsible_unit"),
        ({"responsible_unit": "999999"}, "responsible_unit"),
        ({"priority": "top"}, "priority"),
        ({"deadline_mode": "never"}, "deadline_mode"),
        ({"responsible_person": "LIAISON_B"}, "responsible_person"),
    ],
)
def test_the_issue_form_refuses_bad_input_and_issues_nothing(city, client, overrides, field):
    if overrides.get("responsible_person") == "LIAISON_B":
        overrides = {"responsible_person": city["liaison_b"].pk}  # not a liaison of inst_a
    client.force_login(city["supervisor"])
    response = client.post(reverse("rectification:order-issue"), issue_form(city, **overrides))
    assert response.status_code == 200
    assert field in response.context["form"].errors, response.context["form"].errors
    assert not Rectification.objects.exists()


def test_issuing_from_a_finding_prefills_and_links_it(city, client):
    finding = filed_finding(city)
    client.force_login(city["supervisor"])
    finding_page = client.get(reverse("inspections:finding-detail", args=[finding.pk]))
    assert finding_page.context["can_issue_order"]
    url = reverse("rectification:order-issue") + f"?finding={finding.pk}"
    assert url in finding_page.content.decode()
    response = client.get(url)
    form = response.context["form"]
    assert form.initial["title"] == finding.title
    assert form.initial["responsible_unit"] == finding.target_id
    assert "source_type" not in form.fields
    data = issue_form(city, title=finding.title)
    data.pop("source_type")
    response = client.post(url, data)
    order = Rectification.objects.get()
    assert order.finding == finding and response["Location"] == detail_url(order)
    finding_page = client.get(reverse("inspections:finding-detail", args=[finding.pk]))
    assert not finding_page.context["can_issue_order"]
    assert finding_page.context["orders"] == [order]


@pytest.mark.parametrize("value", ["abc", "999999", "-1"])
def test_issuing_from_a_missing_finding_is_404(city, client, value):
    client.force_login(city["supervisor"])
    response = client.get(reverse("rectification:order-issue"), {"finding": value})
    assert response.status_code == 404


def test_finding_page_offers_no_issue_button_to_others(city, client):
    finding = filed_finding(city)
    client.force_login(city["liaison_a"])
    page = client.get(reverse("inspections:finding-detail", args=[finding.pk]))
    assert page.status_code == 200 and not page.context["can_issue_order"]
