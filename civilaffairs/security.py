"""Sign-in security: lockout after repeated failures (django-axes) and TOTP two-factor sign-in
(django-otp), as services the views, the API and the administration share.

Lockout is keyed per username *and* client IP (AXES_LOCKOUT_PARAMETERS): by username alone,
anyone could lock a leader out of the system from anywhere by typing wrong passwords; by IP
alone, one guesser behind the bureau's NAT would lock out the whole building. Failures count
on every sign-in path (the login page, the administration's login, the API token and the
second step's codes); a complete sign-in resets them (``lockout_reset``), a password that is
right but still needs its code does not.
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from civilaffairs.exceptions import PermissionDenied, ServiceError
from civilaffairs.models import RoleAssignment
from civilaffairs.services import audit_record

# The session remembers at sign-in whether the person has a confirmed device, so that the
# gate does not look it up on every request (a device set up later verifies the session).
OTP_ENROLLED_SESSION_KEY = "civilaffairs_otp_enrolled"


def _register_actions():
    from django.utils.translation import gettext_lazy

    from civilaffairs.models.audit import CHANGE_LABELS, register_action

    CHANGE_LABELS.update(
        {
            "device": gettext_lazy("two-factor device"),
            "devices": gettext_lazy("two-factor devices"),
            "attempts": gettext_lazy("failed attempts cleared"),
        }
    )

    for code, label in (
        ("otp.enrol", gettext_lazy("Two-factor sign-in set up")),
        ("otp.disable", gettext_lazy("Two-factor sign-in turned off")),
        ("otp.reset", gettext_lazy("Two-factor device reset")),
        ("otp.code_shown", gettext_lazy("Two-factor code shown to an operator")),
        ("user.unlock", gettext_lazy("Sign-in lockout lifted")),
        ("password.change", gettext_lazy("Password changed")),
        ("password.set", gettext_lazy("Password set by an administrator")),
    ):
        register_action(code, label)


_register_actions()


# --- Two-factor sign-in -------------------------------------------------------------------


def otp_required(user) -> bool:
    """The user's roles oblige them to sign in with a code (OTP_REQUIRED_ROLES)."""
    return bool(user.is_authenticated and user.has_role(*settings.OTP_REQUIRED_ROLES))


def otp_device(user, *, confirmed: bool = True):
    """The user's TOTP device (confirmed, or the one being set up), or None."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=confirmed).order_by("pk").first()


def otp_enabled(user) -> bool:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    return TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).exists()


def otp_step_needed(user, session=None) -> bool:
    """Whether signing in takes a code: the role requires it or the person turned it on.
    With a session, its note from sign-in is trusted instead of a query."""
    if not user.is_authenticated:
        return False
    if otp_required(user):
        return True
    if session is not None and OTP_ENROLLED_SESSION_KEY in session:
        return bool(session[OTP_ENROLLED_SESSION_KEY])
    return otp_enabled(user)


def otp_verified(request) -> bool:
    is_verified = getattr(request.user, "is_verified", None)
    return bool(is_verified and is_verified())


def totp_token(device, *, at: float | None = None) -> str:
    """The device's code now (zero-padded), as an authenticator app shows it."""
    import time

    from django_otp.oath import TOTP

    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = at if at is not None else time.time()
    return str(totp.token()).zfill(device.digits)


def totp_secret(device) -> str:
    """The key as an authenticator app wants it typed: base32, in groups of four."""
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def otp_qr_svg(device) -> str:
    """The device's otpauth:// address as an inline <svg> QR code (no script, no data: URL)."""
    import qrcode
    import qrcode.image.svg

    image = qrcode.make(
        device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2
    )
    svg = image.to_string(encoding="unicode")
    # Sized in pixels by attributes (no style attribute, no stylesheet needed).
    head, _sep, rest = svg.partition(">")
    head = " ".join(part for part in head.split(" ") if not part.startswith(("width=", "height=")))
    label = _("QR code to scan with the authenticator app")
    return f'{head} width="220" height="220" role="img" aria-label="{label}">{rest}'


def _revoke_tokens(user) -> None:
    from rest_framework.authtoken.models import Token

    Token.objects.filter(user_id=user.pk).delete()


