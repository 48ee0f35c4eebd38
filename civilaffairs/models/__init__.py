from civilaffairs.models.attachments import Attachment
from civilaffairs.models.audit import AuditEvent, AuditPurge
from civilaffairs.models.calendar import CalendarDay, CalendarYear
from civilaffairs.models.jobs import BackgroundJob
from civilaffairs.models.notifications import (
    Delivery,
    Notification,
    NotificationPreference,
    WebhookEndpoint,
)
from civilaffairs.models.org import OrgUnit
from civilaffairs.models.security import PasswordHistory
from civilaffairs.models.sessions import UserSession
from civilaffairs.models.timeline import TimelineEntry
from civilaffairs.models.users import RoleAssignment, User

__all__ = [
    "Attachment",
    "AuditEvent",
    "AuditPurge",
    "BackgroundJob",
    "CalendarDay",
    "CalendarYear",
    "Delivery",
    "Notification",
    "NotificationPreference",
    "OrgUnit",
    "PasswordHistory",
    "RoleAssignment",
    "TimelineEntry",
    "User",
    "UserSession",
    "WebhookEndpoint",
]
