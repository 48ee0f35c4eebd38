"""Pages of the daily bottom-line reports: sensitive periods (office), the unit's report form
(built for a phone), the office's live board of a day, the digest archive and the weekly plan
and summary. They collect input and show outcomes; the services in reports/daily.py decide."""

import datetime as dt

from django.contrib import messages
from django.db.models import Count, Prefetch
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView

from civilaffairs.choices import BottomLine, Role
from civilaffairs.exceptions import ServiceError
from civilaffairs.models import OrgUnit
from civilaffairs.views.generic import (
    Column,
    ObjectDetailView,
    ObjectListView,
    RoleRequiredMixin,
    badge,
)
from reports import daily as services
from reports.choices import LineStatus
from reports.daily_filtersets import DailyReportFilterSet
from reports.daily_forms import DailyReportForm, PeriodForm, WeeklyForm
from reports.daily_querysets import (
    MANAGE_ROLES,
    READ_ALL_ROLES,
    cutoff_at,
    liaison_units_q,
    local_today,
    reads_all,
)
from reports.models import DailyDigest, DailyReport, DailyReportLine, SensitivePeriod, WeeklyReport

PERIOD_ROLES = (*READ_ALL_ROLES, Role.LEADER, Role.UNIT_LIAISON)
BOARD_ROLES = (*READ_ALL_ROLES, Role.LEADER)
DIGEST_ROLES = (*READ_ALL_ROLES, Role.LEADER)


def _date(value, default=None):
    try:
        return dt.date.fromisoformat(str(value))
    except (TypeError, ValueError):
        return default


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- Periods --------------------------------------------------------------------------------


class PeriodListView(ObjectListView):
    model = SensitivePeriod
    allowed_roles = PERIOD_ROLES
    title = _("Sensitive periods")
    export_filename = "sensitive-periods"
    default_ordering = "-start_date"
    empty_message = _("No sensitive period yet.")

    def get_columns(self):
        return [
            Column(
                "name",
                _("Name"),
                lambda p: p.name,
                order_by="name",
                link=lambda p: reverse("reports:daily-board") + f"?period={p.pk}",
            ),
            Column("start_date", _("First day"), lambda p: p.start_date, order_by="start_date"),
            Column("end_date", _("Last day"), lambda p: p.end_date, order_by="end_date"),
            Column("cutoff", _("Daily cut-off"), lambda p: p.cutoff.strftime("%H:%M")),
            Column(
                "units",
                _("Reporting units"),
                lambda p: p.unit_count,
                css="d-none d-md-table-cell",
            ),
            Column(
                "active",
                _("State"),
                lambda p: gettext("Active") if p.active else gettext("Closed"),
                html=lambda p: badge(
                    "success" if p.active else "secondary",
                    gettext("Active") if p.active else gettext("Closed"),
                ),
            ),
            Column(
                "edit",
                "",
                lambda p: "",
                export=False,
                html=lambda p: (
                    format_html(
                        '<a class="btn btn-outline-secondary btn-sm" href="{}">{}</a>',
                        reverse("reports:period-edit", args=[p.pk]),
                        gettext("Edit"),
                    )
                    if self.request.user.has_role(*MANAGE_ROLES)
                    else ""
                ),
            ),
        ]

    def decorate_queryset(self, queryset):
        return queryset.annotate(unit_count=Count("units", distinct=True))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_create"] = self.request.user.has_role(*MANAGE_ROLES)
        context["create_url"] = reverse("reports:period-create")
        return context


class PeriodFormView(RoleRequiredMixin, TemplateView):
    allowed_roles = MANAGE_ROLES
    template_name = "reports/daily/period_form.html"

    def get_period(self):
        pk = self.kwargs.get("pk")
        if pk is None:
            return None
        return get_object_or_404(SensitivePeriod.objects.visible_to(self.request.user), pk=pk)

    def get(self, request, *args, **kwargs):
        period = self.get_period()
        initial = {"units": list(period.units.all())} if period else {}
        form = PeriodForm(instance=period, initial=initial)
        return self.render_to_response(self.get_context_data(form=form, period=period))

    def post(self, request, *args, **kwargs):
        period = self.get_period()
        form = PeriodForm(request.POST, instance=period or SensitivePeriod())
        if form.is_valid():
            try:
                if period is None:
                    period = services.period_create(actor=request.user, **form.values())
                    messages.success(request, gettext("The sensitive period was opened."))
                else:
                    services.period_update(actor=request.user, period=period, **form.values())
                    messages.success(request, gettext("The sensitive period was saved."))
                return redirect("reports:period-list")
            except ServiceError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
        return self.render_to_response(self.get_context_data(form=form, period=period), status=400)


