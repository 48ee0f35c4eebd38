"""Enumerations of the business vocabulary (DESIGN §2). Labels are msgids for the catalog."""

from django.db import models
from django.utils.encoding import force_str
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


class OrgKind(models.TextChoices):
    BUREAU = "bureau", _("Municipal bureau")
    DEPARTMENT = "department", _("Bureau department")
    AFFILIATED_UNIT = "affiliated_unit", _("Affiliated unit")
    DISTRICT_BUREAU = "district_bureau", _("District bureau")
    STREET = "street", _("Street / town")
    INSTITUTION = "institution", _("Service institution")


class InstitutionType(models.TextChoices):
    ELDER_CARE = "elder_care", _("Elder-care institution")
    RESCUE_STATION = "rescue_station", _("Relief and rescue station")
    FUNERAL_HOME = "funeral_home", _("Funeral home")
    WELFARE_HOME = "welfare_home", _("Welfare home")
    VETERAN_SANATORIUM = "veteran_sanatorium", _("Retired cadres' sanatorium")
    MARRIAGE_REGISTRY = "marriage_registry", _("Marriage registry")
    COLD_SHELTER = "cold_shelter", _("Cold-weather shelter")
    VETERAN_SERVICE = "veteran_service", _("Veterans' service station")
    LOW_INCOME_HOUSEHOLD = "low_income_household", _("Low-income household")


class Role(models.TextChoices):
    SUPERVISOR = "supervisor", _("Supervisor")
    OFFICE_HEAD = "office_head", _("Office head")
    INSPECTOR = "inspector", _("Inspector")
    UNIT_LIAISON = "unit_liaison", _("Unit liaison")
    DEPARTMENT = "department", _("Department staff")
    LEADER = "leader", _("Bureau leader")
    AUDITOR = "auditor", _("Auditor")
    SYSADMIN = "sysadmin", _("System administrator")


# 三权分立: a user is a sysadmin, or an auditor, or holds business roles — never two of these.
ROLE_FAMILY = {
    Role.SYSADMIN: "sysadmin",
    Role.AUDITOR: "auditor",
    Role.SUPERVISOR: "business",
    Role.OFFICE_HEAD: "business",
    Role.INSPECTOR: "business",
    Role.UNIT_LIAISON: "business",
    Role.DEPARTMENT: "business",
    Role.LEADER: "business",
}
# Roles that act for the whole city unless scoped; the others need an explicit scope.
OFFICE_ROLES = {Role.SUPERVISOR, Role.OFFICE_HEAD, Role.INSPECTOR}
SCOPED_ROLES = {Role.UNIT_LIAISON, Role.DEPARTMENT, Role.LEADER}


class BottomLine(models.TextChoices):
    SAFETY = "safety", _("Safety")
    INTEGRITY = "integrity", _("Integrity")
    STABILITY = "stability", _("Stability")
    ETHICS = "ethics", _("Ethics")
    DISASTER_RELIEF = "disaster_relief", _("Disaster relief")


class Cornerstone(models.TextChoices):
    STANDARDS = "standards", _("Standards")
    ESSENTIALS = "essentials", _("Essentials")
    FOUNDATIONS = "foundations", _("Foundations")
    GRASSROOTS = "grassroots", _("Grassroots")
    BASELINE_DATA = "baseline_data", _("Baseline data")


class NotificationKind(models.TextChoices):
    UPDATE = "update", _("Update")
    DUE_SOON = "due_soon", _("Deadline approaching")
    OVERDUE = "overdue", _("Overdue")
    ESCALATION = "escalation", _("Escalation")
    REMINDER = "reminder", _("Reminder")
    FILE_READY = "file_ready", _("File ready")


# Kinds urgent enough for a text message (when the user asked for them).
URGENT_KINDS = {NotificationKind.OVERDUE, NotificationKind.ESCALATION}


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("Text message")
    WEBHOOK = "webhook", _("Group robot")


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class WebhookKind(models.TextChoices):
    WECOM = "wecom", _("WeCom group robot")
    DINGTALK = "dingtalk", _("DingTalk group robot")


class JobState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


_LABELS: dict[tuple, dict] = {}


def choice_labels(model, field_name: str) -> dict:
    """A choice field's labels by value in the active language, as strings: what
    ``get_<field>_display()`` answers, built once per language instead of on every call (a
    list page asks for a badge's label on each of its 50 rows)."""
    key = (model, field_name, get_language())
    labels = _LABELS.get(key)
    if labels is None:
        choices = model._meta.get_field(field_name).flatchoices
        labels = _LABELS[key] = {
            value: force_str(label, strings_only=True) for value, label in choices
        }
    return labels


def choice_label(obj, field_name: str):
    """``obj.get_<field_name>_display()`` from the cached labels."""
    value = getattr(obj, field_name)
    return choice_labels(type(obj), field_name).get(value, value)
