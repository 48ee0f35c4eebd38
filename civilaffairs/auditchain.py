"""The audit trail as a hash chain: each event stores the hash of the event before it
(``prev_hash``) and its own ``hash``, SHA-256 over a canonical JSON of its content and that link.
Editing a row, removing one from the middle or slipping one in breaks the chain at that row,
and ``manage.py audit_verify`` names it.

One chain for the whole table, however many requests write at once: an event is sealed under a
transaction-level advisory lock, taken inside the caller's transaction and held until it
commits, so the next writer reads the hash of a committed tip. The id is drawn under the same
lock, so id order is chain order. This needs READ COMMITTED (Django's default): each statement
after the lock sees what committed before it. Because the lock is held until commit, services
record their audit event as their last write.

Old events may be purged after ``AUDIT_RETENTION_DAYS`` (never fewer than
``MIN_RETENTION_DAYS``; the database refuses to delete younger ones too). A purge removes the
oldest events in id order and leaves an ``AuditPurge`` anchor holding the hash of the last
removed event, from which verification starts."""

import datetime as dt
import hashlib
import ipaddress
import json
from dataclasses import dataclass

from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

GENESIS = "0" * 64
# Keys of our advisory locks (any constants of our own): one serialises appends and purges;
# a verification holds the other shared, so a purge waits rather than cut the walk short.
LOCK_KEY = 5_505_009_001
PURGE_LOCK_KEY = 5_505_009_002
MIN_RETENTION_DAYS = 180
EVENT_TABLE = "civilaffairs_auditevent"
PURGE_TABLE = "civilaffairs_auditpurge"

# The fields a hash covers, in the order they are read for verification.
CONTENT_FIELDS = (
    "id",
    "at",
    "actor_id",
    "actor_name",
    "action",
    "object_type",
    "object_id",
    "object_repr",
    "summary",
    "changes",
    "ip",
    "user_agent",
)


def normalize_ip(value) -> str | None:
    """One spelling per address, as PostgreSQL's inet gives it back (so hashes match)."""
    if value in (None, ""):
        return None
    try:
        return str(ipaddress.ip_address(str(value)))
    except ValueError:
        return None


def _canonical_number(value):
    # jsonb keeps numbers as numeric: 5.0 may come back as 5 and 1e16 as 10000000000000000,
    # so an integral float counts as the integer it is.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _canonical(value):
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return _canonical_number(value)


def _at_text(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_bytes(content: dict, prev_hash: str) -> bytes:
    """The serialisation that is hashed: the content fields and the link, as JSON with sorted
    keys and no whitespace, in UTF-8."""
    payload = {
        "id": int(content["id"]),
        "at": _at_text(content["at"]),
        "actor_id": content["actor_id"],
        "actor_name": content["actor_name"] or "",
        "action": content["action"] or "",
        "object_type": content["object_type"] or "",
        "object_id": content["object_id"] or "",
        "object_repr": content["object_repr"] or "",
        "summary": content["summary"] or "",
        "changes": _canonical(content["changes"] or {}),
        "ip": normalize_ip(content["ip"]),
        "user_agent": content["user_agent"] or "",
        "prev_hash": prev_hash,
    }
    text = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False
    )
    return text.encode()


def digest(content: dict, prev_hash: str) -> str:
    return hashlib.sha256(canonical_bytes(content, prev_hash)).hexdigest()


_TIP_SQL = f"""
SELECT COALESCE(
    (SELECT hash FROM {EVENT_TABLE} ORDER BY id DESC LIMIT 1),
    (SELECT last_hash FROM {PURGE_TABLE} ORDER BY id DESC LIMIT 1),
    %s
), nextval(pg_get_serial_sequence('{EVENT_TABLE}', 'id'))
"""  # noqa: S608 - constant table names  # nosec B608


def seal(event, using: str = "default") -> None:
    """Give an unsaved event its id, time, link and hash. Call inside a transaction on
    ``using`` and insert the event before it commits (``AuditEvent.save`` does both)."""
    connection = connections[using]
    if not connection.in_atomic_block:
        raise RuntimeError("an audit event is sealed inside the transaction that inserts it")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
        cursor.execute(_TIP_SQL, [GENESIS])
        prev_hash, next_id = cursor.fetchone()
    event.pk = next_id
    if event.at is None:
        # Taken under the lock, so times rise with ids (purging relies on a prefix by id).
        event.at = timezone.now()
    event.ip = normalize_ip(event.ip)
    event.prev_hash = prev_hash
    event.hash = digest({f: getattr(event, f) for f in CONTENT_FIELDS}, prev_hash)


# --- Verification ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainBreak:
    event_id: int
    reason: str  # "content": the row was edited; "link": a row before it was removed or added
    expected: str
    found: str
    previous_id: int | None = None


