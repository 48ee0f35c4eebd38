from django.db import models
from django.utils.translation import gettext_lazy as _


class InspectionMethod(models.TextChoices):
    UNANNOUNCED = "unannounced", _("Unannounced inspection")
    ANNOUNCED = "announced", _("Announced inspection")
    SPOT_CHECK = "spot_check", _("Spot check")
    CROSS_CHECK = "cross_check", _("Cross inspection")
    FULL_COVERAGE = "full_coverage", _("Full-coverage inspection")
    DUTY_CHECK = "duty_check", _("Unannounced duty check")


# Methods whose plans are secret by default (暗访): the targets must not learn of them.
SECRET_METHODS = {InspectionMethod.UNANNOUNCED, InspectionMethod.DUTY_CHECK}


class PlanState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted for approval")
    APPROVED = "approved", _("Approved")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class ScopeMode(models.TextChoices):
    EXPLICIT = "explicit", _("Chosen targets")
    DRAW = "draw", _("Random draw")


class VisitState(models.TextChoices):
    PLANNED = "planned", _("Planned")
    IN_PROGRESS = "in_progress", _("On site")
    SUBMITTED = "submitted", _("Submitted")
    CANCELLED = "cancelled", _("Cancelled")


class Outcome(models.TextChoices):
    PASS = "pass", _("Pass")
    FAIL = "fail", _("Fail")
    NOT_APPLICABLE = "na", _("Not applicable")


class Severity(models.TextChoices):
    GENERAL = "general", _("General")
    SERIOUS = "serious", _("Serious")
    MAJOR = "major", _("Major")


class Category(models.TextChoices):
    FIRE_HAZARD = "fire_hazard", _("Fire hazard")
    SAFETY_HAZARD = "safety_hazard", _("Safety hazard")
    POOR_SERVICE = "poor_service", _("Service not in place")
    IRREGULAR_MANAGEMENT = "irregular_management", _("Irregular management")
    DUTY_ABSENCE = "duty_absence", _("Absent from duty")
    INTEGRITY_RISK = "integrity_risk", _("Integrity risk")
    STABILITY_RISK = "stability_risk", _("Stability risk")
    OTHER = "other", _("Other")


class Disposition(models.TextChoices):
    FIXED_ON_SITE = "fixed_on_site", _("Fixed on site")
    RECTIFY_BY_DEADLINE = "rectify_by_deadline", _("Rectify by deadline")
    TRANSFERRED = "transferred", _("Transferred to a department")


class FindingState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Awaiting rectification")
    TRANSFERRED = "transferred", _("Transferred")
    CLOSED = "closed", _("Closed")


class FindingSource(models.TextChoices):
    CHECKLIST = "checklist", _("Checklist item")
    ADHOC = "adhoc", _("Found on site")


class PhotoKind(models.TextChoices):
    EVIDENCE = "evidence", _("Evidence")
    AFTER = "after", _("After rectification")
    SCENE = "scene", _("Scene")
