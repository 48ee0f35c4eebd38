"""Rate limits of the API's expensive or guessable endpoints (DRF throttling in the cache).

A view names the scope of each limited method: ``throttle_scopes = {"POST": "brief"}``; the
rates are ``settings.RATE_LIMITS`` (shared with the pages, see civilaffairs.ratelimit), per
signed-in user, or per client address for anonymous callers (the token endpoint). Throttles run
after authentication and permissions, before the view: a refused call changes nothing.

If the cache cannot be reached the call is let through with a warning, never answered 500."""

import logging

from rest_framework.throttling import ScopedRateThrottle as DRFScopedRateThrottle

from civilaffairs import ratelimit
from civilaffairs.middleware import client_ip

logger = logging.getLogger(__name__)


def throttle_scope_of(view, method: str) -> str | None:
    scopes = getattr(view, "throttle_scopes", None) or {}
    return scopes.get(method.upper())


class ScopedRateThrottle(DRFScopedRateThrottle):
    def allow_request(self, request, view):
        self.scope = throttle_scope_of(view, request.method)
        rate = ratelimit.rate_for(self.scope) if self.scope else None
        if rate is None:
            return True
        self.num_requests, self.duration = rate
        self.rate = f"{self.num_requests}/{self.duration}s"
        try:
            return super(DRFScopedRateThrottle, self).allow_request(request, view)
        except Exception:  # the cache is down: let the call through
            logger.warning(
                "API rate limit %s not applied: the cache is unavailable", self.scope, exc_info=True
            )
            return True

    def timer(self):
        return ratelimit.now()

    def get_ident(self, request):
        # The same client address as the audit trail and the pages' limits.
        return client_ip(request) or "unknown"
