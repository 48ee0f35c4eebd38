"""Unit scorecards (单位考评, DESIGN §3.9): how each responsible unit handles its rectification
orders, with a yellow or red card where it falls short.

Figures, per responsible unit, over the orders the user may see (``visible_to``), cancelled
orders left out, optionally only those dispatched within a period:

- **orders**: orders dispatched to the unit;
- **open**: orders not yet verified (issued, acknowledged, reported or returned);
- **overdue**: open orders whose deadline has passed (deadline before today);
- **verified**: orders verified and closed; **on time** among them: closed on or before the
  deadline (the local date of ``closed_at`` ≤ ``deadline``); **late**: the others;
- **on-time rate** (按期整改率): on time ÷ (verified + overdue) × 100, one decimal. An overdue
  order that is still open is already not on time, so it counts against the unit now rather
  than only once it is closed. No verified and no overdue order: no rate (``None``);
- **average days to close**: calendar days from dispatch to closing (local dates) over the
  verified orders, one decimal;
- **times returned**: sum of the times the orders were returned after a failed verification.

Cards, by the thresholds in settings: a **red card** when the on-time rate is below
``SCORECARD_RED_ON_TIME_RATE`` percent or the overdue count is at or above
``SCORECARD_RED_OVERDUE``; otherwise a **yellow card** for ``SCORECARD_YELLOW_ON_TIME_RATE`` /
``SCORECARD_YELLOW_OVERDUE``. The rate compared is the one shown (one decimal). A unit without
orders has no card.

The whole table is one aggregate query grouped by unit; the card is computed in it, so the
card filter and the sort by card run in the database too."""

from dataclasses import dataclass
from decimal import Decimal

import django_filters
from django.conf import settings
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Func,
    IntegerField,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf, Round, TruncDate
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import OrgKind, Role
from civilaffairs.filtersets import ShortSelect, visible_districts
from civilaffairs.models import OrgUnit
from rectification.choices import OPEN_STATES, RectificationState
from rectification.models import Rectification

# Who may read scorecards (each sees only the orders visibility allows).
SCORECARD_ROLES = (
    Role.SUPERVISOR,
    Role.OFFICE_HEAD,
    Role.LEADER,
    Role.DEPARTMENT,
    Role.UNIT_LIAISON,
)

RED, YELLOW, NO_CARD = "red", "yellow", "none"
CARD_CHOICES = [
    (RED, _("Red card")),
    (YELLOW, _("Yellow card")),
    (NO_CARD, _("No card")),
]
CARD_FILTER_CHOICES = [
    ("carded", _("Yellow or red card")),
    *CARD_CHOICES,
]

# Metrics a table may be sorted by (name → annotation).
SORTABLE = {
    "unit": "unit_name",
    "district": "district_name",
    "orders": "orders",
    "open": "open",
    "overdue": "overdue",
    "verified": "verified",
    "on_time": "on_time",
    "late": "late",
    "on_time_rate": "on_time_rate",
    "avg_days": "avg_days",
    "times_returned": "times_returned",
    "card": "card_rank",
}
DEFAULT_ORDERING = ("-card_rank", "on_time_rate", "-overdue", "unit_name", "unit_id")


def ordering_for(sort: str) -> tuple[str, list]:
    """``sort`` is a SORTABLE name, ``-`` for descending; returns (the sort applied, or "" for
    the default worst-first order; the order_by terms). Units without a rate or an average
    go last whichever way such a column is sorted."""
    name = (sort or "").lstrip("-")
    if name not in SORTABLE:
        return "", list(DEFAULT_ORDERING)
    field = F(SORTABLE[name])
    first = field.desc(nulls_last=True) if sort.startswith("-") else field.asc(nulls_last=True)
    return sort, [first, "unit_name", "unit_id"]


@dataclass(frozen=True)
class Thresholds:
    """The card thresholds in force (percent for rates, a count for overdue orders)."""

    yellow_rate: int
    red_rate: int
    yellow_overdue: int
    red_overdue: int

    @classmethod
    def current(cls) -> "Thresholds":
        return cls(
            yellow_rate=settings.SCORECARD_YELLOW_ON_TIME_RATE,
            red_rate=settings.SCORECARD_RED_ON_TIME_RATE,
            yellow_overdue=settings.SCORECARD_YELLOW_OVERDUE,
            red_overdue=settings.SCORECARD_RED_OVERDUE,
        )


class DateMinus(Func):
    """``a - b`` of two dates: whole days as an integer (PostgreSQL date arithmetic)."""

    arg_joiner = " - "
    template = "(%(expressions)s)"
    output_field = IntegerField()


