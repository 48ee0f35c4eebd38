"""API list pages read as column values, with the serializer's own fields.

A list page of 50 findings through a ModelSerializer builds about a hundred model instances
(the rows and their joined units) and then, per row and field, has DRF look the attribute up
again through its ``source``; at city scale that was most of what a list request cost. For a
list whose serializer fields all come from columns, the page is read with ``values()`` (the
same joins, one query, no instances) and each row rendered by the same field objects'
``to_representation``. The answer is the same JSON, key for key; ``tests/test_api_rows.py``
compares both ways on every API list.

What a plan can read: plain model fields and annotations of the list's queryset (by their
``source``, across forward foreign keys), a primary key of a foreign key, a nested
ModelSerializer of a forward foreign key, ``ChoiceLabelField``. A field that is not a column (a
property, a method, a many-relation, ``source="*"``) makes the serializer unplannable, and its
lists are serialised by DRF as before, unless the serializer names how to compute the value
from columns in ``row_values`` (a ``RowValue`` per field name)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import get_language
from rest_framework import fields, relations, serializers

from civilaffairs.api.fields import ChoiceLabelField


class NotColumns(Exception):
    """A serializer field that cannot be read from a column."""


@dataclass(frozen=True)
class RowValue:
    """A serializer field computed from columns: ``compute(*values of columns)``."""

    columns: tuple[str, ...]
    compute: Callable


# Fields whose to_representation takes the column's value as the model attribute holds it.
COLUMN_FIELDS = (
    fields.BooleanField,
    fields.CharField,
    fields.ChoiceField,
    fields.DateField,
    fields.DateTimeField,
    fields.DecimalField,
    fields.FloatField,
    fields.IntegerField,
    fields.JSONField,
    fields.ListField,
    fields.ReadOnlyField,
    fields.TimeField,
    fields.UUIDField,
)


def _column(model, attrs, annotations=()) -> tuple[str, bool]:
    """The values() path of a field ``source``, and whether the attribute is a related object
    (a foreign key by its name; by its ``_id`` attribute it is the key's value); NotColumns when
    it does not lead to a column."""
    if not attrs:
        raise NotColumns("source='*'")
    if len(attrs) == 1 and attrs[0] in annotations:
        return attrs[0], False
    field = None
    for n, attr in enumerate(attrs):
        if field is not None:
            model = field.related_model
        try:
            field = model._meta.get_field(attr)
        except FieldDoesNotExist as error:
            raise NotColumns(f"{attr} is not a field of {model.__name__}") from error
        if not getattr(field, "concrete", False) or field.many_to_many:
            raise NotColumns(f"{attr} is not a column")
        if n < len(attrs) - 1 and not field.is_relation:
            raise NotColumns(f"cannot follow {attr}")
    return "__".join(attrs), field.is_relation and attrs[-1] == field.name


def _readable(serializer):
    return [(name, f) for name, f in serializer.fields.items() if not f.write_only]


class Plan:
    """The columns a serializer's fields need and, per language, how to render a row."""

    def __init__(self, serializer_class, annotations):
        self.columns: list[str] = []
        self.entries = self._compile(serializer_class(), "", tuple(annotations))
        self._by_language: dict[str, Callable] = {}

    def _need(self, path: str) -> str:
        if path not in self.columns:
            self.columns.append(path)
        return path

    def _compile(self, serializer, prefix, annotations) -> list[tuple]:
        model = getattr(getattr(serializer, "Meta", None), "model", None)
        if model is None:
            raise NotColumns(f"{type(serializer).__name__} is not a ModelSerializer")
        hooks = getattr(type(serializer), "row_values", {})
        entries = []
        for name, field in _readable(serializer):
            if name in hooks:
                hook = hooks[name]
                columns = [
                    self._need(prefix + _column(model, c.split("__"), annotations)[0])
                    for c in hook.columns
                ]
                entries.append(("hook", name, columns, hook.compute))
                continue
            if isinstance(field, serializers.ListSerializer | relations.ManyRelatedField):
                raise NotColumns(f"{name} is a many-relation")
            path, related = _column(model, field.source_attrs, annotations)
            column = self._need(prefix + path)
            if isinstance(field, serializers.BaseSerializer):
                if not related:
                    raise NotColumns(f"{name} is not a foreign key")
                nested = self._compile(field, f"{column}__", ())
                entries.append(("nested", name, column, nested))
            elif isinstance(field, ChoiceLabelField):
                entries.append(("label", name, column, field))
            elif isinstance(field, relations.PrimaryKeyRelatedField):
                if field.pk_field is not None or not related:
                    raise NotColumns(f"{name} is not a plain primary key")
                entries.append(("value", name, column, None))
            elif isinstance(field, COLUMN_FIELDS) and not isinstance(
                field, serializers.BaseSerializer
            ):
                if related:
                    raise NotColumns(f"{name} reads a related object")
                entries.append(("field", name, column, field.to_representation))
            else:
                raise NotColumns(f"{name} is a {type(field).__name__}")
        return entries

    def renderer(self) -> Callable[[dict], dict]:
        language = get_language()
        render = self._by_language.get(language)
        if render is None:
            render = self._by_language[language] = _renderer(self.entries)
        return render

    def select(self, queryset):
        """The list's queryset read as the plan's columns, and those of its ordering (for the
        cursor of the next page)."""
        columns = list(self.columns)
        pk = queryset.model._meta.pk.name
        for item in [*queryset.query.order_by, *queryset.model._meta.ordering, pk]:
            if isinstance(item, str) and item != "?":
                path = item.lstrip("-+")
                path = pk if path == "pk" else path
                try:
                    _column(queryset.model, path.split("__"), queryset.query.annotations)
                except NotColumns:
                    continue
                if path not in columns:
                    columns.append(path)
        return queryset.values(*columns)


def _getter(kind, column, how) -> Callable[[dict], object]:
    if kind == "value":
        return lambda row: row[column]
    if kind == "field":

        def convert(row, to_representation=how):
            value = row[column]
            return None if value is None else to_representation(value)

        return convert
    if kind == "label":
        labels = how.labels_here()

        def label(row):
            value = row[column]
            return None if value is None else labels.get(value, value)

        return label
    if kind == "nested":
        inner = _renderer(how)
        return lambda row: None if row[column] is None else inner(row)
    raise ValueError(kind)


def _renderer(entries) -> Callable[[dict], dict]:
    getters = []
    for kind, name, column, how in entries:
        if kind == "hook":
            columns, compute = column, how
            getters.append((name, lambda row, cs=columns, fn=compute: fn(*(row[c] for c in cs))))
        else:
            getters.append((name, _getter(kind, column, how)))
    return lambda row: {name: get(row) for name, get in getters}


_PLANS: dict[tuple, Plan | None] = {}


def plan_for(serializer_class, queryset) -> Plan | None:
    """The plan of ``serializer_class`` over ``queryset`` (kept per serializer and set of
    annotations), or None when a field is not a column or the queryset prefetches."""
    if queryset.query.values_select or getattr(queryset, "_prefetch_related_lookups", ()):
        return None
    meta = getattr(serializer_class, "Meta", None)
    if getattr(meta, "model", None) is not queryset.model:
        return None
    key = (serializer_class, tuple(sorted(queryset.query.annotations)))
    if key not in _PLANS:
        try:
            _PLANS[key] = Plan(serializer_class, queryset.query.annotations)
        except NotColumns:
            _PLANS[key] = None
    return _PLANS[key]


class RowsSerializer:
    """What ``get_serializer(page, many=True)`` answers for a planned list: ``data``."""

    def __init__(self, plan: Plan, rows):
        self.plan, self.rows = plan, rows

    @property
    def data(self) -> list[dict]:
        render = self.plan.renderer()
        return [render(row) for row in self.rows]
