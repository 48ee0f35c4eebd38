"""The left navigation, by role. Later features add their entries to MENU."""

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import Role

BUSINESS = tuple(r for r in Role.values if r not in (Role.SYSADMIN, Role.AUDITOR))
# Who may open the org directory (tree, units, users): everyone but the auditor.
DIRECTORY_ROLES = (*BUSINESS, Role.SYSADMIN)


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    icon: str
    roles: tuple[str, ...]
    section: str = ""


MENU: list[MenuItem] = [
    MenuItem(_("Home"), "home", "house", tuple(Role.values)),
    MenuItem(
        _("Leadership dashboard"),
        "reports:dashboard",
        "speedometer2",
        (Role.LEADER, Role.OFFICE_HEAD, Role.SUPERVISOR),
    ),
    MenuItem(
        _("Inspection plans"),
        "inspections:plan-list",
        "clipboard-check",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.INSPECTOR, Role.LEADER),
        _("Inspections"),
    ),
    MenuItem(_("Visits"), "inspections:visit-list", "geo-alt", BUSINESS, _("Inspections")),
    MenuItem(
        _("Checklists"),
        "inspections:checklist-list",
        "list-check",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.INSPECTOR, Role.LEADER),
        _("Inspections"),
    ),
    MenuItem(
        _("On-site inspection (phone)"),
        "mobile-home",
        "phone",
        (Role.INSPECTOR,),
        _("Inspections"),
    ),
    MenuItem(
        _("Findings"),
        "inspections:finding-list",
        "exclamation-triangle",
        BUSINESS,
        _("Inspections"),
    ),
    MenuItem(_("My to-do"), "rectification:todo", "check2-square", BUSINESS, _("Rectification")),
    MenuItem(
        _("Rectification orders"),
        "rectification:order-list",
        "tools",
        BUSINESS,
        _("Rectification"),
    ),
    MenuItem(
        _("Unit scorecards"),
        "rectification:scorecard-list",
        "award",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.LEADER, Role.DEPARTMENT, Role.UNIT_LIAISON),
        _("Rectification"),
    ),
    MenuItem(
        _("Complaints"),
        "rectification:complaint-list",
        "chat-left-text",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.LEADER, Role.UNIT_LIAISON, Role.DEPARTMENT),
        _("Complaints and commitments"),
    ),
    MenuItem(
        _("Complaint figures"),
        "rectification:complaint-figures",
        "bar-chart",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.LEADER, Role.UNIT_LIAISON, Role.DEPARTMENT),
        _("Complaints and commitments"),
    ),
    MenuItem(
        _("Public commitments"),
        "rectification:commitment-list",
        "megaphone",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.LEADER, Role.DEPARTMENT),
        _("Complaints and commitments"),
    ),
    MenuItem(
        _("Flash reports"),
        "reports:flash-list",
        "lightning-charge",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.LEADER),
        _("Reports"),
    ),
    MenuItem(
        _("Leadership briefs"),
        "reports:brief-list",
        "file-earmark-richtext",
        (Role.LEADER, Role.OFFICE_HEAD, Role.SUPERVISOR),  # reports.dashboard.DASHBOARD_ROLES
        _("Reports"),
    ),
    MenuItem(
        _("Daily report"),
        "reports:daily-form",
        "calendar-check",
        (Role.UNIT_LIAISON,),
        _("Reports"),
    ),
    MenuItem(
        _("Daily report board"),
        "reports:daily-board",
        "broadcast",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.INSPECTOR, Role.LEADER),
        _("Reports"),
    ),
    MenuItem(
        _("Filed daily reports"),
        "reports:daily-report-list",
        "table",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.INSPECTOR, Role.LEADER, Role.UNIT_LIAISON),
        _("Reports"),
    ),
    MenuItem(
        _("Daily digests"),
        "reports:digest-list",
        "archive",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.INSPECTOR, Role.LEADER),
        _("Reports"),
    ),
    MenuItem(
        _("Sensitive periods"),
        "reports:period-list",
        "calendar-range",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.INSPECTOR),
        _("Reports"),
    ),
    MenuItem(
        _("Weekly plans and summaries"),
        "reports:weekly-list",
        "journal-richtext",
        (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.INSPECTOR, Role.LEADER),
        _("Reports"),
    ),
    MenuItem(_("Notifications"), "notification-list", "bell", tuple(Role.values), _("Messages")),
    MenuItem(_("My files"), "job-list", "folder2-open", tuple(Role.values), _("Messages")),
    MenuItem(_("Org directory"), "orgunit-list", "diagram-3", DIRECTORY_ROLES, _("Directory")),
    MenuItem(_("Org tree"), "orgunit-tree", "bezier2", DIRECTORY_ROLES, _("Directory")),
    MenuItem(_("Users"), "user-list", "people", DIRECTORY_ROLES, _("Directory")),
    MenuItem(
        _("Data import"),
        "imports:index",
        "file-earmark-arrow-up",
        (Role.SYSADMIN, Role.SUPERVISOR, Role.OFFICE_HEAD),  # the roles of the importers
        _("Directory"),
    ),
    MenuItem(_("Audit trail"), "audit-list", "journal-text", (Role.AUDITOR,), _("Security")),
    MenuItem(_("System administration"), "admin:index", "gear", (Role.SYSADMIN,), _("Security")),
    MenuItem(_("API documentation"), "api-docs", "code-square", DIRECTORY_ROLES, _("Help")),
]


def menu_for(user, path: str) -> list[dict]:
    """Menu entries the user may open, grouped by section, the current one marked."""
    sections: dict[str, list[dict]] = {}
    for item in MENU:
        if not user.has_role(*item.roles):
            continue
        try:
            url = reverse(item.url_name)
        except NoReverseMatch:
            continue
        active = path == url or (url != "/" and path.startswith(url))
        sections.setdefault(str(item.section), []).append(
            {"label": item.label, "url": url, "icon": item.icon, "active": active}
        )
    # Only the closest entry is current: /reports/daily/reports/ is not also /reports/daily/.
    current = [i for items in sections.values() for i in items if i["active"]]
    for entry in current:
        entry["active"] = entry is max(current, key=lambda i: len(i["url"]))
    return [{"title": title, "items": items} for title, items in sections.items()]
