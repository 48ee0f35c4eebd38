"""Complaints (群众意见 / 投诉 / 转办件) on the rectification engine.

A complaint is registered by the office, triaged to a unit or a department through an order
(so the engine's working-day deadline, alerts, escalation, scorecards and timeline apply),
replied to (回告) once the handling unit has reported, and followed by a return visit (回访): an
unsatisfied complainant reopens the case and its order with a fresh deadline. A duplicate is
merged into the case it repeats, and its order is cancelled.

Every step goes through ``complaint_transition``: role, scope, state and the version the actor
saw are checked on the locked row, and the step writes one timeline entry and one audit event
in the same transaction; notifications follow the commit. The complainant's name, phone and
ID number never enter the timeline, the audit trail or a notification; they are encrypted at
rest, and a case is found by phone or ID number only through their blind indexes, by whoever
may reveal them (``contact_lookup``)."""

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civilaffairs import crypto
from civilaffairs.choices import OrgKind, Role
from civilaffairs.exceptions import PermissionDenied, ServiceError
from civilaffairs.notifications import queue_timeline
from civilaffairs.services import audit_record, step_check, step_lock, timeline_add
from civilaffairs.validators import clean_id_number
from inspections.services import _next_code
from rectification import services as engine
from rectification.choices import (
    ComplaintChannel,
    ComplaintNature,
    ReplyTarget,
    Satisfaction,
    SourceType,
)
from rectification.choices import ComplaintState as C
from rectification.choices import RectificationState as S
from rectification.models import Complaint, Rectification

# Working days to reply, by the complaint's nature (COMPLAINT_DEADLINE_DAYS overrides them):
# a policy enquiry is answered in two, a personal request or a complaint about attitude needs
# looking into, a suggestion or a report of wrongdoing may need an investigation.
DEFAULT_DEADLINE_DAYS = {
    ComplaintNature.CONSULTATION: 2,
    ComplaintNature.PERSONAL: 10,
    ComplaintNature.ATTITUDE: 10,
    ComplaintNature.SUGGESTION: 15,
    ComplaintNature.REPORT: 15,
}

PHONE_PATTERN = re.compile(r"^[0-9][0-9\- ]{5,18}[0-9]$")


def deadline_days() -> dict[str, int]:
    """Working days by nature: the defaults, then "nature:days,…" from the setting."""
    days = {str(k): v for k, v in DEFAULT_DEADLINE_DAYS.items()}
    for part in str(getattr(settings, "COMPLAINT_DEADLINE_DAYS", "") or "").split(","):
        name, _sep, value = part.strip().partition(":")
        if name in ComplaintNature.values and value.strip().isdigit() and int(value) > 0:
            days[name] = int(value)
    return days


def days_for(nature: str) -> int:
    return deadline_days().get(nature, 15)


# --- Who may do what ------------------------------------------------------------------------


def is_office(actor, complaint=None) -> bool:
    return actor.has_role(Role.SUPERVISOR, Role.OFFICE_HEAD)


def order_of(complaint: Complaint) -> Rectification | None:
    try:
        return complaint.order
    except Rectification.DoesNotExist:
        return None


