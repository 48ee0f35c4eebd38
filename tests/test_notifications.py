"""Notifications (#4): each step tells the other side; e-mail, text message, group robots and
the daily digest each deliver once; the timeline is the queue."""

import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core import mail

from civilaffairs import notifications
from civilaffairs.choices import NotificationKind
from civilaffairs.models import Delivery, Notification, TimelineEntry, WebhookEndpoint
from civilaffairs.sms import MemoryBackend
from tests.rectification_data import issue, step

pytestmark = pytest.mark.django_db


def dispatch_all():
    for pk in TimelineEntry.objects.filter(notified_at__isnull=True).values_list("pk", flat=True):
        notifications.dispatch_timeline_entry(pk)


def told(user, **filters):
    return list(Notification.objects.filter(recipient=user, **filters).order_by("pk"))


def test_each_step_tells_the_other_side_once(city):
    order = issue(city)
    dispatch_all()
    assert [n.kind for n in told(city["liaison_a"])] == [NotificationKind.UPDATE]
    assert not told(city["liaison_b"]) and not told(city["supervisor"])  # the issuer acted
    step(order, city["liaison_a"], "acknowledge")
    order = step(order, city["liaison_a"], "submit")
    dispatch_all()
    # The report goes to who verifies: the issuer and the supervising department.
    assert len(told(city["supervisor"])) == 2  # acknowledged, reported
    assert len(told(city["department"])) == 1
    step(order, city["department"], "return", note="照片不清晰")
    dispatch_all()
    returned = told(city["liaison_a"])[-1]
    assert "照片不清晰" in returned.body and order.code in returned.title
    assert returned.url.endswith(f"/{order.pk}/") or returned.url == ""
    # A second dispatch of the same entries tells nobody again.
    before = Notification.objects.count()
    for entry in TimelineEntry.objects.all():
        assert notifications.dispatch_timeline_entry(entry.pk) is False
    assert Notification.objects.count() == before


def test_extension_requests_go_to_the_office_head(city):
    order = issue(city)
    step(
        order,
        city["liaison_a"],
        "request_extension",
        new_deadline=order.deadline + dt.timedelta(days=9),
    )
    dispatch_all()
    assert len(told(city["office_head"])) == 1
    assert not told(city["supervisor"])


def test_email_follows_preferences_and_is_sent_once(city):
    person = city["liaison_a"]
    person.email = "a@example.gov.cn"
    person.save()
    [note] = notifications.notify(recipients=[person], kind="update", title="测试", event_key="t:1")
    assert notifications.deliver(note.pk) == ["email"]
    assert notifications.deliver(note.pk) == []  # a retried task sends nothing twice
    assert len(mail.outbox) == 1 and "测试" in mail.outbox[0].subject
    notifications.preference_update(actor=person, email=False)
    [quiet] = notifications.notify(recipients=[person], kind="update", title="二", event_key="t:2")
    assert notifications.deliver(quiet.pk) == [] and len(mail.outbox) == 1


def test_text_messages_only_for_urgent_kinds_when_asked(city, settings):
    settings.SMS_BACKEND = "civilaffairs.sms.MemoryBackend"
    MemoryBackend.outbox.clear()
    person = city["liaison_a"]
    notifications.preference_update(actor=person, sms=True, email=False)
    [update] = notifications.notify(recipients=[person], kind="update", title="u", event_key="1")
    [overdue] = notifications.notify(recipients=[person], kind="overdue", title="o", event_key="2")
    assert notifications.deliver(update.pk) == []
    assert notifications.deliver(overdue.pk) == ["sms"]
    assert notifications.deliver(overdue.pk) == []
    assert [phone for phone, _text in MemoryBackend.outbox] == [person.phone]
    logged = Delivery.objects.get(channel="sms")
    assert logged.target == "139****5678" and logged.status == "sent"


def test_the_logging_sms_backend_masks_the_number(caplog):
    from civilaffairs.sms import LoggingBackend

    with caplog.at_level("INFO", logger="civilaffairs.sms"):
        reference = LoggingBackend().send("13912345678", "逾期提醒")
    assert reference.startswith("log-")
    assert "139****5678" in caplog.text and "13912345678" not in caplog.text


