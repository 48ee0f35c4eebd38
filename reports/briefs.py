"""Leadership briefs (领导简报, issue #6): the dashboard of a period and scope as an A4 PDF —
summary figures and rates, charts, key findings with a photo each, the overdue list, the units
with red and yellow cards and the top repeat problems — made in a Celery worker with a progress
bar and kept as the job's file (briefs are never swept).

A brief is a ``BackgroundJob`` of kind ``brief`` whose params are the dashboard's filters
(``Filters.params()``: since, until, district). It is built when the worker runs it, for its
owner as they are then: the dashboard's own ``build_dashboard`` with the owner's visibility, so
a district leader's brief never shows another district, and a finding the owner may not see (a
draft of an unannounced visit, another district) is never in it. The owner who lost the
dashboard role, or the district, gets a failed job instead of a file."""

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Case, IntegerField, Value, When
from django.http import QueryDict
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civilaffairs import jobs
from civilaffairs.exceptions import PermissionDenied, ServiceError
from civilaffairs.files import PDF
from reports import dashboard, svg_charts

log = logging.getLogger(__name__)

KIND = "brief"
KEY_FINDINGS = 12
KEY_SEVERITIES = ("major", "serious")
CUSTOM = "custom"
MAX_DAYS = 3660  # the dashboard's limit: ten years


def may_request(user) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.is_active
        and user.has_role(*dashboard.DASHBOARD_ROLES)
    )


# --- requesting ------------------------------------------------------------------------------


def brief_filters(
    *, owner, preset: str = "", since=None, until=None, district=None
) -> dashboard.Filters:
    """The dashboard filters of a requested brief, or a ServiceError in Chinese naming the
    field. A preset (week, month, quarter, year) wins over dates; "custom" (or no preset with
    a date) needs both dates; nothing at all is this month, as on the dashboard."""
    preset = (preset or "").strip()
    data: dict[str, str] = {}
    if preset and preset != CUSTOM:
        if preset not in dashboard.PRESETS:
            raise ServiceError(_("Choose a period from the list."), field="preset")
        data["preset"] = preset
    elif preset != CUSTOM and not since and not until:
        data["preset"] = "month"  # nothing chosen: the dashboard's default
    else:
        if not since or not until:
            field = "since" if not since else "until"
            raise ServiceError(_("Enter both dates of the period."), field=field)
        since, until = _date(since, "since"), _date(until, "until")
        if since > until:
            raise ServiceError(_("The period ends before it starts."), field="until")
        if (until - since).days > MAX_DAYS:
            raise ServiceError(_("The period may be at most ten years."), field="since")
        if since > timezone.localdate():
            raise ServiceError(_("The period has not started yet."), field="since")
        data.update(since=since.isoformat(), until=until.isoformat())
    if district not in (None, ""):
        data["district"] = str(district)
    filters, errors = dashboard.parse_filters(owner, data)
    if errors:
        field = "district" if "district" in data and not filters.district_id else None
        raise ServiceError(errors[0], field=field)
    return filters


def _date(value, field) -> dt.date:
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ServiceError(_("Enter dates as YYYY-MM-DD."), field=field) from exc


def brief_request(*, owner, preset: str = "", since=None, until=None, district=None):
    """Queue a brief for ``owner`` (a dashboard role) and return its job."""
    if not may_request(owner):
        raise PermissionDenied(_("Only the leadership and the office may request briefs."))
    filters = brief_filters(owner=owner, preset=preset, since=since, until=until, district=district)
    title = _("Leadership brief: %(scope)s, %(period)s") % {
        "scope": scope_label(owner, filters),
        "period": period_text(filters.since.isoformat(), filters.until.isoformat()),
    }
    return jobs.job_start(owner=owner, kind=KIND, title=title, params=filters.params())


def period_text(since: str, until: str) -> str:
    return _("%(since)s to %(until)s") % {"since": since, "until": until}


def scope_label(user, filters: dashboard.Filters) -> str:
    """The district chosen, else 全市 for someone who sees the whole city, else their
    districts."""
    if filters.district_id:
        return filters.district_name
    return default_scope(user)


def default_scope(user) -> str:
    """The scope of a brief without a district: what the user may see."""
    from inspections.querysets import city_wide

    if city_wide(user):
        return _("Whole city")
    names = list(dashboard.visible_district_units(user).values_list("name", flat=True))
    return "、".join(names) or _("Within your scope")


# --- building ----------------------------------------------------------------------------------


