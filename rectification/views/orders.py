"""Order pages: the to-do list, the order list, an order with the steps its reader may take
now, and issuing an order by hand. Every step goes through the one guarded transition
service; these views only collect input and show the outcome."""

import contextlib
import datetime as dt
import uuid

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView, TemplateView

from civilaffairs.choices import Role, choice_label
from civilaffairs.exceptions import ServiceError
from civilaffairs.files import attachment_store
from civilaffairs.models import Attachment, OrgUnit
from civilaffairs.navigation import BUSINESS
from civilaffairs.ratelimit import rate_limit
from civilaffairs.services import timeline_of
from civilaffairs.views.generic import (
    Column,
    ObjectDetailView,
    ObjectListView,
    RoleRequiredMixin,
    badge,
    choice_display,
    detail_link,
)
from civilaffairs.workdays import WorkCalendar
from inspections.models import Finding
from rectification import services
from rectification.choices import OPEN_STATES, ExtensionState
from rectification.filtersets import RectificationFilterSet, due_soon_limit
from rectification.forms import (
    EVIDENCE_ACCEPT,
    OrderIssueForm,
    TransitionForm,
    errors_text,
    issue_initial,
)
from rectification.ledgers import history_sheet
from rectification.models import ExtensionRequest, Rectification
from rectification.todo import todo_blocks

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)

STATE_BADGE = {
    "issued": "info",
    "acknowledged": "primary",
    "submitted": "dark",
    "verified": "success",
    "returned": "danger",
    "cancelled": "secondary",
}
PRIORITY_BADGE = {"normal": "light", "high": "warning", "urgent": "danger"}

# Steps a person mostly comes to the page for: shown open, the others folded.
PRIMARY_STEPS = ("acknowledge", "submit", "verify", "approve_extension")
DANGER_STEPS = ("cancel", "return", "reject_extension")
DONE_MESSAGES = {
    "acknowledge": _("The order was acknowledged. Rectify the problem, then report with evidence."),
    "submit": _("The rectification was reported; the office will verify it."),
    "verify": _("The rectification was verified and the order closed."),
    "return": _("The order was returned to the unit."),
    "reassign": _("The order was reassigned to another unit."),
    "cancel": _("The order was cancelled."),
    "reopen": _("The order was reopened."),
    "request_extension": _("The extension request was sent for approval."),
    "approve_extension": _("The extension was approved; the deadline has moved."),
    "reject_extension": _("The extension was rejected."),
}


def state_badge(order):
    return badge(STATE_BADGE.get(order.state, "secondary"), choice_label(order, "state"))


def priority_badge(order):
    return badge(PRIORITY_BADGE.get(order.priority, "secondary"), choice_label(order, "priority"))


