"""Sessions (#9 item 2): idle and absolute limits enforced on the server, automatic polling
that does not count as activity, a new session key at sign-in (no fixation), sign-out and
disabling an account that end sessions on the server, and API tokens deleted with them."""

import datetime as dt
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.authtoken.models import Token

from civilaffairs.models import AuditEvent, UserSession
from civilaffairs.services import user_update
from civilaffairs.session_security import ACTIVE, PASSIVE_HEADER, STARTED, expiry_message
from tests.admin_forms import admin_form_data
from tests.personas import PASSWORD

pytestmark = pytest.mark.django_db

POLL = {f"HTTP_{PASSIVE_HEADER.upper().replace('-', '_')}": "1"}
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def clock(monkeypatch):
    """Move the server's clock: ``clock(minutes=31)`` puts it 31 minutes ahead of now."""
    real_now = timezone.now

    def move(**delta):
        shifted = real_now() + dt.timedelta(**delta)
        monkeypatch.setattr(timezone, "now", lambda: shifted)
        return shifted

    return move


def session_of(client):
    return client.session  # a store on the client's cookie; .save() writes it back


def backdate(client, key, **delta):
    session = session_of(client)
    session[key] -= int(dt.timedelta(**delta).total_seconds())
    session.save()


def cookie(client):
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def replay(key) -> Client:
    """A fresh browser presenting an old session cookie."""
    other = Client()
    other.cookies[settings.SESSION_COOKIE_NAME] = key
    return other


def signed_in(client) -> bool:
    return client.get(reverse("api-user-me")).status_code == 200


def test_defaults():
    assert settings.SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_ABSOLUTE_HOURS == 8
    assert settings.SESSION_COOKIE_AGE == 8 * 3600
    assert settings.SESSION_ENGINE == "civilaffairs.session_store"
    assert "civilaffairs.session_security.SessionLimitsMiddleware" in settings.MIDDLEWARE
    middleware = settings.MIDDLEWARE
    assert middleware.index("civilaffairs.session_security.SessionLimitsMiddleware") > (
        middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    )


# --- Sign-in, fixation, sign-out --------------------------------------------------------


def test_sign_in_gives_a_new_session_key_and_a_planted_one_is_worthless(city, client):
    # The attacker plants a session they know (e.g. through a shared kiosk browser).
    planted = import_module(settings.SESSION_ENGINE).SessionStore()
    planted["harmless"] = "yes"
    planted.create()
    client.cookies[settings.SESSION_COOKIE_NAME] = planted.session_key
    assert client.get(reverse("login")).status_code == 200
    before = cookie(client)
    assert before == planted.session_key

    response = client.post(reverse("login"), {"username": "supervisor", "password": PASSWORD})
    assert response.status_code == 302
    after = cookie(client)
    assert after != before
    assert UserSession.objects.get(session_key=after).user == city["supervisor"]
    # The planted key is gone from the server: whoever holds it is nobody.
    assert not UserSession.objects.filter(session_key=before).exists()
    attacker = replay(before)
    assert not signed_in(attacker)
    assert attacker.get(reverse("home")).status_code == 302


def test_sign_in_starts_the_clocks(city, client, clock):
    at = clock()
    client.force_login(city["supervisor"])
    session = session_of(client)
    assert session[STARTED] == session[ACTIVE] == int(at.timestamp())


def test_sign_out_ends_the_session_on_the_server(city, client):
    client.force_login(city["supervisor"])
    old = cookie(client)
    assert signed_in(client)
    assert client.post(reverse("logout")).status_code == 302
    assert not UserSession.objects.filter(session_key=old).exists()
    stolen = replay(old)
    assert not signed_in(stolen)
    assert stolen.get(reverse("home")).status_code == 302


def test_each_session_row_knows_its_user_even_after_the_key_is_cycled(city, client):
    client.force_login(city["leader"])
    session = session_of(client)
    session.cycle_key()  # e.g. a password change or the second sign-in step
    session.save()
    assert UserSession.objects.filter(user=city["leader"]).count() == 1
    assert UserSession.objects.get(user=city["leader"]).session_key == session.session_key
    assert UserSession.objects.get(user=city["leader"]).get_decoded()[SESSION_KEY] == str(
        city["leader"].pk
    )