# --- The unit's daily report (phone) ---------------------------------------------------------


def reporting_slots(user, day: dt.date) -> list[dict]:
    """(period, unit) pairs the liaison reports for on ``day``, each with its report if filed."""
    scope = liaison_units_q(user)
    if scope is None:
        return []
    periods = list(
        SensitivePeriod.objects.on(day).prefetch_related(
            Prefetch(
                "units",
                queryset=OrgUnit.objects.filter(scope).order_by("path"),
                to_attr="my_units",
            )
        )
    )
    reports = {
        (r.period_id, r.unit_id): r
        for r in DailyReport.objects.filter(
            period__in=periods, day=day, unit__in=[u for p in periods for u in p.my_units]
        )
    }
    return [
        {
            "period": p,
            "unit": u,
            "report": reports.get((p.pk, u.pk)),
            "cutoff": cutoff_at(p, day),
        }
        for p in periods
        for u in p.my_units
    ]


class DailyFormView(RoleRequiredMixin, TemplateView):
    """The liaison's form: five toggles, notes that open when a line is abnormal, and one big
    button for a nil report."""

    allowed_roles = (Role.UNIT_LIAISON,)
    template_name = "reports/daily/report_form.html"

    def slot(self, data):
        day = local_today()
        slots = reporting_slots(self.request.user, day)
        period_id, unit_id = _int(data.get("period")), _int(data.get("unit"))
        chosen = [s for s in slots if s["period"].pk == period_id and s["unit"].pk == unit_id]
        if chosen:
            return day, slots, chosen[0]
        if period_id or unit_id:
            raise Http404
        pending = [s for s in slots if s["report"] is None]
        if len(slots) == 1:
            return day, slots, slots[0]
        return day, slots, pending[0] if len(pending) == 1 else None

    def initial_for(self, slot):
        report = slot["report"]
        if report is not None:
            initial = {"responsible_leader": report.responsible_leader}
            for line in report.lines.all():
                initial[f"status_{line.bottom_line}"] = line.status
                initial[f"note_{line.bottom_line}"] = line.note
            return initial
        last = (
            DailyReport.objects.filter(unit=slot["unit"])
            .order_by("-day")
            .values_list("responsible_leader", flat=True)
        ).first()
        return {"responsible_leader": last or ""}

    def get(self, request, *args, **kwargs):
        day, slots, slot = self.slot(request.GET)
        form = DailyReportForm(initial=self.initial_for(slot)) if slot else None
        return self.render_to_response(
            self.get_context_data(day=day, slots=slots, slot=slot, form=form)
        )

    def post(self, request, *args, **kwargs):
        day, slots, slot = self.slot(request.POST)
        if slot is None:
            raise Http404
        form = DailyReportForm(request.POST)
        nil = request.POST.get("nil") == "1"
        if nil:
            # A nil report needs only the leader: whatever the toggles say, all five are normal.
            for key in BottomLine.values:
                form.fields[f"note_{key}"].required = False
        if form.is_valid():
            try:
                report, _created = services.daily_report_submit(
                    actor=request.user,
                    period=slot["period"],
                    unit=slot["unit"],
                    day=day,
                    lines=None if nil else form.lines(),
                    nil=nil,
                    responsible_leader=form.cleaned_data["responsible_leader"],
                    client_uuid=form.cleaned_data["client_uuid"],
                )
            except ServiceError as error:
                field = error.field if error.field in form.fields else None
                form.add_error(field, error.message)
            else:
                if report.late:
                    messages.warning(
                        request, gettext("The report was filed after the cut-off (late).")
                    )
                else:
                    messages.success(request, gettext("Today's report was filed. Thank you."))
                return redirect(
                    reverse("reports:daily-form")
                    + f"?period={report.period_id}&unit={report.unit_id}"
                )
        return self.render_to_response(
            self.get_context_data(day=day, slots=slots, slot=slot, form=form), status=400
        )


# --- Filed reports (list and ledger) ----------------------------------------------------------


def _lines_by_key(report) -> dict:
    """The report's lines by bottom line, from the prefetched lines (no query)."""
    if not hasattr(report, "_lines_by_key"):
        report._lines_by_key = {line.bottom_line: line for line in report.lines.all()}
    return report._lines_by_key


def _line_status(key):
    def value(report):
        line = _lines_by_key(report).get(key)
        return line.get_status_display() if line is not None else ""

    return value


def _line_notes(report) -> str:
    labels = dict(BottomLine.choices)
    return "；".join(
        f"{labels.get(key, key)}：{line.note}"
        for key, line in _lines_by_key(report).items()
        if line.note
    )


