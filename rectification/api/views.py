from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from civilaffairs.api.base import VisibleViewSetMixin
from civilaffairs.choices import Role
from civilaffairs.navigation import BUSINESS
from rectification import services
from rectification.api.serializers import (
    ExtensionRequestSerializer,
    OrderTransitionSerializer,
    RectificationDetailSerializer,
    RectificationIssueSerializer,
    RectificationSerializer,
)
from rectification.filtersets import ExtensionRequestFilterSet, RectificationFilterSet
from rectification.models import ExtensionRequest, Rectification

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)


class RectificationViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Rectification orders the caller may see, with one endpoint for every step."""

    model = Rectification
    allowed_roles = BUSINESS
    serializer_class = RectificationSerializer
    filterset_class = RectificationFilterSet
    ordering_fields = ["deadline", "dispatched_at", "code", "state"]
    ordering = ["deadline", "id"]

    def decorate_queryset(self, queryset):
        return queryset.select_related("responsible_unit", "supervising_department")

    def get_serializer_class(self):
        if self.action == "list":
            return RectificationSerializer
        return RectificationDetailSerializer

    def get_permissions(self):
        if self.action == "create":
            self.allowed_roles = OFFICE
        return super().get_permissions()

    @extend_schema(
        request=RectificationIssueSerializer, responses={201: RectificationDetailSerializer}
    )
    def create(self, request):
        """Issue an order (the office only), free-standing or for a finding the caller sees.
        The deadline clock starts now."""
        data = RectificationIssueSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        order = services.rectification_issue(actor=request.user, **data.validated_data)
        return Response(
            RectificationDetailSerializer(self.get_queryset().get(pk=order.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(request=OrderTransitionSerializer, responses=RectificationDetailSerializer)
    @action(detail=True, methods=["post"])
    def transition(self, request, pk=None):
        """Acknowledge, report, verify, return, reassign, cancel, reopen, or request / approve
        / reject an extension. Send the ``version`` you saw: a stale one answers 409."""
        order = self.get_object()
        data = OrderTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.rectification_transition(
            rectification=order, actor=request.user, **data.validated_data
        )
        return Response(RectificationDetailSerializer(self.get_queryset().get(pk=order.pk)).data)


class ExtensionRequestViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Extension requests on the orders the caller may see; decide them with the order's
    ``transition`` (``approve_extension`` / ``reject_extension``)."""

    model = ExtensionRequest
    allowed_roles = BUSINESS
    serializer_class = ExtensionRequestSerializer
    filterset_class = ExtensionRequestFilterSet
    ordering_fields = ["requested_at", "new_deadline", "state"]
    ordering = ["-requested_at", "-id"]

    def decorate_queryset(self, queryset):
        return queryset.select_related("rectification", "requested_by", "decided_by")
