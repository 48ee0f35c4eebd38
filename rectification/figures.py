"""Complaint figures: totals by channel, domain and nature, the closure rate, the on-time reply
rate and satisfaction. Rates are exact decimals rounded half up to one place (235 of 236 is
99.6%, 1 of 8 is 12.5%); a rate over nothing is None and shows as "—". Every figure is counted
from a queryset the caller already restricted with ``visible_to``, and each names the list
filter that shows the cases behind it, so a number and its list always agree."""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Q

from rectification.choices import (
    ComplaintChannel,
    ComplaintDomain,
    ComplaintNature,
    ComplaintState,
    Satisfaction,
)

ONE_PLACE = Decimal("0.1")


def percent(numerator: int, denominator: int) -> Decimal | None:
    """numerator / denominator as a percentage to one decimal, rounded half up."""
    if not denominator:
        return None
    return (Decimal(numerator) * 100 / Decimal(denominator)).quantize(
        ONE_PLACE, rounding=ROUND_HALF_UP
    )


def format_percent(value: Decimal | None) -> str:
    return "—" if value is None else f"{value}%"


@dataclass
class Figure:
    """A number and the list filter (query parameters) behind it."""

    label: str
    count: int
    query: dict = field(default_factory=dict)


@dataclass
class Rate:
    label: str
    numerator: Figure
    denominator: Figure

    @property
    def value(self) -> Decimal | None:
        return percent(self.numerator.count, self.denominator.count)

    @property
    def text(self) -> str:
        return format_percent(self.value)


@dataclass
class ComplaintFigures:
    total: Figure
    by_channel: list[Figure]
    by_domain: list[Figure]
    by_nature: list[Figure]
    closure: Rate
    on_time_reply: Rate
    satisfaction: list[Figure]
    satisfaction_rate: Rate


def complaint_figures(queryset, labels) -> ComplaintFigures:
    """Figures of the counted cases in ``queryset`` (merged duplicates are not cases). Two
    queries whatever the size. ``labels`` gives the translated labels of the headline
    figures: total, closed, replied, replied_on_time, visited, contented, and the rates'
    names closure, on_time, satisfaction."""
    counted = queryset.exclude(state=ComplaintState.MERGED)
    base = {"merged": "false"}
    totals = counted.aggregate(
        total=Count("pk"),
        closed=Count("pk", filter=Q(state=ComplaintState.CLOSED)),
        first_replied=Count("pk", filter=Q(reply_on_time__isnull=False)),
        on_time=Count("pk", filter=Q(reply_on_time=True)),
        visited=Count("pk", filter=~Q(satisfaction="")),
        contented=Count(
            "pk", filter=Q(satisfaction__in=[Satisfaction.SATISFIED, Satisfaction.BASICALLY])
        ),
        **{f"channel_{c}": Count("pk", filter=Q(channel=c)) for c in ComplaintChannel.values},
        **{f"domain_{c}": Count("pk", filter=Q(domain=c)) for c in ComplaintDomain.values},
        **{f"nature_{c}": Count("pk", filter=Q(nature=c)) for c in ComplaintNature.values},
        **{f"satisfaction_{c}": Count("pk", filter=Q(satisfaction=c)) for c in Satisfaction.values},
    )

    def by(name, choices):
        return [
            Figure(label, totals[f"{name}_{value}"], {**base, name: value})
            for value, label in choices
        ]

    total = Figure(labels["total"], totals["total"], base)
    replied = Figure(labels["replied"], totals["first_replied"], {**base, "replied": "true"})
    visited = Figure(labels["visited"], totals["visited"], {**base, "visited": "true"})
    return ComplaintFigures(
        total=total,
        by_channel=by("channel", ComplaintChannel.choices),
        by_domain=by("domain", ComplaintDomain.choices),
        by_nature=by("nature", ComplaintNature.choices),
        closure=Rate(
            labels["closure"],
            Figure(labels["closed"], totals["closed"], {**base, "state": ComplaintState.CLOSED}),
            total,
        ),
        on_time_reply=Rate(
            labels["on_time"],
            Figure(
                labels["replied_on_time"], totals["on_time"], {**base, "replied_on_time": "true"}
            ),
            replied,
        ),
        satisfaction=by("satisfaction", Satisfaction.choices),
        satisfaction_rate=Rate(
            labels["satisfaction"],
            Figure(labels["contented"], totals["contented"], {**base, "contented": "true"}),
            visited,
        ),
    )
