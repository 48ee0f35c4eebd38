"""Encryption at rest of personal data (ID numbers, phones, names) and blind indexes to find it.

Values are encrypted with AES-256-GCM under a random 96-bit nonce, so two equal values give two
different tokens. A token is text::

    enc1:<key id>:<base64 of nonce + ciphertext + tag>

The key id (8 hex digits of a hash of the key) says which key of the ring made it, so keys can
be rotated: ``FIELD_ENCRYPTION_KEYS`` lists base64 keys of 32 bytes, the first encrypts and all
of them decrypt; ``manage.py rotate_field_keys`` re-encrypts every value with the first one.
Without the setting, a key derived from ``SECRET_KEY`` (HKDF) is used, which is fine for the
demo and the tests only: ``check --deploy`` flags it. The derived key always stays in the ring
for decryption, so a deployment that starts with it can set real keys and rotate.

The ciphertext is bound to its column (the associated data is ``app.model.field``): a token
copied into another column does not decrypt.

Encrypted values cannot be searched. A blind index — HMAC-SHA256 under a separate key
(``BLIND_INDEX_KEY``, by default also derived from ``SECRET_KEY``) of the normalised value
(digits only for a phone, upper case for an ID number) — is stored next to each phone and ID
number, and look-ups compare it: they find exact matches only, never a part of a number."""

import base64
import binascii
import hashlib
import hmac
import os
import re
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

PREFIX = "enc1:"
NONCE_BYTES = 12
TAG_BYTES = 16
KEY_BYTES = 32
KEY_ID_CHARS = 8
_ENCRYPTION_INFO = b"civilaffairs field encryption v1"
_BLIND_INDEX_INFO = b"civilaffairs blind index v1"

PHONE = "phone"
ID_NUMBER = "id_number"


class DecryptionError(Exception):
    """A stored token that no key of the ring opens: a wrong or missing key, or a token that
    was altered or moved to another column. Never answered with a guess: saving a guess would
    overwrite the real value."""


def derive_key(secret: str, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(
        secret.encode()
    )


def decode_key(text: str, name: str = "FIELD_ENCRYPTION_KEYS") -> bytes:
    """A base64 key of 32 bytes, or ImproperlyConfigured saying what is wrong."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ImproperlyConfigured(f"{name}: a key is not valid base64") from exc
    if len(key) != KEY_BYTES:
        raise ImproperlyConfigured(f"{name}: each key must be {KEY_BYTES} bytes (base64 of 32)")
    return key


def new_key() -> str:
    """A fresh random key, base64, for FIELD_ENCRYPTION_KEYS or BLIND_INDEX_KEY."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


def key_id(key: bytes) -> str:
    return hashlib.sha256(b"civilaffairs key id:" + key).hexdigest()[:KEY_ID_CHARS]


class KeyRing:
    """The encryption keys in force: ``current`` encrypts, every key decrypts (by key id)."""

    def __init__(self, keys: list[bytes]):
        self.ciphers = {}
        for key in keys:
            self.ciphers.setdefault(key_id(key), AESGCM(key))
        self.current_id = key_id(keys[0])
        self.current = self.ciphers[self.current_id]


@lru_cache(maxsize=8)
def _ring(configured: tuple[str, ...], secret: str) -> KeyRing:
    keys = [decode_key(k) for k in configured]
    # The key derived from SECRET_KEY always decrypts: data written before real keys were set
    # stays readable until rotate_field_keys has re-encrypted it.
    keys.append(derive_key(secret, _ENCRYPTION_INFO))
    return KeyRing(keys)


def _configured_keys() -> tuple[str, ...]:
    value = getattr(settings, "FIELD_ENCRYPTION_KEYS", None) or ()
    if isinstance(value, str):
        value = value.split(",")
    return tuple(k.strip() for k in value if k and k.strip())


def keyring() -> KeyRing:
    return _ring(_configured_keys(), settings.SECRET_KEY)


@lru_cache(maxsize=8)
def _blind_key(configured: str, secret: str) -> bytes:
    if configured:
        return decode_key(configured, "BLIND_INDEX_KEY")
    return derive_key(secret, _BLIND_INDEX_INFO)


def blind_key() -> bytes:
    return _blind_key((getattr(settings, "BLIND_INDEX_KEY", "") or "").strip(), settings.SECRET_KEY)


# --- Tokens ---------------------------------------------------------------------------------


def is_token(value) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def token_length(max_chars: int) -> int:
    """The longest token for a value of ``max_chars`` characters (4 bytes each in UTF-8)."""
    raw = NONCE_BYTES + 4 * max_chars + TAG_BYTES
    return len(PREFIX) + KEY_ID_CHARS + 1 + 4 * ((raw + 2) // 3)


def encrypt(plaintext: str, label: str, ring: KeyRing | None = None) -> str:
    """The token of ``plaintext`` for the column ``label`` (app.model.field)."""
    ring = ring or keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.current.encrypt(nonce, plaintext.encode(), label.encode())
    return f"{PREFIX}{ring.current_id}:{base64.b64encode(nonce + sealed).decode()}"


def token_key_id(token: str) -> str:
    return token[len(PREFIX) : len(PREFIX) + KEY_ID_CHARS]


def decrypt(token: str, label: str, ring: KeyRing | None = None) -> str:
    ring = ring or keyring()
    kid, sep, body = token[len(PREFIX) :].partition(":")
    cipher = ring.ciphers.get(kid)
    if not sep or cipher is None:
        raise DecryptionError(
            f"{label}: the value was encrypted with key {kid!r}, which is not in "
            "FIELD_ENCRYPTION_KEYS"
        )
    try:
        raw = base64.b64decode(body, validate=True)
        return cipher.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], label.encode()).decode()
    except (InvalidTag, binascii.Error, ValueError) as exc:
        raise DecryptionError(f"{label}: the stored value does not decrypt") from exc


