"""Complaint and commitment API: the same services, filtersets and visibility as the pages.
Complainants' names, phones and ID numbers are masked in every response; the ``reveal`` action
returns them to whoever may see them, and records the reveal on the audit trail."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_serializer
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from civilaffairs.api.base import VisibleViewSetMixin
from civilaffairs.api.fields import ChoiceLabelField
from civilaffairs.api.serializers import OrgUnitRefSerializer
from civilaffairs.choices import OrgKind, Role
from civilaffairs.models import Attachment, OrgUnit
from civilaffairs.validators import validate_id_number
from rectification import commitments as commitment_service
from rectification import complaints as complaint_service
from rectification.choices import (
    CommitmentStanding,
    ComplaintChannel,
    ComplaintDomain,
    ComplaintNature,
    ReplyTarget,
    Satisfaction,
)
from rectification.figures import complaint_figures
from rectification.filtersets import CommitmentFilterSet, ComplaintFilterSet
from rectification.models import (
    Commitment,
    CommitmentMilestone,
    CommitmentProgress,
    Complaint,
    Rectification,
)

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)
COMPLAINT_ROLES = (*OFFICE, Role.LEADER, Role.UNIT_LIAISON, Role.DEPARTMENT)
COMMITMENT_ROLES = (*OFFICE, Role.LEADER, Role.DEPARTMENT)


class OrderRefSerializer(serializers.ModelSerializer):
    responsible_unit = OrgUnitRefSerializer(read_only=True)

    class Meta:
        model = Rectification
        fields = ["id", "code", "responsible_unit", "deadline", "state"]
        read_only_fields = fields


class ComplaintSerializer(serializers.ModelSerializer):
    """A complaint with the complainant masked (张*明, 138****5678, 4401**********123X)."""

    complainant_name = serializers.CharField(source="complainant_name_masked", read_only=True)
    complainant_phone = serializers.CharField(source="complainant_phone_masked", read_only=True)
    complainant_id_number = serializers.CharField(
        source="complainant_id_number_masked", read_only=True
    )
    district = OrgUnitRefSerializer(read_only=True)
    order = serializers.SerializerMethodField()
    state_display = ChoiceLabelField("state")
    channel_display = ChoiceLabelField("channel")
    domain_display = ChoiceLabelField("domain")
    nature_display = ChoiceLabelField("nature")

    class Meta:
        model = Complaint
        fields = [
            "id",
            "code",
            "channel",
            "channel_display",
            "referring_body",
            "reference_number",
            "complainant_name",
            "complainant_phone",
            "complainant_id_number",
            "consent",
            "domain",
            "domain_display",
            "nature",
            "nature_display",
            "title",
            "content",
            "district",
            "received_at",
            "state",
            "state_display",
            "order",
            "triaged_at",
            "reply_to",
            "reply_content",
            "replied_at",
            "reply_on_time",
            "satisfaction",
            "visited_at",
            "times_reopened",
            "closed_at",
            "merged_into",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(OrderRefSerializer(allow_null=True))
    def get_order(self, complaint):
        order = complaint_service.order_of(complaint)
        return OrderRefSerializer(order).data if order is not None else None


class ComplaintCreateSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=ComplaintChannel.choices)
    domain = serializers.ChoiceField(choices=ComplaintDomain.choices)
    nature = serializers.ChoiceField(choices=ComplaintNature.choices)
    title = serializers.CharField(max_length=200)
    content = serializers.CharField(max_length=10000)
    complainant_name = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=50
    )
    complainant_phone = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=30
    )
    complainant_id_number = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        max_length=18,
        validators=[validate_id_number],
        help_text="18-character resident ID number (check character verified).",
    )
    consent = serializers.BooleanField(required=False, default=False)
    referring_body = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100
    )
    reference_number = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=60
    )
    district = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.none(), required=False, allow_null=True, default=None
    )
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    attachments = serializers.SlugRelatedField(
        slug_field="uuid",
        queryset=Attachment.objects.filter(content_type__isnull=True),
        many=True,
        required=False,
        help_text="UUIDs of files uploaded beforehand (letters, screenshots).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["district"].queryset = OrgUnit.objects.visible_to(request.user).filter(
                kind=OrgKind.DISTRICT_BUREAU
            )


class ComplaintTransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(complaint_service.STEPS))
    version = serializers.IntegerField(required=False, allow_null=True)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    responsible_unit = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.none(), required=False, allow_null=True, default=None
    )
    supervising_department = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.none(), required=False, allow_null=True, default=None
    )
    working_days = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=250
    )
    reply_to = serializers.ChoiceField(
        choices=ReplyTarget.choices, required=False, allow_blank=True, default=""
    )
    content = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    satisfaction = serializers.ChoiceField(
        choices=Satisfaction.choices, required=False, allow_blank=True, default=""
    )
    into = serializers.PrimaryKeyRelatedField(
        queryset=Complaint.objects.none(), required=False, allow_null=True, default=None
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            units = OrgUnit.objects.visible_to(request.user).filter(active=True)
            self.fields["responsible_unit"].queryset = units
            self.fields["supervising_department"].queryset = units.filter(kind=OrgKind.DEPARTMENT)
            self.fields["into"].queryset = Complaint.objects.visible_to(request.user)


class RevealRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200)


class RevealSerializer(serializers.Serializer):
    name = serializers.CharField()
    phone = serializers.CharField()
    id_number = serializers.CharField()


class ComplaintViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Complaints and referred cases the caller may see (contacts masked). ``phone`` and
    ``id_number`` find a complainant by the whole number (never a part of it), among the cases
    whose contact the caller may reveal."""

    model = Complaint
    allowed_roles = COMPLAINT_ROLES
    serializer_class = ComplaintSerializer
    filterset_class = ComplaintFilterSet
    ordering_fields = ["received_at", "code", "state"]
    ordering = ["-received_at", "-id"]

    def decorate_queryset(self, queryset):
        return queryset.select_related("district", "order__responsible_unit")

    def get_permissions(self):
        if self.action == "create":
            self.allowed_roles = OFFICE
        return super().get_permissions()

    @extend_schema(request=ComplaintCreateSerializer, responses={201: ComplaintSerializer})
    def create(self, request):
        """Register a complaint (the office). Personal data needs ``consent``."""
        data = ComplaintCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        complaint = complaint_service.complaint_create(actor=request.user, **data.validated_data)
        return Response(
            ComplaintSerializer(self.get_queryset().get(pk=complaint.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=ComplaintTransitionSerializer, responses=ComplaintSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Triage, reply, return visit (unsatisfied reopens), close or merge. Send the
        ``version`` you saw: a stale one answers 409."""
        complaint = self.get_object()
        data = ComplaintTransitionSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        complaint_service.complaint_transition(
            complaint=complaint, actor=request.user, **data.validated_data
        )
        return Response(ComplaintSerializer(self.get_queryset().get(pk=complaint.pk)).data)

    @extend_schema(request=RevealRequestSerializer, responses=RevealSerializer)
    @action(detail=True, methods=["post"])
    def reveal(self, request, pk=None):
        """The complainant's name, phone and ID number unmasked, for the office and the
        handling unit only; every reveal is recorded on the audit trail with its reason."""
        complaint = self.get_object()
        data = RevealRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contact = complaint_service.complaint_reveal(
            complaint=complaint, actor=request.user, reason=data.validated_data["reason"]
        )
        response = Response(RevealSerializer(contact).data)
        response["Cache-Control"] = "no-store"
        return response


# --- Figures --------------------------------------------------------------------------------


class FigureSerializer(serializers.Serializer):
    label = serializers.CharField()
    count = serializers.IntegerField()
    query = serializers.DictField(child=serializers.CharField())


class RateSerializer(serializers.Serializer):
    label = serializers.CharField()
    value = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True)
    text = serializers.CharField()
    numerator = FigureSerializer()
    denominator = FigureSerializer()


@extend_schema_serializer(many=False)  # the figures of the list, not a list of them
class ComplaintFiguresSerializer(serializers.Serializer):
    total = FigureSerializer()
    by_channel = FigureSerializer(many=True)
    by_domain = FigureSerializer(many=True)
    by_nature = FigureSerializer(many=True)
    closure = RateSerializer()
    on_time_reply = RateSerializer()
    satisfaction = FigureSerializer(many=True)
    satisfaction_rate = RateSerializer()


class ComplaintFiguresViewSet(VisibleViewSetMixin, viewsets.GenericViewSet):
    """Totals by channel, domain and nature; closure, on-time reply and satisfaction rates
    (to one decimal, half up; null over nothing). Filter by the complaint filters, e.g.
    ``received_from``, ``received_to``, ``district``. Each figure carries the list filter
    (``query``) that lists the cases behind it."""

    model = Complaint
    allowed_roles = COMPLAINT_ROLES
    serializer_class = ComplaintFiguresSerializer
    filterset_class = ComplaintFilterSet
    pagination_class = None

    @extend_schema(responses=ComplaintFiguresSerializer)
    def list(self, request):
        from rectification.views.complaints import FIGURE_LABELS

        queryset = self.filter_queryset(self.get_queryset())
        figures = complaint_figures(queryset, FIGURE_LABELS)
        return Response(ComplaintFiguresSerializer(figures).data)


# --- Commitments ----------------------------------------------------------------------------


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = CommitmentMilestone
        fields = ["id", "title", "due_date", "reached_at", "note"]
        read_only_fields = ["id", "reached_at", "note"]


class ProgressSerializer(serializers.ModelSerializer):
    author = serializers.StringRelatedField(read_only=True)

    class Meta:
        model = CommitmentProgress
        fields = ["id", "at", "author", "content", "milestone"]
        read_only_fields = fields


class CommitmentSerializer(serializers.ModelSerializer):
    department = OrgUnitRefSerializer(read_only=True)
    order = OrderRefSerializer(read_only=True)
    deadline = serializers.DateField(source="order.deadline", read_only=True)
    standing = serializers.SerializerMethodField()
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = Commitment
        fields = [
            "id",
            "code",
            "problem",
            "department",
            "promise",
            "public",
            "deadline",
            "standing",
            "order",
            "milestones",
            "created_at",
            "version",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ChoiceField(choices=CommitmentStanding.choices))
    def get_standing(self, commitment):
        return commitment_service.standing(commitment)


class CommitmentDetailSerializer(CommitmentSerializer):
    progress = ProgressSerializer(many=True, read_only=True)

    class Meta(CommitmentSerializer.Meta):
        fields = [*CommitmentSerializer.Meta.fields, "progress"]
        read_only_fields = fields


class MilestoneInputSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    due_date = serializers.DateField()


class CommitmentCreateSerializer(serializers.Serializer):
    problem = serializers.CharField(max_length=200)
    department = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.none())
    promise = serializers.CharField(max_length=5000)
    deadline = serializers.DateField()
    public = serializers.BooleanField(required=False, default=True)
    milestones = MilestoneInputSerializer(many=True, required=False, default=list)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        if request is not None:
            self.fields["department"].queryset = OrgUnit.objects.visible_to(request.user).filter(
                kind=OrgKind.DEPARTMENT, active=True
            )


class CommitmentUpdateSerializer(serializers.Serializer):
    version = serializers.IntegerField(required=False, allow_null=True)
    problem = serializers.CharField(max_length=200, required=False)
    promise = serializers.CharField(max_length=5000, required=False)
    public = serializers.BooleanField(required=False)
    milestones = MilestoneInputSerializer(
        many=True, required=False, help_text="Replaces the milestones not reached yet."
    )


class ProgressInputSerializer(serializers.Serializer):
    content = serializers.CharField(max_length=5000)
    reached = serializers.IntegerField(
        required=False, allow_null=True, default=None, help_text="A milestone now reached."
    )


def _milestone_pairs(items):
    return [(m["title"], m["due_date"]) for m in items]


class CommitmentViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Public commitments the caller may see, with milestones; progress on the detail."""

    model = Commitment
    allowed_roles = COMMITMENT_ROLES
    serializer_class = CommitmentSerializer
    filterset_class = CommitmentFilterSet
    ordering_fields = ["created_at", "code"]
    ordering = ["-created_at", "-id"]

    def decorate_queryset(self, queryset):
        queryset = queryset.select_related("department", "order__responsible_unit")
        queryset = queryset.prefetch_related("milestones")
        if self.action != "list":
            queryset = queryset.prefetch_related(
                Prefetch("progress", queryset=CommitmentProgress.objects.select_related("author"))
            )
        return queryset

    def get_serializer_class(self):
        return CommitmentSerializer if self.action == "list" else CommitmentDetailSerializer

    def get_permissions(self):
        if self.action in ("create", "partial_update"):
            self.allowed_roles = OFFICE
        return super().get_permissions()

    def _detail(self, pk, code=status.HTTP_200_OK):
        return Response(
            CommitmentDetailSerializer(self.get_queryset().get(pk=pk)).data, status=code
        )

    @extend_schema(request=CommitmentCreateSerializer, responses={201: CommitmentDetailSerializer})
    def create(self, request):
        """Record a commitment (the office); its order goes to the department."""
        data = CommitmentCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        values["milestones"] = _milestone_pairs(values.get("milestones", []))
        commitment = commitment_service.commitment_create(actor=request.user, **values)
        return self._detail(commitment.pk, status.HTTP_201_CREATED)

    @extend_schema(request=CommitmentUpdateSerializer, responses=CommitmentDetailSerializer)
    def partial_update(self, request, pk=None):
        """Change the wording, publication or pending milestones; send ``version`` (409 if
        stale)."""
        commitment = self.get_object()
        data = CommitmentUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        if "milestones" in values:
            values["milestones"] = _milestone_pairs(values["milestones"])
        commitment_service.commitment_update(actor=request.user, commitment=commitment, **values)
        return self._detail(commitment.pk)

    @extend_schema(request=ProgressInputSerializer, responses={201: CommitmentDetailSerializer})
    @action(detail=True, methods=["post"])
    def progress(self, request, pk=None):
        """A progress update (the office or the responsible department)."""
        commitment = self.get_object()
        data = ProgressInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        reached = data.validated_data["reached"]
        # The service checks that the milestone is this commitment's and not reached yet.
        reached = CommitmentMilestone(pk=reached) if reached is not None else None
        commitment_service.commitment_progress(
            actor=request.user,
            commitment=commitment,
            content=data.validated_data["content"],
            reached=reached,
        )
        return self._detail(commitment.pk, status.HTTP_201_CREATED)
