from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DashboardSnapshot(models.Model):
    """The leadership dashboard as computed for one viewer scope and one set of filters on one
    day: a summary table kept fresh by a Celery task so the page opens at once."""

    key = models.CharField(max_length=40, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    params = models.JSONField(default=dict)
    payload = models.TextField()
    computed_at = models.DateTimeField(_("computed at"))
    viewed_at = models.DateTimeField(_("last viewed at"), db_index=True)

    class Meta:
        verbose_name = _("dashboard snapshot")
        verbose_name_plural = _("dashboard snapshots")

    def __str__(self):
        return f"{self.key} @ {self.computed_at:%Y-%m-%d %H:%M}"