class DeadlineClock:
    """Where open orders stand against their deadlines today, in working days: one calendar
    snapshot for the whole page (a fixed number of queries, whatever the number of orders).
    Yellow and red follow the list's ``overdue_level`` filter exactly."""

    def __init__(self, today: dt.date | None = None):
        self.today = today or timezone.localdate()

    @cached_property
    def soon_limit(self) -> dt.date:
        return due_soon_limit(self.today, calendar=self.calendar)

    @cached_property
    def calendar(self) -> WorkCalendar:
        return WorkCalendar(
            self.today - dt.timedelta(days=400), self.today + dt.timedelta(days=400)
        )

    def level(self, order) -> str:
        """Overdue (red), warn (yellow), ok (green), or empty for a closed order."""
        if order.state not in OPEN_STATES:
            return ""
        if order.deadline < self.today:
            return "overdue"
        if order.deadline <= self.soon_limit:
            return "warn"
        return "ok"

    def working_days(self, start: dt.date, end: dt.date) -> int:
        if end < start:
            return -self.working_days(end, start)
        # A ledger asks for thousands of orders sharing a few deadlines: count each span once.
        key = (start, end)
        if key not in self._spans:
            self._spans[key] = sum(
                1
                for n in range(1, (end - start).days + 1)
                if self.calendar.is_workday(start + dt.timedelta(days=n))
            )
        return self._spans[key]

    @cached_property
    def _spans(self) -> dict:
        return {}

    def days_overdue(self, order) -> int | None:
        """Working days an open order is past its deadline today (None when it is not)."""
        if self.level(order) != "overdue":
            return None
        return max(0, self.working_days(order.deadline, self.today))

    def remaining(self, order) -> str:
        """For an open order: N working days left, due today, or overdue by N working days."""
        level = self.level(order)
        if not level:
            return ""
        key = (level, order.deadline)
        if key not in self._texts:  # the text depends on nothing else: translated once
            self._texts[key] = self._remaining(level, order)
        return self._texts[key]

    @cached_property
    def _texts(self) -> dict:
        return {}

    def _remaining(self, level, order) -> str:
        if level == "overdue":
            late = self.working_days(order.deadline, self.today)
            if late < 1:
                return gettext("Overdue")
            return ngettext(
                "Overdue by %(n)s working day", "Overdue by %(n)s working days", late
            ) % {"n": late}
        if order.deadline == self.today:
            return gettext("Due today")
        left = self.working_days(self.today, order.deadline)
        return ngettext("%(n)s working day left", "%(n)s working days left", left) % {"n": left}

    def cell(self, order) -> str:
        """The deadline as a list cell: date, provisional mark, and the coloured status."""
        level = self.level(order)
        provisional = (
            format_html(
                ' <abbr class="small text-secondary" title="{}">{}</abbr>',
                gettext("The deadline reaches a year whose holidays are not published yet."),
                gettext("provisional"),
            )
            if order.deadline_provisional
            else ""
        )
        status = (
            format_html(
                '<br><span class="small text-nowrap status-{}">{}</span>',
                level,
                self.remaining(order),
            )
            if level
            else ""
        )
        return format_html(
            '<span class="text-nowrap {}">{}</span>{}{}',
            f"fw-semibold status-{level}" if level in ("overdue", "warn") else "",
            order.deadline.isoformat(),
            provisional,
            status,
        )


def _closed_on_time(order):
    """For a verified order: closed by its deadline (Yes) or after it (No)."""
    if order.state != "verified" or order.closed_at is None:
        return None
    return timezone.localdate(order.closed_at) <= order.deadline


_order_link = detail_link("rectification:order-detail")


# --- To-do ----------------------------------------------------------------------------------

TODO_LIMIT = 20


class TodoView(RoleRequiredMixin, TemplateView):
    """What waits for the user, block by block (see rectification.todo)."""

    allowed_roles = BUSINESS
    template_name = "rectification/todo.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        clock = DeadlineClock()
        pending = Prefetch(
            "extensions",
            queryset=ExtensionRequest.objects.filter(state=ExtensionState.PENDING).select_related(
                "requested_by"
            ),
            to_attr="pending_extensions",
        )
        blocks = []
        for block in todo_blocks(self.request.user):
            ordering = ("submitted_at", "pk") if block.key == "verify" else ("deadline", "pk")
            queryset = block.queryset.select_related(
                "responsible_unit", "supervising_department"
            ).order_by(*ordering)
            if block.key == "extensions":
                queryset = queryset.prefetch_related(pending)
            orders = list(queryset[: TODO_LIMIT + 1])
            count = len(orders) if len(orders) <= TODO_LIMIT else block.queryset.count()
            rows = [
                {
                    "order": order,
                    "level": clock.level(order),
                    "remaining": clock.remaining(order),
                    "extension": (getattr(order, "pending_extensions", None) or [None])[0],
                }
                for order in orders[:TODO_LIMIT]
            ]
            list_url = reverse("rectification:order-list")
            blocks.append(
                {
                    "block": block,
                    "count": count,
                    "rows": rows,
                    "more_url": f"{list_url}?{block.list_query}" if block.list_query else list_url,
                    "more": count > TODO_LIMIT,
                }
            )
        context.update(
            blocks=blocks,
            total=sum(b["count"] for b in blocks),
            can_issue=self.request.user.has_role(*OFFICE),
        )
        return context


# --- List -----------------------------------------------------------------------------------


