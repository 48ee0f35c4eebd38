from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from civilaffairs.api.fields import ChoiceLabelField
from civilaffairs.api.rows import RowValue
from civilaffairs.api.serializers import OrgUnitRefSerializer
from civilaffairs.choices import BottomLine, Cornerstone
from civilaffairs.models import OrgUnit, User
from inspections.choices import Category, Disposition, Outcome, PhotoKind, Severity
from inspections.models import (
    ChecklistItem,
    ChecklistTemplate,
    Finding,
    InspectionPlan,
    ItemResult,
    Photo,
    Visit,
)


class PlanRefSerializer(serializers.ModelSerializer):
    method_display = ChoiceLabelField("method")

    class Meta:
        model = InspectionPlan
        fields = ["id", "code", "title", "method", "method_display"]
        read_only_fields = fields


class PlanSerializer(serializers.ModelSerializer):
    method_display = ChoiceLabelField("method")
    state_display = ChoiceLabelField("state")
    visit_count = serializers.IntegerField(read_only=True)
    visited_count = serializers.IntegerField(read_only=True)
    finding_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = InspectionPlan
        fields = [
            "id",
            "code",
            "title",
            "method",
            "method_display",
            "secret",
            "description",
            "period_start",
            "period_end",
            "state",
            "state_display",
            "scope_mode",
            "draw_count",
            "draw_seed",
            "version",
            "visit_count",
            "visited_count",
            "finding_count",
            "created_at",
            "approved_at",
        ]
        read_only_fields = fields


class PlanCreateSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    method = serializers.ChoiceField(choices=InspectionPlan._meta.get_field("method").choices)
    period_start = serializers.DateField()
    period_end = serializers.DateField()
    description = serializers.CharField(required=False, allow_blank=True, default="")
    secret = serializers.BooleanField(required=False, allow_null=True, default=None)
    templates = serializers.PrimaryKeyRelatedField(
        many=True, queryset=ChecklistTemplate.objects.filter(is_current=True)
    )
    team = serializers.PrimaryKeyRelatedField(many=True, queryset=User.objects.none())
    targets = serializers.PrimaryKeyRelatedField(
        many=True, required=False, queryset=OrgUnit.objects.all()
    )
    scope_mode = serializers.ChoiceField(choices=["explicit", "draw"], default="explicit")
    institution_types = serializers.ListField(
        child=serializers.CharField(), required=False, default=list
    )
    districts = serializers.PrimaryKeyRelatedField(
        many=True,
        required=False,
        default=list,
        queryset=OrgUnit.objects.filter(kind="district_bureau"),
    )
    draw_count = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=1000
    )
    draw_seed = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, max_value=2**62
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].child_relation.queryset = User.objects.filter(
            roles__role="inspector", is_active=True
        ).distinct()


class TransitionSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    version = serializers.IntegerField(required=False, allow_null=True)


class ChecklistItemSerializer(serializers.ModelSerializer):
    bottom_line_display = ChoiceLabelField("bottom_line")

    class Meta:
        model = ChecklistItem
        fields = [
            "id",
            "position",
            "bottom_line",
            "bottom_line_display",
            "cornerstone",
            "category",
            "text",
            "guidance",
            "legal_basis",
            "default_severity",
        ]
        read_only_fields = fields


class ChecklistSerializer(serializers.ModelSerializer):
    items = ChecklistItemSerializer(many=True, read_only=True)

    class Meta:
        model = ChecklistTemplate
        fields = [
            "id",
            "code",
            "name",
            "version",
            "description",
            "institution_types",
            "is_current",
            "items",
        ]
        read_only_fields = fields


class ChecklistItemWriteSerializer(serializers.Serializer):
    bottom_line = serializers.ChoiceField(choices=BottomLine.choices)
    cornerstone = serializers.ChoiceField(
        choices=Cornerstone.choices, required=False, allow_blank=True, default=""
    )
    category = serializers.ChoiceField(choices=Category.choices)
    text = serializers.CharField(max_length=300)
    guidance = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)
    legal_basis = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=300
    )
    default_severity = serializers.ChoiceField(choices=Severity.choices, default="general")


class ChecklistWriteSerializer(serializers.Serializer):
    code = serializers.SlugField(max_length=40, help_text="Same code: a new version of it.")
    name = serializers.CharField(max_length=120)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    institution_types = serializers.ListField(
        child=serializers.ChoiceField(choices=OrgUnit._meta.get_field("institution_type").choices),
        required=False,
        default=list,
    )
    items = ChecklistItemWriteSerializer(many=True, allow_empty=False)


