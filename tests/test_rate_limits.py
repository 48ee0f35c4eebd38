"""Rate limits on signing in and on the expensive pages and endpoints: over the limit the
answer is 429 with a Chinese message and Retry-After, and nothing happens (no token, job,
brief, upload, import or export); the count starts again with the next window; sign-ins and
the public page count per address, the rest per user; with Redis down nothing is limited and
nothing fails."""

import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.translation import gettext
from rest_framework.authtoken.models import Token

from civilaffairs import ratelimit
from civilaffairs.models import Attachment, BackgroundJob
from inspections.models import Photo
from reports import briefs
from reports.models.dashboard import DashboardSnapshot
from tests.complaint_data import commitment
from tests.inspection_data import make_visit
from tests.personas import PASSWORD
from tests.rectification_data import issue, png_bytes, step

pytestmark = pytest.mark.django_db

ADDRESS = "192.0.2.10"
OTHER_ADDRESS = "192.0.2.20"


@pytest.fixture
def clock(monkeypatch):
    """The limits' clock, starting at the beginning of a minute (and of an hour)."""
    moment = [1_800_000_000.0]
    monkeypatch.setattr(ratelimit, "now", lambda: moment[0])
    return moment


@pytest.fixture
def limits(settings, clock):
    """Set the rates under test; a cache namespace of this test's own, so neither earlier
    tests nor parallel runs on the same Redis have counted anything yet."""

    def _limits(**rates):
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "KEY_PREFIX": f"rl-{uuid.uuid4().hex}"}
        }
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, **rates}

    return _limits


def assert_refused(response):
    assert response.status_code == 429
    seconds = int(response["Retry-After"])
    assert 1 <= seconds <= 3600
    message = gettext("Too many requests: please wait %(seconds)s seconds and try again.") % {
        "seconds": seconds
    }
    if response["Content-Type"].startswith("application/json"):
        assert response.json() == {"detail": message, "code": "throttled"}
    else:
        assert message in response.content.decode()


WRONG = "not-the-password"


def sign_in(client, username="supervisor", password=WRONG, address=ADDRESS):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address
    )


# --- signing in ------------------------------------------------------------------------------


def test_login_page_answers_429_after_the_limit_per_address(city, client, limits):
    limits(login="3/m")
    for _ in range(3):
        assert sign_in(client).status_code == 200  # the form again, with its error
    refused = sign_in(client, password=PASSWORD)
    assert_refused(refused)
    assert "_auth_user_id" not in client.session  # even the right password did nothing
    # Another address is counted on its own; GETs of the form are not counted.
    assert client.get(reverse("login"), REMOTE_ADDR=ADDRESS).status_code == 200
    assert sign_in(client, address=OTHER_ADDRESS).status_code == 200


def test_login_limit_starts_again_with_the_next_window(city, client, limits, clock):
    limits(login="2/m")
    sign_in(client), sign_in(client)
    assert_refused(sign_in(client))
    clock[0] += 60
    response = sign_in(client, password=PASSWORD)
    assert response.status_code == 302
    assert "_auth_user_id" in client.session


def test_admin_login_is_limited_too(city, client, limits):
    limits(login="1/m")
    url = reverse("admin:login")
    data = {"username": "sysadmin", "password": "wrong"}
    assert client.post(url, data, REMOTE_ADDR=ADDRESS).status_code == 200
    assert_refused(client.post(url, data, REMOTE_ADDR=ADDRESS))


def test_two_factor_code_step_is_limited_too(city, client, limits):
    limits(login="1/m")
    client.force_login(city["supervisor"])
    url = reverse("otp-verify")
    assert client.post(url, {"otp": "000000"}, REMOTE_ADDR=ADDRESS).status_code != 429
    assert_refused(client.post(url, {"otp": "000000"}, REMOTE_ADDR=ADDRESS))