class OrderListView(ObjectListView):
    model = Rectification
    allowed_roles = BUSINESS
    filterset_class = RectificationFilterSet
    template_name = "rectification/order_list.html"
    title = _("Rectification orders")
    export_filename = "rectification-orders"
    default_ordering = "-dispatched_at"
    selectable = True
    empty_message = _("No rectification order matches the current filters.")

    @cached_property
    def clock(self):
        return DeadlineClock()

    def get_columns(self):
        clock = self.clock
        return [
            Column(
                "code",
                _("Number"),
                lambda o: o.code,
                order_by="code",
                html=lambda o: format_html(
                    '<a class="text-nowrap" href="{}">{}</a>', _order_link(o), o.code
                ),
                css="d-none d-sm-table-cell",
            ),
            Column(
                "title",
                _("Problem"),
                lambda o: o.title,
                order_by="title",
                link=_order_link,
                css="order-title",
            ),
            Column(
                "unit",
                _("Responsible unit"),
                lambda o: o.responsible_unit.name,
                order_by="responsible_unit__name",
            ),
            Column(
                "district",
                _("District"),
                lambda o: o.responsible_unit.district.name if o.responsible_unit.district else "",
                order_by="responsible_unit__district__name",
                css="d-none d-md-table-cell",
            ),
            Column(
                "department",
                _("Supervising department"),
                lambda o: o.supervising_department.name if o.supervising_department else "",
                order_by="supervising_department__name",
                css="d-none d-md-table-cell",
            ),
            Column(
                "priority",
                _("Priority"),
                choice_display("priority"),
                order_by="priority",
                html=priority_badge,
                css="d-none d-md-table-cell",
            ),
            Column(
                "state",
                _("State"),
                choice_display("state"),
                order_by="state",
                html=state_badge,
            ),
            Column(
                "deadline",
                _("Deadline"),
                lambda o: o.deadline,
                order_by="deadline",
                html=clock.cell,
            ),
            Column(
                "provisional",
                _("Provisional deadline"),
                lambda o: o.deadline_provisional,
                display=False,
            ),
            Column("remaining", _("Deadline status"), clock.remaining, display=False),
            Column(
                "dispatched_at",
                _("Dispatched at"),
                lambda o: o.dispatched_at,
                order_by="dispatched_at",
                html=lambda o: format_html(
                    '<span class="text-nowrap" title="{}">{}</span>',
                    timezone.localtime(o.dispatched_at).strftime("%Y-%m-%d %H:%M"),
                    timezone.localtime(o.dispatched_at).strftime("%Y-%m-%d"),
                ),
                css="d-none d-md-table-cell",
            ),
            Column("source", _("Source"), choice_display("source_type"), display=False),
            Column(
                "finding",
                _("Finding number"),
                lambda o: o.finding.code if o.finding_id and o.finding.code else "",
                display=False,
            ),
            Column("requirements", _("Requirements"), lambda o: o.requirements, display=False),
            Column(
                "person",
                _("Responsible person"),
                lambda o: str(o.responsible_person) if o.responsible_person_id else "",
                display=False,
            ),
            Column(
                "acknowledged_at", _("Acknowledged at"), lambda o: o.acknowledged_at, display=False
            ),
            Column("submitted_at", _("Reported at"), lambda o: o.submitted_at, display=False),
            Column("closed_at", _("Closed at"), lambda o: o.closed_at, display=False),
            Column(
                "times_returned", _("Times returned"), lambda o: o.times_returned, display=False
            ),
            Column("days_overdue", _("Working days overdue"), clock.days_overdue, display=False),
            Column("closed_on_time", _("Closed on time"), _closed_on_time, display=False),
            Column(
                "extensions",
                _("Extensions approved"),
                lambda o: getattr(o, "extensions_approved", None),
                display=False,
            ),
            Column(
                "extension_pending",
                _("Extension awaiting approval"),
                lambda o: getattr(o, "extension_pending", None),
                display=False,
            ),
        ]

    def decorate_queryset(self, queryset):
        # What the page's columns show; the finding and the person are the ledger's only
        # (joining them for every match made the page's query sort wider rows).
        return queryset.select_related("responsible_unit__district", "supervising_department")

    def export_queryset(self):
        # Only the ledger needs the extension figures: two subqueries, none per order.
        extensions = ExtensionRequest.objects.filter(rectification=OuterRef("pk"))
        approved = (
            extensions.filter(state=ExtensionState.APPROVED)
            .values("rectification")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .export_queryset()
            .select_related("finding", "responsible_person")
            .annotate(
                extensions_approved=Coalesce(Subquery(approved), 0),
                extension_pending=Exists(extensions.filter(state=ExtensionState.PENDING)),
            )
        )

    def export_sheets(self, queryset):
        return [history_sheet(queryset)]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_create"] = self.request.user.has_role(*OFFICE)
        context["create_url"] = reverse("rectification:order-issue")
        return context


