"""The leadership dashboard (领导驾驶舱, DESIGN §3.9): where the system stands, for a period and
optionally one district, as seen by one user.

Every figure is the count of a list page: it is computed by that page's own FilterSet over
``Model.objects.visible_to(user)`` with the same parameters its link carries, so the number on
the dashboard and the count of the list behind it cannot disagree, and nothing a user may not
see (an unannounced plan, another district) is ever counted. Breakdowns and trends group that
same filtered queryset by a field that one filter of the list matches exactly (district,
category, severity, …), so each bar and cell links to its list too.

Rates are shares of two linked figures, to one decimal, rounded half up; no denominator, no
rate ("—").

Computing the whole dashboard takes a few dozen aggregate queries. ``dashboard_for`` serves a
stored snapshot (``DashboardSnapshot``) when one for the same viewer scope and filters is
fresh, and a Celery task refreshes the snapshots people have looked at recently, so a leader
opens the page at once; the page shows when its figures were computed."""

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncMonth, TruncWeek
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civilaffairs.choices import BottomLine, InstitutionType, OrgKind, Role
from civilaffairs.filtersets import OrgUnitFilterSet
from civilaffairs.models import OrgUnit

# Who sees the dashboard: the leadership and the office (each within their visibility).
DASHBOARD_ROLES = (Role.LEADER, Role.OFFICE_HEAD, Role.SUPERVISOR)

PRESETS = ("week", "month", "quarter", "year")


@dataclass
class Filters:
    since: dt.date
    until: dt.date
    district_id: int | None = None
    district_name: str = ""
    preset: str = ""

    def params(self) -> dict:
        out = {"since": self.since.isoformat(), "until": self.until.isoformat()}
        if self.district_id:
            out["district"] = str(self.district_id)
        return out

    def key(self) -> str:
        return f"{self.since}:{self.until}:{self.district_id or ''}"


@dataclass
class Figure:
    key: str
    label: str
    value: int | None
    url: str = ""
    hint: str = ""


@dataclass
class Rate:
    key: str
    label: str
    numerator: str  # figure keys
    denominator: str
    value: str | None  # "99.6" or None
    hint: str = ""


@dataclass
class Row:
    label: str
    value: int
    url: str
    extra: dict = field(default_factory=dict)


@dataclass
class Series:
    key: str
    title: str
    rows: list[Row]


@dataclass
class Dashboard:
    filters: Filters
    computed_at: dt.datetime
    figures: dict[str, Figure]
    rates: dict[str, Rate]
    breakdowns: dict[str, Series]
    trends: dict[str, Series]
    overdue: list[dict]
    repeats: list[Row]
    cards: list[dict]
    from_snapshot: bool = False

    def figure(self, key) -> Figure:
        return self.figures[key]

    def to_json(self) -> str:
        data = asdict(self)
        data["computed_at"] = self.computed_at.isoformat()
        data["filters"]["since"] = self.filters.since.isoformat()
        data["filters"]["until"] = self.filters.until.isoformat()
        return json.dumps(data, ensure_ascii=False, default=str)

    @classmethod
    def from_json(cls, text: str) -> "Dashboard":
        data = json.loads(text)
        filters = Filters(
            since=dt.date.fromisoformat(data["filters"]["since"]),
            until=dt.date.fromisoformat(data["filters"]["until"]),
            district_id=data["filters"]["district_id"],
            district_name=data["filters"]["district_name"],
            preset=data["filters"]["preset"],
        )

        def series(items):
            return {
                k: Series(v["key"], v["title"], [Row(**r) for r in v["rows"]])
                for k, v in items.items()
            }

        return cls(
            filters=filters,
            computed_at=dt.datetime.fromisoformat(data["computed_at"]),
            figures={k: Figure(**v) for k, v in data["figures"].items()},
            rates={k: Rate(**v) for k, v in data["rates"].items()},
            breakdowns=series(data["breakdowns"]),
            trends=series(data["trends"]),
            overdue=data["overdue"],
            repeats=[Row(**r) for r in data["repeats"]],
            cards=data["cards"],
            from_snapshot=True,
        )


