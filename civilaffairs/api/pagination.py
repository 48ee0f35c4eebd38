"""Pagination of every API list: page numbers for the first pages, and a keyset ``cursor`` for
walking a list to its end (deep pages cost the same as the first, and a row inserted during
the walk neither repeats nor hides another).

A cursor is the list's sort key and id of the last row served, signed (so it is opaque and
cannot be forged into another query) and bound to the list's ordering. ``?cursor=`` (empty)
starts a walk at the first row; every answer carries ``next_cursor`` for the row after its
last one, also on numbered pages, so a client may switch from page numbers to the cursor."""

import contextlib
import datetime as dt
import decimal
import uuid
from functools import partial

from django.core import signing
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Q
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from rest_framework import pagination
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from civilaffairs.counting import ListPaginator

CURSOR_SALT = "civilaffairs.api.cursor"


class CursorError(Exception):
    pass


# --- the sort key ------------------------------------------------------------------------------


def sort_key(queryset) -> list[tuple[str, bool, bool]]:
    """The queryset's ordering as (field path, descending, nullable) ending with the primary
    key, so that the key is unique; raises CursorError for an ordering a cursor cannot follow
    (an expression, or a relation ordered by its model's own ordering)."""
    if queryset.query.group_by is not None or queryset.query.values_select:
        # Rows that are groups or dicts (scorecards): ordering them by the model's id would
        # split the groups, and a dict has no attributes to read the key from.
        raise CursorError("grouped or values() rows")
    ordering = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
    key: list[tuple[str, bool, bool]] = []
    model = queryset.model
    for item in ordering:
        if not isinstance(item, str) or item == "?":
            raise CursorError("ordering by an expression")
        descending = item.startswith("-")
        path = item.lstrip("-+")
        if path == "pk" or path == model._meta.pk.name:
            key.append((model._meta.pk.name, descending, False))
            break  # the key is unique from here on
        nullable = path in queryset.query.annotations or _check_path(model, path)
        key.append((path, descending, nullable))
    else:
        key.append((model._meta.pk.name, key[-1][1] if key else False, False))
    return key


def _check_path(model, path: str) -> bool:
    """Checks that ``path`` leads to a plain field; returns whether its value may be NULL."""
    field, nullable = None, False
    for part in path.split("__"):
        if field is not None:
            if not field.is_relation:
                raise CursorError(f"cannot follow {path}")
            model = field.related_model
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist as error:
            raise CursorError(f"unknown field {path}") from error
        nullable = nullable or bool(getattr(field, "null", True))
    if field.is_relation:
        raise CursorError(f"{path} is ordered by its model's ordering")
    return nullable


def _value_of(obj, path: str, fetch: bool = True):
    """The value at ``path``; with ``fetch`` false, raises CursorError rather than load a
    related row that was not fetched with ``obj`` (a numbered page keeps its query count)."""
    if isinstance(obj, dict):  # a page read as values (civilaffairs.api.rows.Plan.select)
        if path not in obj:
            raise CursorError(f"{path} was not read")
        return obj[path]
    value = obj
    parts = path.split("__")
    for n, part in enumerate(parts):
        if value is None:
            return None
        if not fetch and n < len(parts) - 1:
            field = value._meta.get_field(part)
            if not field.is_cached(value):
                raise CursorError(f"{path} was not fetched")
        value = getattr(value, part)
    return value


def _encode(value):
    if isinstance(value, dt.datetime):
        return ["t", value.isoformat()]
    if isinstance(value, dt.date):
        return ["d", value.isoformat()]
    if isinstance(value, decimal.Decimal):
        return ["n", str(value)]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return ["s", str(value)]


def _decode(value):
    if not isinstance(value, list):
        return value
    tag, text = value
    return {
        "t": parse_datetime,
        "d": parse_date,
        "n": decimal.Decimal,
        "u": uuid.UUID,
        "s": str,
    }[tag](text)


def after(key: list[tuple[str, bool, bool]], values: list) -> Q:
    """Rows after ``values`` in the order ``key`` (NULLs last ascending, first descending, as
    PostgreSQL sorts them): (k1 after v1) or (k1 = v1 and k2 after v2) or … The leading field
    also gets a plain range bound, which an index on it can use (NULL tests only for fields
    that may be NULL, or the bound would not be one)."""
    condition = Q(pk__in=[])
    equal = Q()
    for (path, descending, nullable), value in zip(key, values, strict=True):
        if value is None:
            beyond = Q(**{f"{path}__isnull": False}) if descending else Q(pk__in=[])
            same = Q(**{f"{path}__isnull": True})
        else:
            beyond = Q(**{f"{path}__{'lt' if descending else 'gt'}": value})
            if nullable and not descending:
                beyond |= Q(**{f"{path}__isnull": True})
            same = Q(**{path: value})
        condition |= equal & beyond
        equal &= same
    path, descending, nullable = key[0]
    if values[0] is not None:
        bound = Q(**{f"{path}__{'lte' if descending else 'gte'}": values[0]})
        if nullable and not descending:
            bound |= Q(**{f"{path}__isnull": True})
        condition = bound & condition
    return condition


