"""The inspector's mobile pages, included at ``m/`` (see inspections/mobile.py)."""

from django.urls import path

from inspections import mobile

urlpatterns = [
    path("", mobile.app_shell, name="mobile-home"),
    path("visits/<int:pk>/", mobile.app_shell, name="mobile-visit"),
    path("sw.js", mobile.service_worker, name="mobile-sw"),
    path("manifest.webmanifest", mobile.manifest, name="mobile-manifest"),
]
