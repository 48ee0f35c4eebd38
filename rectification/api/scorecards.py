"""Unit scorecards over the API: the same figures, filters, order and visibility as the pages
(rectification.scorecards)."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from civilaffairs.api.base import VisibleViewSetMixin
from civilaffairs.choices import OrgKind
from rectification import scorecards
from rectification.models import Rectification


def _number(**kwargs):
    return serializers.DecimalField(
        max_digits=9, decimal_places=1, coerce_to_string=False, allow_null=True, **kwargs
    )


class ScorecardSerializer(serializers.Serializer):
    unit_id = serializers.IntegerField()
    unit_name = serializers.CharField()
    unit_kind = serializers.ChoiceField(choices=OrgKind.choices)
    district_id = serializers.IntegerField(allow_null=True)
    district_name = serializers.CharField(allow_null=True)
    orders = serializers.IntegerField(help_text="Orders dispatched to the unit (not cancelled).")
    open = serializers.IntegerField(help_text="Orders not yet verified and closed.")
    overdue = serializers.IntegerField(help_text="Open orders whose deadline has passed.")
    verified = serializers.IntegerField(help_text="Orders verified and closed.")
    on_time = serializers.IntegerField(help_text="Verified orders closed by their deadline.")
    late = serializers.IntegerField(help_text="Verified orders closed after their deadline.")
    on_time_rate = _number(
        help_text="Percent: on_time ÷ (verified + overdue) × 100, one decimal; null when both "
        "are zero."
    )
    avg_days = _number(
        help_text="Average calendar days from dispatch to closing of the verified orders."
    )
    times_returned = serializers.IntegerField(help_text="Sum of the times orders were returned.")
    card = serializers.ChoiceField(choices=scorecards.CARD_CHOICES)
    card_display = serializers.SerializerMethodField()

    def get_card_display(self, row) -> str:
        return scorecards.card_label(row["card"])


class ThresholdsSerializer(serializers.Serializer):
    yellow_rate = serializers.IntegerField(help_text="Yellow card below this on-time rate (%).")
    red_rate = serializers.IntegerField(help_text="Red card below this on-time rate (%).")
    yellow_overdue = serializers.IntegerField(help_text="Yellow card from this many overdue.")
    red_overdue = serializers.IntegerField(help_text="Red card from this many overdue.")


class ScorecardDetailSerializer(ScorecardSerializer):
    card_reasons = serializers.ListField(child=serializers.CharField())
    thresholds = ThresholdsSerializer()


PERIOD = [
    OpenApiParameter(
        "since", OpenApiTypes.DATE, description="Orders dispatched on or after this date."
    ),
    OpenApiParameter(
        "until", OpenApiTypes.DATE, description="Orders dispatched on or before this date."
    ),
]
ORDERING = OpenApiParameter(
    "ordering",
    OpenApiTypes.STR,
    enum=[f"{sign}{name}" for name in scorecards.SORTABLE for sign in ("", "-")],
    description="Sort by a figure, a leading '-' for descending. Default: worst first (red, "
    "then yellow, by on-time rate).",
)


class ScorecardViewSet(VisibleViewSetMixin, viewsets.GenericViewSet):
    """Unit scorecards (单位考评): per responsible unit, its orders, on-time rate, overdue
    orders, average days to close, times returned and its yellow or red card — over the orders
    the caller may see."""

    model = Rectification
    allowed_roles = scorecards.SCORECARD_ROLES
    serializer_class = ScorecardSerializer
    filterset_class = scorecards.ScorecardFilterSet
    filter_backends = [DjangoFilterBackend]  # sorting is ours (by figure, nulls last)
    lookup_field = "unit_id"
    lookup_value_regex = r"\d+"

    @extend_schema(parameters=[ORDERING])
    def list(self, request):
        rows = self.filter_queryset(self.get_queryset())
        sort = request.query_params.get("ordering", "")
        applied, ordering = scorecards.ordering_for(sort)
        if sort and not applied:
            raise ValidationError({"ordering": [_("Unknown sort order.")]})
        page = self.paginate_queryset(rows.order_by(*ordering))
        return self.get_paginated_response(ScorecardSerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            OpenApiParameter("unit_id", OpenApiTypes.INT, OpenApiParameter.PATH),
            *PERIOD,
        ],
        responses=ScorecardDetailSerializer,
    )
    def retrieve(self, request, unit_id=None):
        """One unit's scorecard with the reasons for its card (404 outside the caller's view;
        a unit without orders in the period has zero figures and no card)."""
        unit = get_object_or_404(
            scorecards.scorecard_units(request.user).select_related("district"), pk=unit_id
        )
        filterset = self.filterset_class(request.query_params, request=request)
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        period = {
            k: v for k, v in filterset.form.cleaned_data.items() if k in ("since", "until") and v
        }
        row = scorecards.unit_scorecards(request.user, unit=unit, **period).first()
        row = row or scorecards.empty_row(unit)
        limits = scorecards.Thresholds.current()
        data = {**row, "card_reasons": scorecards.card_reasons(row, limits), "thresholds": limits}
        return Response(ScorecardDetailSerializer(data).data)
