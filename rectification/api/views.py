from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from civilaffairs.api.base import VisibleViewSetMixin
from civilaffairs.navigation import BUSINESS
from rectification import services
from rectification.api.serializers import OrderTransitionSerializer, RectificationSerializer
from rectification.filtersets import RectificationFilterSet
from rectification.models import Rectification


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

    @extend_schema(request=OrderTransitionSerializer, responses=RectificationSerializer)
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
        return Response(RectificationSerializer(self.get_queryset().get(pk=order.pk)).data)
