"""Public commitments (承诺事项) on the rectification engine.

A commitment rides an order to the responsible department: the order carries the deadline,
the yellow and red warnings, escalation, extensions and the final report and verification
(fulfilled). The commitment adds what the public reads: the promise, milestones and progress
updates. Writes are services: office or department only, one timeline entry and one audit
event each, in one transaction."""

import datetime as dt
import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from civilaffairs.choices import OrgKind, Role
from civilaffairs.exceptions import Conflict, PermissionDenied, ServiceError
from civilaffairs.notifications import queue_timeline
from civilaffairs.services import audit_record, timeline_add
from inspections.services import _next_code
from rectification import services as engine
from rectification.choices import CommitmentStanding, SourceType
from rectification.choices import RectificationState as S
from rectification.models import Commitment, CommitmentMilestone, CommitmentProgress, Rectification

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)


def order_of(commitment: Commitment) -> Rectification | None:
    try:
        return commitment.order
    except Rectification.DoesNotExist:
        return None


def standing(commitment: Commitment, today: dt.date | None = None) -> str:
    """Fulfilled once its order is verified, withdrawn if cancelled, behind schedule once the
    deadline has passed, otherwise in progress."""
    order = order_of(commitment)
    if order is None:
        return CommitmentStanding.IN_PROGRESS
    if order.state == S.VERIFIED:
        return CommitmentStanding.FULFILLED
    if order.state == S.CANCELLED:
        return CommitmentStanding.WITHDRAWN
    if order.deadline < (today or timezone.localdate()):
        return CommitmentStanding.OVERDUE
    return CommitmentStanding.IN_PROGRESS


def may_report_progress(actor, commitment: Commitment) -> bool:
    if actor.has_role(*OFFICE):
        return True
    order = order_of(commitment)
    return order is not None and engine.is_unit_side(actor, order)


# Long digit runs (phone and ID numbers) never reach the public page, even if someone typed
# one into a progress note.
_DIGITS = re.compile(r"\d[\d\- ]{5,}[\dXx]")


def public_text(text: str) -> str:
    return _DIGITS.sub("****", text or "")


def _require_office(actor):
    if actor is not None and not actor.has_role(*OFFICE):
        raise PermissionDenied(_("Only the office records public commitments."))


def _clean_milestones(milestones, deadline) -> list[tuple[str, dt.date]]:
    cleaned = []
    for title, due in milestones or ():
        title = (title or "").strip()
        if not title and due is None:
            continue
        if not title or due is None:
            raise ServiceError(_("Give each milestone a name and a date."), field="milestones")
        if due > deadline:
            raise ServiceError(
                _("A milestone cannot fall after the commitment's deadline."), field="milestones"
            )
        cleaned.append((title[:200], due))
    return cleaned


@transaction.atomic
def commitment_create(
    *,
    actor,
    problem: str,
    department,
    promise: str,
    deadline: dt.date,
    milestones=(),
    public: bool = True,
) -> Commitment:
    """Record a commitment and dispatch its order to the department (the clock starts now)."""
    _require_office(actor)
    problem, promise = (problem or "").strip(), (promise or "").strip()
    if not problem:
        raise ServiceError(_("Describe the problem."), field="problem")
    if not promise:
        raise ServiceError(_("Write what was promised to the public."), field="promise")
    if department is None or department.kind != OrgKind.DEPARTMENT:
        raise ServiceError(
            _("The responsible department must be a bureau department."), field="department"
        )
    if deadline is None or deadline < timezone.localdate():
        raise ServiceError(_("The deadline is in the past."), field="deadline")
    cleaned = _clean_milestones(milestones, deadline)
    commitment = Commitment.objects.create(
        code=_next_code(Commitment, "CN"),
        problem=problem[:200],
        department=department,
        promise=promise,
        public=bool(public),
        created_by=actor,
    )
    CommitmentMilestone.objects.bulk_create(
        CommitmentMilestone(commitment=commitment, title=t, due_date=d) for t, d in cleaned
    )
    order = engine.rectification_issue(
        actor=actor,
        responsible_unit=department,
        title=problem[:200],
        requirements=promise,
        deadline=deadline,
        source_type=SourceType.COMMITMENT,
        commitment=commitment,
    )
    entry = timeline_add(
        subject=commitment,
        actor=actor,
        verb="created",
        data={"order": order.code, "deadline": deadline.isoformat(), "milestones": len(cleaned)},
    )
    audit_record(
        actor=actor,
        action="commitment.create",
        obj=commitment,
        summary=_("Recorded a public commitment"),
        changes={"department": department.pk, "deadline": deadline.isoformat()},
    )
    queue_timeline(entry)
    return commitment