@transaction.atomic
def otp_enrol_start(*, user):
    """The device being set up for ``user`` (created, with a new key, when there is none)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if otp_enabled(user):
        raise ServiceError(_("Two-factor sign-in is already set up for this account."))
    device = otp_device(user, confirmed=False)
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="TOTP", confirmed=False)
    return device


@transaction.atomic
def otp_enrol_confirm(*, user, token: str):
    """Confirm the device being set up with a code from the app: from now on signing in takes
    a code. API tokens issued without a code are revoked."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = (
        TOTPDevice.objects.select_for_update()
        .filter(user_id=user.pk, confirmed=False)
        .order_by("pk")
        .first()
    )
    if device is None:
        raise ServiceError(_("Start the set-up again: no device is waiting for confirmation."))
    if not device.verify_token(clean_token(token)):
        raise ServiceError(_("The code is wrong or has expired."), field="otp_token")
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user_id=user.pk).exclude(pk=device.pk).delete()
    _revoke_tokens(user)
    audit_record(
        actor=user,
        action="otp.enrol",
        obj=user,
        summary=_("Set up two-factor sign-in"),
        changes={"device": device.name},
    )
    return device


@transaction.atomic
def otp_disable(*, user, token: str) -> None:
    """Turn two-factor sign-in off (only where the role does not require it), with a code."""
    device = otp_device(user)
    if device is None:
        raise ServiceError(_("Two-factor sign-in is not set up for this account."))
    if otp_required(user):
        raise PermissionDenied(_("Your role requires two-factor sign-in."))
    if not device.verify_token(clean_token(token)):
        raise ServiceError(_("The code is wrong or has expired."), field="otp_token")
    device.delete()
    audit_record(actor=user, action="otp.disable", obj=user, summary=_("Turned off two-factor"))


@transaction.atomic
def otp_device_reset(*, actor, user) -> int:
    """A system administrator removes a user's devices (a lost phone): the user sets up a new
    one at the next sign-in; their API tokens are revoked."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    if actor is not None and not actor.is_sysadmin:
        raise PermissionDenied(_("Only a system administrator may reset a two-factor device."))
    removed, _detail = TOTPDevice.objects.filter(user_id=user.pk).delete()
    _revoke_tokens(user)
    audit_record(
        actor=actor,
        action="otp.reset",
        obj=user,
        summary=_("Reset the two-factor device"),
        changes={"devices": removed},
    )
    return removed


def clean_token(token) -> str:
    return "".join(str(token or "").split())


def otp_check(request, user, token) -> str | None:
    """Check a second-step code against the user's confirmed device: None when it is right,
    else the message to show. A wrong code counts as a failed sign-in toward the lockout (the
    signal carries the username only, never the code)."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    token = clean_token(token)
    with transaction.atomic():
        device = (
            TOTPDevice.objects.select_for_update()
            .filter(user_id=user.pk, confirmed=True)
            .order_by("pk")
            .first()
        )
        if device is None:
            return _("Two-factor sign-in is not set up for this account.")
        allowed, _detail = device.verify_is_allowed()
        if not allowed:
            # django-otp's back-off after a wrong code (1, 2, 4 … seconds): nothing was
            # checked, so nothing is counted.
            return _("Wait a few seconds before typing the next code.")
        if token.isdigit() and device.verify_token(token):
            return None
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
    return _("The code is wrong or has expired.")


@receiver(post_save, sender=RoleAssignment, dispatch_uid="otp_role_granted")
def _role_granted(sender, instance, created, **kwargs):
    """A role that requires two-factor sign-in voids the API tokens the user obtained without
    a code."""
    if created and instance.role in settings.OTP_REQUIRED_ROLES:
        _revoke_tokens(instance.user)


@receiver(user_logged_in, dispatch_uid="otp_note_enrolment")
def _signed_in(sender, request, user, **kwargs):
    """Note in the session whether a code is needed; a sign-in that needs none is complete,
    so the failures of this username and address start over."""
    session = getattr(request, "session", None)
    enrolled = otp_enabled(user)
    if session is not None:
        session[OTP_ENROLLED_SESSION_KEY] = enrolled
    if not (enrolled or otp_required(user)):
        lockout_reset(request, user)


# --- Lockout ------------------------------------------------------------------------------


def cool_off() -> dt.timedelta | None:
    return settings.AXES_COOLOFF_TIME


