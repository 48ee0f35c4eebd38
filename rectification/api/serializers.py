from rest_framework import serializers

from civilaffairs.api.serializers import OrgUnitRefSerializer
from civilaffairs.models import Attachment, OrgUnit
from rectification.models import Rectification
from rectification.services import STEPS


class RectificationSerializer(serializers.ModelSerializer):
    responsible_unit = OrgUnitRefSerializer(read_only=True)
    supervising_department = OrgUnitRefSerializer(read_only=True)
    state_display = serializers.CharField(source="get_state_display", read_only=True)
    priority_display = serializers.CharField(source="get_priority_display", read_only=True)

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
