from django.conf import settings
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils.translation import gettext_lazy as _


class UserSession(AbstractBaseSession):
    """A browser's signed-in (or not yet signed-in) session, stored with the person it belongs
    to, so that all of a person's sessions can be ended at once when the account is disabled.

    The user is written by the session store on every save of the row, from the session's own
    data, so the mapping cannot go stale when Django cycles the key (sign-in, password change)
    or when a session is flushed: there is no second table to keep in step."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )

    class Meta(AbstractBaseSession.Meta):
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        from civilaffairs.session_store import SessionStore

        return SessionStore
