from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class PasswordHistory(models.Model):
    """The hash of a password a user once had, so that a recent one is not chosen again."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="password_history"
    )
    # The hash exactly as stored in User.password (algorithm, salt and digest), never the text.
    password = models.CharField(max_length=128)
    set_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("previous password")
        verbose_name_plural = _("previous passwords")
        ordering = ["user", "-set_at", "-pk"]
        indexes = [models.Index(fields=["user", "-set_at"], name="password_history_recent")]

    def __str__(self):
        return f"{self.user_id} @ {self.set_at:%Y-%m-%d %H:%M}"
