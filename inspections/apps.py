from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = _("Inspections")

    def ready(self):
        from civilaffairs.models.audit import register_action

        for code, label in {
            "checklist.create": _("Checklist saved"),
            "plan.create": _("Plan drafted"),
            "plan.submit": _("Plan submitted for approval"),
            "plan.approve": _("Plan approved"),
            "plan.return": _("Plan returned"),
            "plan.complete": _("Plan completed"),
            "plan.cancel": _("Plan cancelled"),
            "visit.checkin": _("Checked in on site"),
            "visit.submit": _("Visit submitted"),
            "visit.amend": _("Visit amended"),
            "finding.amend": _("Finding amended"),
        }.items():
            register_action(code, label)