def lockout_message() -> str:
    period = cool_off()
    if not period:
        return _(
            "Too many failed sign-in attempts: this account is locked on this computer until a "
            "system administrator unlocks it."
        )
    minutes = max(int(period.total_seconds() // 60), 1)
    return ngettext(
        "Too many failed sign-in attempts: this account is locked on this computer for "
        "%(minutes)d minute. Try again later, or ask a system administrator to unlock it.",
        "Too many failed sign-in attempts: this account is locked on this computer for "
        "%(minutes)d minutes. Try again later, or ask a system administrator to unlock it.",
        minutes,
    ) % {"minutes": minutes}


def lockout_active(request, username: str) -> bool:
    """This username is locked out from this client."""
    from axes.handlers.proxy import AxesProxyHandler

    if not settings.AXES_ENABLED:
        return False
    return AxesProxyHandler.is_locked(request, {"username": username})


def lockout_reset(request, user) -> None:
    """A complete sign-in: failures of this username from this address start over."""
    from axes.handlers.proxy import AxesProxyHandler
    from axes.helpers import get_client_ip_address

    if not settings.AXES_ENABLED or request is None:
        return
    address = get_client_ip_address(request)
    if address:  # without an address the reset would reach every address's failures
        AxesProxyHandler.reset_attempts(username=user.get_username(), ip_address=address)


def _recent_attempts(user):
    from axes.models import AccessAttempt

    attempts = AccessAttempt.objects.filter(username=user.get_username())
    period = cool_off()
    if period:
        attempts = attempts.filter(attempt_time__gte=timezone.now() - period)
    return attempts


def user_locked(user) -> bool:
    """Locked out from at least one address now."""
    return (
        _recent_attempts(user)
        .filter(failures_since_start__gte=settings.AXES_FAILURE_LIMIT)
        .exists()
    )


@transaction.atomic
def user_unlock(*, actor, user) -> int:
    """A system administrator lifts the lockout of ``user`` from every address."""
    from axes.handlers.proxy import AxesProxyHandler

    if actor is not None and not actor.is_sysadmin:
        raise PermissionDenied(_("Only a system administrator may unlock an account."))
    cleared = AxesProxyHandler.reset_attempts(username=user.get_username())
    audit_record(
        actor=actor,
        action="user.unlock",
        obj=user,
        summary=_("Lifted the sign-in lockout"),
        changes={"attempts": cleared},
    )
    return cleared


def lockout_response(request, original_response=None, credentials=None):
    """What a locked-out sign-in gets (AXES_LOCKOUT_CALLABLE): a page, or JSON for the API.
    Nothing else happens: the password is not even checked."""
    from django.http import JsonResponse
    from django.shortcuts import render

    message = lockout_message()
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    return render(request, "account/locked.html", {"message": message}, status=429)


# --- Password changes ---------------------------------------------------------------------


def password_change_recorded(*, actor, user) -> None:
    """The trail says that a password changed and who changed it; never the password."""
    if actor is not None and actor.pk == user.pk:
        audit_record(actor=actor, action="password.change", obj=user, summary=_("Password changed"))
    else:
        audit_record(
            actor=actor, action="password.set", obj=user, summary=_("Set the user's password")
        )


def sign_in_status(user) -> dict:
    """What a system administrator sees of a user's sign-in on the user's page."""
    from civilaffairs.passwords import password_expired

    return {
        "user": user,
        "locked": user_locked(user),
        "password_changed_at": user.password_changed_at,
        "password_expired": password_expired(user),
        "otp_enabled": otp_enabled(user),
        "otp_required": otp_required(user),
    }


@transaction.atomic
def otp_device_ensure(*, user, name: str = "demo"):
    """Give ``user`` a confirmed device if they have none (the demo's accounts, so that
    ``manage.py otp_code`` can sign them in); returns the device and whether it is new."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = otp_device(user)
    if device is not None:
        return device, False
    TOTPDevice.objects.filter(user_id=user.pk, confirmed=False).delete()
    device = TOTPDevice.objects.create(user=user, name=name, confirmed=True)
    audit_record(
        actor=None,
        action="otp.enrol",
        obj=user,
        summary=_("Two-factor device created for the demo account"),
        changes={"device": device.name},
    )
    return device, True
