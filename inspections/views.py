from django.contrib import messages
from django.db.models import BooleanField, Count, ExpressionWrapper, OuterRef, Q, Subquery
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView

from civilaffairs.choices import BottomLine, InstitutionType, Role, choice_label
from civilaffairs.exceptions import ServiceError
from civilaffairs.navigation import BUSINESS
from civilaffairs.services import timeline_of
from civilaffairs.views.generic import (
    Column,
    ObjectDetailView,
    ObjectListView,
    RoleRequiredMixin,
    badge,
    choice_display,
    detail_link,
    flag_column,
)
from inspections import services
from inspections.choices import Severity
from inspections.filtersets import FindingFilterSet, PlanFilterSet, VisitFilterSet
from inspections.forms import AmendForm, FindingAmendForm, PlanForm
from inspections.models import ChecklistTemplate, Finding, InspectionPlan, Photo, Visit
from inspections.querysets import repeat_window_months

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)
PLAN_READERS = (*OFFICE, Role.INSPECTOR, Role.LEADER)

STATE_BADGE = {
    "draft": "secondary",
    "submitted": "info",
    "approved": "primary",
    "in_progress": "warning",
    "completed": "success",
    "cancelled": "dark",
    "planned": "secondary",
    "open": "warning",
    "transferred": "info",
    "closed": "success",
}
SEVERITY_BADGE = {"general": "secondary", "serious": "warning", "major": "danger"}


def state_badge(obj):
    return badge(STATE_BADGE.get(obj.state, "secondary"), choice_label(obj, "state"))


def severity_badge(finding):
    return badge(
        SEVERITY_BADGE.get(finding.severity, "secondary"), choice_label(finding, "severity")
    )


def _order_state(finding):
    from rectification.choices import RectificationState

    state = getattr(finding, "order_state", None)
    return str(RectificationState(state).label) if state in RectificationState.values else ""


def repeat_badge(finding):
    return badge("warning", _("Repeat")) if finding.is_repeat else "—"


class PlanListView(ObjectListView):
    model = InspectionPlan
    allowed_roles = PLAN_READERS
    filterset_class = PlanFilterSet
    title = _("Inspection plans")
    export_filename = "inspection-plans"
    default_ordering = "-period_start"
    columns = [
        Column("code", _("Number"), lambda p: p.code, order_by="code"),
        Column(
            "title",
            _("Title"),
            lambda p: p.title,
            order_by="title",
            link=detail_link("inspections:plan-detail"),
        ),
        Column("method", _("Method"), lambda p: p.get_method_display(), order_by="method"),
        Column(
            "period",
            _("Period"),
            lambda p: f"{p.period_start:%Y-%m-%d} ~ {p.period_end:%m-%d}",
            order_by="period_start",
        ),
        Column("progress", _("Visited"), lambda p: f"{p.visited_count}/{p.visit_count}"),
        Column("findings", _("Findings"), lambda p: p.finding_count),
        Column(
            "state", _("State"), lambda p: p.get_state_display(), order_by="state", html=state_badge
        ),
    ]

    def decorate_queryset(self, queryset):
        return queryset.with_progress()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_create"] = self.request.user.has_role(*OFFICE)
        context["create_url"] = reverse("inspections:plan-create")
        return context


class PlanCreateView(RoleRequiredMixin, FormView):
    allowed_roles = OFFICE
    form_class = PlanForm
    template_name = "inspections/plan_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        try:
            plan = services.plan_create(actor=self.request.user, **form.service_kwargs())
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            return self.form_invalid(form)
        messages.success(
            self.request,
            gettext("The plan was drafted with %(n)s visits.") % {"n": plan.visits.count()},
        )
        return redirect(plan)


