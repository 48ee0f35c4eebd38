from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import BottomLine, Cornerstone, InstitutionType
from inspections.choices import Category, Severity
from inspections.querysets import ChecklistTemplateQuerySet


class ChecklistTemplate(models.Model):
    """A checklist (检查表), one version of it. Editing makes a new version; visits keep the
    version they were checked against, so a filed visit never changes under anyone's feet."""

    code = models.CharField(_("code"), max_length=40)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    institution_types = ArrayField(
        models.CharField(max_length=30, choices=InstitutionType.choices),
        verbose_name=_("applies to"),
        default=list,
        blank=True,
        help_text=_("Empty: applies to every kind of unit."),
    )
    is_current = models.BooleanField(_("current version"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ChecklistTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="checklist_code_version"),
            models.UniqueConstraint(
                fields=["code"],
                condition=models.Q(is_current=True),
                name="checklist_one_current_version",
            ),
        ]

    def __str__(self):
        return f"{self.name}（V{self.version}）"


class ChecklistItem(models.Model):
    """One line of a checklist: what to check, under which bottom line, how serious a failure
    is by default, and the rule it rests on."""

    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("order"), default=0)
    bottom_line = models.CharField(_("bottom line"), max_length=20, choices=BottomLine.choices)
    cornerstone = models.CharField(
        _("cornerstone"), max_length=20, choices=Cornerstone.choices, blank=True
    )
    category = models.CharField(_("category"), max_length=30, choices=Category.choices)
    text = models.CharField(_("check item"), max_length=300)
    guidance = models.TextField(_("how to check"), blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=300, blank=True)
    default_severity = models.CharField(
        _("default severity"), max_length=10, choices=Severity.choices, default=Severity.GENERAL
    )

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["template", "position", "id"]

    def __str__(self):
        return self.text
