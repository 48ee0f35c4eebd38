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


def otp_verify_session(client, user):
    """Mark the client's session as having passed the second sign-in step with the user's
    confirmed TOTP device (one is created when the user has none), as a real sign-in would."""
    from django.conf import settings
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from civilaffairs.models import RoleAssignment
    from civilaffairs.security import OTP_ENROLLED_SESSION_KEY

    device = TOTPDevice.objects.filter(user_id=user.pk, confirmed=True).first()
    if device is None:
        required = RoleAssignment.objects.filter(
            user_id=user.pk, role__in=settings.OTP_REQUIRED_ROLES
        ).exists()
        if not required:
            return None
        device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session[OTP_ENROLLED_SESSION_KEY] = True
    session.save()
    return device


@pytest.fixture(autouse=True)
def _sign_ins_pass_two_factor(monkeypatch):
    """``client.force_login(user)`` stands for a complete sign-in, so it includes the second
    step for users who need one (the enforcement itself stays on; tests/test_auth_security.py
    signs in through the real pages). ``client.login()`` gets the request django-axes needs."""
    from django.http import HttpRequest
    from django.test import Client

    force_login = Client.force_login
    login = Client.login

    def force_login_verified(self, user, backend=None):
        force_login(self, user, backend)
        otp_verify_session(self, user)

    def login_with_request(self, **credentials):
        from civilaffairs.models import User

        credentials.setdefault("request", HttpRequest())
        signed_in = login(self, **credentials)
        if signed_in:
            otp_verify_session(self, User.objects.get(pk=self.session["_auth_user_id"]))
        return signed_in

    monkeypatch.setattr(Client, "force_login", force_login_verified)
    monkeypatch.setattr(Client, "login", login_with_request)


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


@pytest.fixture(autouse=True)
def _generous_rate_limits(settings):
    """The suite signs in and exports from one address, in parallel runs sharing one Redis:
    generous limits here; tests/test_rate_limits.py sets the ones it checks."""
    settings.RATE_LIMITS = dict.fromkeys(settings.RATE_LIMITS, "100000/m")
