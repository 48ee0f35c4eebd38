"""Forms of a person's own account: the password change and the two-factor code."""

from django import forms
from django.contrib.auth.forms import PasswordChangeForm as DjangoPasswordChangeForm
from django.utils.translation import gettext_lazy as _


class PasswordChangeForm(DjangoPasswordChangeForm):
    """Django's form (old password, new password twice; the validators of the password
    policy run on the new one), in the project's look."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["old_password"].label = _("Current password")
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password2"].label = _("New password again")
        for field in self.fields.values():
            field.widget.attrs["class"] = "form-control"


class OTPTokenForm(forms.Form):
    otp_token = forms.CharField(
        label=_("6-digit code"),
        max_length=16,
        widget=forms.TextInput(
            attrs={
                "class": "form-control form-control-lg text-center",
                "autocomplete": "one-time-code",
                "inputmode": "numeric",
                "pattern": "[0-9 ]*",
                "autofocus": True,
            }
        ),
    )
