"""Importers of the foundation: the org tree (units and institutions) and users with their
roles. Both are for system administrators and write through civilaffairs.services."""

import re
from graphlib import CycleError, TopologicalSorter

from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.validators import EmailValidator
from django.db.models import Prefetch
from django.db.models.functions import Lower
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from civilaffairs import imports
from civilaffairs.choices import OFFICE_ROLES, ROLE_FAMILY, InstitutionType, OrgKind, Role
from civilaffairs.imports import Change, Column, RowAction, RowError, RowProblem
from civilaffairs.models import OrgUnit, RoleAssignment, User
from civilaffairs.services import (
    PERSONAL_FIELDS,
    orgunit_create,
    orgunit_update,
    role_grant,
    role_revoke,
    user_create,
    user_update,
)
from civilaffairs.validators import validate_id_number


def _phone(value: str):
    if not re.fullmatch(r"[0-9+\-() ]{3,20}", value):
        raise imports.CellError(_("Enter a phone number (digits, at most 20 characters)."))


# --- Org units ----------------------------------------------------------------------------

# Fields of a unit, as the org services take them, with their column.
_UNIT_FIELDS = (
    "name",
    "short_name",
    "kind",
    "institution_type",
    "address",
    "latitude",
    "longitude",
    "contact_name",
    "contact_phone",
    "contact_id_number",
    "capacity",
    "active",
)


