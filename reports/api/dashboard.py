"""The dashboard's figures as JSON: the same roles, filters and visibility as the page, served
through ``reports.dashboard.dashboard_for`` (a snapshot at most DASHBOARD_MAX_AGE seconds old
when there is one, else computed now and kept)."""

import json

from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import dashboard

PARAMETERS = [
    OpenApiParameter(
        "preset", str, enum=list(dashboard.PRESETS), description="Period (default: month)."
    ),
    OpenApiParameter("since", OpenApiTypes.DATE, description="Custom period: first day."),
    OpenApiParameter("until", OpenApiTypes.DATE, description="Custom period: last day."),
    OpenApiParameter("district", int, description="A district bureau's id (default: all)."),
]


class DashboardView(APIView):
    """Figures, rates, breakdowns, trends, overdue orders, repeat problems and unit cards, each
    with the link of the list it counts. ``computed_at`` says when they were computed."""

    allowed_roles = dashboard.DASHBOARD_ROLES

    @extend_schema(
        operation_id="dashboard_retrieve",
        parameters=PARAMETERS,
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The dashboard."),
            400: OpenApiResponse(description="Bad filters (``detail`` in Chinese)."),
        },
    )
    def get(self, request):
        filters, errors = dashboard.parse_filters(request.user, request.query_params)
        if errors:
            raise ValidationError({"detail": " ".join(str(e) for e in errors)})
        board = dashboard.dashboard_for(request.user, filters)
        return Response(json.loads(board.to_json()))


urlpatterns = [path("dashboard/", DashboardView.as_view(), name="api-dashboard")]
