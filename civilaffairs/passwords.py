"""The password policy (等保 level 3): a minimum length, a mix of character classes, no reuse of
the last few passwords, and a maximum age after which the password must be changed.

The three validators are Django ``AUTH_PASSWORD_VALIDATORS``, so every place a password is set
obeys them: the change page, the administration's set-password and add-user forms and the
``user_create`` service. Django calls ``password_changed`` of each validator after a new
password is saved; ``PasswordHistoryValidator`` uses it to keep the new hash and to stamp
``User.password_changed_at`` (so it must stay in the list). Defaults come from settings
(PASSWORD_MIN_LENGTH, PASSWORD_MIN_CLASSES, PASSWORD_HISTORY, PASSWORD_MAX_AGE_DAYS)."""

import datetime as dt

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def character_classes(password: str) -> int:
    """How many of upper-case letters, lower-case letters, digits and symbols the password
    uses (any character that is not an ASCII letter or digit counts as a symbol)."""
    upper = lower = digit = symbol = False
    for char in password:
        if "A" <= char <= "Z":
            upper = True
        elif "a" <= char <= "z":
            lower = True
        elif "0" <= char <= "9":
            digit = True
        else:
            symbol = True
    return upper + lower + digit + symbol


class MinimumLengthValidator:
    """At least ``min_length`` characters (PASSWORD_MIN_LENGTH, 8)."""

    def __init__(self, min_length: int | None = None):
        self.min_length = min_length

    @property
    def minimum(self) -> int:
        return self.min_length if self.min_length is not None else settings.PASSWORD_MIN_LENGTH

    def validate(self, password, user=None):
        if len(password) < self.minimum:
            raise ValidationError(self.message(), code="password_too_short")

    def message(self) -> str:
        return ngettext(
            "The password must have at least %(min)d character.",
            "The password must have at least %(min)d characters.",
            self.minimum,
        ) % {"min": self.minimum}

    def get_help_text(self):
        return self.message()


class CharacterClassesValidator:
    """At least ``min_classes`` of the four kinds of character (PASSWORD_MIN_CLASSES, 3)."""

    def __init__(self, min_classes: int | None = None):
        self.min_classes = min_classes

    @property
    def minimum(self) -> int:
        if self.min_classes is not None:
            return self.min_classes
        return settings.PASSWORD_MIN_CLASSES

    def validate(self, password, user=None):
        if character_classes(password) < self.minimum:
            raise ValidationError(self.message(), code="password_too_simple")

    def message(self) -> str:
        return _(
            "The password must mix at least %(min)d of these four kinds of character: "
            "upper-case letters, lower-case letters, digits and symbols."
        ) % {"min": self.minimum}

    def get_help_text(self):
        return self.message()


def _recent_hashes(user, count: int) -> list[str]:
    from civilaffairs.models import PasswordHistory

    hashes = list(
        PasswordHistory.objects.filter(user_id=user.pk)
        .order_by("-set_at", "-pk")
        .values_list("password", flat=True)[:count]
    )
    # The password in use is the most recent one, also when it predates the history.
    current = user.password
    if current and current not in hashes:
        hashes = [current, *hashes][:count]
    return hashes


class PasswordHistoryValidator:
    """Not one of the last ``history`` passwords (PASSWORD_HISTORY, 5; the one in use counts).

    Also records each new password's hash and the time it was set (``password_changed``)."""

    def __init__(self, history: int | None = None):
        self.history = history

    @property
    def count(self) -> int:
        return self.history if self.history is not None else settings.PASSWORD_HISTORY

    def validate(self, password, user=None):
        if user is None or user.pk is None or self.count <= 0:
            return
        for encoded in _recent_hashes(user, self.count):
            if check_password(password, encoded):
                raise ValidationError(self.message(), code="password_reused")

    def message(self) -> str:
        return ngettext(
            "The password must differ from your last password.",
            "The password must differ from your last %(count)d passwords.",
            self.count,
        ) % {"count": self.count}

    def get_help_text(self):
        return self.message() if self.count > 0 else ""

    def password_changed(self, password, user=None):
        if user is None or user.pk is None:
            return
        from civilaffairs.models import PasswordHistory, User

        now = timezone.now()
        User.objects.filter(pk=user.pk).update(password_changed_at=now)
        user.password_changed_at = now
        PasswordHistory.objects.create(user_id=user.pk, password=user.password)
        keep = max(self.count, 1)
        stale = PasswordHistory.objects.filter(user_id=user.pk).order_by("-set_at", "-pk")[keep:]
        PasswordHistory.objects.filter(pk__in=list(stale.values_list("pk", flat=True))).delete()


def password_expires_at(user) -> dt.datetime | None:
    """When the user's password expires; None when it never does (no maximum age, no usable
    password, or no recorded change)."""
    days = settings.PASSWORD_MAX_AGE_DAYS
    changed = getattr(user, "password_changed_at", None)
    if days <= 0 or changed is None or not user.has_usable_password():
        return None
    return changed + dt.timedelta(days=days)


def password_expired(user, now: dt.datetime | None = None) -> bool:
    expires = password_expires_at(user)
    return expires is not None and (now or timezone.now()) >= expires
