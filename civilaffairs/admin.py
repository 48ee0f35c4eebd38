"""Django admin, for system administrators only (users and the org tree; no business data).

Saves go through the same services as everywhere else, so the audit trail and the rules
(三权分立, tree paths) hold in the admin too."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from civilaffairs import services
from civilaffairs.exceptions import ServiceError
from civilaffairs.models import (
    CalendarDay,
    CalendarYear,
    Delivery,
    OrgUnit,
    RoleAssignment,
    User,
    WebhookEndpoint,
)


def _is_sysadmin(request) -> bool:
    user = request.user
    return bool(user.is_active and user.is_authenticated and user.is_sysadmin)


admin.site.has_permission = _is_sysadmin


class SysadminOnly:
    def has_module_permission(self, request):
        return _is_sysadmin(request)

    def has_view_permission(self, request, obj=None):
        return _is_sysadmin(request)

    def has_add_permission(self, request, *args):
        return _is_sysadmin(request)

    def has_change_permission(self, request, obj=None):
        return _is_sysadmin(request)

    def has_delete_permission(self, request, obj=None):
        return False  # units are deactivated and users disabled, never deleted


@admin.register(OrgUnit)
class OrgUnitAdmin(SysadminOnly, admin.ModelAdmin):
    list_display = ["name", "code", "kind", "institution_type", "district", "active"]
    list_filter = ["kind", "institution_type", "active", "district"]
    search_fields = ["name", "code", "address"]
    raw_id_fields = ["parent", "supervising_department", "head"]
    readonly_fields = ["path", "depth", "district"]
    fields = [
        "name",
        "short_name",
        "code",
        "kind",
        "institution_type",
        "parent",
        "supervising_department",
        "address",
        "latitude",
        "longitude",
        "contact_name",
        "contact_phone",
        "contact_id_number",
        "head",
        "capacity",
        "active",
        "district",
        "path",
        "depth",
    ]

    def save_model(self, request, obj, form, change):
        data = {f: form.cleaned_data.get(f) for f in services.ORG_FIELDS if f in form.cleaned_data}
        data = {
            k: (
                ""
                if v is None
                and k
                in {
                    "institution_type",
                    "short_name",
                    "address",
                    "contact_name",
                    "contact_phone",
                    "contact_id_number",
                }
                else v
            )
            for k, v in data.items()
        }
        try:
            if change:
                saved = services.orgunit_update(
                    actor=request.user, unit=obj, parent=form.cleaned_data.get("parent"), **data
                )
            else:
                saved = services.orgunit_create(
                    actor=request.user, parent=form.cleaned_data.get("parent"), **data
                )
        except ServiceError as exc:
            self.message_user(request, str(exc.message), messages.ERROR)
            raise
        obj.pk = saved.pk
        obj.path, obj.depth, obj.district_id = saved.path, saved.depth, saved.district_id


class RoleAssignmentInline(admin.TabularInline):
    model = RoleAssignment
    fk_name = "user"
    extra = 0
    fields = ["role", "scope", "granted_at", "granted_by"]
    readonly_fields = ["granted_at", "granted_by"]
    raw_id_fields = ["scope"]

    def has_view_permission(self, request, obj=None):
        return _is_sysadmin(request)

    def has_add_permission(self, request, obj=None):
        return _is_sysadmin(request)

    def has_delete_permission(self, request, obj=None):
        return _is_sysadmin(request)

    def has_change_permission(self, request, obj=None):
        return False  # a role is granted or revoked, not edited


class UserAdminForm(UserChangeForm):
    def clean_is_active(self):
        active = self.cleaned_data.get("is_active")
        # Inside the admin's transaction: the administrators' rows stay locked until the save.
        if (
            self.instance.is_active
            and active is False
            and services.is_last_active_sysadmin(self.instance)
        ):
            raise ValidationError(
                _("%(name)s is the last active system administrator and must stay one.")
                % {"name": self.instance}
            )
        return active


@admin.register(User)
class UserAdmin(SysadminOnly, DjangoUserAdmin):
    # Only the fields below are in the form: is_superuser, is_staff, groups and permissions
    # cannot be set here (nor would they open anything: roles decide, see User.has_perm).
    form = UserAdminForm
    list_display = ["username", "real_name", "org_unit", "title", "is_active", "last_login"]
    list_filter = ["is_active", "roles__role"]
    search_fields = ["username", "real_name"]
    raw_id_fields = ["org_unit"]
    inlines = [RoleAssignmentInline]
    fieldsets = [
        (None, {"fields": ["username", "password"]}),
        (_("Personal info"), {"fields": ["real_name", "phone", "email", "title", "org_unit"]}),
        (_("Status"), {"fields": ["is_active", "last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"fields": ["username", "real_name", "org_unit", "password1", "password2"]}),
    ]
    readonly_fields = ["last_login", "date_joined"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        services.audit_record(
            actor=request.user,
            action="user.update" if change else "user.create",
            obj=obj,
            summary=_("Changed user in administration")
            if change
            else _("Created user in administration"),
            changes={"fields": sorted(form.changed_data)},
        )
        if change and "is_active" in form.changed_data and not obj.is_active:
            services.user_access_end_recorded(actor=request.user, user=obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is not RoleAssignment:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        for assignment in formset.new_objects:
            try:
                services.role_grant(
                    actor=request.user,
                    user=form.instance,
                    role=assignment.role,
                    scope=assignment.scope,
                )
            except ServiceError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)
        for deleted in formset.deleted_objects:
            try:
                services.role_revoke(actor=request.user, assignment=deleted)
            except ServiceError as exc:
                self.message_user(request, str(exc.message), messages.ERROR)

    def user_change_password(self, request, id, form_url=""):
        # Django's set-password form: the password policy's validators run on it; the trail
        # records that the administrator set a password (never the password).
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:
            from civilaffairs.security import password_change_recorded

            person = User.objects.get(pk=id)
            password_change_recorded(actor=request.user, user=person)
        return response


@admin.register(CalendarDay)
class CalendarDayAdmin(SysadminOnly, admin.ModelAdmin):
    """Holidays on weekdays and make-up working days on weekends; other days follow Mon–Fri."""

    list_display = ["date", "is_workday", "name"]
    list_filter = ["is_workday"]
    date_hierarchy = "date"
    search_fields = ["name"]

    def has_delete_permission(self, request, obj=None):
        return _is_sysadmin(request)


@admin.register(CalendarYear)
class CalendarYearAdmin(SysadminOnly, admin.ModelAdmin):
    """Years whose calendar is known; add one after entering its days to end provisional
    deadlines in it."""

    list_display = ["year", "source", "loaded_at"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(SysadminOnly, admin.ModelAdmin):
    """Group robots per unit. Saves are audited (the secret is never written to the trail)."""

    list_display = ["name", "unit", "kind", "include_subunits", "active"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "unit__name"]
    raw_id_fields = ["unit"]
    fields = ["unit", "name", "kind", "url", "secret", "include_subunits", "kinds", "active"]

    def has_delete_permission(self, request, obj=None):
        return _is_sysadmin(request)

    def save_model(self, request, obj, form, change):
        with transaction.atomic():
            super().save_model(request, obj, form, change)
            services.audit_record(
                actor=request.user,
                action="webhook.update" if change else "webhook.create",
                obj=obj,
                summary=str(obj),
                changes={f: form.cleaned_data.get(f) for f in form.changed_data if f != "secret"},
            )

    def delete_model(self, request, obj):
        with transaction.atomic():
            services.audit_record(
                actor=request.user,
                action="webhook.delete",
                obj=obj,
                summary=str(obj),
                changes={"unit": obj.unit_id, "url": obj.url},
            )
            super().delete_model(request, obj)


@admin.register(Delivery)
class DeliveryAdmin(SysadminOnly, admin.ModelAdmin):
    """What left the system, and whether it arrived: read-only."""

    list_display = ["at", "channel", "target", "status", "detail"]
    list_filter = ["channel", "status"]
    search_fields = ["target", "detail"]
    date_hierarchy = "at"

    def has_add_permission(self, request, *args):
        return False

    def has_change_permission(self, request, obj=None):
        return False
