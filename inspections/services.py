"""Inspection workflows: checklists, plans (with their secret draw), visits and findings.

Every write is keyword-only with the acting user, runs in one transaction, locks what it
changes, checks role, scope and state, writes the timeline and the audit trail, and refuses
illegal steps with a ServiceError whose message is shown to the user."""

import math
import random
from datetime import datetime

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from civilaffairs.choices import Role
from civilaffairs.exceptions import Conflict, PermissionDenied, ServiceError
from civilaffairs.idempotency import (
    apply_once,
    payload_digest,
    refuse_different_content,
    replayed,
)
from civilaffairs.models import OrgUnit
from civilaffairs.services import audit_record, timeline_add
from inspections.choices import (
    SECRET_METHODS,
    Disposition,
    FindingSource,
    FindingState,
    Outcome,
    PhotoKind,
    PlanState,
    ScopeMode,
    VisitState,
)
from inspections.models import (
    ChecklistItem,
    ChecklistTemplate,
    Finding,
    InspectionPlan,
    ItemResult,
    Photo,
    Visit,
)
from inspections.querysets import repeat_window_months, shift_months

FAR_CHECKIN_METRES = 500


def _require(actor, *roles, message=None):
    if actor is None:
        return
    if not actor.has_role(*roles):
        raise PermissionDenied(message or _("Your role does not allow this action."))


def _check_version(obj, expected_version):
    if expected_version is not None and int(expected_version) != obj.version:
        raise Conflict(_("Someone else changed this record a moment ago. Reload and try again."))


# --- Checklists ---------------------------------------------------------------------------

ITEM_FIELDS = (
    "bottom_line",
    "cornerstone",
    "category",
    "text",
    "guidance",
    "legal_basis",
    "default_severity",
)


@transaction.atomic
def checklist_create(
    *, actor, code: str, name: str, items: list[dict], description: str = "", institution_types=()
) -> ChecklistTemplate:
    """A new checklist, or — when ``code`` exists — its next version (the old one stays for the
    visits that used it)."""
    _require(actor, Role.SUPERVISOR, Role.OFFICE_HEAD)
    if not items:
        raise ServiceError(_("A checklist needs at least one item."), field="items")
    previous = ChecklistTemplate.objects.select_for_update().filter(code=code)
    latest = previous.aggregate(v=Max("version"))["v"] or 0
    previous.filter(is_current=True).update(is_current=False)
    template = ChecklistTemplate.objects.create(
        code=code,
        version=latest + 1,
        name=name,
        description=description,
        institution_types=list(institution_types),
        created_by=actor,
    )
    ChecklistItem.objects.bulk_create(
        ChecklistItem(
            template=template, position=i, **{k: v for k, v in item.items() if k in ITEM_FIELDS}
        )
        for i, item in enumerate(items, start=1)
    )
    audit_record(
        actor=actor,
        action="checklist.create",
        obj=template,
        summary=_("Saved checklist version %(v)s") % {"v": template.version},
    )
    return template


def templates_for(unit: OrgUnit, templates) -> list[ChecklistTemplate]:
    """The plan's checklists that apply to this kind of unit."""
    return [
        t
        for t in templates
        if not t.institution_types or unit.institution_type in t.institution_types
    ]


# --- Plans --------------------------------------------------------------------------------


def _next_code(model, prefix: str) -> str:
    year = timezone.localdate().year
    # A per-year advisory lock keeps concurrent creators from drawing the same number.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [f"{prefix}{year}"])
    start = f"{prefix}{year}-"
    last = (
        model.objects.filter(code__startswith=start)
        .order_by("-code")
        .values_list("code", flat=True)
        .first()
    )
    number = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{start}{number:04d}"


def draw_targets(*, candidates, count: int, seed: int) -> list[int]:
    """A reproducible draw: the same candidates (by id), count and seed give the same ids."""
    ids = sorted(candidates)
    if count >= len(ids):
        return ids
    return sorted(random.Random(seed).sample(ids, count))  # noqa: S311 - not cryptographic  # nosec B311


