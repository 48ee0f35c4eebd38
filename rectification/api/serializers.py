from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from civilaffairs.api.fields import ChoiceLabelField
from civilaffairs.api.serializers import AttachmentSerializer, OrgUnitRefSerializer
from civilaffairs.models import Attachment, OrgUnit, User
from inspections.models import Finding
from rectification.choices import Priority, SourceType
from rectification.forms import liaison_serves
from rectification.models import ExtensionRequest, Rectification
from rectification.services import STEPS


class RectificationSerializer(serializers.ModelSerializer):
    responsible_unit = OrgUnitRefSerializer(read_only=True)
    supervising_department = OrgUnitRefSerializer(read_only=True)
    state_display = ChoiceLabelField("state")
    priority_display = ChoiceLabelField("priority")

    class Meta:
        model = Rectification
        fields = [
            "id",
            "code",
            "source_type",
            "finding",
            "title",
            "requirements",
            "responsible_unit",
            "supervising_department",
            "priority",
            "priority_display",
            "dispatched_at",
            "deadline",
            "deadline_provisional",
            "state",
            "state_display",
            "acknowledged_at",
            "submitted_at",
            "closed_at",
            "times_returned",
            "version",
        ]
        read_only_fields = fields


class OrderTransitionSerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=sorted(STEPS))
    note = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)
    version = serializers.IntegerField(required=False, allow_null=True)
    new_deadline = serializers.DateField(required=False, allow_null=True)
    responsible_unit = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.all(), required=False, allow_null=True
    )
    attachments = serializers.SlugRelatedField(
        slug_field="uuid",
        queryset=Attachment.objects.filter(content_type__isnull=True),
        many=True,
        required=False,
        help_text="UUIDs of files uploaded beforehand (evidence); required to report.",
    )


class ExtensionRequestSerializer(serializers.ModelSerializer):
    rectification_code = serializers.CharField(source="rectification.code", read_only=True)
    requested_by = serializers.StringRelatedField(read_only=True)
    decided_by = serializers.StringRelatedField(read_only=True)
    state_display = ChoiceLabelField("state")

    class Meta:
        model = ExtensionRequest
        fields = [
            "id",
            "rectification",
            "rectification_code",
            "requested_by",
            "requested_at",
            "new_deadline",
            "reason",
            "state",
            "state_display",
            "decided_by",
            "decided_at",
            "decision_note",
        ]
        read_only_fields = fields


class RectificationDetailSerializer(RectificationSerializer):
    """One order with its evidence and extension requests (fetched for one order only)."""

    attachments = serializers.SerializerMethodField()
    extensions = serializers.SerializerMethodField()

    class Meta(RectificationSerializer.Meta):
        fields = [*RectificationSerializer.Meta.fields, "attachments", "extensions"]
        read_only_fields = fields

    @extend_schema_field(AttachmentSerializer(many=True))
    def get_attachments(self, order):
        files = Attachment.objects.filter(
            content_type=ContentType.objects.get_for_model(Rectification), object_id=order.pk
        ).order_by("uploaded_at", "pk")
        return AttachmentSerializer(files, many=True).data

    @extend_schema_field(ExtensionRequestSerializer(many=True))
    def get_extensions(self, order):
        extensions = order.extensions.select_related("rectification", "requested_by", "decided_by")
        return ExtensionRequestSerializer(extensions, many=True).data


class RectificationIssueSerializer(serializers.Serializer):
    """Issue an order: give ``deadline`` (a date) or ``working_days`` (counted from now on
    the working-day calendar)."""

    responsible_unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.none())
    title = serializers.CharField(max_length=200)
    requirements = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=5000
    )
    finding = serializers.PrimaryKeyRelatedField(
        queryset=Finding.objects.none(),
        required=False,
        allow_null=True,
        default=None,
    )
    deadline = serializers.DateField(required=False, allow_null=True, default=None)
    working_days = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=250
    )
    supervising_department = serializers.PrimaryKeyRelatedField(
        queryset=OrgUnit.objects.none(), required=False, allow_null=True, default=None
    )
    responsible_person = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.none(), required=False, allow_null=True, default=None
    )
    priority = serializers.ChoiceField(
        choices=Priority.choices, required=False, allow_null=True, default=None
    )
    source_type = serializers.ChoiceField(
        choices=SourceType.choices, required=False, default=SourceType.FINDING
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        if user is None:
            return
        # Only what the caller sees may be named: others are "invalid pk", as if absent.
        units = OrgUnit.objects.visible_to(user).filter(active=True)
        self.fields["responsible_unit"].queryset = units
        self.fields["supervising_department"].queryset = units.filter(kind="department")
        self.fields["finding"].queryset = Finding.objects.visible_to(user).filed()
        self.fields["responsible_person"].queryset = User.objects.visible_to(user).filter(
            is_active=True
        )

    def validate(self, data):
        if data.get("deadline") is None and data.get("working_days") is None:
            raise serializers.ValidationError(
                {"working_days": _("Give a deadline date or a number of working days.")}
            )
        if data.get("deadline") is not None and data.get("working_days") is not None:
            raise serializers.ValidationError(
                {"deadline": _("Give either a deadline date or a number of working days.")}
            )
        person, unit = data.get("responsible_person"), data.get("responsible_unit")
        if person is not None and unit is not None and not liaison_serves(person, unit):
            raise serializers.ValidationError(
                {"responsible_person": _("This person is not a liaison of the responsible unit.")}
            )
        return data
