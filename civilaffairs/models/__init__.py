from civilaffairs.models.attachments import Attachment
from civilaffairs.models.audit import AuditEvent
from civilaffairs.models.org import OrgUnit
from civilaffairs.models.timeline import TimelineEntry
from civilaffairs.models.users import RoleAssignment, User

__all__ = ["Attachment", "AuditEvent", "OrgUnit", "RoleAssignment", "TimelineEntry", "User"]
