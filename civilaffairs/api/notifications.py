"""Notifications over the API: the caller's own, their preferences, and the group robots
(system administrators only)."""

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import mixins, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter

from civilaffairs import notifications
from civilaffairs.api.base import VisibleViewSetMixin
from civilaffairs.api.fields import ChoiceLabelField
from civilaffairs.choices import Role
from civilaffairs.filtersets import NotificationFilterSet
from civilaffairs.models import Notification, NotificationPreference, OrgUnit, WebhookEndpoint
from civilaffairs.services import audit_record


class NotificationSerializer(serializers.ModelSerializer):
    kind_display = ChoiceLabelField("kind")
    unread = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = ["id", "kind", "kind_display", "title", "body", "url", "created_at", "read_at"]
        fields += ["unread"]
        read_only_fields = fields

    def get_unread(self, obj) -> bool:
        return obj.read_at is None


class PreferenceSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationPreference
        fields = ["email", "sms", "digest"]


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=serializers.IntegerField(), required=False, allow_null=True, max_length=1000
    )


COUNT = inline_serializer("NotificationCount", {"count": serializers.IntegerField()})


class NotificationViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """The caller's notifications, newest first."""

    model = Notification
    allowed_roles = "__all__"
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet
    ordering = ["-created_at", "-id"]

    @extend_schema(request=None, responses=COUNT)
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        return Response({"count": self.get_queryset().unread().count()})

    @extend_schema(request=MarkReadSerializer, responses=COUNT)
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request):
        """Mark the given notifications read (all unread ones when ``ids`` is left out)."""
        data = MarkReadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        count = notifications.mark_read(actor=request.user, ids=data.validated_data.get("ids"))
        return Response({"count": count})

    @extend_schema(methods=["get"], request=None, responses=PreferenceSerializer)
    @extend_schema(methods=["put"], request=PreferenceSerializer, responses=PreferenceSerializer)
    @action(detail=False, methods=["get", "put"])
    def preferences(self, request):
        if request.method == "PUT":
            data = PreferenceSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            preference = notifications.preference_update(actor=request.user, **data.validated_data)
        else:
            preference = notifications.preference_of(request.user)
        return Response(PreferenceSerializer(preference).data)


class WebhookEndpointSerializer(serializers.ModelSerializer):
    unit = serializers.PrimaryKeyRelatedField(queryset=OrgUnit.objects.all())

    class Meta:
        model = WebhookEndpoint
        fields = ["id", "unit", "name", "kind", "url", "secret", "include_subunits", "kinds"]
        fields += ["active"]
        extra_kwargs = {"secret": {"write_only": True}}

    def validate_url(self, value):
        if not value.startswith(("http://", "https://")):
            raise serializers.ValidationError(
                _("The robot address must start with http:// or https://.")
            )
        return value

    def validate_kinds(self, value):
        from civilaffairs.choices import NotificationKind

        if not isinstance(value, list) or any(v not in NotificationKind.values for v in value):
            raise serializers.ValidationError(_("Choose kinds from the notification kinds."))
        return value


class WebhookEndpointViewSet(VisibleViewSetMixin, viewsets.ModelViewSet):
    """Group robots per org unit (system administrators)."""

    model = WebhookEndpoint
    allowed_roles = (Role.SYSADMIN,)
    serializer_class = WebhookEndpointSerializer
    ordering = ["unit__path", "name"]

    def decorate_queryset(self, queryset):
        return queryset.select_related("unit")

    @transaction.atomic
    def perform_create(self, serializer):
        endpoint = serializer.save()
        audit_record(
            actor=self.request.user,
            action="webhook.create",
            obj=endpoint,
            summary=str(endpoint),
            changes={"unit": endpoint.unit_id, "url": endpoint.url},
        )

    @transaction.atomic
    def perform_update(self, serializer):
        endpoint = serializer.save()
        audit_record(
            actor=self.request.user,
            action="webhook.update",
            obj=endpoint,
            summary=str(endpoint),
            changes={k: v for k, v in serializer.validated_data.items() if k != "secret"},
        )

    @transaction.atomic
    def perform_destroy(self, instance):
        audit_record(
            actor=self.request.user,
            action="webhook.delete",
            obj=instance,
            summary=str(instance),
            changes={"unit": instance.unit_id, "url": instance.url},
        )
        instance.delete()


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("notifications", NotificationViewSet, basename="api-notification")
router.register("webhooks", WebhookEndpointViewSet, basename="api-webhook")
urlpatterns = router.urls
