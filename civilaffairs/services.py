"""Writes of the shared foundation: the audit trail, the org tree, users and their roles.

Each service is keyword-only, takes the acting user, runs in one transaction, refuses what the
rules forbid with a user-facing ServiceError, and writes its audit event in that transaction.
"""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils.translation import gettext as _

from civilaffairs import context
from civilaffairs.choices import OFFICE_ROLES, ROLE_FAMILY, Role
from civilaffairs.crypto import normalize_id_number
from civilaffairs.exceptions import Conflict, PermissionDenied, ServiceError
from civilaffairs.models import AuditEvent, OrgUnit, RoleAssignment, User
from civilaffairs.models.org import PATH_STEP


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "pk"):
        return value.pk
    return str(value)


def audit_record(*, actor, action: str, obj=None, summary: str = "", changes=None) -> AuditEvent:
    """Append one event to the audit trail (inside the caller's transaction)."""
    ctx = context.current()
    actor = actor if getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_name=(actor.real_name or actor.username)[:100] if actor else _("system"),
        action=action,
        object_type=obj._meta.label_lower if obj is not None else "",
        object_id=str(obj.pk) if obj is not None else "",
        object_repr=str(obj)[:200] if obj is not None else "",
        summary=str(summary)[:500],
        changes=_jsonable(changes or {}),
        ip=ctx.ip,
        user_agent=ctx.user_agent,
    )


def _require_sysadmin(actor):
    # actor=None is the system itself (migrations, demo loader, imports run by a command).
    if actor is not None and not actor.is_sysadmin:
        raise PermissionDenied(_("Only a system administrator may manage the org directory."))


# --- Org tree -----------------------------------------------------------------------------

ORG_FIELDS = (
    "name",
    "short_name",
    "code",
    "kind",
    "institution_type",
    "supervising_department",
    "address",
    "latitude",
    "longitude",
    "contact_name",
    "contact_phone",
    "contact_id_number",
    "head",
    "capacity",
    "active",
)


# Personal data never enters the audit trail: that it was recorded or changed is enough.
PERSONAL_FIELDS = frozenset({"contact_name", "contact_phone", "contact_id_number", "phone"})


def audit_created(name: str, value):
    """A new object's field as the audit trail records it."""
    if name in PERSONAL_FIELDS:
        return "recorded" if value else ""
    return value


def audit_changed(name: str, before, after):
    """A changed field as the audit trail records it: [before, after], or "changed"."""
    return "changed" if name in PERSONAL_FIELDS else [before, after]


def _validate_unit(unit: OrgUnit):
    unit.contact_id_number = normalize_id_number(unit.contact_id_number)
    if unit.contact_id_number and not unit.is_household:
        raise ServiceError(
            _("Only a low-income household's contact has an ID number recorded."),
            field="contact_id_number",
        )
    try:
        unit.full_clean(exclude=["path", "district", "parent"], validate_unique=False)
    except ValidationError as exc:
        raise ServiceError(
            "；".join(f"{m}" for msgs in exc.message_dict.values() for m in msgs)
        ) from exc
    if unit.kind == "institution" and not unit.institution_type:
        raise ServiceError(_("An institution needs an institution type."), field="institution_type")
    if unit.kind != "institution" and unit.institution_type:
        raise ServiceError(
            _("Only institutions have an institution type."), field="institution_type"
        )
    if unit.kind == "bureau" and unit.parent_id:
        raise ServiceError(_("The municipal bureau is the root of the tree."), field="parent")
    if unit.kind != "bureau" and not unit.parent_id:
        raise ServiceError(_("Every unit but the bureau needs a parent unit."), field="parent")


def _place(unit: OrgUnit, parent: OrgUnit | None):
    unit.parent = parent
    unit.path = (parent.path if parent else "") + str(unit.pk).zfill(PATH_STEP)
    unit.depth = parent.depth + 1 if parent else 0
    if unit.kind == "district_bureau":
        unit.district_id = unit.pk
    else:
        unit.district_id = parent.district_id if parent else None


@transaction.atomic
def orgunit_create(*, actor, parent: OrgUnit | None, **fields) -> OrgUnit:
    _require_sysadmin(actor)
    unknown = set(fields) - set(ORG_FIELDS)
    if unknown:
        raise ServiceError(_("Unknown fields: %(fields)s") % {"fields": ", ".join(sorted(unknown))})
    if parent is not None:
        parent = OrgUnit.objects.select_for_update().get(pk=parent.pk)
    unit = OrgUnit(parent=parent, path="", **fields)
    _validate_unit(unit)
    if OrgUnit.objects.filter(code=unit.code).exists():
        raise ServiceError(
            _("The code %(code)s is already used.") % {"code": unit.code}, field="code"
        )
    unit.save()
    _place(unit, parent)
    unit.save(update_fields=["path", "depth", "district"])
    audit_record(
        actor=actor,
        action="orgunit.create",
        obj=unit,
        summary=_("Created org unit"),
        changes={f: audit_created(f, getattr(unit, f)) for f in ORG_FIELDS} | {"parent": parent},
    )
    return unit


