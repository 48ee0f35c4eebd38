import datetime as dt

import django_filters
from django import forms
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import Role as RoleCode
from civilaffairs.filtersets import (
    LocalDayFilter,
    ShortSelect,
    SubtreeFilter,
    visible_districts,
    visible_units,
    yes_no_filter,
)
from civilaffairs.workdays import add_working_days
from rectification.choices import (
    OPEN_STATES,
    CommitmentStanding,
    ComplaintChannel,
    ComplaintDomain,
    ComplaintNature,
    ComplaintState,
    ExtensionState,
    RectificationState,
    Satisfaction,
    SourceType,
)
from rectification.models import Commitment, Complaint, ExtensionRequest, Rectification


class OverdueLevel:
    """The status palette's warnings: yellow before the deadline, red past it."""

    YELLOW = "yellow"
    RED = "red"
    choices = ((YELLOW, _("Due soon (yellow)")), (RED, _("Overdue (red)")))


def due_soon_limit(today: dt.date | None = None, calendar=None) -> dt.date:
    """The last deadline that counts as "due soon" today: RECTIFICATION_DUE_SOON_DAYS working
    days from today (two queries for the calendar, whatever the number of orders; none with a
    ``calendar`` snapshot covering the days)."""
    today = today or timezone.localdate()
    return add_working_days(today, settings.RECTIFICATION_DUE_SOON_DAYS, calendar=calendar).date


class RectificationFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    # distinct=False on every state filter: a column of the row itself can make no duplicates,
    # and DISTINCT made PostgreSQL sort whole rows for each page.
    state = django_filters.MultipleChoiceFilter(
        distinct=False, choices=RectificationState.choices, label=_("State")
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
        widget=ShortSelect(label="name"),
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
    dispatched_from = LocalDayFilter(
        field_name="dispatched_at", lookup_expr="gte", label=_("Dispatched from")
    )
    dispatched_to = LocalDayFilter(
        field_name="dispatched_at", lookup_expr="lte", label=_("Dispatched to")
    )
    closed_on_time = yes_no_filter(method="filter_closed_on_time", label=_("Closed on time"))
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
            "dispatched_from",
            "dispatched_to",
            "closed_on_time",
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

    def filter_closed_on_time(self, queryset, name, value):
        """Verified orders closed on or before their deadline (local date), or the others."""
        if value is None:
            return queryset
        verified = queryset.filter(state=RectificationState.VERIFIED)
        on_time = Q(closed_at__date__lte=F("deadline"))
        return verified.filter(on_time) if value else verified.exclude(on_time)

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


class ComplaintFilterSet(django_filters.FilterSet):
    """The complaint list, the figures page's drill-down and the API share it: a figure's
    link is a query of these filters."""

    q = django_filters.CharFilter(method="search", label=_("Search"))
    channel = django_filters.ChoiceFilter(
        choices=ComplaintChannel.choices, label=_("Channel"), empty_label=_("All")
    )
    domain = django_filters.ChoiceFilter(
        choices=ComplaintDomain.choices, label=_("Domain"), empty_label=_("All")
    )
    nature = django_filters.ChoiceFilter(
        choices=ComplaintNature.choices, label=_("Nature"), empty_label=_("All")
    )
    state = django_filters.MultipleChoiceFilter(
        distinct=False, choices=ComplaintState.choices, label=_("State")
    )
    unit = SubtreeFilter(
        field_name="order__responsible_unit",
        queryset=lambda r: visible_units(r),
        label=_("Handling unit (and below)"),
        empty_label=_("All"),
    )
    district = django_filters.ModelChoiceFilter(
        queryset=visible_districts,
        widget=ShortSelect(label="name"),
        method="filter_district",
        label=_("District"),
        empty_label=_("All"),
    )
    overdue = yes_no_filter(method="filter_overdue", label=_("Overdue"))
    received_from = django_filters.DateFilter(
        field_name="received_at", lookup_expr="date__gte", label=_("Received from")
    )
    received_to = django_filters.DateFilter(
        field_name="received_at", lookup_expr="date__lte", label=_("Received to")
    )
    satisfaction = django_filters.ChoiceFilter(
        choices=Satisfaction.choices, label=_("Satisfaction"), empty_label=_("All")
    )
    merged = yes_no_filter(method="filter_merged", label=_("Merged duplicates"))
    replied = yes_no_filter(
        field_name="reply_on_time", method="filter_isnull_not", label=_("Replied")
    )
    replied_on_time = yes_no_filter(field_name="reply_on_time", label=_("Replied on time"))
    visited = yes_no_filter(method="filter_visited", label=_("Return visit made"))
    contented = yes_no_filter(method="filter_contented", label=_("Satisfied or basically"))
    # The complainant is found by the whole number only (blind index of the encrypted value),
    # and only among the cases whose contact the reader may reveal.
    phone = django_filters.CharFilter(
        method="filter_contact",
        label=_("Complainant's phone (whole number)"),
        max_length=30,
    )
    id_number = django_filters.CharFilter(
        method="filter_contact",
        label=_("Complainant's ID number (whole number)"),
        max_length=18,
    )

    class Meta:
        model = Complaint
        fields = [
            "q",
            "channel",
            "domain",
            "nature",
            "state",
            "unit",
            "district",
            "overdue",
            "received_from",
            "received_to",
            "satisfaction",
            "merged",
            "replied",
            "replied_on_time",
            "visited",
            "contented",
            "phone",
            "id_number",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = getattr(self.request, "user", None)
        if user is not None and not _may_reveal_some(user):
            # Leaders and the like reveal no contact: their search by one finds nothing (the
            # API says so), and the page does not offer it.
            for name in ("phone", "id_number"):
                self.filters[name].extra["widget"] = forms.HiddenInput

    def search(self, queryset, name, value):
        """Number, summary, content, referring body or its number; never the complainant
        (searching by a masked field would reveal it; see filter_contact)."""
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value)
            | Q(title__icontains=value)
            | Q(content__icontains=value)
            | Q(referring_body__icontains=value)
            | Q(reference_number__icontains=value)
        )

    def filter_district(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(
            Q(district=value) | Q(district__isnull=True, order__responsible_unit__district=value)
        )

    def filter_overdue(self, queryset, name, value):
        if value is None:
            return queryset
        late = Q(
            state__in=[ComplaintState.TRIAGED, ComplaintState.REOPENED],
            order__state__in=list(OPEN_STATES),
            order__deadline__lt=timezone.localdate(),
        )
        return queryset.filter(late) if value else queryset.exclude(late)

    def filter_merged(self, queryset, name, value):
        if value is None:
            return queryset
        method = queryset.filter if value else queryset.exclude
        return method(state=ComplaintState.MERGED)

    def filter_isnull_not(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(**{f"{name}__isnull": not value})

    def filter_visited(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.exclude(satisfaction="") if value else queryset.filter(satisfaction="")

    def filter_contact(self, queryset, name, value):
        from rectification.complaints import contact_lookup

        value = (value or "").strip()
        if not value:
            return queryset
        user = getattr(self.request, "user", None)
        return contact_lookup(queryset, user, **{name: value})

    def filter_contented(self, queryset, name, value):
        if value is None:
            return queryset
        happy = Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASICALLY])
        return queryset.filter(happy) if value else queryset.exclude(happy)


def _may_reveal_some(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_role(
            RoleCode.SUPERVISOR, RoleCode.OFFICE_HEAD, RoleCode.UNIT_LIAISON, RoleCode.DEPARTMENT
        )
    )


class CommitmentFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    department = django_filters.ModelChoiceFilter(
        queryset=lambda r: visible_units(r, kind="department"),
        label=_("Responsible department"),
        empty_label=_("All"),
    )
    standing = django_filters.ChoiceFilter(
        choices=CommitmentStanding.choices,
        method="filter_standing",
        label=_("Standing"),
        empty_label=_("All"),
    )
    public = yes_no_filter(label=_("Published"))

    class Meta:
        model = Commitment
        fields = ["q", "department", "standing", "public"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(code__icontains=value) | Q(problem__icontains=value) | Q(promise__icontains=value)
        )

    def filter_standing(self, queryset, name, value):
        today = timezone.localdate()
        open_states = list(OPEN_STATES)
        if value == CommitmentStanding.FULFILLED:
            return queryset.filter(order__state=RectificationState.VERIFIED)
        if value == CommitmentStanding.WITHDRAWN:
            return queryset.filter(order__state=RectificationState.CANCELLED)
        if value == CommitmentStanding.OVERDUE:
            return queryset.filter(order__state__in=open_states, order__deadline__lt=today)
        if value == CommitmentStanding.IN_PROGRESS:
            return queryset.filter(order__state__in=open_states, order__deadline__gte=today)
        return queryset
