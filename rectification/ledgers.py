"""The orders ledger's second sheet (状态变化记录): every step on the timeline of every
exported order, order by order in the ledger's own order, each with who, when, the step in
words, the state it left and the state it reached.

Rows are streamed: the exported orders are read through one server-side cursor and their
timeline entries fetched a chunk of orders at a time (one query per chunk, plain tuples rather
than model instances), so a 100 000-order ledger needs no more memory than a 100-order one."""

from collections import defaultdict

from django.contrib.contenttypes.models import ContentType
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from civilaffairs.exports import Sheet
from civilaffairs.models import OrgUnit, TimelineEntry
from rectification.choices import RectificationState
from rectification.models import Rectification
from rectification.services import STEPS

CHUNK = 1000

# The same words as the order's timeline on its page (templates/rectification/partials/).
VERB_LABELS = {
    "issued": _("Order issued"),
    "acknowledge": _("Acknowledged by the unit"),
    "submit": _("Rectification reported"),
    "verify": _("Verified and closed"),
    "return": _("Returned for further rectification"),
    "reassign": _("Reassigned"),
    "cancel": _("Cancelled"),
    "reopen": _("Reopened"),
    "request_extension": _("Extension requested"),
    "approve_extension": _("Extension approved"),
    "reject_extension": _("Extension rejected"),
    "deadline_recomputed": _("Deadline recomputed on the published calendar"),
}

HEADERS = (
    _("Number"),
    _("Time"),
    _("By"),
    _("Step"),
    _("State before"),
    _("State after"),
    _("Details"),
    _("Note"),
)


def _state_reached(verb: str) -> str | None:
    """The state a step leaves the order in, or None if the step does not move it."""
    if verb == "issued":
        return RectificationState.ISSUED
    step = STEPS.get(verb)
    return step.target if step is not None else None


def _details(verb: str, data, units: dict, words: dict) -> str:
    if not isinstance(data, dict):
        return ""
    change = data.get("deadline")
    if verb == "issued" and isinstance(change, str):
        return words["deadline"] % {"date": change}
    if isinstance(change, list) and len(change) == 2:
        return words["deadline_change"] % {"old": change[0], "new": change[1]}
    if verb == "request_extension" and data.get("new_deadline"):
        return words["until"] % {"date": data["new_deadline"]}
    change = data.get("unit")
    if verb == "reassign" and isinstance(change, list) and len(change) == 2:
        names = [units[pk].name if pk in units else "—" for pk in change]
        return f"{names[0]} → {names[1]}"
    return ""


def _entries(content_type, pks):
    return TimelineEntry.objects.filter(content_type=content_type, object_id__in=pks)


def history_rows(orders, chunk_size: int = CHUNK):
    """The rows of the sheet for ``orders`` (a queryset, in the ledger's order)."""
    content_type = ContentType.objects.get_for_model(Rectification)
    # Words translated once, not per row (gettext is slow at a hundred thousand rows).
    words = {
        "verbs": {verb: str(label) for verb, label in VERB_LABELS.items()},
        "states": {state: str(label) for state, label in RectificationState.choices},
        "system": gettext("system"),
        "deadline": gettext("Deadline %(date)s"),
        "deadline_change": gettext("Deadline %(old)s → %(new)s"),
        "until": gettext("until %(date)s"),
    }
    batch = []
    for pk, code in orders.values_list("pk", "code").iterator(chunk_size=chunk_size):
        batch.append((pk, code))
        if len(batch) >= chunk_size:
            yield from _chunk_rows(content_type, batch, words)
            batch = []
    if batch:
        yield from _chunk_rows(content_type, batch, words)


def _reassigned_units(entries) -> dict:
    """The units named by the reassignments among ``entries``, by id (one query)."""
    ids = set()
    for entry in entries:
        change = entry["data"].get("unit") if isinstance(entry["data"], dict) else None
        if entry["verb"] == "reassign" and isinstance(change, list):
            ids.update(pk for pk in change if isinstance(pk, int))
    return OrgUnit.objects.only("name").in_bulk(ids) if ids else {}


def _chunk_rows(content_type, batch, words):
    by_order = defaultdict(list)
    fields = ("object_id", "at", "actor__real_name", "actor__username", "verb", "note", "data")
    entries = list(
        _entries(content_type, [pk for pk, _code in batch])
        .order_by("object_id", "at", "id")
        .values(*fields)
    )
    for entry in entries:
        by_order[entry["object_id"]].append(entry)
    units = _reassigned_units(entries)
    del entries  # grouped by order now
    states, verbs = words["states"], words["verbs"]
    for pk, code in batch:
        state = None
        for entry in by_order.get(pk, ()):
            reached = _state_reached(entry["verb"])
            before = after = ""
            if reached is not None:
                before = states.get(state, "")
                after = states.get(reached, reached)
                state = reached
            yield [
                code,
                entry["at"],
                entry["actor__real_name"] or entry["actor__username"] or words["system"],
                verbs.get(entry["verb"], entry["verb"]),
                before,
                after,
                _details(entry["verb"], entry["data"], units, words),
                entry["note"],
            ]


def history_sheet(orders) -> Sheet:
    """The sheet of ``orders``' steps; its size is counted only when a progress bar asks."""
    content_type = ContentType.objects.get_for_model(Rectification)
    return Sheet(
        gettext("Status history"),
        [str(h) for h in HEADERS],
        history_rows(orders),
        count=lambda: _entries(content_type, orders.values("pk")).count(),
    )
