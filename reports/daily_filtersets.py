"""The one filterset of daily bottom-line reports, shared by the list of reports (and its
ledger) and the API."""

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from civilaffairs.filtersets import SubtreeFilter, visible_districts, visible_units, yes_no_filter
from reports.choices import LineStatus
from reports.models import DailyReport, DailyReportLine, SensitivePeriod


class ReportStatus:
    """How a report was filed: on time or late; a nil report; one with an abnormal line."""

    ON_TIME = "on_time"
    LATE = "late"
    NIL = "nil"
    ABNORMAL = "abnormal"
    choices = (
        (ON_TIME, _("Filed on time")),
        (LATE, _("Filed late")),
        (NIL, _("Nil report")),
        (ABNORMAL, _("Has abnormal lines")),
    )


def _visible_periods(request):
    if request is None:
        return SensitivePeriod.objects.none()
    return SensitivePeriod.objects.visible_to(request.user)


def _reporting_units(request):
    """Units of the user's view that report in some period (not the whole org tree)."""
    return visible_units(request).filter(
        pk__in=SensitivePeriod.units.through.objects.values("orgunit_id")
    )


def abnormal_lines():
    return DailyReportLine.objects.filter(report=OuterRef("pk"), status=LineStatus.ABNORMAL)


class DailyReportFilterSet(django_filters.FilterSet):
    period = django_filters.ModelChoiceFilter(
        queryset=_visible_periods, label=_("Sensitive period"), empty_label=_("All")
    )
    district = django_filters.ModelChoiceFilter(
        field_name="unit__district",
        queryset=visible_districts,
        label=_("District"),
        empty_label=_("All"),
    )
    unit = SubtreeFilter(
        field_name="unit",
        queryset=_reporting_units,
        label=_("Unit (and below)"),
        empty_label=_("All"),
    )
    day_from = django_filters.DateFilter(field_name="day", lookup_expr="gte", label=_("From"))
    day_to = django_filters.DateFilter(field_name="day", lookup_expr="lte", label=_("To"))
    status = django_filters.ChoiceFilter(
        choices=ReportStatus.choices,
        method="filter_status",
        label=_("Status"),
        empty_label=_("All"),
    )

    class Meta:
        model = DailyReport
        fields = ["period", "district", "unit", "day_from", "day_to", "status"]

    def filter_status(self, queryset, name, value):
        if value == ReportStatus.ON_TIME:
            return queryset.filter(late=False)
        if value == ReportStatus.LATE:
            return queryset.filter(late=True)
        if value == ReportStatus.NIL:
            return queryset.filter(nil=True)
        if value == ReportStatus.ABNORMAL:
            return queryset.filter(Exists(abnormal_lines()))
        return queryset


class DailyReportApiFilterSet(DailyReportFilterSet):
    """The page's filters, and the exact ones API clients used before them."""

    day = django_filters.DateFilter(label=_("Day"))
    late = yes_no_filter(label=_("Filed late"))
    nil = yes_no_filter(label=_("Nil report"))

    class Meta(DailyReportFilterSet.Meta):
        fields = [*DailyReportFilterSet.Meta.fields, "day", "late", "nil"]