@transaction.atomic
def orgunit_update(*, actor, unit: OrgUnit, parent: OrgUnit | None = None, **fields) -> OrgUnit:
    """Change a unit's fields and, with ``parent``, move it (and its subtree) in the tree."""
    _require_sysadmin(actor)
    unit = OrgUnit.objects.select_for_update().get(pk=unit.pk)
    before = {f: getattr(unit, f) for f in ORG_FIELDS}
    old_parent_id = unit.parent_id
    for name, value in fields.items():
        if name not in ORG_FIELDS:
            raise ServiceError(_("Unknown fields: %(fields)s") % {"fields": name})
        setattr(unit, name, value)
    moved = parent is not None and parent.pk != unit.parent_id
    if moved:
        if parent.path.startswith(unit.path):
            raise ServiceError(_("A unit cannot be moved under itself."), field="parent")
        unit.parent = parent
    _validate_unit(unit)
    if OrgUnit.objects.filter(code=unit.code).exclude(pk=unit.pk).exists():
        raise ServiceError(
            _("The code %(code)s is already used.") % {"code": unit.code}, field="code"
        )
    changes = {
        f: audit_changed(f, before[f], getattr(unit, f))
        for f in ORG_FIELDS
        if before[f] != getattr(unit, f)
    }
    if moved:
        old_path, old_depth = unit.path, unit.depth
        _place(unit, parent)
        descendants = OrgUnit.objects.filter(path__startswith=old_path).exclude(pk=unit.pk)
        descendants.update(
            path=Concat(Value(unit.path), Substr(F("path"), len(old_path) + 1)),
            depth=F("depth") - old_depth + unit.depth,
        )
        unit.save()
        _refresh_districts(unit)
        changes["parent"] = [old_parent_id, parent.pk]
    unit.save()
    if changes:
        audit_record(
            actor=actor,
            action="orgunit.update",
            obj=unit,
            summary=_("Changed org unit"),
            changes=changes,
        )
    return unit


def _refresh_districts(unit: OrgUnit):
    """After a move, every unit of the subtree takes the district of its nearest district
    bureau ancestor (or itself)."""
    subtree = list(OrgUnit.objects.filter(path__startswith=unit.path).order_by("depth"))
    by_id = {u.pk: u for u in subtree}
    for u in subtree:
        if u.kind == "district_bureau":
            u.district_id = u.pk
        elif u.pk == unit.pk:
            u.district_id = unit.district_id
        else:
            u.district_id = by_id[u.parent_id].district_id
    OrgUnit.objects.bulk_update(subtree, ["district"])


# --- Users and roles ----------------------------------------------------------------------

USER_FIELDS = ("real_name", "phone", "org_unit", "title", "email", "is_active")


@transaction.atomic
def user_create(
    *, actor, username: str, real_name: str, password: str | None = None, roles=(), **fields
) -> User:
    _require_sysadmin(actor)
    if User.objects.filter(username__iexact=username).exists():
        raise ServiceError(
            _("The username %(name)s is taken.") % {"name": username}, field="username"
        )
    user = User(username=username, real_name=real_name, **fields)
    if password:
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ServiceError("；".join(exc.messages), field="password") from exc
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    audit_record(
        actor=actor,
        action="user.create",
        obj=user,
        summary=_("Created user"),
        changes={f: audit_created(f, getattr(user, f, None)) for f in USER_FIELDS},
    )
    for role, scope in roles:
        role_grant(actor=actor, user=user, role=role, scope=scope)
    return user


