"""One FilterSet per model, shared by the bureau pages, the mobile pages and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import BottomLine, InstitutionType, OrgKind
from civilaffairs.filtersets import (
    LocalDayFilter,
    ShortSelect,
    SubtreeFilter,
    recent_plans,
    visible_districts,
    visible_units,
    yes_no_filter,
)
from inspections.choices import (
    Category,
    Disposition,
    FindingState,
    InspectionMethod,
    PlanState,
    Severity,
    VisitState,
)
from inspections.models import Finding, InspectionPlan, Visit


def visible_plans(request):
    if request is None:
        return InspectionPlan.objects.none()
    return InspectionPlan.objects.visible_to(request.user)


class PlanFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    method = django_filters.ChoiceFilter(choices=InspectionMethod.choices, label=_("Method"))
    state = django_filters.ChoiceFilter(choices=PlanState.choices, label=_("State"))
    since = django_filters.DateFilter(field_name="period_end", lookup_expr="gte", label=_("From"))
    until = django_filters.DateFilter(field_name="period_start", lookup_expr="lte", label=_("To"))

    class Meta:
        model = InspectionPlan
        fields = ["q", "method", "state", "since", "until"]

    def search(self, queryset, name, value):
        value = value.strip()
        return (
            queryset.filter(Q(title__icontains=value) | Q(code__icontains=value))
            if value
            else queryset
        )


class VisitFilterSet(django_filters.FilterSet):
    assigned = django_filters.ChoiceFilter(
        choices=[("me", _("Assigned to me"))], method="filter_assigned", label=_("Assigned")
    )
    plan = django_filters.ModelChoiceFilter(
        queryset=visible_plans,
        label=_("Plan"),
        empty_label=_("All"),
        widget=ShortSelect(shown=recent_plans, label="title"),
    )
    state = django_filters.MultipleChoiceFilter(
        distinct=False, choices=VisitState.choices, label=_("State")
    )
    district = django_filters.ModelChoiceFilter(
        field_name="target__district",
        queryset=visible_districts,
        widget=ShortSelect(label="name"),
        label=_("District"),
        empty_label=_("All"),
    )
    unit = SubtreeFilter(
        field_name="target",
        queryset=lambda r: visible_units(r),
        label=_("Unit (and below)"),
        empty_label=_("All"),
    )
    since = django_filters.DateFilter(
        field_name="scheduled_date", lookup_expr="gte", label=_("From")
    )
    until = django_filters.DateFilter(field_name="scheduled_date", lookup_expr="lte", label=_("To"))

    class Meta:
        model = Visit
        fields = ["assigned", "plan", "state", "district", "unit", "since", "until"]

    def filter_assigned(self, queryset, name, value):
        if value == "me" and self.request is not None:
            return queryset.filter(inspectors=self.request.user)
        return queryset


class FindingFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    plan = django_filters.ModelChoiceFilter(
        field_name="visit__plan",
        queryset=visible_plans,
        label=_("Plan"),
        empty_label=_("All"),
        widget=ShortSelect(shown=recent_plans, label="title"),
    )
    district = django_filters.ModelChoiceFilter(
        field_name="target__district",
        queryset=visible_districts,
        widget=ShortSelect(label="name"),
        label=_("District"),
        empty_label=_("All"),
    )
    unit = SubtreeFilter(
        field_name="target",
        queryset=lambda r: visible_units(r),
        label=_("Unit (and below)"),
        empty_label=_("All"),
    )
    target_kind = django_filters.ChoiceFilter(
        field_name="target__kind", choices=OrgKind.choices, label=_("Unit kind")
    )
    institution_type = django_filters.ChoiceFilter(
        field_name="target__institution_type",
        choices=InstitutionType.choices,
        label=_("Institution type"),
    )
    category = django_filters.ChoiceFilter(choices=Category.choices, label=_("Category"))
    bottom_line = django_filters.ChoiceFilter(choices=BottomLine.choices, label=_("Bottom line"))
    severity = django_filters.ChoiceFilter(choices=Severity.choices, label=_("Severity"))
    disposition = django_filters.ChoiceFilter(choices=Disposition.choices, label=_("Disposition"))
    state = django_filters.ChoiceFilter(choices=FindingState.choices, label=_("State"))
    repeat = yes_no_filter(method="filter_repeat", label=_("Repeat problem"))
    filed = yes_no_filter(method="filter_filed", label=_("Filed"))
    since = LocalDayFilter(field_name="found_at", lookup_expr="gte", label=_("From"))
    until = LocalDayFilter(field_name="found_at", lookup_expr="lte", label=_("To"))

    class Meta:
        model = Finding
        fields = [
            "q",
            "plan",
            "district",
            "unit",
            "target_kind",
            "institution_type",
            "category",
            "bottom_line",
            "severity",
            "disposition",
            "state",
            "repeat",
            "filed",
            "since",
            "until",
        ]

    def filter_filed(self, queryset, name, value):
        """Filed findings (not drafts of a visit still on site), or only the drafts."""
        if value is None:
            return queryset
        return queryset.exclude(state="draft") if value else queryset.filter(state="draft")

    def filter_repeat(self, queryset, name, value):
        return queryset if value is None else queryset.repeats(value)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(title__icontains=value)
            | Q(description__icontains=value)
            | Q(code__icontains=value)
            | Q(target__name__icontains=value)
        )
