from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from civilaffairs.choices import OrgKind, Role
from civilaffairs.filtersets import AuditEventFilterSet, OrgUnitFilterSet, UserFilterSet
from civilaffairs.models import AuditEvent, OrgUnit, User
from civilaffairs.navigation import DIRECTORY_ROLES
from civilaffairs.views.generic import (
    Column,
    ObjectDetailView,
    ObjectListView,
    RoleRequiredMixin,
    flag_column,
)

ROLE_INTRO = {
    Role.SUPERVISOR: _(
        "Plan inspections, issue rectification orders, verify and close them, "
        "draft flash reports and run daily reporting."
    ),
    Role.OFFICE_HEAD: _("Approve plans, review flash reports and approve deadline extensions."),
    Role.INSPECTOR: _("See your assigned visits and record findings on site from your phone."),
    Role.UNIT_LIAISON: _(
        "Acknowledge rectification orders, report rectification with evidence "
        "and file your unit's daily report."
    ),
    Role.DEPARTMENT: _("Follow the items transferred to your department and verify them."),
    Role.LEADER: _("Read the dashboards, sign off flash reports and read the briefs."),
    Role.AUDITOR: _("Read the audit trail."),
    Role.SYSADMIN: _("Manage users and the org tree."),
}


class HomeView(RoleRequiredMixin, TemplateView):
    """One home page, whose sections depend on the roles the user holds."""

    allowed_roles = "__all__"
    template_name = "civilaffairs/home.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        context["intros"] = [
            (Role(a.role).label, ROLE_INTRO[Role(a.role)], a.scope) for a in user.role_assignments
        ]
        if user.has_role(*DIRECTORY_ROLES):
            units = OrgUnit.objects.visible_to(user).filter(active=True)
            context["unit_counts"] = units.aggregate(
                total=Count("pk"),
                districts=Count("pk", filter=Q(kind=OrgKind.DISTRICT_BUREAU)),
                institutions=Count("pk", filter=Q(kind=OrgKind.INSTITUTION)),
                affiliated=Count("pk", filter=Q(kind=OrgKind.AFFILIATED_UNIT)),
            )
        if user.is_auditor:
            context["recent_events"] = AuditEvent.objects.visible_to(user)[:10]
        if user.role_family == "business":
            # The rectification app's to-do blocks, counted (the foundation does not know
            # them; it only shows what the business apps say is waiting).
            from rectification.todo import todo_counts

            context["todo"] = todo_counts(user)
            context["todo_total"] = sum(n for _block, n in context["todo"])
        if user.has_role(Role.UNIT_LIAISON):
            # Units of the liaison that have not filed today's bottom-line report.
            from reports.daily_querysets import local_today
            from reports.views.daily import reporting_slots

            context["daily_pending"] = [
                slot for slot in reporting_slots(user, local_today()) if slot["report"] is None
            ]
        return context


def _unit_link(unit):
    return reverse("orgunit-detail", args=[unit.pk])


class OrgUnitListView(ObjectListView):
    model = OrgUnit
    allowed_roles = DIRECTORY_ROLES
    filterset_class = OrgUnitFilterSet
    title = _("Org directory")
    export_filename = "org-units"
    default_ordering = "path"
    columns = [
        Column("name", _("Name"), lambda u: u.name, order_by="name", link=_unit_link),
        Column("code", _("Code"), lambda u: u.code, order_by="code"),
        Column("kind", _("Kind"), lambda u: u.get_kind_display(), order_by="kind"),
        Column(
            "institution_type",
            _("Institution type"),
            lambda u: u.get_institution_type_display(),
            order_by="institution_type",
        ),
        Column(
            "district",
            _("District"),
            lambda u: u.district.name if u.district else "",
            order_by="district__name",
        ),
        Column(
            "parent", _("Parent unit"), lambda u: u.parent.name if u.parent else "", export=True
        ),
        Column("address", _("Address"), lambda u: u.address),
        flag_column(
            "active", _("Status"), lambda x: x.active, _("Active"), _("Inactive"), order_by="active"
        ),
    ]

    def decorate_queryset(self, queryset):
        return queryset.select_related("district", "parent")


class OrgUnitTreeView(RoleRequiredMixin, TemplateView):
    """The tree, one level at a time: the roots of what the user sees, children on demand."""

    allowed_roles = DIRECTORY_ROLES
    template_name = "civilaffairs/orgunit_tree.html"

    def get(self, request, *args, **kwargs):
        visible = OrgUnit.objects.visible_to(request.user)
        parent_id = request.GET.get("parent")
        if parent_id:
            try:
                parent = visible.get(pk=int(parent_id))
            except (ValueError, OrgUnit.DoesNotExist) as exc:
                raise Http404 from exc
            nodes = visible.filter(parent=parent)
        else:
            nodes = visible.exclude(parent__in=visible.values("pk"))
        nodes = nodes.annotate(
            child_count=Count("children", filter=Q(children__in=visible.values("pk")))
        ).order_by("kind", "name")
        context = {"nodes": nodes}
        if request.htmx:
            return render(request, "civilaffairs/partials/tree_nodes.html", context)
        return render(request, self.template_name, context)