def key_findings(user, filters: dashboard.Filters, limit: int = KEY_FINDINGS) -> list[dict]:
    """Major and serious findings of the period that ``user`` may see, newest first, each with
    its first photo (evidence first) downscaled as in the flash report. Filtered by the
    findings list's own FilterSet, so they are the rows of that list."""
    from django.test import RequestFactory

    from inspections.filtersets import FindingFilterSet
    from inspections.models import Finding, Photo
    from reports.flash_pdf import _downscaled

    request = RequestFactory().get(reverse("inspections:finding-list"))
    request.user = user
    query = QueryDict(mutable=True)
    query.update(filters.params())
    filterset = FindingFilterSet(
        query, queryset=Finding.objects.visible_to(user).filed(), request=request
    )
    if not filterset.is_valid():
        raise ServiceError(_("Choose a district from the list."))
    findings = list(
        filterset.qs.filter(severity__in=KEY_SEVERITIES)
        .select_related("target")
        .order_by("-found_at", "-pk")[:limit]
    )
    first_photo = {}
    photos = (
        Photo.objects.visible_to(user)
        .filter(finding__in=[f.pk for f in findings])
        .annotate(
            evidence_first=Case(
                When(kind="evidence", then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .order_by("finding_id", "evidence_first", "uploaded_at", "pk")
    )
    for photo in photos:
        first_photo.setdefault(photo.finding_id, photo)
    out = []
    for finding in findings:
        photo = first_photo.get(finding.pk)
        out.append(
            {
                "code": finding.code or "",
                "title": finding.title,
                "unit": finding.target.name,
                "category": finding.get_category_display(),
                "bottom_line": finding.get_bottom_line_display(),
                "severity": finding.get_severity_display(),
                "severity_key": finding.severity,
                "state": finding.get_state_display(),
                "found_at": timezone.localtime(finding.found_at),
                "description": finding.description,
                "photo": _downscaled(photo) if photo is not None else None,
            }
        )
    return out


CHARTS = (
    # (where, key, kind, full width)
    ("trends", "weekly_findings", "line", True),
    ("breakdowns", "bottom_line", "hbar", False),
    ("breakdowns", "severity", "hbar", False),
    ("breakdowns", "district_findings", "hbar", False),
    ("breakdowns", "category", "hbar", False),
    ("breakdowns", "district_overdue", "hbar", False),
    ("breakdowns", "department", "hbar", False),
    ("trends", "monthly_orders", "vbar", True),
)


def charts(board: dashboard.Dashboard) -> list[dict]:
    empty = _("No data for this period.")
    out = []
    for where, key, kind, wide in CHARTS:
        series = getattr(board, where).get(key)
        if series is None:
            continue
        if kind == "line":
            svg = svg_charts.line_chart(
                series, width=640, height=190, empty_text=empty, axis_label=_("Problems found")
            )
        elif kind == "vbar":
            svg = svg_charts.vertical_bar_chart(
                series, width=640, height=190, empty_text=empty, axis_label=_("Orders issued")
            )
        else:
            svg = svg_charts.horizontal_bar_chart(series, width=320, empty_text=empty)
        out.append({"key": key, "title": series.title, "svg": svg, "wide": wide})
    return out


def brief_context(owner, filters: dashboard.Filters, progress=None) -> dict:
    def step(done, stage):
        if progress is not None:
            progress(done, 4, stage)

    step(0, _("Summary figures"))
    board = dashboard.build_dashboard(owner, filters)
    step(1, _("Charts"))
    chart_list = charts(board)
    step(2, _("Key findings"))
    findings = key_findings(owner, filters)
    from reports.flash_pdf import long_date

    figures = list(board.figures.values())
    return {
        "board": board,
        "filters": filters,
        "scope": scope_label(owner, filters),
        "period": period_text(long_date(filters.since), long_date(filters.until)),
        "generated_at": timezone.localtime(board.computed_at),
        "generated_by": owner.real_name or owner.username,
        "figure_rows": [figures[i : i + 4] for i in range(0, len(figures), 4)],
        "rates": list(board.rates.values()),
        "figure_values": {key: fig.value for key, fig in board.figures.items()},
        "charts": chart_list,
        "findings": findings,
        "overdue": board.overdue,
        "cards": board.cards,
        "repeats": board.repeats,
        "cjk_family": svg_charts.FONT_FAMILY,
    }


def render_brief(owner, filters: dashboard.Filters, progress=None) -> bytes:
    from civilaffairs.pdf import render_pdf

    context = brief_context(owner, filters, progress)
    if progress is not None:
        progress(3, 4, _("Rendering the PDF"))
    return render_pdf(render_to_string("reports/brief_pdf.html", context))


def filename(filters: dashboard.Filters) -> str:
    return f"{_('Leadership brief')}-{filters.since:%Y%m%d}-{filters.until:%Y%m%d}.pdf"


def run_brief(job, progress) -> jobs.JobOutput:
    owner = job.owner
    with translation.override(settings.LANGUAGE_CODE):
        if not may_request(owner):
            raise ServiceError(_("You may no longer see the dashboard."))
        filters, errors = dashboard.parse_filters(owner, job.params or {})
        if errors:
            raise ServiceError(errors[0])
        content = render_brief(owner, filters, progress)
        progress(4, 4, _("Saving the file"))
        return jobs.JobOutput(filename=filename(filters), kind=PDF, content=content)


jobs.register(KIND, gettext_lazy("Leadership brief"), run_brief, keep_days=None)
