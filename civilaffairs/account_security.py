"""Accounts nobody uses are disabled, and a disabled account keeps no way in.

Every night a job disables the active accounts that nobody has signed in to for
``ACCOUNT_IDLE_DAYS`` days (counted from the last sign-in, or from the account's creation when
it was never used): each one on the audit trail (``user.idle_disable``, by the system), its
sessions and API tokens ended, and the system administrators told under the bell.

System administrators are held to the rule like everyone else — a forgotten administrator
account is the most valuable one to an intruder — except the last active one, which is kept:
without it nobody could enable an account or grant a role again. There are no machine accounts
to exempt: scheduled work runs as "the system", not as a user.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civilaffairs import session_security  # noqa: F401  (the sign-in receiver)
from civilaffairs.models.audit import CHANGE_LABELS, register_action

log = logging.getLogger(__name__)

register_action("session.expire", gettext_lazy("Session timed out"))
register_action("user.sessions_end", gettext_lazy("Sessions and API tokens ended"))
register_action("user.idle_disable", gettext_lazy("Account disabled for inactivity"))
CHANGE_LABELS.update(
    {
        "reason": gettext_lazy("reason"),
        "sessions": gettext_lazy("sessions"),
        "tokens": gettext_lazy("API tokens"),
        "idle_days": gettext_lazy("days without sign-in"),
        "signed_in_minutes": gettext_lazy("minutes signed in"),
        "idle_minutes": gettext_lazy("minutes without activity"),
    }
)


def idle_cutoff(now=None):
    return (now or timezone.now()) - timedelta(days=settings.ACCOUNT_IDLE_DAYS)


def idle_accounts(now=None):
    """Active accounts not signed in to since the cut-off (never-used ones: created before)."""
    from civilaffairs.models import User

    return (
        User.objects.filter(is_active=True)
        .annotate(last_seen=Coalesce("last_login", "date_joined"))
        .filter(last_seen__lt=idle_cutoff(now))
    )


def idle_accounts_disable(now=None) -> list:
    """Disable every idle account (see the module's docstring); returns those disabled. Safe to
    run twice or concurrently: each account is claimed under its row lock."""
    if not settings.ACCOUNT_IDLE_DAYS:
        return []
    now = now or timezone.now()
    disabled = []
    for pk in idle_accounts(now).order_by("pk").values_list("pk", flat=True):
        user = _disable_one(pk, now)
        if user is not None:
            disabled.append(user)
    return disabled


@transaction.atomic
def _disable_one(pk: int, now):
    from civilaffairs import notifications
    from civilaffairs.choices import NotificationKind, Role
    from civilaffairs.models import User
    from civilaffairs.services import audit_record, is_last_active_sysadmin
    from civilaffairs.session_security import user_access_end

    # Administrators' rows first, as user_update locks them (one order, no deadlock).
    last_sysadmin = is_last_active_sysadmin(User(pk=pk))
    user = User.objects.select_for_update().filter(pk=pk, is_active=True).first()
    if user is None:
        return None  # disabled meanwhile (by hand or by a concurrent run)
    last_seen = user.last_login or user.date_joined
    if last_seen >= idle_cutoff(now):
        return None  # signed in meanwhile
    if last_sysadmin:
        log.warning("idle account %s kept: the last active system administrator", user.username)
        return None
    days = (now - last_seen).days
    user.is_active = False
    user.save(update_fields=["is_active"])
    ended = user_access_end(user)
    audit_record(
        actor=None,
        action="user.idle_disable",
        obj=user,
        summary=_("Disabled after %(days)d days without sign-in") % {"days": days},
        changes={
            "is_active": [True, False],
            "last_login": user.last_login,
            "idle_days": days,
            **ended,
        },
    )
    notifications.notify(
        recipients=notifications.holders_of(Role.SYSADMIN),
        kind=NotificationKind.UPDATE,
        title=_("Account %(name)s (%(username)s) disabled for inactivity")
        % {"name": user.real_name or user.username, "username": user.username},
        body=_(
            "Nobody has signed in to this account for %(days)d days; it was disabled. "
            "Enable it again in user management if it is still needed."
        )
        % {"days": days},
        url=reverse("user-detail", args=[user.pk]),
        event_key=f"idle-disable:{user.pk}:{now:%Y%m%d}",
    )
    return user


__all__ = ["idle_accounts", "idle_accounts_disable", "idle_cutoff"]