# --- Detail and steps -----------------------------------------------------------------------


def _uuids(values) -> list[str]:
    valid = []
    for value in values if isinstance(values, list) else []:
        try:
            valid.append(str(uuid.UUID(str(value))))
        except ValueError:
            continue
    return valid


def timeline_with_files(subject, user) -> list:
    """The subject's timeline, each entry with ``files`` (the attachments its data lists,
    those the user may see) and, for a reassignment, ``units`` (from, to): two queries for
    the whole timeline, none per entry."""
    entries = list(timeline_of(subject))
    wanted = {u for e in entries for u in _uuids((e.data or {}).get("attachments"))}
    files = (
        {str(a.uuid): a for a in Attachment.objects.visible_to(user).filter(uuid__in=wanted)}
        if wanted
        else {}
    )
    unit_ids = {
        pk
        for e in entries
        if e.verb == "reassign" and isinstance((e.data or {}).get("unit"), list)
        for pk in e.data["unit"]
        if isinstance(pk, int)
    }
    units = OrgUnit.objects.in_bulk(unit_ids) if unit_ids else {}
    for entry in entries:
        data = entry.data if isinstance(entry.data, dict) else {}
        entry.files = [files[u] for u in _uuids(data.get("attachments")) if u in files]
        change = data.get("unit") if entry.verb == "reassign" else None
        entry.units = (
            [units.get(pk) for pk in change]
            if isinstance(change, list) and len(change) == 2
            else []
        )
    return entries


