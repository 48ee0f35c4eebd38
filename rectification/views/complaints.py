"""Complaint pages: the ledger (list and Excel export), intake, a case with the steps its reader
may take now, the audited reveal of the complainant's contact, and the figures page whose
every number links to the list behind it. Personal data is masked on every page."""

from urllib.parse import urlencode

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView, TemplateView

from civilaffairs.choices import Role
from civilaffairs.exceptions import ServiceError
from civilaffairs.models import Attachment
from civilaffairs.views.generic import Column, ObjectDetailView, ObjectListView, RoleRequiredMixin
from civilaffairs.views.generic import badge as make_badge
from rectification import complaints as service
from rectification.choices import ComplaintState
from rectification.complaint_forms import ComplaintForm, ComplaintStepForm, RevealForm
from rectification.filtersets import ComplaintFilterSet
from rectification.forms import errors_text
from rectification.models import Complaint
from rectification.views.orders import (
    DeadlineClock,
    ObjectActionMixin,
    _discard_file,
    _store_evidence,
    timeline_with_files,
)

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)
# Who works with complaints: the office, leaders, and the units and departments handling them.
COMPLAINT_ROLES = (*OFFICE, Role.LEADER, Role.UNIT_LIAISON, Role.DEPARTMENT)

STATE_COLOURS = {
    "received": "info",
    "triaged": "primary",
    "replied": "dark",
    "closed": "success",
    "reopened": "danger",
    "merged": "secondary",
}
SATISFACTION_COLOURS = {"satisfied": "success", "basically": "info", "unsatisfied": "danger"}
PRIMARY_STEPS = ("triage", "reply", "return_visit")
DONE_MESSAGES = {
    "triage": _("The complaint was assigned; the handling unit has been told."),
    "reply": _("The reply was recorded."),
    "return_visit": _("The return visit was recorded."),
    "close": _("The complaint was concluded."),
    "merge": _("The complaint was merged into the case it repeats."),
}


def complaint_link(complaint) -> str:
    return reverse("rectification:complaint-detail", args=[complaint.pk])


def complaint_badge(complaint):
    return make_badge(
        STATE_COLOURS.get(complaint.state, "secondary"), complaint.get_state_display()
    )


def _order(complaint):
    return service.order_of(complaint)


class ComplaintListView(ObjectListView):
    """The complaint ledger; its export is the Excel ledger (contacts masked)."""

    model = Complaint
    allowed_roles = COMPLAINT_ROLES
    filterset_class = ComplaintFilterSet
    template_name = "rectification/complaint_list.html"
    title = _("Complaints and referred cases")
    export_filename = "complaints-ledger"
    default_ordering = "-received_at"
    selectable = True
    empty_message = _("No complaint matches the current filters.")

    @cached_property
    def clock(self):
        return DeadlineClock()

    def deadline_cell(self, complaint):
        order = _order(complaint)
        if order is None:
            return "—"
        if complaint.state in (ComplaintState.TRIAGED, ComplaintState.REOPENED):
            return self.clock.cell(order)
        return order.deadline.isoformat()

    def get_columns(self):
        def unit(c):
            order = _order(c)
            return order.responsible_unit.name if order else ""

        def deadline(c):
            order = _order(c)
            return order.deadline if order else None

        return [
            Column(
                "code",
                _("Number"),
                lambda c: c.code,
                order_by="code",
                html=lambda c: format_html(
                    '<a class="text-nowrap" href="{}">{}</a>', complaint_link(c), c.code
                ),
                css="d-none d-sm-table-cell",
            ),
            Column("title", _("Summary"), lambda c: c.title, order_by="title", link=complaint_link),
            Column(
                "channel",
                _("Channel"),
                lambda c: c.get_channel_display(),
                order_by="channel",
                css="d-none d-md-table-cell",
            ),
            Column(
                "domain",
                _("Domain"),
                lambda c: c.get_domain_display(),
                order_by="domain",
                css="d-none d-lg-table-cell",
            ),
            Column(
                "nature",
                _("Nature"),
                lambda c: c.get_nature_display(),
                order_by="nature",
                css="d-none d-md-table-cell",
            ),
            Column("unit", _("Handling unit"), unit, order_by="order__responsible_unit__name"),
            Column(
                "state",
                _("State"),
                lambda c: c.get_state_display(),
                order_by="state",
                html=complaint_badge,
            ),
            Column(
                "deadline",
                _("Reply deadline"),
                deadline,
                order_by="order__deadline",
                html=self.deadline_cell,
            ),
            Column(
                "received_at",
                _("Received at"),
                lambda c: c.received_at,
                order_by="received_at",
                css="d-none d-md-table-cell",
            ),
            Column(
                "referring_body", _("Referring body"), lambda c: c.referring_body, display=False
            ),
            Column(
                "reference_number",
                _("Reference number"),
                lambda c: c.reference_number,
                display=False,
            ),
            # The ledger never carries personal data unmasked.
            Column(
                "complainant", _("Complainant"), lambda c: c.complainant_name_masked, display=False
            ),
            Column(
                "phone",
                _("Complainant's phone"),
                lambda c: c.complainant_phone_masked,
                display=False,
            ),
            Column(
                "id_number",
                _("Complainant's ID number"),
                lambda c: c.complainant_id_number_masked,
                display=False,
            ),
            Column(
                "district",
                _("District concerned"),
                lambda c: c.district.name if c.district_id else "",
                display=False,
            ),
            Column("content", _("Content"), lambda c: c.content, display=False),
            Column(
                "order",
                _("Rectification order"),
                lambda c: getattr(_order(c), "code", ""),
                display=False,
            ),
            Column("replied_at", _("Replied at"), lambda c: c.replied_at, display=False),
            Column("reply_to", _("Replied to"), lambda c: c.get_reply_to_display(), display=False),
            Column("reply", _("Reply"), lambda c: c.reply_content, display=False),
            Column(
                "on_time",
                _("Replied on time"),
                lambda c: c.reply_on_time,
                display=False,
            ),
            Column(
                "satisfaction",
                _("Satisfaction"),
                lambda c: c.get_satisfaction_display(),
                display=False,
            ),
            Column(
                "times_reopened", _("Times reopened"), lambda c: c.times_reopened, display=False
            ),
            Column("closed_at", _("Concluded at"), lambda c: c.closed_at, display=False),
            Column(
                "merged_into",
                _("Merged into"),
                lambda c: c.merged_into.code if c.merged_into_id else "",
                display=False,
            ),
        ]

    def decorate_queryset(self, queryset):
        return queryset.select_related("order__responsible_unit", "district", "merged_into")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        context["can_create"] = user.has_role(*OFFICE)
        context["create_url"] = reverse("rectification:complaint-create")
        context["figures_url"] = reverse("rectification:complaint-figures")
        return context


