"""Who hears of an order's steps, and the daily deadline scan with its escalation ladder.

Each step of an order tells the other side (the unit, or whoever verifies). The scan warns
before the deadline (yellow) and, once it has passed, alerts up a ladder of people that grows
with the working days overdue: liaison → unit head → office → leader (settings give the days).
Every (order, level, day) alert is claimed by a unique row before anyone is told, so a scan
that runs twice, or twice at once, tells each person once."""

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civilaffairs import notifications as notes
from civilaffairs.choices import NotificationKind, Role
from civilaffairs.workdays import WorkCalendar
from rectification.choices import LADDER, AlertLevel
from rectification.models import Alert, Rectification

log = logging.getLogger(__name__)


# --- Recipients -----------------------------------------------------------------------------


def unit_side(order: Rectification) -> list:
    """The responsible unit's own liaisons (the nearest ones) and its responsible person; for
    an order to a bureau department (a complaint or commitment), the department's staff."""
    people = [
        *notes.holders_over(order.responsible_unit, Role.UNIT_LIAISON, nearest=True),
        order.responsible_person,
    ]
    if order.responsible_unit.kind == "department":
        people += notes.holders_over(order.responsible_unit, Role.DEPARTMENT, nearest=True)
    return people


def verifiers(order: Rectification) -> list:
    """Whoever verifies: the supervising department's staff, the issuer, else the office."""
    people = [order.created_by]
    if order.supervising_department_id:
        people += notes.holders_over(order.supervising_department, Role.DEPARTMENT, nearest=True)
    people = [p for p in people if p is not None]
    return people or notes.office_heads()


def ladder_recipients(order: Rectification, level: str) -> list:
    """Everyone up to ``level`` on the ladder: each rung adds people, nobody is dropped."""
    people = list(unit_side(order))
    rungs = LADDER[: LADDER.index(level) + 1] if level in LADDER else []
    if AlertLevel.UNIT_HEAD in rungs:
        people.append(notes.unit_head(order.responsible_unit))
    if AlertLevel.OFFICE in rungs:
        people += [order.created_by, *notes.office_heads()]
    if AlertLevel.LEADER in rungs:
        people += notes.holders_over(order.responsible_unit, Role.LEADER)
    return [p for p in people if p is not None]


# --- Step notifications (from the timeline queue) -------------------------------------------

UNIT_VERBS = {
    "issued",
    "reassign",
    "reopen",
    "verify",
    "return",
    "cancel",
    "approve_extension",
    "reject_extension",
    "deadline_recomputed",
}


def order_url(order) -> str:
    try:
        return reverse("rectification:order-detail", args=[order.pk])
    except NoReverseMatch:  # the pages are not mounted (an API-only deployment)
        return ""


def notify_step(entry, order: Rectification):
    """Called by the timeline dispatcher for each step of an order."""
    from rectification.services import STEPS

    if entry.verb in UNIT_VERBS:
        people = unit_side(order)
        if entry.verb in ("verify", "return"):
            people.append(order.submitted_by)
        if entry.verb == "reassign" and entry.data.get("unit"):
            people += notes.holders_over(order.responsible_unit, Role.UNIT_LIAISON, nearest=True)
    elif entry.verb == "submit":
        people = verifiers(order)
    elif entry.verb == "request_extension":
        people = notes.office_heads()
    elif entry.verb == "acknowledge":
        people = [order.created_by]
    else:
        return
    step = STEPS.get(entry.verb)
    action = {
        "issued": _("issued to your unit"),
        "deadline_recomputed": _("deadline recalculated"),
    }.get(entry.verb) or (str(step.label) if step else entry.verb)
    body = _("%(unit)s · deadline %(deadline)s") % {
        "unit": order.responsible_unit,
        "deadline": order.deadline.isoformat(),
    }
    if entry.note:
        body += "\n" + entry.note
    notes.notify(
        recipients=people,
        kind=NotificationKind.UPDATE,
        title=_("Order %(code)s: %(action)s") % {"code": order.code, "action": action},
        body=body,
        url=order_url(order),
        subject=order,
        unit=order.responsible_unit,
        event_key=f"timeline:{entry.pk}",
        exclude=entry.actor,
    )


