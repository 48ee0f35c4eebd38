"""Exactly-once writes from phones: every object a phone creates carries a client UUID.

The same UUID with the same content returns the object already stored (the retry is answered,
not applied again); the same UUID with different content is refused with 409. Two concurrent
uploads of one UUID meet at the unique index: the loser re-reads and compares."""

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from civilaffairs.exceptions import Conflict


def payload_digest(payload) -> str:
    canonical = json.dumps(
        payload, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def refuse_different_content():
    raise Conflict(
        _("This record was already uploaded with different content; it was not changed.")
    )


def _compare(existing, digest: str):
    if existing.client_digest != digest:
        refuse_different_content()
    return existing, False


def replayed(model, client_uuid, digest: str):
    """The object already stored under ``client_uuid`` (a retry), or None; 409 when the same
    UUID came with other content. Checked before any lock is taken, so a retry is cheap."""
    if not client_uuid:
        return None
    existing = model.objects.filter(client_uuid=client_uuid).first()
    return _compare(existing, digest)[0] if existing is not None else None


def apply_once(*, model, client_uuid, digest: str, create: Callable[[], object]):
    """Return ``(object, created)``. ``create`` must store ``client_uuid`` and ``digest`` on the
    object it saves."""
    existing = replayed(model, client_uuid, digest)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return create(), True
    except IntegrityError:
        existing = model.objects.filter(client_uuid=client_uuid).first()
        if existing is None:
            raise
        return _compare(existing, digest)
