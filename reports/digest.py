"""Chasing missing units before the cut-off and the city-wide digest built at it.

The digest of a (period, day) is built once: the ``DailyDigest`` row, unique per (period, day),
is inserted first and is the claim; whoever inserts it renders the PDF and the Excel file and
tells the leaders in the same transaction, and a second or concurrent builder meets the unique
index and does nothing. If rendering fails, the claim rolls back with it and the next run
builds the digest.

What the digest says is a snapshot at the moment it is built (``as_of``, normally within a few
minutes after the cut-off): every reporting unit is in exactly one group —

- **on time**: its report was filed at or before the cut-off;
- **late**: filed after the cut-off but before the snapshot;
- **missing (缺报)**: no report at the snapshot.

So under a 16:00 cut-off a unit that reported at 15:59 is on time; one that reports at 16:01 is
late if the digest is built after 16:01, and missing in a digest built at 16:00 exactly (it had
not reported when the leaders were told). The live board always shows the current state."""

import datetime as dt
import io
import logging
from collections import defaultdict

import xlsxwriter
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Prefetch
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civilaffairs import notifications as notes
from civilaffairs.choices import BottomLine, NotificationKind, Role
from civilaffairs.files import PDF, XLSX, hash_file
from civilaffairs.models import Attachment, Notification, RoleAssignment, User
from civilaffairs.pdf import CJK_FAMILY, render_pdf
from civilaffairs.services import audit_record
from reports.choices import LineStatus
from reports.daily_querysets import CUTOFF_ZONE, cutoff_at, local_today
from reports.models import DailyDigest, DailyReport, DailyReportLine, SensitivePeriod

log = logging.getLogger(__name__)

# The scheduled run every 5 minutes must land at least once inside the reminder window.
SCAN_MINUTES = 5
# Digests are caught up for at most this many past days (a worker that was down over a
# weekend), never for days before the period was opened in the system.
CATCH_UP_DAYS = 3


def _url(name: str, *args) -> str:
    try:
        return reverse(name, args=args)
    except NoReverseMatch:  # the pages are not mounted (an API-only deployment)
        return ""


# --- Reminders before the cut-off -----------------------------------------------------------


def units_missing(period: SensitivePeriod, day: dt.date, as_of: dt.datetime | None = None):
    """The period's units with no report for ``day`` (as of ``as_of``, default now)."""
    reports = DailyReport.objects.filter(period=period, day=day)
    if as_of is not None:
        reports = reports.filter(submitted_at__lte=as_of)
    return period.units.exclude(pk__in=reports.values("unit_id")).order_by("path")


def remind_missing(now: dt.datetime | None = None) -> int:
    """Remind the liaisons of every unit that has not reported today, within the period's
    reminder window before the cut-off. Each person is told once per unit and day (the
    notification's event key is unique per person), however often this runs."""
    now = now or timezone.now()
    day = now.astimezone(CUTOFF_ZONE).date()
    told = 0
    for period in SensitivePeriod.objects.on(day):
        if not period.remind_minutes:
            continue
        cutoff = cutoff_at(period, day)
        window = dt.timedelta(minutes=max(period.remind_minutes, SCAN_MINUTES))
        if not cutoff - window <= now < cutoff:
            continue
        for unit in units_missing(period, day).filter(active=True):
            told += _remind(period, unit, day, cutoff)
    return told


def _remind(period, unit, day, cutoff) -> int:
    key = f"daily-remind:{period.pk}:{day.isoformat()}:{unit.pk}"
    people = notes.holders_over(unit, Role.UNIT_LIAISON, nearest=True)
    already = set(
        Notification.objects.filter(event_key=key, recipient__in=people).values_list(
            "recipient_id", flat=True
        )
    )
    people = [p for p in people if p.pk not in already]
    if not people:
        return 0
    try:
        with transaction.atomic():
            rows = notes.notify(
                recipients=people,
                kind=NotificationKind.REMINDER,
                title=_("%(unit)s has not filed today's bottom-line report") % {"unit": unit.name},
                body=_("%(period)s · due by %(time)s today")
                % {
                    "period": period.name,
                    "time": cutoff.astimezone(CUTOFF_ZONE).strftime("%H:%M"),
                },
                url=_url("reports:daily-form"),
                subject=period,
                event_key=key,
            )
    except IntegrityError:  # a concurrent run told them first
        return 0
    return len(rows)