# --- Idle and absolute limits -------------------------------------------------------------


def test_idle_session_is_ended_with_a_message_on_the_sign_in_page(city, client):
    client.force_login(city["supervisor"])
    old = cookie(client)
    assert client.get(reverse("home")).status_code == 200
    backdate(client, ACTIVE, minutes=31)
    backdate(client, STARTED, minutes=31)

    response = client.get(reverse("orgunit-list"), {"page": "2"})
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next=/org/%3Fpage%3D2"
    assert not UserSession.objects.filter(session_key=old).exists()
    page = client.get(response.url)
    assert expiry_message("idle") in page.content.decode()
    assert not signed_in(replay(old))
    event = AuditEvent.objects.get(action="session.expire")
    assert event.actor == city["supervisor"]
    assert event.changes["reason"] == "idle"


def test_signing_out_of_an_ended_session_just_signs_out(city, client):
    client.force_login(city["supervisor"])
    backdate(client, ACTIVE, minutes=31)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response.url == reverse("login")
    assert not UserSession.objects.filter(user=city["supervisor"]).exists()


def test_a_session_within_the_idle_limit_stays(city, client):
    client.force_login(city["supervisor"])
    backdate(client, ACTIVE, minutes=29)
    assert client.get(reverse("home")).status_code == 200


def test_activity_keeps_the_session_alive(city, client, clock):
    clock()
    client.force_login(city["supervisor"])
    for minutes in (20, 40, 60, 80):
        clock(minutes=minutes)
        assert client.get(reverse("home")).status_code == 200, minutes
    assert signed_in(client)


def test_absolute_limit_ends_even_an_active_session(city, client, clock):
    clock()
    client.force_login(city["supervisor"])
    for minutes in range(20, 8 * 60, 20):  # active every 20 minutes …
        clock(minutes=minutes)
        assert client.get(reverse("home")).status_code == 200, minutes
    clock(hours=8, seconds=1)  # … until eight hours after the sign-in
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))
    assert expiry_message("absolute") in client.get(response.url).content.decode()
    assert AuditEvent.objects.get(action="session.expire").changes["reason"] == "absolute"


def test_absolute_limit_by_the_stored_start(city, client):
    client.force_login(city["supervisor"])
    backdate(client, STARTED, hours=8)
    assert client.get(reverse("home")).status_code == 302
    assert not UserSession.objects.filter(user=city["supervisor"]).exists()


def test_a_session_signed_in_before_the_limits_existed_is_stamped_not_ended(city, client):
    client.force_login(city["supervisor"])
    session = session_of(client)
    del session[STARTED]
    del session[ACTIVE]
    session.save()
    assert client.get(reverse("home")).status_code == 200
    assert STARTED in session_of(client)


def test_limits_can_be_turned_off(city, client, settings):
    settings.SESSION_IDLE_MINUTES = 0
    settings.SESSION_ABSOLUTE_HOURS = 0
    client.force_login(city["supervisor"])
    backdate(client, ACTIVE, hours=100)
    backdate(client, STARTED, hours=100)
    assert client.get(reverse("home")).status_code == 200


# --- Polling does not count as activity ----------------------------------------------------


def test_polling_does_not_keep_an_open_tab_alive(city, client, clock):
    clock()
    client.force_login(city["supervisor"])
    for minutes in (10, 20, 29):  # the bell polls by itself …
        clock(minutes=minutes)
        assert client.get(reverse("notification-bell"), **HTMX, **POLL).status_code == 200
    clock(minutes=31)  # … but nobody touched the page for 31 minutes
    response = client.get(reverse("notification-bell"), **HTMX, **POLL)
    assert response["HX-Redirect"].startswith(reverse("login"))
    assert not UserSession.objects.filter(user=city["supervisor"]).exists()


def test_the_same_requests_without_the_poll_header_are_activity(city, client, clock):
    clock()
    client.force_login(city["supervisor"])
    for minutes in (10, 20, 29):
        clock(minutes=minutes)
        assert client.get(reverse("notification-bell"), **HTMX).status_code == 200
    clock(minutes=31)
    assert client.get(reverse("notification-bell"), **HTMX).status_code == 200
    assert signed_in(client)