class OrderDetailView(ObjectDetailView):
    model = Rectification
    allowed_roles = BUSINESS
    template_name = "rectification/order_detail.html"

    def decorate_queryset(self, queryset):
        return queryset.select_related(
            "responsible_unit__district",
            "responsible_person",
            "supervising_department",
            "finding",
            "created_by",
            "submitted_by",
            "closed_by",
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        order, user = self.object, self.request.user
        extensions = list(order.extensions.select_related("requested_by", "decided_by"))
        pending = next((e for e in extensions if e.state == ExtensionState.PENDING), None)
        clock = DeadlineClock()
        steps = []
        for name in services.available_steps(order, user, pending_extension=pending):
            step = services.STEPS[name]
            steps.append(
                {
                    "name": name,
                    "label": step.label,
                    "form": TransitionForm(
                        action=name,
                        step=step,
                        user=user,
                        order=order,
                        auto_id=f"id_{name}_%s",
                    ),
                    "primary": name in PRIMARY_STEPS,
                    "danger": name in DANGER_STEPS,
                    "confirm": name == "cancel",
                }
            )
        finding = None
        if order.finding_id:
            finding = Finding.objects.visible_to(user).filter(pk=order.finding_id).first()
        # A complaint's or a commitment's order links back to it, where the reader may see it.
        from rectification.models import Commitment, Complaint

        complaint = commitment = None
        if order.complaint_id:
            complaint = Complaint.objects.visible_to(user).filter(pk=order.complaint_id).first()
        if order.commitment_id:
            commitment = Commitment.objects.visible_to(user).filter(pk=order.commitment_id).first()
        content_type = ContentType.objects.get_for_model(Rectification)
        context.update(
            finding=finding,
            complaint=complaint,
            commitment=commitment,
            extensions=extensions,
            pending_extension=pending,
            attachments=Attachment.objects.visible_to(user)
            .filter(content_type=content_type, object_id=order.pk)
            .select_related("uploaded_by")
            .order_by("uploaded_at", "pk"),
            timeline=timeline_with_files(order, user),
            steps=steps,
            level=clock.level(order),
            remaining=clock.remaining(order),
            is_open=order.state in OPEN_STATES,
            state_colour=STATE_BADGE.get(order.state, "secondary"),
            priority_colour=PRIORITY_BADGE.get(order.priority, "secondary"),
            evidence_accept=EVIDENCE_ACCEPT,
            earliest_extension=order.deadline + dt.timedelta(days=1),
        )
        return context


class ObjectActionMixin(RoleRequiredMixin):
    """A POST on one object: a role that may not use the section learns nothing (404)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not request.user.has_role(*self.allowed_roles):
            raise Http404
        return super().dispatch(request, *args, **kwargs)


class OrderTransitionView(ObjectActionMixin, View):
    """One step on one order. Evidence files are stored and attached in the same transaction
    as the step, so a refused step leaves neither rows nor files behind."""

    allowed_roles = BUSINESS

    @method_decorator(rate_limit("upload", when=lambda request: bool(request.FILES)))
    def post(self, request, pk, action):
        order = get_object_or_404(Rectification.objects.visible_to(request.user), pk=pk)
        step = services.STEPS.get(action)
        if step is None:
            raise Http404
        form = TransitionForm(
            request.POST, request.FILES, action=action, step=step, user=request.user, order=order
        )
        if not form.is_valid():
            messages.error(request, errors_text(form))
            return redirect(_order_link(order))
        stored = []
        try:
            with transaction.atomic():
                for upload in form.cleaned_data.get("files", []):
                    stored.append(_store_evidence(request.user, upload))
                services.rectification_transition(
                    rectification=order,
                    actor=request.user,
                    action=action,
                    attachments=stored,
                    **form.service_kwargs(),
                )
        except ServiceError as exc:
            for attachment in stored:
                _discard_file(attachment)
            messages.error(request, str(exc.message))
            return redirect(_order_link(order))
        except Exception:
            for attachment in stored:
                _discard_file(attachment)
            raise
        messages.success(request, str(DONE_MESSAGES.get(action, step.label)))
        if not Rectification.objects.visible_to(request.user).filter(pk=order.pk).exists():
            return redirect("rectification:todo")
        return redirect(_order_link(order))


def _store_evidence(actor, upload):
    try:
        return attachment_store(actor=actor, upload=upload)
    except ServiceError as exc:
        raise ServiceError(
            gettext("%(name)s: %(error)s") % {"name": upload.name, "error": exc.message},
            field="files",
            code=exc.code,
        ) from exc


def _discard_file(attachment):
    """The row went with the rolled-back transaction; the stored bytes go too."""
    with contextlib.suppress(OSError):
        attachment.file.delete(save=False)


# --- Issue by hand --------------------------------------------------------------------------


class OrderIssueView(RoleRequiredMixin, FormView):
    """The office issues an order, free-standing or for a finding (``?finding=<id>``)."""

    allowed_roles = OFFICE
    form_class = OrderIssueForm
    template_name = "rectification/order_form.html"

    @cached_property
    def finding(self):
        raw = self.request.GET.get("finding")
        if not raw:
            return None
        if not raw.isdigit():
            raise Http404
        visible = Finding.objects.visible_to(self.request.user).filed()
        finding = visible.select_related("target").filter(pk=int(raw)).first()
        if finding is None:
            raise Http404
        return finding

    def get_initial(self):
        return issue_initial(self.finding) if self.finding is not None else {}

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "finding": self.finding}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        finding = self.finding
        context["finding"] = finding
        if finding is not None:
            context["existing_orders"] = Rectification.objects.visible_to(self.request.user).filter(
                finding=finding
            )
        return context

    def form_valid(self, form):
        try:
            order = services.rectification_issue(actor=self.request.user, **form.service_kwargs())
        except ServiceError as exc:
            field = exc.field if exc.field in form.fields else None
            if exc.field == "deadline" and form.cleaned_data.get("deadline_mode") == "days":
                field = "working_days"
            form.add_error(field, str(exc.message))
            return self.form_invalid(form)
        messages.success(
            self.request,
            gettext("Rectification order %(code)s was issued to %(unit)s.")
            % {"code": order.code, "unit": order.responsible_unit.name},
        )
        return redirect(_order_link(order))


urlpatterns = [
    path("todo/", TodoView.as_view(), name="todo"),
    path("orders/", OrderListView.as_view(), name="order-list"),
    path("new/", OrderIssueView.as_view(), name="order-issue"),
    path("orders/<int:pk>/", OrderDetailView.as_view(), name="order-detail"),
    path(
        "orders/<int:pk>/<str:action>/",
        OrderTransitionView.as_view(),
        name="order-transition",
    ),
]