# --- What the digest says --------------------------------------------------------------------


def _local(value: dt.datetime | None) -> str:
    return value.astimezone(CUTOFF_ZONE).strftime("%H:%M") if value else ""


def digest_data(period: SensitivePeriod, day: dt.date, as_of: dt.datetime) -> dict:
    """The day as it stood at ``as_of``: each unit on time, late or missing, the abnormal lines
    by bottom line, the day's new findings and the open orders past their deadline. A fixed
    number of queries, whatever the number of units."""
    from inspections.models import Finding
    from rectification.models import Rectification

    cutoff = cutoff_at(period, day)
    units = list(period.units.order_by("path").select_related("district"))
    reports = {
        r.unit_id: r
        for r in DailyReport.objects.filter(period=period, day=day, submitted_at__lte=as_of)
        .select_related("reporter")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=DailyReportLine.objects.select_related("finding").order_by("bottom_line"),
            )
        )
    }
    rows, missing = [], []
    abnormal = defaultdict(list)
    for unit in units:
        report = reports.get(unit.pk)
        if report is None:
            missing.append({"id": unit.pk, "name": unit.name})
            rows.append({"unit": unit.name, "status": "missing"})
            continue
        late = report.submitted_at > cutoff
        lines = list(report.lines.all())
        bad = [line for line in lines if line.status == LineStatus.ABNORMAL]
        for line in bad:
            abnormal[line.bottom_line].append(
                {
                    "unit": unit.name,
                    "note": line.note,
                    "finding": line.finding.code if line.finding_id and line.finding else "",
                }
            )
        rows.append(
            {
                "unit": unit.name,
                "status": "late" if late else "on_time",
                "submitted_at": _local(report.submitted_at),
                "reporter": str(report.reporter),
                "leader": report.responsible_leader,
                "nil": report.nil,
                "abnormal": [str(line.get_bottom_line_display()) for line in bad],
            }
        )
    start = dt.datetime.combine(day, dt.time.min, tzinfo=CUTOFF_ZONE)
    findings = [
        {
            "code": f.code or "",
            "unit": f.target.name,
            "title": f.title,
            "severity": str(f.get_severity_display()),
            "severity_key": f.severity,
            "bottom_line": str(f.get_bottom_line_display()),
        }
        for f in Finding.objects.filed()
        .filter(filed_at__gte=start, filed_at__lt=min(start + dt.timedelta(days=1), as_of))
        .select_related("target")
        .order_by("filed_at", "pk")
    ]
    # The longest overdue orders, at most DIGEST_OVERDUE_LIMIT (a city can have tens of
    # thousands open past their deadline: a PDF of them all would be a thousand pages); the
    # figure counts them all.
    overdue_orders = Rectification.objects.open().filter(deadline__lt=day)
    overdue = [
        {
            "code": o.code,
            "unit": o.responsible_unit.name,
            "title": o.title,
            "deadline": o.deadline.isoformat(),
            "days": (day - o.deadline).days,
        }
        for o in overdue_orders.select_related("responsible_unit").order_by("deadline", "pk")[
            : settings.DIGEST_OVERDUE_LIMIT
        ]
    ]
    overdue_total = (
        len(overdue) if len(overdue) < settings.DIGEST_OVERDUE_LIMIT else overdue_orders.count()
    )
    by_line = [
        {"key": key, "label": str(label), "lines": abnormal.get(key, [])}
        for key, label in BottomLine.choices
    ]
    figures = {
        "as_of": as_of.isoformat(),
        "cutoff": cutoff.isoformat(),
        "units": len(units),
        "on_time": sum(1 for r in rows if r["status"] == "on_time"),
        "late": sum(1 for r in rows if r["status"] == "late"),
        "missing": len(missing),
        "abnormal_by_line": {item["key"]: len(item["lines"]) for item in by_line},
        "new_findings": len(findings),
        "overdue_orders": overdue_total,
    }
    return {
        "period": period,
        "day": day,
        "as_of": as_of,
        "cutoff": cutoff,
        "rows": rows,
        "missing": missing,
        "by_line": by_line,
        "findings": findings,
        "overdue": overdue,
        "figures": figures,
        "abnormal_total": sum(len(item["lines"]) for item in by_line),
    }


