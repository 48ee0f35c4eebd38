from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from civilaffairs.api.base import VisibleViewSetMixin
from civilaffairs.api.schema import ErrorSerializer
from civilaffairs.choices import Role
from civilaffairs.exceptions import ServiceError
from civilaffairs.models import OrgUnit
from civilaffairs.navigation import BUSINESS
from inspections import services
from inspections.api import serializers as s
from inspections.filtersets import FindingFilterSet, PlanFilterSet, VisitFilterSet
from inspections.models import (
    ChecklistItem,
    ChecklistTemplate,
    Finding,
    InspectionPlan,
    Photo,
    Visit,
)

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)
PLAN_READERS = (*OFFICE, Role.INSPECTOR, Role.LEADER)


# A create naming a visit outside the caller's view answers as if it did not exist.
VISIT_NOT_FOUND = OpenApiResponse(ErrorSerializer, description="No such visit in your view.")


def _answer(serializer_class, obj, created: bool, context=None):
    return Response(
        serializer_class(obj, context=context or {}).data,
        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
    )


class PlanViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Inspection plans. Secret plans exist only for the office, leaders and their team."""

    model = InspectionPlan
    allowed_roles = PLAN_READERS
    serializer_class = s.PlanSerializer
    filterset_class = PlanFilterSet
    ordering_fields = ["period_start", "code", "title", "state"]
    ordering = ["-period_start", "-id"]

    def decorate_queryset(self, queryset):
        return queryset.with_progress()

    @extend_schema(request=s.PlanCreateSerializer, responses={201: s.PlanSerializer})
    def create(self, request):
        data = s.PlanCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        plan = services.plan_create(actor=request.user, **values)
        return Response(
            s.PlanSerializer(self.get_queryset().get(pk=plan.pk)).data,
            status=status.HTTP_201_CREATED,
        )

    def get_permissions(self):
        if self.action == "create" or self.action in services.PLAN_TRANSITIONS:
            self.allowed_roles = OFFICE
        return super().get_permissions()

    def _transition(self, request, pk, name):
        plan = self.get_object()
        data = s.TransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.plan_transition(actor=request.user, plan=plan, action=name, **data.validated_data)
        return Response(s.PlanSerializer(self.get_queryset().get(pk=plan.pk)).data)

    @extend_schema(request=s.TransitionSerializer, responses=s.PlanSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Send a draft plan to the office head for approval."""
        return self._transition(request, pk, "submit")

    @extend_schema(request=s.TransitionSerializer, responses=s.PlanSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        """Approve a submitted plan (office head)."""
        return self._transition(request, pk, "approve")

    @extend_schema(request=s.TransitionSerializer, responses=s.PlanSerializer)
    @action(detail=True, methods=["post"], url_path="return")
    def return_(self, request, pk=None):
        """Return a submitted plan to its drafter, with a note (office head)."""
        return self._transition(request, pk, "return")

    @extend_schema(request=s.TransitionSerializer, responses=s.PlanSerializer)
    @action(detail=True, methods=["post"])
    def complete(self, request, pk=None):
        """Mark a plan completed."""
        return self._transition(request, pk, "complete")

    @extend_schema(request=s.TransitionSerializer, responses=s.PlanSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        """Cancel a plan that has not started."""
        return self._transition(request, pk, "cancel")


class ChecklistViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Checklists with their items (every version; ``is_current`` marks the one in use)."""

    model = ChecklistTemplate
    allowed_roles = PLAN_READERS
    serializer_class = s.ChecklistSerializer
    ordering = ["code", "-version"]

    def decorate_queryset(self, queryset):
        return queryset.prefetch_related("items")

    def get_permissions(self):
        if self.action == "create":
            self.allowed_roles = OFFICE
        return super().get_permissions()

    @extend_schema(request=s.ChecklistWriteSerializer, responses={201: s.ChecklistSerializer})
    def create(self, request):
        """Save a checklist; an existing code gets a new version (visits keep the old one)."""
        data = s.ChecklistWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        template = services.checklist_create(actor=request.user, **data.validated_data)
        return Response(s.ChecklistSerializer(template).data, status=status.HTTP_201_CREATED)


class VisitViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Visits. The mobile pages use check-in, results and submit; each write carries a client
    UUID and is applied once."""

    model = Visit
    allowed_roles = BUSINESS
    filterset_class = VisitFilterSet
    ordering_fields = ["scheduled_date", "state", "started_at"]
    ordering = ["-scheduled_date", "-id"]

    def get_serializer_class(self):
        return s.VisitSummarySerializer if self.action == "list" else s.VisitDetailSerializer

    def decorate_queryset(self, queryset):
        queryset = queryset.select_related("plan", "target")
        if self.action != "list":
            queryset = queryset.prefetch_related(
                Prefetch("templates", queryset=ChecklistTemplate.objects.prefetch_related("items")),
                "results",
                Prefetch(
                    "findings",
                    queryset=Finding.objects.select_related(
                        "target", "item_result"
                    ).with_repeat_visibility(self.request.user),
                ),
                Prefetch("photos", queryset=Photo.objects.select_related("item_result")),
            )
        return queryset

    def _detail(self, visit, created=False):
        visit = self.decorate_queryset(Visit.objects.filter(pk=visit.pk)).get()
        return _answer(s.VisitDetailSerializer, visit, created)

    @extend_schema(
        request=s.CheckinSerializer,
        responses={201: s.VisitDetailSerializer, 200: s.VisitDetailSerializer},
    )
    @action(detail=True, methods=["post"])
    def checkin(self, request, pk=None):
        """Check in on site: time and GPS (distance from the target is computed and flagged)."""
        visit = self.get_object()
        data = s.CheckinSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        already = visit.client_uuid is not None and str(visit.client_uuid) == str(
            v.get("client_uuid")
        )
        visit = services.visit_checkin(
            actor=request.user,
            visit=visit,
            latitude=v["latitude"],
            longitude=v["longitude"],
            accuracy=v.get("accuracy"),
            at=v.get("at"),
            client_uuid=v.get("client_uuid"),
        )
        return self._detail(visit, created=not already)

    @extend_schema(
        request=s.ResultWriteSerializer,
        responses={201: s.ResultSerializer, 200: s.ResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def results(self, request, pk=None):
        """Record what one checklist item showed."""
        visit = self.get_object()
        data = s.ResultWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        item = ChecklistItem.objects.filter(pk=v["item"]).first()
        if item is None:
            raise ServiceError(_("The checklist item does not exist."), field="item")
        result, created = services.result_record(
            actor=request.user,
            visit=visit,
            item=item,
            outcome=v["outcome"],
            note=v["note"],
            client_uuid=v.get("client_uuid"),
        )
        return _answer(s.ResultSerializer, result, created)

    @extend_schema(request=s.SubmitSerializer, responses=s.VisitDetailSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        """Submit the visit: its findings are filed with it; it is read-only afterwards."""
        visit = self.get_object()
        data = s.SubmitSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        visit = services.visit_submit(actor=request.user, visit=visit, **data.validated_data)
        return self._detail(visit)

    @extend_schema(request=s.AmendSerializer, responses=s.VisitDetailSerializer)
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        """Add a correction to a submitted visit's timeline."""
        visit = self.get_object()
        data = s.AmendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.visit_amend(actor=request.user, visit=visit, note=data.validated_data["note"])
        return self._detail(visit)


class FindingViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Findings (problems and hazards). A target unit sees its own, once filed."""

    model = Finding
    allowed_roles = BUSINESS
    serializer_class = s.FindingSerializer
    filterset_class = FindingFilterSet
    ordering_fields = ["found_at", "severity", "code", "filed_at"]
    ordering = ["-found_at", "-id"]

    def decorate_queryset(self, queryset):
        return queryset.select_related("target", "item_result").with_repeat_visibility(
            self.request.user
        )

    @extend_schema(
        request=s.FindingCreateSerializer,
        responses={201: s.FindingSerializer, 200: s.FindingSerializer, 404: VISIT_NOT_FOUND},
    )
    def create(self, request):
        data = s.FindingCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = dict(data.validated_data)
        visit = get_object_or_404(Visit.objects.visible_to(request.user), pk=v.pop("visit"))
        item_id = v.pop("item", None)
        item = ChecklistItem.objects.filter(pk=item_id).first() if item_id else None
        if item_id and item is None:
            raise ServiceError(_("The checklist item does not exist."), field="item")
        department = v.pop("transferred_to", None)
        if department:
            v["transferred_to"] = OrgUnit.objects.filter(pk=department, kind="department").first()
        finding, created = services.finding_create(
            actor=request.user,
            visit=visit,
            item=item,
            found_at=v.pop("found_at", None),
            client_uuid=v.pop("client_uuid", None),
            **{k: val for k, val in v.items() if val is not None},
        )
        return _answer(s.FindingSerializer, finding, created, {"request": request})

    @extend_schema(request=s.FindingAmendSerializer, responses=s.FindingSerializer)
    @action(detail=True, methods=["post"])
    def amend(self, request, pk=None):
        """Correct a filed finding; the change and its reason go on its timeline."""
        finding = self.get_object()
        data = s.FindingAmendSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        finding = services.finding_amend(actor=request.user, finding=finding, **data.validated_data)
        return Response(s.FindingSerializer(finding, context={"request": request}).data)

    def get_permissions(self):
        if self.action == "create":
            self.allowed_roles = (Role.INSPECTOR,)
        elif self.action == "amend":
            self.allowed_roles = OFFICE
        return super().get_permissions()


class PhotoViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Evidence photos. Upload with multipart form data; the image is re-encoded without
    metadata and its SHA-256, capture time and GPS are kept."""

    model = Photo
    allowed_roles = BUSINESS
    serializer_class = s.PhotoSerializer
    lookup_field = "uuid"
    parser_classes = [MultiPartParser, FormParser]
    ordering = ["uploaded_at", "id"]
    throttle_scopes = {"POST": "upload"}

    def decorate_queryset(self, queryset):
        return queryset.select_related("item_result")

    def get_permissions(self):
        if self.action == "create":
            self.allowed_roles = (Role.INSPECTOR,)
        return super().get_permissions()

    @extend_schema(
        request={"multipart/form-data": s.PhotoUploadSerializer},
        # 200: the same client UUID again, answered with the photo it already made.
        responses={201: s.PhotoSerializer, 200: s.PhotoSerializer, 404: VISIT_NOT_FOUND},
    )
    def create(self, request):
        data = s.PhotoUploadSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        visit = get_object_or_404(Visit.objects.visible_to(request.user), pk=v["visit"])
        finding = None
        if v.get("finding_client_uuid"):
            finding = visit.findings.filter(client_uuid=v["finding_client_uuid"]).first()
        elif v.get("finding"):
            finding = visit.findings.filter(pk=v["finding"]).first()
        if (v.get("finding_client_uuid") or v.get("finding")) and finding is None:
            raise ServiceError(
                _("The finding of this photo has not arrived yet; sync the finding first."),
                field="finding",
            )
        item = ChecklistItem.objects.filter(pk=v["item"]).first() if v.get("item") else None
        photo, created = services.photo_add(
            actor=request.user,
            visit=visit,
            upload=v["file"],
            finding=finding,
            item=item,
            kind=v["kind"],
            captured_at=v.get("captured_at"),
            latitude=v.get("latitude"),
            longitude=v.get("longitude"),
            caption=v.get("caption", ""),
            client_uuid=v.get("client_uuid"),
        )
        return _answer(s.PhotoSerializer, photo, created)