@dataclass(frozen=True)
class VerifyResult:
    count: int
    tip: str
    first_id: int | None
    broken: ChainBreak | None = None
    anchor_id: int | None = None  # the last purged event, when a purge has run


def _anchor(cursor):
    cursor.execute(f"SELECT last_id, last_hash FROM {PURGE_TABLE} ORDER BY id DESC LIMIT 1")  # noqa: S608  # nosec B608
    row = cursor.fetchone()
    return (row[0], row[1]) if row else (None, GENESIS)


def verify(*, using: str = "default", batch_size: int = 5000) -> VerifyResult:
    """Walk the chain in id order, ``batch_size`` rows at a time (memory stays flat for any
    length), and stop at the first event whose content or link does not match."""
    columns = ", ".join((*CONTENT_FIELDS, "prev_hash", "hash"))
    query = f"SELECT {columns} FROM {EVENT_TABLE} WHERE id > %s ORDER BY id LIMIT %s"  # noqa: S608  # nosec B608
    connection = connections[using]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock_shared(%s)", [PURGE_LOCK_KEY])
        try:
            return _walk(cursor, query, batch_size)
        finally:
            cursor.execute("SELECT pg_advisory_unlock_shared(%s)", [PURGE_LOCK_KEY])


def _walk(cursor, query: str, batch_size: int) -> VerifyResult:
    anchor_id, expected_prev = _anchor(cursor)
    last_id, previous_id, count, first_id = 0, anchor_id, 0, None
    while True:
        cursor.execute(query, [last_id, batch_size])
        rows = cursor.fetchall()
        if not rows:
            break
        for row in rows:
            content = dict(zip(CONTENT_FIELDS, row, strict=False))
            prev_hash, stored = row[-2], row[-1]
            if isinstance(content["changes"], str):  # a raw cursor may give jsonb as text
                content["changes"] = json.loads(content["changes"])
            event_id = content["id"]
            first_id = first_id or event_id
            # A row the last purge claims to have removed, or one whose link does not name
            # the row before it: something was removed or slipped in.
            if prev_hash != expected_prev or (anchor_id is not None and event_id <= anchor_id):
                broken = ChainBreak(event_id, "link", expected_prev, prev_hash, previous_id)
                return VerifyResult(count, expected_prev, first_id, broken, anchor_id)
            computed = digest(content, prev_hash)
            if computed != stored:
                broken = ChainBreak(event_id, "content", computed, stored, previous_id)
                return VerifyResult(count, expected_prev, first_id, broken, anchor_id)
            count += 1
            expected_prev, previous_id = stored, event_id
        last_id = rows[-1][0]
    return VerifyResult(count, expected_prev, first_id, None, anchor_id)


# --- Retention ------------------------------------------------------------------------------


def retention_days() -> int:
    return max(int(settings.AUDIT_RETENTION_DAYS), MIN_RETENTION_DAYS)


def purge(*, now: dt.datetime | None = None, batch_size: int = 10_000) -> int:
    """Remove events older than the retention period, oldest first, ``batch_size`` per
    transaction; each batch leaves an anchor so the rest still verifies. Returns how many
    were removed. Only a prefix of the chain (by id) whose every event is older than the
    cut-off is ever removed."""
    from civilaffairs.models import AuditEvent, AuditPurge

    now = now or timezone.now()
    cutoff = now - dt.timedelta(days=retention_days())
    removed = 0
    while True:
        with transaction.atomic():
            connection = connections["default"]
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [PURGE_LOCK_KEY])
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [LOCK_KEY])
            first_kept = (
                AuditEvent.objects.filter(at__gte=cutoff)
                .order_by("id")
                .values_list("id", flat=True)
                .first()
            )
            candidates = AuditEvent.objects.order_by("id")
            if first_kept is not None:
                candidates = candidates.filter(id__lt=first_kept)
            ids = candidates.values_list("id", "hash")
            last = next(iter(ids[batch_size - 1 : batch_size]), None)
            last = last or ids.order_by("-id").first()
            if last is None:
                return removed
            last_id, last_hash = last
            with connection.cursor() as cursor:
                # The trigger lets this transaction delete events older than the minimum
                # retention, and nothing else (migration 0009).
                cursor.execute("SET LOCAL civilaffairs.audit_purge = 'on'")
                cursor.execute(
                    f"DELETE FROM {EVENT_TABLE} WHERE id <= %s AND at < %s",  # noqa: S608  # nosec B608
                    [last_id, cutoff],
                )
                count = cursor.rowcount
                cursor.execute("SET LOCAL civilaffairs.audit_purge = 'off'")
            AuditPurge.objects.create(
                cutoff=cutoff, last_id=last_id, last_hash=last_hash, removed=count
            )
            removed += count
