"""Forms of the flash report pages: they collect input; the services decide."""

from django import forms
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import Role
from civilaffairs.models import User

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]


def _section(label, rows: int) -> forms.CharField:
    """One of the four body sections of a flash report, autosaved as it is typed."""
    return forms.CharField(
        label=label,
        required=False,
        max_length=20000,
        widget=forms.Textarea(attrs={"class": "form-control autosave", "rows": rows}),
    )


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(
            attrs={"class": "form-control autosave", **(attrs or {})}, format="%Y-%m-%dT%H:%M"
        )


def _ids(values) -> list[int]:
    return [int(v) for v in values if str(v).isdigit()]


class FlashStartForm(forms.Form):
    """The first lines of a new report: what and when; the editor takes it from there."""

    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control autosave", "autofocus": True}),
    )
    found_at = forms.DateTimeField(
        label=_("Found at"),
        input_formats=DATETIME_FORMATS,
        widget=DateTimeLocalInput(),
        help_text=_("The same-day rule counts from this day."),
    )
    findings = forms.CharField(required=False, widget=forms.HiddenInput)


class FlashEditForm(forms.Form):
    """The whole draft, posted by the editor's autosave; links are lists of ids."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    title = forms.CharField(
        label=_("Title"),
        max_length=200,
        widget=forms.TextInput(attrs={"class": "form-control autosave"}),
    )
    found_at = forms.DateTimeField(
        label=_("Found at"), input_formats=DATETIME_FORMATS, widget=DateTimeLocalInput()
    )
    occurred_at = forms.DateTimeField(
        label=_("Occurred at"),
        required=False,
        input_formats=DATETIME_FORMATS,
        widget=DateTimeLocalInput(),
    )
    issuing_office = forms.CharField(
        label=_("Issuing office"),
        max_length=100,
        required=False,
        widget=forms.TextInput(attrs={"class": "form-control autosave"}),
    )
    situation = _section(_("Basic situation"), rows=5)
    problems = _section(_("Problems found"), rows=5)
    causes = _section(_("Cause analysis"), rows=4)
    suggestions = _section(_("Opinions and suggestions"), rows=4)

    LINKS = ("findings", "visits", "rectifications")

    def service_kwargs(self, data) -> dict:
        values = {k: v for k, v in self.cleaned_data.items() if k != "version"}
        for name in self.LINKS:
            values[name] = _ids(data.getlist(name))
        return values


class TransitionForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    note = forms.CharField(
        label=_("Note"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"class": "form-control autosave", "rows": 2}),
    )
    recipients = forms.ModelMultipleChoiceField(
        label=_("Leaders"),
        required=False,
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipients"].queryset = leaders()


def leaders():
    """Active bureau leaders, by name."""
    return (
        User.objects.filter(is_active=True, roles__role=Role.LEADER)
        .select_related("org_unit")
        .distinct()
        .order_by("real_name", "pk")
    )
