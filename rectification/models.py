from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from rectification.choices import (
    AlertLevel,
    ExtensionState,
    Priority,
    RectificationState,
    SourceType,
)
from rectification.querysets import ExtensionQuerySet, RectificationQuerySet


class Rectification(models.Model):
    """A rectification order (整改单/督办单): what a unit must fix, by when, and where it stands.
    Findings, complaints and commitments all drive their problems through it."""

    code = models.CharField(_("number"), max_length=30, unique=True)
    source_type = models.CharField(
        _("source"), max_length=20, choices=SourceType.choices, default=SourceType.FINDING
    )
    finding = models.ForeignKey(
        "inspections.Finding",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
        verbose_name=_("finding"),
    )
    title = models.CharField(_("problem"), max_length=200)
    requirements = models.TextField(_("requirements"), blank=True)
    responsible_unit = models.ForeignKey(
        "civilaffairs.OrgUnit",
        on_delete=models.PROTECT,
        related_name="rectifications",
        verbose_name=_("responsible unit"),
    )
    responsible_person = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("responsible person"),
    )
    supervising_department = models.ForeignKey(
        "civilaffairs.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_rectifications",
        verbose_name=_("supervising department"),
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    dispatched_at = models.DateTimeField(_("dispatched at"))
    deadline = models.DateField(_("deadline"))
    deadline_working_days = models.PositiveSmallIntegerField(
        _("working days allowed"), null=True, blank=True
    )
    deadline_provisional = models.BooleanField(
        _("provisional deadline"),
        default=False,
        help_text=_("The deadline reaches a year whose holidays are not published yet."),
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=RectificationState.choices,
        default=RectificationState.ISSUED,
        db_index=True,
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("reported at"), null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reported by"),
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("verified by"),
    )
    times_returned = models.PositiveSmallIntegerField(_("times returned"), default=0)
    # Empty when the system issued it (a visit was filed with findings to rectify).
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("issued by"),
    )
    version = models.PositiveIntegerField(default=1)

    objects = RectificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("rectification order")
        verbose_name_plural = _("rectification orders")
        ordering = ["deadline", "id"]
        indexes = [
            models.Index(fields=["state", "deadline"]),
            models.Index(fields=["responsible_unit", "state"]),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


class ExtensionRequest(models.Model):
    """A unit's request for more time (延期申请), approved or rejected by the office head."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="extensions"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    new_deadline = models.DateField(_("requested deadline"))
    reason = models.TextField(_("reason"))
    state = models.CharField(
        _("state"), max_length=10, choices=ExtensionState.choices, default=ExtensionState.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)

    objects = ExtensionQuerySet.as_manager()

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["rectification"],
                condition=models.Q(state="pending"),
                name="one_pending_extension",
            ),
        ]

    def __str__(self):
        return f"{self.rectification.code} → {self.new_deadline}"


class Alert(models.Model):
    """A deadline warning or overdue escalation sent for an order on a day. The row is the
    claim: the unique (order, level, day) makes a second or concurrent scan send nothing."""

    rectification = models.ForeignKey(
        Rectification, on_delete=models.CASCADE, related_name="alerts"
    )
    level = models.CharField(_("level"), max_length=20, choices=AlertLevel.choices)
    day = models.DateField(_("day"))
    working_days = models.SmallIntegerField(
        _("working days"), help_text=_("Left before the deadline, or overdue (negative: left).")
    )
    recipients = models.PositiveIntegerField(_("recipients"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("deadline alert")
        verbose_name_plural = _("deadline alerts")
        ordering = ["-day", "rectification_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["rectification", "level", "day"], name="one_alert_per_order_level_day"
            )
        ]

    def __str__(self):
        return f"{self.rectification.code} {self.level} {self.day}"