def _abnormal_badges(report):
    abnormal = [
        line
        for line in sorted(_lines_by_key(report).values(), key=lambda x: x.bottom_line)
        if line.status == LineStatus.ABNORMAL
    ]
    if not abnormal:
        return "—"
    return format_html_join(
        " ", "{}", ((badge("danger", line.get_bottom_line_display()),) for line in abnormal)
    )


def _filed_badge(report):
    if report.late:
        return badge("danger", gettext("Filed late"))
    return badge("success", gettext("Filed on time"))


class DailyReportListView(ObjectListView):
    """Every filed daily report the user may see, filtered like the API; its ledger has each
    bottom line's status and the notes."""

    model = DailyReport
    allowed_roles = PERIOD_ROLES
    filterset_class = DailyReportFilterSet
    title = _("Filed daily reports")
    export_filename = "daily-reports"
    default_ordering = "-day"
    empty_message = _("No daily report matches the current filters.")

    def get_columns(self):
        board = self.request.user.has_role(*BOARD_ROLES)
        columns = [
            Column(
                "day",
                _("Day"),
                lambda r: r.day,
                order_by="day",
                link=(
                    (
                        lambda r: (
                            reverse("reports:daily-board")
                            + f"?period={r.period_id}&day={r.day.isoformat()}"
                        )
                    )
                    if board
                    else None
                ),
            ),
            Column("unit", _("Unit"), lambda r: r.unit.name, order_by="unit__name"),
            Column(
                "district",
                _("District"),
                lambda r: r.unit.district.name if r.unit.district_id else "",
                order_by="unit__district__name",
                css="d-none d-lg-table-cell",
            ),
            Column(
                "period",
                _("Sensitive period"),
                lambda r: r.period.name,
                order_by="period__name",
                css="d-none d-md-table-cell",
            ),
            Column(
                "submitted_at",
                _("Filed at"),
                lambda r: r.submitted_at,
                order_by="submitted_at",
                css="d-none d-sm-table-cell",
            ),
            Column("late", _("Filed late"), lambda r: r.late, order_by="late", html=_filed_badge),
            Column(
                "nil",
                _("Nil report"),
                lambda r: r.nil,
                order_by="nil",
                html=lambda r: badge("secondary", gettext("Yes")) if r.nil else "—",
                css="d-none d-md-table-cell",
            ),
            Column(
                "abnormal", _("Abnormal lines"), lambda r: "", export=False, html=_abnormal_badges
            ),
        ]
        columns += [
            Column(f"line_{key}", label, _line_status(key), display=False)
            for key, label in BottomLine.choices
        ]
        columns += [
            Column("notes", _("Notes"), _line_notes, display=False),
            Column("reporter", _("Reporter"), lambda r: str(r.reporter), display=False),
            Column(
                "responsible_leader",
                _("Responsible leader"),
                lambda r: r.responsible_leader,
                display=False,
            ),
        ]
        return columns

    def decorate_queryset(self, queryset):
        return queryset.select_related("unit__district", "period", "reporter").prefetch_related(
            Prefetch("lines", queryset=DailyReportLine.objects.order_by("bottom_line"))
        )


# --- The live board -------------------------------------------------------------------------


class BoardView(RoleRequiredMixin, TemplateView):
    """Who has and has not reported on a day, late ones, abnormal lines; refreshed by htmx."""

    allowed_roles = BOARD_ROLES
    template_name = "reports/daily/board.html"
    partial_template_name = "reports/daily/partials/board_table.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        today = local_today()
        periods = list(SensitivePeriod.objects.visible_to(user).order_by("-start_date", "-pk"))
        period_id = _int(self.request.GET.get("period"))
        period = next((p for p in periods if p.pk == period_id), None)
        if period is None and period_id:
            raise Http404
        if period is None:
            current = [p for p in periods if p.active and p.start_date <= today <= p.end_date]
            period = current[0] if current else (periods[0] if periods else None)
        context.update(periods=periods, period=period, today=today)
        if period is None:
            return context
        day = _date(self.request.GET.get("day"), today)
        day = min(max(day, period.start_date), period.end_date, max(today, period.start_date))
        units = period.units.order_by("path")
        if not reads_all(user):
            units = units.filter(pk__in=OrgUnit.objects.visible_to(user).values("pk"))
        reports = {
            r.unit_id: r
            for r in DailyReport.objects.visible_to(user)
            .filter(period=period, day=day)
            .select_related("reporter")
            .prefetch_related(
                Prefetch(
                    "lines",
                    queryset=DailyReportLine.objects.select_related("finding").order_by(
                        "bottom_line"
                    ),
                )
            )
        }
        rows = []
        for unit in units:
            report = reports.get(unit.pk)
            abnormal = (
                [line for line in report.lines.all() if line.status == LineStatus.ABNORMAL]
                if report
                else []
            )
            rows.append({"unit": unit, "report": report, "abnormal": abnormal})
        cutoff = cutoff_at(period, day)
        context.update(
            day=day,
            before_cutoff=timezone.now() < cutoff,
            rows=rows,
            cutoff=cutoff,
            reported=sum(1 for r in rows if r["report"]),
            late=sum(1 for r in rows if r["report"] and r["report"].late),
            missing=sum(1 for r in rows if not r["report"]),
            abnormal=sum(len(r["abnormal"]) for r in rows),
            days=[
                period.start_date + dt.timedelta(days=n)
                for n in range((min(period.end_date, today) - period.start_date).days + 1)
            ][-14:],
            digest=DailyDigest.objects.visible_to(user).filter(period=period, day=day).first(),
            can_file_finding=user.has_role(*MANAGE_ROLES),
        )
        return context

    def get_template_names(self):
        if self.request.htmx:
            return [self.partial_template_name]
        return [self.template_name]