# --- filters -------------------------------------------------------------------------------


def preset_range(preset: str, today: dt.date) -> tuple[dt.date, dt.date]:
    if preset == "week":
        return today - dt.timedelta(days=today.weekday()), today
    if preset == "quarter":
        first_month = 3 * ((today.month - 1) // 3) + 1
        return today.replace(month=first_month, day=1), today
    if preset == "year":
        return today.replace(month=1, day=1), today
    return today.replace(day=1), today


def parse_filters(user, data) -> tuple[Filters, list[str]]:
    """The dashboard's filters from a query (period preset or dates, district). Bad input is
    reported in Chinese and replaced by the default (this month, all districts)."""
    today = timezone.localdate()
    errors: list[str] = []
    preset = data.get("preset") or ""
    if preset and preset not in PRESETS:
        errors.append(_("Unknown period."))
        preset = ""
    since, until = preset_range(preset or "month", today)
    raw_since, raw_until = data.get("since") or "", data.get("until") or ""
    if (raw_since or raw_until) and (raw_since, raw_until) != (
        since.isoformat(),
        until.isoformat(),
    ):
        # Dates other than the preset's own: a custom period.
        try:
            custom = (
                dt.date.fromisoformat(raw_since) if raw_since else since,
                dt.date.fromisoformat(raw_until) if raw_until else until,
            )
        except ValueError:
            errors.append(_("Enter dates as YYYY-MM-DD."))
        else:
            if custom[0] > custom[1]:
                errors.append(_("The period ends before it starts."))
            elif (custom[1] - custom[0]).days > 3660:
                errors.append(_("The period may be at most ten years."))
            else:
                (since, until), preset = custom, ""
    elif not preset:
        preset = "month"
    filters = Filters(since=since, until=until, preset=preset)
    raw = data.get("district") or ""
    if raw:
        district = (
            visible_district_units(user).filter(pk=int(raw)).first() if raw.isdigit() else None
        )
        if district is None:
            errors.append(_("Choose a district from the list."))
        else:
            filters.district_id, filters.district_name = district.pk, district.name
    return filters, errors


def visible_district_units(user):
    return OrgUnit.objects.visible_to(user).filter(kind=OrgKind.DISTRICT_BUREAU).order_by("code")


# --- building blocks ---------------------------------------------------------------------


class _Lister:
    """Counts and groups the rows of one list page for one user."""

    def __init__(self, user, url_name, model, filterset_class):
        from django.test import RequestFactory

        self.user = user
        self.url = reverse(url_name)
        self.model = model
        self.filterset_class = filterset_class
        self.request = RequestFactory().get(self.url)
        self.request.user = user

    def queryset(self, params: dict):
        from django.http import QueryDict

        query = QueryDict(mutable=True)
        for key, value in params.items():
            if isinstance(value, list | tuple):
                query.setlist(key, [str(v) for v in value])
            else:
                query[key] = str(value)
        base = self.model.objects.visible_to(self.user)
        filterset = self.filterset_class(query, queryset=base, request=self.request)
        if not filterset.is_valid():  # pragma: no cover - the dashboard builds valid params
            raise ValueError(filterset.errors.as_json())
        return filterset.qs

    def link(self, params: dict) -> str:
        return f"{self.url}?{urlencode(params, doseq=True)}"

    def figure(self, key, label, params, hint="") -> Figure:
        return Figure(key, label, self.queryset(params).count(), self.link(params), hint)

    def grouped(self, params, field_name, param_name, labels=None, order=None) -> list[Row]:
        rows = (
            self.queryset(params)
            .order_by()
            .values(field_name)
            .annotate(n=Count("pk", distinct=True))
        )
        # An empty value (a unit without an institution type) has no filter to link to.
        counts = {r[field_name]: r["n"] for r in rows if r[field_name] not in (None, "")}
        keys = order if order is not None else sorted(counts, key=lambda k: -counts[k])
        out = []
        for value in keys:
            label = labels.get(value, str(value)) if labels else str(value)
            out.append(
                Row(str(label), counts.get(value, 0), self.link({**params, param_name: value}))
            )
        return out


def rate(numerator: int | None, denominator: int | None) -> str | None:
    if not denominator or numerator is None:
        return None
    value = Decimal(numerator) * 100 / Decimal(denominator)
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


def _weeks(until: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    monday = until - dt.timedelta(days=until.weekday())
    starts = [monday - dt.timedelta(weeks=n) for n in range(count - 1, -1, -1)]
    return [(s, s + dt.timedelta(days=6)) for s in starts]


def _months(until: dt.date, count: int) -> list[tuple[dt.date, dt.date]]:
    out = []
    year, month = until.year, until.month
    for _n in range(count):
        first = dt.date(year, month, 1)
        next_first = dt.date(year + (month == 12), month % 12 + 1, 1)
        out.append((first, next_first - dt.timedelta(days=1)))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return list(reversed(out))


def _trend(lister, params, date_field, buckets, truncate, since_key, until_key, key, title):
    """One count per bucket in one grouped query; each point links to its period's list."""
    first, last = buckets[0][0], buckets[-1][1]
    scoped = {k: v for k, v in params.items() if k not in (since_key, until_key)}
    scoped.update({since_key: first.isoformat(), until_key: last.isoformat()})
    rows = (
        lister.queryset(scoped)
        .order_by()
        .annotate(bucket=truncate(date_field, tzinfo=timezone.get_current_timezone()))
        .values("bucket")
        .annotate(n=Count("pk"))
    )
    counts = {}
    for row in rows:
        bucket = row["bucket"]
        day = bucket.date() if isinstance(bucket, dt.datetime) else bucket
        counts[day] = counts.get(day, 0) + row["n"]
    points = []
    for start, end in buckets:
        label = f"{start:%m-%d}" if truncate is TruncWeek else f"{start:%Y-%m}"
        link = lister.link({**scoped, since_key: start.isoformat(), until_key: end.isoformat()})
        points.append(Row(label, counts.get(start, 0), link, {"start": start.isoformat()}))
    return Series(key, title, points)


# --- the dashboard -------------------------------------------------------------------------


def build_dashboard(user, filters: Filters, today: dt.date | None = None) -> Dashboard:
    from inspections.choices import Category, Disposition, FindingState, Severity
    from inspections.filtersets import FindingFilterSet, VisitFilterSet
    from inspections.models import Finding, Visit
    from rectification import scorecards
    from rectification.filtersets import RectificationFilterSet
    from rectification.models import Rectification

    today = today or timezone.localdate()
    period = filters.params()
    district = {"district": period["district"]} if "district" in period else {}
    since, until = period["since"], period["until"]
    figures: dict[str, Figure] = {}

    def add(fig: Figure):
        figures[fig.key] = fig
        return fig

    # Inspections and coverage.
    visits = _Lister(user, "inspections:visit-list", Visit, VisitFilterSet)
    units = _Lister(user, "orgunit-list", OrgUnit, OrgUnitFilterSet)
    add(
        visits.figure(
            "visits_done",
            _("Inspections done"),
            {"state": "submitted", "since": since, "until": until, **district},
        )
    )
    institutions = {"kind": OrgKind.INSTITUTION, "active": "true", **district}
    add(units.figure("units_total", _("Service institutions"), institutions))
    add(
        units.figure(
            "units_covered",
            _("Institutions inspected"),
            {**institutions, "visited_from": since, "visited_to": until},
        )
    )

    # Findings.
    findings = _Lister(user, "inspections:finding-list", Finding, FindingFilterSet)
    # Filed findings only: drafts of a visit still on site are not yet problems found.
    in_period = {"since": since, "until": until, "filed": "true", **district}
    add(findings.figure("findings", _("Problems found"), in_period))
    add(
        findings.figure(
            "fixed_on_site",
            _("Fixed on site"),
            {**in_period, "disposition": Disposition.FIXED_ON_SITE},
        )
    )
    add(
        findings.figure(
            "findings_open", _("Awaiting rectification"), {**in_period, "state": FindingState.OPEN}
        )
    )
    add(
        findings.figure(
            "findings_transferred",
            _("Transferred to departments"),
            {**in_period, "state": FindingState.TRANSFERRED},
        )
    )
    add(
        findings.figure(
            "findings_major", _("Major problems"), {**in_period, "severity": Severity.MAJOR}
        )
    )
    add(findings.figure("repeat_findings", _("Repeat problems"), {**in_period, "repeat": "true"}))

    # Rectification orders dispatched in the period; overdue and due soon as of today.
    orders = _Lister(user, "rectification:order-list", Rectification, RectificationFilterSet)
    dispatched = {"dispatched_from": since, "dispatched_to": until, **district}
    add(orders.figure("orders", _("Orders issued"), dispatched))
    add(orders.figure("orders_closed", _("Orders closed"), {**dispatched, "state": "verified"}))
    add(
        orders.figure(
            "orders_on_time", _("Closed on time"), {**dispatched, "closed_on_time": "true"}
        )
    )
    add(
        orders.figure(
            "orders_overdue",
            _("Overdue now"),
            {"overdue_level": "red", **district},
            hint=_("All open orders past their deadline, whenever issued."),
        )
    )
    add(
        orders.figure(
            "orders_due_soon",
            _("Due soon"),
            {"overdue_level": "yellow", **district},
            hint=_("Open orders due within the warning period."),
        )
    )

    # Flash reports (city-wide documents: the district filter does not apply).
    flash = _flash_figures(user, since, until)
    figures.update(flash)

    # Daily bottom-line reports.
    daily = _daily_figures(user, filters, today)
    figures.update(daily["figures"])

    rates = {
        "coverage": Rate(
            "coverage",
            _("Coverage rate"),
            "units_covered",
            "units_total",
            rate(figures["units_covered"].value, figures["units_total"].value),
        ),
        "fixed_on_site_rate": Rate(
            "fixed_on_site_rate",
            _("Fixed on site"),
            "fixed_on_site",
            "findings",
            rate(figures["fixed_on_site"].value, figures["findings"].value),
        ),
        "rectification_rate": Rate(
            "rectification_rate",
            _("Rectification rate"),
            "orders_closed",
            "orders",
            rate(figures["orders_closed"].value, figures["orders"].value),
        ),
        "on_time_rate": Rate(
            "on_time_rate",
            _("On-time rate"),
            "orders_on_time",
            "orders_closed",
            rate(figures["orders_on_time"].value, figures["orders_closed"].value),
        ),
        "same_day_rate": Rate(
            "same_day_rate",
            _("Same-day rate of flash reports"),
            "flash_same_day",
            "flash_signed",
            rate(figures["flash_same_day"].value, figures["flash_signed"].value),
        ),
        "daily_rate": Rate(
            "daily_rate",
            _("Daily-report submission rate"),
            "daily_received",
            "daily_expected",
            rate(figures["daily_received"].value, figures["daily_expected"].value),
        ),
    }

    breakdowns = {
        "bottom_line": Series(
            "bottom_line",
            _("Problems by bottom line"),
            findings.grouped(
                in_period, "bottom_line", "bottom_line", dict(BottomLine.choices), BottomLine.values
            ),
        ),
        "severity": Series(
            "severity",
            _("Problems by severity"),
            findings.grouped(
                in_period, "severity", "severity", dict(Severity.choices), Severity.values
            ),
        ),
        "category": Series(
            "category",
            _("Problems by category"),
            findings.grouped(in_period, "category", "category", dict(Category.choices)),
        ),
        "institution_type": Series(
            "institution_type",
            _("Problems by institution type"),
            findings.grouped(
                in_period,
                "target__institution_type",
                "institution_type",
                dict(InstitutionType.choices),
            ),
        ),
        "unit_kind": Series(
            "unit_kind",
            _("Problems by unit kind"),
            findings.grouped(in_period, "target__kind", "target_kind", dict(OrgKind.choices)),
        ),
    }
    district_names = dict(visible_district_units(user).values_list("pk", "name"))
    if not filters.district_id:
        breakdowns["district_findings"] = Series(
            "district_findings",
            _("Problems by district"),
            findings.grouped(in_period, "target__district", "district", district_names),
        )
        breakdowns["district_overdue"] = Series(
            "district_overdue",
            _("Overdue orders by district"),
            orders.grouped(
                {"overdue_level": "red"},
                "responsible_unit__district",
                "district",
                district_names,
            ),
        )
    departments = dict(
        OrgUnit.objects.visible_to(user).filter(kind=OrgKind.DEPARTMENT).values_list("pk", "name")
    )
    breakdowns["department"] = Series(
        "department",
        _("Orders by supervising department"),
        [
            row
            for row in orders.grouped(
                dispatched, "supervising_department", "department", departments
            )
            if row.label in departments.values()
        ],
    )

    trends = {
        "weekly_findings": _trend(
            findings,
            in_period,
            "found_at",
            _weeks(filters.until, 12),
            TruncWeek,
            "since",
            "until",
            "weekly_findings",
            _("Problems found per week"),
        ),
        "monthly_findings": _trend(
            findings,
            in_period,
            "found_at",
            _months(filters.until, 12),
            TruncMonth,
            "since",
            "until",
            "monthly_findings",
            _("Problems found per month"),
        ),
        "monthly_orders": _trend(
            orders,
            dispatched,
            "dispatched_at",
            _months(filters.until, 12),
            TruncMonth,
            "dispatched_from",
            "dispatched_to",
            "monthly_orders",
            _("Orders issued per month"),
        ),
    }

    repeats = _top_repeats(findings, in_period)
    overdue = _overdue_list(orders, {"overdue_level": "red", **district}, today)
    cards = _cards(user, scorecards, filters)
    figures.update(cards["figures"])

    return Dashboard(
        filters=filters,
        computed_at=timezone.now(),
        figures=figures,
        rates=rates,
        breakdowns=breakdowns,
        trends=trends,
        overdue=overdue,
        repeats=repeats,
        cards=cards["rows"],
    )


def _flash_figures(user, since, until) -> dict[str, Figure]:
    from reports.flash_filtersets import FlashReportFilterSet
    from reports.models import FlashReport

    if not user.has_role(Role.SUPERVISOR, Role.OFFICE_HEAD, Role.LEADER):
        return {
            "flash_signed": Figure("flash_signed", _("Flash reports issued"), None),
            "flash_same_day": Figure("flash_same_day", _("Issued the same day"), None),
        }
    flash = _Lister(user, "reports:flash-list", FlashReport, FlashReportFilterSet)
    issued = {"state": ["signed", "distributed"], "found_from": since, "found_to": until}
    return {
        "flash_signed": flash.figure(
            "flash_signed",
            _("Flash reports issued"),
            issued,
            hint=_("Flash reports cover the whole city; the district filter does not apply."),
        ),
        "flash_same_day": flash.figure(
            "flash_same_day", _("Issued the same day"), {**issued, "on_time": "true"}
        ),
    }


def _daily_figures(user, filters: Filters, today: dt.date) -> dict:
    """Received daily reports (each links to the list of reports) against the reports due:
    every reporting unit the user may see, every day of a sensitive period within the
    dashboard's period up to today."""
    from reports.models import DailyReport, SensitivePeriod

    last = min(filters.until, today)
    periods = (
        SensitivePeriod.objects.visible_to(user)
        .filter(start_date__lte=last, end_date__gte=filters.since)
        .prefetch_related("units")
    )
    visible_units = set(OrgUnit.objects.visible_to(user).values_list("pk", flat=True))
    expected = 0
    for period in periods:
        start, end = max(period.start_date, filters.since), min(period.end_date, last)
        if end < start:
            continue
        units = [
            u
            for u in period.units.all()
            if u.pk in visible_units
            and (not filters.district_id or u.district_id == filters.district_id)
        ]
        expected += len(units) * ((end - start).days + 1)
    figures = {
        "daily_expected": Figure(
            "daily_expected",
            _("Daily reports due"),
            expected,
            hint=_("Reporting units × days of sensitive periods in the period, up to today."),
        )
    }
    from reports.daily_filtersets import DailyReportFilterSet

    reports = _Lister(user, "reports:daily-report-list", DailyReport, DailyReportFilterSet)
    params = {"day_from": filters.since.isoformat(), "day_to": last.isoformat()}
    if filters.district_id:
        params["district"] = str(filters.district_id)
    figures["daily_received"] = reports.figure(
        "daily_received", _("Daily reports received"), params
    )
    figures["daily_late"] = reports.figure(
        "daily_late", _("Filed late"), {**params, "status": "late"}
    )
    figures["daily_abnormal"] = reports.figure(
        "daily_abnormal", _("Reports with an abnormal line"), {**params, "status": "abnormal"}
    )
    return {"figures": figures}


def _top_repeats(findings, params, limit=10) -> list[Row]:
    """The units and categories with the most repeat problems in the period; each links to
    exactly those findings (unit, category, repeat)."""
    from inspections.choices import Category

    labels = dict(Category.choices)
    rows = (
        findings.queryset({**params, "repeat": "true"})
        .order_by()
        .values("target_id", "target__name", "category")
        .annotate(n=Count("pk"))
        .order_by("-n", "target__name")[:limit]
    )
    out = []
    for row in rows:
        link_params = {
            **params,
            "repeat": "true",
            "unit": row["target_id"],
            "category": row["category"],
        }
        # The unit filter takes the unit's subtree: count through the list itself.
        out.append(
            Row(
                f"{row['target__name']} · {labels.get(row['category'], row['category'])}",
                findings.queryset(link_params).count(),
                findings.link(link_params),
            )
        )
    return out


def _overdue_list(orders, params, today, limit=10) -> list[dict]:
    rows = (
        orders.queryset(params)
        .select_related("responsible_unit")
        .order_by("deadline", "pk")[:limit]
    )
    return [
        {
            "code": o.code,
            "title": o.title,
            "unit": o.responsible_unit.name,
            "deadline": o.deadline.isoformat(),
            "days": (today - o.deadline).days,
            "url": reverse("rectification:order-detail", args=[o.pk]),
        }
        for o in rows
    ]


def _cards(user, scorecards, filters: Filters) -> dict:
    lister = _Lister(user, "rectification:scorecard-list", None, scorecards.ScorecardFilterSet)
    params = {"since": filters.since.isoformat(), "until": filters.until.isoformat()}
    if filters.district_id:
        params["district"] = str(filters.district_id)

    def table(extra):
        from django.http import QueryDict

        query = QueryDict(mutable=True)
        query.update({**params, **extra})
        from rectification.models import Rectification

        filterset = scorecards.ScorecardFilterSet(
            query, queryset=Rectification.objects.none(), request=lister.request
        )
        filterset.is_valid()
        return filterset.qs

    red = table({"card": scorecards.RED})
    yellow = table({"card": scorecards.YELLOW})
    figures = {
        "cards_red": Figure(
            "cards_red",
            _("Units with a red card"),
            red.count(),
            lister.link({**params, "card": "red"}),
        ),
        "cards_yellow": Figure(
            "cards_yellow",
            _("Units with a yellow card"),
            yellow.count(),
            lister.link({**params, "card": "yellow"}),
        ),
    }
    worst = table({"card": "carded"})
    rows = []
    for row in list(worst.order_by("-card_rank", "on_time_rate")[:10]):
        rows.append(
            {
                "unit": row["unit_name"] if "unit_name" in row else str(row.get("unit_id")),
                "card": row["card"],
                "card_label": str(scorecards.card_label(row["card"])),
                "on_time_rate": None if row["on_time_rate"] is None else str(row["on_time_rate"]),
                "overdue": row["overdue"],
                "orders": row["orders"],
                "url": reverse("rectification:scorecard-detail", args=[row["unit_id"]])
                + "?"
                + urlencode(params),
            }
        )
    return {"figures": figures, "rows": rows}


# --- snapshots -------------------------------------------------------------------------------


def scope_key(user) -> str:
    """Users who see exactly the same data share snapshots: city-wide leaders (and nothing
    else) all see everything a leader may see; anyone else gets their own."""
    from inspections.querysets import city_wide

    others = [r for r in Role.values if r != Role.LEADER]
    if city_wide(user) and not user.has_role(*others):
        return "city-leaders"
    return f"user:{user.pk}"


def snapshot_key(user, filters: Filters, today: dt.date) -> str:
    raw = f"{scope_key(user)}|{filters.key()}|{today}"
    return hashlib.sha256(raw.encode()).hexdigest()[:40]


def dashboard_for(user, filters: Filters, *, refresh: bool = False) -> Dashboard:
    """A fresh-enough snapshot if there is one, else the dashboard computed now (and kept)."""
    from reports.models import DashboardSnapshot

    today = timezone.localdate()
    key = snapshot_key(user, filters, today)
    max_age = dt.timedelta(seconds=settings.DASHBOARD_MAX_AGE)
    now = timezone.now()
    if not refresh:
        snapshot = DashboardSnapshot.objects.filter(key=key).first()
        if snapshot is not None and now - snapshot.computed_at <= max_age:
            DashboardSnapshot.objects.filter(pk=snapshot.pk).update(viewed_at=now)
            dashboard = Dashboard.from_json(snapshot.payload)
            dashboard.filters.preset = filters.preset
            return dashboard
    dashboard = build_dashboard(user, filters, today)
    DashboardSnapshot.objects.update_or_create(
        key=key,
        defaults={
            "user": user,
            "params": {**filters.params(), "preset": filters.preset},
            "payload": dashboard.to_json(),
            "computed_at": dashboard.computed_at,
            "viewed_at": now,
        },
    )
    return dashboard


def refresh_snapshots(now=None) -> int:
    """Recompute the snapshots viewed in the last day (the task runs every few minutes), so
    the next visit finds fresh figures. Snapshots not viewed for a week are removed."""
    from reports.models import DashboardSnapshot

    now = now or timezone.now()
    DashboardSnapshot.objects.filter(viewed_at__lt=now - dt.timedelta(days=7)).delete()
    refreshed = 0
    stale_before = now - dt.timedelta(seconds=settings.DASHBOARD_MAX_AGE // 2)
    for snapshot in DashboardSnapshot.objects.filter(
        viewed_at__gte=now - dt.timedelta(days=1), computed_at__lt=stale_before
    ).select_related("user"):
        user = snapshot.user
        if not user.is_active or not user.has_role(*DASHBOARD_ROLES):
            snapshot.delete()
            continue
        filters, errors = parse_filters(user, snapshot.params)
        if errors:
            snapshot.delete()
            continue
        dashboard_for(user, filters, refresh=True)
        refreshed += 1
    return refreshed
