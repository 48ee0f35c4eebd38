import pytest
from django.db.backends.signals import connection_created

from tests.personas import build_city


def _allow_audit_truncate(sender, connection, **kwargs):
    # Django empties tables between transactional tests with TRUNCATE, which the audit table
    # refuses unless the session says so (see civilaffairs migration 0002). Only tests do.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET civilaffairs.allow_audit_truncate = 'on'")


def pytest_configure(config):
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    connection_created.connect(_allow_audit_truncate)


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }


@pytest.fixture
def city(db):
    """A small city with one persona per role (see tests/personas.py)."""
    return build_city()


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login
