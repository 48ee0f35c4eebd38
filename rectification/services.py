"""The rectification engine: one guarded transition function for every step of an order.

Each step checks the actor's role and scope, the current state and the version the actor saw,
locks the row, writes exactly one timeline entry and one audit event in the same transaction,
and refuses anything else with a clear message (changing nothing)."""

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civilaffairs import workdays
from civilaffairs.choices import Role
from civilaffairs.exceptions import PermissionDenied, ServiceError
from civilaffairs.models import OrgUnit
from civilaffairs.notifications import queue_timeline
from civilaffairs.services import audit_record, step_check, step_lock, timeline_add
from inspections.services import _next_code
from rectification.choices import (
    OPEN_STATES,
    PRIORITY_BY_SEVERITY,
    ExtensionState,
    SourceType,
)
from rectification.choices import (
    RectificationState as S,
)
from rectification.models import ExtensionRequest, Rectification

# Working days a unit gets by default, by the finding's severity (settings may override).
DEFAULT_WORKING_DAYS = {"major": 5, "serious": 10, "general": 15}


def _in_scope(unit: OrgUnit | None, scopes) -> bool:
    return unit is not None and any(unit.path.startswith(s.path) for s in scopes)


def is_unit_side(actor, order: Rectification) -> bool:
    """The responsible unit's liaison (of it or of a unit above it); when the responsible unit
    is a bureau department (a complaint or a commitment assigned to it), its staff."""
    unit = order.responsible_unit
    if _in_scope(unit, actor.scopes_for(Role.UNIT_LIAISON)):
        return True
    return unit.kind == "department" and _in_scope(unit, actor.scopes_for(Role.DEPARTMENT))


def is_verifier(actor, order: Rectification) -> bool:
    """The office, or the department that supervises the order."""
    if actor.has_role(Role.SUPERVISOR, Role.OFFICE_HEAD):
        return True
    return _in_scope(order.supervising_department, actor.scopes_for(Role.DEPARTMENT))


def is_office(actor, order) -> bool:
    return actor.has_role(Role.SUPERVISOR, Role.OFFICE_HEAD)


def is_office_head(actor, order) -> bool:
    return actor.has_role(Role.OFFICE_HEAD)


@dataclass(frozen=True)
class Step:
    sources: frozenset
    target: str | None  # None: the state does not change
    allowed: object  # (actor, order) -> bool
    label: str
    needs_note: bool = False
    needs_evidence: bool = False


STEPS = {
    "acknowledge": Step(
        frozenset({S.ISSUED, S.RETURNED}), S.ACKNOWLEDGED, is_unit_side, gettext_lazy("acknowledge")
    ),
    "submit": Step(
        frozenset({S.ACKNOWLEDGED}),
        S.SUBMITTED,
        is_unit_side,
        gettext_lazy("report the rectification"),
        needs_note=True,
        needs_evidence=True,
    ),
    "verify": Step(
        frozenset({S.SUBMITTED}), S.VERIFIED, is_verifier, gettext_lazy("verify and close")
    ),
    "return": Step(
        frozenset({S.SUBMITTED}), S.RETURNED, is_verifier, gettext_lazy("return"), needs_note=True
    ),
    "reassign": Step(
        frozenset(OPEN_STATES), S.ISSUED, is_office, gettext_lazy("reassign"), needs_note=True
    ),
    "cancel": Step(
        frozenset(OPEN_STATES), S.CANCELLED, is_office, gettext_lazy("cancel"), needs_note=True
    ),
    "reopen": Step(
        frozenset({S.VERIFIED, S.CANCELLED}),
        S.ISSUED,
        is_office,
        gettext_lazy("reopen"),
        needs_note=True,
    ),
    "request_extension": Step(
        frozenset({S.ISSUED, S.ACKNOWLEDGED, S.RETURNED}),
        None,
        is_unit_side,
        gettext_lazy("request an extension"),
        needs_note=True,
    ),
    "approve_extension": Step(
        frozenset(OPEN_STATES), None, is_office_head, gettext_lazy("approve the extension")
    ),
    "reject_extension": Step(
        frozenset(OPEN_STATES),
        None,
        is_office_head,
        gettext_lazy("reject the extension"),
        needs_note=True,
    ),
}


