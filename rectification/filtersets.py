import datetime as dt

import django_filters
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civilaffairs.filtersets import SubtreeFilter, visible_districts, visible_units, yes_no_filter
from civilaffairs.workdays import add_working_days
from rectification.choices import ExtensionState, RectificationState, SourceType
from rectification.models import ExtensionRequest, Rectification


class OverdueLevel:
    """The status palette's warnings: yellow before the deadline, red past it."""

    YELLOW = "yellow"
    RED = "red"
    choices = ((YELLOW, _("Due soon (yellow)")), (RED, _("Overdue (red)")))


def due_soon_limit(today: dt.date | None = None) -> dt.date:
    """The last deadline that counts as "due soon" today: RECTIFICATION_DUE_SOON_DAYS working
    days from today (two queries for the calendar, whatever the number of orders)."""
    today = today or timezone.localdate()
    return add_working_days(today, settings.RECTIFICATION_DUE_SOON_DAYS).date


class RectificationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
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
    overdue_level = django_filters.ChoiceFilter(
        choices=OverdueLevel.choices,
        method="filter_overdue_level",
        label=_("Deadline warning"),
        empty_label=_("All"),
    )
    pending_extension = yes_no_filter(
        method="filter_pending_extension", label=_("Extension awaiting approval")
    )

    class Meta:
        model = Rectification
        fields = [
            "q",
            "state",
            "source_type",
            "unit",
            "district",
            "department",
            "deadline_from",
            "deadline_to",
            "overdue",
            "overdue_level",
            "pending_extension",
        ]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value)
            | Q(title__icontains=value)
            | Q(responsible_unit__name__icontains=value)
        )

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        overdue = queryset.open().filter(deadline__lt=timezone.localdate())
        return overdue if value else queryset.exclude(pk__in=overdue.values("pk"))

    def filter_overdue_level(self, queryset, name, value):
        today = timezone.localdate()
        if value == OverdueLevel.RED:
            return queryset.open().filter(deadline__lt=today)
        if value == OverdueLevel.YELLOW:
            return queryset.open().filter(deadline__gte=today, deadline__lte=due_soon_limit(today))
        return queryset

    def filter_pending_extension(self, queryset, name, value):
        if value is None:
            return queryset
        pending = ExtensionRequest.objects.filter(state=ExtensionState.PENDING)
        method = queryset.filter if value else queryset.exclude
        return method(pk__in=pending.values("rectification_id"))


class ExtensionRequestFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(
        choices=ExtensionState.choices, label=_("State"), empty_label=_("All")
    )
    rectification = django_filters.NumberFilter(label=_("Rectification order"))

    class Meta:
        model = ExtensionRequest
        fields = ["state", "rectification"]
