"""Ledgers (台账): the Excel export of any list page, exactly as filtered, sorted and ticked.

A small ledger downloads at once; a large one is a background job (``jobs``) that rebuilds the
list page for its owner in the worker — the same view, visibility, filterset, ordering and
columns — and streams the rows to a temporary file, so a 100 000-row ledger needs no more
memory than a 100-row one."""

import tempfile

from django.conf import settings
from django.http import QueryDict
from django.test import RequestFactory
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civilaffairs import jobs
from civilaffairs.exceptions import ServiceError
from civilaffairs.exports import Sheet, write_workbook
from civilaffairs.files import XLSX

KIND = "ledger"


def ledger_start(*, view, request):
    """Queue the export of ``view``'s list as ``request`` asks for it."""
    query = request.GET.copy()
    query.pop("export", None)
    query.pop("page", None)
    title = _("%(ledger)s (Excel ledger)") % {"ledger": view.get_export_title()}
    return jobs.job_start(
        owner=request.user,
        kind=KIND,
        title=title,
        params={"path": request.path, "query": query.urlencode()},
    )


class _NoHtmx:
    def __bool__(self):
        return False


def list_view_for(job):
    """The list view of the job's page, set up for its owner as if they had opened it now
    (their current roles and scope apply, not those they had when they asked)."""
    from civilaffairs.views.generic import ObjectListView

    path = job.params.get("path", "")
    try:
        match = resolve(path)
    except Resolver404 as exc:
        raise ServiceError(_("This list no longer exists.")) from exc
    view_class = getattr(match.func, "view_class", None)
    if view_class is None or not issubclass(view_class, ObjectListView):
        raise ServiceError(_("This list cannot be exported."))
    request = RequestFactory().get(path, QueryDict(job.params.get("query", "")))
    request.user = job.owner
    request.htmx = _NoHtmx()
    view = view_class(**(match.func.view_initkwargs or {}))
    view.setup(request, *match.args, **match.kwargs)
    user = job.owner
    if not user.is_active or (
        view.allowed_roles != "__all__" and not user.has_role(*view.allowed_roles)
    ):
        raise ServiceError(_("You may no longer see this list."))
    if not view.export_filename:
        raise ServiceError(_("This list cannot be exported."))
    return view


def run_ledger(job, progress):
    view = list_view_for(job)
    queryset = view.export_queryset()
    columns = view.export_columns()
    sheets = [
        Sheet(
            view.get_export_title(),
            [str(c.label) for c in columns],
            view.export_rows(queryset, columns),
        ),
        *view.export_sheets(queryset),
    ]
    # Further sheets (an order's status history) count too, or the bar sits at 100 % for them.
    total = queryset.count() + sum(s.count() for s in sheets[1:] if s.count is not None)
    progress(0, total, _("Writing rows"))
    handle = tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False)  # noqa: SIM115
    handle.close()

    def report(written):
        progress(min(written, total), total)

    write_workbook(handle.name, sheets, progress=report)
    progress(total, total, _("Saving the file"))
    return jobs.JobOutput(filename=view.export_filename_stamped(), kind=XLSX, path=handle.name)


jobs.register(
    KIND, gettext_lazy("Excel ledger"), run_ledger, keep_days=settings.JOBS_EXPORT_KEEP_DAYS
)