class LineFindingView(RoleRequiredMixin, View):
    allowed_roles = MANAGE_ROLES

    def post(self, request, pk):
        line = get_object_or_404(
            DailyReportLine.objects.filter(
                report__in=DailyReport.objects.visible_to(request.user)
            ).select_related("report"),
            pk=pk,
        )
        try:
            finding = services.abnormal_line_to_finding(actor=request.user, line=line)
        except ServiceError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                gettext("Finding %(code)s was recorded from the report.") % {"code": finding.code},
            )
        report = line.report
        return redirect(
            reverse("reports:daily-board") + f"?period={report.period_id}&day={report.day}"
        )


# --- Digests --------------------------------------------------------------------------------


def _file_links(digest):
    links = []
    if digest.pdf_id:
        links.append(
            format_html(
                '<a class="btn btn-outline-danger btn-sm me-1" href="{}"><i class="bi '
                'bi-file-earmark-pdf" aria-hidden="true"></i> PDF</a>',
                digest.pdf.get_absolute_url(),
            )
        )
    if digest.xlsx_id:
        links.append(
            format_html(
                '<a class="btn btn-outline-success btn-sm" href="{}?download=1"><i class="bi '
                'bi-file-earmark-excel" aria-hidden="true"></i> Excel</a>',
                digest.xlsx.get_absolute_url(),
            )
        )
    return format_html(
        '<span class="text-nowrap">{}</span>',
        format_html_join("", "{}", ((link,) for link in links)),
    )


class DigestListView(ObjectListView):
    model = DailyDigest
    allowed_roles = DIGEST_ROLES
    title = _("Daily digests")
    export_filename = "daily-digests"
    default_ordering = "-day"
    empty_message = _("No digest has been built yet; each is built at the day's cut-off.")

    def get_columns(self):
        return [
            Column(
                "day",
                _("Day"),
                lambda d: d.day,
                order_by="day",
                link=lambda d: reverse("reports:digest-detail", args=[d.pk]),
            ),
            Column(
                "period",
                _("Sensitive period"),
                lambda d: d.period.name,
                order_by="period__name",
                css="d-none d-md-table-cell",
            ),
            Column("reported", _("Reported"), lambda d: d.reported, order_by="reported"),
            Column(
                "missing",
                _("Missing"),
                lambda d: len(d.missing),
                html=lambda d: badge("danger" if d.missing else "success", len(d.missing)),
            ),
            Column(
                "abnormal",
                _("Abnormal lines"),
                lambda d: d.abnormal,
                order_by="abnormal",
                css="d-none d-sm-table-cell",
            ),
            Column("files", _("Files"), lambda d: "", export=False, html=_file_links),
        ]

    def decorate_queryset(self, queryset):
        return queryset.select_related("period", "pdf", "xlsx")


class DigestDetailView(ObjectDetailView):
    model = DailyDigest
    allowed_roles = DIGEST_ROLES
    template_name = "reports/daily/digest_detail.html"

    def decorate_queryset(self, queryset):
        return queryset.select_related("period", "pdf", "xlsx")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        figures = self.object.figures or {}
        by_line = figures.get("abnormal_by_line", {})
        context["by_line"] = [(label, by_line.get(key, 0)) for key, label in BottomLine.choices]
        context["as_of"] = _datetime(figures.get("as_of"))
        return context


def _datetime(value):
    try:
        return dt.datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return None


# --- Weekly plan and summary ----------------------------------------------------------------


