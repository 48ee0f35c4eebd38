"""Signing in to the API: the token endpoint (password, then the two-factor code where one is
needed, under the same lockout as the pages)."""

from django.contrib.auth import authenticate
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from civilaffairs import security
from civilaffairs.api.authentication import expired_detail
from civilaffairs.exceptions import ServiceError
from civilaffairs.passwords import password_expired


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(label=gettext_lazy("Username"), max_length=150)
    password = serializers.CharField(
        label=gettext_lazy("Password"), trim_whitespace=False, style={"input_type": "password"}
    )
    otp = serializers.CharField(
        label=gettext_lazy("Two-factor code"),
        required=False,
        allow_blank=True,
        max_length=16,
        help_text=gettext_lazy(
            "The 6-digit code of the authenticator app. Required for the roles that sign in "
            "with two factors (system administrator, auditor, office head and leader by "
            "default) and for anyone who turned two-factor sign-in on."
        ),
    )


# The endpoint's schema, for civilaffairs.api.views.TokenView (which adds throttling and the
# audit record of the sign-in) to put on its post().
token_schema = extend_schema(
    operation_id="auth_token_create",
    request=TokenRequestSerializer,
    responses={
        200: inline_serializer(name="AuthToken", fields={"token": serializers.CharField()}),
        400: OpenApiResponse(
            description=(
                "Wrong username or password (``non_field_errors``), or the two-factor code "
                "is missing or wrong (``code`` ``otp_required`` / ``otp_invalid``, "
                "``field`` ``otp``). Each wrong password or code counts toward the lockout."
            )
        ),
        403: OpenApiResponse(
            description=(
                "Signed in, but the password has expired (``password_expired``) or the role "
                "requires two-factor sign-in and it is not set up yet "
                "(``otp_setup_required``): both are settled on the web pages."
            )
        ),
        429: OpenApiResponse(
            description=(
                "Locked out after too many failed attempts from this address "
                "(``locked_out``); nothing is checked until the cool-off ends or a "
                "system administrator unlocks the account."
            )
        ),
    },
    examples=[
        OpenApiExample(
            "Two-factor sign-in",
            # An example request in the API docs, not a credential (bandit B105).
            value={"username": "leader", "password": "…", "otp": "123456"},  # nosec B105
            request_only=True,
        )
    ],
    description=(
        "Signing in for the API. Roles in ``OTP_REQUIRED_ROLES`` (by default system "
        "administrator, auditor, office head and leader), and anyone who turned two-factor "
        "sign-in on, must also send the current 6-digit code of their authenticator app "
        "in ``otp``. After ``AXES_FAILURE_LIMIT`` (5) failures of one username from one "
        "address, that pair is locked out for ``AXES_COOLOFF_MINUTES`` (30). Tokens issued "
        "before two-factor sign-in was set up are revoked when it is."
    ),
)


@method_decorator(sensitive_post_parameters("password", "otp"), name="dispatch")
class TokenObtainView(APIView):
    """Exchange a username and password (and, where two-factor sign-in applies, the current
    code in ``otp``) for an API token (for the mobile pages and scripts)."""

    permission_classes = [AllowAny]
    authentication_classes = []
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    @token_schema
    def post(self, request, *args, **kwargs):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username = data.validated_data["username"]
        if security.lockout_active(request, username):
            return security.lockout_response(request)
        user = authenticate(
            request=request, username=username, password=data.validated_data["password"]
        )
        if user is None:
            if getattr(request, "axes_locked_out", False):
                return security.lockout_response(request)
            raise exceptions.ValidationError(
                {"non_field_errors": [_("The username or password is wrong.")]}
            )
        if security.otp_step_needed(user):
            if not security.otp_enabled(user):
                return Response(
                    {
                        "detail": _(
                            "Your role requires two-factor sign-in: set it up on the web page "
                            "first."
                        ),
                        "code": "otp_setup_required",
                    },
                    status=403,
                )
            code = data.validated_data.get("otp", "")
            if not security.clean_token(code):
                raise ServiceError(
                    _("Enter the 6-digit code of your authenticator app in otp."),
                    field="otp",
                    code="otp_required",
                )
            problem = security.otp_check(request, user, code)
            if problem is not None:
                if getattr(request, "axes_locked_out", False):
                    return security.lockout_response(request)
                raise ServiceError(problem, field="otp", code="otp_invalid")
        if password_expired(user):
            return Response(expired_detail(), status=403)
        token, _created = Token.objects.get_or_create(user=user)
        security.lockout_reset(request, user)
        return Response({"token": token.key})
