from rest_framework import serializers

from civilaffairs.models import OrgUnit, RoleAssignment, User


class OrgUnitRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrgUnit
        fields = ["id", "name", "code", "kind"]
        read_only_fields = fields


class OrgUnitSerializer(serializers.ModelSerializer):
    parent = OrgUnitRefSerializer(read_only=True)
    district = OrgUnitRefSerializer(read_only=True)
    supervising_department = OrgUnitRefSerializer(read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    institution_type_display = serializers.CharField(
        source="get_institution_type_display", read_only=True
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
            "capacity",
            "active",
        ]
        read_only_fields = fields


class RoleAssignmentSerializer(serializers.ModelSerializer):
    scope = OrgUnitRefSerializer(read_only=True)
    role_display = serializers.CharField(source="get_role_display", read_only=True)

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