def _lock(commitment, actor, version):
    locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
    if not Commitment.objects.visible_to(actor).filter(pk=locked.pk).exists():
        raise PermissionDenied(_("Your role does not allow this action."))
    if version is not None:
        try:
            seen = int(version)
        except (TypeError, ValueError):
            seen = None
        if seen != locked.version:
            raise Conflict(
                _("Someone else changed this commitment a moment ago. Reload and try again.")
            )
    return locked


@transaction.atomic
def commitment_update(
    *,
    actor,
    commitment: Commitment,
    version: int | None = None,
    problem: str | None = None,
    promise: str | None = None,
    public: bool | None = None,
    milestones=None,
) -> Commitment:
    """Change the wording, publication or the milestones not reached yet (the office). The
    deadline moves only through an extension of the order."""
    _require_office(actor)
    locked = _lock(commitment, actor, version)
    changes = {}
    for name, value in (("problem", problem), ("promise", promise)):
        if value is None:
            continue
        value = value.strip()
        if not value:
            raise ServiceError(_("This field cannot be empty."), field=name)
        if value != getattr(locked, name):
            changes[name] = [getattr(locked, name), value]
            setattr(locked, name, value)
    if public is not None and bool(public) != locked.public:
        changes["public"] = [locked.public, bool(public)]
        locked.public = bool(public)
    if milestones is not None:
        order = order_of(locked)
        cleaned = _clean_milestones(milestones, order.deadline if order else dt.date.max)
        pending = list(locked.milestones.filter(reached_at__isnull=True))
        before = [(m.title, m.due_date) for m in pending]
        if cleaned != before:
            locked.milestones.filter(pk__in=[m.pk for m in pending]).delete()
            CommitmentMilestone.objects.bulk_create(
                CommitmentMilestone(commitment=locked, title=t, due_date=d) for t, d in cleaned
            )
            changes["milestones"] = [len(before), len(cleaned)]
    if not changes:
        return locked
    locked.version += 1
    locked.save()
    entry = timeline_add(subject=locked, actor=actor, verb="edited", data=changes)
    audit_record(
        actor=actor,
        action="commitment.update",
        obj=locked,
        summary=_("Changed a public commitment"),
        changes=changes,
    )
    queue_timeline(entry)
    return locked


@transaction.atomic
def commitment_progress(
    *, actor, commitment: Commitment, content: str, reached: CommitmentMilestone | None = None
) -> CommitmentProgress:
    """A progress update (the office or the responsible department), optionally marking a
    milestone reached. The text is public: it must not name people."""
    locked = _lock(commitment, actor, None)
    if not may_report_progress(actor, locked):
        raise PermissionDenied(_("Your role does not allow this action."))
    order = order_of(locked)
    if order is not None and order.state in (S.VERIFIED, S.CANCELLED):
        raise ServiceError(_("This commitment is closed."))
    content = (content or "").strip()
    if not content:
        raise ServiceError(_("Write what has been done."), field="content")
    if reached is not None:
        reached = locked.milestones.select_for_update().filter(pk=reached.pk).first()
        if reached is None:
            raise ServiceError(_("Choose a milestone of this commitment."), field="reached")
        if reached.reached_at is not None:
            raise ServiceError(_("This milestone was already reached."), field="reached")
        reached.reached_at, reached.note = timezone.now(), content
        reached.save(update_fields=["reached_at", "note"])
    progress = CommitmentProgress.objects.create(
        commitment=locked, author=actor, content=content, milestone=reached
    )
    locked.version += 1
    locked.save(update_fields=["version"])
    entry = timeline_add(
        subject=locked,
        actor=actor,
        verb="progress",
        note=content,
        data={"milestone": reached.title if reached else ""},
    )
    audit_record(
        actor=actor,
        action="commitment.progress",
        obj=locked,
        summary=_("Reported progress on a public commitment"),
        changes={"milestone": reached.pk if reached else None},
    )
    queue_timeline(entry)
    return progress
