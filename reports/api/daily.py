"""API of the daily bottom-line reports: periods, reports (filed from phones exactly once by
client UUID), digests and the weekly plan and summary. Its own router, included from the
project's urls under ``api/v1/``; the writes call the services in reports/daily.py."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from civilaffairs.api.base import VisibleViewSetMixin
from civilaffairs.api.schema import ErrorSerializer
from civilaffairs.choices import BottomLine, Role
from civilaffairs.exceptions import ServiceError
from civilaffairs.models import OrgUnit
from reports import daily as services
from reports.choices import LineStatus
from reports.daily_filtersets import DailyReportApiFilterSet
from reports.daily_querysets import MANAGE_ROLES, READ_ALL_ROLES
from reports.models import DailyDigest, DailyReport, DailyReportLine, SensitivePeriod, WeeklyReport

READERS = (*READ_ALL_ROLES, Role.LEADER, Role.UNIT_LIAISON)


# --- Serializers ----------------------------------------------------------------------------


class SensitivePeriodSerializer(serializers.ModelSerializer):
    units = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = SensitivePeriod
        fields = [
            "id",
            "name",
            "start_date",
            "end_date",
            "cutoff",
            "remind_minutes",
            "active",
            "units",
            "created_at",
        ]


class SensitivePeriodWriteSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    start_date = serializers.DateField()
    end_date = serializers.DateField()
    cutoff = serializers.TimeField()
    remind_minutes = serializers.IntegerField(min_value=0, max_value=1440, default=60)
    active = serializers.BooleanField(default=True)
    units = serializers.ListField(
        child=serializers.IntegerField(), required=False, help_text="Default: all reporting units."
    )


class DailyReportLineSerializer(serializers.ModelSerializer):
    finding = serializers.SlugRelatedField(slug_field="code", read_only=True)

    class Meta:
        model = DailyReportLine
        fields = ["id", "bottom_line", "status", "note", "finding"]


class DailyReportSerializer(serializers.ModelSerializer):
    lines = DailyReportLineSerializer(many=True, read_only=True)
    unit_name = serializers.CharField(source="unit.name", read_only=True)
    reporter_name = serializers.CharField(source="reporter.__str__", read_only=True)

    class Meta:
        model = DailyReport
        fields = [
            "id",
            "period",
            "unit",
            "unit_name",
            "day",
            "reporter",
            "reporter_name",
            "responsible_leader",
            "nil",
            "submitted_at",
            "late",
            "client_uuid",
            "lines",
        ]


class LineInputSerializer(serializers.Serializer):
    bottom_line = serializers.ChoiceField(choices=BottomLine.choices)
    status = serializers.ChoiceField(choices=LineStatus.choices)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class DailyReportSubmitSerializer(serializers.Serializer):
    period = serializers.IntegerField()
    unit = serializers.IntegerField()
    day = serializers.DateField()
    responsible_leader = serializers.CharField(max_length=50)
    nil = serializers.BooleanField(default=False)
    lines = LineInputSerializer(many=True, required=False)
    client_uuid = serializers.UUIDField(required=False, allow_null=True)


class DailyDigestSerializer(serializers.ModelSerializer):
    pdf_url = serializers.SerializerMethodField()
    xlsx_url = serializers.SerializerMethodField()

    class Meta:
        model = DailyDigest
        fields = [
            "id",
            "period",
            "day",
            "built_at",
            "reported",
            "missing",
            "abnormal",
            "figures",
            "pdf_url",
            "xlsx_url",
        ]

    def get_pdf_url(self, digest) -> str:
        return digest.pdf.get_absolute_url() if digest.pdf_id else ""

    def get_xlsx_url(self, digest) -> str:
        return digest.xlsx.get_absolute_url() if digest.xlsx_id else ""


class WeeklyReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = WeeklyReport
        fields = ["id", "week_start", "plan", "summary", "figures", "updated_at", "version"]


class WeeklyReportWriteSerializer(serializers.Serializer):
    week_start = serializers.DateField(help_text="The Monday.")
    plan = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    summary = serializers.CharField(max_length=20000, required=False, allow_blank=True, default="")
    version = serializers.IntegerField(
        required=False, allow_null=True, help_text="The version you saw; 0 for a new week."
    )


# --- Viewsets -------------------------------------------------------------------------------


def _units(ids) -> list[OrgUnit] | None:
    if ids is None:
        return None
    units = list(OrgUnit.objects.filter(pk__in=ids))
    if len(units) != len(set(ids)):
        raise ServiceError(_("Choose units from the list."), field="units")
    return units


class SensitivePeriodViewSet(
    VisibleViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Sensitive periods the caller takes part in (the office and city leaders: all)."""

    model = SensitivePeriod
    allowed_roles = READERS
    serializer_class = SensitivePeriodSerializer
    filterset_fields = ["active"]
    ordering_fields = ["start_date", "end_date", "name"]
    ordering = ["-start_date", "-id"]

    def decorate_queryset(self, queryset):
        return queryset.prefetch_related("units")

    def get_permissions(self):
        if self.action in ("create", "partial_update"):
            self.allowed_roles = MANAGE_ROLES
        return super().get_permissions()

    @extend_schema(
        request=SensitivePeriodWriteSerializer, responses={201: SensitivePeriodSerializer}
    )
    def create(self, request):
        """Open a period (the office). Without ``units``, every active district bureau and
        affiliated unit reports."""
        data = SensitivePeriodWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        units = _units(values.pop("units", None))
        period = services.period_create(actor=request.user, units=units, **values)
        return Response(
            SensitivePeriodSerializer(self.get_queryset().get(pk=period.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=SensitivePeriodWriteSerializer, responses=SensitivePeriodSerializer)
    def partial_update(self, request, pk=None):
        period = self.get_object()
        data = SensitivePeriodWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        units = _units(values.pop("units", None))
        period = services.period_update(actor=request.user, period=period, units=units, **values)
        return Response(SensitivePeriodSerializer(self.get_queryset().get(pk=period.pk)).data)


class DailyReportViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Daily bottom-line reports. A liaison files the report of a unit in their scope; the same
    client UUID sent again is answered once (same content) or refused with 409."""

    model = DailyReport
    allowed_roles = (*READ_ALL_ROLES, Role.LEADER, Role.UNIT_LIAISON)
    serializer_class = DailyReportSerializer
    filterset_class = DailyReportApiFilterSet
    ordering_fields = ["day", "submitted_at"]
    ordering = ["-day", "unit__path"]

    def decorate_queryset(self, queryset):
        return queryset.select_related("unit", "reporter").prefetch_related("lines__finding")

    def get_permissions(self):
        if self.action == "create":
            self.allowed_roles = (Role.UNIT_LIAISON, *MANAGE_ROLES)
        elif self.action == "to_finding":
            self.allowed_roles = MANAGE_ROLES
        return super().get_permissions()

    @extend_schema(
        request=DailyReportSubmitSerializer,
        responses={
            201: DailyReportSerializer,
            200: DailyReportSerializer,
            404: OpenApiResponse(ErrorSerializer, description="No such period or unit in view."),
        },
    )
    def create(self, request):
        """File (or, before the cut-off, correct) a unit's report for a day. ``nil``: all five
        lines normal, no ``lines`` needed. Answers 201 when filed, 200 for a correction or a
        retry of the same client UUID."""
        data = DailyReportSubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        period = get_object_or_404(SensitivePeriod.objects.visible_to(request.user), pk=v["period"])
        unit = get_object_or_404(OrgUnit.objects.visible_to(request.user), pk=v["unit"])
        report, created = services.daily_report_submit(
            actor=request.user,
            period=period,
            unit=unit,
            day=v["day"],
            lines=[dict(line) for line in v.get("lines") or []],
            responsible_leader=v["responsible_leader"],
            nil=v["nil"],
            client_uuid=v.get("client_uuid"),
        )
        return Response(
            DailyReportSerializer(self.get_queryset().get(pk=report.pk)).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(request=None, responses={201: DailyReportSerializer})
    @action(detail=True, methods=["post"], url_path=r"lines/(?P<bottom_line>[a-z_]+)/finding")
    def to_finding(self, request, pk=None, bottom_line=None):
        """Record an abnormal line as a finding at the unit (the office)."""
        report = self.get_object()
        line = get_object_or_404(report.lines.all(), bottom_line=bottom_line)
        services.abnormal_line_to_finding(actor=request.user, line=line)
        return Response(
            DailyReportSerializer(self.get_queryset().get(pk=report.pk)).data,
            status=status.HTTP_201_CREATED,
        )


class DailyDigestViewSet(VisibleViewSetMixin, viewsets.ReadOnlyModelViewSet):
    """Digests built at each day's cut-off (the office and the city's leaders)."""

    model = DailyDigest
    allowed_roles = (*READ_ALL_ROLES, Role.LEADER)
    serializer_class = DailyDigestSerializer
    filterset_fields = ["period", "day"]
    ordering_fields = ["day"]
    ordering = ["-day", "-id"]

    def decorate_queryset(self, queryset):
        return queryset.select_related("pdf", "xlsx")


class WeeklyReportViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The office's weekly plans and summaries, with the week's figures counted."""

    model = WeeklyReport
    allowed_roles = (*READ_ALL_ROLES, Role.LEADER)
    serializer_class = WeeklyReportSerializer
    ordering_fields = ["week_start"]
    ordering = ["-week_start"]

    def get_permissions(self):
        if self.action == "create":
            self.allowed_roles = MANAGE_ROLES
        return super().get_permissions()

    @extend_schema(request=WeeklyReportWriteSerializer, responses={201: WeeklyReportSerializer})
    def create(self, request):
        """Write or update the week's plan and summary; send the ``version`` you saw (a stale
        one answers 409). The figures are recounted."""
        data = WeeklyReportWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report, created = services.weekly_save(actor=request.user, **data.validated_data)
        return Response(
            WeeklyReportSerializer(report).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("sensitive-periods", SensitivePeriodViewSet, basename="api-sensitive-period")
router.register("daily-reports", DailyReportViewSet, basename="api-daily-report")
router.register("daily-digests", DailyDigestViewSet, basename="api-daily-digest")
router.register("weekly-reports", WeeklyReportViewSet, basename="api-weekly-report")

urlpatterns = router.urls