@transaction.atomic
def plan_create(
    *,
    actor,
    title: str,
    method: str,
    period_start,
    period_end,
    team=(),
    team_leader=None,
    templates=(),
    targets=(),
    scope_mode=ScopeMode.EXPLICIT,
    institution_types=(),
    districts=(),
    draw_count=None,
    draw_seed=None,
    description: str = "",
    cornerstones=(),
    secret: bool | None = None,
    scheduled_date=None,
) -> InspectionPlan:
    _require(actor, Role.SUPERVISOR, Role.OFFICE_HEAD)
    if period_end < period_start:
        raise ServiceError(_("The period ends before it starts."), field="period_end")
    if not templates:
        raise ServiceError(_("Choose at least one checklist."), field="templates")
    if not team:
        raise ServiceError(_("Choose at least one inspector."), field="team")
    not_inspectors = [u for u in team if not u.has_role(Role.INSPECTOR)]
    if not_inspectors:
        raise ServiceError(
            _("%(names)s cannot be on a team: they are not inspectors.")
            % {"names": "、".join(str(u) for u in not_inspectors)},
            field="team",
        )
    plan = InspectionPlan.objects.create(
        code=_next_code(InspectionPlan, "JC"),
        title=title,
        method=method,
        secret=(method in SECRET_METHODS) if secret is None else secret,
        period_start=period_start,
        period_end=period_end,
        description=description,
        cornerstones=list(cornerstones),
        scope_mode=scope_mode,
        scope_institution_types=list(institution_types),
        draw_count=draw_count,
        draw_seed=draw_seed,
        team_leader=team_leader or team[0],
        created_by=actor,
    )
    plan.team.set(team)
    plan.templates.set(templates)
    plan.scope_districts.set(districts)
    if scope_mode == ScopeMode.DRAW:
        if not draw_count or draw_count < 1:
            raise ServiceError(_("Say how many targets to draw."), field="draw_count")
        pool = OrgUnit.objects.filter(kind="institution", active=True)
        if institution_types:
            pool = pool.filter(institution_type__in=institution_types)
        if districts:
            pool = pool.filter(district__in=districts)
        candidates = list(pool.values_list("pk", flat=True))
        if not candidates:
            raise ServiceError(_("No unit matches the scope of the draw."), field="scope")
        seed = draw_seed if draw_seed is not None else random.SystemRandom().randrange(2**31)
        chosen = draw_targets(candidates=candidates, count=draw_count, seed=seed)
        plan.draw_seed = seed
        plan.draw_record = {
            "candidates": len(candidates),
            "candidate_ids": sorted(candidates),
            "chosen": chosen,
            "seed": seed,
            "drawn_at": timezone.now().isoformat(),
        }
        plan.save(update_fields=["draw_seed", "draw_record"])
        targets = list(OrgUnit.objects.filter(pk__in=chosen))
    if not targets:
        raise ServiceError(_("Choose at least one target."), field="targets")
    template_list = list(plan.templates.all())
    for target in targets:
        visit = Visit.objects.create(
            plan=plan, target=target, scheduled_date=scheduled_date or period_start
        )
        visit.inspectors.set(team)
        visit.templates.set(templates_for(target, template_list) or template_list)
    timeline_add(
        subject=plan, actor=actor, verb="created", data={"targets": len(targets), "method": method}
    )
    audit_record(
        actor=actor,
        action="plan.create",
        obj=plan,
        summary=_("Drafted a plan"),
        changes={"targets": len(targets), "method": method, "secret": plan.secret},
    )
    return plan


PLAN_TRANSITIONS = {
    "submit": ({PlanState.DRAFT}, PlanState.SUBMITTED, (Role.SUPERVISOR, Role.OFFICE_HEAD)),
    "approve": ({PlanState.SUBMITTED}, PlanState.APPROVED, (Role.OFFICE_HEAD,)),
    "return": ({PlanState.SUBMITTED}, PlanState.DRAFT, (Role.OFFICE_HEAD,)),
    "complete": (
        {PlanState.IN_PROGRESS, PlanState.APPROVED},
        PlanState.COMPLETED,
        (Role.SUPERVISOR, Role.OFFICE_HEAD),
    ),
    "cancel": (
        {PlanState.DRAFT, PlanState.SUBMITTED, PlanState.APPROVED},
        PlanState.CANCELLED,
        (Role.SUPERVISOR, Role.OFFICE_HEAD),
    ),
}
PLAN_VERB_LABELS = {
    "submit": _("submitted"),
    "approve": _("approved"),
    "return": _("returned"),
    "complete": _("completed"),
    "cancel": _("cancelled"),
}


