"""Forms of the order pages. They only check the shape of the input; the rules (who may do
what, when) are the services'."""

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import OrgKind, Role
from civilaffairs.models import OrgUnit, User
from rectification import services
from rectification.choices import Priority, SourceType

MAX_EVIDENCE_FILES = 10
EVIDENCE_ACCEPT = "image/*,application/pdf"


class DateInput(forms.DateInput):
    input_type = "date"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            files = [super(MultipleFileField, self).clean(d, initial) for d in data if d]
        else:
            files = [super().clean(data, initial)] if data else []
        if self.required and not files:
            raise forms.ValidationError(self.error_messages["required"], code="required")
        return files


def _style(form):
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.HiddenInput | forms.RadioSelect | forms.CheckboxInput):
            continue
        if isinstance(widget, forms.Select):
            widget.attrs.setdefault("class", "form-select")
        else:
            widget.attrs.setdefault("class", "form-control")


class UnitChoiceField(forms.ModelChoiceField):
    """Units as an indented tree (ordered by path), so a long list stays readable."""

    def label_from_instance(self, obj):
        return "\xa0\xa0" * max(obj.depth - 1, 0) + obj.name


def unit_choices(user):
    """Units an order may be sent to: those the user sees, but not the bureau itself."""
    return (
        OrgUnit.objects.visible_to(user)
        .filter(active=True)
        .exclude(kind=OrgKind.BUREAU)
        .order_by("path")
    )


