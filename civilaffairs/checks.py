"""System checks of the keys that protect personal data (civilaffairs.crypto).

Always: every configured key must be base64 of 32 bytes, or nothing could be read or written.
With ``check --deploy``: the keys must be set, and not derived from the development
SECRET_KEY (anyone with the source code could then decrypt the database)."""

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from civilaffairs import crypto

DEVELOPMENT_KEY_PREFIX = "django-insecure-"


def _key_errors():
    errors = []
    try:
        crypto.keyring()
    except ImproperlyConfigured as exc:
        errors.append(
            checks.Error(
                str(exc),
                hint="Generate a key with: python manage.py rotate_field_keys --new-key",
                id="civilaffairs.E101",
            )
        )
    try:
        crypto.blind_key()
    except ImproperlyConfigured as exc:
        errors.append(
            checks.Error(
                str(exc),
                hint="Generate a key with: python manage.py rotate_field_keys --new-key",
                id="civilaffairs.E102",
            )
        )
    return errors


@checks.register(checks.Tags.security)
def check_field_keys(app_configs, **kwargs):
    return _key_errors()


@checks.register(checks.Tags.security, deploy=True)
def check_field_keys_deploy(app_configs, **kwargs):
    messages = []
    development_secret = str(settings.SECRET_KEY).startswith(DEVELOPMENT_KEY_PREFIX)
    keys = crypto._configured_keys()
    blind = (getattr(settings, "BLIND_INDEX_KEY", "") or "").strip()
    if not keys:
        messages.append(
            checks.Error(
                "FIELD_ENCRYPTION_KEYS is not set: personal data (phones, ID numbers, names) is "
                "encrypted with a key derived from "
                + ("the development SECRET_KEY." if development_secret else "SECRET_KEY."),
                hint="Set FIELD_ENCRYPTION_KEYS (or FIELD_ENCRYPTION_KEYS_FILE) to a key from "
                "`python manage.py rotate_field_keys --new-key`, then run "
                "`python manage.py rotate_field_keys`.",
                id="civilaffairs.E103",
            )
        )
    if not blind:
        messages.append(
            checks.Error(
                "BLIND_INDEX_KEY is not set: the blind indexes of phones and ID numbers use a "
                "key derived from SECRET_KEY.",
                hint="Set BLIND_INDEX_KEY (or BLIND_INDEX_KEY_FILE) to a key of its own, then "
                "run `python manage.py rotate_field_keys --reindex`.",
                id="civilaffairs.E104",
            )
        )
    elif blind in keys:
        messages.append(
            checks.Warning(
                "BLIND_INDEX_KEY is also an encryption key; give each purpose its own key.",
                id="civilaffairs.W105",
            )
        )
    return messages
