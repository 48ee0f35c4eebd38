"""Reads of sensitive periods, daily bottom-line reports, digests and weekly reports: who may
see them, and the cut-off rule (late, missing) as plain functions and queries.

Kept apart from the flash reports' querysets so the two features can grow independently."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone

from civilaffairs.choices import Role
from civilaffairs.querysets import VisibleQuerySet

# The cut-off is the bureau's clock: 16:00 in Guangzhou, whatever the server's TIME_ZONE.
CUTOFF_ZONE = ZoneInfo("Asia/Shanghai")

# The office (and its inspectors) read every period, report and digest; only the office
# proper (supervisors and the head) manages periods and weekly reports.
READ_ALL_ROLES = (Role.SUPERVISOR, Role.OFFICE_HEAD, Role.INSPECTOR)
MANAGE_ROLES = (Role.SUPERVISOR, Role.OFFICE_HEAD)


def local_today() -> dt.date:
    return timezone.now().astimezone(CUTOFF_ZONE).date()


def cutoff_at(period, day: dt.date) -> dt.datetime:
    """The moment the day's reports are due (Asia/Shanghai)."""
    return dt.datetime.combine(day, period.cutoff, tzinfo=CUTOFF_ZONE)


def is_late(period, day: dt.date, submitted_at: dt.datetime) -> bool:
    """Late when filed after the cut-off; at the cut-off itself (16:00:00) is still on time."""
    return submitted_at > cutoff_at(period, day)


def is_city_leader(user) -> bool:
    return any(scope.parent_id is None for scope in user.scopes_for(Role.LEADER))


def _active(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active)


def reads_all(user) -> bool:
    return user.has_role(*READ_ALL_ROLES) or is_city_leader(user)


def _units_q(user, prefix: str, roles) -> Q | None:
    condition = None
    for scope in user.scopes_for(*roles):
        q = Q(**{f"{prefix}path__startswith": scope.path})
        condition = q if condition is None else condition | q
    return condition


def liaison_units_q(user, prefix: str = "") -> Q | None:
    """The units a liaison reports for: those inside the liaison's scopes."""
    return _units_q(user, prefix, (Role.UNIT_LIAISON,))


class SensitivePeriodQuerySet(VisibleQuerySet):
    def active(self):
        return self.filter(active=True)

    def on(self, day: dt.date):
        """Periods whose reporting days include ``day``."""
        return self.active().filter(start_date__lte=day, end_date__gte=day)

    def visible_to(self, user):
        """The office and city leaders see every period; a district leader or a liaison those
        in which a unit of theirs reports. Departments do not take part in daily reporting."""
        if not _active(user):
            return self.none()
        if reads_all(user):
            return self.all()
        condition = _units_q(user, "units__", (Role.LEADER, Role.UNIT_LIAISON))
        if condition is None:
            return self.none()
        from reports.models import SensitivePeriod

        return self.filter(pk__in=SensitivePeriod.objects.filter(condition).values("pk"))


class DailyReportQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        """The office and city leaders see all reports; a district leader and a liaison the
        reports of units in their scope."""
        if not _active(user):
            return self.none()
        if reads_all(user):
            return self.all()
        condition = _units_q(user, "unit__", (Role.LEADER, Role.UNIT_LIAISON))
        return self.filter(condition) if condition is not None else self.none()

    def late(self):
        return self.filter(late=True)


class DailyDigestQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        """The digest is a city-wide document for the office and the city's leaders, to whom
        it is delivered. District leaders and liaisons follow their own units' reports
        instead: the digest names every other district's gaps too."""
        if not _active(user):
            return self.none()
        return self.all() if reads_all(user) else self.none()


class WeeklyReportQuerySet(VisibleQuerySet):
    def visible_to(self, user):
        """The office's own working document: the office and the city's leaders read it."""
        if not _active(user):
            return self.none()
        return self.all() if reads_all(user) else self.none()
