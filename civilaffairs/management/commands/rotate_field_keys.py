"""Re-encrypt every encrypted value with the first key of FIELD_ENCRYPTION_KEYS (key rotation),
and with --reindex recompute every blind index (after BLIND_INDEX_KEY changed).

Rotating a key: put the new key first in FIELD_ENCRYPTION_KEYS, keep the old ones after it,
deploy, run this command, then remove the old keys. Rows are handled in batches, each in its
own transaction with its rows locked, so the application keeps running; the command can be
stopped and run again (it only touches rows that still need it)."""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from civilaffairs import crypto
from civilaffairs.fields import BlindIndexField, EncryptedCharField


def encrypted_models():
    """(model, encrypted fields, blind index fields) for every model holding personal data."""
    found = []
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, EncryptedCharField)]
        if fields:
            indexes = [f for f in model._meta.concrete_fields if isinstance(f, BlindIndexField)]
            found.append((model, fields, indexes))
    return found


def _pending_ids(model, fields, after: int, limit: int, reindex: bool) -> list[int]:
    """The next ids (after ``after``) holding a value not under the current key (or any value
    at all, to re-index)."""
    quote = connection.ops.quote_name
    params = []
    if reindex:
        condition = " OR ".join(f"{quote(f.column)} <> ''" for f in fields)
    else:
        condition = " OR ".join(
            f"({quote(f.column)} <> '' AND {quote(f.column)} NOT LIKE %s)" for f in fields
        )
        params = [f"{crypto.PREFIX}{crypto.keyring().current_id}:%"] * len(fields)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {quote(model._meta.db_table)} "  # noqa: S608  # nosec B608
            f"WHERE id > %s AND ({condition}) ORDER BY id LIMIT %s",
            [after, *params, limit],
        )
        return [row[0] for row in cursor.fetchall()]


def rotate_model(model, fields, indexes, *, batch_size=500, reindex=False) -> int:
    """Re-encrypt (and with ``reindex`` re-index) the rows of ``model``; the rows changed."""
    done, last = 0, 0
    names = [f.name for f in fields] + ([f.name for f in indexes] if reindex else [])
    while True:
        ids = _pending_ids(model, fields, last, batch_size, reindex)
        if not ids:
            return done
        last = ids[-1]
        with transaction.atomic():
            rows = list(model._base_manager.select_for_update().filter(pk__in=ids).order_by("pk"))
            for row in rows:
                for index in indexes if reindex else ():
                    value = getattr(row, index.source)
                    setattr(row, index.attname, crypto.blind_index(value, index.kind))
            # Saving writes each (decrypted) value again: encrypted with the current key.
            model._base_manager.bulk_update(rows, names, batch_size=batch_size)
        done += len(rows)


class Command(BaseCommand):
    help = (
        "Re-encrypt personal data with the first key of FIELD_ENCRYPTION_KEYS; --reindex also "
        "recomputes the blind indexes (after changing BLIND_INDEX_KEY)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--reindex", action="store_true", help="Recompute every blind index too."
        )
        parser.add_argument(
            "--new-key", action="store_true", help="Print a new random key and exit."
        )

    def handle(self, *args, batch_size=500, reindex=False, new_key=False, **options):
        if new_key:
            self.stdout.write(crypto.new_key())
            return
        current = crypto.keyring().current_id
        total = 0
        for model, fields, indexes in encrypted_models():
            count = rotate_model(
                model, fields, indexes, batch_size=max(1, batch_size), reindex=reindex
            )
            total += count
            self.stdout.write(f"{model._meta.label}: {count} rows")
        self.stdout.write(self.style.SUCCESS(f"{total} rows now encrypted with key {current}"))