def _claim_attachments(actor, attachments) -> list:
    """The actor's own uploads that are not attached to anything yet, locked; anything else
    is refused so nobody can move someone else's file onto an order."""
    from civilaffairs.models import Attachment

    wanted = {getattr(a, "pk", a) for a in attachments or ()}
    if not wanted:
        return []
    files = list(
        Attachment.objects.select_for_update()
        .filter(pk__in=wanted, uploaded_by=actor, content_type__isnull=True)
        .order_by("pk")
    )
    if len(files) != len(wanted):
        raise ServiceError(
            _("An attached file was not found or is already in use; upload it again."),
            field="attachments",
        )
    return files


def liaison_serves(person, unit) -> bool:
    """A liaison serves a unit inside one of their scopes (a district's liaison serves its
    institutions)."""
    return _in_scope(unit, person.scopes_for(Role.UNIT_LIAISON))


_NO_PENDING = object()

# Steps that an order's source takes through its own workflow, never directly on the order,
# so the two cannot disagree: a complaint's order is cancelled when the complaint is merged
# and reopened when a return visit finds the complainant unsatisfied.
SOURCE_STEPS = {SourceType.COMPLAINT: frozenset({"cancel", "reopen"})}


def available_steps(order: Rectification, actor, pending_extension=_NO_PENDING) -> list[str]:
    """The steps ``actor`` may take on ``order`` now, judged as rectification_transition will:
    the state allows the step, the role and scope allow the actor, the verifier is not whoever
    reported, and an extension is decided only while one is pending (and requested only while
    none is). Pass the pending extension if already loaded to save a query."""
    if pending_extension is _NO_PENDING:
        pending_extension = order.extensions.filter(state=ExtensionState.PENDING).first()
    names = []
    for name, step in STEPS.items():
        if order.state not in step.sources or not step.allowed(actor, order):
            continue
        if name in ("verify", "return") and order.submitted_by_id == actor.pk:
            continue
        if name in ("approve_extension", "reject_extension") and pending_extension is None:
            continue
        if name == "request_extension" and pending_extension is not None:
            continue
        if name in SOURCE_STEPS.get(order.source_type, ()):
            continue
        names.append(name)
    return names


def compute_deadline(dispatched: dt.datetime, working_days: int) -> workdays.Deadline:
    return workdays.add_working_days(timezone.localdate(dispatched), working_days)


