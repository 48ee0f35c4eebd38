"""Leadership briefs: the person's briefs with their state and file, and the form that asks
for a new one (also posted to by the dashboard's 生成简报 button)."""

from django.core.paginator import Paginator
from django.shortcuts import redirect
from django.urls import path
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from civilaffairs.exceptions import ServiceError
from civilaffairs.models import BackgroundJob, OrgUnit
from civilaffairs.ratelimit import rate_limit
from civilaffairs.views.generic import RoleRequiredMixin
from civilaffairs.views.jobs import STATE_COLOURS
from reports import briefs, dashboard
from reports.brief_forms import BriefForm

PAGE_SIZE = 20


def brief_rows(user, jobs) -> list[dict]:
    """Each brief with its period and scope as they were asked for."""
    district_ids = {int(j.params["district"]) for j in jobs if j.params.get("district")}
    names = dict(OrgUnit.objects.filter(pk__in=district_ids).values_list("pk", "name"))
    default_scope = None
    rows = []
    for job in jobs:
        district = job.params.get("district")
        if district:
            scope = names.get(int(district), "—")
        else:
            if default_scope is None:
                default_scope = briefs.default_scope(user)
            scope = default_scope
        rows.append(
            {
                "job": job,
                "since": job.params.get("since", ""),
                "until": job.params.get("until", ""),
                "scope": scope,
                "colour": STATE_COLOURS.get(job.state, "secondary"),
            }
        )
    return rows


class BriefListView(RoleRequiredMixin, TemplateView):
    allowed_roles = dashboard.DASHBOARD_ROLES
    template_name = "reports/brief_list.html"

    def get_form(self):
        return BriefForm(user=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        jobs = (
            BackgroundJob.objects.visible_to(user)
            .filter(kind=briefs.KIND)
            .select_related("result")
            .order_by("-created_at", "-pk")
        )
        page = Paginator(jobs, PAGE_SIZE).get_page(self.request.GET.get("page"))
        context.update(
            title=_("Leadership briefs"),
            form=kwargs.get("form") or self.get_form(),
            page=page,
            rows=brief_rows(user, page.object_list),
        )
        return context


class BriefCreateView(BriefListView):
    """POST only: queue the brief and show its progress page; bad input shows the form again
    with the errors and queues nothing."""

    http_method_names = ["post"]

    @method_decorator(rate_limit("brief"))
    def post(self, request, *args, **kwargs):
        form = BriefForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                job = briefs.brief_request(owner=request.user, **form.request_values())
            except ServiceError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, str(error.message))
            else:
                return redirect(job.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form))


urlpatterns = [
    path("briefs/", BriefListView.as_view(), name="brief-list"),
    path("briefs/new/", BriefCreateView.as_view(), name="brief-create"),
]
