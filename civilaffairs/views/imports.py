"""Import pages: the list of importers, the upload that runs a dry run, the confirmation that
commits, and the result. The file checked in the dry run is kept between the two steps as an
unattached upload of the person (purged after a day) and read again for the commit."""

import io
import uuid

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from civilaffairs import imports
from civilaffairs.exceptions import ServiceError
from civilaffairs.files import XLSX, attachment_store
from civilaffairs.models import Attachment
from civilaffairs.ratelimit import rate_limit

SESSION_KEY = "imports:last"


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Excel file (.xlsx)"),
        help_text=gettext_lazy("Filled-in copy of the template. It is checked first."),
        widget=forms.ClearableFileInput(
            attrs={
                "accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            }
        ),
    )


def _description(cls) -> str:
    # Marks the stored file as this importer's pending upload (never shown as evidence).
    return f"import:{cls.slug}"


class ImportIndexView(LoginRequiredMixin, View):
    """The importers the user may use; a role with none gets 403 like any other section."""

    def get(self, request):
        available = imports.importers_for(request.user)
        if not available:
            raise PermissionDenied
        return render(
            request,
            "imports/index.html",
            {"importers": available, "max_rows": imports.max_rows()},
        )


class ImporterMixin(LoginRequiredMixin):
    """One importer's pages: unknown, or not for this role, answers 404."""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.importer is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def importer(self):
        return imports.importer_for(self.kwargs["kind"], self.request.user)

    def upload_url(self):
        return reverse("imports:upload", args=[self.importer.slug])


class TemplateDownloadView(ImporterMixin, View):
    def get(self, request, kind):
        data = self.importer(request.user).template_workbook()
        name = _("%(title)s – import template") % {"title": self.importer.title}
        return FileResponse(
            io.BytesIO(data),
            as_attachment=True,
            filename=f"{name}.xlsx",
            content_type=imports.XLSX_MIME,
        )


PREVIEW_ROWS = 500


def render_upload(request, importer, form, result=None, token=None, status=200):
    """The upload page, with a dry run's (or a refused commit's) result when there is one."""
    context = {
        "importer": importer,
        "form": form,
        "result": result,
        "token": token,
        "max_rows": imports.max_rows(),
        "preview": [c.as_dict() for c in result.pending[:PREVIEW_ROWS]] if result else [],
        "errors": result.errors[:PREVIEW_ROWS] if result else [],
    }
    return render(request, "imports/upload.html", context, status=status)


class UploadView(ImporterMixin, View):
    """GET: the form. POST: the dry run, and the confirmation when the file is clean."""

    def render_page(self, form, result=None, token=None, status=200):
        return render_upload(self.request, self.importer, form, result, token, status)

    def get(self, request, kind):
        return self.render_page(ImportUploadForm())

    @method_decorator(rate_limit("import"))
    def post(self, request, kind):
        form = ImportUploadForm(request.POST, request.FILES)
        if not form.is_valid():
            return self.render_page(form, status=400)
        upload = form.cleaned_data["file"]
        try:
            result = imports.run_import(
                self.importer, actor=request.user, upload=upload, commit=False
            )
        except ServiceError as exc:
            form.add_error("file", str(exc.message))
            return self.render_page(form, status=400)
        token = None
        if result.ok and result.pending:
            stored = attachment_store(
                actor=request.user,
                upload=upload,
                allowed=(XLSX,),
                description=_description(self.importer),
            )
            token = stored.uuid
        return self.render_page(ImportUploadForm(), result=result, token=token)


class CommitView(ImporterMixin, View):
    """Import the file the dry run checked: the person's own pending upload, read again and
    checked again inside the import's transaction."""

    @method_decorator(rate_limit("import"))
    def post(self, request, kind):
        pending = self._pending(request.POST.get("token", ""))
        if pending is None:
            messages.error(
                request,
                _(
                    "The checked file is no longer available (files are kept for a day). "
                    "Upload it again."
                ),
            )
            return redirect(self.upload_url())
        try:
            with pending.file.open("rb") as handle:
                result = imports.run_import(
                    self.importer,
                    actor=request.user,
                    upload=handle,
                    commit=True,
                    file_name=pending.original_name,
                )
        except ServiceError as exc:
            messages.error(request, str(exc.message))
            return redirect(self.upload_url())
        except OSError:
            messages.error(
                request,
                _(
                    "The checked file is no longer available (files are kept for a day). "
                    "Upload it again."
                ),
            )
            return redirect(self.upload_url())
        if not result.committed:
            messages.error(
                request,
                _(
                    "Nothing was imported: the data changed since the check and some rows "
                    "are no longer valid. Correct the file and upload it again."
                ),
            )
            return render_upload(
                request, self.importer, ImportUploadForm(), result=result, status=409
            )
        outcome = result.as_dict()
        outcome["changes"] = outcome["changes"][:PREVIEW_ROWS]
        request.session[SESSION_KEY] = outcome
        return redirect("imports:done", kind=self.importer.slug)

    def _pending(self, token: str):
        try:
            key = uuid.UUID(str(token))
        except ValueError:
            return None
        return Attachment.objects.filter(
            uuid=key,
            uploaded_by=self.request.user,
            content_type__isnull=True,
            description=_description(self.importer),
        ).first()


class DoneView(ImporterMixin, View):
    def get(self, request, kind):
        outcome = request.session.get(SESSION_KEY)
        if not outcome or outcome.get("kind") != self.importer.slug:
            return redirect(self.upload_url())
        return render(request, "imports/done.html", {"importer": self.importer, "outcome": outcome})
