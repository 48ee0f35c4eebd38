"""Sign-in security (#9 item 1): the password policy, lockout after failures on every sign-in
path, TOTP two-factor sign-in, and no password in any log or audit row.

These tests sign in through the real pages and endpoints (the conftest's force_login marks a
session as having passed the second step; here, where that step is the subject, sessions
are made with ``sign_in`` or with a plain, unverified ``login`` instead)."""

import datetime as dt
import logging
import re
from base64 import b32decode

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.urls import reverse
from django.utils import timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token

from civilaffairs import security
from civilaffairs.models import AuditEvent, PasswordHistory, User
from tests.chromium import CHROMEDRIVER, CHROMIUM, MISSING_REASON, next_totp_token, start_chromium
from tests.personas import PASSWORD

REQUIRED = ["sysadmin", "auditor", "office_head", "leader"]
LOCKED_TEXT = "登录失败次数过多"


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    # The per-address rate limit of sign-in forms (another feature) would answer 429 before
    # the lockout these tests count; the lockout is what is tested here.
    limits = getattr(settings, "RATE_LIMITS", None)
    if limits is not None:
        settings.RATE_LIMITS = {**limits, "login": ""}


@pytest.fixture(autouse=True)
def _chinese():
    with translation.override("zh-hans"):
        yield


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def password_login(client, username, password=PASSWORD, path="/login/", **extra):
    return client.post(path, {"username": username, "password": password}, **extra)


def device_for(user, **fields):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True, **fields)


def sign_in(client, user, password=PASSWORD):
    """Password, then the code of the user's device (created when missing)."""
    response = password_login(client, user.username, password)
    assert response.status_code == 302, response.content.decode()[:500]
    if security.otp_step_needed(user):
        device = security.otp_device(user) or device_for(user)
        response = client.post(reverse("otp-verify"), {"otp_token": next_totp_token(device)})
        assert response.status_code == 302
    return client


