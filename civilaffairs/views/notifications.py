"""The bell, the notification list and each person's delivery preferences."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import FormView

from civilaffairs import notifications
from civilaffairs.choices import NotificationKind
from civilaffairs.filtersets import NotificationFilterSet
from civilaffairs.models import Notification
from civilaffairs.views.generic import Column, ObjectListView, RoleRequiredMixin, badge

KIND_COLOURS = {
    NotificationKind.UPDATE: "secondary",
    NotificationKind.DUE_SOON: "warning",
    NotificationKind.OVERDUE: "danger",
    NotificationKind.ESCALATION: "danger",
    NotificationKind.REMINDER: "info",
}


def _open_link(notification):
    return reverse("notification-open", args=[notification.pk])


class NotificationListView(ObjectListView):
    model = Notification
    allowed_roles = "__all__"
    filterset_class = NotificationFilterSet
    template_name = "notifications/notification_list.html"
    title = _("Notifications")
    export_filename = ""
    default_ordering = "-created_at"
    empty_message = _("No notifications.")
    columns = [
        Column(
            "title",
            _("Title"),
            lambda n: n.title,
            html=lambda n: format_html(
                '<a href="{}" class="{}">{}</a>'
                '<div class="small text-secondary text-break">{}</div>',
                _open_link(n),
                "fw-semibold" if n.read_at is None else "",
                n.title,
                n.body,
            ),
        ),
        Column(
            "kind",
            _("Kind"),
            lambda n: n.get_kind_display(),
            order_by="kind",
            html=lambda n: badge(KIND_COLOURS.get(n.kind, "secondary"), n.get_kind_display()),
        ),
        Column("body", _("Content"), lambda n: n.body, display=False),
        Column("created_at", _("Time"), lambda n: n.created_at, order_by="created_at"),
        Column(
            "read",
            _("Status"),
            lambda n: _("Read") if n.read_at else _("New"),
            order_by="read_at",
            html=lambda n: (
                badge("light text-dark", _("Read")) if n.read_at else badge("primary", _("New"))
            ),
        ),
    ]


class NotificationOpenView(RoleRequiredMixin, View):
    """Opening a notification marks it read and goes to what it is about."""

    allowed_roles = "__all__"

    def get(self, request, pk):
        notification = Notification.objects.visible_to(request.user).filter(pk=pk).first()
        if notification is None:
            raise Http404
        notifications.mark_read(actor=request.user, ids=[notification.pk])
        target = notification.url
        if not target or not url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}
        ):
            target = reverse("notification-list")
        return HttpResponseRedirect(target)


class NotificationReadAllView(RoleRequiredMixin, View):
    allowed_roles = "__all__"

    def post(self, request):
        count = notifications.mark_read(actor=request.user)
        messages.success(request, _("%(count)d notifications marked as read.") % {"count": count})
        return HttpResponseRedirect(reverse("notification-list"))


class NotificationBadgeView(RoleRequiredMixin, View):
    """The bell's count, refreshed by htmx every minute."""

    allowed_roles = "__all__"

    def get(self, request):
        return render(request, "notifications/partials/bell.html")


class PreferenceForm(forms.Form):
    email = forms.BooleanField(label=_("By e-mail"), required=False)
    sms = forms.BooleanField(label=_("By text message"), required=False)
    digest = forms.BooleanField(label=_("Daily digest"), required=False)

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        from civilaffairs.models import NotificationPreference

        for name in self.fields:
            self.fields[name].help_text = NotificationPreference._meta.get_field(name).help_text
        if not user.email:
            self.fields["email"].help_text = _(
                "Your account has no e-mail address; ask the system administrator to add one."
            )
        if not user.phone:
            self.fields["sms"].help_text = _(
                "Your account has no mobile number; ask the system administrator to add one."
            )


class NotificationPreferenceView(RoleRequiredMixin, FormView):
    allowed_roles = "__all__"
    template_name = "notifications/preferences.html"
    form_class = PreferenceForm

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["user"] = self.request.user
        return kwargs

    def get_initial(self):
        preference = notifications.preference_of(self.request.user)
        return {"email": preference.email, "sms": preference.sms, "digest": preference.digest}

    def form_valid(self, form):
        notifications.preference_update(actor=self.request.user, **form.cleaned_data)
        messages.success(self.request, _("Your notification preferences are saved."))
        return HttpResponseRedirect(reverse("notification-preferences"))
