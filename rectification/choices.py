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


# --- Complaints and commitments (DESIGN §3 flow 8) -------------------------------------------


class ComplaintChannel(models.TextChoices):
    """How a public opinion, complaint or referred case reached the bureau."""

    PHONE = "phone", _("Phone call")
    ONLINE = "online", _("Online platform")
    PETITION = "petition", _("Letters and visits")
    MAILBOX = "mailbox", _("Suggestion box")
    REFERRAL = "referral", _("Referred by a higher authority")
    # The city's 12345 hotline is called by its number; the label is the same in every language.
    HOTLINE = "hotline_12345", "12345"
    VISIT = "visit", _("Home visit")
    FORUM = "forum", _("Public forum")


class ComplaintDomain(models.TextChoices):
    """The line of civil-affairs work a complaint concerns."""

    VETERANS = "veterans", _("Veterans' preferential treatment and resettlement")
    SOCIAL_WELFARE = "social_welfare", _("Social welfare")
    SOCIAL_AFFAIRS = "social_affairs", _("Social affairs")
    DISASTER_RELIEF = "disaster_relief", _("Disaster and emergency relief")
    PLACE_NAMES = "place_names", _("Administrative divisions and place names")
    COMMUNITY = "community", _("Community building")
    LOTTERY = "lottery", _("Welfare lottery")
    SOCIAL_ASSISTANCE = "social_assistance", _("Social assistance")
    ELDER_CARE = "elder_care", _("Elderly care services")
    MARRIAGE = "marriage", _("Marriage registration")
    FUNERAL = "funeral", _("Funeral and burial management")
    OTHER = "other", _("Other matters")


class ComplaintNature(models.TextChoices):
    """What kind of matter it is; the nature sets the working days to reply."""

    PERSONAL = "personal", _("Personal request")
    ATTITUDE = "attitude", _("Staff attitude")
    CONSULTATION = "consultation", _("Policy enquiry")
    SUGGESTION = "suggestion", _("Opinion or suggestion")
    REPORT = "report", _("Report of wrongdoing")


class ComplaintState(models.TextChoices):
    RECEIVED = "received", _("Registered")
    TRIAGED = "triaged", _("Being handled")
    REPLIED = "replied", _("Replied")
    CLOSED = "closed", _("Concluded")
    REOPENED = "reopened", _("Handled again")
    MERGED = "merged", _("Merged")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("Satisfied")
    BASICALLY = "basically", _("Basically satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class ReplyTarget(models.TextChoices):
    """Who is told the outcome (回告): the person, or the body that referred the case."""

    COMPLAINANT = "complainant", _("The complainant")
    REFERRER = "referrer", _("The referring body")


class CommitmentStanding(models.TextChoices):
    """Where a public commitment stands, read from its order (never stored twice)."""

    IN_PROGRESS = "in_progress", _("In progress")
    OVERDUE = "overdue", _("Behind schedule")
    FULFILLED = "fulfilled", _("Fulfilled")
    WITHDRAWN = "withdrawn", _("Withdrawn")
