"""Shared page machinery: every list and detail page is built from these, so visibility,
filtering, sorting, pagination, htmx partials and Excel export behave the same everywhere."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.http import Http404
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.timezone import template_localtime
from django.utils.translation import gettext_lazy as _
from django.views.generic import DetailView, TemplateView

from civilaffairs.choices import choice_label
from civilaffairs.counting import ListPaginator
from civilaffairs.exports import xlsx_response
from civilaffairs.ratelimit import RateLimit, RateLimitMixin


class RoleRequiredMixin(LoginRequiredMixin):
    """Signed-in users holding one of ``allowed_roles`` ("__all__": any role)."""

    allowed_roles: tuple[str, ...] | str = ()

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.allowed_roles != "__all__" and not request.user.has_role(*self.allowed_roles):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)


class VisibleQuerysetMixin:
    """The queryset is always ``Model.objects.visible_to(user)``; views can only narrow it."""

    model = None

    def get_visible_queryset(self):
        if self.model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs a model")
        return self.model.objects.visible_to(self.request.user)

    def get_queryset(self):
        return self.decorate_queryset(self.get_visible_queryset())

    def decorate_queryset(self, queryset):
        """select_related / annotate for display; never widens what is visible."""
        return queryset


# A stand-in id for detail_link: reversed once, then replaced by each row's id.
_STAND_IN = 2_147_483_647


def detail_link(url_name: str) -> Callable[[Any], str]:
    """A list column's link to a row's own page (a URL taking the row's ``pk`` as ``<int:…>``):
    reversed once per URLconf and script prefix with a stand-in id, then each row's id put in
    its place — a page of 50 rows reversed the same pattern 50 times."""
    parts: dict[tuple, tuple[str, str]] = {}

    def link(obj) -> str:
        key = (get_urlconf(), get_script_prefix())
        around = parts.get(key)
        if around is None:
            before, after = reverse(url_name, args=[_STAND_IN]).split(str(_STAND_IN))
            around = parts[key] = (before, after)
        return f"{around[0]}{int(obj.pk)}{around[1]}"

    return link


@dataclass
class Column:
    """One column of a list page and of its Excel export."""

    name: str
    label: str
    value: Callable[[Any], Any]
    order_by: str | None = None
    link: Callable[[Any], str] | None = None
    html: Callable[[Any], str] | None = None
    export: bool = True
    display: bool = True  # False: only in the Excel export
    css: str = ""  # classes of the column's header and cells (e.g. hidden on phones)

    def cell(self, obj):
        if self.html is not None:
            return self.html(obj)
        value = self.value(obj)
        if value is None or value == "":
            return "—"
        if hasattr(value, "tzinfo") and hasattr(value, "hour"):
            value = timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
        if self.link is not None:
            return format_html('<a href="{}">{}</a>', self.link(obj), value)
        return value


def row_cells(obj, columns) -> str:
    """A row's ``<td>`` cells, rendered as ``{{ cell }}`` would render each (local time,
    localized, escaped unless already safe) but without a template loop over every cell: 600
    of them per page of 50 were a fifth of a list page's rendering."""
    parts = []
    for column in columns:
        value = conditional_escape(localize(template_localtime(column.cell(obj))))
        css = f' class="{conditional_escape(column.css)}"' if column.css else ""
        parts.append(f"<td{css}>{value}</td>")
    return mark_safe("".join(parts))  # nosec B308 B703 (every cell and class escaped above)


def choice_display(attr: str) -> Callable[[Any], Any]:
    """``obj.get_<attr>_display()`` as text, with each label translated once per language
    rather than once per row (``civilaffairs.choices.choice_labels``): a 100 000-row ledger
    would otherwise spend most of its time in gettext."""
    return lambda obj: str(choice_label(obj, attr))


def badge(colour: str, text) -> str:
    """A Bootstrap badge; the one place list cells draw one."""
    return format_html('<span class="badge text-bg-{}">{}</span>', colour, text)


def flag_column(name, label, getter, yes, no, order_by=None) -> Column:
    """A yes/no column: a green or grey badge on the page, 是/否 in the export."""
    return Column(
        name,
        label,
        getter,
        order_by=order_by,
        html=lambda obj: badge(
            "success" if getter(obj) else "secondary", yes if getter(obj) else no
        ),
    )


def _asks_export(request) -> bool:
    data = request.POST if request.method == "POST" else request.GET
    return data.get("export") == "xlsx"


