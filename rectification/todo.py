"""What is waiting for a user, by role: the to-do page and the home page's counts read the
same blocks, so a count never disagrees with its list."""

from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from civilaffairs.choices import Role
from rectification.choices import ExtensionState
from rectification.choices import RectificationState as S
from rectification.models import Rectification

OFFICE = (Role.SUPERVISOR, Role.OFFICE_HEAD)


@dataclass(frozen=True)
class Block:
    """One kind of work waiting: its orders, and the order-list filter that shows them all."""

    key: str
    title: str
    hint: str
    queryset: object
    list_query: str
    icon: str


def _within(user, roles, prefix: str) -> Q | None:
    """Orders whose ``prefix`` unit lies in one of the user's scopes for ``roles``."""
    condition = None
    for scope in user.scopes_for(*roles):
        q = Q(**{f"{prefix}__path__startswith": scope.path})
        condition = q if condition is None else condition | q
    return condition


def _verifiable_by(user, visible) -> object | None:
    """Reported orders this user may verify (the office: all; a department: those it
    supervises), never the ones the user reported."""
    if user.has_role(*OFFICE):
        mine = visible
    else:
        supervised = _within(user, (Role.DEPARTMENT,), "supervising_department")
        if supervised is None:
            return None
        mine = visible.filter(supervised)
    return mine.filter(state=S.SUBMITTED).exclude(submitted_by=user)


def todo_blocks(user) -> list[Block]:
    """The blocks that apply to the user's roles, in the order a person works through them."""
    visible = Rectification.objects.visible_to(user)
    blocks = []
    # The unit side, as services.is_unit_side decides it: a liaison's units, and a bureau
    # department's own orders (a complaint or a commitment assigned to it) for its staff.
    unit_side = _within(user, (Role.UNIT_LIAISON,), "responsible_unit")
    own_department = _within(user, (Role.DEPARTMENT,), "responsible_unit")
    if own_department is not None:
        own_department &= Q(responsible_unit__kind="department")
        unit_side = own_department if unit_side is None else unit_side | own_department
    if unit_side is not None:
        mine = visible.filter(unit_side)
        blocks.append(
            Block(
                "acknowledge",
                _("Orders to acknowledge"),
                _("Issued to your unit or returned after verification."),
                mine.filter(state__in=[S.ISSUED, S.RETURNED]),
                "state=issued&state=returned",
                "envelope-open",
            )
        )
        blocks.append(
            Block(
                "report",
                _("Orders to report on"),
                _("Acknowledged: rectify, then report with photos or documents."),
                mine.filter(state=S.ACKNOWLEDGED),
                "state=acknowledged",
                "camera",
            )
        )
    verifiable = _verifiable_by(user, visible)
    if verifiable is not None:
        blocks.append(
            Block(
                "verify",
                _("Reports to verify"),
                _("Units have reported their rectification; check and close or return."),
                verifiable,
                "state=submitted",
                "clipboard2-check",
            )
        )
    if user.has_role(Role.OFFICE_HEAD):
        blocks.append(
            Block(
                "extensions",
                _("Extension requests to decide"),
                _("Units ask for a later deadline."),
                visible.filter(extensions__state=ExtensionState.PENDING),
                "pending_extension=true",
                "calendar-plus",
            )
        )
    if user.has_role(Role.LEADER):
        blocks.append(
            Block(
                "overdue",
                _("Overdue orders"),
                _("Open orders past their deadline in your area."),
                visible.open().filter(deadline__lt=timezone.localdate()),
                "overdue_level=red",
                "alarm",
            )
        )
    return blocks


def todo_counts(user) -> list[tuple[Block, int]]:
    """Each block with how many orders wait in it (one COUNT per block)."""
    return [(block, block.queryset.count()) for block in todo_blocks(user)]
