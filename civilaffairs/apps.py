from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CivilAffairsConfig(AppConfig):
    name = "civilaffairs"
    verbose_name = _("Foundation")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Kinds of background job defined by the foundation.
        from civilaffairs import ledgers  # noqa: F401

        # Sign-in security: its signal receivers and audit action labels.
        from civilaffairs import security  # noqa: F401

        # Sign-ins, failures, sign-outs on the audit trail (signal receivers) and their labels.
        from civilaffairs import auditing  # noqa: F401

        # Session limits (the sign-in receiver) and the audit labels of account security.
        from civilaffairs import account_security  # noqa: F401

        # System checks of the personal-data keys (check --deploy flags development keys).
        from civilaffairs import checks  # noqa: F401
