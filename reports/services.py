"""Flash reports (五五快报): drafting, the one guarded workflow, the yearly serial, the same-day
rule, distribution with read receipts, and the evening watchdog.

Daily bottom-line reports have their services in ``reports/daily.py``.

Every step checks the actor's role, the current state and the version the actor saw, locks the
report row, writes one timeline entry and one audit event in the same transaction, and refuses
anything else with a clear message, changing nothing. Side effects (notifications of the step,
the PDF) are queued after commit."""

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civilaffairs.choices import NotificationKind, Role
from civilaffairs.exceptions import Conflict, PermissionDenied, ServiceError
from civilaffairs.models import User
from civilaffairs.notifications import enqueue, holders_of, notify, queue_timeline
from civilaffairs.services import audit_record, step_check, step_lock, timeline_add
from reports.choices import FlashState as S
from reports.flash_querysets import (
    SAME_DAY_ZONE,
    is_city_leader,
    is_flash_office,
    same_day_deadline,
    signed_on_time,
)
from reports.models import FlashRecipient, FlashReport, FlashSerial

# What a drafter may write, with the longest text each field takes.
TEXT_FIELDS = {
    "title": 200,
    "situation": 20000,
    "problems": 20000,
    "causes": 20000,
    "suggestions": 20000,
    "issuing_office": 100,
}
TIME_FIELDS = ("found_at", "occurred_at")
LINK_FIELDS = ("findings", "visits", "rectifications")
EDITABLE_STATES = frozenset({S.DRAFT, S.RETURNED})
# A clock on a phone may run a little fast: "found in the future" is refused beyond this.
CLOCK_SLACK = dt.timedelta(minutes=10)


# --- Who may act ----------------------------------------------------------------------------


def is_office(actor, report) -> bool:
    return is_flash_office(actor)


def is_office_head(actor, report) -> bool:
    return actor.has_role(Role.OFFICE_HEAD)


def may_sign_off(actor, report) -> bool:
    """The office head, or a leader of the whole city (a district's leader signs nothing)."""
    return actor.has_role(Role.OFFICE_HEAD) or is_city_leader(actor)


def is_recipient(actor, report) -> bool:
    return FlashRecipient.objects.filter(report=report, user=actor).exists()


def is_leader(user) -> bool:
    return user.is_active and user.has_role(Role.LEADER)


@dataclass(frozen=True)
class Step:
    sources: frozenset
    target: str | None  # None: the state does not change
    allowed: object  # (actor, report) -> bool
    label: str
    needs_note: bool = False


STEPS = {
    "submit": Step(
        frozenset({S.DRAFT, S.RETURNED}), S.SUBMITTED, is_office, gettext_lazy("submit for review")
    ),
    "return": Step(
        frozenset({S.SUBMITTED, S.APPROVED}),
        S.RETURNED,
        is_office_head,
        gettext_lazy("return for revision"),
        needs_note=True,
    ),
    "approve": Step(frozenset({S.SUBMITTED}), S.APPROVED, is_office_head, gettext_lazy("approve")),
    "sign_off": Step(frozenset({S.APPROVED}), S.SIGNED, may_sign_off, gettext_lazy("sign off")),
    "distribute": Step(
        frozenset({S.SIGNED, S.DISTRIBUTED}),
        S.DISTRIBUTED,
        is_office,
        gettext_lazy("distribute to leaders"),
    ),
    "mark_read": Step(frozenset({S.DISTRIBUTED}), None, is_recipient, gettext_lazy("mark read")),
}


def available_steps(report: FlashReport, actor) -> list[str]:
    """The steps ``actor`` may take on ``report`` now, judged as flash_transition will."""
    names = []
    for name, step in STEPS.items():
        if name == "mark_read" or report.state not in step.sources:
            continue
        if step.allowed(actor, report):
            names.append(name)
    return names


def may_edit(report: FlashReport, actor) -> bool:
    return report.state in EDITABLE_STATES and is_flash_office(actor)


# --- Drafting -------------------------------------------------------------------------------