def can_reveal(actor, complaint: Complaint) -> bool:
    """Who may see the complainant's name, phone and ID number unmasked (each time on the
    audit trail): the office, which registers and calls back, and the staff of the unit or
    department handling the case, who may need to contact the complainant. Leaders,
    inspectors, auditors and system administrators may not."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return False
    if not complaint.has_personal_data:
        return False
    if is_office(actor):
        return True
    order = order_of(complaint)
    return order is not None and engine.is_unit_side(actor, order)


def revealable_q(actor) -> Q:
    """The complaints whose contact ``actor`` may reveal, as can_reveal judges one case: all of
    them for the office; for a liaison or department, those whose order their unit handles."""
    if not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return Q(pk__in=[])
    if is_office(actor):
        return Q()
    allowed = Q(pk__in=[])
    for scope in actor.scopes_for(Role.UNIT_LIAISON):
        allowed |= Q(order__responsible_unit__path__startswith=scope.path)
    for scope in actor.scopes_for(Role.DEPARTMENT):
        allowed |= Q(
            order__responsible_unit__kind=OrgKind.DEPARTMENT,
            order__responsible_unit__path__startswith=scope.path,
        )
    return allowed


def contact_lookup(queryset, actor, *, phone: str = "", id_number: str = ""):
    """The cases of ``queryset`` whose complainant has this phone or ID number: an exact
    match of the blind index (a part of a number finds nothing), among the cases whose contact
    ``actor`` may reveal — a search by a person's number must not tell anyone else that this
    person complained."""
    if phone:
        queryset = queryset.filter(
            complainant_phone_bidx=crypto.blind_index(phone, crypto.PHONE) or "-"
        )
    if id_number:
        queryset = queryset.filter(
            complainant_id_number_bidx=crypto.blind_index(id_number, crypto.ID_NUMBER) or "-"
        )
    return queryset.filter(revealable_q(actor))


@dataclass(frozen=True)
class Step:
    sources: frozenset
    target: str
    allowed: object  # (actor, complaint) -> bool
    label: str
    needs_note: bool = False


STEPS = {
    "triage": Step(
        frozenset({C.RECEIVED}), C.TRIAGED, is_office, gettext_lazy("assign for handling")
    ),
    "reply": Step(
        frozenset({C.TRIAGED, C.REOPENED}), C.REPLIED, is_office, gettext_lazy("record the reply")
    ),
    "return_visit": Step(
        frozenset({C.REPLIED}), C.CLOSED, is_office, gettext_lazy("record the return visit")
    ),
    "close": Step(
        frozenset({C.REPLIED}),
        C.CLOSED,
        is_office,
        gettext_lazy("conclude without a return visit"),
        needs_note=True,
    ),
    "merge": Step(
        frozenset({C.RECEIVED, C.TRIAGED, C.REOPENED}),
        C.MERGED,
        is_office,
        gettext_lazy("merge into another case"),
        needs_note=True,
    ),
}

# The handling unit has reported (or the office has verified) before the public is answered.
REPLY_READY = {S.SUBMITTED, S.VERIFIED}


def available_steps(complaint: Complaint, actor) -> list[str]:
    """The steps ``actor`` may take now, judged as complaint_transition will."""
    names = []
    for name, step in STEPS.items():
        if complaint.state not in step.sources or not step.allowed(actor, complaint):
            continue
        if name == "reply":
            order = order_of(complaint)
            if order is None or order.state not in REPLY_READY:
                continue
            if order.state == S.SUBMITTED and order.submitted_by_id == actor.pk:
                continue
        names.append(name)
    return names


# --- Registering ----------------------------------------------------------------------------


def _clean_phone(phone: str) -> str:
    phone = (phone or "").strip()
    if phone and not PHONE_PATTERN.match(phone):
        raise ServiceError(_("Enter the phone number with digits only."), field="complainant_phone")
    return phone


def _clean_id_number(value: str) -> str:
    try:
        return clean_id_number(value)
    except ValidationError as exc:
        raise ServiceError(exc.messages[0], field="complainant_id_number") from exc


@transaction.atomic
def complaint_create(
    *,
    actor,
    channel: str,
    domain: str,
    nature: str,
    title: str,
    content: str,
    complainant_name: str = "",
    complainant_phone: str = "",
    complainant_id_number: str = "",
    consent: bool = False,
    referring_body: str = "",
    reference_number: str = "",
    district=None,
    received_at=None,
    attachments=(),
) -> Complaint:
    """Register a complaint (the office only). Personal data is kept only with the
    complainant's consent; a referred case needs the body that referred it."""
    if actor is not None and not is_office(actor):
        raise PermissionDenied(_("Only the office registers complaints."))
    from rectification.choices import ComplaintDomain

    if channel not in ComplaintChannel.values:
        raise ServiceError(_("Choose the channel."), field="channel")
    if domain not in ComplaintDomain.values:
        raise ServiceError(_("Choose the domain."), field="domain")
    if nature not in ComplaintNature.values:
        raise ServiceError(_("Choose the nature."), field="nature")
    title, content = (title or "").strip(), (content or "").strip()
    if not title:
        raise ServiceError(_("Summarise the complaint."), field="title")
    if not content:
        raise ServiceError(_("Write what the complaint says."), field="content")
    complainant_name = (complainant_name or "").strip()
    complainant_phone = _clean_phone(complainant_phone)
    complainant_id_number = _clean_id_number(complainant_id_number)
    personal_data = bool(complainant_name or complainant_phone or complainant_id_number)
    if personal_data and not consent:
        raise ServiceError(
            _("Record the complainant's consent before keeping their name or phone."),
            field="consent",
        )
    referring_body, reference_number = referring_body.strip(), reference_number.strip()
    if channel in (ComplaintChannel.REFERRAL, ComplaintChannel.HOTLINE) and not referring_body:
        raise ServiceError(_("Name the body that referred the case."), field="referring_body")
    if reference_number and not referring_body:
        raise ServiceError(_("Name the body that referred the case."), field="referring_body")
    if (
        reference_number
        and Complaint.objects.filter(
            referring_body=referring_body, reference_number=reference_number
        ).exists()
    ):
        raise ServiceError(
            _("%(body)s case %(number)s is already registered.")
            % {"body": referring_body, "number": reference_number},
            field="reference_number",
        )
    if district is not None and district.kind != OrgKind.DISTRICT_BUREAU:
        raise ServiceError(_("Choose a district."), field="district")
    now = timezone.now()
    if received_at is not None and received_at > now:
        raise ServiceError(
            _("The complaint cannot be received in the future."), field="received_at"
        )
    files = engine._claim_attachments(actor, attachments)
    complaint = Complaint.objects.create(
        code=_next_code(Complaint, "TS"),
        channel=channel,
        domain=domain,
        nature=nature,
        title=title[:200],
        content=content,
        complainant_name=complainant_name,
        complainant_phone=complainant_phone,
        complainant_id_number=complainant_id_number,
        consent=bool(consent),
        referring_body=referring_body,
        reference_number=reference_number,
        district=district,
        received_at=received_at or now,
        received_by=actor,
    )
    for attachment in files:
        attachment.owner = complaint
        attachment.save(update_fields=["content_type", "object_id"])
    data = {"channel": channel, "nature": nature}
    if files:
        data["attachments"] = [str(f.uuid) for f in files]
    entry = timeline_add(subject=complaint, actor=actor, verb="received", data=data)
    audit_record(
        actor=actor,
        action="complaint.create",
        obj=complaint,
        summary=_("Registered a complaint"),
        # That personal data was recorded, never the data itself.
        changes={
            "channel": channel,
            "domain": domain,
            "nature": nature,
            "personal_data": personal_data,
            "consent": bool(consent),
        },
    )
    queue_timeline(entry)
    return complaint


