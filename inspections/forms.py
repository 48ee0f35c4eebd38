from django import forms
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import Cornerstone, InstitutionType
from civilaffairs.models import OrgUnit, User
from inspections.choices import InspectionMethod, ScopeMode
from inspections.models import ChecklistTemplate, Finding


class DateInput(forms.DateInput):
    input_type = "date"


class PlanForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    method = forms.ChoiceField(label=_("Method"), choices=InspectionMethod.choices)
    secret = forms.BooleanField(
        label=_("Secret (unannounced): targets must not learn of it before the visit"),
        required=False,
        initial=True,
    )
    period_start = forms.DateField(label=_("From"), widget=DateInput)
    period_end = forms.DateField(label=_("To"), widget=DateInput)
    description = forms.CharField(
        label=_("Purpose and requirements"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    cornerstones = forms.MultipleChoiceField(
        label=_("Cornerstones"),
        required=False,
        choices=Cornerstone.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    templates = forms.ModelMultipleChoiceField(
        label=_("Checklists"),
        queryset=ChecklistTemplate.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    team = forms.ModelMultipleChoiceField(
        label=_("Team (inspectors)"),
        queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
    )
    scope_mode = forms.ChoiceField(
        label=_("How targets are chosen"),
        choices=ScopeMode.choices,
        widget=forms.RadioSelect,
        initial=ScopeMode.EXPLICIT,
    )
    targets = forms.ModelMultipleChoiceField(
        label=_("Targets"),
        required=False,
        queryset=OrgUnit.objects.none(),
        widget=forms.SelectMultiple(attrs={"size": 10}),
        help_text=_("Hold Ctrl to choose several."),
    )
    institution_types = forms.MultipleChoiceField(
        label=_("Institution types to draw from"),
        required=False,
        choices=InstitutionType.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    districts = forms.ModelMultipleChoiceField(
        label=_("Districts to draw from"),
        required=False,
        queryset=OrgUnit.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None: the whole city."),
    )
    draw_count = forms.IntegerField(
        label=_("Targets to draw"), required=False, min_value=1, max_value=1000
    )
    draw_seed = forms.IntegerField(
        label=_("Draw seed (empty: random, recorded)"), required=False, min_value=0, max_value=2**31
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["templates"].queryset = ChecklistTemplate.objects.visible_to(user).current()
        self.fields["team"].queryset = (
            User.objects.visible_to(user)
            .filter(roles__role="inspector", is_active=True)
            .distinct()
            .order_by("username")
        )
        units = OrgUnit.objects.visible_to(user).filter(active=True)
        self.fields["targets"].queryset = units.filter(
            kind__in=["institution", "affiliated_unit", "district_bureau", "street"]
        ).order_by("district__name", "name")
        self.fields["districts"].queryset = units.filter(kind="district_bureau")
        for name, field in self.fields.items():
            widget = field.widget
            if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
                continue
            if isinstance(widget, forms.CheckboxInput):
                widget.attrs["class"] = "form-check-input"
            elif isinstance(widget, forms.Select):
                widget.attrs["class"] = "form-select"
            else:
                widget.attrs["class"] = "form-control"
            if name == "title":
                widget.attrs["autofocus"] = True

    def clean(self):
        data = super().clean()
        if (
            data.get("period_start")
            and data.get("period_end")
            and data["period_end"] < data["period_start"]
        ):
            self.add_error("period_end", _("The period ends before it starts."))
        if data.get("scope_mode") == ScopeMode.DRAW:
            if not data.get("draw_count"):
                self.add_error("draw_count", _("Say how many targets to draw."))
        elif not data.get("targets"):
            self.add_error("targets", _("Choose at least one target."))
        return data

    def service_kwargs(self):
        d = self.cleaned_data
        return {
            "title": d["title"],
            "method": d["method"],
            "secret": d["secret"],
            "period_start": d["period_start"],
            "period_end": d["period_end"],
            "description": d["description"],
            "cornerstones": d["cornerstones"],
            "templates": list(d["templates"]),
            "team": list(d["team"]),
            "scope_mode": d["scope_mode"],
            "targets": list(d["targets"]),
            "institution_types": d["institution_types"],
            "districts": list(d["districts"]),
            "draw_count": d["draw_count"],
            "draw_seed": d["draw_seed"],
        }


class AmendForm(forms.Form):
    note = forms.CharField(
        label=_("Correction"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3, "class": "form-control"}),
    )


class FindingAmendForm(forms.ModelForm):
    reason = forms.CharField(
        label=_("Why it is corrected"),
        max_length=2000,
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Finding
        fields = ["title", "bottom_line", "category", "severity", "location", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["version"].initial = self.instance.version
        for name, field in self.fields.items():
            if name in ("reason", "version"):
                continue
            field.widget.attrs["class"] = (
                "form-select" if isinstance(field.widget, forms.Select) else "form-control"
            )
        self.fields["description"].widget.attrs["rows"] = 3

    def service_kwargs(self):
        d = self.cleaned_data
        return {
            "reason": d["reason"],
            "version": d.get("version"),
            **{k: d[k] for k in self.Meta.fields},
        }
