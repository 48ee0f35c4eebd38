"""The one filterset of flash reports, shared by the archive page and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civilaffairs.filtersets import yes_no_filter
from reports.choices import FlashState
from reports.models import FlashReport


class FlashReportFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    year = django_filters.NumberFilter(method="filter_year", label=_("Year"))
    state = django_filters.MultipleChoiceFilter(
        distinct=False, choices=FlashState.choices, label=_("State")
    )
    on_time = yes_no_filter(label=_("Same day"))
    found_from = django_filters.DateFilter(
        field_name="found_at", lookup_expr="date__gte", label=_("Found from")
    )
    found_to = django_filters.DateFilter(
        field_name="found_at", lookup_expr="date__lte", label=_("Found until")
    )

    class Meta:
        model = FlashReport
        fields = ["q", "year", "state", "on_time", "found_from", "found_to"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        condition = (
            Q(title__icontains=value)
            | Q(situation__icontains=value)
            | Q(problems__icontains=value)
            | Q(issuing_office__icontains=value)
        )
        if value.isdigit():
            condition |= Q(serial=int(value))
        return queryset.filter(condition)

    def filter_year(self, queryset, name, value):
        """The issue year of a signed report, else the year its matter was found."""
        if value is None:
            return queryset
        year = int(value)
        return queryset.filter(Q(year=year) | Q(year__isnull=True, found_at__year=year))
