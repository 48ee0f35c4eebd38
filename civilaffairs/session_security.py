"""Server-side session limits, and ending a person's sessions and API tokens.

A session records in itself when its sign-in began and when its owner was last active. The
middleware ends it on the server (the row is deleted) once it has been idle for
``SESSION_IDLE_MINUTES`` or has lasted ``SESSION_ABSOLUTE_HOURS``, whatever the cookie says:
a page is sent to the sign-in page with a message, an htmx request gets ``HX-Redirect`` there,
an API call answers 403 with a JSON message in Chinese (the phone app reads a 403 as "sign in
again").

Requests that a page makes by itself — the bell, a job's progress bar, the live board — carry
the header ``X-Background-Poll: 1`` (set on the polling element with ``hx-headers``). They are
held to the limits like any other request but do not count as activity; otherwise a tab left
open would never idle out.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, user_logged_in
from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpResponse, JsonResponse
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.translation import gettext as _

# Keys of the session's own bookkeeping (seconds since the epoch).
STARTED = "_civilaffairs_started_at"
ACTIVE = "_civilaffairs_active_at"
PASSIVE_HEADER = "X-Background-Poll"
# The last activity is written at most this often (seconds): a page view must not cost a
# session write each time, and a minute is nothing against a 30-minute limit.
ACTIVITY_RESOLUTION = 60

IDLE = "idle"
ABSOLUTE = "absolute"


def _now() -> int:
    # timezone.now rather than time.time, so that tests can move the clock.
    return int(timezone.now().timestamp())


def stamp(session, now: int | None = None) -> None:
    now = _now() if now is None else now
    session[STARTED] = now
    session[ACTIVE] = now


@receiver(user_logged_in, dispatch_uid="civilaffairs.session_security.stamp")
def _stamp_on_sign_in(sender, request, user, **kwargs):
    # Django has already given the session a new key (login() cycles it); the limits count
    # from here.
    session = getattr(request, "session", None)
    if session is not None:
        stamp(session)


def expiry_reason(session, now: int) -> str | None:
    """Why a signed-in session is over (IDLE or ABSOLUTE), or None while it is within limits."""
    started, active = session.get(STARTED), session.get(ACTIVE)
    if not isinstance(started, int | float) or not isinstance(active, int | float):
        return None
    if settings.SESSION_ABSOLUTE_HOURS and now - started >= settings.SESSION_ABSOLUTE_HOURS * 3600:
        return ABSOLUTE
    if settings.SESSION_IDLE_MINUTES and now - active >= settings.SESSION_IDLE_MINUTES * 60:
        return IDLE
    return None


def expiry_message(reason: str) -> str:
    if reason == ABSOLUTE:
        return _(
            "Your sign-in has reached its time limit of %(hours)d hours. Please sign in again."
        ) % {"hours": settings.SESSION_ABSOLUTE_HOURS}
    return _(
        "You were signed out after %(minutes)d minutes without activity. Please sign in again."
    ) % {"minutes": settings.SESSION_IDLE_MINUTES}


def is_background_poll(request) -> bool:
    return request.headers.get(PASSIVE_HEADER) == "1"


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


class SessionLimitsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session = request.session
        user_id = session.get(SESSION_KEY)
        if user_id is None:
            return self.get_response(request)
        now = _now()
        reason = expiry_reason(session, now)
        if reason is not None:
            return self._expire(request, reason)
        if STARTED not in session:
            # A session signed in before these limits existed: they count from now.
            stamp(session, now)
        response = self.get_response(request)
        # Still the same person's session (not signed out or switched by the view)?
        if (
            request.session.get(SESSION_KEY) == user_id
            and not is_background_poll(request)
            and now - request.session.get(ACTIVE, 0) >= ACTIVITY_RESOLUTION
        ):
            request.session[ACTIVE] = now
        return response

    def _expire(self, request, reason: str):
        user = request.user
        if getattr(user, "is_authenticated", False):
            from civilaffairs.services import audit_record

            session = request.session
            with transaction.atomic():
                audit_record(
                    actor=user,
                    action="session.expire",
                    obj=user,
                    summary=expiry_message(reason),
                    changes={
                        "reason": reason,
                        "signed_in_minutes": (_now() - session[STARTED]) // 60,
                        "idle_minutes": (_now() - session[ACTIVE]) // 60,
                    },
                )
        # Deletes the row: the old cookie is worth nothing from now on.
        request.session.flush()
        request.user = AnonymousUser()
        message = expiry_message(reason)
        if _is_api(request):
            if "HTTP_AUTHORIZATION" in request.META:
                # A token rides along: the call is judged on the token alone.
                return self.get_response(request)
            return JsonResponse({"detail": message, "code": "session_expired"}, status=403)
        login_url = resolve_url(settings.LOGIN_URL)
        if request.headers.get("HX-Request") == "true":
            # Back to the page the person was on once signed in again, not to the fragment.
            current = urlsplit(request.headers.get("HX-Current-URL", ""))
            next_url = current.path + (f"?{current.query}" if current.query else "")
            response = HttpResponse(status=204)
            response["HX-Redirect"] = redirect_to_login(next_url or "/", login_url).url
            return response
        messages.warning(request, message)
        if request.path in (login_url, resolve_url("logout")):
            # Signing in, or out (already done): let the view answer as for anyone.
            return self.get_response(request)
        return redirect_to_login(request.get_full_path(), login_url)


def user_access_end(user) -> dict:
    """End every session of ``user`` on the server and delete their API tokens (inside the
    caller's transaction). Returns the counts, for the audit trail."""
    from rest_framework.authtoken.models import Token

    from civilaffairs.models import UserSession

    sessions, _detail = UserSession.objects.filter(user_id=user.pk).delete()
    tokens, _detail = Token.objects.filter(user_id=user.pk).delete()
    return {"sessions": sessions, "tokens": tokens}


__all__ = [
    "ACTIVE",
    "PASSIVE_HEADER",
    "STARTED",
    "SessionLimitsMiddleware",
    "expiry_reason",
    "is_background_poll",
    "stamp",
    "user_access_end",
]
