import ipaddress

from django.conf import settings

from civilaffairs import context


def client_ip(request) -> str | None:
    """The client address; behind ``TRUSTED_PROXY_COUNT`` proxies, taken from X-Forwarded-For
    counting from the right so a client cannot forge it."""
    candidate = request.META.get("REMOTE_ADDR")
    hops = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if hops and forwarded:
        parts = [p.strip() for p in forwarded.split(",") if p.strip()]
        if len(parts) >= hops:
            candidate = parts[-hops]
    try:
        return str(ipaddress.ip_address(candidate)) if candidate else None
    except ValueError:
        return None


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = context.set_current(
            context.RequestContext(
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            )
        )
        denials = context.watch_denials()
        try:
            response = self.get_response(request)
            # Refusals go on the audit trail (imported here: client_ip is used before apps load).
            from civilaffairs.auditing import record_denial

            record_denial(request, response)
            return response
        finally:
            context.unwatch_denials(denials)
            context.reset(token)
