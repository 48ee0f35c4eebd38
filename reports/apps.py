from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self):
        self._ready_flash()
        self._ready_daily()
        from reports import briefs  # noqa: F401 - registers the "brief" background job

    def _ready_daily(self):
        from civilaffairs.models import Attachment
        from civilaffairs.models.audit import register_action
        from reports import daily_tasks  # noqa: F401 - registers the scheduled tasks

        if "reports.DailyDigest" not in Attachment.OWNER_MODELS:
            Attachment.OWNER_MODELS.append("reports.DailyDigest")
        register_action("period.create", _("Sensitive period opened"))
        register_action("period.update", _("Sensitive period changed"))
        register_action("daily.submit", _("Daily bottom-line report filed"))
        register_action("daily.correct", _("Daily bottom-line report corrected"))
        register_action("daily.finding", _("Abnormal bottom line recorded as a finding"))
        register_action("daily.digest", _("Daily digest built"))
        register_action("weekly.create", _("Weekly plan and summary written"))
        register_action("weekly.update", _("Weekly plan and summary changed"))

    def _ready_flash(self):
        from civilaffairs import notifications
        from civilaffairs.models import Attachment
        from civilaffairs.models.audit import register_action
        from reports import services

        if "reports.FlashReport" not in Attachment.OWNER_MODELS:
            Attachment.OWNER_MODELS.append("reports.FlashReport")
        notifications.TIMELINE_NOTIFIERS["reports.FlashReport"] = services.notify_step
        register_action("flash.create", _("Flash report drafted"))
        register_action("flash.update", _("Flash report edited"))
        for action, step in services.STEPS.items():
            register_action(f"flash.{action}", step.label)
