from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from inspections.choices import Outcome, VisitState
from inspections.querysets import VisitQuerySet


class Visit(models.Model):
    """One visit to one target (检查记录): who went, when they checked in and where, what each
    checklist item showed, and the findings. Read-only once submitted."""

    plan = models.ForeignKey(
        "inspections.InspectionPlan",
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("plan"),
    )
    target = models.ForeignKey(
        "civilaffairs.OrgUnit",
        on_delete=models.PROTECT,
        related_name="visits",
        verbose_name=_("target"),
    )
    inspectors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="visits", blank=True, verbose_name=_("inspectors")
    )
    scheduled_date = models.DateField(_("scheduled for"), null=True, blank=True)
    templates = models.ManyToManyField(
        "inspections.ChecklistTemplate",
        blank=True,
        related_name="visits",
        verbose_name=_("checklists"),
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=VisitState.choices,
        default=VisitState.PLANNED,
        db_index=True,
    )
    started_at = models.DateTimeField(_("checked in at"), null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    checkin_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    checkin_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    checkin_accuracy_m = models.FloatField(_("GPS accuracy (m)"), null=True, blank=True)
    checkin_distance_m = models.FloatField(_("distance from target (m)"), null=True, blank=True)
    checkin_far = models.BooleanField(_("checked in far from target"), default=False)
    summary = models.TextField(_("summary"), blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Phones send check-in and submission with client UUIDs of their own (applied once each).
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    client_digest = models.CharField(max_length=64, blank=True)
    submit_client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    submit_digest = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = VisitQuerySet.as_manager()

    class Meta:
        verbose_name = _("visit")
        verbose_name_plural = _("visits")
        ordering = ["-scheduled_date", "-id"]
        indexes = [
            models.Index(fields=["plan", "state"]),
            models.Index(fields=["target", "state"]),
            # The list's default order and the dashboard's period (#8).
            models.Index(fields=["scheduled_date", "id"], name="visit_scheduled_date_id"),
        ]

    def __str__(self):
        return f"{self.target} · {self.plan}"

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("inspections:visit-detail", args=[self.pk])

    @property
    def is_editable(self) -> bool:
        return self.state == VisitState.IN_PROGRESS


class ItemResult(models.Model):
    """What one checklist item showed on one visit."""

    visit = models.ForeignKey(Visit, on_delete=models.CASCADE, related_name="results")
    item = models.ForeignKey(
        "inspections.ChecklistItem", on_delete=models.PROTECT, related_name="+"
    )
    outcome = models.CharField(_("result"), max_length=4, choices=Outcome.choices)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now=True)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    client_digest = models.CharField(max_length=64, blank=True)

    class Meta:
        verbose_name = _("item result")
        verbose_name_plural = _("item results")
        constraints = [
            models.UniqueConstraint(fields=["visit", "item"], name="one_result_per_item"),
        ]

    def __str__(self):
        return f"{self.item} · {self.get_outcome_display()}"