@transaction.atomic
def plan_transition(
    *, actor, plan: InspectionPlan, action: str, note: str = "", version=None
) -> InspectionPlan:
    if action not in PLAN_TRANSITIONS:
        raise ServiceError(_("Unknown action."))
    sources, target, roles = PLAN_TRANSITIONS[action]
    _require(actor, *roles)
    plan = InspectionPlan.objects.select_for_update().get(pk=plan.pk)
    if (
        actor is not None
        and not InspectionPlan.objects.visible_to(actor).filter(pk=plan.pk).exists()
    ):
        raise PermissionDenied(_("Your role does not allow this action."))
    _check_version(plan, version)
    if plan.state not in sources:
        raise ServiceError(
            _("A plan that is “%(state)s” cannot be %(action)s.")
            % {"state": plan.get_state_display(), "action": PLAN_VERB_LABELS[action]}
        )
    if action == "return" and not note.strip():
        raise ServiceError(_("Say why the plan is returned."), field="note")
    if action == "approve":
        plan.approved_by, plan.approved_at = actor, timezone.now()
    if action == "cancel":
        plan.visits.filter(state=VisitState.PLANNED).update(state=VisitState.CANCELLED)
    before = plan.state
    plan.state = target
    plan.version += 1
    plan.save()
    timeline_add(subject=plan, actor=actor, verb=action, note=note)
    audit_record(
        actor=actor,
        action=f"plan.{action}",
        obj=plan,
        summary=str(PLAN_VERB_LABELS[action]),
        changes={"state": [before, target]},
    )
    return plan


# --- Visits -------------------------------------------------------------------------------


def _lock_visit_for(actor, visit: Visit) -> Visit:
    visit = Visit.objects.select_for_update().select_related("plan", "target").get(pk=visit.pk)
    if actor is not None and not visit.inspectors.filter(pk=actor.pk).exists():
        raise PermissionDenied(_("Only the inspectors assigned to this visit can record it."))
    return visit


def distance_metres(lat1, lng1, lat2, lng2) -> float:
    """Great-circle distance (haversine), metres."""
    lat1, lng1, lat2, lng2 = (math.radians(float(v)) for v in (lat1, lng1, lat2, lng2))
    a = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lng2 - lng1) / 2) ** 2
    )
    return 2 * 6_371_000 * math.asin(math.sqrt(a))


@transaction.atomic
def visit_checkin(
    *,
    actor,
    visit: Visit,
    latitude,
    longitude,
    accuracy=None,
    at: datetime | None = None,
    client_uuid=None,
) -> Visit:
    payload = {
        "visit": visit.pk,
        "lat": str(latitude),
        "lng": str(longitude),
        "acc": accuracy,
        "at": at.isoformat() if at else None,
    }
    visit = _lock_visit_for(actor, visit)
    if client_uuid and visit.client_uuid:
        if str(visit.client_uuid) != str(client_uuid):
            raise Conflict(_("This visit was already checked in from another device."))
        if visit.client_digest != payload_digest(payload):
            refuse_different_content()
        return visit  # the same check-in, sent again
    if visit.state != VisitState.PLANNED:
        raise ServiceError(_("This visit has already started or is closed."))
    if visit.plan.state not in (PlanState.APPROVED, PlanState.IN_PROGRESS):
        raise ServiceError(_("The plan is not approved yet."))
    try:
        lat, lng = float(latitude), float(longitude)
    except (TypeError, ValueError) as exc:
        raise ServiceError(_("The GPS position is not valid."), field="latitude") from exc
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise ServiceError(_("The GPS position is not valid."), field="latitude")
    now = timezone.now()
    at = at or now
    if at > now + timezone.timedelta(minutes=10):
        raise ServiceError(_("The check-in time is in the future."), field="at")
    visit.state = VisitState.IN_PROGRESS
    visit.started_at, visit.started_by = at, actor
    visit.checkin_latitude, visit.checkin_longitude = round(lat, 6), round(lng, 6)
    visit.checkin_accuracy_m = accuracy
    if visit.target.latitude is not None:
        visit.checkin_distance_m = round(
            distance_metres(lat, lng, visit.target.latitude, visit.target.longitude), 1
        )
        visit.checkin_far = visit.checkin_distance_m > FAR_CHECKIN_METRES + float(accuracy or 0)
    visit.client_uuid = client_uuid
    visit.client_digest = payload_digest(payload) if client_uuid else ""
    visit.version += 1
    visit.save()
    if visit.plan.state == PlanState.APPROVED:
        InspectionPlan.objects.filter(pk=visit.plan_id).update(state=PlanState.IN_PROGRESS)
    timeline_add(
        subject=visit,
        actor=actor,
        verb="checkin",
        data={"distance_m": visit.checkin_distance_m, "far": visit.checkin_far},
    )
    audit_record(actor=actor, action="visit.checkin", obj=visit, summary=_("Checked in"))
    return visit


