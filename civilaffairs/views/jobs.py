"""The person's prepared files: ledgers and briefs made in the background, with a progress bar
while they are made and a download link when they are ready."""

from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import DetailView

from civilaffairs import jobs
from civilaffairs.choices import JobState
from civilaffairs.models import BackgroundJob
from civilaffairs.services import audit_record
from civilaffairs.views.generic import Column, ObjectListView, RoleRequiredMixin, badge

STATE_COLOURS = {
    JobState.QUEUED: "secondary",
    JobState.RUNNING: "info",
    JobState.DONE: "success",
    JobState.FAILED: "danger",
}


def kind_label(job) -> str:
    spec = jobs.job_type(job.kind)
    return str(spec.label) if spec else job.kind


def state_badge(job):
    return badge(STATE_COLOURS.get(job.state, "secondary"), job.get_state_display())


class JobListView(ObjectListView):
    model = BackgroundJob
    allowed_roles = "__all__"
    title = _("My files")
    export_filename = ""
    default_ordering = "-created_at"
    empty_message = _("You have not asked for any file yet. Large exports and briefs appear here.")
    columns = [
        Column(
            "title",
            _("Title"),
            lambda j: j.title,
            link=lambda j: j.get_absolute_url(),
            order_by="title",
        ),
        Column("kind", _("Kind"), kind_label, order_by="kind"),
        Column("state", _("State"), lambda j: j.get_state_display(), html=state_badge),
        Column("created_at", _("Requested at"), lambda j: j.created_at, order_by="created_at"),
        Column(
            "download",
            _("File"),
            lambda j: "",
            html=lambda j: (
                format_html(
                    '<a href="{}"><i class="bi bi-download" aria-hidden="true"></i> {}</a>',
                    reverse("job-download", args=[j.uuid]),
                    _("Download"),
                )
                if j.state == JobState.DONE and j.result_id
                else "—"
            ),
            export=False,
        ),
    ]


class JobDetailView(RoleRequiredMixin, DetailView):
    """A job's page; an htmx request gets only the progress card, which polls itself until
    the job is finished."""

    allowed_roles = "__all__"
    template_name = "civilaffairs/job_detail.html"
    context_object_name = "job"

    def get_object(self, queryset=None):
        return get_object_or_404(
            BackgroundJob.objects.visible_to(self.request.user).select_related("result"),
            uuid=self.kwargs["uuid"],
        )

    def get_template_names(self):
        if self.request.htmx:
            return ["civilaffairs/partials/job_progress.html"]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["kind_label"] = kind_label(self.object)
        return context


class JobDownloadView(RoleRequiredMixin, View):
    """The finished file under its own name (e.g. 整改台账-20261124-0930.xlsx)."""

    allowed_roles = "__all__"

    def get(self, request, uuid):
        job = get_object_or_404(
            BackgroundJob.objects.visible_to(request.user).select_related("result"), uuid=uuid
        )
        if job.state != JobState.DONE or job.result is None:
            raise Http404
        try:
            handle = job.result.file.open("rb")
        except (FileNotFoundError, OSError) as exc:
            raise Http404 from exc
        # The moment the data leaves: on the audit trail, like an export downloaded at once.
        audit_record(
            actor=request.user,
            action="job.download",
            obj=job,
            summary=gettext("Downloaded %(file)s") % {"file": job.result.original_name},
            changes={"file": job.result.original_name, "job_kind": job.kind},
        )
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=job.result.original_name,
            content_type=job.result.content_type_detected,
        )
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