class PlanDetailView(ObjectDetailView):
    model = InspectionPlan
    allowed_roles = PLAN_READERS
    template_name = "inspections/plan_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        plan, user = self.object, self.request.user
        visits = (
            Visit.objects.visible_to(user)
            .filter(plan=plan)
            .select_related("target")
            .annotate(finding_count=Count("findings", filter=~Q(findings__state="draft")))
            .order_by("target__district__name", "target__name")
        )
        findings = Finding.objects.visible_to(user).filter(visit__plan=plan).exclude(state="draft")
        grid = {
            (r["bottom_line"], r["severity"]): r["n"]
            for r in findings.values("bottom_line", "severity").annotate(n=Count("pk"))
        }
        context.update(
            visits=visits,
            visited=sum(1 for v in visits if v.state == "submitted"),
            grid=[
                (label, [grid.get((value, sev), 0) for sev in Severity.values])
                for value, label in BottomLine.choices
            ],
            severities=Severity.labels,
            finding_total=sum(grid.values()),
            timeline=timeline_of(plan),
            actions=self._actions(plan, user),
            findings_url=reverse("inspections:finding-list") + f"?plan={plan.pk}",
        )
        return context

    def _actions(self, plan, user):
        available = []
        for name, (sources, _target, roles) in services.PLAN_TRANSITIONS.items():
            if plan.state in sources and user.has_role(*roles):
                available.append((name, services.PLAN_VERB_LABELS[name]))
        return available


class PlanTransitionView(RoleRequiredMixin, View):
    allowed_roles = OFFICE

    def post(self, request, pk, action):
        plan = get_object_or_404(InspectionPlan.objects.visible_to(request.user), pk=pk)
        try:
            services.plan_transition(
                actor=request.user,
                plan=plan,
                action=action,
                note=request.POST.get("note", ""),
                version=request.POST.get("version") or None,
            )
        except ServiceError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(
                request,
                gettext("The plan was %(action)s.")
                % {"action": services.PLAN_VERB_LABELS.get(action, action)},
            )
        return redirect(plan)


class VisitListView(ObjectListView):
    model = Visit
    allowed_roles = BUSINESS
    filterset_class = VisitFilterSet
    title = _("Visits")
    export_filename = "visits"
    default_ordering = "-scheduled_date"
    columns = [
        Column(
            "target",
            _("Target"),
            lambda v: v.target.name,
            order_by="target__name",
            link=detail_link("inspections:visit-detail"),
        ),
        Column(
            "district", _("District"), lambda v: v.target.district.name if v.target.district else ""
        ),
        Column("plan", _("Plan"), lambda v: v.plan.title, order_by="plan__title"),
        Column(
            "scheduled_date",
            _("Scheduled for"),
            lambda v: v.scheduled_date,
            order_by="scheduled_date",
        ),
        Column("started_at", _("Checked in at"), lambda v: v.started_at, order_by="started_at"),
        Column(
            "far",
            _("Check-in distance"),
            lambda v: f"{v.checkin_distance_m:.0f} m" if v.checkin_distance_m is not None else "",
        ),
        Column(
            "state", _("State"), lambda v: v.get_state_display(), order_by="state", html=state_badge
        ),
    ]

    def decorate_queryset(self, queryset):
        return queryset.select_related("target__district", "plan")


class VisitDetailView(ObjectDetailView):
    model = Visit
    allowed_roles = BUSINESS
    template_name = "inspections/visit_detail.html"

    def decorate_queryset(self, queryset):
        return queryset.select_related("plan", "target", "started_by", "submitted_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        visit, user = self.object, self.request.user
        results = {r.item_id: r for r in visit.results.all()}
        context["checklists"] = [
            (template, [(item, results.get(item.pk)) for item in template.items.all()])
            for template in visit.templates.prefetch_related("items")
        ]
        context["findings"] = Finding.objects.visible_to(user).filter(visit=visit)
        context["photos"] = Photo.objects.visible_to(user).filter(visit=visit)
        context["timeline"] = timeline_of(visit)
        context["can_amend"] = visit.state == "submitted" and (
            user.is_office or visit.inspectors.filter(pk=user.pk).exists()
        )
        context["amend_form"] = AmendForm()
        return context


class VisitAmendView(RoleRequiredMixin, View):
    allowed_roles = BUSINESS

    def post(self, request, pk):
        visit = get_object_or_404(Visit.objects.visible_to(request.user), pk=pk)
        form = AmendForm(request.POST)
        if not form.is_valid():
            messages.error(request, gettext("Write the correction."))
            return redirect(visit)
        try:
            services.visit_amend(actor=request.user, visit=visit, note=form.cleaned_data["note"])
        except ServiceError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, gettext("The correction was added to the timeline."))
        return redirect(visit)


