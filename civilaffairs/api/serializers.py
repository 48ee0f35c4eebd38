from rest_framework import serializers

from civilaffairs.api.fields import ChoiceLabelField
from civilaffairs.models import Attachment, OrgUnit, RoleAssignment, User


class OrgUnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrgUnit
        fields = ["id", "name", "code", "kind"]
        read_only_fields = fields


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = OrgUnitRefSerializer(read_only=True)
    district = OrgUnitRefSerializer(read_only=True)
    supervising_department = OrgUnitRefSerializer(read_only=True)
    kind_display = ChoiceLabelField("kind")
    institution_type_display = ChoiceLabelField("institution_type")
    # Contacts are personal data: a household's person masked, phones and ID numbers always.
    contact_name = serializers.CharField(
        source="contact_name_shown",
        read_only=True,
        help_text="Contact person (a low-income household's masked)",
    )
    contact_phone = serializers.CharField(
        source="contact_phone_masked", read_only=True, help_text="Masked contact phone"
    )
    contact_id_number = serializers.CharField(
        source="contact_id_number_masked",
        read_only=True,
        help_text="Masked ID number of a household's contact",
    )

    class Meta:
        model = OrgUnit
        fields = [
            "id",
            "name",
            "short_name",
            "code",
            "kind",
            "kind_display",
            "institution_type",
            "institution_type_display",
            "parent",
            "district",
            "supervising_department",
            "depth",
            "address",
            "latitude",
            "longitude",
            "contact_name",
            "contact_phone",
            "contact_id_number",
            "capacity",
            "active",
        ]
        read_only_fields = fields


class RoleAssignmentSerializer(serializers.ModelSerializer):
    scope = OrgUnitRefSerializer(read_only=True)
    role_display = ChoiceLabelField("role")

    class Meta:
        model = RoleAssignment
        fields = ["role", "role_display", "scope"]
        read_only_fields = fields


class UserSerializer(serializers.ModelSerializer):
    org_unit = OrgUnitRefSerializer(read_only=True)
    roles = RoleAssignmentSerializer(many=True, read_only=True)
    phone = serializers.CharField(
        source="phone_masked", read_only=True, help_text="Masked mobile phone number"
    )

    class Meta:
        model = User
        fields = ["id", "username", "real_name", "title", "phone", "org_unit", "roles", "is_active"]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    """A stored file: its UUID is what a later step (e.g. reporting evidence) refers to."""

    name = serializers.CharField(source="original_name", read_only=True)
    content_type = serializers.CharField(source="content_type_detected", read_only=True)
    url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = [
            "uuid",
            "name",
            "size",
            "sha256",
            "content_type",
            "description",
            "uploaded_at",
            "url",
        ]
        read_only_fields = fields

    def get_url(self, attachment) -> str:
        return attachment.get_absolute_url()


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=True, help_text="A photo (JPEG, PNG, HEIC, WebP), PDF, XLSX or DOCX."
    )
    description = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=200
    )