def _editable_visit(actor, visit):
    visit = _lock_visit_for(actor, visit)
    if visit.state != VisitState.IN_PROGRESS:
        raise ServiceError(
            _(
                "The visit is not in progress: check in first, and nothing can be "
                "changed after it is submitted."
            )
        )
    return visit


@transaction.atomic
def result_record(
    *, actor, visit: Visit, item: ChecklistItem, outcome: str, note: str = "", client_uuid=None
) -> tuple[ItemResult, bool]:
    """Record (or, with a new client UUID, change) what one item showed. Returns (result,
    created)."""
    if outcome not in Outcome.values:
        raise ServiceError(_("Choose pass, fail or not applicable."), field="outcome")
    digest = payload_digest({"visit": visit.pk, "item": item.pk, "outcome": outcome, "note": note})
    existing = replayed(ItemResult, client_uuid, digest)
    if existing is not None:
        return existing, False
    visit = _editable_visit(actor, visit)
    if not visit.templates.filter(pk=item.template_id).exists():
        raise ServiceError(_("This item is not on the visit's checklists."), field="item")

    def create():
        result, _created = ItemResult.objects.update_or_create(
            visit=visit,
            item=item,
            defaults={
                "outcome": outcome,
                "note": note,
                "recorded_by": actor,
                "client_uuid": client_uuid,
                "client_digest": digest,
            },
        )
        return result

    if client_uuid:
        return apply_once(model=ItemResult, client_uuid=client_uuid, digest=digest, create=create)
    return create(), True


FINDING_FIELDS = (
    "bottom_line",
    "cornerstones",
    "category",
    "severity",
    "title",
    "description",
    "location",
    "disposition",
    "transferred_to",
    "fix_note",
)


def _validate_finding(finding: Finding):
    from django.core.exceptions import ValidationError

    if not finding.title.strip():
        raise ServiceError(_("Describe the problem in a few words."), field="title")
    try:
        finding.full_clean(
            exclude=[
                "visit",
                "item_result",
                "target",
                "found_by",
                "code",
                "client_uuid",
                "client_digest",
                "transferred_to",
            ],
            validate_unique=False,
            validate_constraints=False,
        )
    except ValidationError as exc:
        raise ServiceError(
            "；".join(m for msgs in exc.message_dict.values() for m in msgs)
        ) from exc
    if finding.disposition == Disposition.TRANSFERRED:
        if finding.transferred_to is None or finding.transferred_to.kind != "department":
            raise ServiceError(
                _("Choose the department the problem is transferred to."), field="transferred_to"
            )
    elif finding.transferred_to is not None:
        finding.transferred_to = None