class OrgUnitDetailView(ObjectDetailView):
    model = OrgUnit
    allowed_roles = DIRECTORY_ROLES
    template_name = "civilaffairs/orgunit_detail.html"

    def decorate_queryset(self, queryset):
        return queryset.select_related("parent", "district", "supervising_department")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unit = self.object
        user = self.request.user
        context["children"] = (
            OrgUnit.objects.visible_to(user).filter(parent=unit).order_by("kind", "name")[:200]
        )
        context["members"] = User.objects.visible_to(user).filter(org_unit=unit)[:100]
        ancestors = []
        step = len(unit.path) // max(unit.depth + 1, 1)
        prefixes = [unit.path[: step * i] for i in range(1, unit.depth + 1)]
        if prefixes:
            ancestors = list(
                OrgUnit.objects.visible_to(user).filter(path__in=prefixes).order_by("depth")
            )
        context["ancestors"] = ancestors
        # Contacts are personal data: phones and ID numbers always masked, a household's
        # person too.
        context["contact_name"] = unit.contact_name_shown
        context["contact_phone"] = unit.contact_phone_masked
        context["contact_id_number"] = unit.contact_id_number_masked
        return context


class UserListView(ObjectListView):
    model = User
    allowed_roles = DIRECTORY_ROLES
    filterset_class = UserFilterSet
    title = _("Users")
    export_filename = "users"
    default_ordering = "username"
    columns = [
        Column(
            "real_name",
            _("Name"),
            lambda u: u.real_name,
            order_by="real_name",
            link=lambda u: reverse("user-detail", args=[u.pk]),
        ),
        Column("username", _("Username"), lambda u: u.username, order_by="username"),
        Column(
            "org_unit",
            _("Org unit"),
            lambda u: u.org_unit.name if u.org_unit else "",
            order_by="org_unit__name",
        ),
        Column("title", _("Job title"), lambda u: u.title),
        Column(
            "roles", _("Roles"), lambda u: "、".join(str(Role(a.role).label) for a in u.roles.all())
        ),
        Column("phone", _("Mobile phone"), lambda u: u.phone_masked),
        flag_column(
            "is_active",
            _("Status"),
            lambda x: x.is_active,
            _("Active"),
            _("Inactive"),
            order_by="is_active",
        ),
    ]

    def decorate_queryset(self, queryset):
        return queryset.select_related("org_unit").prefetch_related("roles")


class UserDetailView(ObjectDetailView):
    model = User
    allowed_roles = DIRECTORY_ROLES
    template_name = "civilaffairs/user_detail.html"
    context_object_name = "person"

    def decorate_queryset(self, queryset):
        return queryset.select_related("org_unit").prefetch_related("roles__scope")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.request.user.is_sysadmin:
            from civilaffairs.security import sign_in_status

            # Lockout, password age and two-factor device, with unlock and reset buttons.
            context["sign_in_security"] = sign_in_status(self.object)
        return context


class AuditEventListView(ObjectListView):
    model = AuditEvent
    allowed_roles = (Role.AUDITOR,)
    filterset_class = AuditEventFilterSet
    title = _("Audit trail")
    export_filename = "audit-trail"
    export_audit_action = "audit.export"
    default_ordering = "-at"
    columns = [
        Column("at", _("Time"), lambda e: e.at, order_by="at"),
        Column("actor_name", _("Actor"), lambda e: e.actor_name, order_by="actor_name"),
        Column("action", _("Action"), lambda e: e.action_label, order_by="action"),
        Column("action_code", _("Action code"), lambda e: e.action, display=False),
        Column("object", _("Object"), lambda e: e.object_repr),
        Column("object_type", _("Object type"), lambda e: e.object_type, display=False),
        Column("object_id", _("Object id"), lambda e: e.object_id),
        Column("summary", _("Summary"), lambda e: e.summary),
        Column("ip", _("IP address"), lambda e: e.ip, order_by="ip"),
        Column(
            "changes",
            _("Changes"),
            lambda e: e.changes_display(),
            html=lambda e: (
                format_html('<span class="small">{}</span>', e.changes_display()[:200])
                if e.changes
                else "—"
            ),
        ),
        # In the export only: the event's number and hash, to compare with audit_verify.
        Column("event_id", _("Event number"), lambda e: e.pk, display=False),
        Column("hash", _("Hash"), lambda e: e.hash, display=False),
    ]
