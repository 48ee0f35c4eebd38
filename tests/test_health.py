import pytest
from django.urls import reverse

from civilaffairs.views import system

pytestmark = pytest.mark.django_db


def test_healthz_is_green_when_everything_is_up(client, monkeypatch):
    monkeypatch.setattr(system, "_check_worker", lambda: None)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["redis"]["ok"]


def test_healthz_is_503_when_no_worker_answers(client, monkeypatch, settings):
    settings.HEALTHZ_CELERY_TIMEOUT = 0.2
    monkeypatch.setattr(system, "_worker_seen_at", 0.0)
    from civilaffairs.celery import app

    monkeypatch.setattr(app.control, "ping", lambda timeout, limit: [])
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["celery_worker"]["ok"] is False


def test_healthz_is_503_when_redis_is_down(client, monkeypatch):
    monkeypatch.setattr(system, "_check_worker", lambda: None)

    def down():
        raise ConnectionError("redis down")

    monkeypatch.setattr(system, "_check_redis", down)
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
