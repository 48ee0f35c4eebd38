"""A person's own account (password, two-factor sign-in), the second sign-in step, and the
system administrator's unlock and device reset on a user's page."""

import django_otp
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic import TemplateView

from civilaffairs import security
from civilaffairs.account_forms import OTPTokenForm, PasswordChangeForm
from civilaffairs.choices import Role
from civilaffairs.exceptions import ServiceError
from civilaffairs.models import User
from civilaffairs.passwords import password_expired, password_expires_at
from civilaffairs.views.generic import RoleRequiredMixin


def _next_url(request, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


class AccountView(LoginRequiredMixin, TemplateView):
    """My account: who I am, when my password expires, whether two-factor sign-in is on."""

    template_name = "account/account.html"

    def get_context_data(self, **kwargs):
        user = self.request.user
        context = super().get_context_data(**kwargs)
        context.update(
            person=user,
            password_expires_at=password_expires_at(user),
            otp_enabled=security.otp_enabled(user),
            otp_required=security.otp_required(user),
            otp_form=OTPTokenForm(),
        )
        context["otp_form"].fields["otp_token"].widget.attrs.pop("autofocus", None)
        return context


class PasswordChangeView(auth_views.PasswordChangeView):
    """Change my password (Django's view: sensitive POST parameters, session kept)."""

    template_name = "account/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("account")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["expired"] = password_expired(self.request.user)
        context["next"] = _next_url(self.request, "")
        return context

    def form_valid(self, form):
        response = super().form_valid(form)
        security.password_change_recorded(actor=self.request.user, user=self.request.user)
        messages.success(self.request, _("Your password has been changed."))
        following = _next_url(self.request, "")
        return HttpResponseRedirect(following) if following else response


@method_decorator([sensitive_post_parameters("otp_token"), never_cache], name="dispatch")
class OTPVerifyView(LoginRequiredMixin, View):
    """The second sign-in step: the code of the person's authenticator app. Wrong codes count
    toward the lockout; at the lockout the person is signed out."""

    template_name = "account/otp_verify.html"

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated and security.otp_verified(request):
            return redirect(_next_url(request, reverse("home")))
        return super().dispatch(request, *args, **kwargs)

    def _render(self, request, form, status=200):
        context = {"form": form, "next": _next_url(request, "")}
        return render(request, self.template_name, context, status=status)

    def get(self, request):
        if not security.otp_enabled(request.user):
            return self._no_device(request)
        return self._render(request, OTPTokenForm())

    def post(self, request):
        user = request.user
        if security.lockout_active(request, user.get_username()):
            logout(request)
            return security.lockout_response(request)
        if not security.otp_enabled(user):
            return self._no_device(request)
        form = OTPTokenForm(request.POST)
        if not form.is_valid():
            return self._render(request, form, status=400)
        problem = security.otp_check(request, user, form.cleaned_data["otp_token"])
        if problem is not None:
            if getattr(request, "axes_locked_out", False):
                logout(request)
                return security.lockout_response(request)
            form.add_error("otp_token", problem)
            return self._render(request, form, status=400)
        django_otp.login(request, security.otp_device(user))
        request.session[security.OTP_ENROLLED_SESSION_KEY] = True
        security.lockout_reset(request, user)
        return redirect(_next_url(request, reverse("home")))

    def _no_device(self, request):
        # The device was removed meanwhile (a reset by the system administrator).
        request.session[security.OTP_ENROLLED_SESSION_KEY] = False
        target = "otp-setup" if security.otp_required(request.user) else "home"
        return redirect(reverse(target))


@method_decorator([sensitive_post_parameters("otp_token"), never_cache], name="dispatch")
class OTPSetupView(LoginRequiredMixin, View):
    """Set up two-factor sign-in: scan the QR code (or type the key) into an authenticator app
    and confirm with its first code. Required roles see this before anything else."""

    template_name = "account/otp_setup.html"

    def _render(self, request, device, form, status=200):
        context = {
            "form": form,
            "qr_svg": security.otp_qr_svg(device),
            "secret": security.totp_secret(device),
            "required": security.otp_required(request.user),
            "next": _next_url(request, ""),
        }
        response = render(request, self.template_name, context, status=status)
        response["Cache-Control"] = "no-store"
        return response

    def get(self, request):
        if security.otp_enabled(request.user):
            return redirect(reverse("account"))
        device = security.otp_enrol_start(user=request.user)
        return self._render(request, device, OTPTokenForm())

    def post(self, request):
        user = request.user
        if security.otp_enabled(user):
            return redirect(reverse("account"))
        form = OTPTokenForm(request.POST)
        if form.is_valid():
            try:
                device = security.otp_enrol_confirm(user=user, token=form.cleaned_data["otp_token"])
            except ServiceError as exc:
                form.add_error("otp_token", str(exc.message))
            else:
                django_otp.login(request, device)
                request.session[security.OTP_ENROLLED_SESSION_KEY] = True
                security.lockout_reset(request, user)
                messages.success(request, _("Two-factor sign-in is on."))
                return redirect(_next_url(request, reverse("account")))
        device = security.otp_enrol_start(user=user)
        return self._render(request, device, form, status=400)


@method_decorator(sensitive_post_parameters("otp_token"), name="dispatch")
class OTPDisableView(LoginRequiredMixin, View):
    """Turn two-factor sign-in off, with a current code (roles that require it cannot)."""

    def post(self, request):
        form = OTPTokenForm(request.POST)
        if not form.is_valid():
            messages.error(request, _("Enter the 6-digit code of your authenticator app."))
            return redirect(reverse("account"))
        try:
            security.otp_disable(user=request.user, token=form.cleaned_data["otp_token"])
        except ServiceError as exc:
            messages.error(request, str(exc.message))
        else:
            request.session[security.OTP_ENROLLED_SESSION_KEY] = False
            messages.success(request, _("Two-factor sign-in is off."))
        return redirect(reverse("account"))


class _UserSecurityAction(RoleRequiredMixin, View):
    """A system administrator's action on one user's sign-in, from the user's page."""

    allowed_roles = (Role.SYSADMIN,)

    def post(self, request, pk):
        try:
            person = User.objects.visible_to(request.user).get(pk=pk)
        except User.DoesNotExist as exc:
            raise Http404 from exc
        try:
            self.act(request, person)
        except ServiceError as exc:
            messages.error(request, str(exc.message))
        return redirect(reverse("user-detail", args=[person.pk]))


class UserUnlockView(_UserSecurityAction):
    def act(self, request, person):
        security.user_unlock(actor=request.user, user=person)
        messages.success(
            request, _("%(name)s may sign in again.") % {"name": person.real_name or person}
        )


class UserOTPResetView(_UserSecurityAction):
    def act(self, request, person):
        security.otp_device_reset(actor=request.user, user=person)
        messages.success(
            request,
            _(
                "The two-factor device of %(name)s was removed; a new one is set up at the "
                "next sign-in."
            )
            % {"name": person.real_name or person},
        )
