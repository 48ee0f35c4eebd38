from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import BottomLine
from reports.choices import LineStatus
from reports.daily_querysets import (
    DailyDigestQuerySet,
    DailyReportQuerySet,
    SensitivePeriodQuerySet,
    WeeklyReportQuerySet,
)


class SensitivePeriod(models.Model):
    """A sensitive period (敏感时期: a major event, a holiday, a cold snap) during which each
    reporting unit files a daily bottom-line report before the cut-off."""

    name = models.CharField(_("name"), max_length=100)
    start_date = models.DateField(_("first day"))
    end_date = models.DateField(_("last day"))
    cutoff = models.TimeField(_("daily cut-off"), help_text=_("Reports after it are late."))
    remind_minutes = models.PositiveSmallIntegerField(
        _("reminder before the cut-off (minutes)"), default=60
    )
    units = models.ManyToManyField(
        "civilaffairs.OrgUnit",
        related_name="sensitive_periods",
        verbose_name=_("reporting units"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    active = models.BooleanField(_("active"), default=True)

    objects = SensitivePeriodQuerySet.as_manager()

    class Meta:
        verbose_name = _("sensitive period")
        verbose_name_plural = _("sensitive periods")
        ordering = ["-start_date", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")),
                name="period_ends_after_it_starts",
            )
        ]

    def __str__(self):
        return self.name


class DailyReport(models.Model):
    """One unit's bottom-line report (每日底线报告) for one day of a sensitive period."""

    period = models.ForeignKey(
        SensitivePeriod, on_delete=models.PROTECT, related_name="reports", verbose_name=_("period")
    )
    unit = models.ForeignKey(
        "civilaffairs.OrgUnit",
        on_delete=models.PROTECT,
        related_name="daily_reports",
        verbose_name=_("unit"),
    )
    day = models.DateField(_("day"))
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("reporter"),
    )
    responsible_leader = models.CharField(_("responsible leader"), max_length=50)
    nil = models.BooleanField(_("nil report"), default=False)
    submitted_at = models.DateTimeField(_("submitted at"))
    late = models.BooleanField(_("late"), default=False)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)

    objects = DailyReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily bottom-line report")
        verbose_name_plural = _("daily bottom-line reports")
        ordering = ["-day", "unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["period", "unit", "day"], name="one_daily_report_per_unit_day"
            )
        ]

    def __str__(self):
        return f"{self.unit} {self.day}"


class DailyReportLine(models.Model):
    """One of the five bottom lines in a daily report: normal, or abnormal with a note."""

    report = models.ForeignKey(DailyReport, on_delete=models.CASCADE, related_name="lines")
    bottom_line = models.CharField(_("bottom line"), max_length=20, choices=BottomLine.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=LineStatus.choices, default=LineStatus.NORMAL
    )
    note = models.TextField(_("note"), blank=True)
    finding = models.ForeignKey(
        "inspections.Finding",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("finding"),
    )

    class Meta:
        verbose_name = _("bottom line")
        verbose_name_plural = _("bottom lines")
        ordering = ["report_id", "bottom_line"]
        constraints = [
            models.UniqueConstraint(
                fields=["report", "bottom_line"], name="one_line_per_bottom_line"
            )
        ]

    def __str__(self):
        return f"{self.get_bottom_line_display()}: {self.get_status_display()}"


class DailyDigest(models.Model):
    """The city-wide digest of one day of a period, built at the cut-off (once)."""

    period = models.ForeignKey(
        SensitivePeriod, on_delete=models.PROTECT, related_name="digests", verbose_name=_("period")
    )
    day = models.DateField(_("day"))
    built_at = models.DateTimeField(_("built at"), auto_now_add=True)
    reported = models.PositiveIntegerField(_("reported"), default=0)
    missing = models.JSONField(_("missing units"), default=list, blank=True)
    abnormal = models.PositiveIntegerField(_("abnormal lines"), default=0)
    figures = models.JSONField(default=dict, blank=True)
    pdf = models.ForeignKey(
        "civilaffairs.Attachment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("PDF file"),
    )
    xlsx = models.ForeignKey(
        "civilaffairs.Attachment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("Excel workbook"),
    )

    objects = DailyDigestQuerySet.as_manager()

    class Meta:
        verbose_name = _("daily digest")
        verbose_name_plural = _("daily digests")
        ordering = ["-day", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "day"], name="one_digest_per_period_day")
        ]

    def __str__(self):
        return f"{self.period} {self.day}"


class WeeklyReport(models.Model):
    """The office's weekly plan and summary (每周计划和总结), its figures filled in."""

    week_start = models.DateField(_("week of"), unique=True, help_text=_("The Monday."))
    plan = models.TextField(_("plan for the week"), blank=True)
    summary = models.TextField(_("summary of the week"), blank=True)
    figures = models.JSONField(_("figures"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = WeeklyReportQuerySet.as_manager()

    class Meta:
        verbose_name = _("weekly plan and summary")
        verbose_name_plural = _("weekly plans and summaries")
        ordering = ["-week_start"]

    def __str__(self):
        return str(self.week_start)
