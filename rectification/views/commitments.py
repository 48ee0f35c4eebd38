"""Commitment pages: list, record, edit, a commitment with its milestones, progress and order,
and the public page (no sign-in, no personal data) that lists the published commitments."""

from django.contrib import messages
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView, TemplateView

from civilaffairs.choices import Role
from civilaffairs.exceptions import ServiceError
from civilaffairs.ratelimit import rate_limit
from civilaffairs.views.generic import Column, ObjectDetailView, ObjectListView, RoleRequiredMixin
from civilaffairs.views.generic import badge as make_badge
from rectification import commitments as service
from rectification.choices import CommitmentStanding
from rectification.complaint_forms import CommitmentForm, ProgressForm, milestones_text
from rectification.filtersets import CommitmentFilterSet
from rectification.forms import errors_text
from rectification.models import Commitment, CommitmentMilestone, CommitmentProgress
from rectification.views.orders import DeadlineClock, ObjectActionMixin, timeline_with_files

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)
COMMITMENT_ROLES = (*OFFICE, Role.LEADER, Role.DEPARTMENT)
STANDING_COLOURS = {
    CommitmentStanding.IN_PROGRESS: "primary",
    CommitmentStanding.OVERDUE: "danger",
    CommitmentStanding.FULFILLED: "success",
    CommitmentStanding.WITHDRAWN: "secondary",
}


def commitment_link(commitment) -> str:
    return reverse("rectification:commitment-detail", args=[commitment.pk])


def standing_badge(commitment, today=None):
    value = service.standing(commitment, today)
    return make_badge(STANDING_COLOURS[value], CommitmentStanding(value).label)


def _milestone_counts(commitment) -> str:
    milestones = list(commitment.milestones.all())
    reached = sum(1 for m in milestones if m.reached_at)
    return f"{reached}/{len(milestones)}" if milestones else ""


class CommitmentListView(ObjectListView):
    model = Commitment
    allowed_roles = COMMITMENT_ROLES
    filterset_class = CommitmentFilterSet
    template_name = "rectification/commitment_list.html"
    title = _("Public commitments")
    export_filename = "commitments"
    default_ordering = "order__deadline"
    empty_message = _("No commitment matches the current filters.")

    @cached_property
    def today(self):
        return timezone.localdate()

    def get_columns(self):
        return [
            Column("code", _("Number"), lambda c: c.code, order_by="code", link=commitment_link),
            Column(
                "problem",
                _("Problem"),
                lambda c: c.problem,
                order_by="problem",
                link=commitment_link,
            ),
            Column(
                "department",
                _("Responsible department"),
                lambda c: c.department.name,
                order_by="department__name",
            ),
            Column(
                "deadline",
                _("Deadline"),
                lambda c: c.order.deadline,
                order_by="order__deadline",
            ),
            Column(
                "standing",
                _("Standing"),
                lambda c: CommitmentStanding(service.standing(c, self.today)).label,
                html=lambda c: standing_badge(c, self.today),
            ),
            Column(
                "milestones",
                _("Milestones reached"),
                _milestone_counts,
                css="d-none d-md-table-cell",
            ),
            Column(
                "public",
                _("Published"),
                lambda c: c.public,
                html=lambda c: gettext("Yes") if c.public else gettext("No"),
                css="d-none d-md-table-cell",
            ),
            Column("promise", _("Public promise"), lambda c: c.promise, display=False),
        ]

    def decorate_queryset(self, queryset):
        return queryset.select_related("department", "order").prefetch_related("milestones")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_create"] = self.request.user.has_role(*OFFICE)
        context["create_url"] = reverse("rectification:commitment-create")
        context["public_url"] = reverse("public-commitments")
        return context


class CommitmentCreateView(RoleRequiredMixin, FormView):
    allowed_roles = OFFICE
    form_class = CommitmentForm
    template_name = "rectification/commitment_form.html"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def form_valid(self, form):
        d = form.cleaned_data
        try:
            commitment = service.commitment_create(
                actor=self.request.user,
                problem=d["problem"],
                department=d["department"],
                promise=d["promise"],
                deadline=d["deadline"],
                milestones=d["milestones"],
                public=d["public"],
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            return self.form_invalid(form)
        messages.success(
            self.request, gettext("Commitment %(code)s was recorded.") % {"code": commitment.code}
        )
        return redirect(commitment_link(commitment))


class CommitmentEditView(RoleRequiredMixin, FormView):
    allowed_roles = OFFICE
    form_class = CommitmentForm
    template_name = "rectification/commitment_form.html"

    @cached_property
    def commitment(self):
        return get_object_or_404(
            Commitment.objects.visible_to(self.request.user), pk=self.kwargs["pk"]
        )

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user, "editing": True}

    def get_initial(self):
        c = self.commitment
        return {
            "problem": c.problem,
            "promise": c.promise,
            "public": c.public,
            "version": c.version,
            "milestones": milestones_text(c.milestones.filter(reached_at__isnull=True)),
        }

    def get_context_data(self, **kwargs):
        return super().get_context_data(commitment=self.commitment, **kwargs)

    def form_valid(self, form):
        d = form.cleaned_data
        try:
            service.commitment_update(
                actor=self.request.user,
                commitment=self.commitment,
                version=d["version"],
                problem=d["problem"],
                promise=d["promise"],
                public=d["public"],
                milestones=d["milestones"],
            )
        except ServiceError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, str(exc.message))
            return self.form_invalid(form)
        messages.success(self.request, gettext("The commitment was saved."))
        return redirect(commitment_link(self.commitment))