# --- The deadline scan ----------------------------------------------------------------------


def escalation_days() -> list[tuple[str, int]]:
    """The ladder from settings ("liaison:1,unit_head:3,…"), rungs in ladder order."""
    days = {}
    for part in str(settings.RECTIFICATION_ESCALATION).split(","):
        name, _sep, value = part.strip().partition(":")
        if name in LADDER and value.strip().isdigit():
            days[name] = int(value)
    return [(rung, days[rung]) for rung in LADDER if rung in days]


def level_for(working_days_left: int) -> str | None:
    """The alert level for an order with this many working days left (negative: overdue)."""
    if working_days_left >= 0:
        return (
            AlertLevel.DUE_SOON
            if working_days_left <= settings.RECTIFICATION_DUE_SOON_DAYS
            else None
        )
    overdue, level = -working_days_left, None
    for rung, days in escalation_days():
        if overdue >= days:
            level = rung
    return level


class _Counter:
    """Working days between today and each deadline, from one calendar snapshot."""

    def __init__(self, today: dt.date, deadlines):
        deadlines = list(deadlines)
        start = min([today, *deadlines])
        end = max([today, *deadlines])
        self.calendar = WorkCalendar(start, end)
        self.today = today
        self.cache: dict[dt.date, int] = {}

    def left(self, deadline: dt.date) -> int:
        """Working days after today up to the deadline; negative, the working days overdue
        (the deadline day itself still counts as in time)."""
        if deadline not in self.cache:
            low, high = sorted((self.today, deadline))
            count = sum(
                1
                for n in range(1, (high - low).days + 1)
                if self.calendar.is_workday(low + dt.timedelta(days=n))
            )
            self.cache[deadline] = count if deadline >= self.today else -count
        return self.cache[deadline]


def today() -> dt.date:
    return timezone.localdate()


def deadline_scan(day: dt.date | None = None) -> dict[str, int]:
    """Warn and escalate for every open order; returns the alerts sent by level. Nothing is
    sent on days off (weekends and holidays): alerts wait for the next working day."""
    today_ = day or today()
    sent: dict[str, int] = {}
    orders = Rectification.objects.open().select_related(
        "responsible_unit", "responsible_person", "created_by", "supervising_department"
    )
    deadlines = set(orders.values_list("deadline", flat=True).distinct())
    counter = _Counter(today_, deadlines)
    if not counter.calendar.is_workday(today_):
        return sent
    for order in orders.iterator(chunk_size=500):
        left = counter.left(order.deadline)
        level = level_for(left)
        if level is None:
            continue
        if _alert(order, level, today_, left):
            sent[str(level)] = sent.get(str(level), 0) + 1
    return sent


def _alert(order: Rectification, level: str, today: dt.date, left: int) -> bool:
    with transaction.atomic():
        alert, created = Alert.objects.get_or_create(
            rectification=order, level=level, day=today, defaults={"working_days": -left}
        )
        if not created:
            return False
        if level == AlertLevel.DUE_SOON:
            kind = NotificationKind.DUE_SOON
            title = _("Order %(code)s is due in %(days)d working days") % {
                "code": order.code,
                "days": left,
            }
            if left == 0:
                title = _("Order %(code)s is due today") % {"code": order.code}
        else:
            kind = (
                NotificationKind.OVERDUE
                if level == AlertLevel.LIAISON
                else NotificationKind.ESCALATION
            )
            title = _("Order %(code)s is %(days)d working days overdue") % {
                "code": order.code,
                "days": -left,
            }
        rows = notes.notify(
            recipients=ladder_recipients(order, level),
            kind=kind,
            title=title,
            body=_("%(unit)s · %(problem)s · deadline %(deadline)s · %(level)s")
            % {
                "unit": order.responsible_unit,
                "problem": order.title,
                "deadline": order.deadline.isoformat(),
                "level": AlertLevel(level).label,
            },
            url=order_url(order),
            subject=order,
            unit=order.responsible_unit,
            event_key=f"alert:{alert.pk}",
        )
        alert.recipients = len(rows)
        alert.save(update_fields=["recipients"])
    return True