# --- The steps ------------------------------------------------------------------------------


@transaction.atomic
def complaint_transition(
    *,
    complaint: Complaint,
    actor,
    action: str,
    version: int | None = None,
    note: str = "",
    responsible_unit=None,
    supervising_department=None,
    working_days: int | None = None,
    reply_to: str = "",
    content: str = "",
    satisfaction: str = "",
    into: Complaint | None = None,
) -> Complaint:
    """Every step of a complaint, guarded; a refused step raises and changes nothing."""
    step = STEPS.get(action)
    if step is None:
        raise ServiceError(_("Unknown action."))
    locked = step_lock(Complaint, complaint, actor)
    step_check(
        locked,
        actor,
        step,
        version,
        stale=_(
            "Someone else acted on this complaint a moment ago; it is now “%(state)s”. "
            "Reload and try again."
        ),
        refused=_("A complaint that is “%(state)s” cannot %(action)s."),
    )
    note = (note or "").strip()
    if step.needs_note and not note:
        raise ServiceError(_("Write a note for this step."), field="note")
    now, before, data, verb = timezone.now(), locked.state, {}, action
    target = step.target
    order = order_of(locked)
    if action == "triage":
        data = _triage(locked, actor, note, responsible_unit, supervising_department, working_days)
        locked.triaged_at = now
    elif action == "reply":
        data = _reply(locked, actor, order, reply_to, content, now)
    elif action == "return_visit":
        if satisfaction not in Satisfaction.values:
            raise ServiceError(_("Choose how satisfied the complainant is."), field="satisfaction")
        locked.satisfaction, locked.visited_at = satisfaction, now
        data["satisfaction"] = satisfaction
        if satisfaction == Satisfaction.UNSATISFIED:
            if not note:
                raise ServiceError(
                    _("Write what the complainant is unsatisfied with."), field="note"
                )
            days = days_for(locked.nature)
            engine.rectification_transition(
                rectification=order,
                actor=actor,
                action="reopen",
                note=_("Return visit: the complainant is unsatisfied. %(note)s") % {"note": note},
                working_days=days,
                by_source=True,
            )
            locked.times_reopened += 1
            target, verb = C.REOPENED, "reopen"
            data["working_days"] = days
        else:
            locked.closed_at = now
    elif action == "close":
        locked.closed_at = now
    elif action == "merge":
        data = _merge(locked, actor, order, into, note)
    locked.state = target
    locked.version += 1
    locked.save()
    entry = timeline_add(subject=locked, actor=actor, verb=verb, note=note, data=data)
    audit_record(
        actor=actor,
        action=f"complaint.{verb}",
        obj=locked,
        summary=str(STEP_AUDIT_LABELS.get(verb, step.label)),
        changes={"state": [before, locked.state], **data},
    )
    queue_timeline(entry)
    return locked


