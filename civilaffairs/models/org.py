from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from civilaffairs import crypto
from civilaffairs.choices import InstitutionType, OrgKind
from civilaffairs.fields import BlindIndexField, EncryptedCharField
from civilaffairs.querysets import OrgUnitQuerySet
from civilaffairs.validators import validate_id_number

PATH_STEP = 7  # characters per level of the materialised path: "0000001000004…"


class OrgUnit(models.Model):
    """A unit of the civil-affairs system: the bureau, a department, a district bureau, a street,
    an affiliated unit or a service institution (a low-income household is one too)."""

    name = models.CharField(_("name"), max_length=120)
    short_name = models.CharField(_("short name"), max_length=40, blank=True)
    code = models.CharField(_("code"), max_length=40, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=OrgKind.choices)
    institution_type = models.CharField(
        _("institution type"), max_length=30, choices=InstitutionType.choices, blank=True
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    # Materialised path of zero-padded ids: subtree queries are one indexed prefix match.
    path = models.CharField(max_length=255, db_index=True, editable=False)
    depth = models.PositiveSmallIntegerField(default=0, editable=False)
    # The district bureau this unit lies under (itself for a district bureau), kept on every row
    # so that "by district" filters and figures need no tree walk.
    district = models.ForeignKey(
        "self",
        verbose_name=_("district"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    supervising_department = models.ForeignKey(
        "self",
        verbose_name=_("supervising department"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supervised_units",
        limit_choices_to={"kind": OrgKind.DEPARTMENT},
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.DecimalField(
        _("latitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )
    longitude = models.DecimalField(
        _("longitude"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )
    # The contact is personal data (a household's contact is a private person): encrypted at
    # rest; phone and ID number are found by their blind indexes (civilaffairs.crypto).
    contact_name = EncryptedCharField(_("contact person"), max_length=50, blank=True)
    contact_phone = EncryptedCharField(_("contact phone"), max_length=30, blank=True)
    contact_phone_bidx = BlindIndexField(source="contact_phone", kind=crypto.PHONE)
    # Kept for a low-income household's contact only (data minimisation).
    contact_id_number = EncryptedCharField(
        _("contact's ID number"), max_length=18, blank=True, validators=[validate_id_number]
    )
    contact_id_number_bidx = BlindIndexField(source="contact_id_number", kind=crypto.ID_NUMBER)
    # The unit's head (单位负责人): the second rung of the overdue escalation ladder.
    head = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="headed_units",
        verbose_name=_("unit head"),
    )
    capacity = models.PositiveIntegerField(_("capacity (beds/places)"), null=True, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = OrgUnitQuerySet.as_manager()

    class Meta:
        verbose_name = _("org unit")
        verbose_name_plural = _("org units")
        ordering = ["path"]
        indexes = [
            models.Index(fields=["kind", "institution_type"]),
            models.Index(fields=["district", "kind"]),
            models.Index(
                fields=["path"], name="orgunit_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
            # The unit select of the list pages' filter bars: the few hundred units above the
            # institutions, found without reading the twenty thousand institutions.
            models.Index(
                fields=["path"],
                name="orgunit_path_above_inst",
                opclasses=["varchar_pattern_ops"],
                condition=~models.Q(kind="institution"),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="institution") | models.Q(institution_type=""),
                name="orgunit_institution_type_only_on_institutions",
            ),
            models.CheckConstraint(
                condition=~models.Q(kind="institution") | ~models.Q(institution_type=""),
                name="orgunit_institution_has_type",
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("orgunit-detail", args=[self.pk])

    def clean(self):
        super().clean()
        if self.contact_id_number and not self.is_household:
            raise ValidationError(
                {
                    "contact_id_number": _(
                        "Only a low-income household's contact has an ID number recorded."
                    )
                }
            )

    @property
    def is_household(self) -> bool:
        return self.institution_type == InstitutionType.LOW_INCOME_HOUSEHOLD

    # Contacts as shown: a unit's contact person by name, a household's person masked; phones
    # and ID numbers always masked.
    @property
    def contact_name_shown(self) -> str:
        from civilaffairs.masking import mask_name

        return mask_name(self.contact_name) if self.is_household else self.contact_name

    @property
    def contact_phone_masked(self) -> str:
        from civilaffairs.masking import mask_phone

        return mask_phone(self.contact_phone)

    @property
    def contact_id_number_masked(self) -> str:
        from civilaffairs.masking import mask_id_number

        return mask_id_number(self.contact_id_number)