class OrderIssueForm(forms.Form):
    DEADLINE_DATE = "date"
    DEADLINE_DAYS = "days"

    responsible_unit = UnitChoiceField(
        label=_("Responsible unit"), queryset=OrgUnit.objects.none(), empty_label=_("Choose…")
    )
    title = forms.CharField(label=_("Problem"), max_length=200)
    requirements = forms.CharField(
        label=_("Rectification requirements"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    deadline_mode = forms.ChoiceField(
        label=_("Deadline given as"),
        choices=[(DEADLINE_DAYS, _("Working days from today")), (DEADLINE_DATE, _("A date"))],
        widget=forms.RadioSelect,
        initial=DEADLINE_DAYS,
    )
    working_days = forms.IntegerField(
        label=_("Working days"),
        required=False,
        min_value=1,
        max_value=250,
        help_text=_("Counted on the working-day calendar from dispatch (holidays excluded)."),
    )
    deadline = forms.DateField(label=_("Deadline"), required=False, widget=DateInput)
    supervising_department = UnitChoiceField(
        label=_("Supervising department"),
        required=False,
        queryset=OrgUnit.objects.none(),
        empty_label=_("None"),
        help_text=_("The department may verify the rectification too."),
    )
    responsible_person = forms.ModelChoiceField(
        label=_("Responsible person"),
        required=False,
        queryset=User.objects.none(),
        empty_label=_("Not named"),
    )
    priority = forms.ChoiceField(
        label=_("Priority"), choices=Priority.choices, initial=Priority.NORMAL
    )
    source_type = forms.ChoiceField(
        label=_("Source"), choices=SourceType.choices, initial=SourceType.FINDING
    )

    def __init__(self, *args, user=None, finding=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.finding = finding
        units = unit_choices(user)
        self.fields["responsible_unit"].queryset = units
        self.fields["supervising_department"].queryset = units.filter(kind=OrgKind.DEPARTMENT)
        self.fields["responsible_person"].queryset = (
            User.objects.visible_to(user)
            .filter(is_active=True, roles__role=Role.UNIT_LIAISON)
            .select_related("org_unit")
            .distinct()
            .order_by("org_unit__path", "real_name")
        )
        self.fields["responsible_person"].label_from_instance = lambda u: (
            f"{u.real_name or u.username} · {u.org_unit}" if u.org_unit else str(u)
        )
        if finding is not None:
            # The source is the finding; it is shown, not chosen.
            del self.fields["source_type"]
        _style(self)
        self.fields["title"].widget.attrs["autofocus"] = True
        self.fields["working_days"].widget.attrs["inputmode"] = "numeric"

    def clean(self):
        data = super().clean()
        mode = data.get("deadline_mode")
        days, date = data.get("working_days"), data.get("deadline")
        if mode == self.DEADLINE_DAYS and not days and "working_days" not in self.errors:
            self.add_error("working_days", _("Give the number of working days."))
        elif mode == self.DEADLINE_DATE and not date and "deadline" not in self.errors:
            self.add_error("deadline", _("Give the deadline date."))
        unit, person = data.get("responsible_unit"), data.get("responsible_person")
        if unit is not None and person is not None and not liaison_serves(person, unit):
            self.add_error(
                "responsible_person", _("This person is not a liaison of the responsible unit.")
            )
        return data

    def service_kwargs(self):
        d = self.cleaned_data
        by_days = d["deadline_mode"] == self.DEADLINE_DAYS
        kwargs = {
            "responsible_unit": d["responsible_unit"],
            "title": d["title"].strip(),
            "requirements": d["requirements"].strip(),
            "deadline": None if by_days else d["deadline"],
            "working_days": d["working_days"] if by_days else None,
            "supervising_department": d["supervising_department"],
            "responsible_person": d["responsible_person"],
            "priority": d["priority"],
            "finding": self.finding,
        }
        if self.finding is None:
            kwargs["source_type"] = d["source_type"]
        return kwargs


liaison_serves = services.liaison_serves


def issue_initial(finding) -> dict:
    """What an order issued from a finding starts with."""
    from rectification.choices import PRIORITY_BY_SEVERITY
    from rectification.services import DEFAULT_WORKING_DAYS

    days = {**DEFAULT_WORKING_DAYS, **getattr(settings, "RECTIFICATION_DEFAULT_DAYS", {})}
    target = finding.target
    return {
        "responsible_unit": target.pk,
        "title": finding.title,
        "requirements": finding.description,
        "working_days": days.get(finding.severity, 15),
        "supervising_department": (
            finding.transferred_to_id or getattr(target, "supervising_department_id", None)
        ),
        "priority": PRIORITY_BY_SEVERITY.get(finding.severity, Priority.NORMAL),
    }


class TransitionForm(forms.Form):
    """One step of an order: the fields it needs, and the version the user saw."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    note = forms.CharField(
        label=_("Note"), required=False, max_length=5000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, action, step, user=None, order=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.action, self.step = action, step
        note = self.fields["note"]
        note.required = step.needs_note
        note.label = NOTE_LABELS.get(action, note.label)
        if action == "submit":
            self.fields["files"] = MultipleFileField(
                label=_("Photos or documents (evidence)"),
                required=True,
                widget=MultipleFileInput(attrs={"accept": EVIDENCE_ACCEPT}),
                help_text=_("Photos (JPEG, PNG, HEIC) or PDF, up to %(n)s files.")
                % {"n": MAX_EVIDENCE_FILES},
            )
        elif action == "request_extension":
            self.fields["new_deadline"] = forms.DateField(
                label=_("Requested deadline"), widget=DateInput
            )
        elif action == "reassign":
            field = UnitChoiceField(
                label=_("New responsible unit"),
                queryset=unit_choices(user) if user is not None else OrgUnit.objects.none(),
                empty_label=_("Choose…"),
            )
            if order is not None:
                field.queryset = field.queryset.exclude(pk=order.responsible_unit_id)
            self.fields["responsible_unit"] = field
        if order is not None:
            self.fields["version"].initial = order.version
        _style(self)

    def clean_files(self):
        files = self.cleaned_data.get("files") or []
        if len(files) > MAX_EVIDENCE_FILES:
            raise forms.ValidationError(
                _("At most %(n)s files at a time.") % {"n": MAX_EVIDENCE_FILES}
            )
        return files

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        kwargs = {"note": (d.get("note") or "").strip(), "version": d["version"]}
        for name in ("new_deadline", "responsible_unit"):
            if name in self.fields:
                kwargs[name] = d.get(name)
        return kwargs


NOTE_LABELS = {
    "acknowledge": _("Note (optional)"),
    "submit": _("What was rectified"),
    "verify": _("Verification opinion (optional)"),
    "return": _("Why it is returned"),
    "reassign": _("Why it is reassigned"),
    "cancel": _("Why it is cancelled"),
    "reopen": _("Why it is reopened"),
    "request_extension": _("Why more time is needed"),
    "approve_extension": _("Note (optional)"),
    "reject_extension": _("Why it is rejected"),
}


def errors_text(form) -> str:
    """All of a form's errors in one line, for a message above the page, each after the
    label of its field (hidden fields and form-wide errors have none)."""
    parts = []
    for name, errors in form.errors.items():
        field = form.fields.get(name)
        for error in errors:
            if field is None or field.widget.is_hidden or not field.label:
                parts.append(str(error))
            else:
                parts.append(gettext("%(name)s: %(error)s") % {"name": field.label, "error": error})
    return "；".join(parts)