def test_the_daily_digest_collects_each_notification_once(city):
    person = city["liaison_a"]
    person.email = "a@example.gov.cn"
    person.save()
    notifications.preference_update(actor=person, digest=True)
    first = notifications.notify(recipients=[person], kind="update", title="甲", event_key="1")
    assert notifications.deliver(first[0].pk) == []  # no single e-mail when on the digest
    notifications.notify(recipients=[person], kind="overdue", title="乙", event_key="2")
    assert notifications.send_digests() == 1
    assert notifications.send_digests() == 0
    assert len(mail.outbox) == 1
    assert "甲" in mail.outbox[0].body and "乙" in mail.outbox[0].body


class _Robot(BaseHTTPRequestHandler):
    received: list = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Robot.received.append((self.path, json.loads(body)))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"errcode": 0, "errmsg": "ok"}')

    def log_message(self, *args):
        pass


@pytest.fixture
def robot_server():
    _Robot.received = []
    server = HTTPServer(("127.0.0.1", 0), _Robot)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def test_group_robots_of_the_unit_and_above_post_each_event_once(city, robot_server):
    district = WebhookEndpoint.objects.create(
        unit=city.district_a, name="甲区工作群", url=f"{robot_server}/wecom?key=k"
    )
    signed = WebhookEndpoint.objects.create(
        unit=city.inst_a,
        name="庇护站钉钉群",
        kind="dingtalk",
        url=f"{robot_server}/robot/send?access_token=t",
        secret="SECtest",
        kinds=["overdue"],
    )
    WebhookEndpoint.objects.create(unit=city.district_b, name="乙区", url=f"{robot_server}/b")
    assert set(WebhookEndpoint.objects.for_unit(city.inst_a)) == {district, signed}
    assert notifications.post_to_robot(district.pk, "alert:1", "【五五督查】逾期") is True
    assert notifications.post_to_robot(district.pk, "alert:1", "【五五督查】逾期") is False
    assert notifications.post_to_robot(signed.pk, "alert:1", "【五五督查】逾期") is True
    assert len(_Robot.received) == 2
    path, payload = _Robot.received[1]
    assert payload == {"msgtype": "text", "text": {"content": "【五五督查】逾期"}}
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(path).query)
    expected = hmac.new(
        b"SECtest", f"{query['timestamp'][0]}\nSECtest".encode(), hashlib.sha256
    ).digest()
    assert query["sign"][0] == base64.b64encode(expected).decode()
    assert signed.wants("overdue") and not signed.wants("update")


def test_a_failing_robot_is_logged_not_raised(city):
    endpoint = WebhookEndpoint.objects.create(
        unit=city.inst_a, name="坏地址", url="http://127.0.0.1:9/none"
    )
    assert notifications.post_to_robot(endpoint.pk, "e:1", "x") is False
    logged = Delivery.objects.get(endpoint=endpoint)
    assert logged.status == "failed" and logged.detail


def test_marking_read_touches_only_ones_own(city):
    mine = notifications.notify(recipients=[city["liaison_a"]], kind="update", title="a")
    theirs = notifications.notify(recipients=[city["liaison_b"]], kind="update", title="b")
    assert notifications.mark_read(actor=city["liaison_a"], ids=[mine[0].pk, theirs[0].pk]) == 1
    assert Notification.objects.get(pk=theirs[0].pk).read_at is None


def test_a_broker_outage_does_not_fail_the_step(
    city, monkeypatch, django_capture_on_commit_callbacks
):
    from civilaffairs import tasks

    def down(*args, **kwargs):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.dispatch_timeline, "delay", down)
    with django_capture_on_commit_callbacks(execute=True):
        order = issue(city)
    # The sweep delivers what the lost task did not.
    assert notifications.dispatch_pending() == 1
    assert told(city["liaison_a"])[0].object_id == order.pk


