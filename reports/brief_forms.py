"""The form that requests a leadership brief: a period (preset or dates) and a district."""

from django import forms
from django.utils.translation import gettext_lazy as _

from reports import dashboard
from reports.briefs import CUSTOM

PRESET_CHOICES = [
    ("week", _("This week")),
    ("month", _("This month")),
    ("quarter", _("This quarter")),
    ("year", _("This year")),
    (CUSTOM, _("Custom dates")),
]


class BriefForm(forms.Form):
    preset = forms.ChoiceField(
        label=_("Period"), choices=PRESET_CHOICES, initial="month", required=False
    )
    since = forms.DateField(
        label=_("From"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    until = forms.DateField(
        label=_("To"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    district = forms.ChoiceField(label=_("District"), required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        districts = list(dashboard.visible_district_units(user).values_list("pk", "name"))
        self.fields["district"].choices = [("", _("All I may see")), *districts]
        self.fields["preset"].widget.attrs["class"] = "form-select"
        self.fields["district"].widget.attrs["class"] = "form-select"
        for name in ("since", "until"):
            self.fields[name].widget.attrs["class"] = "form-control"

    def request_values(self) -> dict:
        """What reports.briefs.brief_request takes (the dashboard's button may leave the
        preset out and send the dates it shows)."""
        data = self.cleaned_data
        return {
            "preset": data.get("preset") or "",
            "since": data.get("since"),
            "until": data.get("until"),
            "district": data.get("district") or None,
        }