@transaction.atomic
def rectification_issue(
    *,
    actor,
    responsible_unit: OrgUnit,
    title: str,
    requirements: str = "",
    finding=None,
    deadline: dt.date | None = None,
    working_days: int | None = None,
    supervising_department=None,
    responsible_person=None,
    priority: str | None = None,
    source_type: str = SourceType.FINDING,
    complaint=None,
    commitment=None,
) -> Rectification:
    """Dispatch an order. The clock starts now, at dispatch — not when the unit signs."""
    if actor is not None and not actor.has_role(Role.SUPERVISOR, Role.OFFICE_HEAD):
        raise PermissionDenied(_("Only the office issues rectification orders."))
    if not title.strip():
        raise ServiceError(_("Describe the problem to be rectified."), field="title")
    if not responsible_unit.active:
        raise ServiceError(_("The responsible unit is no longer active."), field="responsible_unit")
    if responsible_person is not None and not liaison_serves(responsible_person, responsible_unit):
        raise ServiceError(
            _("This person is not a liaison of the responsible unit."),
            field="responsible_person",
        )
    now = timezone.now()
    provisional = False
    if deadline is None:
        if not working_days or working_days < 1:
            raise ServiceError(_("Give a deadline or a number of working days."), field="deadline")
        computed = compute_deadline(now, working_days)
        deadline, provisional = computed.date, computed.provisional
    elif deadline < timezone.localdate(now):
        raise ServiceError(_("The deadline is in the past."), field="deadline")
    if finding is not None and priority is None:
        priority = PRIORITY_BY_SEVERITY.get(finding.severity)
    order = Rectification.objects.create(
        code=_next_code(Rectification, "ZG"),
        source_type=source_type,
        finding=finding,
        complaint=complaint,
        commitment=commitment,
        title=title,
        requirements=requirements,
        responsible_unit=responsible_unit,
        responsible_person=responsible_person,
        supervising_department=supervising_department,
        priority=priority or "normal",
        dispatched_at=now,
        deadline=deadline,
        deadline_working_days=working_days if working_days else None,
        deadline_provisional=provisional,
        created_by=actor,
    )
    entry = timeline_add(
        subject=order,
        actor=actor,
        verb="issued",
        data={"deadline": deadline.isoformat(), "provisional": provisional},
    )
    audit_record(
        actor=actor,
        action="rectification.issue",
        obj=order,
        summary=_("Issued a rectification order"),
        changes={"deadline": deadline.isoformat(), "unit": responsible_unit.pk},
    )
    queue_timeline(entry)
    return order


@transaction.atomic
def rectification_transition(
    *,
    rectification: Rectification,
    actor,
    action: str,
    note: str = "",
    version: int | None = None,
    new_deadline: dt.date | None = None,
    responsible_unit: OrgUnit | None = None,
    attachments=(),
    working_days: int | None = None,
    by_source: bool = False,
) -> Rectification:
    """Every step of an order, guarded. Refused steps raise and change nothing.

    ``attachments`` are files the actor uploaded beforehand (not yet attached to anything);
    they become the order's and are listed on this step's timeline entry. Reporting a
    rectification needs at least one (the evidence). A reopening given ``working_days``
    restarts the clock from now. ``by_source`` marks a step taken by the workflow of the
    order's source (see SOURCE_STEPS)."""
    step = STEPS.get(action)
    if step is None:
        raise ServiceError(_("Unknown action."))
    order = step_lock(Rectification, rectification, actor)
    if action in SOURCE_STEPS.get(order.source_type, ()) and not by_source:
        raise ServiceError(
            _("This order follows its complaint: %(action)s it from the complaint's page.")
            % {"action": step.label}
        )
    step_check(
        order,
        actor,
        step,
        version,
        stale=_(
            "Someone else acted on this order a moment ago; it is now “%(state)s”. "
            "Reload and try again."
        ),
        refused=_("An order that is “%(state)s” cannot %(action)s."),
    )
    if step.needs_note and not note.strip():
        raise ServiceError(_("Write a note for this step."), field="note")
    now, before, data = timezone.now(), order.state, {}
    if action in ("verify", "return") and order.submitted_by_id == actor.pk:
        raise PermissionDenied(_("Whoever reported the rectification cannot verify it."))
    files = _claim_attachments(actor, attachments)
    if step.needs_evidence and not files:
        raise ServiceError(
            _("Attach at least one photo or document as evidence."), field="attachments"
        )
    if files:
        data["attachments"] = [str(f.uuid) for f in files]
    if action == "acknowledge":
        order.acknowledged_at = order.acknowledged_at or now
    elif action == "submit":
        order.submitted_at, order.submitted_by = now, actor
    elif action == "verify":
        order.closed_at, order.closed_by = now, actor
    elif action == "return":
        order.times_returned += 1
    elif action == "reassign":
        if responsible_unit is None or responsible_unit.pk == order.responsible_unit_id:
            raise ServiceError(_("Choose the new responsible unit."), field="responsible_unit")
        data["unit"] = [order.responsible_unit_id, responsible_unit.pk]
        order.responsible_unit, order.responsible_person = responsible_unit, None
    elif action == "reopen":
        order.closed_at = order.closed_by = None
        if working_days:
            computed = compute_deadline(now, working_days)
            data["deadline"] = [order.deadline.isoformat(), computed.date.isoformat()]
            order.deadline, order.deadline_provisional = computed.date, computed.provisional
            # Counted from the reopening, not from dispatch: nothing to recompute from later.
            order.deadline_working_days = None
    elif action == "request_extension":
        if new_deadline is None or new_deadline <= order.deadline:
            raise ServiceError(
                _("The requested deadline must be later than the current one."),
                field="new_deadline",
            )
        if order.extensions.filter(state=ExtensionState.PENDING).exists():
            raise ServiceError(_("An extension request is already waiting for approval."))
        ExtensionRequest.objects.create(
            rectification=order, requested_by=actor, new_deadline=new_deadline, reason=note
        )
        data["new_deadline"] = new_deadline.isoformat()
    elif action in ("approve_extension", "reject_extension"):
        pending = order.extensions.select_for_update().filter(state=ExtensionState.PENDING).first()
        if pending is None:
            raise ServiceError(_("No extension request is waiting for approval."))
        pending.state = (
            ExtensionState.APPROVED if action == "approve_extension" else ExtensionState.REJECTED
        )
        pending.decided_by, pending.decided_at, pending.decision_note = actor, now, note
        pending.save()
        if action == "approve_extension":
            data["deadline"] = [order.deadline.isoformat(), pending.new_deadline.isoformat()]
            order.deadline, order.deadline_provisional = pending.new_deadline, False
            order.deadline_working_days = None
    if step.target is not None:
        order.state = step.target
    order.version += 1
    order.save()
    for attachment in files:
        attachment.owner = order
        attachment.save(update_fields=["content_type", "object_id"])
    entry = timeline_add(subject=order, actor=actor, verb=action, note=note, data=data)
    audit_record(
        actor=actor,
        action=f"rectification.{action}",
        obj=order,
        summary=str(step.label),
        changes={"state": [before, order.state], **data},
    )
    queue_timeline(entry)
    return order


