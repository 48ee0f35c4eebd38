"""The sign-in gate: a signed-in person who still owes the second step (a code from their
authenticator app, or setting one up where the role requires it) or whose password has expired
reaches only the page that settles it, and signing out. Pages redirect there (htmx gets
HX-Redirect), the API answers 403 with a Chinese ``detail``. The Django administration is
behind the same gate. API token requests are checked by civilaffairs.api.auth instead (the
token is authenticated inside DRF, after middleware)."""

from urllib.parse import urlencode

from django.http import HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from civilaffairs import security
from civilaffairs.passwords import password_expired

# URL names reachable whatever the person still owes.
ALWAYS_OPEN = {"logout", "login", "healthz", "javascript-catalog", "api-token"}
OTP_PAGES = {"otp-verify", "otp-setup"}
PASSWORD_PAGES = {"password-change"}


def _owed(request) -> tuple[str, set[str], str, str] | None:
    """(target URL name, names allowed meanwhile, API message, API code), or None."""
    user = request.user
    if not user.is_authenticated:
        return None
    if security.otp_step_needed(user, request.session) and not security.otp_verified(request):
        if request.session.get(security.OTP_ENROLLED_SESSION_KEY) or not security.otp_required(
            user
        ):
            target = "otp-verify"
        else:
            target = "otp-setup"
        return (
            target,
            OTP_PAGES,
            _("Complete the two-factor sign-in on the web page first."),
            "otp_required",
        )
    if password_expired(user):
        return (
            "password-change",
            PASSWORD_PAGES,
            _("Your password has expired. Change it on the web page first."),
            "password_expired",
        )
    return None


class AuthGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        name = match.url_name if match else None
        if name in ALWAYS_OPEN and not (match.namespace):
            return None
        owed = _owed(request)
        if owed is None:
            return None
        target, allowed, api_message, api_code = owed
        if name in allowed and not match.namespace:
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": api_message, "code": api_code}, status=403)
        url = reverse(target)
        if request.method == "GET":
            url += "?" + urlencode({"next": request.get_full_path()})
        if getattr(request, "htmx", False):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = url
            return response
        return HttpResponseRedirect(url)