def test_bell_list_open_and_read_all_pages(city, client):
    from django.urls import reverse

    person = city["liaison_a"]
    [first] = notifications.notify(
        recipients=[person], kind="overdue", title="ZG2026-0001 逾期", url="/rectification/"
    )
    notifications.notify(recipients=[person], kind="update", title="第二条")
    notifications.notify(recipients=[city["liaison_b"]], kind="update", title="别人的")
    client.force_login(person)
    home = client.get(reverse("home")).content.decode()
    assert 'id="notification-bell"' in home and ">2<" in home.replace(" ", "")
    listed = client.get(reverse("notification-list")).content.decode()
    assert "ZG2026-0001 逾期" in listed and "别人的" not in listed
    assert client.get(reverse("notification-list"), {"kind": "nonsense"}).status_code == 200
    opened = client.get(reverse("notification-open", args=[first.pk]))
    assert opened.status_code == 302 and opened["Location"] == "/rectification/"
    assert Notification.objects.get(pk=first.pk).read_at is not None
    other = Notification.objects.get(title="别人的")
    assert client.get(reverse("notification-open", args=[other.pk])).status_code == 404
    assert client.post(reverse("notification-read-all")).status_code == 302
    assert not Notification.objects.filter(recipient=person, read_at__isnull=True).exists()
    assert Notification.objects.get(pk=other.pk).read_at is None
    bell = client.get(reverse("notification-bell")).content.decode()
    assert "badge" not in bell


def test_a_notification_never_redirects_off_site(city, client):
    from django.urls import reverse

    [evil] = notifications.notify(
        recipients=[city["liaison_a"]], kind="update", title="x", url="https://evil.example/"
    )
    client.force_login(city["liaison_a"])
    response = client.get(reverse("notification-open", args=[evil.pk]))
    assert response["Location"] == reverse("notification-list")


def test_preferences_page_saves_and_audits(city, client):
    from django.urls import reverse

    from civilaffairs.models import AuditEvent

    client.force_login(city["liaison_a"])
    assert client.get(reverse("notification-preferences")).status_code == 200
    response = client.post(reverse("notification-preferences"), {"sms": "on", "digest": "on"})
    assert response.status_code == 302
    preference = city["liaison_a"].notification_preference
    assert (preference.email, preference.sms, preference.digest) == (False, True, True)
    assert AuditEvent.objects.filter(action="notification.preferences").count() == 1


def test_notification_api(city, client):
    person = city["liaison_a"]
    notifications.notify(recipients=[person], kind="overdue", title="甲")
    notifications.notify(recipients=[city["liaison_b"]], kind="update", title="乙")
    client.force_login(person)
    listed = client.get("/api/v1/notifications/").json()
    assert [row["title"] for row in listed["results"]] == ["甲"]
    assert client.get("/api/v1/notifications/unread-count/").json() == {"count": 1}
    assert client.get("/api/v1/notifications/", {"unread": "false"}).json()["count"] == 0
    other = Notification.objects.get(title="乙")
    assert client.get(f"/api/v1/notifications/{other.pk}/").status_code == 404
    marked = client.post("/api/v1/notifications/mark-read/", {}, content_type="application/json")
    assert marked.json() == {"count": 1}
    bad = client.put(
        "/api/v1/notifications/preferences/", {"sms": "maybe"}, content_type="application/json"
    )
    assert bad.status_code == 400 and "sms" in str(bad.json())
    ok = client.put(
        "/api/v1/notifications/preferences/",
        {"email": False, "sms": True, "digest": False},
        content_type="application/json",
    )
    assert ok.json() == {"email": False, "sms": True, "digest": False}


def test_robots_api_is_for_system_administrators(city, client):
    client.force_login(city["supervisor"])
    assert client.get("/api/v1/webhooks/").status_code == 403
    client.force_login(city["sysadmin"])
    bad = client.post(
        "/api/v1/webhooks/",
        {"unit": city.district_a.pk, "name": "群", "url": "file:///etc/passwd", "kinds": []},
        content_type="application/json",
    )
    assert bad.status_code == 400
    created = client.post(
        "/api/v1/webhooks/",
        {
            "unit": city.district_a.pk,
            "name": "甲区工作群",
            "kind": "dingtalk",
            "url": "https://oapi.example.gov.cn/robot/send?access_token=x",
            "secret": "SECabc",
            "kinds": ["overdue", "escalation"],
        },
        content_type="application/json",
    )
    assert created.status_code == 201 and "secret" not in created.json()
    assert WebhookEndpoint.objects.get().secret == "SECabc"
