"""Health, attachment downloads and error pages."""

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from civilaffairs.models import Attachment

logger = logging.getLogger(__name__)

_worker_seen_at = 0.0


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_redis():
    client = cache._cache.get_client(write=True)  # the cache's own redis-py client
    client.ping()


def _check_worker():
    """A worker answered a broadcast ping recently (answers are remembered for 15 s so that a
    busy load balancer polling /healthz does not flood the broker)."""
    global _worker_seen_at
    if time.monotonic() - _worker_seen_at < 15:
        return
    from civilaffairs.celery import app

    # limit=1: return as soon as one worker answers instead of waiting out the timeout.
    replies = app.control.ping(timeout=settings.HEALTHZ_CELERY_TIMEOUT, limit=1)
    if not replies:
        raise RuntimeError("no Celery worker answered")
    _worker_seen_at = time.monotonic()


@never_cache
@require_GET
def healthz(request):
    checks = {}
    for name, check in (
        ("database", _check_database),
        ("redis", _check_redis),
        ("celery_worker", _check_worker),
    ):
        started = time.monotonic()
        try:
            check()
        except Exception as exc:
            logger.warning("healthz: %s down: %s", name, exc)
            checks[name] = {"ok": False, "error": type(exc).__name__}
        else:
            checks[name] = {"ok": True, "ms": round((time.monotonic() - started) * 1000, 1)}
    ok = all(c["ok"] for c in checks.values())
    return JsonResponse(
        {"status": "ok" if ok else "degraded", "checks": checks}, status=200 if ok else 503
    )


@never_cache
def attachment_download(request, uuid):
    """Files are served only here: signed in, and only when their owner is visible."""
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    try:
        attachment = Attachment.objects.visible_to(request.user).get(uuid=uuid)
    except Attachment.DoesNotExist as exc:
        raise Http404 from exc
    handle = attachment.file.open("rb")
    inline = attachment.content_type_detected.startswith("image/") or (
        attachment.content_type_detected == "application/pdf"
    )
    response = FileResponse(
        handle,
        content_type=attachment.content_type_detected,
        as_attachment=not inline or request.GET.get("download") == "1",
        filename=f"{attachment.uuid}.{attachment.extension}",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response


def _api_error(exception_class):
    """Under /api/ an error Django answers itself (no URL matches, a bad request, a crash) is
    JSON like every other API answer, with DRF's Chinese message."""
    from rest_framework import exceptions

    error = getattr(exceptions, exception_class)
    return JsonResponse({"detail": str(error.default_detail)}, status=error.status_code)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def error_403(request, exception=None):
    if _is_api(request):
        return _api_error("PermissionDenied")
    return render(request, "errors/403.html", status=403)


def error_404(request, exception=None):
    if _is_api(request):
        return _api_error("NotFound")
    return render(request, "errors/404.html", status=404)


def error_500(request):
    if _is_api(request):
        return _api_error("APIException")
    return render(request, "errors/500.html", status=500)


def error_400(request, exception=None):
    if _is_api(request):
        return _api_error("ParseError")
    return render(request, "errors/400.html", status=400)


def csrf_failure(request, reason=""):
    return render(request, "errors/403_csrf.html", status=403)
