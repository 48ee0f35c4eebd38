"""The leadership dashboard page. The figures come from reports.dashboard; this view only reads
the filters, picks a snapshot or computes, and renders."""

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from civilaffairs.ratelimit import RateLimit, RateLimitMixin
from civilaffairs.views.generic import RoleRequiredMixin
from reports import dashboard


class DashboardView(RoleRequiredMixin, RateLimitMixin, TemplateView):
    allowed_roles = dashboard.DASHBOARD_ROLES
    template_name = "reports/dashboard.html"
    # ?refresh=1 recomputes every figure instead of reading the snapshot.
    rate_limits = [
        RateLimit("dashboard_refresh", methods=("GET",), when=lambda r: r.GET.get("refresh") == "1")
    ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        filters, errors = dashboard.parse_filters(user, self.request.GET)
        board = dashboard.dashboard_for(
            user, filters, refresh=self.request.GET.get("refresh") == "1"
        )
        charts = {
            key: {
                "title": series.title,
                "labels": [row.label for row in series.rows],
                "values": [row.value for row in series.rows],
                "urls": [row.url for row in series.rows],
            }
            for key, series in {**board.breakdowns, **board.trends}.items()
        }
        query = self.request.GET.copy()
        query.pop("refresh", None)
        context.update(
            title=_("Leadership dashboard"),
            board=board,
            f=board.figures,
            rates=board.rates,
            errors=errors,
            filters=filters,
            presets=[
                ("week", _("This week")),
                ("month", _("This month")),
                ("quarter", _("This quarter")),
                ("year", _("This year")),
            ],
            districts=dashboard.visible_district_units(user),
            charts=charts,
            query=query.urlencode(),
            brief_url=_reverse_or_empty("reports:brief-create"),
        )
        return context


def _reverse_or_empty(name):
    from django.urls import NoReverseMatch

    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


urlpatterns = [path("dashboard/", DashboardView.as_view(), name="dashboard")]