def test_api_token_endpoint_answers_429_without_issuing_a_token(city, client, limits):
    limits(login="2/m")
    url = reverse("api-token")
    wrong = {"username": "supervisor", "password": "wrong"}
    assert client.post(url, wrong, REMOTE_ADDR=ADDRESS).status_code == 400
    assert client.post(url, wrong, REMOTE_ADDR=ADDRESS).status_code == 400
    refused = client.post(
        url, {"username": "supervisor", "password": PASSWORD}, REMOTE_ADDR=ADDRESS
    )
    assert_refused(refused)
    assert not Token.objects.exists()
    ok = client.post(
        url, {"username": "supervisor", "password": PASSWORD}, REMOTE_ADDR=OTHER_ADDRESS
    )
    assert ok.status_code == 200
    assert Token.objects.count() == 1


# --- exports ---------------------------------------------------------------------------------


def test_export_answers_429_per_user(city, client, limits):
    limits(export="2/m")
    url = reverse("orgunit-list") + "?export=xlsx"
    client.force_login(city["supervisor"])
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    refused = client.get(url)
    assert_refused(refused)
    assert refused["Content-Type"].startswith("text/html")  # a page for people
    # The list itself is not limited, and another user has their own count.
    assert client.get(reverse("orgunit-list")).status_code == 200
    client.force_login(city["office_head"])
    assert client.get(url).status_code == 200


def test_confirmed_background_export_answers_429_without_a_job(city, client, limits):
    limits(export="1/m")
    client.force_login(city["supervisor"])
    url = reverse("orgunit-list")
    assert client.post(url, {"export": "xlsx"}).status_code == 302
    assert BackgroundJob.objects.count() == 1
    assert_refused(client.post(url, {"export": "xlsx"}))
    assert BackgroundJob.objects.count() == 1


# --- briefs, dashboard -------------------------------------------------------------------------


def test_brief_page_and_api_answer_429_without_a_brief(city, client, limits, settings):
    settings.JOBS_MAX_ACTIVE_PER_USER = 100
    limits(brief="1/m")
    client.force_login(city["leader"])
    assert client.post(reverse("reports:brief-create"), {"preset": "month"}).status_code == 302
    assert_refused(client.post(reverse("reports:brief-create"), {"preset": "month"}))
    assert BackgroundJob.objects.filter(kind=briefs.KIND).count() == 1
    # The API counts on its own.
    assert client.post("/api/v1/briefs/", {"preset": "month"}).status_code == 202
    assert_refused(client.post("/api/v1/briefs/", {"preset": "month"}))
    assert BackgroundJob.objects.filter(kind=briefs.KIND).count() == 2
    # Reading the briefs is not limited.
    assert client.get("/api/v1/briefs/").status_code == 200
    assert client.get(reverse("reports:brief-list")).status_code == 200


def test_dashboard_refresh_answers_429_without_recomputing(city, client, limits):
    limits(dashboard_refresh="1/m")
    client.force_login(city["leader"])
    url = reverse("reports:dashboard")
    assert client.get(url + "?refresh=1").status_code == 200
    computed = list(DashboardSnapshot.objects.values_list("pk", "computed_at"))
    assert_refused(client.get(url + "?refresh=1"))
    assert list(DashboardSnapshot.objects.values_list("pk", "computed_at")) == computed
    assert client.get(url).status_code == 200  # the page from its snapshot is not limited


# --- imports and uploads ---------------------------------------------------------------------


def xlsx_upload():
    from tests.test_imports import good_units, org_file

    return org_file(good_units())


def test_import_page_and_api_answer_429_without_storing_the_file(city, client, limits):
    limits(**{"import": "1/m"})
    client.force_login(city["sysadmin"])
    url = reverse("imports:upload", args=["org-units"])
    assert client.post(url, {"file": xlsx_upload()}).status_code == 200
    stored = Attachment.objects.count()
    assert stored == 1  # the checked file, kept for the confirmation
    assert_refused(client.post(url, {"file": xlsx_upload()}))
    assert_refused(client.post(reverse("imports:commit", args=["org-units"]), {"token": "x"}))
    assert Attachment.objects.count() == stored
    api = "/api/v1/imports/org-units/"
    assert client.post(api, {"file": xlsx_upload()}).status_code == 200
    assert_refused(client.post(api, {"file": xlsx_upload(), "dry_run": "false"}))
    assert not city.root.children.filter(code="N-A").exists()