def recompute_provisional_deadlines(years=None) -> int:
    """When a calendar year is loaded, provisional deadlines counted in working days are
    counted again from their dispatch."""
    changed = 0
    for order in Rectification.objects.filter(
        deadline_provisional=True, deadline_working_days__isnull=False
    ):
        with transaction.atomic():
            locked = Rectification.objects.select_for_update().get(pk=order.pk)
            if not locked.deadline_provisional:
                continue
            computed = compute_deadline(locked.dispatched_at, locked.deadline_working_days)
            if (computed.date, computed.provisional) != (locked.deadline, True):
                old = locked.deadline
                locked.deadline, locked.deadline_provisional = computed.date, computed.provisional
                locked.save(update_fields=["deadline", "deadline_provisional"])
                entry = timeline_add(
                    subject=locked,
                    actor=None,
                    verb="deadline_recomputed",
                    data={"deadline": [old.isoformat(), computed.date.isoformat()]},
                )
                queue_timeline(entry)
                changed += 1
    return changed


def issue_for_filed_findings(visit_id: int) -> int:
    """A filed visit's findings to rectify by deadline get their orders (the unit's); those
    transferred get orders supervised by the department."""
    from inspections.models import Finding

    days = {**DEFAULT_WORKING_DAYS, **getattr(settings, "RECTIFICATION_DEFAULT_DAYS", {})}
    issued = 0
    findings = Finding.objects.filter(
        visit_id=visit_id, state__in=["open", "transferred"], rectifications__isnull=True
    ).select_related("target")
    for finding in findings:
        rectification_issue(
            actor=None,
            responsible_unit=finding.target,
            title=finding.title,
            requirements=finding.description,
            finding=finding,
            working_days=days.get(finding.severity, 15),
            supervising_department=finding.transferred_to or finding.target.supervising_department,
        )
        issued += 1
    return issued
