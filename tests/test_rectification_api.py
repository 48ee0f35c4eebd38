"""The order API (#4 item 9): issuing, uploads that become evidence, extension requests, and
the order detail with its attachments and extensions."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from civilaffairs.models import Attachment
from rectification.choices import RectificationState as S
from rectification.models import Rectification
from tests.rectification_data import issue, png_bytes, step

pytestmark = pytest.mark.django_db


def issue_payload(city, **overrides):
    payload = {
        "responsible_unit": city.inst_a.pk,
        "title": "安全出口指示灯损坏",
        "requirements": "更换指示灯",
        "working_days": 5,
        "supervising_department": city.dept_relief.pk,
        "priority": "high",
    }
    payload.update(overrides)
    return payload


def post_json(client, url, data):
    return client.post(url, data, content_type="application/json")


def upload(client, name="整改后.png", content=None, **extra):
    return client.post(
        reverse("api-attachment-list"),
        {"file": SimpleUploadedFile(name, content or png_bytes()), **extra},
    )


# --- Issuing ---------------------------------------------------------------------------------


def test_the_office_issues_an_order_through_the_api(city, client):
    client.force_login(city["office_head"])
    response = post_json(client, reverse("api-rectification-list"), issue_payload(city))
    assert response.status_code == 201, response.json()
    body = response.json()
    order = Rectification.objects.get(pk=body["id"])
    assert order.created_by == city["office_head"] and order.deadline_working_days == 5
    assert body["state"] == S.ISSUED and body["attachments"] == [] and body["extensions"] == []
    date = (timezone.localdate() + dt.timedelta(days=9)).isoformat()
    response = post_json(
        client,
        reverse("api-rectification-list"),
        issue_payload(city, working_days=None, deadline=date),
    )
    assert response.status_code == 201 and response.json()["deadline"] == date


@pytest.mark.parametrize(
    "persona", ["liaison_a", "department", "leader", "inspector", "auditor", "sysadmin"]
)
def test_only_the_office_issues(city, client, persona):
    client.force_login(city[persona])
    response = post_json(client, reverse("api-rectification-list"), issue_payload(city))
    assert response.status_code == 403
    assert not Rectification.objects.exists()


def test_anonymous_cannot_issue(city, client):
    response = post_json(client, reverse("api-rectification-list"), issue_payload(city))
    assert response.status_code in (401, 403)


@pytest.mark.parametrize(
    "overrides",
    [
        {"title": "  "},
        {"working_days": None},
        {"working_days": 0},
        {"working_days": 5, "deadline": "2099-01-01"},
        {"working_days": None, "deadline": "2020-01-01"},
        {"working_days": None, "deadline": "yesterday"},
        {"responsible_unit": 999999},
        {"responsible_unit": None},
        {"finding": 999999},
        {"priority": "top"},
        {"supervising_department": "x"},
    ],
)
def test_bad_issue_input_is_400_and_issues_nothing(city, client, overrides):
    client.force_login(city["supervisor"])
    response = post_json(
        client, reverse("api-rectification-list"), issue_payload(city, **overrides)
    )
    assert response.status_code == 400, response.content
    assert not Rectification.objects.exists()


def test_issuing_for_a_finding_links_it(city, client):
    from tests.test_rectification_pages import filed_finding

    finding = filed_finding(city)
    client.force_login(city["supervisor"])
    response = post_json(
        client,
        reverse("api-rectification-list"),
        issue_payload(city, finding=finding.pk, priority=None),
    )
    assert response.status_code == 201
    order = Rectification.objects.get()
    assert order.finding == finding and response.json()["finding"] == finding.pk


# --- Uploads become evidence ----------------------------------------------------------------


def test_upload_then_report_with_the_uuid(city, client):
    order = step(issue(city), city["liaison_a"], "acknowledge")
    client.force_login(city["liaison_a"])
    uploaded = upload(client, description="整改后照片")
    assert uploaded.status_code == 201, uploaded.content
    body = uploaded.json()
    assert set(body) >= {"uuid", "name", "size", "sha256", "url"}
    assert body["name"] == "整改后.jpg" and len(body["sha256"]) == 64
    # Before it is attached it is the uploader's alone.
    detail = reverse("api-attachment-detail", args=[body["uuid"]])
    assert client.get(detail).status_code == 200
    url = reverse("api-rectification-transition", args=[order.pk])
    response = post_json(
        client,
        url,
        {
            "action": "submit",
            "note": "已整改",
            "version": order.version,
            "attachments": [body["uuid"]],
        },
    )
    assert response.status_code == 200, response.json()
    report = response.json()
    assert report["state"] == S.SUBMITTED
    assert [a["uuid"] for a in report["attachments"]] == [body["uuid"]]
    assert report["attachments"][0]["url"] == body["url"]
    client.force_login(city["supervisor"])
    got = client.get(reverse("api-rectification-detail", args=[order.pk])).json()
    assert [a["uuid"] for a in got["attachments"]] == [body["uuid"]]
    assert client.get(detail).status_code == 200
    client.force_login(city["liaison_b"])
    assert client.get(detail).status_code == 404


def test_someone_elses_upload_cannot_be_reported(city, client):
    order = step(issue(city), city["liaison_a"], "acknowledge")
    client.force_login(city["liaison_b"])
    foreign = upload(client).json()["uuid"]
    client.force_login(city["liaison_a"])
    assert client.get(reverse("api-attachment-detail", args=[foreign])).status_code == 404
    response = post_json(
        client,
        reverse("api-rectification-transition", args=[order.pk]),
        {"action": "submit", "note": "x", "version": order.version, "attachments": [foreign]},
    )
    assert response.status_code == 400
    assert Rectification.objects.get(pk=order.pk).state == S.ACKNOWLEDGED
    assert Attachment.objects.get(uuid=foreign).object_id is None


@pytest.mark.parametrize(
    ("name", "content"),
    [("x.png", b""), ("x.png", b"<?php echo 1; ?>" * 10), ("x.svg", b"<svg></svg>")],
)
def test_a_bad_upload_is_400_and_stores_nothing(city, client, name, content):
    client.force_login(city["liaison_a"])
    response = client.post(
        reverse("api-attachment-list"), {"file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 400
    assert "detail" in response.json() or "file" in response.json()
    assert not Attachment.objects.exists()


def test_upload_needs_a_file_and_a_business_role(city, client):
    client.force_login(city["liaison_a"])
    assert client.post(reverse("api-attachment-list"), {}).status_code == 400
    for persona in ("auditor", "sysadmin"):
        client.force_login(city[persona])
        assert upload(client).status_code == 403
    client.logout()
    assert upload(client).status_code in (401, 403)
    assert not Attachment.objects.exists()


# --- Extension requests ----------------------------------------------------------------------


def test_extension_requests_are_listed_within_view_and_filtered_by_state(city, client):
    a = issue(city)
    b = issue(city, title="乙区", responsible_unit=city.inst_b, supervising_department=None)
    step(a, city["liaison_a"], "request_extension", new_deadline=a.deadline + dt.timedelta(5))
    step(b, city["liaison_b"], "request_extension", new_deadline=b.deadline + dt.timedelta(5))
    step(b, city["office_head"], "reject_extension", note="理由不充分")
    url = reverse("api-extension-request-list")

    def ids(persona, **params):
        client.force_login(city[persona])
        response = client.get(url, params)
        assert response.status_code == 200, (persona, response.content)
        return [row["rectification"] for row in response.json()["results"]]

    assert sorted(ids("office_head")) == sorted([a.pk, b.pk])
    assert ids("office_head", state="pending") == [a.pk]
    assert ids("office_head", state="rejected") == [b.pk]
    assert ids("liaison_a") == [a.pk]
    assert ids("liaison_b") == [b.pk]
    assert ids("office_head", rectification=b.pk) == [b.pk]
    client.force_login(city["office_head"])
    assert client.get(url, {"state": "maybe"}).status_code == 400
    client.force_login(city["auditor"])
    assert client.get(url).status_code == 403
    client.force_login(city["liaison_b"])
    extension = a.extensions.get()
    detail = reverse("api-extension-request-detail", args=[extension.pk])
    assert client.get(detail).status_code == 404


def test_order_detail_lists_its_extensions(city, client):
    order = issue(city)
    step(
        order, city["liaison_a"], "request_extension", new_deadline=order.deadline + dt.timedelta(7)
    )
    client.force_login(city["liaison_a"])
    body = client.get(reverse("api-rectification-detail", args=[order.pk])).json()
    assert [e["state"] for e in body["extensions"]] == ["pending"]
    assert body["extensions"][0]["rectification_code"] == order.code
    # The list stays lean: no per-order attachment or extension queries.
    row = client.get(reverse("api-rectification-list")).json()["results"][0]
    assert "attachments" not in row and "extensions" not in row


def test_the_responsible_person_must_serve_the_unit(city, client):
    client.force_login(city["supervisor"])
    url = reverse("api-rectification-list")
    wrong = post_json(client, url, issue_payload(city, responsible_person=city["liaison_b"].pk))
    assert wrong.status_code == 400 and "responsible_person" in wrong.json()
    right = post_json(client, url, issue_payload(city, responsible_person=city["liaison_a"].pk))
    assert right.status_code == 201
    assert Rectification.objects.get().responsible_person == city["liaison_a"]
