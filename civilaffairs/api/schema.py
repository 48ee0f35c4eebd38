"""The OpenAPI schema documents the errors every endpoint may answer, not only its success.

Clients (and the schemathesis run of tests/test_api_fuzz.py) rely on the schema saying which
status codes can come back: 400 for input the API refuses, 403 for a caller who may not use the
endpoint, 404 for an object outside the caller's view (or a page past the end), 409 for a step
that conflicts with the object's state, 429 where a rate limit applies. Each is JSON with a
Chinese ``detail`` (validation errors name the offending fields instead)."""

from django.core.exceptions import FieldDoesNotExist
from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from civilaffairs.api.throttling import throttle_scope_of

ErrorSerializer = inline_serializer(
    "Error",
    fields={
        "detail": serializers.CharField(help_text="What went wrong, in Chinese."),
        "code": serializers.CharField(required=False, help_text="A stable error code."),
        "field": serializers.CharField(required=False, help_text="The input field at fault."),
    },
)

# A refused input: the field errors ({"field": ["message", ...]}), a service's Error, or, for a
# body that is a list, one entry per item.
VALIDATION_ERROR = ResolvedComponent(
    name="ValidationError",
    type=ResolvedComponent.SCHEMA,
    object="ValidationError",
    schema={
        "oneOf": [
            {"type": "object", "additionalProperties": True},
            {"type": "array", "items": {}},
        ],
        "description": "Field errors keyed by field name (or an Error), for a list body a list.",
    },
)

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


# A time of day as DRF writes it ("16:00", "16:00:00", "16:00:00.5"): the JSON Schema "time"
# format would demand a UTC offset, which these never carry.
TIME_OF_DAY = {
    "type": "string",
    "pattern": r"^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$",
    "example": "16:00:00",
}


def _model_facts(field) -> tuple[bool, bool]:
    """Whether the model attribute behind a read-only serializer field may be null, and may be
    blank: DRF drops allow_null/allow_blank from read-only fields, so their answers can hold
    a null or "" the field does not declare."""
    parent = getattr(field, "parent", None)
    model = getattr(getattr(parent, "Meta", None), "model", None)
    attrs = getattr(field, "source_attrs", None)
    if model is None or not attrs:
        return False, False
    nullable = blank = False
    for name in attrs:
        try:
            model_field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return nullable, False
        if model_field.many_to_many or model_field.one_to_many:
            return False, False
        # A missing reverse one-to-one reads as None as well.
        reverse_one_to_one = model_field.one_to_one and not model_field.concrete
        nullable = nullable or bool(model_field.null) or reverse_one_to_one
        blank = bool(getattr(model_field, "blank", False)) and not model_field.is_relation
        model = model_field.related_model
        if model is None:
            break
    return nullable, blank


class AutoSchema(openapi.AutoSchema):
    """drf-spectacular's AutoSchema, plus the error answers of each operation, null and ""
    where a read-only field can hold them, and times of day without a time zone."""

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        if direction == "response" and getattr(field, "read_only", False):
            nullable, blank = _model_facts(field)
            if nullable:
                field.allow_null = True
            if blank and isinstance(field, serializers.ChoiceField):
                field.allow_blank = True
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if isinstance(field, serializers.TimeField) and schema and schema.get("format") == "time":
            schema = {**{k: v for k, v in schema.items() if k != "format"}, **TIME_OF_DAY}
        return schema

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for code, body, description in self._error_responses():
            if code in responses:
                continue
            if isinstance(body, ResolvedComponent):
                self.registry.register_on_missing(body)
                responses[code] = {
                    "content": {"application/json": {"schema": body.ref}},
                    "description": description,
                }
                continue
            response = OpenApiResponse(response=body, description=description)
            responses[code] = self._get_response_for_code(response, code, direction=direction)
        return responses

    def _error_responses(self):
        has_path_parameters = "{" in self.path
        is_list = self.method == "GET" and self._is_list_view() and not has_path_parameters
        takes_input = (
            self.method in WRITE_METHODS
            or has_path_parameters
            or bool(self.get_filter_backends())
            or is_list
            or bool(self._get_parameters())
        )
        if takes_input:
            yield "400", VALIDATION_ERROR, "The input is refused."
        signed_in_only = {} not in (self.get_auth() or [{}])
        if signed_in_only:
            yield "403", ErrorSerializer, "Not signed in, or the role may not use this endpoint."
        if has_path_parameters or is_list:
            yield "404", ErrorSerializer, "No such object in the caller's view, or no such page."
        if self.method in WRITE_METHODS and signed_in_only:
            yield "409", ErrorSerializer, "The object's state does not allow this step."
        if throttle_scope_of(self.view, self.method):
            yield "429", ErrorSerializer, "Too many requests: retry after Retry-After seconds."
