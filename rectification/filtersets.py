import django_filters
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civilaffairs.filtersets import SubtreeFilter, visible_districts, visible_units, yes_no_filter
from rectification.choices import RectificationState, SourceType
from rectification.models import Rectification


class RectificationFilterSet(django_filters.FilterSet):
    state = django_filters.MultipleChoiceFilter(
        choices=RectificationState.choices, label=_("State")
    )
    source_type = django_filters.ChoiceFilter(choices=SourceType.choices, label=_("Source"))
    unit = SubtreeFilter(
        field_name="responsible_unit",
        queryset=lambda r: visible_units(r),
        label=_("Unit (and below)"),
        empty_label=_("All"),
    )
    district = django_filters.ModelChoiceFilter(
        field_name="responsible_unit__district",
        queryset=visible_districts,
        label=_("District"),
        empty_label=_("All"),
    )
    department = SubtreeFilter(
        field_name="supervising_department",
        queryset=lambda r: visible_units(r, kind="department"),
        label=_("Supervising department"),
        empty_label=_("All"),
    )
    deadline_from = django_filters.DateFilter(
        field_name="deadline", lookup_expr="gte", label=_("Deadline from")
    )
    deadline_to = django_filters.DateFilter(
        field_name="deadline", lookup_expr="lte", label=_("Deadline to")
    )
    overdue = yes_no_filter(method="filter_overdue", label=_("Overdue"))

    class Meta:
        model = Rectification
        fields = [
            "state",
            "source_type",
            "unit",
            "district",
            "department",
            "deadline_from",
            "deadline_to",
            "overdue",
        ]

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = queryset.open().filter(deadline__lt=timezone.localdate())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))