def _linkable(actor, field: str):
    """What the actor may link: only what they may see, so a report never carries (or later
    shows) a finding of a secret plan its drafter could not see."""
    from inspections.models import Finding, Visit
    from rectification.models import Rectification

    model = {"findings": Finding, "visits": Visit, "rectifications": Rectification}[field]
    queryset = model.objects.visible_to(actor)
    if field == "findings":
        queryset = queryset.filed()
    return queryset


def _resolve_links(actor, field: str, values) -> list:
    wanted = set()
    for value in values or ():
        pk = getattr(value, "pk", value)
        try:
            wanted.add(int(pk))
        except (TypeError, ValueError):
            raise ServiceError(_("A linked item was not found."), field=field) from None
    if not wanted:
        return []
    found = list(_linkable(actor, field).filter(pk__in=wanted).order_by("pk"))
    if len(found) != len(wanted):
        raise ServiceError(_("A linked item was not found or is not visible to you."), field=field)
    return found


def _clean_text(field: str, value) -> str:
    value = "" if value is None else str(value)
    value = value.replace("\r\n", "\n").strip() if field != "title" else " ".join(value.split())
    limit = TEXT_FIELDS[field]
    if len(value) > limit:
        raise ServiceError(
            _("At most %(limit)s characters.") % {"limit": limit},
            field=field,
        )
    return value


def _clean_time(field: str, value, now) -> dt.datetime | None:
    if value is None:
        if field == "found_at":
            raise ServiceError(_("Say when the matter was found."), field=field)
        return None
    if not isinstance(value, dt.datetime):
        raise ServiceError(_("Enter a valid date and time."), field=field)
    if timezone.is_naive(value):
        value = timezone.make_aware(value, SAME_DAY_ZONE)
    if value > now + CLOCK_SLACK:
        raise ServiceError(_("This time is in the future."), field=field)
    return value


def _check_times(found_at, occurred_at):
    if occurred_at is not None and found_at is not None and occurred_at > found_at:
        raise ServiceError(
            _("The matter cannot have occurred after it was found."), field="occurred_at"
        )


def _default_office(actor) -> str:
    unit = getattr(actor, "org_unit", None)
    return unit.name[: TEXT_FIELDS["issuing_office"]] if unit is not None else ""


@transaction.atomic
def flash_create(
    *,
    actor,
    title: str,
    found_at: dt.datetime,
    occurred_at: dt.datetime | None = None,
    situation: str = "",
    problems: str = "",
    causes: str = "",
    suggestions: str = "",
    issuing_office: str = "",
    findings=(),
    visits=(),
    rectifications=(),
) -> FlashReport:
    """The office starts a draft. Links are limited to what the drafter may see."""
    if not is_flash_office(actor):
        raise PermissionDenied(_("Only the office drafts flash reports."))
    now = timezone.now()
    values = {
        "title": _clean_text("title", title),
        "situation": _clean_text("situation", situation),
        "problems": _clean_text("problems", problems),
        "causes": _clean_text("causes", causes),
        "suggestions": _clean_text("suggestions", suggestions),
        "issuing_office": _clean_text("issuing_office", issuing_office) or _default_office(actor),
        "found_at": _clean_time("found_at", found_at, now),
        "occurred_at": _clean_time("occurred_at", occurred_at, now),
    }
    if not values["title"]:
        raise ServiceError(_("Give the report a title."), field="title")
    _check_times(values["found_at"], values["occurred_at"])
    links = {
        "findings": _resolve_links(actor, "findings", findings),
        "visits": _resolve_links(actor, "visits", visits),
        "rectifications": _resolve_links(actor, "rectifications", rectifications),
    }
    report = FlashReport.objects.create(created_by=actor, **values)
    for field, objects in links.items():
        getattr(report, field).set(objects)
    entry = timeline_add(
        subject=report,
        actor=actor,
        verb="created",
        data={field: [o.pk for o in objects] for field, objects in links.items() if objects},
    )
    audit_record(
        actor=actor,
        action="flash.create",
        obj=report,
        summary=_("Drafted a flash report"),
        changes={"found_at": values["found_at"].isoformat()},
    )
    queue_timeline(entry)
    return report