def _decimal(expression, places=1):
    return Round(expression, places, output_field=DecimalField(max_digits=9, decimal_places=1))


def unit_scorecards(
    user,
    *,
    since=None,
    until=None,
    district=None,
    unit_kind=None,
    card=None,
    unit=None,
    today=None,
):
    """The scorecard rows (dicts) of the units whose orders ``user`` may see — see the module
    docstring for what each figure means. ``since``/``until``: dispatched between these dates
    (inclusive, local); ``district``: units in that district; ``unit_kind``: an OrgKind;
    ``card``: red, yellow, none or carded (either colour); ``unit``: that unit only.

    One query. Rows carry unit_id, unit_name, unit_kind, district_id, district_name, the
    figures, on_time_rate and avg_days as Decimals (or None), card and card_rank (2 red,
    1 yellow, 0 none); they are ordered worst first."""
    today = today or timezone.localdate()
    limits = Thresholds.current()
    orders = Rectification.objects.visible_to(user).exclude(state=RectificationState.CANCELLED)
    if since:
        orders = orders.filter(dispatched_at__date__gte=since)
    if until:
        orders = orders.filter(dispatched_at__date__lte=until)
    if district:
        orders = orders.filter(responsible_unit__district=district)
    if unit_kind:
        orders = orders.filter(responsible_unit__kind=unit_kind)
    if unit:
        orders = orders.filter(responsible_unit=unit)

    verified = Q(state=RectificationState.VERIFIED)
    is_open = Q(state__in=OPEN_STATES)
    days_to_close = DateMinus(TruncDate("closed_at"), TruncDate("dispatched_at"))
    rows = (
        orders.values(
            unit_id=F("responsible_unit_id"),
            unit_name=F("responsible_unit__name"),
            unit_kind=F("responsible_unit__kind"),
            district_id=F("responsible_unit__district_id"),
            district_name=F("responsible_unit__district__name"),
        )
        .annotate(
            orders=Count("pk"),
            open=Count("pk", filter=is_open),
            overdue=Count("pk", filter=is_open & Q(deadline__lt=today)),
            verified=Count("pk", filter=verified),
            on_time=Count("pk", filter=verified & Q(closed_at__date__lte=F("deadline"))),
            times_returned=Coalesce(Sum("times_returned"), 0),
            avg_days=_decimal(
                Avg(
                    Cast(days_to_close, DecimalField(max_digits=9, decimal_places=2)),
                    filter=verified,
                )
            ),
        )
        .annotate(
            late=F("verified") - F("on_time"),
            on_time_rate=_decimal(
                ExpressionWrapper(
                    Cast(F("on_time"), DecimalField(max_digits=12, decimal_places=4))
                    * Value(Decimal(100))
                    / NullIf(F("verified") + F("overdue"), 0),
                    output_field=DecimalField(max_digits=12, decimal_places=4),
                )
            ),
        )
        .annotate(
            card_rank=Case(
                When(
                    Q(on_time_rate__lt=limits.red_rate) | Q(overdue__gte=limits.red_overdue),
                    then=Value(2),
                ),
                When(
                    Q(on_time_rate__lt=limits.yellow_rate) | Q(overdue__gte=limits.yellow_overdue),
                    then=Value(1),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
            card=Case(
                When(card_rank=2, then=Value(RED)),
                When(card_rank=1, then=Value(YELLOW)),
                default=Value(NO_CARD),
            ),
        )
    )
    if card == "carded":
        rows = rows.filter(card_rank__gt=0)
    elif card in (RED, YELLOW, NO_CARD):
        rows = rows.filter(card=card)
    return rows.order_by(*DEFAULT_ORDERING)


def empty_row(unit: OrgUnit) -> dict:
    """The row of a unit without orders (in the period): no figures, no card."""
    return {
        "unit_id": unit.pk,
        "unit_name": unit.name,
        "unit_kind": unit.kind,
        "district_id": unit.district_id,
        "district_name": unit.district.name if unit.district_id else None,
        "orders": 0,
        "open": 0,
        "overdue": 0,
        "verified": 0,
        "on_time": 0,
        "late": 0,
        "times_returned": 0,
        "avg_days": None,
        "on_time_rate": None,
        "card_rank": 0,
        "card": NO_CARD,
    }


def card_reasons(row: dict, limits: Thresholds | None = None) -> list[str]:
    """Why the row has its card, in words (empty without a card): the reasons of its colour."""
    limits = limits or Thresholds.current()
    if row["card"] == NO_CARD:
        return []
    rate_limit, overdue_limit = (
        (limits.red_rate, limits.red_overdue)
        if row["card"] == RED
        else (limits.yellow_rate, limits.yellow_overdue)
    )
    reasons = []
    rate = row["on_time_rate"]
    if rate is not None and rate < rate_limit:
        message = gettext("On-time rate %(rate)s%% is below %(limit)s%%.")
        reasons.append(message % {"rate": rate, "limit": rate_limit})
    if row["overdue"] >= overdue_limit:
        reasons.append(
            gettext("%(count)s overdue orders (the card starts at %(limit)s).")
            % {"count": row["overdue"], "limit": overdue_limit}
        )
    return reasons


def card_label(card: str) -> str:
    return str(dict(CARD_CHOICES).get(card, ""))


def unit_orders(user, unit, *, since=None, until=None, today=None):
    """The unit's orders ``user`` may see (dispatched in the period), newest first, each
    annotated ``is_overdue`` (open, deadline passed) and ``closed_on_time`` (verified by the
    deadline) by the same rules as the figures."""
    today = today or timezone.localdate()
    orders = Rectification.objects.visible_to(user).filter(responsible_unit=unit)
    if since:
        orders = orders.filter(dispatched_at__date__gte=since)
    if until:
        orders = orders.filter(dispatched_at__date__lte=until)
    return orders.annotate(
        is_overdue=ExpressionWrapper(
            Q(state__in=OPEN_STATES, deadline__lt=today), output_field=BooleanField()
        ),
        closed_on_time=ExpressionWrapper(
            Q(state=RectificationState.VERIFIED, closed_at__date__lte=F("deadline")),
            output_field=BooleanField(),
        ),
    ).order_by("-dispatched_at", "-pk")


def unit_repeat_findings(user, unit, *, since=None, until=None):
    """The unit's filed repeat findings ``user`` may see (found in the period), newest first."""
    from inspections.models import Finding

    findings = Finding.objects.visible_to(user).filed().repeats().filter(target=unit)
    if since:
        findings = findings.filter(found_at__date__gte=since)
    if until:
        findings = findings.filter(found_at__date__lte=until)
    return findings.order_by("-found_at", "-pk")


def scorecard_units(user):
    """Units whose scorecard ``user`` may open: those in the user's org scope and those with
    orders the user may see. Anything else answers 404."""
    if not user.has_role(*SCORECARD_ROLES):
        return OrgUnit.objects.none()
    in_scope = OrgUnit.objects.visible_to(user).values("pk")
    with_orders = Rectification.objects.visible_to(user).values("responsible_unit_id")
    return OrgUnit.objects.filter(Q(pk__in=in_scope) | Q(pk__in=with_orders))


class ScorecardFilterSet(django_filters.FilterSet):
    """The scorecard filters, shared by the page and the API. Its ``qs`` is the scorecard
    table itself (rows per unit), not orders."""

    since = django_filters.DateFilter(method="keep", label=_("Dispatched from"))
    until = django_filters.DateFilter(method="keep", label=_("Dispatched to"))
    district = django_filters.ModelChoiceFilter(
        field_name="responsible_unit__district",
        queryset=visible_districts,
        widget=ShortSelect(label="name"),
        method="keep",
        label=_("District"),
        empty_label=_("All"),
    )
    unit_kind = django_filters.ChoiceFilter(
        choices=OrgKind.choices, method="keep", label=_("Unit kind")
    )
    card = django_filters.ChoiceFilter(choices=CARD_FILTER_CHOICES, method="keep", label=_("Card"))

    class Meta:
        model = Rectification
        fields = ["since", "until", "district", "unit_kind", "card"]

    def keep(self, queryset, name, value):
        return queryset  # applied together in filter_queryset

    def is_valid(self):
        valid = super().is_valid()
        data = self.form.cleaned_data if valid else {}
        if valid and data.get("since") and data.get("until") and data["since"] > data["until"]:
            self.form.add_error("until", gettext("The period ends before it starts."))
            return False
        return valid

    def filter_queryset(self, queryset):
        # The orders handed in are not narrowed further: unit_scorecards starts from
        # visible_to(user) itself, so the table can never be built over the wrong orders.
        data = self.form.cleaned_data
        return unit_scorecards(
            self.request.user,
            since=data.get("since"),
            until=data.get("until"),
            district=data.get("district"),
            unit_kind=data.get("unit_kind") or None,
            card=data.get("card") or None,
        )

    @property
    def qs(self):
        # Unbound (no filters in the URL) is still the table, not the raw orders.
        if not hasattr(self, "_qs"):
            if not self.is_bound:
                self._qs = unit_scorecards(self.request.user)
            elif self.is_valid():
                self._qs = self.filter_queryset(self.queryset)
            else:
                self._qs = unit_scorecards(self.request.user).none()
        return self._qs