class WeeklyListView(ObjectListView):
    model = WeeklyReport
    allowed_roles = (*READ_ALL_ROLES, Role.LEADER)
    title = _("Weekly plans and summaries")
    export_filename = "weekly-reports"
    default_ordering = "-week_start"
    empty_message = _("No weekly plan and summary yet.")

    def get_columns(self):
        def figure(name):
            return lambda w: (w.figures or {}).get(name, 0)

        return [
            Column(
                "week_start",
                _("Week of"),
                lambda w: w.week_start,
                order_by="week_start",
                link=lambda w: reverse("reports:weekly-print", args=[w.week_start.isoformat()]),
            ),
            Column("visits", _("Visits done"), figure("visits")),
            Column("findings", _("Findings"), figure("findings")),
            Column(
                "orders_issued",
                _("Orders issued"),
                figure("orders_issued"),
                css="d-none d-md-table-cell",
            ),
            Column(
                "orders_closed",
                _("Orders closed"),
                figure("orders_closed"),
                css="d-none d-md-table-cell",
            ),
            Column("updated_at", _("Updated at"), lambda w: w.updated_at, order_by="updated_at"),
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["can_create"] = self.request.user.has_role(*MANAGE_ROLES)
        context["create_url"] = reverse("reports:weekly-edit")
        return context


class WeeklyEditView(RoleRequiredMixin, TemplateView):
    allowed_roles = MANAGE_ROLES
    template_name = "reports/daily/weekly_form.html"

    def week(self):
        day = _date(self.request.GET.get("week") or self.request.POST.get("week"), local_today())
        return services.week_of(day)

    def context(self, week, form, report):
        return self.get_context_data(
            week=week,
            week_end=week + dt.timedelta(days=6),
            form=form,
            report=report,
            figures=(report.figures if report else None) or services.weekly_figures(week),
            previous=week - dt.timedelta(days=7),
            next=week + dt.timedelta(days=7),
        )

    def get(self, request, *args, **kwargs):
        week = self.week()
        report = WeeklyReport.objects.visible_to(request.user).filter(week_start=week).first()
        initial = (
            {"plan": report.plan, "summary": report.summary, "version": report.version}
            if report
            else {"version": 0}
        )
        return self.render_to_response(self.context(week, WeeklyForm(initial=initial), report))

    def post(self, request, *args, **kwargs):
        week = self.week()
        form = WeeklyForm(request.POST)
        if form.is_valid():
            try:
                services.weekly_save(
                    actor=request.user,
                    week_start=week,
                    plan=form.cleaned_data["plan"],
                    summary=form.cleaned_data["summary"],
                    version=form.cleaned_data["version"],
                )
            except ServiceError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, gettext("The weekly plan and summary were saved."))
                return redirect("reports:weekly-print", week.isoformat())
        report = WeeklyReport.objects.filter(week_start=week).first()
        return self.render_to_response(self.context(week, form, report), status=400)


class WeeklyPrintView(RoleRequiredMixin, TemplateView):
    allowed_roles = (*READ_ALL_ROLES, Role.LEADER)
    template_name = "reports/daily/weekly_print.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        week = _date(self.kwargs["week"])
        if week is None:
            raise Http404
        report = get_object_or_404(
            WeeklyReport.objects.visible_to(self.request.user).select_related("created_by"),
            week_start=week,
        )
        figures = report.figures or {}
        context.update(
            report=report,
            week_end=week + dt.timedelta(days=6),
            severities=figures.get("findings_by_severity", {}),
            figures=figures,
            can_edit=self.request.user.has_role(*MANAGE_ROLES),
        )
        return context


urlpatterns = [
    path("periods/", PeriodListView.as_view(), name="period-list"),
    path("periods/new/", PeriodFormView.as_view(), name="period-create"),
    path("periods/<int:pk>/edit/", PeriodFormView.as_view(), name="period-edit"),
    path("daily/", DailyFormView.as_view(), name="daily-form"),
    path("daily/board/", BoardView.as_view(), name="daily-board"),
    path("daily/reports/", DailyReportListView.as_view(), name="daily-report-list"),
    path("daily/lines/<int:pk>/finding/", LineFindingView.as_view(), name="daily-line-finding"),
    path("digests/", DigestListView.as_view(), name="digest-list"),
    path("digests/<int:pk>/", DigestDetailView.as_view(), name="digest-detail"),
    path("weekly/", WeeklyListView.as_view(), name="weekly-list"),
    path("weekly/edit/", WeeklyEditView.as_view(), name="weekly-edit"),
    path("weekly/<str:week>/", WeeklyPrintView.as_view(), name="weekly-print"),
]
