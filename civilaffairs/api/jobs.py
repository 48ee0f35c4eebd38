"""The caller's background jobs (large ledgers, briefs): progress and the file when ready."""

from django.urls import reverse
from rest_framework import serializers
from rest_framework.routers import DefaultRouter

from civilaffairs import jobs
from civilaffairs.api.base import VisibleReadOnlyViewSet
from civilaffairs.api.fields import ChoiceLabelField
from civilaffairs.choices import JobState
from civilaffairs.models import BackgroundJob


class BackgroundJobSerializer(serializers.ModelSerializer):
    state_display = ChoiceLabelField("state")
    kind_display = serializers.SerializerMethodField()
    percent = serializers.IntegerField(read_only=True)
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = BackgroundJob
        fields = [
            "uuid",
            "kind",
            "kind_display",
            "title",
            "state",
            "state_display",
            "percent",
            "done",
            "total",
            "stage",
            "error",
            "created_at",
            "started_at",
            "finished_at",
            "download_url",
        ]
        read_only_fields = fields

    def get_kind_display(self, obj) -> str:
        spec = jobs.job_type(obj.kind)
        return str(spec.label) if spec else obj.kind

    def get_download_url(self, obj) -> str | None:
        if obj.state != JobState.DONE or not obj.result_id:
            return None
        return reverse("job-download", args=[obj.uuid])


class BackgroundJobViewSet(VisibleReadOnlyViewSet):
    """The caller's prepared files, newest first; poll one until ``state`` is done."""

    model = BackgroundJob
    allowed_roles = "__all__"
    serializer_class = BackgroundJobSerializer
    lookup_field = "uuid"
    filterset_fields = ["kind", "state"]


router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("jobs", BackgroundJobViewSet, basename="api-job")
urlpatterns = router.urls