def half_a_minute_later(device):
    """As if the next 30-second step had come: the used codes are behind (a code is good once,
    so a test using several in a row would otherwise run out of the tolerance's steps)."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1, throttling_failure_count=0)
    device.refresh_from_db()


def token_request(client, username, password=PASSWORD, **data):
    return client.post(reverse("api-token"), {"username": username, "password": password, **data})


# --- Password policy ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("Ab1!xyz", "密码至少需要 8 个字符。"),
        ("abcdefgh12", "密码须至少包含大写字母、小写字母、数字、符号四类中的 3 类。"),
        ("ABCDEFGH!!", "密码须至少包含大写字母、小写字母、数字、符号四类中的 3 类。"),
        ("pass word", "密码须至少包含大写字母、小写字母、数字、符号四类中的 3 类。"),
    ],
)
def test_weak_passwords_are_refused_with_a_chinese_message(city, password, message):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, city["supervisor"])
    assert message in refused.value.messages


@pytest.mark.parametrize(
    "password", ["Qwxyzab7", "abcdef1!", "ABCDEF1!", "Abcdefg!", "Wuwu@2026", "Zhang#2026x"]
)
def test_passwords_of_three_classes_and_eight_characters_pass(city, password):
    validate_password(password, city["supervisor"])  # no error


def test_the_demo_password_satisfies_the_policy(city):
    validate_password(settings.DEMO_PASSWORD, city["supervisor"])


def test_policy_settings_are_honoured(city, settings):
    settings.PASSWORD_MIN_LENGTH = 12
    settings.PASSWORD_MIN_CLASSES = 4
    with pytest.raises(ValidationError) as refused:
        validate_password("Abcdefg1234", city["supervisor"])
    assert "密码至少需要 12 个字符。" in refused.value.messages
    assert "密码须至少包含大写字母、小写字母、数字、符号四类中的 4 类。" in refused.value.messages
    validate_password("Abcdefg1234!", city["supervisor"])


def test_setting_a_password_stamps_the_time_and_keeps_the_hash(city):
    user = city["supervisor"]
    assert user.password_changed_at is not None  # set by user_create in the personas
    before = user.password_changed_at
    user.set_password("Another#2026")
    user.save()
    user.refresh_from_db()
    assert user.password_changed_at > before
    assert PasswordHistory.objects.filter(user=user, password=user.password).exists()
    assert "Another#2026" not in str(list(PasswordHistory.objects.values()))


def test_each_of_the_last_five_passwords_is_refused_and_the_sixth_allowed(city):
    user = city["supervisor"]
    passwords = [PASSWORD] + [f"Newpass#{n}x" for n in range(1, 6)]
    for password in passwords[1:]:
        validate_password(password, user)
        user.set_password(password)
        user.save()
    for password in passwords[1:]:  # the last five, the one in use among them
        with pytest.raises(ValidationError) as refused:
            validate_password(password, user)
        assert "密码不能与最近 5 次使用过的密码相同。" in refused.value.messages
    validate_password(passwords[0], user)  # the sixth back may be used again
    assert PasswordHistory.objects.filter(user=user).count() == 5


def test_password_change_page_obeys_the_policy_and_is_audited(city, client):
    user = city["supervisor"]
    client.force_login(user)
    page = client.get(reverse("password-change"))
    assert page.status_code == 200
    assert "密码至少需要 8 个字符。" in page.content.decode()  # the rules are shown
    weak = client.post(
        reverse("password-change"),
        {"old_password": PASSWORD, "new_password1": "abcdefgh", "new_password2": "abcdefgh"},
    )
    assert weak.status_code == 200
    assert "四类中的 3 类" in weak.content.decode()
    reused = client.post(
        reverse("password-change"),
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )
    assert "最近 5 次" in reused.content.decode()
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="password.change").exists()
    done = client.post(
        reverse("password-change"),
        {"old_password": PASSWORD, "new_password1": "Fresh#2026a", "new_password2": "Fresh#2026a"},
    )
    assert done.status_code == 302
    user.refresh_from_db()
    assert user.check_password("Fresh#2026a")
    event = AuditEvent.objects.get(action="password.change")
    assert event.object_id == str(user.pk) and event.changes == {}
    assert client.get("/").status_code == 200  # still signed in


def test_sysadmin_set_password_in_the_admin_obeys_the_policy(city, client):
    target = city["supervisor"]
    client.force_login(city["sysadmin"])
    url = reverse("admin:auth_user_password_change", args=[target.pk])
    weak = client.post(url, {"password1": "abcdefgh", "password2": "abcdefgh"})
    assert weak.status_code == 200
    assert "四类中的 3 类" in weak.content.decode()
    reused = client.post(url, {"password1": PASSWORD, "password2": PASSWORD})
    assert reused.status_code == 200 and "最近 5 次" in reused.content.decode()
    assert not AuditEvent.objects.filter(action="password.set").exists()
    good = client.post(url, {"password1": "Reset#2026b", "password2": "Reset#2026b"})
    assert good.status_code == 302
    target.refresh_from_db()
    assert target.check_password("Reset#2026b")
    event = AuditEvent.objects.get(action="password.set")
    assert event.actor == city["sysadmin"] and event.changes == {}


# --- Expiry -------------------------------------------------------------------------------


def _age_password(user, days):
    User.objects.filter(pk=user.pk).update(
        password_changed_at=timezone.now() - dt.timedelta(days=days)
    )


def test_a_password_of_89_days_is_still_good(city, client):
    user = city["supervisor"]
    _age_password(user, 89)
    client.force_login(user)
    assert client.get("/").status_code == 200


def test_expired_password_sends_every_page_to_the_change_page(city, client):
    user = city["supervisor"]
    _age_password(user, 91)
    client.force_login(user)
    for url in ["/", reverse("orgunit-list"), reverse("account")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("password-change") + "?next="), url
    htmx = client.get(reverse("orgunit-list"), HTTP_HX_REQUEST="true")
    assert htmx["HX-Redirect"].startswith(reverse("password-change"))
    api = client.get(reverse("api-orgunit-list"))
    assert api.status_code == 403
    assert api.json() == {
        "detail": "您的密码已过期，请先在网页上修改密码。",
        "code": "password_expired",
    }
    page = client.get(reverse("password-change"))
    assert page.status_code == 200 and "您的密码已过期" in page.content.decode()
    changed = client.post(
        reverse("password-change") + "?next=/org/",
        {
            "old_password": PASSWORD,
            "new_password1": "Renewed#2026",
            "new_password2": "Renewed#2026",
            "next": "/org/",
        },
    )
    assert changed.status_code == 302 and changed["Location"] == "/org/"
    assert client.get("/").status_code == 200
    assert client.get(reverse("api-orgunit-list")).status_code == 200


def test_expired_password_refuses_api_token_auth_with_403(city, client):
    user = city["supervisor"]
    token = Token.objects.create(user=user)
    assert (
        client.get(reverse("api-orgunit-list"), HTTP_AUTHORIZATION=f"Token {token.key}").status_code
        == 200
    )
    _age_password(user, 91)
    refused = client.get(reverse("api-orgunit-list"), HTTP_AUTHORIZATION=f"Token {token.key}")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "您的密码已过期，请先在网页上修改密码。"
    issued = token_request(client, "supervisor")
    assert issued.status_code == 403 and issued.json()["code"] == "password_expired"


# --- Lockout ------------------------------------------------------------------------------


def _fail(client, username, times, path="/login/", **extra):
    return [password_login(client, username, "Wrong#pass1", path, **extra) for _ in range(times)]


def test_login_page_locks_after_five_failures_even_for_the_right_password(city, client):
    answers = _fail(client, "supervisor", 5)
    assert [r.status_code for r in answers[:4]] == [200] * 4
    assert "用户名或密码错误" in answers[0].content.decode()
    assert answers[4].status_code == 429 and LOCKED_TEXT in answers[4].content.decode()
    right = password_login(client, "supervisor")
    assert right.status_code == 429
    assert LOCKED_TEXT in right.content.decode() and "30 分钟" in right.content.decode()
    assert signed_in_user(client) is None
    # Per username and address: the same person at another computer is not locked out…
    elsewhere = password_login(client, "supervisor", REMOTE_ADDR="10.1.2.3")
    assert elsewhere.status_code == 302
    # …and another username from this computer neither.
    client.logout()
    assert password_login(client, "inspector").status_code == 302


def test_admin_login_locks_after_five_failures(city, client):
    answers = _fail(client, "sysadmin", 5, path="/admin/login/")
    assert answers[4].status_code == 429
    right = password_login(client, "sysadmin", path="/admin/login/")
    assert right.status_code == 429 and LOCKED_TEXT in right.content.decode()
    assert signed_in_user(client) is None


def test_api_token_locks_after_five_failures(city, client):
    answers = [token_request(client, "supervisor", "Wrong#pass1") for _ in range(5)]
    assert [r.status_code for r in answers[:4]] == [400] * 4
    assert answers[4].status_code == 429
    right = token_request(client, "supervisor")
    assert right.status_code == 429
    assert right.json()["code"] == "locked_out" and LOCKED_TEXT in right.json()["detail"]
    assert not Token.objects.filter(user=city["supervisor"]).exists()
    json_body = client.post(
        reverse("api-token"),
        {"username": "supervisor", "password": PASSWORD},
        content_type="application/json",
    )
    assert json_body.status_code == 429


def test_failures_are_counted_across_the_paths(city, client):
    _fail(client, "sysadmin", 2)
    _fail(client, "sysadmin", 2, path="/admin/login/")
    token_request(client, "sysadmin", "Wrong#pass1")
    assert password_login(client, "sysadmin").status_code == 429


def test_a_complete_sign_in_starts_the_count_over(city, client):
    _fail(client, "supervisor", 4)
    assert password_login(client, "supervisor").status_code == 302
    client.logout()
    answers = _fail(client, "supervisor", 4)
    assert all(r.status_code == 200 for r in answers)
    assert password_login(client, "supervisor").status_code == 302


def test_cool_off_ends_the_lockout(city, client, settings):
    from axes.models import AccessAttempt

    _fail(client, "supervisor", 5)
    assert password_login(client, "supervisor").status_code == 429
    AccessAttempt.objects.update(attempt_time=timezone.now() - dt.timedelta(minutes=31))
    assert password_login(client, "supervisor").status_code == 302


def test_lockout_behind_the_proxy_uses_the_forwarded_client_address(city, client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.254"}
    _fail(client, "supervisor", 5, HTTP_X_FORWARDED_FOR="203.0.113.7", **proxy)
    # A forged left-most entry changes nothing: the proxy appended the real address.
    forged = password_login(
        client, "supervisor", HTTP_X_FORWARDED_FOR="198.51.100.1, 203.0.113.7", **proxy
    )
    assert forged.status_code == 429
    other = password_login(client, "supervisor", HTTP_X_FORWARDED_FOR="203.0.113.8", **proxy)
    assert other.status_code == 302


def test_sysadmin_unlocks_from_the_user_page_and_it_is_audited(city, client):
    locked = city["supervisor"]
    _fail(client, "supervisor", 5)
    admin_client = client.__class__()
    admin_client.force_login(city["sysadmin"])
    page = admin_client.get(reverse("user-detail", args=[locked.pk])).content.decode()
    assert "登录失败已锁定" in page
    assert security.user_locked(locked)
    other = client.__class__()
    other.force_login(city["supervisor"])
    assert other.post(reverse("user-unlock", args=[locked.pk])).status_code == 403
    done = admin_client.post(reverse("user-unlock", args=[locked.pk]))
    assert done.status_code == 302
    assert not security.user_locked(locked)
    event = AuditEvent.objects.get(action="user.unlock")
    assert event.actor == city["sysadmin"] and event.object_id == str(locked.pk)
    assert event.changes == {"attempts": 1}
    assert password_login(client, "supervisor").status_code == 302


# --- Two-factor sign-in -------------------------------------------------------------------


@pytest.mark.parametrize("role", REQUIRED)
def test_roles_that_require_two_factor_must_set_it_up_before_anything(city, client, role):
    user = city[role]
    response = password_login(client, role)
    assert response.status_code == 302
    home = client.get(response["Location"])
    assert home.status_code == 302 and home["Location"].startswith(reverse("otp-setup"))
    for url in ["/", reverse("orgunit-list"), reverse("account"), "/admin/"]:
        gated = client.get(url)
        assert gated.status_code == 302 and gated["Location"].startswith(reverse("otp-setup"))
    api = client.get(reverse("api-user-me"))
    assert api.status_code == 403 and api.json()["code"] == "otp_required"
    assert "双因素" in api.json()["detail"]
    setup = client.get(reverse("otp-setup"))
    assert setup.status_code == 200
    assert "<svg" in setup.content.decode()
    assert TOTPDevice.objects.filter(user=user, confirmed=False).count() == 1


@pytest.mark.parametrize("role", REQUIRED)
def test_roles_that_require_two_factor_are_asked_for_the_code(city, client, role):
    user = city[role]
    device = device_for(user)
    password_login(client, role)
    gated = client.get("/")
    assert gated.status_code == 302 and gated["Location"].startswith(reverse("otp-verify"))
    wrong = client.post(reverse("otp-verify"), {"otp_token": "000000"})
    assert wrong.status_code == 400 and "验证码错误或已过期" in wrong.content.decode()
    assert client.get("/").status_code == 302
    device.refresh_from_db()
    device.throttle_reset()  # django-otp's back-off after the wrong code
    right = client.post(reverse("otp-verify") + "?next=/", {"otp_token": next_totp_token(device)})
    assert right.status_code == 302 and right["Location"] == "/"
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("role", REQUIRED)
def test_api_tokens_of_roles_that_require_two_factor_need_the_code(city, client, role):
    user = city[role]
    not_set_up = token_request(client, role)
    assert not_set_up.status_code == 403 and not_set_up.json()["code"] == "otp_setup_required"
    device = device_for(user)
    missing = token_request(client, role)
    assert missing.status_code == 400
    assert missing.json()["code"] == "otp_required" and missing.json()["field"] == "otp"
    wrong = token_request(client, role, otp="000000")
    assert wrong.status_code == 400 and wrong.json()["code"] == "otp_invalid"
    assert not Token.objects.filter(user=user).exists()
    device.refresh_from_db()
    device.throttle_reset()
    right = token_request(client, role, otp=next_totp_token(device))
    assert right.status_code == 200 and right.json()["token"]


def test_code_failures_count_toward_the_lockout(city, client):
    leader = city["leader"]
    device = device_for(leader)
    password_login(client, "leader")
    for _attempt in range(4):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
        assert client.post(reverse("otp-verify"), {"otp_token": "000000"}).status_code == 400
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    fifth = client.post(reverse("otp-verify"), {"otp_token": "000000"})
    assert fifth.status_code == 429 and LOCKED_TEXT in fifth.content.decode()
    assert signed_in_user(client) is None  # signed out at the lockout
    assert password_login(client, "leader").status_code == 429
    device.refresh_from_db()
    device.throttle_reset()
    api = token_request(client, "leader", otp=next_totp_token(device))
    assert api.status_code == 429


def test_api_code_failures_count_toward_the_lockout(city, client):
    device = device_for(city["leader"])
    for _attempt in range(5):
        TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
        answer = token_request(client, "leader", otp="000000")
    assert answer.status_code == 429
    assert password_login(client, "leader").status_code == 429


def test_two_factor_is_optional_for_a_supervisor(city, client):
    user = city["supervisor"]
    password_login(client, "supervisor")
    assert client.get("/").status_code == 200
    account = client.get(reverse("account")).content.decode()
    assert 'data-otp-status="off"' in account
    assert token_request(client.__class__(), "supervisor").status_code == 200
    # Turned on, it is asked for like for the required roles.
    client.get(reverse("otp-setup"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    assert client.post(reverse("otp-setup"), {"otp_token": next_totp_token(device)}).status_code
    assert 'data-otp-status="on"' in client.get(reverse("account")).content.decode()
    client.logout()
    password_login(client, "supervisor")
    assert client.get("/")["Location"].startswith(reverse("otp-verify"))
    assert token_request(client.__class__(), "supervisor").json()["code"] == "otp_required"
    # …and may be turned off again with a code.
    device.refresh_from_db()
    client.post(reverse("otp-verify"), {"otp_token": next_totp_token(device)})
    half_a_minute_later(device)
    client.post(reverse("otp-disable"), {"otp_token": next_totp_token(device)})
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert AuditEvent.objects.filter(action="otp.disable", object_id=str(user.pk)).exists()


def test_a_role_that_requires_two_factor_cannot_turn_it_off(city, client):
    user = city["leader"]
    sign_in(client, user)
    device = security.otp_device(user)
    client.post(reverse("otp-disable"), {"otp_token": next_totp_token(device)})
    assert TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def test_enrolment_end_to_end(city, client):
    leader = city["leader"]
    old_token = Token.objects.create(user=leader)  # obtained without a code
    response = password_login(client, "leader")
    response = client.get(response["Location"])
    setup_url = response["Location"]
    assert setup_url.startswith(reverse("otp-setup"))
    page = client.get(setup_url)
    html = page.content.decode()
    assert "no-store" in page["Cache-Control"]
    assert re.search(r"<svg[^>]*aria-label=", html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
    assert "data:" not in html.split("<svg", 1)[1].split("</svg>", 1)[0]
    secret = re.search(r"data-otp-secret>([A-Z2-7 ]+)<", html).group(1).replace(" ", "")
    key = b32decode(secret + "=" * (-len(secret) % 8)).hex()
    pending = TOTPDevice.objects.get(user=leader, confirmed=False)
    assert pending.key == key
    wrong = client.post(setup_url, {"otp_token": "000000"})
    assert wrong.status_code == 400 and "验证码错误或已过期" in wrong.content.decode()
    pending.refresh_from_db()
    pending.throttle_reset()
    done = client.post(setup_url, {"otp_token": next_totp_token(TOTPDevice(key=key))})
    assert done.status_code == 302 and done["Location"] == "/"
    assert client.get("/").status_code == 200
    device = TOTPDevice.objects.get(user=leader)
    assert device.confirmed and device.pk == pending.pk
    assert not Token.objects.filter(pk=old_token.pk).exists()
    event = AuditEvent.objects.get(action="otp.enrol", object_id=str(leader.pk))
    assert event.actor == leader
    assert device.key not in str(event.changes) and secret not in str(event.changes)
    # The next sign-in asks for the code, not the set-up.
    client.logout()
    password_login(client, "leader")
    assert client.get("/")["Location"].startswith(reverse("otp-verify"))


def test_sysadmin_resets_a_device_and_it_is_audited(city, client):
    leader = city["leader"]
    leader_client = sign_in(client.__class__(), leader)
    Token.objects.create(user=leader)
    admin_client = client
    admin_client.force_login(city["sysadmin"])
    page = admin_client.get(reverse("user-detail", args=[leader.pk])).content.decode()
    assert "重置双因素设备" in page
    done = admin_client.post(reverse("user-otp-reset", args=[leader.pk]))
    assert done.status_code == 302
    assert not TOTPDevice.objects.filter(user=leader).exists()
    assert not Token.objects.filter(user=leader).exists()
    event = AuditEvent.objects.get(action="otp.reset")
    assert event.actor == city["sysadmin"] and event.object_id == str(leader.pk)
    # The leader's session is no longer verified: back to the set-up (by way of the code page,
    # which finds no device any more).
    step = leader_client.get("/")["Location"]
    assert step.startswith(reverse("otp-verify"))
    assert leader_client.get(step)["Location"].startswith(reverse("otp-setup"))
    supervisor = client.__class__()
    supervisor.force_login(city["supervisor"])
    assert supervisor.post(reverse("user-otp-reset", args=[leader.pk])).status_code == 403


def test_granting_a_role_that_requires_two_factor_revokes_api_tokens(city):
    from civilaffairs.services import role_grant

    user = city["inspector"]
    token = Token.objects.create(user=user)
    role_grant(actor=None, user=user, role="office_head")
    assert not Token.objects.filter(pk=token.pk).exists()


def test_the_admin_is_behind_the_second_step(city, client):
    sysadmin = city["sysadmin"]
    device_for(sysadmin)
    password_login(client, "sysadmin", path="/admin/login/")
    index = client.get("/admin/")
    assert index.status_code == 302 and index["Location"].startswith(reverse("otp-verify"))
    client.post(
        reverse("otp-verify"), {"otp_token": next_totp_token(security.otp_device(sysadmin))}
    )
    assert client.get("/admin/").status_code == 200


def test_otp_code_command_prints_the_current_code(city):
    from io import StringIO

    from django.core.management import call_command

    leader = city["leader"]
    device = device_for(leader)
    out = StringIO()
    call_command("otp_code", "leader", stdout=out)
    code = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", code)
    assert device.verify_token(code)
    assert AuditEvent.objects.filter(action="otp.code_shown", object_id=str(leader.pk)).exists()


def test_load_demo_gives_required_roles_a_device_and_fresh_passwords(db):
    from django.core.management import call_command

    from civilaffairs.demo import city

    call_command("load_demo", quiet=True)
    for spec in city.users():
        user = User.objects.get(username=spec.username)
        required = any(role in settings.OTP_REQUIRED_ROLES for role, _scope in spec.roles)
        assert security.otp_enabled(user) == required, spec.username
        assert timezone.now() - user.password_changed_at < dt.timedelta(minutes=10)
    leader = User.objects.get(username="leader")
    assert leader.check_password(settings.DEMO_PASSWORD)
    devices = TOTPDevice.objects.count()
    call_command("load_demo", quiet=True)
    assert TOTPDevice.objects.count() == devices


# --- Nothing secret in logs or the audit trail --------------------------------------------


class _Capture(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.texts = []

    def emit(self, record):
        parts = [record.getMessage(), repr(record.args), repr(record.__dict__)]
        if record.exc_info:
            parts.append(logging.Formatter().formatException(record.exc_info))
        self.texts.append("\n".join(parts))


@pytest.fixture
def all_logs():
    """Every record of every logger at DEBUG (SQL included)."""
    handler = _Capture()
    loggers = [logging.getLogger()] + [
        logging.getLogger(name) for name in list(logging.Logger.manager.loggerDict)
    ]
    saved = [(lg, lg.level, lg.disabled) for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        lg.addHandler(handler)
    debug_cursor = connection.force_debug_cursor
    connection.force_debug_cursor = True
    try:
        yield handler
    finally:
        connection.force_debug_cursor = debug_cursor
        for lg, level, disabled in saved:
            lg.setLevel(level)
            lg.disabled = disabled
            lg.removeHandler(handler)


def test_no_password_in_any_log_or_audit_row(city, client, all_logs):
    from axes.models import AccessAttempt

    secret = "Sentinel#Pw7731"
    wrong = "Sentinel#Wrong9955"
    new = "Sentinel#New4242"
    for name in ("supervisor", "leader", "sysadmin"):
        user = city[name]
        user.set_password(secret)
        user.save()
    leader_device = device_for(city["leader"])
    sysadmin_device = device_for(city["sysadmin"])
    Client = client.__class__

    def check_sensitive(response, *fields):
        hidden = response.wsgi_request.sensitive_post_parameters
        assert hidden == "__ALL__" or set(fields) <= set(hidden), response.wsgi_request.path

    # The login page: failure, then success (with the second step for the leader).
    check_sensitive(password_login(Client(), "supervisor", wrong), "password")
    check_sensitive(password_login(Client(), "supervisor", secret), "password")
    leader = Client()
    check_sensitive(password_login(leader, "leader", secret), "password")
    check_sensitive(leader.post(reverse("otp-verify"), {"otp_token": "000000"}), "otp_token")
    TOTPDevice.objects.filter(pk=leader_device.pk).update(throttling_failure_count=0)
    leader_device.refresh_from_db()
    leader.post(reverse("otp-verify"), {"otp_token": next_totp_token(leader_device)})
    # The administration's login.
    check_sensitive(password_login(Client(), "sysadmin", wrong, "/admin/login/"), "password")
    check_sensitive(password_login(Client(), "sysadmin", secret, "/admin/login/"), "password")
    # The API token, form and JSON bodies, wrong and right password and code.
    check_sensitive(token_request(Client(), "supervisor", wrong), "password")
    check_sensitive(token_request(Client(), "supervisor", secret), "password")
    Client().post(
        reverse("api-token"),
        {"username": "supervisor", "password": wrong},
        content_type="application/json",
    )
    Client().post(
        reverse("api-token"),
        {"username": "leader", "password": secret, "otp": "000000"},
        content_type="application/json",
    )
    TOTPDevice.objects.filter(pk=sysadmin_device.pk).update(throttling_failure_count=0)
    check_sensitive(
        token_request(Client(), "sysadmin", secret, otp=next_totp_token(sysadmin_device)),
        "password",
        "otp",
    )
    # Changing the password, wrong and right.
    changer = Client()
    changer.force_login(city["supervisor"])
    bad = changer.post(
        reverse("password-change"),
        {"old_password": wrong, "new_password1": new, "new_password2": new},
    )
    check_sensitive(bad, "old_password", "new_password1")
    changer.post(
        reverse("password-change"),
        {"old_password": secret, "new_password1": new, "new_password2": new},
    )
    assert city["supervisor"].__class__.objects.get(pk=city["supervisor"].pk).check_password(new)
    assert all_logs.texts, "nothing was logged: the capture does not work"
    assert any("INSERT" in text or "SELECT" in text for text in all_logs.texts)
    for password in (secret, wrong, new):
        leaks = [text for text in all_logs.texts if password in text]
        assert not leaks, leaks[:1]
    rows = [repr(vars(event)) for event in AuditEvent.objects.all()]
    rows += [repr(vars(attempt)) for attempt in AccessAttempt.objects.all()]
    assert rows
    for password in (secret, wrong, new):
        assert not [row for row in rows if password in row]
    keys = [d.key for d in TOTPDevice.objects.all()]
    for key in keys:
        assert not [row for row in rows if key in row]
    hashes = [u.password for u in User.objects.all()]
    for encoded in hashes:
        assert not [row for row in rows if encoded in row]


# --- In a real browser ----------------------------------------------------------------------


@pytest.mark.browser
@pytest.mark.skipif(not (CHROMIUM and CHROMEDRIVER), reason=MISSING_REASON)
@pytest.mark.django_db(transaction=True)
def test_leader_sets_up_two_factor_and_signs_in_with_a_code_in_chromium(live_server):
    """First sign-in of a leader: password, set-up page (the key read off the page, the QR
    drawn as inline SVG), then home; a second browser is asked for the code. No page of the
    flow breaks the Content-Security-Policy."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.chromium import sign_in as chromium_sign_in
    from tests.personas import build_city

    build_city()
    browser = start_chromium(1366, 768, console_log=True)
    try:
        browser.get(f"{live_server.url}/login/")
        browser.find_element(By.NAME, "username").send_keys("leader")
        browser.find_element(By.NAME, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
        WebDriverWait(browser, 10).until(lambda b: "/account/2fa/setup/" in b.current_url)
        qr = browser.find_element(By.CSS_SELECTOR, "svg[role=img]")
        assert qr.size["width"] >= 200
        assert "双因素" in browser.page_source
        browser.delete_all_cookies()
        chromium_sign_in(browser, live_server.url, "leader")
        assert browser.current_url == f"{live_server.url}/"
        assert TOTPDevice.objects.get(user__username="leader").confirmed
        browser.delete_all_cookies()
        chromium_sign_in(browser, live_server.url, "leader")
        assert browser.current_url == f"{live_server.url}/"
        browser.get(f"{live_server.url}/account/")
        assert 'data-otp-status="on"' in browser.page_source
        violations = [
            entry
            for entry in browser.get_log("browser")
            if "Content Security Policy" in entry.get("message", "")
        ]
        assert not violations, violations
    finally:
        browser.quit()