@imports.register
class OrgUnitImporter(imports.Importer):
    slug = "org-units"
    title = gettext_lazy("Org units and institutions")
    description = gettext_lazy(
        "One row per unit of the org tree: departments, district bureaus, streets, affiliated "
        "units and service institutions. The unit code identifies the unit: an existing code "
        "updates that unit (and moves it when the parent changes), a new one creates it. "
        "The district is derived from the tree."
    )
    roles = (Role.SYSADMIN,)
    key = ("code",)
    columns = (
        Column(
            "code",
            gettext_lazy("Unit code"),
            required=True,
            parse=imports.text(40),
            help=gettext_lazy("Unique code of the unit, e.g. GZ-TH-001."),
        ),
        Column("name", gettext_lazy("Unit name"), required=True, parse=imports.text(120), width=30),
        Column("short_name", gettext_lazy("Short name"), parse=imports.text(40)),
        Column(
            "kind",
            gettext_lazy("Unit kind"),
            required=True,
            parse=imports.choice(OrgKind),
            width=16,
        ),
        Column(
            "parent",
            gettext_lazy("Parent unit code"),
            parse=imports.text(40),
            help=gettext_lazy(
                "Code of the unit above this one, already in the system or in this file; "
                "empty only for the municipal bureau."
            ),
        ),
        Column(
            "institution_type",
            gettext_lazy("Institution type"),
            parse=imports.choice(InstitutionType),
            help=gettext_lazy("Required for service institutions, empty for other units."),
            width=20,
        ),
        Column(
            "supervising_department",
            gettext_lazy("Supervising department code"),
            parse=imports.text(40),
            help=gettext_lazy("Code of the bureau department that supervises the unit."),
        ),
        Column("address", gettext_lazy("Address"), parse=imports.text(200), width=30),
        Column(
            "latitude",
            gettext_lazy("Latitude"),
            parse=imports.decimal(-90, 90, 6),
            empty=None,
            help=gettext_lazy("Decimal degrees, e.g. 23.129110."),
        ),
        Column(
            "longitude",
            gettext_lazy("Longitude"),
            parse=imports.decimal(-180, 180, 6),
            empty=None,
            help=gettext_lazy("Decimal degrees, e.g. 113.264385."),
        ),
        Column("contact_name", gettext_lazy("Contact person"), parse=imports.text(50)),
        Column(
            "contact_phone", gettext_lazy("Contact phone"), parse=imports.text(30, _phone), width=16
        ),
        Column(
            "contact_id_number",
            gettext_lazy("Contact's ID number"),
            parse=imports.text(18, validate_id_number),
            width=22,
            help=gettext_lazy(
                "Low-income households only: the contact's 18-character resident ID number, "
                "with the column formatted as text in Excel."
            ),
        ),
        Column(
            "capacity",
            gettext_lazy("Capacity (beds/places)"),
            parse=imports.integer(0, 1_000_000),
            empty=None,
        ),
        Column(
            "active",
            gettext_lazy("In use"),
            parse=imports.boolean(),
            empty=True,
            help=gettext_lazy("是 or 否; empty means 是."),
        ),
    )

    def load(self, rows):
        codes = set()
        for row in rows:
            codes |= {row.get(k) for k in ("code", "parent", "supervising_department")}
        codes.discard(None)
        codes.discard("")
        visible = OrgUnit.objects.visible_to(self.actor)
        self.units = {
            u.code: u
            for u in visible.filter(code__in=codes).select_related(
                "parent", "supervising_department"
            )
        }
        # Codes taken by units the actor cannot see: creating one would clash.
        self.hidden = set(
            OrgUnit.objects.filter(code__in=codes - set(self.units)).values_list("code", flat=True)
        )
        self.in_file = {row.get("code"): row for row in rows if row.get("code")}

    def _kind_of(self, code):
        if code in self.in_file and self.in_file[code].has("kind"):
            return self.in_file[code].get("kind")
        unit = self.units.get(code)
        return unit.kind if unit else None

    def _reference(self, row, column, code):
        if code == row.get("code"):
            raise RowProblem(_("A unit cannot be its own parent."), column)
        if code not in self.units and code not in self.in_file:
            raise RowProblem(
                _("No unit with the code %(code)s exists in your scope or in this file.")
                % {"code": code},
                column,
            )

    def check(self, row):
        code = row.get("code")
        unit = self.units.get(code)
        if unit is None and code in self.hidden:
            raise RowProblem(_("The code %(code)s is already used.") % {"code": code}, "code")
        fields = {f: row.get(f) for f in _UNIT_FIELDS if row.has(f)}
        if unit is None:
            fields.setdefault("active", True)
        current = {f: getattr(unit, f) for f in _UNIT_FIELDS} if unit else {}
        effective = current | fields
        kind = effective.get("kind")

        parent = (
            row.get("parent")
            if row.has("parent")
            else (unit.parent.code if unit and unit.parent else "")
        )
        if parent:
            self._reference(row, "parent", parent)
            if unit is not None and parent in self.units:
                target = self.units[parent]
                if target.path.startswith(unit.path):
                    raise RowProblem(_("A unit cannot be moved under itself."), "parent")
        if kind == OrgKind.BUREAU and parent:
            raise RowProblem(_("The municipal bureau is the root of the tree."), "parent")
        if kind != OrgKind.BUREAU and not parent:
            raise RowProblem(_("Every unit but the bureau needs a parent unit."), "parent")

        institution_type = effective.get("institution_type") or ""
        if kind == OrgKind.INSTITUTION and not institution_type:
            raise RowProblem(_("An institution needs an institution type."), "institution_type")
        if kind != OrgKind.INSTITUTION and institution_type:
            raise RowProblem(_("Only institutions have an institution type."), "institution_type")

        if row.has("supervising_department"):
            supervisor = row.get("supervising_department")
        else:
            supervisor = (
                unit.supervising_department.code if unit and unit.supervising_department else ""
            )
        if supervisor:
            self._reference(row, "supervising_department", supervisor)
            if self._kind_of(supervisor) != OrgKind.DEPARTMENT:
                raise RowProblem(
                    _("The unit %(code)s is not a bureau department.") % {"code": supervisor},
                    "supervising_department",
                )

        data = {"fields": fields, "parent": parent, "supervisor": supervisor}
        if unit is None:
            return Change(
                row,
                RowAction.CREATE,
                code,
                _("New unit: %(name)s") % {"name": fields["name"]},
                data,
            )
        diffs = []
        changed = {}
        for name, value in fields.items():
            if current[name] != value:
                changed[name] = value
                model_field = OrgUnit._meta.get_field(name)
                labels = dict(model_field.flatchoices) if model_field.choices else {}
                if name in PERSONAL_FIELDS:
                    # Personal data: the preview says that it changes, not from what to what.
                    diffs.append((model_field.verbose_name, "…", "…"))
                    continue
                diffs.append(
                    (
                        model_field.verbose_name,
                        labels.get(current[name], current[name]),
                        labels.get(value, value),
                    )
                )
        old_parent = unit.parent.code if unit.parent else ""
        if parent != old_parent:
            diffs.append((OrgUnit._meta.get_field("parent").verbose_name, old_parent, parent))
        old_supervisor = unit.supervising_department.code if unit.supervising_department else ""
        if supervisor != old_supervisor:
            diffs.append(
                (
                    OrgUnit._meta.get_field("supervising_department").verbose_name,
                    old_supervisor,
                    supervisor,
                )
            )
        if not diffs:
            return Change(row, RowAction.UNCHANGED, code, data=data)
        data |= {"unit": unit, "changed": changed, "moved": parent != old_parent}
        data["supervisor_changed"] = supervisor != old_supervisor
        return Change(row, RowAction.UPDATE, code, imports.describe(diffs), data)

    def check_file(self, rows, changes):
        """The file's own references must form a tree: parents (and supervising departments)
        created in the file come before their children, and no chain loops."""
        graph = TopologicalSorter()
        for change in changes:
            code = change.key
            deps = {change.data["parent"], change.data["supervisor"]} & set(self.in_file)
            graph.add(code, *(d for d in deps if d != code))
        try:
            self.order = list(graph.static_order())
        except CycleError as exc:
            looped = set(exc.args[1])
            return [
                self.error(c.row, _("The parent units in this file form a loop."), "parent")
                for c in changes
                if c.key in looped
            ]
        return []

    def apply_all(self, changes):
        position = {code: i for i, code in enumerate(self.order)}
        errors = []
        for change in sorted(changes, key=lambda c: position.get(c.key, -1)):
            errors += self.guarded(change.row, lambda c=change: self._write(c))
            if errors:
                # Later rows may hang under this one: stop, the whole import is refused anyway.
                break
        return errors

    def _fresh(self, code):
        # Moves rewrite paths: a parent is read again rather than trusted from the preload.
        return OrgUnit.objects.get(pk=self.units[code].pk) if code else None

    def _write(self, change):
        data = change.data
        if change.action == RowAction.CREATE:
            fields = dict(data["fields"])
            fields["supervising_department"] = self._fresh(data["supervisor"])
            self.units[change.key] = orgunit_create(
                actor=self.actor, parent=self._fresh(data["parent"]), code=change.key, **fields
            )
            return
        fields = dict(data["changed"])
        if data["supervisor_changed"]:
            fields["supervising_department"] = self._fresh(data["supervisor"])
        parent = self._fresh(data["parent"]) if data["moved"] else None
        self.units[change.key] = orgunit_update(
            actor=self.actor, unit=data["unit"], parent=parent, **fields
        )


