"""Forms of the complaint and commitment pages: the shape of the input only; the rules are the
services' (rectification.complaints, rectification.commitments)."""

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import OrgKind
from civilaffairs.models import OrgUnit
from civilaffairs.validators import validate_id_number
from rectification.choices import (
    ComplaintChannel,
    ComplaintDomain,
    ComplaintNature,
    ReplyTarget,
    Satisfaction,
)
from rectification.complaints import deadline_days
from rectification.forms import DateInput, MultipleFileField, UnitChoiceField, _style, unit_choices
from rectification.models import CommitmentMilestone, Complaint


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs=None):
        super().__init__(attrs, format="%Y-%m-%dT%H:%M")


class ComplaintForm(forms.Form):
    channel = forms.ChoiceField(label=_("Channel"), choices=ComplaintChannel.choices)
    referring_body = forms.CharField(
        label=_("Referring body"),
        required=False,
        max_length=100,
        help_text=_("For referred cases and the 12345 hotline."),
    )
    reference_number = forms.CharField(label=_("Reference number"), required=False, max_length=60)
    received_at = forms.DateTimeField(
        label=_("Received at"), required=False, widget=DateTimeInput, help_text=_("Empty: now.")
    )
    domain = forms.ChoiceField(label=_("Domain"), choices=ComplaintDomain.choices)
    nature = forms.ChoiceField(label=_("Nature"), choices=ComplaintNature.choices)
    district = forms.ModelChoiceField(
        label=_("District concerned"),
        required=False,
        queryset=OrgUnit.objects.none(),
        empty_label=_("Not known"),
    )
    title = forms.CharField(label=_("Summary"), max_length=200)
    content = forms.CharField(
        label=_("Content"), max_length=10000, widget=forms.Textarea(attrs={"rows": 5})
    )
    complainant_name = forms.CharField(label=_("Complainant's name"), required=False, max_length=50)
    complainant_phone = forms.CharField(
        label=_("Complainant's phone"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    complainant_id_number = forms.CharField(
        label=_("Complainant's ID number"),
        required=False,
        max_length=18,
        validators=[validate_id_number],
        help_text=_("18-character resident ID number, only when the case needs it."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    consent = forms.BooleanField(
        label=_(
            "The complainant agreed that their name, phone and ID number be recorded for this case"
        ),
        required=False,
    )
    files = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Letters, screenshots or photos (JPEG, PNG, PDF)."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["district"].queryset = (
            OrgUnit.objects.visible_to(user)
            .filter(kind=OrgKind.DISTRICT_BUREAU, active=True)
            .order_by("path")
        )
        _style(self)
        self.fields["consent"].widget.attrs["class"] = "form-check-input"

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        return {
            name: d.get(name)
            for name in (
                "channel",
                "domain",
                "nature",
                "title",
                "content",
                "complainant_name",
                "complainant_phone",
                "complainant_id_number",
                "consent",
                "referring_body",
                "reference_number",
                "district",
                "received_at",
            )
        }


class ComplaintStepForm(forms.Form):
    """One step on a complaint: the fields it needs, and the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, action, step, user=None, complaint=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        note = self.fields["note"]
        note.required = step.needs_note
        note.label = STEP_NOTE_LABELS.get(action, note.label)
        if action == "triage":
            units = unit_choices(user) if user is not None else OrgUnit.objects.none()
            self.fields["responsible_unit"] = UnitChoiceField(
                label=_("Unit or department to handle it"),
                queryset=units,
                empty_label=_("Choose…"),
            )
            self.fields["supervising_department"] = UnitChoiceField(
                label=_("Supervising department"),
                required=False,
                queryset=units.filter(kind=OrgKind.DEPARTMENT),
                empty_label=_("The unit's own department"),
            )
            days = deadline_days().get(complaint.nature, 15) if complaint else 15
            self.fields["working_days"] = forms.IntegerField(
                label=_("Working days to reply"),
                min_value=1,
                max_value=250,
                initial=days,
                help_text=_("Set by the nature of the complaint; change it if needed."),
            )
        elif action == "reply":
            choices = list(ReplyTarget.choices)
            if complaint is not None and not complaint.referring_body:
                choices = [c for c in choices if c[0] != ReplyTarget.REFERRER]
            self.fields["reply_to"] = forms.ChoiceField(
                label=_("Replied to"),
                choices=choices,
                widget=forms.RadioSelect,
                initial=ReplyTarget.REFERRER
                if complaint is not None and complaint.referring_body
                else ReplyTarget.COMPLAINANT,
            )
            self.fields["content"] = forms.CharField(
                label=_("What the reply said"),
                max_length=5000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        elif action == "return_visit":
            self.fields["satisfaction"] = forms.ChoiceField(
                label=_("Satisfaction"), choices=Satisfaction.choices, widget=forms.RadioSelect
            )
        elif action == "merge":
            candidates = Complaint.objects.visible_to(user).exclude(state="merged")
            if complaint is not None:
                candidates = candidates.exclude(pk=complaint.pk)
            self.fields["into"] = forms.ModelChoiceField(
                label=_("The case it repeats"),
                queryset=candidates.order_by("-received_at"),
                empty_label=_("Choose…"),
            )
        if complaint is not None:
            self.fields["version"].initial = complaint.version
        _style(self)

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        kwargs = {"note": (d.get("note") or "").strip(), "version": d["version"]}
        for name in (
            "responsible_unit",
            "supervising_department",
            "working_days",
            "reply_to",
            "content",
            "satisfaction",
            "into",
        ):
            if name in self.fields:
                kwargs[name] = d.get(name)
        return kwargs


STEP_NOTE_LABELS = {
    "triage": _("Handling instructions (optional)"),
    "reply": _("Note (optional)"),
    "return_visit": _("What the complainant said"),
    "close": _("Why there is no return visit"),
    "merge": _("Why it is a duplicate"),
}


class RevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Why you need the contact details"), max_length=200, required=True
    )


def parse_milestones(text: str) -> list[tuple[str, dt.date]]:
    """Lines of "YYYY-MM-DD name" (the date first, then what is promised by then)."""
    result = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        date_text, _sep, title = line.partition(" ")
        try:
            due = dt.date.fromisoformat(date_text.strip())
        except ValueError:
            raise forms.ValidationError(
                _("Line %(n)s: start with a date such as 2026-06-30, then the milestone."),
                params={"n": number},
            ) from None
        if not title.strip():
            raise forms.ValidationError(
                _("Line %(n)s: name the milestone after the date."), params={"n": number}
            )
        result.append((title.strip(), due))
    return result


def milestones_text(milestones) -> str:
    return "\n".join(f"{m.due_date.isoformat()} {m.title}" for m in milestones)


class CommitmentForm(forms.Form):
    problem = forms.CharField(label=_("Problem"), max_length=200)
    department = UnitChoiceField(
        label=_("Responsible department"), queryset=OrgUnit.objects.none(), empty_label=_("Choose…")
    )
    promise = forms.CharField(
        label=_("Public promise"), max_length=5000, widget=forms.Textarea(attrs={"rows": 4})
    )
    deadline = forms.DateField(label=_("Deadline"), widget=DateInput)
    milestones = forms.CharField(
        label=_("Milestones"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One per line: the date, a space, then what will be achieved by then."),
    )
    public = forms.BooleanField(label=_("Publish on the public page"), required=False, initial=True)

    def __init__(self, *args, user=None, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = unit_choices(user).filter(kind=OrgKind.DEPARTMENT)
        if editing:
            # The deadline moves only through an extension of the order; the department stays.
            del self.fields["deadline"]
            del self.fields["department"]
            self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
            self.fields["milestones"].help_text = _(
                "Milestones not reached yet. One per line: the date, a space, then what will be "
                "achieved by then."
            )
        _style(self)
        self.fields["public"].widget.attrs["class"] = "form-check-input"

    def clean_milestones(self):
        return parse_milestones(self.cleaned_data.get("milestones", ""))


class ProgressForm(forms.Form):
    content = forms.CharField(
        label=_("Progress"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown on the public page: do not name people or give phone numbers."),
    )
    reached = forms.ModelChoiceField(
        label=_("Milestone reached"),
        required=False,
        queryset=None,
        empty_label=_("None"),
    )

    def __init__(self, *args, commitment=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reached"].queryset = (
            commitment.milestones.filter(reached_at__isnull=True)
            if commitment is not None
            else CommitmentMilestone.objects.none()
        )
        self.fields["reached"].label_from_instance = lambda m: f"{m.due_date} {m.title}"
        _style(self)