class TargetSerializer(serializers.ModelSerializer):
    institution_type_display = ChoiceLabelField("institution_type")

    class Meta:
        model = OrgUnit
        fields = ["id", "name", "address", "latitude", "longitude", "institution_type_display"]
        read_only_fields = fields


class VisitSummarySerializer(serializers.ModelSerializer):
    plan = PlanRefSerializer(read_only=True)
    target = TargetSerializer(read_only=True)
    state_display = ChoiceLabelField("state")

    class Meta:
        model = Visit
        fields = [
            "id",
            "plan",
            "target",
            "scheduled_date",
            "state",
            "state_display",
            "started_at",
            "submitted_at",
            "version",
        ]
        read_only_fields = fields


class ResultSerializer(serializers.ModelSerializer):
    class Meta:
        model = ItemResult
        fields = ["id", "item", "outcome", "note", "client_uuid"]
        read_only_fields = fields


class FindingSerializer(serializers.ModelSerializer):
    target = OrgUnitRefSerializer(read_only=True)
    item = serializers.IntegerField(source="item_result.item_id", read_only=True, default=None)
    state_display = ChoiceLabelField("state")
    severity_display = ChoiceLabelField("severity")
    category_display = ChoiceLabelField("category")
    bottom_line_display = ChoiceLabelField("bottom_line")
    disposition_display = ChoiceLabelField("disposition")
    is_repeat = serializers.BooleanField(
        read_only=True,
        help_text="The same problem (unit and category) was found within the repeat window "
        "before (REPEAT_PROBLEM_MONTHS).",
    )
    repeat_of = serializers.SerializerMethodField(
        help_text="Id of the finding this one repeats; null when it repeats nothing or when "
        "the caller may not see that finding."
    )

    class Meta:
        model = Finding
        fields = [
            "id",
            "code",
            "client_uuid",
            "visit",
            "item",
            "target",
            "source",
            "bottom_line",
            "bottom_line_display",
            "cornerstones",
            "category",
            "category_display",
            "severity",
            "severity_display",
            "title",
            "description",
            "location",
            "found_at",
            "disposition",
            "disposition_display",
            "transferred_to",
            "fix_note",
            "state",
            "state_display",
            "filed_at",
            "is_repeat",
            "repeat_of",
            "version",
        ]
        read_only_fields = fields

    # A list reads rows as values (civilaffairs.api.rows); these two from the list's columns.
    row_values = {
        "is_repeat": RowValue(("repeat_of_id",), lambda repeat_of: repeat_of is not None),
        "repeat_of": RowValue(
            ("repeat_of_id", "repeat_of_visible"),
            lambda repeat_of, visible: repeat_of if visible else None,
        ),
    }

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_repeat_of(self, finding) -> int | None:
        if finding.repeat_of_id is None:
            return None
        visible = getattr(finding, "repeat_of_visible", None)  # annotated by list endpoints
        if visible is None:
            user = getattr(self.context.get("request"), "user", None)
            if user is None:
                return None  # nobody to ask for: say nothing rather than too much
            visible = Finding.objects.visible_to(user).filter(pk=finding.repeat_of_id).exists()
        return finding.repeat_of_id if visible else None


class FindingCreateSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(required=False, allow_null=True)
    visit = serializers.IntegerField()
    item = serializers.IntegerField(required=False, allow_null=True)
    bottom_line = serializers.ChoiceField(choices=BottomLine.choices, required=False)
    cornerstones = serializers.ListField(
        child=serializers.ChoiceField(choices=Cornerstone.choices), required=False, default=list
    )
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )
    location = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    found_at = serializers.DateTimeField(required=False, allow_null=True)
    disposition = serializers.ChoiceField(
        choices=Disposition.choices, required=False, allow_blank=True, default=""
    )
    transferred_to = serializers.IntegerField(required=False, allow_null=True)
    fix_note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class FindingAmendSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000)
    version = serializers.IntegerField(required=False, allow_null=True)
    bottom_line = serializers.ChoiceField(choices=BottomLine.choices, required=False)
    category = serializers.ChoiceField(choices=Category.choices, required=False)
    severity = serializers.ChoiceField(choices=Severity.choices, required=False)
    title = serializers.CharField(max_length=200, required=False)
    description = serializers.CharField(required=False, allow_blank=True, max_length=5000)
    location = serializers.CharField(required=False, allow_blank=True, max_length=200)