def _ordering(key) -> list[str]:
    return [f"{'-' if descending else ''}{path}" for path, descending, _null in key]


def make_cursor(model, key, obj, fetch: bool = True) -> str:
    payload = {
        "m": model._meta.label_lower,
        "o": _ordering(key),
        "v": [_encode(_value_of(obj, path, fetch)) for path, *_rest in key],
    }
    return signing.dumps(payload, salt=CURSOR_SALT, compress=True)


def read_cursor(model, key, text: str) -> list:
    """The values of a cursor made by ``make_cursor`` for the same list and ordering."""
    try:
        payload = signing.loads(text, salt=CURSOR_SALT)
        if payload["m"] != model._meta.label_lower or payload["o"] != _ordering(key):
            raise CursorError("another list or ordering")
        values = [_decode(v) for v in payload["v"]]
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise CursorError(str(error)) from error
    if len(values) != len(key):
        raise CursorError("another key")
    return values


# --- the paginator -----------------------------------------------------------------------------


class PageNumberPagination(pagination.PageNumberPagination):
    """``page`` (numbered pages, with ``count``) or ``cursor`` (keyset, no count); both answers
    carry ``next_cursor``."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    cursor_query_param = "cursor"
    django_paginator_class = ListPaginator
    # Set by the view: how a page's sliced queryset is read (as values, civilaffairs.api.rows).
    read_rows = None

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.django_paginator_class = partial(ListPaginator, read_rows=self.read_rows)
        self.cursor_mode = self.cursor_query_param in request.query_params
        self.next_cursor = None
        try:
            self.key = sort_key(queryset)
        except CursorError:
            self.key = None
        if self.key is not None:
            queryset = queryset.order_by(*_ordering(self.key))
        if not self.cursor_mode:
            rows = super().paginate_queryset(queryset, request, view)
            if rows and self.key is not None and self.page.has_next():
                with contextlib.suppress(CursorError):
                    self.next_cursor = make_cursor(queryset.model, self.key, rows[-1], fetch=False)
            return rows
        page_size = self.get_page_size(request)
        if self.key is None:
            raise ValidationError(
                {
                    self.cursor_query_param: [
                        _("This list cannot be walked by cursor in this order; use page numbers.")
                    ]
                }
            )
        text = request.query_params[self.cursor_query_param]
        if text:
            try:
                values = read_cursor(queryset.model, self.key, text)
            except CursorError:
                raise ValidationError(
                    {
                        self.cursor_query_param: [
                            _(
                                "The cursor is not valid for this list (or its order); start "
                                "again from the first page."
                            )
                        ]
                    }
                ) from None
            queryset = queryset.filter(after(self.key, values))
        page = queryset[: page_size + 1]
        rows = list(self.read_rows(page) if self.read_rows else page)
        if len(rows) > page_size:
            rows = rows[:page_size]
            self.next_cursor = make_cursor(queryset.model, self.key, rows[-1])
        return rows

    def get_paginated_response(self, data):
        if not self.cursor_mode:
            response = super().get_paginated_response(data)
            response.data["count_estimated"] = self.page.paginator.estimated
            response.data["next_cursor"] = self.next_cursor
            return response
        return Response(
            {
                "count": None,
                "count_estimated": False,
                "next": self.get_next_cursor_link(),
                "previous": None,
                "next_cursor": self.next_cursor,
                "results": data,
            }
        )

    def get_next_cursor_link(self):
        if self.next_cursor is None:
            return None
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, self.next_cursor)

    def get_paginated_response_schema(self, schema):
        answer = super().get_paginated_response_schema(schema)
        answer["properties"]["count"].update(
            nullable=True,
            description="Rows in the list; null when walking by cursor; PostgreSQL's estimate "
            "for a list with no filter at all over a large table (see count_estimated).",
        )
        answer["properties"]["count_estimated"] = {
            "type": "boolean",
            "description": "True when count is the table's estimate (a list with no filter "
            "over more than LIST_COUNT_ESTIMATE_ABOVE rows), not an exact count.",
        }
        answer["properties"]["next"]["description"] = (
            "The next page: by number, or by cursor when walking by cursor."
        )
        answer["properties"]["previous"]["description"] = "Null when walking by cursor."
        answer["properties"]["next_cursor"] = {
            "type": "string",
            "nullable": True,
            "description": "Pass as ``cursor`` for the rows after this page; null on the last "
            "page.",
        }
        return answer

    def get_schema_operation_parameters(self, view):
        return [
            *super().get_schema_operation_parameters(view),
            {
                "name": self.cursor_query_param,
                "required": False,
                "in": "query",
                "description": "Walk the list by keyset instead of page numbers: empty for the "
                "first rows, then the ``next_cursor`` of the previous answer. Deep pages cost "
                "no more than the first; no count is computed. A cursor from another list or "
                "ordering answers 400.",
                "schema": {"type": "string"},
            },
        ]
