"""Daily bottom-line reports in sensitive periods (每日底线报告): periods, the units' reports
with the cut-off rule, one-click findings from abnormal lines, and the office's weekly plan
and summary. The reminders and the digest built at the cut-off live in ``reports/digest.py``.

Every write is keyword-only with the acting user, runs in one transaction, locks or checks
what it changes, writes the timeline and the audit trail in that transaction, and refuses
anything else with a ServiceError whose message is shown to the user."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civilaffairs.choices import BottomLine, OrgKind, Role
from civilaffairs.exceptions import Conflict, PermissionDenied, ServiceError
from civilaffairs.idempotency import payload_digest, refuse_different_content
from civilaffairs.models import OrgUnit
from civilaffairs.services import audit_record, timeline_add
from reports.choices import LineStatus
from reports.daily_querysets import (
    MANAGE_ROLES,
    cutoff_at,
    is_late,
    local_today,
)
from reports.models import (
    DailyReport,
    DailyReportLine,
    SensitivePeriod,
    WeeklyReport,
)

REPORTING_KINDS = (OrgKind.DISTRICT_BUREAU, OrgKind.AFFILIATED_UNIT)
NOTE_MAX = 2000
LEADER_MAX = 50
NAME_MAX = 100


def _require_office(actor):
    if actor is not None and not actor.has_role(*MANAGE_ROLES):
        raise PermissionDenied(_("Only the office manages sensitive periods."))


def is_liaison_of(actor, unit: OrgUnit) -> bool:
    """A liaison whose scope covers the unit (its own, or a unit above it)."""
    return any(unit.path.startswith(s.path) for s in actor.scopes_for(Role.UNIT_LIAISON))


def default_units():
    """Who reports unless the office says otherwise: every active district bureau and
    affiliated unit."""
    return OrgUnit.objects.active().filter(kind__in=REPORTING_KINDS).order_by("path")


# --- Sensitive periods ----------------------------------------------------------------------

PERIOD_FIELDS = ("name", "start_date", "end_date", "cutoff", "remind_minutes", "active")


def _clean_period(period: SensitivePeriod):
    period.name = (period.name or "").strip()
    if not period.name:
        raise ServiceError(_("Name the sensitive period."), field="name")
    if len(period.name) > NAME_MAX:
        raise ServiceError(_("The name is too long."), field="name")
    if not isinstance(period.start_date, dt.date) or not isinstance(period.end_date, dt.date):
        raise ServiceError(_("Give the first and last day."), field="start_date")
    if period.end_date < period.start_date:
        raise ServiceError(_("The last day cannot be before the first day."), field="end_date")
    if (period.end_date - period.start_date).days > 366:
        raise ServiceError(_("A sensitive period lasts at most a year."), field="end_date")
    if not isinstance(period.cutoff, dt.time):
        raise ServiceError(_("Give the daily cut-off time."), field="cutoff")
    try:
        minutes = int(period.remind_minutes)
    except (TypeError, ValueError):
        minutes = -1
    if not 0 <= minutes <= 24 * 60:
        raise ServiceError(
            _("The reminder is given in minutes before the cut-off (0 to 1440)."),
            field="remind_minutes",
        )
    period.remind_minutes = minutes


def _clean_units(units) -> list[OrgUnit]:
    units = list(units) if units is not None else list(default_units())
    if not units:
        raise ServiceError(_("Choose at least one reporting unit."), field="units")
    wrong = [u for u in units if u.kind not in REPORTING_KINDS or not u.active]
    if wrong:
        raise ServiceError(
            _("Only active district bureaus and affiliated units report: %(unit)s")
            % {"unit": wrong[0].name},
            field="units",
        )
    return units


@transaction.atomic
def period_create(*, actor, units=None, **fields) -> SensitivePeriod:
    """Open a sensitive period; without ``units``, every active district bureau and affiliated
    unit reports."""
    _require_office(actor)
    unknown = set(fields) - set(PERIOD_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    fields.setdefault("remind_minutes", 60)
    period = SensitivePeriod(created_by=actor, **fields)
    _clean_period(period)
    units = _clean_units(units)
    period.save()
    period.units.set(units)
    audit_record(
        actor=actor,
        action="period.create",
        obj=period,
        summary=_("Opened a sensitive period"),
        changes={f: getattr(period, f) for f in PERIOD_FIELDS} | {"units": len(units)},
    )
    return period


@transaction.atomic
def period_update(*, actor, period: SensitivePeriod, units=None, **fields) -> SensitivePeriod:
    """Change a period. Days already reported stay inside it: its dates may not shrink past a
    filed report."""
    _require_office(actor)
    period = SensitivePeriod.objects.select_for_update().get(pk=period.pk)
    unknown = set(fields) - set(PERIOD_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    before = {f: getattr(period, f) for f in PERIOD_FIELDS}
    for name, value in fields.items():
        setattr(period, name, value)
    _clean_period(period)
    outside = period.reports.exclude(day__gte=period.start_date, day__lte=period.end_date)
    if outside.exists():
        raise ServiceError(
            _("Reports were already filed for days outside these dates."), field="start_date"
        )
    changes = {
        f: [before[f], getattr(period, f)] for f in PERIOD_FIELDS if before[f] != getattr(period, f)
    }
    period.save()
    if units is not None:
        units = _clean_units(units)
        old = set(period.units.values_list("pk", flat=True))
        new = {u.pk for u in units}
        if old != new:
            period.units.set(units)
            changes["units"] = {"added": sorted(new - old), "removed": sorted(old - new)}
    if changes:
        audit_record(
            actor=actor,
            action="period.update",
            obj=period,
            summary=_("Changed a sensitive period"),
            changes=changes,
        )
    return period


# --- Daily reports --------------------------------------------------------------------------


def _clean_lines(lines, nil: bool) -> dict[str, tuple[str, str]]:
    """{bottom line: (status, note)} for all five lines. A nil report is five normal lines;
    an abnormal line needs a note saying what is wrong."""
    if nil:
        return dict.fromkeys(BottomLine.values, (LineStatus.NORMAL, ""))
    if isinstance(lines, dict):
        lines = [
            {"bottom_line": k, **(v if isinstance(v, dict) else {"status": v})}
            for k, v in lines.items()
        ]
    cleaned: dict[str, tuple[str, str]] = {}
    for entry in lines or ():
        if not isinstance(entry, dict):
            raise ServiceError(_("Each bottom line needs a status."), field="lines")
        bottom_line = entry.get("bottom_line")
        if bottom_line not in BottomLine.values:
            raise ServiceError(_("Unknown bottom line."), field="lines")
        if bottom_line in cleaned:
            raise ServiceError(
                _("%(line)s is given twice.") % {"line": BottomLine(bottom_line).label},
                field="lines",
            )
        status = entry.get("status")
        if status not in LineStatus.values:
            raise ServiceError(
                _("Say whether %(line)s is normal or abnormal.")
                % {"line": BottomLine(bottom_line).label},
                field="lines",
            )
        note = str(entry.get("note") or "").strip()
        if status == LineStatus.ABNORMAL and not note:
            raise ServiceError(
                _("Describe what is abnormal in %(line)s.")
                % {"line": BottomLine(bottom_line).label},
                field=f"note_{bottom_line}",
            )
        if len(note) > NOTE_MAX:
            raise ServiceError(_("A note is at most 2000 characters."), field=f"note_{bottom_line}")
        cleaned[bottom_line] = (status, note)
    missing = [line for line in BottomLine.values if line not in cleaned]
    if missing:
        raise ServiceError(
            _("Say whether %(line)s is normal or abnormal.")
            % {"line": BottomLine(missing[0]).label},
            field="lines",
        )
    return cleaned


def _content(period, unit, day, lines, leader, nil) -> dict:
    return {
        "period": period.pk,
        "unit": unit.pk,
        "day": day.isoformat(),
        "leader": leader,
        "nil": bool(nil),
        "lines": {k: list(v) for k, v in sorted(lines.items())},
    }


def report_content(report: DailyReport) -> dict:
    """What a report says, in the shape a submission is compared in."""
    lines = {line.bottom_line: (line.status, line.note) for line in report.lines.all()}
    return _content(
        report.period, report.unit, report.day, lines, report.responsible_leader, report.nil
    )


def _replayed(client_uuid, digest: str) -> DailyReport | None:
    """The report already stored under ``client_uuid`` (a retry from a phone), or None; 409
    when the same UUID comes with different content. The stored report is its own record of
    what was sent, so no extra digest column is needed."""
    if not client_uuid:
        return None
    existing = (
        DailyReport.objects.select_related("period", "unit")
        .prefetch_related("lines")
        .filter(client_uuid=client_uuid)
        .first()
    )
    if existing is None:
        return None
    if payload_digest(report_content(existing)) != digest:
        refuse_different_content()
    return existing


def _check_submission(actor, period: SensitivePeriod, unit: OrgUnit, day) -> None:
    if not isinstance(day, dt.date):
        raise ServiceError(_("Give the day reported on."), field="day")
    if not period.active:
        raise ServiceError(_("This sensitive period is closed."), field="period")
    if not period.start_date <= day <= period.end_date:
        raise ServiceError(
            _("%(day)s is not a day of this sensitive period.") % {"day": day.isoformat()},
            field="day",
        )
    if day > local_today():
        raise ServiceError(_("A day cannot be reported on before it has begun."), field="day")
    if not period.units.filter(pk=unit.pk).exists():
        raise ServiceError(_("This unit does not report in this period."), field="unit")


@transaction.atomic
def daily_report_submit(
    *,
    actor,
    period: SensitivePeriod,
    unit: OrgUnit,
    day: dt.date,
    lines=None,
    responsible_leader: str = "",
    nil: bool = False,
    client_uuid=None,
) -> tuple[DailyReport, bool]:
    """File (or correct) a unit's report for a day. Returns (report, created).

    One report per unit per day: submitting again before the cut-off corrects it (the change
    goes on its timeline); after the cut-off only the office may correct it. The report is
    late when first filed after the day's cut-off (Asia/Shanghai). A nil report is all five
    lines normal. A retry with the same client UUID and content is answered, not applied."""
    leader = str(responsible_leader or "").strip()
    cleaned = _clean_lines(lines, nil)
    nil = bool(nil) or all(status == LineStatus.NORMAL for status, _note in cleaned.values())
    digest = (
        payload_digest(_content(period, unit, day, cleaned, leader, nil))
        if isinstance(day, dt.date)
        else ""
    )
    existing = _replayed(client_uuid, digest)
    if existing is not None:
        return existing, False
    office = actor.has_role(*MANAGE_ROLES)
    if not is_liaison_of(actor, unit) and not office:
        raise PermissionDenied(_("Only a liaison of the unit files its daily report."))
    if not leader:
        raise ServiceError(_("Name the responsible leader."), field="responsible_leader")
    if len(leader) > LEADER_MAX:
        raise ServiceError(_("The leader's name is too long."), field="responsible_leader")
    period = SensitivePeriod.objects.select_for_update().get(pk=period.pk)
    _check_submission(actor, period, unit, day)
    now = timezone.now()
    report = (
        DailyReport.objects.select_for_update().filter(period=period, unit=unit, day=day).first()
    )
    if report is None:
        if not is_liaison_of(actor, unit):
            raise PermissionDenied(_("Only a liaison of the unit files its daily report."))
        try:
            with transaction.atomic():
                report = DailyReport.objects.create(
                    period=period,
                    unit=unit,
                    day=day,
                    reporter=actor,
                    responsible_leader=leader,
                    nil=nil,
                    submitted_at=now,
                    late=is_late(period, day, now),
                    client_uuid=client_uuid or None,
                )
        except IntegrityError as exc:
            # The same UUID or the same unit-day arrived at once from elsewhere.
            raise Conflict(
                _("This day's report was filed a moment ago. Reload and check it.")
            ) from exc
        DailyReportLine.objects.bulk_create(
            [
                DailyReportLine(report=report, bottom_line=k, status=s, note=n)
                for k, (s, n) in cleaned.items()
            ]
        )
        timeline_add(
            subject=report,
            actor=actor,
            verb="submitted",
            data={"nil": nil, "late": report.late, "abnormal": _abnormal(cleaned)},
        )
        audit_record(
            actor=actor,
            action="daily.submit",
            obj=report,
            summary=_("Filed a daily bottom-line report"),
            changes={"nil": nil, "late": report.late, "lines": cleaned},
        )
        return report, True
    return _correct(actor, report, cleaned, leader, nil, client_uuid, now, office), False


def _abnormal(cleaned) -> list[str]:
    return [k for k, (s, _n) in cleaned.items() if s == LineStatus.ABNORMAL]


def _correct(actor, report, cleaned, leader, nil, client_uuid, now, office) -> DailyReport:
    if now > cutoff_at(report.period, report.day) and not office:
        raise ServiceError(
            _("The cut-off has passed; ask the office to correct this report."), code="closed"
        )
    old = {line.bottom_line: line for line in report.lines.all()}
    changes = {}
    for key, (status, note) in cleaned.items():
        line = old.get(key)
        if line is None:
            DailyReportLine.objects.create(report=report, bottom_line=key, status=status, note=note)
            changes[key] = [None, [status, note]]
        elif (line.status, line.note) != (status, note):
            if line.finding_id and status != line.status:
                raise ServiceError(
                    _("%(line)s has become a finding; its status can no longer change.")
                    % {"line": BottomLine(key).label},
                    field="lines",
                )
            changes[key] = [[line.status, line.note], [status, note]]
            line.status, line.note = status, note
            line.save(update_fields=["status", "note"])
    if report.responsible_leader != leader:
        changes["responsible_leader"] = [report.responsible_leader, leader]
    if report.nil != nil:
        changes["nil"] = [report.nil, nil]
    report.responsible_leader, report.nil = leader, nil
    if client_uuid:
        report.client_uuid = client_uuid
    try:
        with transaction.atomic():
            report.save(update_fields=["responsible_leader", "nil", "client_uuid"])
    except IntegrityError:
        refuse_different_content()
    if changes:
        timeline_add(subject=report, actor=actor, verb="corrected", data=changes)
        audit_record(
            actor=actor,
            action="daily.correct",
            obj=report,
            summary=_("Corrected a daily bottom-line report"),
            changes=changes,
        )
    return report


# --- Abnormal line → finding ----------------------------------------------------------------

CATEGORY_BY_LINE = {
    BottomLine.SAFETY: "safety_hazard",
    BottomLine.INTEGRITY: "integrity_risk",
    BottomLine.STABILITY: "stability_risk",
    BottomLine.ETHICS: "irregular_management",
    BottomLine.DISASTER_RELIEF: "other",
}


@transaction.atomic
def abnormal_line_to_finding(*, actor, line: DailyReportLine, severity: str = "general"):
    """Put an abnormal line on record as a filed finding at the reporting unit (one click).

    Findings are made on visits by ``inspections.services.finding_create``, which needs a visit
    in progress; an abnormal line has no visit. The finding model allows none (``visit`` is
    nullable), so the line is filed here directly with the inspections app's own validation
    and numbering: an ad-hoc finding, awaiting rectification, which the office then handles
    like any other (issue an order, transfer it)."""
    from inspections.choices import Disposition, FindingSource, FindingState, Severity
    from inspections.models import Finding
    from inspections.services import _next_code, _validate_finding

    if not actor.has_role(*MANAGE_ROLES):
        raise PermissionDenied(_("Only the office turns a reported problem into a finding."))
    if severity not in Severity.values:
        raise ServiceError(_("Unknown severity."), field="severity")
    line = (
        DailyReportLine.objects.select_for_update()
        .select_related("report__unit", "report__period")
        .get(pk=line.pk)
    )
    if line.status != LineStatus.ABNORMAL:
        raise ServiceError(_("Only an abnormal line can become a finding."))
    if line.finding_id:
        raise ServiceError(_("This line is already a finding."))
    report = line.report
    now = timezone.now()
    title = (
        line.note.splitlines()[0][:200]
        if line.note.strip()
        else str(line.get_bottom_line_display())
    )
    finding = Finding(
        visit=None,
        target=report.unit,
        source=FindingSource.ADHOC,
        bottom_line=line.bottom_line,
        category=CATEGORY_BY_LINE.get(line.bottom_line, "other"),
        severity=severity,
        title=title,
        description=_("Abnormal in the daily report of %(day)s (%(period)s):\n%(note)s")
        % {"day": report.day.isoformat(), "period": report.period.name, "note": line.note},
        found_at=report.submitted_at,
        found_by=actor,
        disposition=Disposition.RECTIFY_BY_DEADLINE,
    )
    _validate_finding(finding)
    finding.repeat_of = Finding.objects.previous_occurrence(finding)
    finding.code = _next_code(Finding, "WT")
    finding.filed_at = now
    finding.state = FindingState.OPEN
    finding.save()
    source = {"daily_report": report.pk, "bottom_line": line.bottom_line}
    timeline_add(subject=finding, actor=actor, verb="recorded", data=source)
    timeline_add(
        subject=finding,
        actor=actor,
        verb="filed",
        data={"disposition": finding.disposition, **source},
    )
    line.finding = finding
    line.save(update_fields=["finding"])
    timeline_add(
        subject=report,
        actor=actor,
        verb="finding",
        data={"bottom_line": line.bottom_line, "finding": finding.code},
    )
    audit_record(
        actor=actor,
        action="daily.finding",
        obj=finding,
        summary=_("Recorded an abnormal bottom line as a finding"),
        changes=source | {"finding": finding.code},
    )
    return finding


# --- Weekly plan and summary ----------------------------------------------------------------


def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def weekly_figures(week_start: dt.date) -> dict:
    """The week's numbers, counted city-wide from the records: visits done, findings by
    severity, orders issued / closed / overdue, flash reports issued, daily reports."""
    from django.db.models import Count

    from inspections.models import Finding, Visit
    from rectification.choices import OPEN_STATES
    from rectification.models import Rectification
    from reports.models import FlashReport

    start = dt.datetime.combine(week_start, dt.time.min, tzinfo=timezone.get_current_timezone())
    end = start + dt.timedelta(days=7)
    last_day = week_start + dt.timedelta(days=6)
    severities = dict(
        Finding.objects.filed()
        .filter(filed_at__gte=start, filed_at__lt=end)
        .values_list("severity")
        .annotate(n=Count("pk"))
        .values_list("severity", "n")
    )
    figures = {
        "visits": Visit.objects.filter(
            state="submitted", submitted_at__gte=start, submitted_at__lt=end
        ).count(),
        "findings": sum(severities.values()),
        "findings_by_severity": {k: severities.get(k, 0) for k in ("major", "serious", "general")},
        "orders_issued": Rectification.objects.filter(
            dispatched_at__gte=start, dispatched_at__lt=end
        ).count(),
        "orders_closed": Rectification.objects.filter(
            state="verified", closed_at__gte=start, closed_at__lt=end
        ).count(),
        "orders_overdue": Rectification.objects.filter(
            state__in=OPEN_STATES, deadline__lt=min(last_day, timezone.localdate())
        ).count(),
        "flash_reports": FlashReport.objects.filter(
            signed_at__gte=start, signed_at__lt=end
        ).count(),
        "daily_reports": DailyReport.objects.filter(day__gte=week_start, day__lte=last_day).count(),
        "daily_late": DailyReport.objects.filter(
            day__gte=week_start, day__lte=last_day, late=True
        ).count(),
        "counted_at": timezone.now().isoformat(timespec="minutes"),
    }
    return figures


@transaction.atomic
def weekly_save(
    *, actor, week_start: dt.date, plan: str = "", summary: str = "", version: int | None = None
) -> tuple[WeeklyReport, bool]:
    """Create or update the office's weekly plan and summary for the week starting on Monday
    ``week_start``; the figures are recounted on every save. Returns (report, created)."""
    if not actor.has_role(*MANAGE_ROLES):
        raise PermissionDenied(_("Only the office writes the weekly plan and summary."))
    if not isinstance(week_start, dt.date):
        raise ServiceError(_("Give the week."), field="week_start")
    if week_start.weekday() != 0:
        raise ServiceError(_("A week starts on a Monday."), field="week_start")
    plan, summary = str(plan or "").strip(), str(summary or "").strip()
    if len(plan) > 20000 or len(summary) > 20000:
        raise ServiceError(_("The text is too long."), field="plan")
    report = WeeklyReport.objects.select_for_update().filter(week_start=week_start).first()
    figures = weekly_figures(week_start)
    if report is None:
        if version not in (None, "", 0, "0"):
            raise Conflict(
                _("Someone else changed this record a moment ago. Reload and try again.")
            )
        try:
            with transaction.atomic():
                report = WeeklyReport.objects.create(
                    week_start=week_start,
                    plan=plan,
                    summary=summary,
                    figures=figures,
                    created_by=actor,
                )
        except IntegrityError as exc:
            raise Conflict(
                _("Someone else changed this record a moment ago. Reload and try again.")
            ) from exc
        audit_record(
            actor=actor,
            action="weekly.create",
            obj=report,
            summary=_("Wrote a weekly plan and summary"),
        )
        return report, True
    if version is not None and str(version) != str(report.version):
        raise Conflict(_("Someone else changed this record a moment ago. Reload and try again."))
    changes = {}
    if report.plan != plan:
        changes["plan"] = "changed"
    if report.summary != summary:
        changes["summary"] = "changed"
    report.plan, report.summary, report.figures = plan, summary, figures
    report.version += 1
    report.save()
    audit_record(
        actor=actor,
        action="weekly.update",
        obj=report,
        summary=_("Changed a weekly plan and summary"),
        changes=changes,
    )
    return report, False