class CommitmentDetailView(ObjectDetailView):
    model = Commitment
    allowed_roles = COMMITMENT_ROLES
    template_name = "rectification/commitment_detail.html"

    def decorate_queryset(self, queryset):
        return queryset.select_related("department", "order", "created_by")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        commitment, user = self.object, self.request.user
        order = service.order_of(commitment)
        clock = DeadlineClock()
        value = service.standing(commitment)
        open_ = value in (CommitmentStanding.IN_PROGRESS, CommitmentStanding.OVERDUE)
        context.update(
            order=order,
            standing=CommitmentStanding(value).label,
            standing_colour=STANDING_COLOURS[value],
            level=clock.level(order) if order else "",
            remaining=clock.remaining(order) if order else "",
            milestones=list(commitment.milestones.all()),
            progress=list(commitment.progress.select_related("author", "milestone")),
            progress_form=ProgressForm(commitment=commitment)
            if open_ and service.may_report_progress(user, commitment)
            else None,
            can_edit=user.has_role(*OFFICE),
            timeline=timeline_with_files(commitment, user),
            today=timezone.localdate(),
        )
        return context


class CommitmentProgressView(ObjectActionMixin, View):
    allowed_roles = COMMITMENT_ROLES

    def post(self, request, pk):
        commitment = get_object_or_404(Commitment.objects.visible_to(request.user), pk=pk)
        form = ProgressForm(request.POST, commitment=commitment)
        if not form.is_valid():
            messages.error(request, errors_text(form))
            return redirect(commitment_link(commitment))
        try:
            service.commitment_progress(
                actor=request.user,
                commitment=commitment,
                content=form.cleaned_data["content"],
                reached=form.cleaned_data.get("reached"),
            )
        except ServiceError as exc:
            messages.error(request, str(exc.message))
            return redirect(commitment_link(commitment))
        messages.success(request, gettext("The progress update was added."))
        return redirect(commitment_link(commitment))


class PublicCommitmentsView(TemplateView):
    """Open to everyone, no sign-in: the published commitments and how each stands. Only the
    problem, the department, the promise, dates, milestones and progress text (with any long
    digit runs blanked) are shown — never who wrote them, never a complainant."""

    template_name = "rectification/public_commitments.html"

    @method_decorator(rate_limit("public", key="ip", methods=("GET", "HEAD")))
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        commitments = (
            Commitment.objects.published()
            .select_related("department", "order")
            .prefetch_related(
                Prefetch("milestones", queryset=CommitmentMilestone.objects.order_by("due_date")),
                Prefetch(
                    "progress",
                    queryset=CommitmentProgress.objects.order_by("-at").only(
                        "commitment_id", "at", "content"
                    ),
                ),
            )
            .order_by("order__deadline", "pk")
        )
        rows = []
        for c in commitments:
            value = service.standing(c, today)
            rows.append(
                {
                    "code": c.code,
                    "problem": service.public_text(c.problem),
                    "department": c.department.name,
                    "promise": service.public_text(c.promise),
                    "deadline": c.order.deadline,
                    "made": c.created_at,
                    "standing": CommitmentStanding(value).label,
                    "colour": STANDING_COLOURS[value],
                    "milestones": [
                        {
                            "title": service.public_text(m.title),
                            "due": m.due_date,
                            "reached": m.reached_at,
                            "late": m.reached_at is None and m.due_date < today,
                        }
                        for m in c.milestones.all()
                    ],
                    "progress": [
                        {"at": p.at, "content": service.public_text(p.content)}
                        for p in c.progress.all()[:5]
                    ],
                }
            )
        counts = {}
        for row in rows:
            counts[row["standing"]] = counts.get(row["standing"], 0) + 1
        context.update(rows=rows, counts=sorted(counts.items(), key=str), today=today)
        return context


urlpatterns = [
    path("commitments/", CommitmentListView.as_view(), name="commitment-list"),
    path("commitments/new/", CommitmentCreateView.as_view(), name="commitment-create"),
    path("commitments/<int:pk>/", CommitmentDetailView.as_view(), name="commitment-detail"),
    path("commitments/<int:pk>/edit/", CommitmentEditView.as_view(), name="commitment-edit"),
    path(
        "commitments/<int:pk>/progress/",
        CommitmentProgressView.as_view(),
        name="commitment-progress",
    ),
]

public_urlpatterns = [
    path("commitments/", PublicCommitmentsView.as_view(), name="public-commitments"),
]
