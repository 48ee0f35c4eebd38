"""Unit scorecard pages (单位考评): the table of units with their figures and cards, and one
unit's scorecard with its orders and repeat problems. The figures come from
rectification.scorecards; these views only choose, sort and show them."""

from urllib.parse import urlencode

from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import OrgKind
from civilaffairs.models import OrgUnit
from civilaffairs.views.generic import Column, ObjectDetailView, ObjectListView, badge
from rectification import scorecards
from rectification.models import Rectification

CARD_BADGE = {scorecards.RED: "danger", scorecards.YELLOW: "warning"}


def card_badge(row):
    if row["card"] not in CARD_BADGE:
        return "—"
    return badge(CARD_BADGE[row["card"]], scorecards.card_label(row["card"]))


def percent(value):
    return "—" if value is None else f"{value}%"


def _period(request) -> dict:
    """The valid period filters of the request, to carry from the table to a unit's page."""
    form = scorecards.ScorecardFilterSet(request.GET or None, request=request).form
    if not form.is_bound or not form.is_valid():
        return {}
    return {
        key: form.cleaned_data[key].isoformat()
        for key in ("since", "until")
        if form.cleaned_data.get(key)
    }


class ScorecardListView(ObjectListView):
    model = Rectification
    allowed_roles = scorecards.SCORECARD_ROLES
    filterset_class = scorecards.ScorecardFilterSet
    template_name = "rectification/scorecard_list.html"
    title = _("Unit scorecards")
    export_filename = "unit-scorecards"
    empty_message = _("No unit has rectification orders that match the filters.")

    def get_columns(self):
        period = urlencode(_period(self.request))

        def detail_url(row):
            url = reverse("rectification:scorecard-detail", args=[row["unit_id"]])
            return f"{url}?{period}" if period else url

        # The card and the figures it rests on come first: on a phone they stay in view.
        return [
            Column("unit", _("Unit"), lambda r: r["unit_name"], order_by="unit", link=detail_url),
            Column(
                "card",
                _("Card"),
                lambda r: scorecards.card_label(r["card"]) if r["card_rank"] else "",
                order_by="card",
                html=card_badge,
            ),
            Column(
                "on_time_rate",
                _("On-time rate"),
                lambda r: r["on_time_rate"],
                order_by="on_time_rate",
                html=lambda r: percent(r["on_time_rate"]),
            ),
            Column("overdue", _("Overdue"), lambda r: r["overdue"], order_by="overdue"),
            Column("orders", _("Orders"), lambda r: r["orders"], order_by="orders"),
            Column("verified", _("Closed"), lambda r: r["verified"], order_by="verified"),
            Column("on_time", _("Closed on time"), lambda r: r["on_time"], order_by="on_time"),
            Column("late", _("Closed late"), lambda r: r["late"], order_by="late", display=False),
            Column("open", _("Not closed"), lambda r: r["open"], order_by="open", display=False),
            Column(
                "avg_days",
                _("Average days to close"),
                lambda r: r["avg_days"],
                order_by="avg_days",
            ),
            Column(
                "times_returned",
                _("Times returned"),
                lambda r: r["times_returned"],
                order_by="times_returned",
            ),
            Column("district", _("District"), lambda r: r["district_name"], order_by="district"),
            Column(
                "kind",
                _("Kind"),
                lambda r: OrgKind(r["unit_kind"]).label if r["unit_kind"] else "",
                display=False,
            ),
        ]

    def get_filterset(self):
        filterset = self.filterset_class(
            self.request.GET or None,
            queryset=Rectification.objects.none(),  # the table comes from visible_to(user)
            request=self.request,
        )
        return filterset, filterset.qs

    def get_ordering(self):
        return scorecards.ordering_for(self.request.GET.get("sort", ""))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["thresholds"] = scorecards.Thresholds.current()
        return context


class ScorecardDetailView(ObjectDetailView):
    """One unit's scorecard. Units outside what the user may see answer 404."""

    model = OrgUnit
    allowed_roles = scorecards.SCORECARD_ROLES
    template_name = "rectification/scorecard_detail.html"
    orders_shown = 100

    def get_visible_queryset(self):
        return scorecards.scorecard_units(self.request.user).select_related("district", "parent")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        unit, user = self.object, self.request.user
        filterset = scorecards.ScorecardFilterSet(self.request.GET or None, request=self.request)
        period = {}
        if filterset.is_bound and filterset.is_valid():
            period = {
                k: filterset.form.cleaned_data[k]
                for k in ("since", "until")
                if filterset.form.cleaned_data.get(k)
            }
        row = scorecards.unit_scorecards(user, unit=unit, **period).first()
        row = row or scorecards.empty_row(unit)
        orders = scorecards.unit_orders(user, unit, **period)
        order_total = orders.count()
        context.update(
            row=row,
            card_label=scorecards.card_label(row["card"]),
            card_colour=CARD_BADGE.get(row["card"], ""),
            reasons=scorecards.card_reasons(row),
            thresholds=scorecards.Thresholds.current(),
            period_form=filterset.form,
            period=period,
            orders=list(
                orders.select_related("finding")[: self.orders_shown] if order_total else []
            ),
            order_total=order_total,
            orders_shown=self.orders_shown,
            repeat_findings=list(scorecards.unit_repeat_findings(user, unit, **period)[:50]),
            list_url=reverse("rectification:scorecard-list")
            + (f"?{urlencode({k: v.isoformat() for k, v in period.items()})}" if period else ""),
        )
        return context


urlpatterns: list = [
    path("scorecards/", ScorecardListView.as_view(), name="scorecard-list"),
    path("scorecards/<int:pk>/", ScorecardDetailView.as_view(), name="scorecard-detail"),
]
