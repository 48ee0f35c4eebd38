"""Flash reports over the API: the same filterset, visibility and services as the pages."""

from django.db.models import Count, Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from civilaffairs.api.base import VisibleViewSetMixin
from civilaffairs.api.fields import ChoiceLabelField
from civilaffairs.choices import Role
from inspections.models import Finding, Visit
from rectification.models import Rectification
from reports import services
from reports.flash_filtersets import FlashReportFilterSet
from reports.flash_querysets import same_day_deadline
from reports.models import FlashRecipient, FlashReport

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)
READERS = (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.LEADER)
TRANSITIONS = sorted(name for name in services.STEPS if name != "mark_read")


class FlashReportSerializer(serializers.ModelSerializer):
    issue_label = serializers.CharField(read_only=True)
    state_display = ChoiceLabelField("state")
    signed_by_name = serializers.SerializerMethodField()
    recipient_count = serializers.IntegerField(read_only=True)
    read_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = FlashReport
        fields = [
            "id",
            "year",
            "serial",
            "issue_label",
            "title",
            "state",
            "state_display",
            "occurred_at",
            "found_at",
            "on_time",
            "submitted_at",
            "approved_at",
            "signed_at",
            "signed_by_name",
            "distributed_at",
            "recipient_count",
            "read_count",
            "version",
        ]
        read_only_fields = fields

    def get_signed_by_name(self, report) -> str:
        return str(report.signed_by) if report.signed_by_id else ""


class RecipientSerializer(serializers.ModelSerializer):
    name = serializers.CharField(source="user.__str__", read_only=True)

    class Meta:
        model = FlashRecipient
        fields = ["user", "name", "delivered_at", "read_at"]
        read_only_fields = fields


class FlashReportDetailSerializer(FlashReportSerializer):
    findings = serializers.SerializerMethodField()
    visits = serializers.SerializerMethodField()
    rectifications = serializers.SerializerMethodField()
    recipients = RecipientSerializer(many=True, read_only=True)
    same_day_deadline = serializers.SerializerMethodField()
    pdf = serializers.SerializerMethodField()
    created_by_name = serializers.CharField(source="created_by.__str__", read_only=True)

    class Meta(FlashReportSerializer.Meta):
        fields = [
            *FlashReportSerializer.Meta.fields,
            "situation",
            "problems",
            "causes",
            "suggestions",
            "issuing_office",
            "created_by_name",
            "created_at",
            "updated_at",
            "same_day_deadline",
            "findings",
            "visits",
            "rectifications",
            "recipients",
            "pdf",
        ]
        read_only_fields = fields

    def _visible_ids(self, report, field, model) -> list[int]:
        """Only the links the caller may see (a secret plan's finding is not mentioned)."""
        user = self.context["request"].user
        visible = model.objects.visible_to(user).values("pk")
        return list(
            getattr(report, field)
            .filter(pk__in=visible)
            .order_by("pk")
            .values_list("pk", flat=True)
        )

    def get_findings(self, report) -> list[int]:
        return self._visible_ids(report, "findings", Finding)

    def get_visits(self, report) -> list[int]:
        return self._visible_ids(report, "visits", Visit)

    def get_rectifications(self, report) -> list[int]:
        return self._visible_ids(report, "rectifications", Rectification)

    def get_same_day_deadline(self, report) -> str:
        return same_day_deadline(report.found_at).isoformat()

    def get_pdf(self, report) -> str | None:
        """Where the PDF is downloaded (rendered on demand when the stored one is stale)."""
        from django.urls import NoReverseMatch, reverse

        try:
            return reverse("reports:flash-pdf", args=[report.pk])
        except NoReverseMatch:
            return None


class FlashReportWriteSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200, required=False, allow_blank=True)
    found_at = serializers.DateTimeField(required=False)
    occurred_at = serializers.DateTimeField(required=False, allow_null=True)
    situation = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    problems = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    causes = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    suggestions = serializers.CharField(required=False, allow_blank=True, max_length=20000)
    issuing_office = serializers.CharField(required=False, allow_blank=True, max_length=100)
    findings = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    visits = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False)
    rectifications = serializers.ListField(
        child=serializers.IntegerField(min_value=1), required=False
    )


class FlashReportCreateSerializer(FlashReportWriteSerializer):
    title = serializers.CharField(max_length=200)
    found_at = serializers.DateTimeField()


class FlashReportUpdateSerializer(FlashReportWriteSerializer):
    version = serializers.IntegerField(
        help_text="The version you saw; a stale one answers 409 and changes nothing."
    )


class FlashTransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=TRANSITIONS)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    version = serializers.IntegerField(required=False, allow_null=True)
    recipients = serializers.ListField(
        child=serializers.IntegerField(min_value=1),
        required=False,
        default=list,
        help_text="Leaders' user ids, for distribute.",
    )


class FlashReportViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """五五快报 the caller may see: the office all of them; a leader those distributed to them
    (a leader of the whole city also those waiting for sign-off and every issued one)."""

    model = FlashReport
    allowed_roles = READERS
    serializer_class = FlashReportSerializer
    filterset_class = FlashReportFilterSet
    ordering_fields = ["found_at", "signed_at", "serial", "state"]
    ordering = ["-found_at", "-id"]

    def decorate_queryset(self, queryset):
        queryset = queryset.select_related("signed_by", "created_by").annotate(
            recipient_count=Count("recipients", distinct=True),
            read_count=Count(
                "recipients", filter=Q(recipients__read_at__isnull=False), distinct=True
            ),
        )
        if self.action != "list":
            queryset = queryset.prefetch_related("recipients__user")
        return queryset

    def get_serializer_class(self):
        return FlashReportSerializer if self.action == "list" else FlashReportDetailSerializer

    def get_permissions(self):
        if self.action in ("create", "partial_update"):
            self.allowed_roles = OFFICE
        return super().get_permissions()

    def _detail(self, report, code=status.HTTP_200_OK):
        fresh = self.get_queryset().get(pk=report.pk)
        return Response(
            FlashReportDetailSerializer(fresh, context=self.get_serializer_context()).data,
            status=code,
        )

    @extend_schema(
        request=FlashReportCreateSerializer, responses={201: FlashReportDetailSerializer}
    )
    def create(self, request):
        """Start a draft (the office). Links are ids of findings, visits and orders the caller
        may see."""
        data = FlashReportCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.flash_create(actor=request.user, **data.validated_data)
        return self._detail(report, status.HTTP_201_CREATED)

    @extend_schema(request=FlashReportUpdateSerializer, responses=FlashReportDetailSerializer)
    def partial_update(self, request, pk=None):
        """Save a draft or a returned report (autosave-friendly): send the fields that changed
        and the ``version`` you saw."""
        report = self.get_object()
        data = FlashReportUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        version = values.pop("version")
        report = services.flash_update(report=report, actor=request.user, version=version, **values)
        return self._detail(report)

    @extend_schema(request=FlashTransitionSerializer, responses=FlashReportDetailSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Submit, return, approve, sign off or distribute. Send the ``version`` you saw: a
        stale one answers 409 and changes nothing."""
        report = self.get_object()
        data = FlashTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.flash_transition(report=report, actor=request.user, **data.validated_data)
        return self._detail(report)

    @extend_schema(request=None, responses=FlashReportDetailSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        """The read receipt of a leader the report was distributed to (recorded once)."""
        report = self.get_object()
        services.flash_transition(report=report, actor=request.user, action="mark_read")
        return self._detail(report)
