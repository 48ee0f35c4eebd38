"""Who hears of an order's steps, and the daily deadline scan with its escalation ladder.

Each step of an order tells the other side (the unit, or whoever verifies). The scan warns
before the deadline (yellow) and, once it has passed, alerts up a ladder of people that grows
with the working days overdue: liaison → unit head → office → leader (settings give the days).
Every (order, level, day) alert is claimed by a unique row before anyone is told, so a scan
that runs twice, or twice at once, tells each person once."""

import datetime as dt
import logging

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from civilaffairs import notifications as notes
from civilaffairs.bulk import insert_returning
from civilaffairs.choices import NotificationKind, Role
from civilaffairs.models import Notification, OrgUnit, RoleAssignment, WebhookEndpoint
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
    return order_url_for(order.pk)


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


SCAN_BATCH = 2000  # orders claimed, and told, per transaction


def deadline_scan(day: dt.date | None = None) -> dict[str, int]:
    """Warn and escalate for every open order; returns the alerts sent by level. Nothing is
    sent on days off (weekends and holidays): alerts wait for the next working day.

    Set-based, for a city's million orders: the level depends only on the deadline, so the
    deadlines are classed once; per level, one query finds the open orders with that deadline
    class and no alert yet today; per batch, one INSERT … ON CONFLICT DO NOTHING claims their
    alerts (a scan running at the same time claims none of the same), one INSERT writes the
    notifications of the alerts claimed, and the recipients come from a directory read once
    (what ``ladder_recipients`` answers order by order)."""
    today_ = day or today()
    sent: dict[str, int] = {}
    deadlines = set(Rectification.objects.open().values_list("deadline", flat=True).distinct())
    counter = _Counter(today_, deadlines)
    if not counter.calendar.is_workday(today_):
        return sent
    by_level: dict[str, list[dt.date]] = {}
    for deadline in deadlines:
        level = level_for(counter.left(deadline))
        if level is not None:
            by_level.setdefault(str(level), []).append(deadline)
    if not by_level:
        return sent
    directory = _Directory()
    for level in LADDER_ORDER:
        if level not in by_level:
            continue
        pending = list(
            Rectification.objects.open()
            .filter(deadline__in=by_level[level])
            .exclude(
                Exists(Alert.objects.filter(rectification=OuterRef("pk"), level=level, day=today_))
            )
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for start in range(0, len(pending), SCAN_BATCH):
            claimed = _alert_batch(
                pending[start : start + SCAN_BATCH], level, today_, counter, directory
            )
            if claimed:
                sent[level] = sent.get(level, 0) + claimed
    return sent


# The order the levels are scanned in (the result does not depend on it).
LADDER_ORDER = [str(AlertLevel.DUE_SOON), *(str(rung) for rung in LADDER)]

NOTICE_COLUMNS = (
    "recipient_id",
    "kind",
    "title",
    "body",
    "url",
    "content_type_id",
    "object_id",
    "event_key",
    "created_at",
)
_ORDER_COLUMNS = (
    "pk",
    "code",
    "title",
    "deadline",
    "responsible_unit_id",
    "responsible_person_id",
    "responsible_person__is_active",
    "created_by_id",
    "created_by__is_active",
)


class _Directory:
    """Who the ladder reaches, for every unit at once: role holders, unit heads, office heads
    and group robots read in a handful of queries, then answered from memory exactly as
    ``ladder_recipients`` and ``WebhookEndpoint.objects.for_unit`` answer one order at a
    time (tests compare the two)."""

    ROLES = (Role.UNIT_LIAISON, Role.DEPARTMENT, Role.LEADER)

    def __init__(self):
        self.holders: dict[str, list[tuple[str, int, int]]] = {}
        rows = (
            RoleAssignment.objects.filter(role__in=self.ROLES, user__is_active=True)
            .order_by("pk")
            .values_list("scope__path", "role", "scope__depth", "user_id")
        )
        for path, role, depth, user_id in rows:
            self.holders.setdefault(path, []).append((role, depth, user_id))
        self.heads = dict(
            OrgUnit.objects.filter(head__isnull=False, head__is_active=True).values_list(
                "path", "head_id"
            )
        )
        self.office = [user.pk for user in notes.office_heads()]
        self.robots = list(WebhookEndpoint.objects.filter(active=True).select_related("unit"))
        self.units: dict[int, tuple[str, str, str]] = {}
        self._robots_of: dict[tuple[int, str], list[int]] = {}

    def load_units(self, ids):
        missing = set(ids) - self.units.keys()
        if missing:
            for pk, path, kind, name in OrgUnit.objects.filter(pk__in=missing).values_list(
                "pk", "path", "kind", "name"
            ):
                self.units[pk] = (path, kind, name)

    def over(self, path: str, roles, nearest: bool = False) -> list[int]:
        found = [
            (depth, user_id)
            for ancestor in notes.paths_above(path)
            for role, depth, user_id in self.holders.get(ancestor, ())
            if role in roles
        ]
        if nearest and found:
            deepest = max(depth for depth, _user in found)
            found = [item for item in found if item[0] == deepest]
        return [user_id for _depth, user_id in found]

    def head(self, path: str) -> int | None:
        for ancestor in reversed(notes.paths_above(path)):
            if ancestor in self.heads:
                return self.heads[ancestor]
        return None

    def ladder(self, row: dict, level: str) -> list[int]:
        """The ids ``ladder_recipients`` gives for this order (first appearance kept)."""
        path, kind, _name = self.units[row["responsible_unit_id"]]
        people = self.over(path, (Role.UNIT_LIAISON,), nearest=True)
        if row["responsible_person__is_active"]:
            people.append(row["responsible_person_id"])
        if kind == "department":
            people += self.over(path, (Role.DEPARTMENT,), nearest=True)
        rungs = LADDER[: LADDER.index(level) + 1] if level in LADDER else []
        if AlertLevel.UNIT_HEAD in rungs:
            people.append(self.head(path))
        if AlertLevel.OFFICE in rungs:
            if row["created_by__is_active"]:
                people.append(row["created_by_id"])
            people += self.office
        if AlertLevel.LEADER in rungs:
            people += self.over(path, (Role.LEADER,))
        return list(dict.fromkeys(p for p in people if p is not None))

    def robots_for(self, unit_id: int, kind: str) -> list[int]:
        key = (unit_id, kind)
        if key not in self._robots_of:
            path = self.units[unit_id][0]
            ancestors = set(notes.paths_above(path))
            self._robots_of[key] = [
                robot.pk
                for robot in self.robots
                if robot.wants(kind)
                and (
                    robot.unit_id == unit_id
                    or (robot.include_subunits and robot.unit.path in ancestors)
                )
            ]
        return self._robots_of[key]


def _message(row: dict, level: str, left: int, unit_name: str) -> tuple[str, str, str]:
    """(kind, title, body) of the alert, as the person reads it."""
    if level == AlertLevel.DUE_SOON:
        kind = NotificationKind.DUE_SOON
        title = _("Order %(code)s is due in %(days)d working days") % {
            "code": row["code"],
            "days": left,
        }
        if left == 0:
            title = _("Order %(code)s is due today") % {"code": row["code"]}
    else:
        kind = (
            NotificationKind.OVERDUE if level == AlertLevel.LIAISON else NotificationKind.ESCALATION
        )
        title = _("Order %(code)s is %(days)d working days overdue") % {
            "code": row["code"],
            "days": -left,
        }
    body = _("%(unit)s · %(problem)s · deadline %(deadline)s · %(level)s") % {
        "unit": unit_name,
        "problem": row["title"],
        "deadline": row["deadline"].isoformat(),
        "level": AlertLevel(level).label,
    }
    return str(kind), title, body


def _alert_batch(ids, level: str, day: dt.date, counter: _Counter, directory: _Directory) -> int:
    """Claim and send the alerts of one batch of orders; returns how many this scan claimed."""
    rows = {
        row["pk"]: row for row in Rectification.objects.filter(pk__in=ids).values(*_ORDER_COLUMNS)
    }
    directory.load_units(row["responsible_unit_id"] for row in rows.values())
    people = {pk: directory.ladder(row, level) for pk, row in rows.items()}
    now = timezone.now()
    content_type = ContentType.objects.get_for_model(Rectification).pk
    with transaction.atomic():
        claimed = insert_returning(
            Alert,
            ("rectification_id", "level", "day", "working_days", "recipients", "created_at"),
            [
                (pk, level, day, -counter.left(row["deadline"]), len(people[pk]), now)
                for pk, row in rows.items()
            ],
            returning=("id", "rectification_id"),
            skip_conflicts=True,
        )
        notices, robot_posts = [], []
        for alert_id, pk in claimed:
            row = rows[pk]
            left = counter.left(row["deadline"])
            unit_name = directory.units[row["responsible_unit_id"]][2]
            kind, title, body = _message(row, level, left, unit_name)
            url = order_url_for(pk)
            event_key = f"alert:{alert_id}"
            notices += [
                (person, kind, title[:200], body, url[:300], content_type, pk, event_key, now)
                for person in people[pk]
            ]
            robots = directory.robots_for(row["responsible_unit_id"], kind)
            if robots:
                robot_posts.append((robots, event_key, notes.robot_text(title, body, url)))
        written = insert_returning(
            Notification,
            NOTICE_COLUMNS,
            notices,
        )
        ids_written = [pk for (pk,) in written]
        if ids_written or robot_posts:
            transaction.on_commit(lambda: notes.queue_batch(ids_written, robot_posts))
    return len(claimed)


def order_url_for(pk: int) -> str:
    try:
        return reverse("rectification:order-detail", args=[pk])
    except NoReverseMatch:  # the pages are not mounted (an API-only deployment)
        return ""
