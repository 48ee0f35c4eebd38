from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from civilaffairs import crypto
from civilaffairs.choices import ROLE_FAMILY, Role
from civilaffairs.fields import BlindIndexField, EncryptedCharField
from civilaffairs.masking import mask_phone
from civilaffairs.querysets import UserQuerySet


class CivilUserManager(UserManager.from_queryset(UserQuerySet)):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        """``manage.py createsuperuser`` bootstraps a system administrator: the account gets the
        sysadmin role (granted by the system, on the audit trail) and nothing else. The
        superuser flag itself grants nothing (see User.has_perm)."""
        user = super().create_superuser(username, email, password, **extra_fields)
        from civilaffairs.services import role_grant

        role_grant(actor=None, user=user, role=Role.SYSADMIN)
        return user


class User(AbstractUser):
    """A person who signs in: bureau staff, an inspector, a liaison, a leader, IT or audit."""

    real_name = models.CharField(_("real name"), max_length=50)
    # Personal data: encrypted at rest, found by its blind index (civilaffairs.crypto).
    phone = EncryptedCharField(_("mobile phone"), max_length=20, blank=True)
    phone_bidx = BlindIndexField(source="phone", kind=crypto.PHONE)
    org_unit = models.ForeignKey(
        "civilaffairs.OrgUnit",
        verbose_name=_("org unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="members",
    )
    title = models.CharField(_("job title"), max_length=50, blank=True)
    # Stamped whenever a password is set (civilaffairs.passwords); the password expires
    # PASSWORD_MAX_AGE_DAYS later.
    password_changed_at = models.DateTimeField(
        _("password changed at"), null=True, blank=True, editable=False
    )

    objects = CivilUserManager()

    REQUIRED_FIELDS = ["real_name"]

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self):
        return self.real_name or self.username

    def get_full_name(self):
        return self.real_name or self.username

    @property
    def phone_masked(self) -> str:
        return mask_phone(self.phone)

    # Role helpers read the assignments once per request-bound user object.
    @cached_property
    def role_assignments(self) -> list["RoleAssignment"]:
        if not self.pk:
            return []
        return list(self.roles.select_related("scope").all())

    @cached_property
    def role_set(self) -> frozenset[str]:
        if not self.is_active:
            return frozenset()
        return frozenset(a.role for a in self.role_assignments)

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set.intersection(roles))

    def scopes_for(self, *roles: str) -> list["OrgUnit"]:  # noqa: F821
        return [a.scope for a in self.role_assignments if a.role in roles and a.scope]

    @property
    def role_family(self) -> str | None:
        families = {ROLE_FAMILY[Role(r)] for r in self.role_set}
        return families.pop() if len(families) == 1 else None

    @property
    def is_sysadmin(self) -> bool:
        return self.has_role(Role.SYSADMIN)

    @property
    def is_auditor(self) -> bool:
        return self.has_role(Role.AUDITOR)

    @property
    def is_office(self) -> bool:
        """The 专项办: its supervisors and head (inspectors act only on their visits)."""
        return self.has_role(Role.SUPERVISOR, Role.OFFICE_HEAD)

    def refresh_roles(self):
        for attr in ("role_assignments", "role_set"):
            self.__dict__.pop(attr, None)

    # Roles decide everything (三权分立). Django's model permissions are not used, so the
    # superuser flag, groups and per-user permissions open nothing: not the Django admin's
    # other models (groups, API tokens, schedules), not the audit trail.
    def has_perm(self, perm, obj=None):
        return False

    def has_perms(self, perm_list, obj=None):
        return False

    def has_module_perms(self, app_label):
        return False


class RoleAssignment(models.Model):
    """One role a user holds, over an org subtree (the whole city when the scope is the root)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    scope = models.ForeignKey(
        "civilaffairs.OrgUnit",
        verbose_name=_("scope"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("The org subtree the role applies to; empty for system roles."),
    )
    granted_at = models.DateTimeField(auto_now_add=True)
    granted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "scope"], name="unique_role_scope"),
            models.CheckConstraint(
                condition=models.Q(role__in=["sysadmin", "auditor"], scope__isnull=True)
                | (~models.Q(role__in=["sysadmin", "auditor"]) & models.Q(scope__isnull=False)),
                name="system_roles_unscoped_business_roles_scoped",
            ),
        ]

    def __str__(self):
        label = Role(self.role).label
        return f"{label} · {self.scope}" if self.scope_id else str(label)
