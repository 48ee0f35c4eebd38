"""Token authentication that refuses a user whose password has expired (kept apart from the
views: DRF imports authentication classes while it is itself being imported)."""

from django.utils.translation import gettext as _
from rest_framework import authentication, exceptions

from civilaffairs.passwords import password_expired


def expired_detail() -> dict:
    return {
        "detail": _("Your password has expired. Change it on the web page first."),
        "code": "password_expired",
    }


class TokenAuthentication(authentication.TokenAuthentication):
    """``Authorization: Token <key>``; a user whose password has expired gets 403."""

    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if password_expired(user):
            raise exceptions.PermissionDenied(expired_detail())
        return user, token