class PhotoSerializer(serializers.ModelSerializer):
    finding = serializers.PrimaryKeyRelatedField(read_only=True)
    item = serializers.IntegerField(source="item_result.item_id", read_only=True, default=None)
    url = serializers.SerializerMethodField()
    thumbnail_url = serializers.SerializerMethodField()

    class Meta:
        model = Photo
        fields = [
            "uuid",
            "client_uuid",
            "visit",
            "finding",
            "item",
            "kind",
            "sha256",
            "width",
            "height",
            "size",
            "captured_at",
            "latitude",
            "longitude",
            "caption",
            "uploaded_at",
            "url",
            "thumbnail_url",
        ]
        read_only_fields = fields

    def get_url(self, photo) -> str:
        return reverse("inspections:photo-file", args=[photo.uuid])

    def get_thumbnail_url(self, photo) -> str:
        return reverse("inspections:photo-thumbnail", args=[photo.uuid])


class PhotoUploadSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(required=False, allow_null=True)
    visit = serializers.IntegerField()
    finding = serializers.IntegerField(required=False, allow_null=True)
    finding_client_uuid = serializers.UUIDField(required=False, allow_null=True)
    item = serializers.IntegerField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=PhotoKind.choices, default=PhotoKind.EVIDENCE)
    captured_at = serializers.DateTimeField(required=False, allow_null=True)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, required=False, allow_null=True, min_value=-90, max_value=90
    )
    longitude = serializers.DecimalField(
        max_digits=9,
        decimal_places=6,
        required=False,
        allow_null=True,
        min_value=-180,
        max_value=180,
    )
    caption = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)
    file = serializers.FileField(allow_empty_file=True)


class CheckinSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(required=False, allow_null=True)
    at = serializers.DateTimeField(required=False, allow_null=True)
    latitude = serializers.DecimalField(
        max_digits=12, decimal_places=8, min_value=-90, max_value=90
    )
    longitude = serializers.DecimalField(
        max_digits=12, decimal_places=8, min_value=-180, max_value=180
    )
    accuracy = serializers.FloatField(
        required=False, allow_null=True, min_value=0, max_value=100000
    )


class ResultWriteSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(required=False, allow_null=True)
    item = serializers.IntegerField()
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class SubmitSerializer(serializers.Serializer):
    client_uuid = serializers.UUIDField(required=False, allow_null=True)
    summary = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class AmendSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=5000)


def choices_of(enum):
    return [[value, str(label)] for value, label in enum.choices]


class VisitDetailSerializer(VisitSummarySerializer):
    checklists = serializers.SerializerMethodField()
    results = ResultSerializer(many=True, read_only=True)
    findings = FindingSerializer(many=True, read_only=True)
    photos = PhotoSerializer(many=True, read_only=True)
    checkin = serializers.SerializerMethodField()
    departments = serializers.SerializerMethodField()
    choices = serializers.SerializerMethodField()

    class Meta(VisitSummarySerializer.Meta):
        fields = [
            *VisitSummarySerializer.Meta.fields,
            "summary",
            "checklists",
            "results",
            "findings",
            "photos",
            "checkin",
            "departments",
            "choices",
        ]
        read_only_fields = fields

    def get_checklists(self, visit) -> list[dict]:
        return ChecklistSerializer(visit.templates.all(), many=True).data

    def get_checkin(self, visit) -> dict | None:
        if not visit.started_at:
            return None
        return {
            "at": visit.started_at,
            "latitude": visit.checkin_latitude,
            "longitude": visit.checkin_longitude,
            "accuracy_m": visit.checkin_accuracy_m,
            "distance_m": visit.checkin_distance_m,
            "far": visit.checkin_far,
        }

    def get_departments(self, visit) -> list[dict]:
        return list(
            OrgUnit.objects.filter(kind="department", active=True)
            .order_by("code")
            .values("id", "name")
        )

    def get_choices(self, visit) -> dict:
        return {
            "bottom_line": choices_of(BottomLine),
            "category": choices_of(Category),
            "severity": choices_of(Severity),
            "disposition": choices_of(Disposition),
            "outcome": choices_of(Outcome),
        }