def _triage(complaint, actor, note, unit, department, working_days) -> dict:
    if unit is None:
        raise ServiceError(_("Choose the unit or department to handle it."), field="unit")
    if unit.kind == OrgKind.BUREAU:
        raise ServiceError(_("Choose the unit or department to handle it."), field="unit")
    if department is not None and department.kind != OrgKind.DEPARTMENT:
        raise ServiceError(
            _("The supervising department must be a bureau department."),
            field="supervising_department",
        )
    days = working_days or days_for(complaint.nature)
    if days < 1 or days > 250:
        raise ServiceError(_("Give between 1 and 250 working days."), field="working_days")
    if department is None and unit.kind != OrgKind.DEPARTMENT:
        department = unit.supervising_department
    order = engine.rectification_issue(
        actor=actor,
        responsible_unit=unit,
        title=complaint.title,
        requirements=note or complaint.content,
        working_days=days,
        supervising_department=department,
        source_type=SourceType.COMPLAINT,
        complaint=complaint,
        priority="high" if complaint.nature == ComplaintNature.REPORT else None,
    )
    return {
        "unit": unit.pk,
        "order": order.code,
        "working_days": days,
        "deadline": order.deadline.isoformat(),
    }


def _reply(complaint, actor, order, reply_to, content, now) -> dict:
    if order is None or order.state not in REPLY_READY:
        raise ServiceError(
            _("The handling unit has not reported how it handled the case yet."), field="content"
        )
    content = (content or "").strip()
    if not content:
        raise ServiceError(_("Write what the reply said."), field="content")
    if reply_to not in ReplyTarget.values:
        raise ServiceError(_("Choose whom the reply went to."), field="reply_to")
    if reply_to == ReplyTarget.REFERRER and not complaint.referring_body:
        raise ServiceError(_("This case was not referred by another body."), field="reply_to")
    if order.state == S.SUBMITTED:
        # The office checks the unit's report as it answers the public: the order closes.
        engine.rectification_transition(
            rectification=order, actor=actor, action="verify", note=_("Replied to the public.")
        )
    on_time = timezone.localdate(now) <= order.deadline
    if complaint.reply_on_time is None:
        complaint.reply_on_time = on_time
    complaint.reply_to, complaint.reply_content = reply_to, content
    complaint.replied_at, complaint.replied_by = now, actor
    return {"reply_to": reply_to, "on_time": on_time, "deadline": order.deadline.isoformat()}