@transaction.atomic
def finding_create(
    *,
    actor,
    visit: Visit,
    item: ChecklistItem | None = None,
    found_at=None,
    client_uuid=None,
    **fields,
) -> tuple[Finding, bool]:
    """A problem seen on a visit. It stays a draft, seen only by the team, until the visit is
    submitted. Returns (finding, created)."""
    unknown = set(fields) - set(FINDING_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    payload = {
        "visit": visit.pk,
        "item": item.pk if item else None,
        "found_at": found_at.isoformat() if found_at else None,
        **{k: (v.pk if hasattr(v, "pk") else v) for k, v in fields.items()},
    }
    digest = payload_digest(payload)
    existing = replayed(Finding, client_uuid, digest)
    if existing is not None:
        return existing, False
    visit = _editable_visit(actor, visit)
    result = None
    if item is not None:
        result = ItemResult.objects.filter(visit=visit, item=item).first()
        fields.setdefault("bottom_line", item.bottom_line)
        fields.setdefault("category", item.category)
        fields.setdefault("severity", item.default_severity)
    finding = Finding(
        visit=visit,
        item_result=result,
        target=visit.target,
        source=FindingSource.CHECKLIST if item else FindingSource.ADHOC,
        found_at=found_at or timezone.now(),
        found_by=actor,
        client_uuid=client_uuid,
        client_digest=digest if client_uuid else "",
        **fields,
    )
    _validate_finding(finding)
    finding.repeat_of = Finding.objects.previous_occurrence(finding)

    def create():
        finding.save()
        timeline_add(
            subject=finding, actor=actor, verb="recorded", data=_repeat_data(finding.repeat_of)
        )
        return finding

    if client_uuid:
        return apply_once(model=Finding, client_uuid=client_uuid, digest=digest, create=create)
    return create(), True


@transaction.atomic
def photo_add(
    *,
    actor,
    visit: Visit,
    upload,
    finding: Finding | None = None,
    item: ChecklistItem | None = None,
    kind: str = PhotoKind.EVIDENCE,
    captured_at=None,
    latitude=None,
    longitude=None,
    caption: str = "",
    client_uuid=None,
) -> tuple[Photo, bool]:
    from django.core.files.base import ContentFile

    from civilaffairs.files import hash_file
    from inspections.photos import process_photo

    upload_sha = hash_file(upload)
    digest = payload_digest(
        {
            "visit": visit.pk,
            "finding": finding.pk if finding else None,
            "item": item.pk if item else None,
            "kind": kind,
            "sha256": upload_sha,
        }
    )
    existing = replayed(Photo, client_uuid, digest)
    if existing is not None:
        return existing, False
    if kind not in PhotoKind.values:
        raise ServiceError(_("Unknown photo kind."), field="kind")
    visit = _editable_visit(actor, visit)
    if finding is not None and finding.visit_id != visit.pk:
        raise ServiceError(_("The finding belongs to another visit."), field="finding")
    processed = process_photo(upload)
    result = ItemResult.objects.filter(visit=visit, item=item).first() if item else None
    photo = Photo(
        visit=visit,
        finding=finding,
        item_result=result,
        kind=kind,
        sha256=processed.sha256,
        original_sha256=processed.original_sha256,
        original_type=processed.original_type,
        width=processed.width,
        height=processed.height,
        size=len(processed.image),
        captured_at=processed.captured_at or captured_at,
        latitude=processed.latitude if processed.latitude is not None else latitude,
        longitude=processed.longitude if processed.longitude is not None else longitude,
        caption=caption,
        uploaded_by=actor,
        client_uuid=client_uuid,
        client_digest=digest if client_uuid else "",
    )
    stamp = timezone.now()
    base = f"photos/{stamp:%Y/%m}/{processed.sha256[:2]}/{photo.uuid}"

    def create():
        photo.file.save(f"{base}.jpg", ContentFile(processed.image), save=False)
        photo.thumbnail.save(f"{base}-thumb.jpg", ContentFile(processed.thumbnail), save=False)
        photo.save()
        return photo

    if client_uuid:
        return apply_once(model=Photo, client_uuid=client_uuid, digest=digest, create=create)
    return create(), True


@transaction.atomic
def visit_submit(*, actor, visit: Visit, summary: str = "", client_uuid=None) -> Visit:
    """File the visit: every item answered, each failed item has a finding (made from the item
    when the inspector added none), every finding disposed. The findings are filed with it."""
    visit = _lock_visit_for(actor, visit)
    digest = payload_digest({"visit": visit.pk, "summary": summary})
    if visit.state == VisitState.SUBMITTED:
        if client_uuid and str(visit.submit_client_uuid) == str(client_uuid):
            if visit.submit_digest != digest:
                refuse_different_content()
            return visit  # the same submission, sent again
        raise ServiceError(_("This visit has already been submitted."))
    if visit.state != VisitState.IN_PROGRESS:
        raise ServiceError(_("Check in before submitting the visit."))
    items = ChecklistItem.objects.filter(template__in=visit.templates.all())
    answered = dict(ItemResult.objects.filter(visit=visit).values_list("item_id", "outcome"))
    missing = [i for i in items if i.pk not in answered]
    if missing:
        raise ServiceError(
            _("%(count)s checklist items have no result yet, for example: %(item)s")
            % {"count": len(missing), "item": missing[0].text}
        )
    findings = list(visit.findings.select_for_update())
    with_findings = {f.item_result_id for f in findings}
    now = timezone.now()
    for result in ItemResult.objects.filter(visit=visit, outcome=Outcome.FAIL).select_related(
        "item"
    ):
        if result.pk in with_findings:
            continue
        findings.append(
            Finding.objects.create(
                visit=visit,
                item_result=result,
                target=visit.target,
                source=FindingSource.CHECKLIST,
                bottom_line=result.item.bottom_line,
                category=result.item.category,
                severity=result.item.default_severity,
                title=result.item.text[:200],
                description=result.note,
                found_at=now,
                found_by=actor,
                disposition=Disposition.RECTIFY_BY_DEADLINE,
            )
        )
    for finding in findings:
        if not finding.disposition:
            raise ServiceError(
                _("Say what is to be done about “%(title)s”.") % {"title": finding.title}
            )
        if (
            finding.disposition == Disposition.FIXED_ON_SITE
            and not finding.photos.filter(kind=PhotoKind.AFTER).exists()
        ):
            raise ServiceError(
                _("“%(title)s” was fixed on site: add a photo after the fix.")
                % {"title": finding.title}
            )
    for finding in findings:
        finding.code = _next_code(Finding, "WT")
        finding.filed_at = now
        finding.state = {
            Disposition.FIXED_ON_SITE: FindingState.CLOSED,
            Disposition.TRANSFERRED: FindingState.TRANSFERRED,
        }.get(finding.disposition, FindingState.OPEN)
        if finding.state == FindingState.CLOSED:
            finding.closed_at = now
        finding.save()
    # Now on record: link them (and later findings at the unit) to what they repeat.
    links = {}
    for category in {f.category for f in findings}:
        since = min(f.found_at for f in findings if f.category == category)
        repeats_relink(target_id=visit.target_id, category=category, since=since)
    if findings:
        links = dict(
            Finding.objects.filter(pk__in=[f.pk for f in findings]).values_list(
                "pk", "repeat_of__code"
            )
        )
    for finding in findings:
        data = {"disposition": finding.disposition}
        if links.get(finding.pk):
            data["repeat_of"] = links[finding.pk]
        timeline_add(subject=finding, actor=actor, verb="filed", data=data)
    visit.state = VisitState.SUBMITTED
    visit.summary = summary
    visit.submitted_at, visit.submitted_by = now, actor
    if client_uuid:
        visit.submit_client_uuid, visit.submit_digest = client_uuid, digest
    visit.version += 1
    visit.save()
    timeline_add(subject=visit, actor=actor, verb="submitted", data={"findings": len(findings)})
    audit_record(
        actor=actor,
        action="visit.submit",
        obj=visit,
        summary=_("Submitted a visit"),
        changes={"findings": len(findings)},
    )
    # robust: a failing listener (say, issuing orders) is logged and must not turn a filed
    # visit into an error on the phone; issuing is idempotent and can be run again.
    transaction.on_commit(lambda: _after_visit_filed(visit.pk), robust=True)
    return visit


# Hooks for other apps (rectification orders for filed findings) — replaced at import time by
# the rectification app; kept as a list so several apps can listen.
VISIT_FILED_HOOKS: list = []


def _after_visit_filed(visit_id: int):
    for hook in VISIT_FILED_HOOKS:
        hook(visit_id)


@transaction.atomic
def visit_amend(*, actor, visit: Visit, note: str) -> Visit:
    """A correction to a submitted visit: recorded on its timeline, history untouched."""
    visit = Visit.objects.select_for_update().get(pk=visit.pk)
    if visit.state != VisitState.SUBMITTED:
        raise ServiceError(_("Only a submitted visit is amended; edit it directly until then."))
    if not (actor.is_office or visit.inspectors.filter(pk=actor.pk).exists()):
        raise PermissionDenied(_("Your role does not allow this action."))
    if not note.strip():
        raise ServiceError(_("Write the correction."), field="note")
    timeline_add(subject=visit, actor=actor, verb="amended", note=note)
    audit_record(actor=actor, action="visit.amend", obj=visit, summary=_("Amended a visit"))
    return visit


@transaction.atomic
def finding_amend(*, actor, finding: Finding, reason: str, version=None, **fields) -> Finding:
    """Correct a filed finding: the change and its reason go on the timeline."""
    _require(actor, Role.SUPERVISOR, Role.OFFICE_HEAD)
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    _check_version(finding, version)
    if finding.state == FindingState.DRAFT:
        raise ServiceError(_("A draft finding is edited on its visit, not amended."))
    if not reason.strip():
        raise ServiceError(_("Say why the finding is corrected."), field="reason")
    allowed = {
        "bottom_line",
        "cornerstones",
        "category",
        "severity",
        "title",
        "description",
        "location",
    }
    changes = {}
    for name, value in fields.items():
        if name not in allowed:
            raise ServiceError(_("Unknown fields: %(fields)s") % {"fields": name})
        if getattr(finding, name) != value:
            changes[name] = [getattr(finding, name), value]
            setattr(finding, name, value)
    if not changes:
        raise ServiceError(_("Nothing was changed."))
    _validate_finding(finding)
    finding.version += 1
    finding.save()
    timeline_add(subject=finding, actor=actor, verb="amended", note=reason, data=changes)
    audit_changes = dict(changes)
    if "category" in changes:
        # Another category: this finding repeats something else (or nothing), and later
        # findings of either category may have repeated this one.
        before = finding.repeat_of.code if finding.repeat_of_id else ""
        for category in changes["category"]:
            repeats_relink(target_id=finding.target_id, category=category, since=finding.found_at)
        finding.refresh_from_db(fields=["repeat_of"])
        after = finding.repeat_of.code if finding.repeat_of_id else ""
        if before != after:
            audit_changes["repeat_of"] = [before, after]
    audit_record(
        actor=actor, action="finding.amend", obj=finding, summary=reason, changes=audit_changes
    )
    return finding


# --- Repeat problems ------------------------------------------------------------------------


def _repeat_data(repeat_of) -> dict:
    """Timeline data naming the finding this one repeats."""
    return {"repeat_of": repeat_of.code} if repeat_of is not None else {}


def repeat_links(rows, months: int) -> dict:
    """What each finding repeats, for the findings of one unit and category.

    ``rows`` are ``(pk, visit_id, filed, found_at)`` ordered by (found_at, pk). The same rule
    as FindingQuerySet.previous_occurrence: the most recent earlier filed finding within
    ``months``, on another visit. Returns {pk: repeated pk or None}."""
    links = {}
    earlier = []
    for pk, visit_id, filed, found_at in rows:
        start = shift_months(found_at, -months)
        link = None
        for other_pk, other_visit, other_found in reversed(earlier):
            if other_found < start:
                break
            if visit_id is None or other_visit != visit_id:
                link = other_pk
                break
        links[pk] = link
        if filed:
            earlier.append((pk, visit_id, found_at))
    return links


def repeats_relink(*, target_id: int, category: str, since) -> dict:
    """Recompute ``repeat_of`` for the findings at a unit in a category found at or after
    ``since`` (after one of them was filed, or a category changed). Returns {pk: (old, new)}
    for the links that changed. Runs inside the caller's transaction."""
    from django.db import connection

    with connection.cursor() as cursor:
        # Two visits to the same unit filed at once must not interleave their relinking.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext(%s))", [f"repeat:{target_id}:{category}"]
        )
    months = repeat_window_months()
    rows = list(
        Finding.objects.filter(
            target_id=target_id,
            category=category,
            found_at__gte=shift_months(since, -months),
        )
        .order_by("found_at", "pk")
        .values_list("pk", "visit_id", "state", "found_at", "repeat_of_id")
    )
    links = repeat_links(
        [(pk, visit_id, state != FindingState.DRAFT, at) for pk, visit_id, state, at, _ in rows],
        months,
    )
    changed = {
        pk: (current, links[pk])
        for pk, _visit, _state, found_at, current in rows
        if found_at >= since and links[pk] != current
    }
    by_target: dict = {}
    for pk, (_old, new) in changed.items():
        by_target.setdefault(new, []).append(pk)
    for new, pks in by_target.items():
        Finding.objects.filter(pk__in=pks).update(repeat_of_id=new)
    return changed
