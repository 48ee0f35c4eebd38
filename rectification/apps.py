from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RectificationConfig(AppConfig):
    name = "rectification"
    verbose_name = _("Rectification")

    def ready(self):
        from civilaffairs import notifications, workdays
        from civilaffairs.models import Attachment
        from civilaffairs.models.audit import register_action
        from inspections import services as inspections_services
        from rectification import alerts, services

        if services.issue_for_filed_findings not in inspections_services.VISIT_FILED_HOOKS:
            inspections_services.VISIT_FILED_HOOKS.append(services.issue_for_filed_findings)
        if services.recompute_provisional_deadlines not in workdays.LOADED_HOOKS:
            workdays.LOADED_HOOKS.append(services.recompute_provisional_deadlines)
        if "rectification.Rectification" not in Attachment.OWNER_MODELS:
            Attachment.OWNER_MODELS.append("rectification.Rectification")
        notifications.TIMELINE_NOTIFIERS["rectification.Rectification"] = alerts.notify_step
        register_action("rectification.issue", _("Rectification order issued"))
        for action, step in services.STEPS.items():
            register_action(f"rectification.{action}", step.label)
        self._ready_complaints()

    def _ready_complaints(self):
        from civilaffairs import notifications
        from civilaffairs.models import Attachment
        from civilaffairs.models.audit import register_action
        from rectification import complaints

        if "rectification.Complaint" not in Attachment.OWNER_MODELS:
            Attachment.OWNER_MODELS.append("rectification.Complaint")
        notifications.TIMELINE_NOTIFIERS["rectification.Complaint"] = complaints.notify_step
        register_action("complaint.create", _("Complaint registered"))
        register_action("complaint.reveal", _("Complainant's contact details revealed"))
        for verb, label in complaints.STEP_AUDIT_LABELS.items():
            register_action(f"complaint.{verb}", label)
        register_action("commitment.create", _("Public commitment recorded"))
        register_action("commitment.update", _("Public commitment changed"))
        register_action("commitment.progress", _("Progress reported on a public commitment"))
