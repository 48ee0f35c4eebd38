from django.db import models
from django.utils.translation import gettext_lazy as _


class RectificationState(models.TextChoices):
    ISSUED = "issued", _("Issued")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    SUBMITTED = "submitted", _("Rectification reported")
    VERIFIED = "verified", _("Verified and closed")
    RETURNED = "returned", _("Returned")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATES = {
    RectificationState.ISSUED,
    RectificationState.ACKNOWLEDGED,
    RectificationState.SUBMITTED,
    RectificationState.RETURNED,
}


class SourceType(models.TextChoices):
    FINDING = "finding", _("Finding")
    COMPLAINT = "complaint", _("Complaint")
    COMMITMENT = "commitment", _("Commitment")


class Priority(models.TextChoices):
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


PRIORITY_BY_SEVERITY = {
    "general": Priority.NORMAL,
    "serious": Priority.HIGH,
    "major": Priority.URGENT,
}


class ExtensionState(models.TextChoices):
    PENDING = "pending", _("Awaiting approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class AlertLevel(models.TextChoices):
    """Yellow before the deadline, then the overdue escalation ladder (each rung adds people)."""

    DUE_SOON = "due_soon", _("Deadline approaching")
    LIAISON = "liaison", _("Overdue: unit liaison")
    UNIT_HEAD = "unit_head", _("Overdue: unit head")
    OFFICE = "office", _("Overdue: office")
    LEADER = "leader", _("Overdue: bureau leader")


LADDER = [AlertLevel.LIAISON, AlertLevel.UNIT_HEAD, AlertLevel.OFFICE, AlertLevel.LEADER]
