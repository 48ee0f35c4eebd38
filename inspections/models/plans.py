from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import Cornerstone, InstitutionType
from inspections.choices import InspectionMethod, PlanState, ScopeMode
from inspections.querysets import PlanQuerySet


class InspectionPlan(models.Model):
    """A plan or special campaign (检查计划/专项行动): a batch of visits with a method, a period,
    a scope of targets, a team and checklists. An unannounced plan is secret."""

    code = models.CharField(_("number"), max_length=30, unique=True)
    title = models.CharField(_("title"), max_length=200)
    method = models.CharField(_("method"), max_length=20, choices=InspectionMethod.choices)
    secret = models.BooleanField(
        _("secret"),
        default=True,
        help_text=_(
            "Only the office, leaders and the team know of a secret plan until each visit starts."
        ),
    )
    description = models.TextField(_("purpose and requirements"), blank=True)
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    cornerstones = ArrayField(
        models.CharField(max_length=20, choices=Cornerstone.choices),
        verbose_name=_("cornerstones"),
        default=list,
        blank=True,
    )
    scope_mode = models.CharField(
        _("scope"), max_length=10, choices=ScopeMode.choices, default=ScopeMode.EXPLICIT
    )
    scope_institution_types = ArrayField(
        models.CharField(max_length=30, choices=InstitutionType.choices),
        verbose_name=_("institution types"),
        default=list,
        blank=True,
    )
    scope_districts = models.ManyToManyField(
        "civilaffairs.OrgUnit", blank=True, related_name="+", verbose_name=_("districts")
    )
    draw_count = models.PositiveIntegerField(_("targets to draw"), null=True, blank=True)
    draw_seed = models.BigIntegerField(_("draw seed"), null=True, blank=True)
    draw_record = models.JSONField(_("draw record"), default=dict, blank=True)
    team = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        related_name="inspection_plans",
        blank=True,
        verbose_name=_("team"),
    )
    team_leader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("team leader"),
    )
    templates = models.ManyToManyField(
        "inspections.ChecklistTemplate", blank=True, related_name="+", verbose_name=_("checklists")
    )
    state = models.CharField(
        _("state"), max_length=20, choices=PlanState.choices, default=PlanState.DRAFT, db_index=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("drafted by"),
    )
    created_at = models.DateTimeField(_("drafted at"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("inspection plan")
        verbose_name_plural = _("inspection plans")
        ordering = ["-period_start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="plan_period_ordered",
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        from django.urls import reverse

        return reverse("inspections:plan-detail", args=[self.pk])
