"""API errors: a service's ServiceError becomes a JSON body with its Chinese message."""

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from civilaffairs.exceptions import ServiceError


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        body = {"detail": str(exc.message), "code": exc.code}
        if exc.field:
            body["field"] = exc.field
        return Response(body, status=exc.status_code)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    if isinstance(exc, exceptions.Throttled):
        # The same Chinese message as the pages' limits; DRF adds Retry-After from exc.wait.
        wait = exc.wait or 1
        message = _("Too many requests: please wait %(seconds)s seconds and try again.")
        response = Response(
            {"detail": message % {"seconds": wait}, "code": "throttled"},
            status=status.HTTP_429_TOO_MANY_REQUESTS,
            headers={"Retry-After": str(wait)},
        )
        return response
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if response.status_code == status.HTTP_401_UNAUTHORIZED and not response.has_header(
        "WWW-Authenticate"
    ):
        response.status_code = status.HTTP_403_FORBIDDEN
    return response
