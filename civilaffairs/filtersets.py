"""One FilterSet per model, shared by the pages and the API."""

import copy
import datetime as dt

import django_filters
from django import forms
from django.db.models import Q
from django.forms.models import ModelChoiceIterator
from django.utils import timezone
from django.utils.html import conditional_escape
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from civilaffairs import choice_cache
from civilaffairs.choices import InstitutionType, NotificationKind, OrgKind, Role
from civilaffairs.models import AuditEvent, Notification, OrgUnit, User


class AllYesNoSelect(django_filters.widgets.BooleanWidget):
    """全部 / 是 / 否, instead of "unknown"."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.choices = (("", _("All")), ("true", _("Yes")), ("false", _("No")))


def yes_no_filter(**kwargs):
    return django_filters.BooleanFilter(widget=AllYesNoSelect, **kwargs)


class ShortSelect(forms.Select):
    """A select of model choices that lists at most ``limit`` of them: those of
    ``shown(queryset)`` (e.g. no institutions: a city has 20,000 units, and a page with a
    select of all of them is megabytes and seconds to render), plus the one selected. The field
    still accepts any id of its whole queryset (links from the dashboard, the API).

    With ``label`` (the model field that is the object's ``str()``), the choices are read as
    (id, label) pairs rather than whole objects: 500 model instances per select were a third
    of a list page's time at city scale."""

    def __init__(self, attrs=None, *, shown=None, limit=500, label=None):
        super().__init__(attrs)
        self.shown, self.limit, self.selected, self.label = shown, limit, None, label

    def __deepcopy__(self, memo):
        obj = copy.copy(self)
        obj.attrs = self.attrs.copy()
        obj._choices = copy.copy(self._choices)
        memo[id(self)] = obj
        return obj

    def value_from_datadict(self, data, files, name):
        self.selected = super().value_from_datadict(data, files, name)
        return self.selected

    @property
    def choices(self):
        iterator = self._choices
        if not isinstance(iterator, ModelChoiceIterator):
            return iterator
        queryset = iterator.queryset
        narrow = self.shown(queryset) if self.shown else queryset
        if self.label:
            narrow, queryset = (q.values_list("pk", self.label) for q in (narrow, queryset))
        # (id, escaped label) pairs are kept in the cache until a unit or plan changes.
        page = narrow[: self.limit]
        rows = choice_cache.rows(page, escaped_labels) if self.label else list(page)
        selected = str(self.selected or "")
        shown = {row[0] if self.label else row.pk for row in rows}
        if selected.isdigit() and int(selected) not in shown:
            rows += list(queryset.filter(pk=int(selected)))
        empty = iterator.field.empty_label
        choices = rows if self.label else [iterator.choice(o) for o in rows]
        return ([("", empty)] if empty is not None else []) + choices

    @choices.setter
    def choices(self, value):
        self._choices = value


def escaped_labels(rows) -> list[tuple]:
    """(id, label) pairs with the label escaped once, for keeping (a page then escapes none)."""
    return [(pk, conditional_escape(label)) for pk, label in rows]


def without_institutions(units):
    return units.exclude(kind=OrgKind.INSTITUTION)


def recent_plans(plans):
    return plans.order_by("-period_start", "-pk")


@extend_schema_field(OpenApiTypes.INT)
class SubtreeFilter(django_filters.ModelChoiceFilter):
    """A unit id; matches objects in that unit's subtree (``field_name`` leads to OrgUnit). The
    page lists the units above the institutions (see ShortSelect); an institution is found by
    the search box, or comes with a link."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", ShortSelect(shown=without_institutions, label="name"))
        super().__init__(*args, **kwargs)

    def filter(self, queryset, value):
        if not value:
            return queryset
        prefix = f"{self.field_name}__" if self.field_name else ""
        return queryset.filter(**{f"{prefix}path__startswith": value.path})


class LocalDayFilter(django_filters.DateFilter):
    """A local day on a datetime field, matched as a range of instants: ``gte`` from that
    day's midnight, ``lte`` up to the next day's midnight. Same rows as ``field__date__gte`` /
    ``__date__lte``, but an index on the field can serve it (no cast of every row's time)."""

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        zone = timezone.get_current_timezone()
        if self.lookup_expr == "gte":
            lookup, day = "gte", value
        elif self.lookup_expr == "lte":
            lookup, day = "lt", value + dt.timedelta(days=1)
        else:  # pragma: no cover - declared with gte or lte only
            raise ValueError(self.lookup_expr)
        bound = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
        return self.get_method(qs)(**{f"{self.field_name}__{lookup}": bound})


def visible_units(request, **filters):
    if request is None:
        return OrgUnit.objects.none()
    return OrgUnit.objects.visible_to(request.user).filter(**filters)


def visible_districts(request):
    return visible_units(request, kind=OrgKind.DISTRICT_BUREAU)


class OrgUnitFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=OrgKind.choices, label=_("Kind"))
    institution_type = django_filters.ChoiceFilter(
        choices=InstitutionType.choices, label=_("Institution type")
    )
    district = django_filters.ModelChoiceFilter(
        queryset=visible_districts,
        widget=ShortSelect(label="name"),
        label=_("District"),
        empty_label=_("All"),
    )
    within = SubtreeFilter(
        field_name="", queryset=lambda request: visible_units(request), label=_("Within unit")
    )
    active = yes_no_filter(label=_("Active"))
    visited_from = django_filters.DateFilter(method="filter_visited", label=_("Inspected from"))
    visited_to = django_filters.DateFilter(method="filter_visited", label=_("Inspected until"))

    class Meta:
        model = OrgUnit
        fields = [
            "q",
            "kind",
            "institution_type",
            "district",
            "within",
            "active",
            "visited_from",
            "visited_to",
        ]

    def filter_visited(self, queryset, name, value):
        """Units with a submitted inspection visit (one the user may see) in the period: the
        targets an inspection covered. Both bounds are applied together, once."""
        data = self.form.cleaned_data
        if name == "visited_to" and data.get("visited_from"):
            return queryset  # applied with visited_from
        from inspections.models import Visit

        visits = Visit.objects.visible_to(self.request.user).filter(state="submitted")
        if data.get("visited_from"):
            visits = visits.filter(scheduled_date__gte=data["visited_from"])
        if data.get("visited_to"):
            visits = visits.filter(scheduled_date__lte=data["visited_to"])
        return queryset.filter(pk__in=visits.values("target_id"))

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(code__icontains=value)
            | Q(address__icontains=value)
            | Q(short_name__icontains=value)
        )


class UserFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    role = django_filters.ChoiceFilter(choices=Role.choices, method="filter_role", label=_("Role"))
    org_unit = SubtreeFilter(
        field_name="org_unit",
        queryset=lambda request: visible_units(request),
        label=_("Org unit (and below)"),
    )
    is_active = yes_no_filter(label=_("Active"))

    class Meta:
        model = User
        fields = ["q", "role", "org_unit", "is_active"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(username__icontains=value) | Q(real_name__icontains=value) | Q(title__icontains=value)
        )

    def filter_role(self, queryset, name, value):
        return queryset.filter(roles__role=value).distinct() if value else queryset


class AuditEventFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    action = django_filters.CharFilter(lookup_expr="startswith", label=_("Action"))
    object_type = django_filters.CharFilter(label=_("Object type"))
    actor = django_filters.CharFilter(method="filter_actor", label=_("Actor"))
    ip = django_filters.CharFilter(label=_("IP address"))
    since = django_filters.DateFilter(field_name="at", lookup_expr="date__gte", label=_("From"))
    until = django_filters.DateFilter(field_name="at", lookup_expr="date__lte", label=_("To"))

    class Meta:
        model = AuditEvent
        fields = ["q", "action", "object_type", "actor", "ip", "since", "until"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(summary__icontains=value) | Q(object_repr__icontains=value) | Q(object_id=value)
        )

    def filter_actor(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(actor_name__icontains=value) | Q(actor__username=value))


class NotificationFilterSet(django_filters.FilterSet):
    unread = yes_no_filter(field_name="read_at", method="filter_unread", label=_("Unread"))
    kind = django_filters.ChoiceFilter(choices=NotificationKind.choices, label=_("Kind"))
    since = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__gte", label=_("From")
    )
    until = django_filters.DateFilter(
        field_name="created_at", lookup_expr="date__lte", label=_("To")
    )

    class Meta:
        model = Notification
        fields = ["unread", "kind", "since", "until"]

    def filter_unread(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(read_at__isnull=value)
