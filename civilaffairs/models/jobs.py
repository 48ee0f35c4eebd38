import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import JobState
from civilaffairs.querysets import VisibleQuerySet


class BackgroundJobQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        """A job and its result are for the person who asked for them."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        return self.filter(owner=user)

    def unfinished(self):
        return self.filter(state__in=[JobState.QUEUED, JobState.RUNNING])


class BackgroundJob(models.Model):
    """Heavy work a person asked for (a large ledger, a brief), done by a worker: its progress,
    its outcome and the file it produced."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(_("kind"), max_length=40)
    title = models.CharField(_("title"), max_length=200)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="jobs",
        verbose_name=_("requested by"),
    )
    params = models.JSONField(default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=JobState.choices, default=JobState.QUEUED
    )
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True)
    stage = models.CharField(_("stage"), max_length=100, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    result = models.ForeignKey(
        "civilaffairs.Attachment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("result"),
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Written by the worker while it runs the job: a running job whose heartbeat stopped lost its
    # worker and may be claimed again (see civilaffairs.jobs).
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    objects = BackgroundJobQuerySet.as_manager()

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["owner", "kind", "created_at"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("job-detail", args=[self.uuid])

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        if not self.total:
            return 0
        return max(0, min(99, int(self.done * 100 / self.total)))

    @property
    def finished(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)
