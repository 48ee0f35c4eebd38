"""Leadership briefs over the API: request one (202, then poll /api/v1/jobs/{uuid}/) and list
the caller's own. The same service and validation as the page."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from civilaffairs.api.base import VisibleViewSetMixin
from civilaffairs.api.jobs import BackgroundJobSerializer
from civilaffairs.models import BackgroundJob, OrgUnit
from reports import briefs, dashboard

PRESET_CHOICES = [*dashboard.PRESETS, briefs.CUSTOM]


class BriefSerializer(BackgroundJobSerializer):
    # A plain string here: the job's state enum is documented once, on BackgroundJob (a
    # second component with the same choices would collide with other "state" enums).
    state = serializers.CharField(
        read_only=True, help_text="queued, running, done or failed (see BackgroundJob)."
    )
    since = serializers.SerializerMethodField()
    until = serializers.SerializerMethodField()
    district = serializers.SerializerMethodField()
    district_name = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()
    page_url = serializers.SerializerMethodField()

    class Meta(BackgroundJobSerializer.Meta):
        fields = [
            *BackgroundJobSerializer.Meta.fields,
            "since",
            "until",
            "district",
            "district_name",
            "url",
            "page_url",
        ]
        read_only_fields = fields

    def get_since(self, obj) -> str:
        return obj.params.get("since", "")

    def get_until(self, obj) -> str:
        return obj.params.get("until", "")

    def get_district(self, obj) -> int | None:
        value = obj.params.get("district")
        return int(value) if value else None

    def get_district_name(self, obj) -> str:
        """The district's name, empty for a brief of everything the caller may see."""
        names = self.context.get("district_names")
        district = self.get_district(obj)
        if district is None:
            return ""
        if names is None:
            return OrgUnit.objects.filter(pk=district).values_list("name", flat=True).first() or ""
        return names.get(district, "")

    def get_url(self, obj) -> str:
        """The job in the API: poll it until ``state`` is ``done``."""
        return reverse("api-job-detail", args=[obj.uuid])

    def get_page_url(self, obj) -> str:
        """The job's page with its progress bar and download link."""
        return obj.get_absolute_url()


class BriefRequestSerializer(serializers.Serializer):
    preset = serializers.ChoiceField(
        choices=PRESET_CHOICES,
        required=False,
        allow_blank=True,
        default="",
        help_text="week, month, quarter or year up to today; leave out (or custom) to send "
        "since and until.",
    )
    since = serializers.DateField(required=False, allow_null=True, default=None)
    until = serializers.DateField(required=False, allow_null=True, default=None)
    district = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="A district bureau the caller may see; leave out for everything they see.",
    )


class BriefViewSet(
    VisibleViewSetMixin, mixins.ListModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """The caller's leadership briefs, newest first (leaders and the office)."""

    model = BackgroundJob
    allowed_roles = dashboard.DASHBOARD_ROLES
    serializer_class = BriefSerializer
    filterset_fields = ["state"]
    throttle_scopes = {"POST": "brief"}
    ordering_fields = ["created_at"]
    ordering = ["-created_at", "-id"]

    def decorate_queryset(self, queryset):
        return queryset.filter(kind=briefs.KIND).select_related("result")

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        ids = {int(j.params["district"]) for j in page if j.params.get("district")}
        names = dict(OrgUnit.objects.filter(pk__in=ids).values_list("pk", "name"))
        context = {**self.get_serializer_context(), "district_names": names}
        return self.get_paginated_response(BriefSerializer(page, many=True, context=context).data)

    @extend_schema(request=BriefRequestSerializer, responses={202: BriefSerializer})
    def create(self, request, *args, **kwargs):
        """Ask for a brief of a period (a preset, or since and until) and optionally one
        district. Answers 202 with the job; poll ``url`` until it is done, then fetch
        ``download_url``."""
        data = BriefRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = briefs.brief_request(owner=request.user, **data.validated_data)
        body = BriefSerializer(job, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_202_ACCEPTED)
