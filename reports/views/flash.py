"""Flash report pages: the archive, starting a report, the editor with autosave and link
search, the report with the steps its reader may take, read receipts and timeline, the HTML
preview and the PDF. Every change goes through reports.services; these views only collect
input and show the outcome."""

from django.contrib import messages
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView, TemplateView

from civilaffairs.choices import Role
from civilaffairs.exceptions import Conflict, ServiceError
from civilaffairs.services import audit_record, timeline_of
from civilaffairs.views.generic import (
    Column,
    ObjectDetailView,
    ObjectListView,
    RoleRequiredMixin,
    badge,
    choice_display,
)
from reports import services
from reports.choices import FlashState
from reports.flash_filtersets import FlashReportFilterSet
from reports.flash_forms import FlashEditForm, FlashStartForm, TransitionForm, leaders
from reports.flash_pdf import PDF_STAMP, document_context, pdf_audience
from reports.flash_querysets import (
    SAME_DAY_ZONE,
    is_flash_office,
    same_day_deadline,
)
from reports.models import FlashReport

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)
READERS = (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.LEADER)

STATE_BADGE = {
    "draft": "secondary",
    "submitted": "info",
    "returned": "danger",
    "approved": "primary",
    "signed": "dark",
    "distributed": "success",
}
PRIMARY_STEPS = ("submit", "approve", "sign_off", "distribute")
DANGER_STEPS = ("return",)
DONE_MESSAGES = {
    "submit": _("The report was submitted for review."),
    "return": _("The report was returned to the drafter."),
    "approve": _("The report was approved and waits for sign-off."),
    "sign_off": _("The report was signed off; its PDF is being prepared."),
    "distribute": _("The report was distributed to the leaders."),
}


def _link(report) -> str:
    return reverse("reports:flash-detail", args=[report.pk])


def state_badge(report):
    return badge(STATE_BADGE.get(report.state, "secondary"), report.get_state_display())


def same_day_status(report, now=None) -> tuple[str, str]:
    """(palette level, text): green on time, red breached or past midnight unsigned, yellow
    unsigned on the day itself."""
    if report.on_time is True:
        return "ok", gettext("On time")
    if report.on_time is False:
        return "overdue", gettext("Breached")
    now = now or timezone.now()
    if now >= same_day_deadline(report.found_at):
        return "overdue", gettext("Past midnight, not signed off")
    return "warn", gettext("Sign off by midnight")


def same_day_cell(report):
    level, text = same_day_status(report)
    return format_html('<span class="badge status-{}">{}</span>', level, text)


# --- Archive --------------------------------------------------------------------------------