class ObjectListView(RoleRequiredMixin, RateLimitMixin, VisibleQuerysetMixin, TemplateView):
    """Filter (one FilterSet shared with the API), sort, paginate, export."""

    template_name = "generic/object_list.html"
    partial_template_name = "generic/partials/object_table.html"
    filterset_class = None
    columns: list[Column] = []
    default_ordering: str = "-pk"
    paginate_by = 25
    page_sizes = (25, 50, 100)
    title = ""
    export_filename = "export"
    export_title = ""  # the ledger's name in file names and on the job page (default: title)
    selectable = False  # rows get checkboxes; "export selected" exports only those
    empty_message = _("Nothing matches the current filters.")

    # An export (at once, or the confirmed background job) is the list's costly request.
    rate_limits = [RateLimit("export", methods=("GET", "POST"), when=_asks_export)]

    def get_rate_limits(self):
        return self.rate_limits if self.export_filename else []

    def get_columns(self):
        return self.columns

    def get_filterset(self):
        queryset = self.get_queryset()
        if self.filterset_class is None:
            return None, queryset
        filterset = self.filterset_class(
            self.request.GET or None, queryset=queryset, request=self.request
        )
        if filterset.is_bound and not filterset.is_valid():
            return filterset, queryset.none()
        return filterset, filterset.qs

    def get_ordering(self):
        allowed = {c.name: c.order_by for c in self.get_columns() if c.order_by}
        requested = self.request.GET.get("sort", "")
        name = requested.lstrip("-")
        if name in allowed:
            prefix = "-" if requested.startswith("-") else ""
            return requested, [f"{prefix}{allowed[name]}", f"{prefix}pk"]
        return "", [self.default_ordering, "-pk" if self.default_ordering.startswith("-") else "pk"]

    def get_page_size(self):
        try:
            size = int(self.request.GET.get("page_size", self.paginate_by))
        except ValueError:
            return self.paginate_by
        return size if size in self.page_sizes else self.paginate_by

    def filtered_queryset(self):
        """What the page shows, in the page's order (before pagination)."""
        filterset, queryset = self.get_filterset()
        sort, ordering = self.get_ordering()
        return filterset, sort, queryset.order_by(*ordering)

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") == "xlsx" and self.export_filename:
            return self.export_request()
        filterset, sort, queryset = self.filtered_queryset()
        paginator = ListPaginator(queryset, self.get_page_size())
        page = paginator.get_page(request.GET.get("page"))
        columns = [c for c in self.get_columns() if c.display]
        rows = [(obj, row_cells(obj, columns)) for obj in page.object_list]
        query = request.GET.copy()
        for key in ("page", "_"):
            query.pop(key, None)
        context = self.get_context_data(
            filterset=filterset,
            page_obj=page,
            paginator=paginator,
            rows=rows,
            columns=columns,
            sort=sort,
            query=query.urlencode(),
            query_without_sort=_without(query, "sort"),
            title=self.title,
            empty_message=self.empty_message,
            page_sizes=self.page_sizes,
            page_size=self.get_page_size(),
            can_export=bool(self.export_filename),
            total=paginator.count,
            selectable=self.selectable,
        )
        template = self.partial_template_name if request.htmx else self.template_name
        return self.response_class(request=request, template=[template], context=context)

    def post(self, request, *args, **kwargs):
        """Confirmed large export: queue it as a background job and show its progress."""
        from django.contrib import messages
        from django.shortcuts import redirect

        from civilaffairs.exceptions import ServiceError
        from civilaffairs.ledgers import ledger_start

        if request.POST.get("export") != "xlsx" or not self.export_filename:
            return self.http_method_not_allowed(request, *args, **kwargs)
        try:
            job = ledger_start(view=self, request=request)
        except ServiceError as error:
            messages.error(request, error.message)
            return redirect(f"{request.path}?{_without(request.GET, 'export')}")
        return redirect(job.get_absolute_url())

    def export_queryset(self):
        """The rows of the export: exactly what the list shows, or the ticked ones of it."""
        _filterset, _sort, queryset = self.filtered_queryset()
        selected = [v for v in self.request.GET.getlist("selected") if v.isdigit()]
        if selected:
            queryset = queryset.filter(pk__in=selected)
        return queryset

    def export_request(self):
        """Small exports download at once; a large one asks for confirmation and then runs in
        the background (a POST of the same URL), so a request never holds a worker for minutes."""
        from django.conf import settings

        queryset = self.export_queryset()
        count = queryset.count()
        if count <= settings.EXPORT_SYNC_LIMIT:
            self.export_audit(count)
            return self.export(queryset)
        from django.shortcuts import render

        return render(
            self.request,
            "generic/export_confirm.html",
            {
                "title": self.title,
                "ledger_title": self.get_export_title(),
                "count": count,
                "limit": settings.EXPORT_SYNC_LIMIT,
                "back": f"{self.request.path}?{_without(self.request.GET, 'export')}",
            },
        )

    def get_export_title(self) -> str:
        return str(self.export_title or self.title)

    # The audit event of an export downloaded at once (a background one is recorded when it
    # is requested and when its file is downloaded: civilaffairs.jobs).
    export_audit_action = "list.export"

    def export_audit(self, count: int):
        from django.utils.translation import gettext

        from civilaffairs.services import audit_record

        audit_record(
            actor=self.request.user,
            action=self.export_audit_action,
            summary=gettext("Exported %(list)s (%(count)d rows)")
            % {"list": self.get_export_title(), "count": count},
            changes={
                "list": self.get_export_title(),
                "path": self.request.path,
                "filters": _without(self.request.GET, "export"),
                "rows": count,
            },
        )

    def export_columns(self):
        return [c for c in self.get_columns() if c.export]

    def export_sheets(self, queryset) -> list:
        """Further sheets of the ledger (e.g. every order's status history); none by default."""
        return []

    def export_rows(self, queryset, columns):
        for obj in queryset.iterator(chunk_size=2000):
            yield [c.value(obj) for c in columns]

    def export_filename_stamped(self) -> str:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"{self.export_filename}-{stamp}.xlsx"

    def export(self, queryset):
        columns = self.export_columns()
        return xlsx_response(
            self.export_filename_stamped(),
            self.get_export_title(),
            [str(c.label) for c in columns],
            self.export_rows(queryset, columns),
            sheets=self.export_sheets(queryset),
        )


def _without(query, key):
    copy = query.copy()
    copy.pop(key, None)
    return copy.urlencode()


class ObjectDetailView(RoleRequiredMixin, VisibleQuerysetMixin, DetailView):
    """Outside the user's view the object does not exist: 404, never 403 — also for a role that
    may not use this kind of page at all, so a direct URL reveals nothing."""

    context_object_name = "object"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and not (
            self.allowed_roles == "__all__" or request.user.has_role(*self.allowed_roles)
        ):
            raise Http404
        return super().dispatch(request, *args, **kwargs)