STATUS_LABELS = {
    "on_time": lambda: _("On time"),
    "late": lambda: _("Filed late"),
    "missing": lambda: _("Missing"),
}


SEVERITY_RANK = {"major": 0, "serious": 1, "general": 2}


def pdf_selection(data: dict) -> dict:
    """What the PDF lists of a big day. A period of a thousand units gave an 87-page PDF (a
    row per unit, a row per new finding) that took 12 s to lay out and nobody reads: above
    DIGEST_PDF_ALL_UNITS_UP_TO units the PDF lists the units that need attention (late,
    missing, an abnormal line) and counts the others; it lists at most
    DIGEST_PDF_FINDINGS_LIMIT new findings, the most severe first. The workbook has all."""
    rows, findings = data["rows"], data["findings"]
    if len(rows) > settings.DIGEST_PDF_ALL_UNITS_UP_TO:
        listed = [r for r in rows if r["status"] != "on_time" or r.get("abnormal")]
    else:
        listed = rows
    limit = settings.DIGEST_PDF_FINDINGS_LIMIT
    if len(findings) > limit:
        ranked = sorted(
            enumerate(findings),
            key=lambda pair: (SEVERITY_RANK.get(pair[1].get("severity_key"), 3), pair[0]),
        )
        shown = sorted(ranked[:limit])  # the chosen ones, back in the order they were filed
        findings = [finding for _index, finding in shown]
    return {
        "pdf_rows": listed,
        "rows_not_listed": len(rows) - len(listed),
        "pdf_findings": findings,
        "findings_not_listed": len(data["findings"]) - len(findings),
    }


def digest_html(data: dict) -> str:
    """The HTML the digest PDF is laid out from."""
    return render_to_string(
        "reports/daily/digest_pdf.html",
        {
            **data,
            **pdf_selection(data),
            "cjk_family": CJK_FAMILY,
            "status_labels": {k: f() for k, f in STATUS_LABELS.items()},
        },
    )


def render_digest_pdf(data: dict) -> bytes:
    return render_pdf(digest_html(data))


def render_digest_xlsx(data: dict) -> bytes:
    """One workbook, a sheet per part. Typed text is always written as text (no formulas)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
            "strings_to_numbers": False,
        },
    )
    head = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    labels = {k: f() for k, f in STATUS_LABELS.items()}

    def sheet(title, headers, rows, widths):
        ws = book.add_worksheet(title[:31])
        for col, (header, width) in enumerate(zip(headers, widths, strict=True)):
            ws.write_string(0, col, header, head)
            ws.set_column(col, col, width)
        for r, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                if isinstance(value, int) and not isinstance(value, bool):
                    ws.write_number(r, col, value)
                else:
                    ws.write_string(r, col, str(value if value is not None else ""))
        ws.freeze_panes(1, 0)
        if rows:
            ws.autofilter(0, 0, len(rows), len(headers) - 1)

    sheet(
        _("Reporting"),
        [
            _("Unit"),
            _("Status"),
            _("Filed at"),
            _("Reporter"),
            _("Responsible leader"),
            _("Abnormal"),
        ],
        [
            [
                r["unit"],
                labels[r["status"]],
                r.get("submitted_at", ""),
                r.get("reporter", ""),
                r.get("leader", ""),
                "、".join(r.get("abnormal", [])),
            ]
            for r in data["rows"]
        ],
        [36, 10, 10, 14, 14, 30],
    )
    sheet(
        _("Abnormal lines"),
        [_("Bottom line"), _("Unit"), _("Note"), _("Finding")],
        [
            [g["label"], x["unit"], x["note"], x["finding"]]
            for g in data["by_line"]
            for x in g["lines"]
        ],
        [12, 36, 60, 16],
    )
    sheet(
        _("New findings"),
        [_("Number"), _("Unit"), _("Problem"), _("Severity"), _("Bottom line")],
        [
            [f["code"], f["unit"], f["title"], f["severity"], f["bottom_line"]]
            for f in data["findings"]
        ],
        [16, 36, 50, 10, 12],
    )
    sheet(
        _("Overdue orders"),
        [_("Number"), _("Responsible unit"), _("Problem"), _("Deadline"), _("Days overdue")],
        [[o["code"], o["unit"], o["title"], o["deadline"], o["days"]] for o in data["overdue"]],
        [16, 36, 50, 12, 10],
    )
    book.close()
    return buffer.getvalue()


def _store(digest, content: bytes, kind, name: str, uploader) -> Attachment:
    """File a generated document as the digest's attachment. It has no uploader in the human
    sense: the period's creator owns it (the row needs a user) and the audit says "system"."""
    upload = ContentFile(content, name=name)
    attachment = Attachment(
        original_name=name,
        content_type_detected=kind.mime,
        extension=kind.extension,
        size=len(content),
        sha256=hash_file(upload),
        uploaded_by=uploader,
        description=_("Generated daily digest"),
        owner=digest,
    )
    attachment.uploaded_at = timezone.now()
    attachment.file.save(name, upload, save=False)
    attachment.save()
    return attachment


