from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CivilAffairsConfig(AppConfig):
    name = "civilaffairs"
    verbose_name = _("Foundation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Kinds of background job defined by the foundation.
        # Sign-in security: its signal receivers and audit action labels.
        # Sign-ins, failures, sign-outs on the audit trail (signal receivers) and their labels.
        # Session limits (the sign-in receiver) and the audit labels of account security.
        # System checks of the personal-data keys (check --deploy flags development keys).
        from civilaffairs import (
            account_security,  # noqa: F401
            auditing,  # noqa: F401
            checks,  # noqa: F401
            choice_cache,
            ledgers,  # noqa: F401
            security,  # noqa: F401
        )

        # Filter-select choices kept in the cache go stale when a unit or plan changes.
        choice_cache.connect()