PHONE_HIDDEN = "d-none d-md-table-cell"  # from tablets up
PHONE_HIDDEN_SM = "d-none d-sm-table-cell"  # from large phones in landscape up


class FindingListView(ObjectListView):
    model = Finding
    allowed_roles = BUSINESS
    filterset_class = FindingFilterSet
    title = _("Findings")
    export_filename = "findings"
    selectable = True
    default_ordering = "-found_at"
    columns = [
        # On a phone: problem, unit, severity and state (the number and the rest from wider
        # screens up), so the problem is not squeezed into a column one character wide.
        Column("code", _("Number"), lambda f: f.code, order_by="code", css=PHONE_HIDDEN_SM),
        Column(
            "title",
            _("Problem"),
            lambda f: f.title,
            order_by="title",
            link=detail_link("inspections:finding-detail"),
        ),
        Column("target", _("Unit"), lambda f: f.target.name, order_by="target__name"),
        Column(
            "district",
            _("District"),
            lambda f: f.target.district.name if f.target.district else "",
            css=PHONE_HIDDEN,
        ),
        Column(
            "bottom_line",
            _("Bottom line"),
            choice_display("bottom_line"),
            order_by="bottom_line",
            css=PHONE_HIDDEN,
        ),
        Column(
            "category",
            _("Category"),
            choice_display("category"),
            order_by="category",
            css=PHONE_HIDDEN,
        ),
        Column(
            "severity",
            _("Severity"),
            choice_display("severity"),
            order_by="severity",
            html=severity_badge,
        ),
        Column(
            "disposition",
            _("Disposition"),
            choice_display("disposition"),
            order_by="disposition",
            css=PHONE_HIDDEN,
        ),
        Column(
            "repeat",
            _("Repeat problem"),
            lambda f: f.is_repeat,  # 是/否 in the ledger; a badge on the page
            order_by="repeated",
            html=repeat_badge,
            css=PHONE_HIDDEN,
        ),
        Column(
            "found_at", _("Found at"), lambda f: f.found_at, order_by="found_at", css=PHONE_HIDDEN
        ),
        Column("state", _("State"), choice_display("state"), order_by="state", html=state_badge),
        Column("description", _("Description"), lambda f: f.description, display=False),
        Column("location", _("Location"), lambda f: f.location, display=False),
        # Export-only; the values come from export_queryset's annotations.
        Column("plan", _("Plan"), lambda f: getattr(f, "plan_title", ""), display=False),
        Column(
            "transferred_to",
            _("Transferred to"),
            lambda f: f.transferred_to.name if f.transferred_to_id else "",
            display=False,
        ),
        Column("closed_at", _("Closed at"), lambda f: f.closed_at, display=False),
        Column("order", _("Order number"), lambda f: getattr(f, "order_code", ""), display=False),
        Column("order_state", _("Order state"), _order_state, display=False),
    ]

    def decorate_queryset(self, queryset):
        repeated = ExpressionWrapper(Q(repeat_of__isnull=False), output_field=BooleanField())
        return queryset.select_related("target__district").annotate(repeated=repeated)

    def export_queryset(self):
        """The ledger adds the plan (only where the user may see it: a secret plan stays
        secret) and the latest order the user may see, as subqueries: none per finding."""
        from rectification.models import Rectification

        user = self.request.user
        plan = InspectionPlan.objects.visible_to(user).filter(pk=OuterRef("visit__plan_id"))
        orders = (
            Rectification.objects.visible_to(user)
            .filter(finding=OuterRef("pk"))
            .order_by("-dispatched_at", "-pk")
        )
        return (
            super()
            .export_queryset()
            .select_related("transferred_to")
            .annotate(
                plan_title=Subquery(plan.values("title")[:1]),
                order_code=Subquery(orders.values("code")[:1]),
                order_state=Subquery(orders.values("state")[:1]),
            )
        )