@transaction.atomic
def flash_update(*, report: FlashReport, actor, version: int | None = None, **fields):
    """Save the draft (the editor autosaves every few seconds): only while it is a draft or
    returned, only by the office, only on top of the version the editor saw. Saving what is
    already stored changes nothing and keeps the version."""
    unknown = set(fields) - set(TEXT_FIELDS) - set(TIME_FIELDS) - set(LINK_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    locked = step_lock(FlashReport, report, actor)
    if not is_flash_office(actor):
        raise PermissionDenied(_("Only the office drafts flash reports."))
    if version is not None and _as_int(version) != locked.version:
        raise Conflict(
            _("Someone else saved this report a moment ago. Reload it to see their changes.")
        )
    if locked.state not in EDITABLE_STATES:
        raise ServiceError(
            _("A report that is “%(state)s” can no longer be edited.")
            % {"state": locked.get_state_display()}
        )
    now, changed = timezone.now(), {}
    for field in TEXT_FIELDS:
        if field in fields:
            value = _clean_text(field, fields[field])
            if field == "title" and not value:
                raise ServiceError(_("Give the report a title."), field="title")
            if value != getattr(locked, field):
                changed[field] = value
    for field in TIME_FIELDS:
        if field in fields:
            value = _clean_time(field, fields[field], now)
            if value != getattr(locked, field):
                changed[field] = value
    _check_times(
        changed.get("found_at", locked.found_at), changed.get("occurred_at", locked.occurred_at)
    )
    links = {}
    for field in LINK_FIELDS:
        if field in fields and fields[field] is not None:
            objects = _resolve_links(actor, field, fields[field])
            current = set(getattr(locked, field).values_list("pk", flat=True))
            if {o.pk for o in objects} != current:
                links[field] = objects
    if not changed and not links:
        return locked
    for field, value in changed.items():
        setattr(locked, field, value)
    locked.version += 1
    locked.save()
    for field, objects in links.items():
        getattr(locked, field).set(objects)
    audit_record(
        actor=actor,
        action="flash.update",
        obj=locked,
        summary=_("Edited a flash report"),
        changes={
            "fields": sorted([*changed, *links]),
            **{f: [o.pk for o in objects] for f, objects in links.items()},
        },
    )
    return locked


def _as_int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


# --- The workflow ---------------------------------------------------------------------------


def _next_serial(year: int) -> int:
    """Take the year's next issue number. The serial row is created if missing (a concurrent
    creator makes get_or_create fall back to reading it), then locked: a second sign-off
    waits here until the first commits, so numbers are consecutive; a rolled-back sign-off
    rolls its number back too, so there are no gaps."""
    FlashSerial.objects.get_or_create(year=year)
    serial = FlashSerial.objects.select_for_update().get(year=year)
    serial.last += 1
    serial.save(update_fields=["last"])
    return serial.last


def _leaders(values) -> list[User]:
    wanted = set()
    for value in values or ():
        pk = getattr(value, "pk", value)
        try:
            wanted.add(int(pk))
        except (TypeError, ValueError):
            raise ServiceError(_("Choose leaders from the list."), field="recipients") from None
    if not wanted:
        raise ServiceError(_("Choose at least one leader."), field="recipients")
    people = list(
        User.objects.filter(pk__in=wanted, is_active=True, roles__role=Role.LEADER)
        .distinct()
        .order_by("pk")
    )
    if len(people) != len(wanted):
        raise ServiceError(
            _("Flash reports are distributed to bureau leaders only."), field="recipients"
        )
    return people


def _require_complete(report: FlashReport):
    missing = [
        str(FlashReport._meta.get_field(f).verbose_name)
        for f in ("title", "situation", "problems")
        if not getattr(report, f).strip()
    ]
    if missing:
        raise ServiceError(
            _("Fill in before submitting: %(fields)s") % {"fields": "、".join(missing)}
        )


@transaction.atomic
def flash_transition(
    *,
    report: FlashReport,
    actor,
    action: str,
    note: str = "",
    version: int | None = None,
    recipients=(),
) -> FlashReport:
    """Every step of a flash report, guarded. Refused steps raise and change nothing.

    ``recipients`` (leaders, for ``distribute``) get a receipt row and a notification each;
    distributing again adds leaders without telling anyone twice."""
    step = STEPS.get(action)
    if step is None:
        raise ServiceError(_("Unknown action."))
    locked = step_lock(FlashReport, report, actor)
    if action == "mark_read":
        return _mark_read(locked, actor)
    step_check(
        locked,
        actor,
        step,
        version,
        stale=_(
            "Someone else acted on this report a moment ago; it is now “%(state)s”. "
            "Reload and try again."
        ),
        refused=_("A report that is “%(state)s” cannot %(action)s."),
    )
    note = (note or "").strip()
    if step.needs_note and not note:
        raise ServiceError(_("Write a note for this step."), field="note")
    now, before, data = timezone.now(), locked.state, {}
    new_people = []
    if action == "submit":
        _require_complete(locked)
        locked.submitted_at = now
    elif action == "approve":
        locked.approved_by, locked.approved_at = actor, now
    elif action == "return":
        locked.approved_by = locked.approved_at = None
    elif action == "sign_off":
        year = now.astimezone(SAME_DAY_ZONE).year
        locked.year, locked.serial = year, _next_serial(year)
        locked.signed_by, locked.signed_at = actor, now
        locked.on_time = signed_on_time(locked.found_at, now)
        data = {
            "year": year,
            "serial": locked.serial,
            "on_time": locked.on_time,
            "deadline": same_day_deadline(locked.found_at).isoformat(),
        }
    elif action == "distribute":
        people = _leaders(recipients)
        already = set(
            FlashRecipient.objects.filter(report=locked).values_list("user_id", flat=True)
        )
        new_people = [p for p in people if p.pk not in already]
        if not new_people:
            raise ServiceError(
                _("The report has already been distributed to these leaders."),
                field="recipients",
            )
        FlashRecipient.objects.bulk_create(
            [FlashRecipient(report=locked, user=p) for p in new_people]
        )
        locked.distributed_at = locked.distributed_at or now
        data = {"recipients": [p.pk for p in new_people]}
    if step.target is not None:
        locked.state = step.target
    locked.version += 1
    locked.save()
    entry = timeline_add(subject=locked, actor=actor, verb=action, note=note, data=data)
    audit_record(
        actor=actor,
        action=f"flash.{action}",
        obj=locked,
        summary=str(step.label),
        changes={"state": [before, locked.state], **data},
    )
    if new_people:
        _notify_recipients(locked, new_people, actor)
    queue_timeline(entry)
    if action in ("sign_off", "distribute"):
        _queue_pdf(locked.pk)
    return locked


def _mark_read(report: FlashReport, actor) -> FlashReport:
    """A leader opened a report distributed to them: the first time is the read receipt;
    later openings change nothing."""
    updated = FlashRecipient.objects.filter(report=report, user=actor, read_at__isnull=True).update(
        read_at=timezone.now()
    )
    if not updated:
        if not is_recipient(actor, report):
            raise PermissionDenied(_("Only a leader it was distributed to confirms reading it."))
        return report
    timeline_add(subject=report, actor=actor, verb="mark_read")
    audit_record(
        actor=actor,
        action="flash.mark_read",
        obj=report,
        summary=str(STEPS["mark_read"].label),
    )
    return report


def flash_mark_read(*, report: FlashReport, actor) -> bool:
    """Record the read receipt if ``actor`` is a recipient who has not read it yet; quietly
    nothing for anyone else (the office opening the page). Returns whether it was recorded."""
    if report.state != S.DISTRIBUTED or not is_leader(actor):
        return False
    if not FlashRecipient.objects.filter(report=report, user=actor, read_at__isnull=True).exists():
        return False
    flash_transition(report=report, actor=actor, action="mark_read")
    return True


def report_url(report) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("reports:flash-detail", args=[report.pk])
    except NoReverseMatch:  # the pages are not mounted (an API-only deployment)
        return ""


def _notify_recipients(report: FlashReport, people, actor):
    notify(
        recipients=people,
        kind=NotificationKind.UPDATE,
        title=_("Flash report %(issue)s: %(title)s")
        % {"issue": report.issue_label, "title": report.title},
        body=_("Signed off by %(signer)s. Open it to confirm you have read it.")
        % {"signer": report.signed_by},
        url=report_url(report),
        subject=report,
        event_key=f"flash:{report.pk}:distributed",
        exclude=actor,
    )


def _queue_pdf(report_id: int):
    from reports import tasks

    transaction.on_commit(lambda: enqueue(tasks.render_flash_pdf, report_id))


# --- Notifications of the steps (from the timeline queue) -----------------------------------


def notify_step(entry, report: FlashReport):
    """Who hears of a step: the office head of a submission, the drafter of a return, an
    approval or a sign-off. Distribution tells its leaders directly (in its transaction)."""
    if entry.verb == "submit":
        people = holders_of(Role.OFFICE_HEAD)
    elif entry.verb in ("return", "approve", "sign_off"):
        people = [report.created_by]
        if entry.verb == "approve":
            people += holders_of(Role.OFFICE_HEAD)
    else:
        return
    step = STEPS[entry.verb]
    body = report.title if not entry.note else f"{report.title}\n{entry.note}"
    notify(
        recipients=people,
        kind=NotificationKind.UPDATE,
        title=_("Flash report: %(action)s") % {"action": step.label},
        body=body,
        url=report_url(report),
        subject=report,
        event_key=f"timeline:{entry.pk}",
        exclude=entry.actor,
    )


# --- The evening watchdog -------------------------------------------------------------------


def watchdog(now: dt.datetime | None = None) -> int:
    """At 20:00: remind the office of each major (重大) finding found today (Asia/Shanghai)
    that no flash report covers yet. Each (person, finding, day) is told once: the event key
    names the finding and the day, and a notification row is unique per person and key, so a
    second run, or two at once, tell nobody again. Returns the reminders written."""
    from inspections.models import Finding

    now = now or timezone.now()
    day = now.astimezone(SAME_DAY_ZONE).date()
    start = dt.datetime.combine(day, dt.time.min, tzinfo=SAME_DAY_ZONE)
    findings = (
        Finding.objects.filter(
            severity="major", found_at__gte=start, found_at__lt=start + dt.timedelta(days=1)
        )
        .exclude(state="draft")
        .filter(flash_reports__isnull=True)
        .select_related("target")
        .order_by("found_at", "pk")
    )
    office = holders_of(Role.SUPERVISOR, Role.OFFICE_HEAD)
    if not office:
        return 0
    written = 0
    for finding in findings:
        key = f"flash-watchdog:{finding.pk}:{day.isoformat()}"
        written += _remind_once(finding, key, office, start)
    return written


def _remind_once(finding, key: str, office, start) -> int:
    from civilaffairs.models import Notification

    try:
        with transaction.atomic():
            told = set(
                Notification.objects.filter(event_key=key).values_list("recipient_id", flat=True)
            )
            people = [p for p in office if p.pk not in told]
            if not people:
                return 0
            deadline = start + dt.timedelta(days=1)
            rows = notify(
                recipients=people,
                kind=NotificationKind.REMINDER,
                title=_("Major finding without a flash report: %(title)s")
                % {"title": finding.title},
                body=_(
                    "%(unit)s · found %(time)s. The same-day rule: sign off a flash report "
                    "before %(deadline)s."
                )
                % {
                    "unit": finding.target,
                    "time": finding.found_at.astimezone(SAME_DAY_ZONE).strftime("%H:%M"),
                    "deadline": deadline.strftime("%Y-%m-%d %H:%M"),
                },
                url=finding.get_absolute_url(),
                subject=finding,
                event_key=key,
            )
            return len(rows)
    except IntegrityError:  # a concurrent run told them first
        return 0