def lock_active_sysadmins() -> set[int]:
    """The active system administrators, their rows locked (always in this order, before any
    other user row, so concurrent changes queue instead of deadlocking)."""
    return set(
        User.objects.select_for_update(of=("self",))
        .filter(is_active=True, roles__role=Role.SYSADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def is_last_active_sysadmin(user: User) -> bool:
    """Whether ``user`` is the only active system administrator (call inside a transaction).
    Nobody could enable an account or grant a role again without one."""
    return lock_active_sysadmins() == {user.pk}


def _refuse_last_sysadmin(user: User):
    if is_last_active_sysadmin(user):
        raise ServiceError(
            _("%(name)s is the last active system administrator and must stay one.")
            % {"name": user},
            code="last_sysadmin",
        )


@transaction.atomic
def user_update(*, actor, user: User, **fields) -> User:
    """Change a user. Disabling an account (is_active=False) also ends all its sessions on the
    server and deletes its API tokens, so that re-enabling it later does not revive them."""
    _require_sysadmin(actor)
    disabling = fields.get("is_active") is False
    if disabling:
        _refuse_last_sysadmin(user)
    user = User.objects.select_for_update().get(pk=user.pk)
    changes = {}
    for name, value in fields.items():
        if name not in USER_FIELDS:
            raise ServiceError(_("Unknown fields: %(fields)s") % {"fields": name})
        if getattr(user, name) != value:
            # Personal data is not copied into the trail; that it changed is enough.
            changes[name] = audit_changed(name, getattr(user, name), value)
            setattr(user, name, value)
    user.save()
    if changes:
        audit_record(
            actor=actor, action="user.update", obj=user, summary=_("Changed user"), changes=changes
        )
    if disabling:
        user_access_end_recorded(actor=actor, user=user)
    return user


def user_access_end_recorded(*, actor, user: User) -> dict:
    """End the disabled ``user``'s sessions and API tokens, with its audit event (inside the
    caller's transaction)."""
    from civilaffairs.session_security import user_access_end

    ended = user_access_end(user)
    audit_record(
        actor=actor,
        action="user.sessions_end",
        obj=user,
        summary=_("Ended the sessions and API tokens of a disabled account"),
        changes=ended,
    )
    return ended


def _root() -> OrgUnit | None:
    return OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()


@transaction.atomic
def role_grant(*, actor, user: User, role: str, scope: OrgUnit | None = None) -> RoleAssignment:
    """Give ``user`` a role. Sysadmin, auditor and business roles exclude each other (三权分立);
    office roles default to the whole city; liaison, department and leader need a scope."""
    _require_sysadmin(actor)
    if role not in Role.values:
        raise ServiceError(_("Unknown role."), field="role")
    role = Role(role)
    user = User.objects.select_for_update().get(pk=user.pk)
    families = {ROLE_FAMILY[Role(r)] for r in user.roles.values_list("role", flat=True)}
    if families and families != {ROLE_FAMILY[role]}:
        raise ServiceError(
            _(
                "System administrator, auditor and business roles exclude each other; "
                "this user already holds a role of another kind."
            ),
            field="role",
        )
    if role in (Role.SYSADMIN, Role.AUDITOR):
        scope = None
    elif scope is None:
        if role in OFFICE_ROLES or role == Role.LEADER:
            scope = _root()
        if scope is None:
            raise ServiceError(_("This role needs a scope in the org tree."), field="scope")
    if RoleAssignment.objects.filter(user=user, role=role, scope=scope).exists():
        raise ServiceError(_("The user already holds this role over this scope."), field="role")
    assignment = RoleAssignment.objects.create(user=user, role=role, scope=scope, granted_by=actor)
    if role == Role.SYSADMIN and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    audit_record(
        actor=actor,
        action="role.grant",
        obj=user,
        summary=_("Granted role %(role)s") % {"role": role.label},
        changes={"role": role.value, "scope": scope.pk if scope else None},
    )
    user.refresh_roles()
    return assignment


@transaction.atomic
def role_revoke(*, actor, assignment: RoleAssignment) -> None:
    _require_sysadmin(actor)
    if assignment.role == Role.SYSADMIN:
        _refuse_last_sysadmin(assignment.user)
    user = User.objects.select_for_update().get(pk=assignment.user_id)
    assignment.delete()
    if assignment.role == Role.SYSADMIN:
        user.is_staff = False
        user.save(update_fields=["is_staff"])
    audit_record(
        actor=actor,
        action="role.revoke",
        obj=user,
        summary=_("Revoked role %(role)s") % {"role": Role(assignment.role).label},
        changes={"role": assignment.role, "scope": assignment.scope_id},
    )


__all__ = [
    "audit_record",
    "is_last_active_sysadmin",
    "orgunit_create",
    "orgunit_update",
    "role_grant",
    "role_revoke",
    "user_access_end_recorded",
    "user_create",
    "user_update",
]


# --- Timelines ----------------------------------------------------------------------------


def timeline_add(*, subject, actor, verb: str, note: str = "", data=None):
    """Append a step to ``subject``'s timeline (inside the caller's transaction)."""
    from django.contrib.contenttypes.models import ContentType

    from civilaffairs.models import TimelineEntry

    return TimelineEntry.objects.create(
        content_type=ContentType.objects.get_for_model(type(subject)),
        object_id=subject.pk,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        verb=verb,
        note=note,
        data=_jsonable(data or {}),
    )


def timeline_of(subject):
    from django.contrib.contenttypes.models import ContentType

    from civilaffairs.models import TimelineEntry

    return TimelineEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(type(subject)), object_id=subject.pk
    ).select_related("actor")


# --- Workflow steps -------------------------------------------------------------------------


def step_lock(model, obj, actor):
    """The object's row locked for a workflow step, if the actor may see it at all."""
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if not model.objects.visible_to(actor).filter(pk=locked.pk).exists():
        raise PermissionDenied(_("Your role does not allow this action."))
    return locked


def step_check(locked, actor, step, version, *, stale: str, refused: str):
    """The guard every workflow step shares: the version the actor saw (a stale or unreadable
    one is a conflict), the states the step starts from, and the actor's role and scope.
    ``stale`` and ``refused`` are the translated messages, with ``%(state)s`` (and
    ``%(action)s`` in ``refused``)."""
    state = locked.get_state_display()
    if version is not None:
        try:
            seen = int(version)
        except (TypeError, ValueError):
            seen = None
        if seen != locked.version:
            raise Conflict(stale % {"state": state})
    if locked.state not in step.sources:
        raise ServiceError(refused % {"state": state, "action": step.label})
    if not step.allowed(actor, locked):
        raise PermissionDenied(_("Your role does not allow this action."))
