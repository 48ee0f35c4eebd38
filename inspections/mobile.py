"""The inspector's mobile pages (/m/): an installable, offline-first PWA.

The server renders only a shell (no visit data: the JavaScript fetches it from the REST API and
keeps it in IndexedDB), the service worker script and the web app manifest. Everything the
inspector records is queued on the phone and sent with a client UUID, so the API applies it
exactly once however often it is retried."""

import hashlib
import json
import re
from functools import lru_cache

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

APP_NAME = "五五督查·现场检查"
THEME_COLOUR = "#1d4f91"

# Static files the shell needs; the service worker precaches them on install.
SHELL_ASSETS = (
    "vendor/bootstrap/css/bootstrap.min.css",
    "vendor/bootstrap/js/bootstrap.bundle.min.js",
    "vendor/bootstrap-icons/bootstrap-icons.min.css",
    "vendor/bootstrap-icons/fonts/bootstrap-icons.woff2",
    "css/app.css",
    "m/mobile.css",
    "m/db.js",
    "m/sync.js",
    "m/app.js",
    "img/favicon.svg",
    "m/icon-192.png",
    "m/icon-512.png",
)
# The files whose content versions the service worker (a change installs a new one, which
# refreshes the precache even where static URLs carry no content hash).
VERSIONED_ASSETS = ("m/sw.js", "m/mobile.css", "m/db.js", "m/sync.js", "m/app.js", "css/app.css")

_CONFIG_LINE = re.compile(r"^.*// @@CONFIG@@.*$", re.MULTILINE)


@never_cache
@login_required
@require_GET
def app_shell(request, pk=None):
    """The shell page for /m/ and /m/visits/<pk>/ (the same page: the script routes)."""
    return render(request, "mobile/app.html", {"app_name": APP_NAME})


def _read_static(name: str) -> bytes:
    path = finders.find(name)
    if path:
        with open(path, "rb") as handle:
            return handle.read()
    if staticfiles_storage.exists(name):
        with staticfiles_storage.open(name) as handle:
            return handle.read()
    raise Http404(name)


def _static_url(name: str) -> str | None:
    try:
        return static(name)
    except ValueError:  # not in the manifest (e.g. a vendor file missing): skip it
        return None


def _photo_prefix() -> str:
    """The common start of the evidence photo URLs (their thumbnails are cached offline)."""
    sample = reverse("inspections:photo-thumbnail", args=["00000000-0000-0000-0000-000000000000"])
    return sample.split("00000000-")[0]


@lru_cache(maxsize=4)
def _service_worker_body(fingerprint: str) -> bytes:
    source = _read_static("m/sw.js").decode()
    precache = [url for url in (_static_url(name) for name in SHELL_ASSETS) if url]
    precache += [reverse("javascript-catalog"), reverse("mobile-manifest")]
    config = {
        "version": fingerprint,
        "shell": reverse("mobile-home"),
        "precache": precache,
        "apiCached": [reverse("api-visit-list")],
        "photoPrefix": _photo_prefix(),
    }
    line = "self.WUWU_CONFIG = " + json.dumps(config, ensure_ascii=False) + ";"
    return _CONFIG_LINE.sub(lambda _m: line, source, count=1).encode()


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for name in VERSIONED_ASSETS:
        try:
            digest.update(_read_static(name))
        except Http404:
            continue
    for name in SHELL_ASSETS:
        digest.update((_static_url(name) or "").encode())
    return digest.hexdigest()[:16]


@require_GET
def service_worker(request):
    """The service worker script, served under /m/ so that it controls the mobile pages."""
    response = HttpResponse(
        _service_worker_body(_fingerprint()), content_type="application/javascript; charset=utf-8"
    )
    response["Service-Worker-Allowed"] = reverse("mobile-home")
    response["Cache-Control"] = "no-cache"
    return response


@require_GET
def manifest(request):
    """The web app manifest (public: browsers fetch it without cookies)."""
    home = reverse("mobile-home")
    data = {
        "name": APP_NAME,
        "short_name": _("On-site inspection"),
        "description": _(
            "Check in, walk the checklist and record problems with photos on site, "
            "even without a signal."
        ),
        "lang": "zh-CN",
        "dir": "ltr",
        "id": home,
        "start_url": home,
        "scope": home,
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": THEME_COLOUR,
        "background_color": "#ffffff",
        "icons": [
            {"src": static("img/favicon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {
                "src": static("m/icon-192.png"),
                "sizes": "192x192",
                "type": "image/png",
                "purpose": "any maskable",
            },
            {
                "src": static("m/icon-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "any maskable",
            },
        ],
    }
    response = JsonResponse(
        data, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )
    response["Cache-Control"] = "no-cache"
    return response