# --- Blind indexes --------------------------------------------------------------------------


def normalize_phone(value: str) -> str:
    """Digits only; a mobile number written with China's country code (+86 / 0086) is the
    same number without it."""
    digits = re.sub(r"\D", "", value or "")
    if len(digits) == 15 and digits.startswith("00861"):
        digits = digits[4:]
    elif len(digits) == 13 and digits.startswith("861"):
        digits = digits[2:]
    return digits


def normalize_id_number(value: str) -> str:
    return re.sub(r"\s", "", value or "").upper()


NORMALIZERS = {PHONE: normalize_phone, ID_NUMBER: normalize_id_number}


def blind_index(value: str | None, kind: str) -> str:
    """The blind index of ``value`` (a phone or an ID number), or "" for no value."""
    normalized = NORMALIZERS[kind](value or "")
    if not normalized:
        return ""
    message = f"{kind}:{normalized}".encode()
    return hmac.new(blind_key(), message, hashlib.sha256).hexdigest()


# --- Existing plaintext (the data migration) ------------------------------------------------


def _pending_batches(cursor, quote, table: str, names: list[str], pending: str, batch_size):
    """Batches of (id, *values) rows of ``table`` matching ``pending``, by id (keyset); each
    batch is read after the previous one was handled, so a handled row is not read again."""
    last = 0
    while True:
        cursor.execute(
            f"SELECT id, {', '.join(quote(n) for n in names)} FROM {quote(table)} "  # noqa: S608  # nosec B608
            f"WHERE id > %s AND ({pending}) ORDER BY id LIMIT %s",
            [last, batch_size],
        )
        rows = cursor.fetchall()
        if not rows:
            return
        last = rows[-1][0]
        yield rows


def encrypt_plaintext_rows(
    connection, table: str, columns: list[tuple], batch_size: int = 1000
) -> int:
    """Encrypt the plaintext values still in ``table`` and fill their blind indexes, in batches
    (keyset pagination by id); values that are already tokens are left alone, so it can run
    again. ``columns`` holds (column, label, blind index column or None, kind or None).
    Returns the number of rows changed. Works on raw SQL so that it does not depend on the
    models as they are later."""
    quote = connection.ops.quote_name
    names = [c[0] for c in columns]
    pending = " OR ".join(f"({quote(n)} <> '' AND {quote(n)} NOT LIKE 'enc1:%%')" for n in names)
    ring = keyring()
    changed = 0
    with connection.cursor() as cursor:
        for rows in _pending_batches(cursor, quote, table, names, pending, batch_size):
            assignments, params = [], []
            for row in rows:
                values = [row[0]]
                for (_name, label, bidx, kind), value in zip(columns, row[1:], strict=True):
                    if value and not is_token(value):
                        values.append(encrypt(value, label, ring))
                    else:
                        values.append(value)
                    if bidx:
                        plain = value if value and not is_token(value) else None
                        values.append(blind_index(plain, kind) if plain else None)
                params.extend(values)
                assignments.append(values)
            width = len(assignments[0])
            placeholders = ", ".join("(" + ", ".join(["%s"] * width) + ")" for _ in assignments)
            sets, aliases = [], ["id"]
            for name, _label, bidx, _kind in columns:
                aliases.append(f"v_{name}")
                sets.append(f"{quote(name)} = v.{quote('v_' + name)}")
                if bidx:
                    aliases.append(f"b_{name}")
                    sets.append(
                        f"{quote(bidx)} = COALESCE(v.{quote('b_' + name)}, t.{quote(bidx)})"
                    )
            cursor.execute(
                f"UPDATE {quote(table)} AS t SET {', '.join(sets)} "  # noqa: S608  # nosec B608
                f"FROM (VALUES {placeholders}) AS v({', '.join(quote(a) for a in aliases)}) "
                "WHERE t.id = v.id",
                params,
            )
            changed += len(rows)
    return changed


def decrypt_token_rows(connection, table: str, columns: list[tuple], batch_size: int = 1000):
    """The reverse of encrypt_plaintext_rows (unapplying the migration): tokens back to text."""
    quote = connection.ops.quote_name
    names = [c[0] for c in columns]
    pending = " OR ".join(f"{quote(n)} LIKE 'enc1:%%'" for n in names)
    with connection.cursor() as cursor:
        for rows in _pending_batches(cursor, quote, table, names, pending, batch_size):
            for row in rows:
                values = [
                    decrypt(v, c[1]) if is_token(v) else v
                    for c, v in zip(columns, row[1:], strict=True)
                ]
                sets = ", ".join(f"{quote(n)} = %s" for n in names)
                cursor.execute(
                    f"UPDATE {quote(table)} SET {sets} WHERE id = %s",  # noqa: S608  # nosec B608
                    [*values, row[0]],
                )