class FindingDetailView(ObjectDetailView):
    model = Finding
    allowed_roles = BUSINESS
    template_name = "inspections/finding_detail.html"

    def decorate_queryset(self, queryset):
        return queryset.select_related(
            "target", "visit__plan", "found_by", "transferred_to", "item_result__item"
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        finding, user = self.object, self.request.user
        context["photos"] = Photo.objects.visible_to(user).filter(finding=finding)
        context["repeat_history"] = list(
            Finding.objects.history_of(finding, user=user).select_related("target")[:50]
        )
        context["repeat_months"] = repeat_window_months()
        context["timeline"] = timeline_of(finding)
        context["can_amend"] = user.has_role(*OFFICE) and finding.state != "draft"
        context["amend_form"] = FindingAmendForm(instance=finding)
        # Imported here: the rectification engine builds on inspections, not the reverse.
        from rectification.models import Rectification

        orders = list(Rectification.objects.visible_to(user).filter(finding=finding).order_by("pk"))
        context["orders"] = orders
        context["can_issue_order"] = (
            user.has_role(*OFFICE)
            and finding.state in ("open", "transferred")
            and not finding.rectifications.exists()
        )
        return context


class FindingAmendView(RoleRequiredMixin, View):
    allowed_roles = OFFICE

    def post(self, request, pk):
        finding = get_object_or_404(Finding.objects.visible_to(request.user), pk=pk)
        form = FindingAmendForm(request.POST, instance=finding)
        if form.is_valid():
            try:
                services.finding_amend(actor=request.user, finding=finding, **form.service_kwargs())
            except ServiceError as exc:
                messages.error(request, str(exc.message))
            else:
                messages.success(
                    request, gettext("The finding was corrected; the change is on its timeline.")
                )
        else:
            messages.error(request, "；".join(e for errs in form.errors.values() for e in errs))
        return redirect(finding)


def _photo_response(request, uuid, field):
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    photo = Photo.objects.visible_to(request.user).filter(uuid=uuid).first()
    if photo is None:
        raise Http404
    response = FileResponse(getattr(photo, field).open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def photo_file(request, uuid):
    return _photo_response(request, uuid, "file")


def photo_thumbnail(request, uuid):
    return _photo_response(request, uuid, "thumbnail")


class ChecklistListView(ObjectListView):
    model = ChecklistTemplate
    allowed_roles = PLAN_READERS
    title = _("Checklists")
    export_filename = "checklists"
    default_ordering = "code"
    columns = [
        Column(
            "name",
            _("Name"),
            lambda t: t.name,
            order_by="name",
            link=detail_link("inspections:checklist-detail"),
        ),
        Column("code", _("Code"), lambda t: t.code, order_by="code"),
        Column("version", _("Version"), lambda t: t.version, order_by="version"),
        Column("items", _("Items"), lambda t: t.item_count),
        Column(
            "applies",
            _("Applies to"),
            lambda t: (
                "、".join(str(InstitutionType(v).label) for v in t.institution_types)
                or gettext("Every kind of unit")
            ),
        ),
        flag_column(
            "current",
            _("Current version"),
            lambda x: x.is_current,
            gettext("Yes"),
            gettext("No"),
            order_by="is_current",
        ),
    ]

    def decorate_queryset(self, queryset):
        return queryset.annotate(item_count=Count("items"))


class ChecklistDetailView(ObjectDetailView):
    model = ChecklistTemplate
    allowed_roles = PLAN_READERS
    template_name = "inspections/checklist_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        items = list(self.object.items.all())
        context["groups"] = [
            (label, [i for i in items if i.bottom_line == value])
            for value, label in BottomLine.choices
            if any(i.bottom_line == value for i in items)
        ]
        context["applies"] = [InstitutionType(v).label for v in self.object.institution_types]
        context["versions"] = (
            ChecklistTemplate.objects.visible_to(self.request.user)
            .filter(code=self.object.code)
            .order_by("-version")
        )
        return context