class ComplaintCreateView(RoleRequiredMixin, FormView):
    allowed_roles = OFFICE
    form_class = ComplaintForm
    template_name = "rectification/complaint_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        stored = []
        try:
            with transaction.atomic():
                for upload in form.cleaned_data.get("files", []):
                    stored.append(_store_evidence(self.request.user, upload))
                complaint = service.complaint_create(
                    actor=self.request.user, attachments=stored, **form.service_kwargs()
                )
        except ServiceError as exc:
            for attachment in stored:
                _discard_file(attachment)
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            return self.form_invalid(form)
        messages.success(
            self.request,
            gettext("Complaint %(code)s was registered.") % {"code": complaint.code},
        )
        return redirect(complaint_link(complaint))


class ComplaintDetailView(ObjectDetailView):
    model = Complaint
    allowed_roles = COMPLAINT_ROLES
    template_name = "rectification/complaint_detail.html"

    def decorate_queryset(self, queryset):
        return queryset.select_related(
            "order__responsible_unit__district",
            "order__supervising_department",
            "district",
            "received_by",
            "replied_by",
            "merged_into",
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        complaint, user = self.object, self.request.user
        order = _order(complaint)
        steps = []
        for name in service.available_steps(complaint, user):
            step = service.STEPS[name]
            steps.append(
                {
                    "name": name,
                    "label": step.label,
                    "form": ComplaintStepForm(
                        action=name,
                        step=step,
                        user=user,
                        complaint=complaint,
                        auto_id=f"id_{name}_%s",
                    ),
                    "primary": name in PRIMARY_STEPS,
                    "confirm": name == "merge",
                }
            )
        clock = DeadlineClock()
        context.update(
            order=order,
            steps=steps,
            level=clock.level(order) if order else "",
            remaining=clock.remaining(order) if order else "",
            state_colour=STATE_COLOURS.get(complaint.state, "secondary"),
            satisfaction_colour=SATISFACTION_COLOURS.get(complaint.satisfaction, "secondary"),
            can_reveal=service.can_reveal(user, complaint),
            reveal_form=RevealForm(),
            attachments=Attachment.objects.visible_to(user)
            .filter(content_type__model="complaint", object_id=complaint.pk)
            .order_by("uploaded_at", "pk"),
            duplicates=Complaint.objects.visible_to(user).filter(merged_into=complaint),
            timeline=timeline_with_files(complaint, user),
            waiting_for_unit=(
                complaint.state in (ComplaintState.TRIAGED, ComplaintState.REOPENED)
                and "reply" not in [s["name"] for s in steps]
            ),
        )
        return context


class ComplaintTransitionView(ObjectActionMixin, View):
    allowed_roles = COMPLAINT_ROLES

    def post(self, request, pk, action):
        complaint = get_object_or_404(Complaint.objects.visible_to(request.user), pk=pk)
        step = service.STEPS.get(action)
        if step is None:
            raise Http404
        form = ComplaintStepForm(
            request.POST, action=action, step=step, user=request.user, complaint=complaint
        )
        if not form.is_valid():
            messages.error(request, errors_text(form))
            return redirect(complaint_link(complaint))
        try:
            service.complaint_transition(
                complaint=complaint, actor=request.user, action=action, **form.service_kwargs()
            )
        except ServiceError as exc:
            messages.error(request, str(exc.message))
            return redirect(complaint_link(complaint))
        messages.success(request, str(DONE_MESSAGES.get(action, step.label)))
        return redirect(complaint_link(complaint))


class ComplaintRevealView(ObjectActionMixin, View):
    """POST only (with a reason): the contact details, once, for this response; the reveal
    is on the audit trail. An htmx request gets the contact block only."""

    allowed_roles = COMPLAINT_ROLES

    def post(self, request, pk):
        complaint = get_object_or_404(Complaint.objects.visible_to(request.user), pk=pk)
        form = RevealForm(request.POST)
        if not form.is_valid():
            messages.error(request, errors_text(form))
            return redirect(complaint_link(complaint))
        try:
            contact = service.complaint_reveal(
                complaint=complaint, actor=request.user, reason=form.cleaned_data["reason"]
            )
        except ServiceError as exc:
            messages.error(request, str(exc.message))
            return redirect(complaint_link(complaint))
        template = (
            "rectification/partials/complainant.html"
            if request.htmx
            else "rectification/complainant_revealed.html"
        )
        response = render(
            request, template, {"object": complaint, "revealed": contact, "can_reveal": False}
        )
        response["Cache-Control"] = "no-store"
        return response


# --- Figures --------------------------------------------------------------------------------


class FiguresFilterSet(ComplaintFilterSet):
    """The figures page filters by period and district only (the same filters as the list)."""

    class Meta(ComplaintFilterSet.Meta):
        fields = ["received_from", "received_to", "district"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in list(self.filters):
            if name not in self.Meta.fields:
                del self.filters[name]


FIGURE_LABELS = {
    "total": _("Cases"),
    "closed": _("Concluded"),
    "replied": _("Replied"),
    "replied_on_time": _("Replied on time"),
    "visited": _("Return visits"),
    "contented": _("Satisfied or basically"),
    "closure": _("Closure rate"),
    "on_time": _("On-time reply rate"),
    "satisfaction": _("Satisfaction rate"),
}


class ComplaintFiguresView(RoleRequiredMixin, TemplateView):
    allowed_roles = COMPLAINT_ROLES
    template_name = "rectification/complaint_figures.html"

    def get_context_data(self, **kwargs):
        from rectification.figures import complaint_figures

        context = super().get_context_data(**kwargs)
        visible = Complaint.objects.visible_to(self.request.user)
        filterset = FiguresFilterSet(
            self.request.GET or None, queryset=visible, request=self.request
        )
        queryset = (
            filterset.qs if (not filterset.is_bound or filterset.is_valid()) else visible.none()
        )
        figures = complaint_figures(queryset, FIGURE_LABELS)
        period = {
            k: v for k in FiguresFilterSet.Meta.fields if (v := self.request.GET.get(k, "").strip())
        }
        list_url = reverse("rectification:complaint-list")

        def link(figure):
            return f"{list_url}?{urlencode({**figure.query, **period})}"

        context.update(
            title=gettext("Complaint figures"),
            filterset=filterset,
            figures=figures,
            link=link,
            groups=[
                (gettext("By channel"), [(f, link(f)) for f in figures.by_channel]),
                (gettext("By domain"), [(f, link(f)) for f in figures.by_domain]),
                (gettext("By nature"), [(f, link(f)) for f in figures.by_nature]),
                (gettext("Satisfaction"), [(f, link(f)) for f in figures.satisfaction]),
            ],
            rates=[
                (rate, link(rate.numerator), link(rate.denominator))
                for rate in (figures.closure, figures.on_time_reply, figures.satisfaction_rate)
            ],
            total_link=link(figures.total),
            today=timezone.localdate(),
        )
        return context


urlpatterns = [
    path("complaints/", ComplaintListView.as_view(), name="complaint-list"),
    path("complaints/new/", ComplaintCreateView.as_view(), name="complaint-create"),
    path("figures/complaints/", ComplaintFiguresView.as_view(), name="complaint-figures"),
    path("complaints/<int:pk>/", ComplaintDetailView.as_view(), name="complaint-detail"),
    path("complaints/<int:pk>/reveal/", ComplaintRevealView.as_view(), name="complaint-reveal"),
    path(
        "complaints/<int:pk>/<str:action>/",
        ComplaintTransitionView.as_view(),
        name="complaint-transition",
    ),
]
