"""Forms of the daily bottom-line report pages. They only collect input; the services decide."""

import uuid

from django import forms
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import BottomLine
from reports.choices import LineStatus
from reports.daily import default_units
from reports.models import SensitivePeriod


def _bootstrap(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.Select | forms.SelectMultiple):
            widget.attrs.setdefault("class", "form-select")
        elif isinstance(widget, forms.CheckboxInput):
            widget.attrs.setdefault("class", "form-check-input")
        elif not isinstance(widget, forms.RadioSelect | forms.HiddenInput):
            widget.attrs.setdefault("class", "form-control")


class PeriodForm(forms.ModelForm):
    units = forms.ModelMultipleChoiceField(
        label=_("Reporting units"),
        queryset=default_units(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("All district bureaus and affiliated units unless you choose."),
    )

    class Meta:
        model = SensitivePeriod
        fields = ("name", "start_date", "end_date", "cutoff", "remind_minutes", "active", "units")
        widgets = {
            "start_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "end_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "cutoff": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["units"].queryset = default_units()
        if not self.instance.pk:
            self.initial.setdefault("units", list(default_units()))
            self.initial.setdefault("cutoff", "16:00")
        _bootstrap(self)

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        return {"units": list(data.pop("units")), **data}


LINE_CHOICES = [(LineStatus.NORMAL, _("Normal")), (LineStatus.ABNORMAL, _("Abnormal"))]


class DailyReportForm(forms.Form):
    """Five lines (normal / abnormal with a note), the responsible leader, and the client UUID
    that makes a double tap or a resent form count once."""

    client_uuid = forms.UUIDField(widget=forms.HiddenInput)
    responsible_leader = forms.CharField(label=_("Responsible leader"), max_length=50)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in BottomLine.choices:
            self.fields[f"status_{key}"] = forms.ChoiceField(
                label=label,
                choices=LINE_CHOICES,
                initial=LineStatus.NORMAL,
                widget=forms.RadioSelect,
            )
            self.fields[f"note_{key}"] = forms.CharField(
                label=_("What is abnormal"),
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
        self.initial.setdefault("client_uuid", uuid.uuid4())
        _bootstrap(self)

    def line_fields(self):
        return [
            {
                "key": key,
                "label": label,
                "status": self[f"status_{key}"],
                "note": self[f"note_{key}"],
            }
            for key, label in BottomLine.choices
        ]

    def lines(self) -> list[dict]:
        data = self.cleaned_data
        return [
            {
                "bottom_line": key,
                "status": data.get(f"status_{key}") or LineStatus.NORMAL,
                "note": data.get(f"note_{key}", ""),
            }
            for key in BottomLine.values
        ]


class WeeklyForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)
    plan = forms.CharField(
        label=_("Plan for the week"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )
    summary = forms.CharField(
        label=_("Summary of the week"),
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"rows": 8}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        _bootstrap(self)