# --- Users --------------------------------------------------------------------------------

_USER_FIELDS = ("real_name", "phone", "org_unit", "title", "email", "is_active")
_SYSTEM_ROLES = (Role.SYSADMIN, Role.AUDITOR)


@imports.register
class UserImporter(imports.Importer):
    slug = "users"
    title = gettext_lazy("Users")
    description = gettext_lazy(
        "One row per person. The user name identifies the account: an existing one is "
        "updated, a new one is created without a password (the person sets one through the "
        "administrator). Passwords are never imported. When the roles column is filled in, "
        "the user holds exactly those roles afterwards."
    )
    roles = (Role.SYSADMIN,)
    key = ("username",)
    key_casefold = True
    columns = (
        Column(
            "username",
            gettext_lazy("User name"),
            required=True,
            parse=imports.text(150, UnicodeUsernameValidator()),
            help=gettext_lazy("Sign-in name: letters, digits and @ . + - _ only."),
        ),
        Column("real_name", gettext_lazy("Full name"), required=True, parse=imports.text(50)),
        Column("phone", gettext_lazy("Mobile phone"), parse=imports.text(20, _phone), width=16),
        Column(
            "org_unit",
            gettext_lazy("Org unit code"),
            parse=imports.text(40),
            empty=None,
            help=gettext_lazy("Code of the unit the person works in."),
        ),
        Column("title", gettext_lazy("Job title"), parse=imports.text(50)),
        Column("email", gettext_lazy("E-mail address"), parse=imports.text(254, EmailValidator())),
        Column(
            "roles",
            gettext_lazy("Roles"),
            parse=imports.multi_choice(Role),
            empty=(),
            width=24,
            help=gettext_lazy(
                "One or more roles separated by 、; empty leaves the roles as they are. "
                "System administrator, auditor and business roles exclude each other."
            ),
        ),
        Column(
            "scope",
            gettext_lazy("Role scope unit code"),
            parse=imports.text(40),
            help=gettext_lazy(
                "The org subtree the roles apply to. Needed for unit liaisons and department "
                "staff; empty means the whole city for the office and leaders."
            ),
        ),
        Column(
            "is_active",
            gettext_lazy("Account active"),
            parse=imports.boolean(),
            empty=True,
            help=gettext_lazy("是 or 否; empty means 是."),
        ),
    )

    def load(self, rows):
        names = {row.get("username").casefold() for row in rows if row.get("username")}
        self.users = {
            u.username.casefold(): u
            for u in User.objects.annotate(login=Lower("username"))
            .filter(login__in=names)
            .select_related("org_unit")
            .prefetch_related(
                Prefetch("roles", queryset=RoleAssignment.objects.select_related("scope"))
            )
        }
        codes = {row.get(k) for row in rows for k in ("org_unit", "scope")} - {None, ""}
        visible = OrgUnit.objects.visible_to(self.actor)
        self.units = {u.code: u for u in visible.filter(code__in=codes)}
        self.root = OrgUnit.objects.filter(parent__isnull=True).order_by("pk").first()

    def _unit(self, row, column):
        code = row.get(column)
        if not code:
            return None
        unit = self.units.get(code)
        if unit is None:
            raise RowProblem(
                _("No unit with the code %(code)s exists in your scope.") % {"code": code}, column
            )
        return unit

    def _wanted_roles(self, row, user):
        """The (role, scope) pairs the row asks for, as role_grant would store them; None when
        the roles are to be left as they are."""
        roles = row.get("roles") or ()
        scope = self._unit(row, "scope") if row.has("scope") else None
        if not roles:
            if scope is not None:
                raise RowProblem(_("A role scope needs roles."), "scope")
            return None
        if len({ROLE_FAMILY[Role(r)] for r in roles}) > 1:
            raise RowProblem(
                _(
                    "System administrator, auditor and business roles exclude each other; "
                    "choose roles of one kind."
                ),
                "roles",
            )
        wanted = set()
        for role in roles:
            if role in _SYSTEM_ROLES:
                wanted.add((role, None))
            elif scope is not None:
                wanted.add((role, scope.pk))
            elif (role in OFFICE_ROLES or role == Role.LEADER) and self.root is not None:
                wanted.add((role, self.root.pk))
            else:
                raise RowProblem(_("This role needs a scope in the org tree."), "scope")
        return wanted

    def check(self, row):
        name = row.get("username")
        user = self.users.get(name.casefold())
        fields = {f: row.get(f) for f in _USER_FIELDS if row.has(f) and f != "org_unit"}
        if row.has("org_unit"):
            fields["org_unit"] = self._unit(row, "org_unit")
        wanted = self._wanted_roles(row, user)
        if user is None:
            fields.setdefault("is_active", True)
            data = {"fields": fields, "roles": sorted(wanted or (), key=str)}
            return Change(
                row,
                RowAction.CREATE,
                name,
                _("New user: %(name)s") % {"name": fields["real_name"]},
                data,
            )

        diffs, changed = [], {}
        for field_name, value in fields.items():
            old = getattr(user, field_name)
            if old != value:
                changed[field_name] = value
                label = User._meta.get_field(field_name).verbose_name
                # A phone is personal data: the preview says that it changes, not to what.
                diffs.append((label, "…", "…") if field_name == "phone" else (label, old, value))
        if user.pk == self.actor.pk and changed.get("is_active") is False:
            raise RowProblem(_("You cannot deactivate your own account."), "is_active")
        held = {(a.role, a.scope_id): a for a in user.roles.all()}
        grant = revoke = ()
        if wanted is not None and set(held) != wanted:
            if user.pk == self.actor.pk:
                raise RowProblem(_("You cannot change your own roles by import."), "roles")
            grant = sorted(wanted - set(held), key=str)
            revoke = [held[k] for k in sorted(set(held) - wanted, key=str)]
            labels = dict(Role.choices)
            diffs.append(
                (
                    _("Roles"),
                    "、".join(str(labels[r]) for r, _s in sorted(held)),
                    "、".join(str(labels[r]) for r, _s in sorted(wanted)),
                )
            )
        if not diffs:
            return Change(row, RowAction.UNCHANGED, user.username)
        data = {"user": user, "changed": changed, "grant": grant, "revoke": revoke}
        return Change(row, RowAction.UPDATE, user.username, imports.describe(diffs), data)

    def _scope(self, scope_id):
        if scope_id is None:
            return None
        if self.root is not None and scope_id == self.root.pk:
            return self.root
        return next(u for u in self.units.values() if u.pk == scope_id)

    def apply(self, change):
        data = change.data
        if change.action == RowAction.CREATE:
            user_create(
                actor=self.actor,
                username=change.key,
                roles=[(role, self._scope(scope)) for role, scope in data["roles"]],
                **data["fields"],
            )
            return
        user = data["user"]
        if data["changed"]:
            user_update(actor=self.actor, user=user, **data["changed"])
        # Revoke first: moving someone from one kind of role to another must pass through
        # holding none (role_grant refuses mixing kinds).
        for assignment in data["revoke"]:
            role_revoke(actor=self.actor, assignment=assignment)
        for role, scope in data["grant"]:
            role_grant(actor=self.actor, user=user, role=role, scope=self._scope(scope))


__all__ = ["OrgUnitImporter", "RowError", "UserImporter"]
