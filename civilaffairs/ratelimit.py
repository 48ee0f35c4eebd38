"""Rate limits of the pages that cost the most or invite guessing: signing in, Excel exports,
briefs, dashboard recomputes, imports, uploads and the public commitments page.

A fixed window per scope and caller, counted in the cache (Redis) with ``cache.incr``: the
first request of a window creates the counter with the window's length as its timeout. Over the
limit the view is not called at all — nothing changes — and the answer is 429 with a Chinese
message and ``Retry-After``. Rates are ``settings.RATE_LIMITS`` ("count/period", period s, m,
h or d, the same format as the API's throttles in civilaffairs.api.throttling).

If the cache cannot be reached the request is let through (a warning is logged): a rate limit
must never turn an outage of Redis into errors for everyone."""

import functools
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from civilaffairs.middleware import client_ip

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def now() -> float:
    """The clock of every limit (pages and API); tests move it."""
    return time.time()


def parse_rate(rate: str | None) -> tuple[int, int] | None:
    """("20/m") → (20, 60); None or "" means no limit."""
    if not rate:
        return None
    try:
        count, period = rate.split("/")
        return int(count), PERIODS[period.strip()[0]]
    except (ValueError, KeyError, IndexError) as exc:
        raise ImproperlyConfigured(f"rate limit {rate!r} is not like '20/m'") from exc


def rate_for(scope: str) -> tuple[int, int] | None:
    return parse_rate(settings.RATE_LIMITS.get(scope))


@dataclass(frozen=True)
class Refusal:
    """The caller is over the limit of ``scope``; ``retry_after`` seconds until the window ends."""

    scope: str
    retry_after: int


def caller_ident(request, key: str) -> str:
    """``key="user"``: the signed-in user (anonymous callers by address); ``"ip"``: the address."""
    user = getattr(request, "user", None)
    if key == "user" and user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request) or 'unknown'}"


def hit(scope: str, ident: str) -> Refusal | None:
    """Count one request of ``ident`` in ``scope``; a Refusal once it is over the limit."""
    rate = rate_for(scope)
    if rate is None:
        return None
    limit, window = rate
    moment = now()
    start = int(moment // window) * window
    key = f"ratelimit:{scope}:{ident}:{start}"
    try:
        # add() is a no-op when the counter exists; the timeout ends it with its window.
        cache.add(key, 0, timeout=window + 1)
        count = cache.incr(key)
    except Exception:  # the cache is down or refuses: let the request through
        logger.warning("rate limit %s not applied: the cache is unavailable", scope, exc_info=True)
        return None
    if count <= limit:
        return None
    return Refusal(scope=scope, retry_after=max(1, math.ceil(start + window - moment)))


def wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def too_many_requests(request, refusal: Refusal):
    """The 429 answer: a JSON body for API clients and scripts, a page for people."""
    message = _("Too many requests: please wait %(seconds)s seconds and try again.") % {
        "seconds": refusal.retry_after
    }
    if wants_json(request):
        response = JsonResponse({"detail": message, "code": "throttled"}, status=429)
    else:
        response = render(request, "errors/429.html", {"message": message}, status=429)
    response["Retry-After"] = str(refusal.retry_after)
    return response


def check(request, scope: str, key: str = "user") -> Refusal | None:
    return hit(scope, caller_ident(request, key))


def rate_limit(scope: str, *, key: str = "user", methods=("POST",), when=None):
    """Limit a function view (or ``as_view()``) to ``settings.RATE_LIMITS[scope]`` per caller.

    Only requests whose method is in ``methods`` count (None: all), and only when
    ``when(request)`` is true if given (e.g. ``?export=xlsx``)."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if applies(request, methods, when):
                refusal = check(request, scope, key)
                if refusal is not None:
                    return too_many_requests(request, refusal)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator


def applies(request, methods, when) -> bool:
    if methods is not None and request.method not in methods:
        return False
    return when is None or bool(when(request))


class RateLimitMixin:
    """Class-based views: ``rate_limits = [RateLimit("export", when=...)]`` is checked in
    ``dispatch`` after the view's own access checks of earlier mixins (put it after them)."""

    rate_limits: list["RateLimit"] = []

    def dispatch(self, request, *args, **kwargs):
        for limit in self.get_rate_limits():
            if applies(request, limit.methods, limit.when):
                refusal = check(request, limit.scope, limit.key)
                if refusal is not None:
                    return too_many_requests(request, refusal)
        return super().dispatch(request, *args, **kwargs)

    def get_rate_limits(self):
        return self.rate_limits


@dataclass(frozen=True)
class RateLimit:
    scope: str
    key: str = "user"
    methods: tuple[str, ...] | None = ("POST",)
    when: object = None


# Views whose POST is a sign-in attempt (a password, or the second step's code): limited per
# client address, whoever's account it names (the lockout after failures is django-axes', per
# account and address).
LOGIN_VIEWS = {"login", "admin:login", "otp-verify"}


class LoginRateLimitMiddleware:
    """The ``login`` limit on every sign-in form, by URL name, so it holds whichever view
    serves the form."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if request.method != "POST" or match is None or match.view_name not in LOGIN_VIEWS:
            return None
        refusal = check(request, "login", key="ip")
        return too_many_requests(request, refusal) if refusal else None
