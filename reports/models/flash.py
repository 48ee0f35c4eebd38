from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from reports.choices import FlashState
from reports.flash_querysets import FlashReportQuerySet


class FlashSerial(models.Model):
    """The last issue number used in a year (五五快报 2026年第N期). Sign-off locks this row and
    takes the next number, so numbers have no gaps and no duplicates, even at once."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("flash report serial")
        verbose_name_plural = _("flash report serials")

    def __str__(self):
        return f"{self.year}: {self.last}"


class FlashReport(models.Model):
    """A 五五快报: the same-day report of an important matter to the bureau's leaders."""

    year = models.PositiveSmallIntegerField(_("year"), null=True, blank=True)
    serial = models.PositiveIntegerField(_("issue number"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    found_at = models.DateTimeField(
        _("found at"), help_text=_("The same-day rule counts from this day.")
    )
    situation = models.TextField(_("basic situation"), blank=True)
    problems = models.TextField(_("problems found"), blank=True)
    causes = models.TextField(_("cause analysis"), blank=True)
    suggestions = models.TextField(_("opinions and suggestions"), blank=True)
    findings = models.ManyToManyField(
        "inspections.Finding", blank=True, related_name="flash_reports", verbose_name=_("findings")
    )
    visits = models.ManyToManyField(
        "inspections.Visit", blank=True, related_name="flash_reports", verbose_name=_("visits")
    )
    rectifications = models.ManyToManyField(
        "rectification.Rectification",
        blank=True,
        related_name="flash_reports",
        verbose_name=_("rectification orders"),
    )
    state = models.CharField(
        _("state"), max_length=20, choices=FlashState.choices, default=FlashState.DRAFT
    )
    issuing_office = models.CharField(_("issuing office"), max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("drafted by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("signed off by"),
    )
    signed_at = models.DateTimeField(_("signed off at"), null=True, blank=True)
    # The same-day rule (不过夜): signed off before midnight (Asia/Shanghai) of the day found.
    on_time = models.BooleanField(_("same day"), null=True, blank=True)
    distributed_at = models.DateTimeField(_("distributed at"), null=True, blank=True)
    pdf = models.ForeignKey(
        "civilaffairs.Attachment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("PDF file"),
    )
    version = models.PositiveIntegerField(default=1)

    objects = FlashReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("flash report")
        verbose_name_plural = _("flash reports")
        ordering = ["-year", "-serial", "-found_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["year", "serial"], name="one_flash_serial_per_year"),
            models.CheckConstraint(
                condition=models.Q(serial__isnull=True) | models.Q(year__isnull=False),
                name="flash_serial_has_year",
            ),
        ]
        indexes = [models.Index(fields=["state", "found_at"])]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("reports:flash-detail", args=[self.pk])

    @property
    def issue_label(self) -> str:
        """2026年第15期 once signed off; empty before."""
        from django.utils.translation import gettext

        if self.serial is None:
            return ""
        return gettext("Issue %(number)s of %(year)s") % {"number": self.serial, "year": self.year}


class FlashRecipient(models.Model):
    """A leader a flash report was distributed to, with the read receipt."""

    report = models.ForeignKey(FlashReport, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="flash_reports_received",
        verbose_name=_("recipient"),
    )
    delivered_at = models.DateTimeField(_("delivered at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("flash report recipient")
        verbose_name_plural = _("flash report recipients")
        ordering = ["report_id", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["report", "user"], name="one_receipt_per_leader")
        ]

    def __str__(self):
        return f"{self.report_id} → {self.user}"