def digest_recipients() -> list[User]:
    """The city's leaders and the office head."""
    leaders = User.objects.filter(
        is_active=True,
        pk__in=RoleAssignment.objects.filter(role=Role.LEADER, scope__parent__isnull=True).values(
            "user_id"
        ),
    ).order_by("pk")
    return [*leaders, *notes.office_heads()]


def build_digest(
    period: SensitivePeriod, day: dt.date, now: dt.datetime | None = None
) -> DailyDigest | None:
    """Build, file and deliver the digest of one day of a period, once. Returns it, or None
    when the cut-off has not come yet or the digest was already built (by this run or
    another)."""
    now = now or timezone.now()
    if now < cutoff_at(period, day):
        return None
    if DailyDigest.objects.filter(period=period, day=day).exists():
        return None
    try:
        with transaction.atomic():
            digest = DailyDigest.objects.create(period=period, day=day)  # the claim
            data = digest_data(period, day, now)
            digest.reported = data["figures"]["on_time"] + data["figures"]["late"]
            digest.missing = data["missing"]
            digest.abnormal = data["abnormal_total"]
            digest.figures = data["figures"]
            stem = f"daily-digest-{day.isoformat()}-{period.pk}"
            digest.pdf = _store(
                digest, render_digest_pdf(data), PDF, f"{stem}.pdf", period.created_by
            )
            digest.xlsx = _store(
                digest, render_digest_xlsx(data), XLSX, f"{stem}.xlsx", period.created_by
            )
            digest.save()
            audit_record(
                actor=None,
                action="daily.digest",
                obj=digest,
                summary=_("Built the daily digest"),
                changes=data["figures"],
            )
            notes.notify(
                recipients=digest_recipients(),
                kind=NotificationKind.UPDATE,
                title=_(
                    "Daily bottom-line digest %(day)s: %(reported)d reported, %(missing)d missing"
                )
                % {
                    "day": day.isoformat(),
                    "reported": digest.reported,
                    "missing": len(data["missing"]),
                },
                body=_("%(period)s · %(abnormal)d abnormal lines · %(late)d late")
                % {
                    "period": period.name,
                    "abnormal": digest.abnormal,
                    "late": data["figures"]["late"],
                },
                url=_url("reports:digest-detail", digest.pk),
                subject=digest,
                event_key=f"daily-digest:{digest.pk}",
            )
    except IntegrityError:  # another run claimed this (period, day) first
        return None
    return digest


def build_due_digests(now: dt.datetime | None = None) -> int:
    """Every digest whose cut-off has passed and which is not built yet (the scheduled run)."""
    now = now or timezone.now()
    today = now.astimezone(CUTOFF_ZONE).date()
    built = 0
    for period in SensitivePeriod.objects.active().filter(
        start_date__lte=today, end_date__gte=today - dt.timedelta(days=CATCH_UP_DAYS)
    ):
        opened = timezone.localtime(period.created_at, CUTOFF_ZONE).date()
        first = max(period.start_date, opened, today - dt.timedelta(days=CATCH_UP_DAYS))
        done = set(period.digests.values_list("day", flat=True))
        day = first
        while day <= min(period.end_date, today):
            if day not in done and now >= cutoff_at(period, day):
                try:
                    built += build_digest(period, day, now) is not None
                except Exception:  # one bad day must not stop the others; retried next run
                    log.exception("daily digest of period %s, %s failed", period.pk, day)
            day += dt.timedelta(days=1)
    return built


__all__ = [
    "build_digest",
    "build_due_digests",
    "digest_data",
    "local_today",
    "remind_missing",
    "render_digest_pdf",
    "render_digest_xlsx",
    "units_missing",
]