class FlashListView(ObjectListView):
    model = FlashReport
    allowed_roles = READERS
    filterset_class = FlashReportFilterSet
    template_name = "reports/flash_list.html"
    title = _("Flash reports")
    export_filename = "flash-reports"
    default_ordering = "-found_at"
    empty_message = _("No flash report matches the current filters.")

    def get_columns(self):
        return [
            Column(
                "issue",
                _("Issue"),
                lambda r: r.issue_label,
                order_by="serial",
                html=lambda r: (
                    format_html('<span class="text-nowrap">{}</span>', r.issue_label)
                    if r.serial
                    else "—"
                ),
                css="d-none d-sm-table-cell",
            ),
            Column("title", _("Title"), lambda r: r.title, order_by="title", link=_link),
            Column("state", _("State"), choice_display("state"), "state", html=state_badge),
            Column(
                "found_at",
                _("Found at"),
                lambda r: r.found_at,
                order_by="found_at",
                css="d-none d-md-table-cell",
            ),
            Column(
                "signed_at",
                _("Signed off at"),
                lambda r: r.signed_at,
                order_by="signed_at",
                css="d-none d-lg-table-cell",
            ),
            Column(
                "on_time",
                _("Same day"),
                lambda r: same_day_status(r)[1],
                order_by="on_time",
                html=same_day_cell,
            ),
            Column(
                "signed_by",
                _("Signed off by"),
                lambda r: str(r.signed_by) if r.signed_by_id else "",
                css="d-none d-lg-table-cell",
            ),
            Column(
                "read",
                _("Read"),
                lambda r: f"{r.read_count}/{r.recipient_count}" if r.recipient_count else "",
                css="d-none d-md-table-cell",
            ),
            Column(
                "issuing_office", _("Issuing office"), lambda r: r.issuing_office, display=False
            ),
            Column("drafted_by", _("Drafted by"), lambda r: str(r.created_by), display=False),
            Column("occurred_at", _("Occurred at"), lambda r: r.occurred_at, display=False),
            Column(
                "distributed_at", _("Distributed at"), lambda r: r.distributed_at, display=False
            ),
            Column(
                "findings",
                _("Linked findings"),
                lambda r: getattr(r, "finding_count", None),
                display=False,
            ),
        ]

    def export_queryset(self):
        """The ledger counts each report's linked findings the user may see (a subquery)."""
        from inspections.models import Finding

        links = FlashReport.findings.through.objects.filter(
            flashreport=OuterRef("pk"),
            finding__in=Finding.objects.visible_to(self.request.user).values("pk"),
        )
        count = links.values("flashreport").annotate(n=Count("pk")).values("n")
        return super().export_queryset().annotate(finding_count=Coalesce(Subquery(count), 0))

    def decorate_queryset(self, queryset):
        return queryset.select_related("signed_by", "created_by").annotate(
            recipient_count=Count("recipients", distinct=True),
            read_count=Count(
                "recipients", filter=Q(recipients__read_at__isnull=False), distinct=True
            ),
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_create"] = self.request.user.has_role(*OFFICE)
        context["create_url"] = reverse("reports:flash-create")
        context["counts"] = FlashReport.objects.visible_to(self.request.user).same_day_counts()
        return context


# --- Starting and editing -------------------------------------------------------------------


class FlashCreateView(RoleRequiredMixin, FormView):
    allowed_roles = OFFICE
    form_class = FlashStartForm
    template_name = "reports/flash_create.html"

    def get_initial(self):
        initial = {"found_at": timezone.localtime().replace(second=0, microsecond=0)}
        raw = self.request.GET.get("finding", "")
        if raw.isdigit():
            finding = services._linkable(self.request.user, "findings").filter(pk=raw).first()
            if finding is not None:
                initial.update(
                    title=finding.title,
                    found_at=timezone.localtime(finding.found_at).replace(second=0, microsecond=0),
                    findings=str(finding.pk),
                )
        return initial

    def form_valid(self, form):
        raw = form.cleaned_data.get("findings") or ""
        try:
            report = services.flash_create(
                actor=self.request.user,
                title=form.cleaned_data["title"],
                found_at=form.cleaned_data["found_at"],
                findings=[raw] if raw.isdigit() else [],
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            return self.form_invalid(form)
        return redirect("reports:flash-edit", report.pk)


def _visible_report(request, pk, *roles):
    """The report if visible to the user (and the user holds one of ``roles``), else 404."""
    if not request.user.is_authenticated or not request.user.has_role(*(roles or READERS)):
        raise Http404
    return get_object_or_404(FlashReport.objects.visible_to(request.user), pk=pk)


def linked(report, user) -> dict:
    """The report's links that ``user`` may see."""
    return document_context(report, [user])


class FlashEditView(RoleRequiredMixin, TemplateView):
    allowed_roles = OFFICE
    template_name = "reports/flash_edit.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_role(*OFFICE):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, pk):
        report = _visible_report(request, pk, *OFFICE)
        if not services.may_edit(report, request.user):
            messages.info(request, gettext("This report can no longer be edited."))
            return redirect(_link(report))
        form = FlashEditForm(
            initial={
                "version": report.version,
                "title": report.title,
                "found_at": timezone.localtime(report.found_at),
                "occurred_at": timezone.localtime(report.occurred_at)
                if report.occurred_at
                else None,
                "issuing_office": report.issuing_office,
                "situation": report.situation,
                "problems": report.problems,
                "causes": report.causes,
                "suggestions": report.suggestions,
            }
        )
        links = _editor_links(report, request.user)
        return self.render_to_response(
            self.get_context_data(
                object=report,
                form=form,
                link_groups=[(kind, label, links[kind]) for kind, label in LINK_KINDS],
                section_fields=[
                    form[n] for n in ("situation", "problems", "causes", "suggestions")
                ],
                deadline=same_day_deadline(report.found_at),
                saved_at=timezone.localtime(report.updated_at),
            )
        )


LINK_KINDS = (
    ("findings", _("Findings")),
    ("visits", _("Visits")),
    ("rectifications", _("Rectification orders")),
)


def _describe(kind, obj) -> str:
    if kind == "findings":
        return " · ".join(
            filter(
                None,
                [
                    obj.code or "",
                    obj.title,
                    obj.target.name,
                    obj.get_severity_display(),
                    timezone.localtime(obj.found_at).strftime("%m-%d %H:%M"),
                ],
            )
        )
    if kind == "visits":
        when = obj.started_at or obj.submitted_at
        return " · ".join(
            filter(
                None,
                [obj.target.name, timezone.localtime(when).strftime("%m-%d %H:%M") if when else ""],
            )
        )
    return f"{obj.code} · {obj.title} · {obj.responsible_unit.name}"


def _related(kind, queryset):
    related = {
        "findings": ("target",),
        "visits": ("target",),
        "rectifications": ("responsible_unit",),
    }[kind]
    return queryset.select_related(*related)


def _editor_links(report, user) -> dict:
    """Each link kind's current links the editor may see, as (id, text) pairs."""
    result = {}
    for kind, _label in LINK_KINDS:
        visible = services._linkable(user, kind)
        current = _related(kind, getattr(report, kind).filter(pk__in=visible.values("pk")))
        result[kind] = [(obj.pk, _describe(kind, obj)) for obj in current]
    return result


class LinkSearchView(RoleRequiredMixin, View):
    """Candidates to link, found by number, title or unit among what the user may see."""

    allowed_roles = OFFICE
    LIMIT = 15

    def get(self, request):
        kind = request.GET.get("kind", "")
        query = request.GET.get(f"q_{kind}", request.GET.get("q", "")).strip()[:100]
        results = []
        if kind in dict(LINK_KINDS) and query:
            queryset = _related(kind, services._linkable(request.user, kind))
            if kind == "findings":
                condition = (
                    Q(title__icontains=query)
                    | Q(code__icontains=query)
                    | Q(target__name__icontains=query)
                )
                queryset = queryset.filter(condition).order_by("-found_at", "-pk")
            elif kind == "visits":
                queryset = queryset.filter(
                    Q(target__name__icontains=query) | Q(plan__title__icontains=query)
                ).order_by("-started_at", "-pk")
            else:
                queryset = queryset.filter(
                    Q(title__icontains=query)
                    | Q(code__icontains=query)
                    | Q(responsible_unit__name__icontains=query)
                ).order_by("-dispatched_at", "-pk")
            results = [(obj.pk, _describe(kind, obj)) for obj in queryset[: self.LIMIT]]
        return render(
            request,
            "reports/partials/flash_link_results.html",
            {"kind": kind if kind in dict(LINK_KINDS) else "", "results": results, "query": query},
        )


class FlashAutosaveView(RoleRequiredMixin, View):
    """The editor's autosave (and its "save now"): the whole draft on top of the version the
    editor holds. Answers with the save state; a stale version is 409, bad input 400, and
    neither changes anything."""

    allowed_roles = OFFICE

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_role(*OFFICE):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, pk):
        report = _visible_report(request, pk, *OFFICE)
        form = FlashEditForm(request.POST)
        status, error = 200, ""
        if request.POST.get("version", "").strip() not in ("", str(report.version)):
            # Someone else saved first: say so before anything else (the service would too).
            status = 409
            error = gettext(
                "Someone else saved this report a moment ago. Reload it to see their changes."
            )
        elif not form.is_valid():
            status = 400
            error = "；".join(
                gettext("%(name)s: %(error)s") % {"name": form.fields[name].label or "", "error": e}
                if name in form.fields and not form.fields[name].widget.is_hidden
                else str(e)
                for name, errors in form.errors.items()
                for e in errors
            )
        else:
            try:
                report = services.flash_update(
                    report=report,
                    actor=request.user,
                    version=form.cleaned_data["version"],
                    **form.service_kwargs(request.POST),
                )
            except Conflict as exc:
                status, error = 409, str(exc.message)
            except ServiceError as exc:
                status, error = exc.status_code, str(exc.message)
        response = render(
            request,
            "reports/partials/flash_save_state.html",
            {
                "object": report,
                "error": error,
                "conflict": status == 409,
                "saved_at": timezone.localtime(report.updated_at),
                "deadline": same_day_deadline(report.found_at),
            },
            status=status,
        )
        return response


# --- The report -----------------------------------------------------------------------------


class FlashDetailView(ObjectDetailView):
    model = FlashReport
    allowed_roles = READERS
    template_name = "reports/flash_detail.html"

    def decorate_queryset(self, queryset):
        return queryset.select_related("created_by", "approved_by", "signed_by", "pdf")

    def get_object(self, queryset=None):
        report = super().get_object(queryset)
        if services.flash_mark_read(report=report, actor=self.request.user):
            report = self.get_queryset().get(pk=report.pk)
        return report

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        report, user = self.object, self.request.user
        recipients = list(report.recipients.select_related("user").order_by("user__real_name"))
        already = {r.user_id for r in recipients}
        steps = []
        remaining = [p for p in leaders() if p.pk not in already]
        for name in services.available_steps(report, user):
            if name == "distribute" and not remaining:
                continue  # every leader has it: nothing to distribute
            step = services.STEPS[name]
            form = TransitionForm(initial={"version": report.version}, auto_id=f"id_{name}_%s")
            steps.append(
                {
                    "name": name,
                    "label": step.label,
                    "form": form,
                    "needs_note": step.needs_note,
                    "primary": name in PRIMARY_STEPS,
                    "danger": name in DANGER_STEPS,
                    "leaders": remaining if name == "distribute" else [],
                }
            )
        steps.sort(key=lambda s: not s["primary"])  # what the reader came for, first
        level, status = same_day_status(report)
        document = linked(report, user)
        stored_pdf = report.pdf if report.pdf_id else None
        context.update(
            steps=steps,
            recipients=recipients,
            timeline=timeline_of(report),
            state_colour=STATE_BADGE.get(report.state, "secondary"),
            same_day_level=level,
            same_day_text=status,
            deadline=same_day_deadline(report.found_at),
            found_local=report.found_at.astimezone(SAME_DAY_ZONE),
            sections=document["sections"],
            findings=document["findings"],
            visits=document["visits"],
            orders=document["orders"],
            can_edit=services.may_edit(report, user),
            pdf_ready=stored_pdf is not None
            and stored_pdf.description == PDF_STAMP.format(pk=report.pk, version=report.version),
            unread=[r for r in recipients if r.read_at is None],
        )
        return context


class FlashTransitionView(View):
    def post(self, request, pk, action):
        report = _visible_report(request, pk)
        if action not in services.STEPS or action == "mark_read":
            raise Http404
        form = TransitionForm(request.POST)
        if not form.is_valid():
            messages.error(
                request,
                gettext("Choose leaders from the list.")
                if "recipients" in form.errors
                else gettext("The form was incomplete; reload the page and try again."),
            )
            return redirect(_link(report))
        try:
            services.flash_transition(
                report=report,
                actor=request.user,
                action=action,
                note=form.cleaned_data["note"],
                version=form.cleaned_data["version"],
                recipients=form.cleaned_data["recipients"],
            )
        except ServiceError as exc:
            messages.error(request, str(exc.message))
            return redirect(_link(report))
        messages.success(request, str(DONE_MESSAGES.get(action, services.STEPS[action].label)))
        return redirect(_link(report))


class FlashPreviewView(View):
    """The document as HTML, with what the viewer may see of its links."""

    def get(self, request, pk):
        report = _visible_report(request, pk)
        services.flash_mark_read(report=report, actor=request.user)
        context = document_context(report, [request.user], preview=True)
        context.update(
            back_url=_link(report),
            pdf_url=reverse("reports:flash-pdf", args=[report.pk]),
        )
        return render(request, "reports/flash_pdf.html", context)


class FlashPdfView(View):
    """The stored PDF when it is current; otherwise rendered now (a draft, for the office, in
    the drafter's view; a signed report in its audience's view, as the task would)."""

    def get(self, request, pk):
        from civilaffairs.pdf import render_pdf
        from reports.flash_pdf import render_document

        report = _visible_report(request, pk)
        services.flash_mark_read(report=report, actor=request.user)
        stamp = PDF_STAMP.format(pk=report.pk, version=report.version)
        name = (
            f"flash-{report.year}-{report.serial:03d}.pdf"
            if report.serial
            else f"flash-draft-{report.pk}.pdf"
        )
        attachment = report.pdf if report.pdf_id else None
        if attachment is not None and attachment.description == stamp:
            response = FileResponse(
                attachment.file.open("rb"), content_type="application/pdf", filename=name
            )
        else:
            readers = pdf_audience(report) if report.serial else [request.user]
            if not is_flash_office(request.user) and report.state not in (
                FlashState.SIGNED,
                FlashState.DISTRIBUTED,
            ):
                readers = [request.user]
            content = render_pdf(render_document(report, readers))
            response = HttpResponse(content, content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="{name}"'
            if report.serial:
                services._queue_pdf(report.pk)
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        audit_record(
            actor=request.user,
            action="flash.pdf",
            obj=report,
            summary=gettext("Downloaded %(file)s") % {"file": name},
        )
        return response


urlpatterns = [
    path("flash/", FlashListView.as_view(), name="flash-list"),
    path("flash/new/", FlashCreateView.as_view(), name="flash-create"),
    path("flash/links/", LinkSearchView.as_view(), name="flash-link-search"),
    path("flash/<int:pk>/", FlashDetailView.as_view(), name="flash-detail"),
    path("flash/<int:pk>/edit/", FlashEditView.as_view(), name="flash-edit"),
    path("flash/<int:pk>/autosave/", FlashAutosaveView.as_view(), name="flash-autosave"),
    path("flash/<int:pk>/preview/", FlashPreviewView.as_view(), name="flash-preview"),
    path("flash/<int:pk>/pdf/", FlashPdfView.as_view(), name="flash-pdf"),
    path(
        "flash/<int:pk>/<str:action>/",
        FlashTransitionView.as_view(),
        name="flash-transition",
    ),
]
