import uuid

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import BottomLine, Cornerstone
from inspections.choices import (
    Category,
    Disposition,
    FindingSource,
    FindingState,
    PhotoKind,
    Severity,
)
from inspections.querysets import FindingQuerySet, PhotoQuerySet


class Finding(models.Model):
    """One problem or hazard (问题/隐患) found on a visit, from a failed checklist item or seen on
    site, with its evidence and what is to be done about it."""

    code = models.CharField(_("number"), max_length=30, unique=True, null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=20, choices=FindingSource.choices, default=FindingSource.ADHOC
    )
    visit = models.ForeignKey(
        "inspections.Visit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
        verbose_name=_("visit"),
    )
    item_result = models.ForeignKey(
        "inspections.ItemResult",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="findings",
    )
    target = models.ForeignKey(
        "civilaffairs.OrgUnit",
        on_delete=models.PROTECT,
        related_name="findings",
        verbose_name=_("unit"),
    )
    bottom_line = models.CharField(_("bottom line"), max_length=20, choices=BottomLine.choices)
    cornerstones = ArrayField(
        models.CharField(max_length=20, choices=Cornerstone.choices),
        verbose_name=_("cornerstones"),
        default=list,
        blank=True,
    )
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    severity = models.CharField(_("severity"), max_length=10, choices=Severity.choices)
    title = models.CharField(_("problem"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    found_at = models.DateTimeField(_("found at"))
    found_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("found by"),
    )
    disposition = models.CharField(
        _("disposition"), max_length=30, choices=Disposition.choices, blank=True
    )
    transferred_to = models.ForeignKey(
        "civilaffairs.OrgUnit",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="transferred_findings",
        verbose_name=_("transferred to"),
        limit_choices_to={"kind": "department"},
    )
    fix_note = models.TextField(_("how it was fixed on site"), blank=True)
    # Kept by the services (create, file, amend): the finding this one repeats, see
    # FindingQuerySet.previous_occurrence. Derived, so changing it does not bump ``version``.
    repeat_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="repeats",
        verbose_name=_("repeat of"),
    )
    state = models.CharField(
        _("state"),
        max_length=20,
        choices=FindingState.choices,
        default=FindingState.DRAFT,
        db_index=True,
    )
    filed_at = models.DateTimeField(_("filed at"), null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    client_digest = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = FindingQuerySet.as_manager()

    class Meta:
        verbose_name = _("finding")
        verbose_name_plural = _("findings")
        ordering = ["-found_at", "-id"]
        indexes = [
            models.Index(fields=["target", "category", "found_at"]),
            models.Index(fields=["bottom_line", "severity"]),
            # The lists' default order (newest first) and their date filters (#8).
            models.Index(fields=["found_at", "id"], name="finding_found_at_id"),
            # The list's typical filters (state and district, the last 90 days): counted by an
            # index-only scan per unit of the district rather than a scan of every finding.
            models.Index(fields=["target", "state", "found_at"], name="finding_target_state_found"),
            # Findings arrive in time order: a tiny BRIN serves the dashboard's long ranges.
            BrinIndex(fields=["found_at"], name="finding_found_at_brin"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(disposition="transferred")
                | models.Q(transferred_to__isnull=False),
                name="transferred_finding_has_department",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("inspections:finding-detail", args=[self.pk])

    @property
    def is_repeat(self) -> bool:
        """The same problem was found at this unit within the repeat window before."""
        return self.repeat_of_id is not None


class Photo(models.Model):
    """A photo filed as evidence: re-encoded without metadata, with its SHA-256, capture time and
    GPS kept as fields. Never altered after filing."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    visit = models.ForeignKey("inspections.Visit", on_delete=models.PROTECT, related_name="photos")
    finding = models.ForeignKey(
        Finding, null=True, blank=True, on_delete=models.PROTECT, related_name="photos"
    )
    item_result = models.ForeignKey(
        "inspections.ItemResult",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="photos",
    )
    kind = models.CharField(
        _("kind"), max_length=10, choices=PhotoKind.choices, default=PhotoKind.EVIDENCE
    )
    file = models.FileField(max_length=255)
    thumbnail = models.FileField(max_length=255)
    sha256 = models.CharField(_("SHA-256 of the stored image"), max_length=64, db_index=True)
    original_sha256 = models.CharField(_("SHA-256 of the upload"), max_length=64)
    original_type = models.CharField(max_length=20)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()
    captured_at = models.DateTimeField(_("taken at"), null=True, blank=True)
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    caption = models.CharField(_("caption"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)
    client_uuid = models.UUIDField(null=True, blank=True, unique=True)
    client_digest = models.CharField(max_length=64, blank=True)

    objects = PhotoQuerySet.as_manager()

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return self.caption or str(self.uuid)
