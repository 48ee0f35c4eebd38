"""Reads of flash reports: who may see them, and the same-day rule (不过夜) as queries.

Kept apart from the daily reports' querysets so the two features can grow independently."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from civilaffairs.choices import Role
from civilaffairs.querysets import VisibleQuerySet

# The same-day rule is the bureau's: midnight in Guangzhou, whatever the server's TIME_ZONE.
SAME_DAY_ZONE = ZoneInfo("Asia/Shanghai")

# States in which a report has its serial and is an issued document.
ISSUED_STATES = ("signed", "distributed")
# States a city leader sees: the documents, and those waiting for a leader's sign-off.
CITY_LEADER_STATES = ("approved", *ISSUED_STATES)


def same_day_deadline(found_at: dt.datetime) -> dt.datetime:
    """Midnight (Asia/Shanghai) at the end of the local day the matter was found."""
    local = found_at.astimezone(SAME_DAY_ZONE)
    next_day = local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(next_day, dt.time.min, tzinfo=SAME_DAY_ZONE)


def signed_on_time(found_at: dt.datetime, signed_at: dt.datetime) -> bool:
    """Signed off before midnight of the (Asia/Shanghai) day the matter was found."""
    return signed_at < same_day_deadline(found_at)


def is_flash_office(user) -> bool:
    """The office drafts, reviews and distributes flash reports and sees all of them."""
    return user.has_role(Role.SUPERVISOR, Role.OFFICE_HEAD)


def is_city_leader(user) -> bool:
    return any(scope.parent_id is None for scope in user.scopes_for(Role.LEADER))


class FlashReportQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        """The office sees every report; a leader those distributed to them and, for a leader
        of the whole city, every report waiting for sign-off or issued; nobody else any."""
        if not getattr(user, "is_authenticated", False) or not user.is_active:
            return self.none()
        if is_flash_office(user):
            return self.all()
        if not user.has_role(Role.LEADER):
            return self.none()
        from reports.models import FlashRecipient

        received = Exists(FlashRecipient.objects.filter(report=OuterRef("pk"), user=user))
        condition = Q(received)
        if is_city_leader(user):
            condition |= Q(state__in=CITY_LEADER_STATES)
        return self.filter(condition)

    def issued(self):
        return self.filter(state__in=ISSUED_STATES)

    def breaches(self):
        """Signed off after midnight of the day the matter was found (flagged at sign-off)."""
        return self.filter(on_time=False)

    def overdue_unsigned(self, now: dt.datetime | None = None):
        """Not signed off yet although the day the matter was found is over: breaches in the
        making. The day is Asia/Shanghai's, so the bound is computed per report in SQL."""
        now = now or timezone.now()
        local_today = now.astimezone(SAME_DAY_ZONE).date()
        start_of_today = dt.datetime.combine(local_today, dt.time.min, tzinfo=SAME_DAY_ZONE)
        return self.filter(signed_at__isnull=True, found_at__lt=start_of_today)

    def same_day_counts(self) -> dict[str, int]:
        """On time, breached and overdue-unsigned counts over this queryset, in one query."""
        from django.db.models import Count

        now = timezone.now()
        local_today = now.astimezone(SAME_DAY_ZONE).date()
        start_of_today = dt.datetime.combine(local_today, dt.time.min, tzinfo=SAME_DAY_ZONE)
        counts = self.aggregate(
            n_total=Count("pk"),
            n_on_time=Count("pk", filter=Q(on_time=True)),
            n_breached=Count("pk", filter=Q(on_time=False)),
            n_overdue_unsigned=Count(
                "pk", filter=Q(signed_at__isnull=True, found_at__lt=start_of_today)
            ),
        )
        return {key.removeprefix("n_"): value for key, value in counts.items()}