def _merge(complaint, actor, order, into, note) -> dict:
    if into is None:
        raise ServiceError(_("Choose the case this one repeats."), field="into")
    if into.pk == complaint.pk:
        raise ServiceError(_("A case cannot be merged into itself."), field="into")
    if not Complaint.objects.visible_to(actor).filter(pk=into.pk).exists():
        raise ServiceError(_("Choose the case this one repeats."), field="into")
    into = Complaint.objects.select_for_update().get(pk=into.pk)
    if into.state == C.MERGED:
        raise ServiceError(
            _("%(code)s was itself merged; merge into %(target)s instead.")
            % {"code": into.code, "target": into.merged_into.code if into.merged_into else ""},
            field="into",
        )
    if order is not None and order.state in engine.OPEN_STATES:
        engine.rectification_transition(
            rectification=order,
            actor=actor,
            action="cancel",
            note=_("Merged into %(code)s.") % {"code": into.code},
            by_source=True,
        )
    complaint.merged_into = into
    complaint.closed_at = timezone.now()
    return {"into": into.pk, "into_code": into.code}


STEP_AUDIT_LABELS = {
    "triage": gettext_lazy("Complaint assigned for handling"),
    "reply": gettext_lazy("Complaint replied to"),
    "return_visit": gettext_lazy("Return visit recorded"),
    "reopen": gettext_lazy("Complaint reopened after an unsatisfied return visit"),
    "close": gettext_lazy("Complaint concluded without a return visit"),
    "merge": gettext_lazy("Complaint merged into another case"),
}


# --- Revealing personal data ----------------------------------------------------------------


@transaction.atomic
def complaint_reveal(*, complaint: Complaint, actor, reason: str = "") -> dict:
    """The complainant's name, phone and ID number, unmasked, for someone allowed to see them;
    each reveal is an audit event (who, when, which case, why) — the data itself is not
    copied."""
    visible = Complaint.objects.visible_to(actor).filter(pk=complaint.pk)
    complaint = visible.select_related("order__responsible_unit").first()
    if complaint is None or not can_reveal(actor, complaint):
        raise PermissionDenied(_("Your role does not allow revealing personal data."))
    audit_record(
        actor=actor,
        action="complaint.reveal",
        obj=complaint,
        summary=_("Revealed the complainant's contact details"),
        changes={"reason": (reason or "").strip()[:200]},
    )
    return {
        "name": complaint.complainant_name,
        "phone": complaint.complainant_phone,
        "id_number": complaint.complainant_id_number,
    }


# --- Notifications from the timeline queue --------------------------------------------------


def notify_step(entry, complaint: Complaint):
    """The handling side hears of the reply and of the return visit's outcome; the order's
    own steps (issued, reopened, cancelled) are told by the engine. No personal data."""
    from civilaffairs import notifications as notes
    from civilaffairs.choices import NotificationKind
    from rectification import alerts

    order = order_of(complaint)
    if order is None or entry.verb not in ("reply", "return_visit", "reopen", "close"):
        return
    titles = {
        "reply": _("Complaint %(code)s: the reply was recorded"),
        "return_visit": _("Complaint %(code)s: return visit recorded"),
        "reopen": _("Complaint %(code)s: the complainant is unsatisfied; handle it again"),
        "close": _("Complaint %(code)s: concluded"),
    }
    notes.notify(
        recipients=alerts.unit_side(order),
        kind=NotificationKind.UPDATE,
        title=titles[entry.verb] % {"code": complaint.code},
        body=complaint.title,
        url=complaint_url(complaint),
        subject=complaint,
        unit=order.responsible_unit,
        event_key=f"timeline:{entry.pk}",
        exclude=entry.actor,
    )


def complaint_url(complaint) -> str:
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("rectification:complaint-detail", args=[complaint.pk])
    except NoReverseMatch:
        return ""