def test_the_polling_elements_mark_their_requests(city, client):
    from civilaffairs import jobs
    from civilaffairs.models import BackgroundJob

    client.force_login(city["supervisor"])
    page = client.get(reverse("home")).content.decode()
    bell = page[page.index('id="notification-bell"') :]
    bell = bell[: bell.index(">")]
    assert 'hx-trigger="every' in bell and '"X-Background-Poll": "1"' in bell

    job = BackgroundJob.objects.create(owner=city["supervisor"], kind="ledger", title="台账")
    assert jobs.job_type("ledger") is not None
    card = client.get(reverse("job-detail", args=[job.uuid]), **HTMX).content.decode()
    assert 'hx-trigger="every' in card and '"X-Background-Poll": "1"' in card


def test_htmx_request_of_an_ended_session_is_sent_to_sign_in(city, client):
    client.force_login(city["supervisor"])
    backdate(client, ACTIVE, minutes=45)
    response = client.get(
        reverse("orgunit-list"),
        **HTMX,
        HTTP_HX_CURRENT_URL="http://testserver/org/?kind=street",
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == f"{reverse('login')}?next=/org/%3Fkind%3Dstreet"


# --- The API --------------------------------------------------------------------------------


def test_api_call_of_an_ended_session_gets_403_json_in_the_catalog_language(city, client):
    client.force_login(city["supervisor"])
    backdate(client, ACTIVE, minutes=31)
    response = client.get(reverse("api-user-me"))
    assert response.status_code == 403
    assert response.json() == {"detail": expiry_message("idle"), "code": "session_expired"}
    assert not UserSession.objects.filter(user=city["supervisor"]).exists()
    assert client.get(reverse("api-user-me")).status_code == 403


def test_api_call_with_a_token_is_judged_on_the_token(city, client):
    token = Token.objects.create(user=city["supervisor"])
    client.force_login(city["supervisor"])
    backdate(client, ACTIVE, minutes=31)
    response = client.get(reverse("api-user-me"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code == 200
    assert not UserSession.objects.filter(user=city["supervisor"]).exists()


# --- Disabling an account ends all its sessions and tokens -----------------------------------


def two_browsers_and_a_token(user):
    browsers = []
    for _ in range(2):
        browser = Client()
        browser.force_login(user)
        assert signed_in(browser)
        browsers.append(browser)
    token = Token.objects.create(user=user)
    return browsers, token


def assert_no_way_in(user, browsers, token):
    assert not UserSession.objects.filter(user=user).exists()
    assert not Token.objects.filter(user=user).exists()
    # Enabled again, the account does not get its old sessions or token back.
    user_update(actor=None, user=user, is_active=True)
    for browser in browsers:
        assert not signed_in(browser)
    api = Client()
    response = api.get(reverse("api-user-me"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert response.status_code in (401, 403)


def test_disabling_through_user_management_ends_sessions_and_tokens(city):
    user = city["leader"]
    browsers, token = two_browsers_and_a_token(user)
    other = Client()
    other.force_login(city["supervisor"])
    user_update(actor=city["sysadmin"], user=user, is_active=False)
    event = AuditEvent.objects.get(action="user.sessions_end", object_id=str(user.pk))
    assert event.changes == {"sessions": 2, "tokens": 1}
    assert event.actor == city["sysadmin"]
    assert_no_way_in(user, browsers, token)
    assert signed_in(other)  # someone else's session is untouched


def test_disabling_in_the_admin_ends_sessions_and_tokens(city, client):
    user = city["leader"]
    browsers, token = two_browsers_and_a_token(user)
    client.force_login(city["sysadmin"])
    url = reverse("admin:civilaffairs_user_change", args=[user.pk])
    data = admin_form_data(client.get(url))
    del data["is_active"]  # the box unticked
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert not user.is_active
    assert AuditEvent.objects.filter(action="user.sessions_end", object_id=str(user.pk)).exists()
    assert_no_way_in(user, browsers, token)


def test_disabling_through_the_users_import_ends_sessions(city):
    from tests.test_imports import keyed_file, run

    user = city["leader"]
    browsers, token = two_browsers_and_a_token(user)
    rows = [{"username": "leader", "real_name": user.real_name, "is_active": "否"}]
    result = run("users", city["sysadmin"], keyed_file("users", rows))
    assert result.ok, result.errors
    assert_no_way_in(user, browsers, token)