def test_attachment_and_photo_uploads_answer_429_without_storing(city, client, limits):
    limits(upload="1/m")
    client.force_login(city["inspector"])

    def png():
        return SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")

    assert client.post("/api/v1/attachments/", {"file": png()}).status_code == 201
    assert_refused(client.post("/api/v1/attachments/", {"file": png()}))
    assert Attachment.objects.count() == 1

    limits(upload="1/m")  # a fresh count: photos share the scope
    visit = make_visit(city)
    from inspections import services

    services.visit_checkin(actor=city["inspector"], visit=visit, latitude=23.12, longitude=113.26)
    from tests.flash_data import jpeg_bytes

    def photo():
        return {
            "visit": visit.pk,
            "kind": "evidence",
            "file": SimpleUploadedFile("p.jpg", jpeg_bytes((400, 300)), content_type="image/jpeg"),
        }

    assert client.post("/api/v1/photos/", photo()).status_code == 201
    assert_refused(client.post("/api/v1/photos/", photo()))
    assert Photo.objects.count() == 1


def test_order_step_with_files_is_limited_and_changes_nothing(city, client, limits):
    limits(upload="1/m")
    order = issue(city)
    step(order, city["liaison_a"], "acknowledge")
    client.force_login(city["liaison_a"])
    url = reverse("rectification:order-transition", args=[order.pk, "submit"])

    def submit():
        order.refresh_from_db()
        evidence = SimpleUploadedFile("e.png", png_bytes(), content_type="image/png")
        return client.post(url, {"version": order.version, "note": "已整改", "files": [evidence]})

    assert submit().status_code == 302
    order.refresh_from_db()
    assert order.state == "submitted"
    state, version, attachments = order.state, order.version, Attachment.objects.count()
    assert_refused(submit())
    order.refresh_from_db()
    assert (order.state, order.version, Attachment.objects.count()) == (
        state,
        version,
        attachments,
    )


# --- the public page -------------------------------------------------------------------------


def test_public_commitments_page_is_limited_per_address(city, client, limits, clock):
    commitment(city)
    limits(public="2/m")
    url = reverse("public-commitments")
    for _ in range(2):
        assert client.get(url, REMOTE_ADDR=ADDRESS).status_code == 200
    refused = client.get(url, REMOTE_ADDR=ADDRESS)
    assert_refused(refused)
    assert client.get(url, REMOTE_ADDR=OTHER_ADDRESS).status_code == 200
    clock[0] += 60
    assert client.get(url, REMOTE_ADDR=ADDRESS).status_code == 200


def test_api_limit_starts_again_with_the_next_window(city, client, limits, clock, settings):
    settings.JOBS_MAX_ACTIVE_PER_USER = 100
    limits(brief="1/m")
    client.force_login(city["leader"])
    assert client.post("/api/v1/briefs/", {"preset": "month"}).status_code == 202
    assert_refused(client.post("/api/v1/briefs/", {"preset": "month"}))
    clock[0] += 61
    assert client.post("/api/v1/briefs/", {"preset": "month"}).status_code == 202


# --- Redis down: fail open ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "backend",
    ["civilaffairs.cache.ResilientRedisCache", "django.core.cache.backends.redis.RedisCache"],
)
def test_with_the_cache_down_nothing_is_limited_and_nothing_fails(
    city, client, limits, settings, caplog, backend
):
    limits(login="1/m", export="1/m", brief="1/m", public="1/m")
    settings.JOBS_MAX_ACTIVE_PER_USER = 100
    # The project's cache backend, and Django's plain one (which raises when Redis is down).
    settings.CACHES = {
        "default": {
            "BACKEND": backend,
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    caplog.set_level("WARNING")
    for _ in range(3):
        assert sign_in(client).status_code == 200
    assert client.get(reverse("public-commitments"), REMOTE_ADDR=ADDRESS).status_code == 200
    assert client.get(reverse("public-commitments"), REMOTE_ADDR=ADDRESS).status_code == 200
    client.force_login(city["leader"])
    for _ in range(2):
        assert client.post("/api/v1/briefs/", {"preset": "month"}).status_code == 202
    assert any("not applied" in r.getMessage() for r in caplog.records)
