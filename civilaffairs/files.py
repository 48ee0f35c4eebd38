"""Attachments: checked by content (never by name), hashed, stored through Django storage.

Photos get their own stricter pipeline in the inspections app (re-encoding, metadata stripping);
this is the shared gate every uploaded file passes."""

import hashlib
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import File
from django.db import transaction
from django.utils.translation import gettext as _

from civilaffairs.exceptions import ServiceError
from civilaffairs.models import Attachment


@dataclass(frozen=True)
class FileKind:
    mime: str
    extension: str


JPEG = FileKind("image/jpeg", "jpg")
PNG = FileKind("image/png", "png")
HEIC = FileKind("image/heic", "heic")
WEBP = FileKind("image/webp", "webp")
PDF = FileKind("application/pdf", "pdf")
XLSX = FileKind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx")
DOCX = FileKind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")

ALLOWED_KINDS = (JPEG, PNG, HEIC, WEBP, PDF, XLSX, DOCX)
PHOTO_KINDS = (JPEG, PNG, HEIC, WEBP)
_HEIF_BRANDS = {b"heic", b"heix", b"hevc", b"hevx", b"mif1", b"msf1", b"heim", b"heis"}


def sniff(head: bytes, fileobj=None) -> FileKind | None:
    """Recognise a file from its first bytes (and, for Office files, its zip directory)."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if len(head) >= 12 and head[4:8] == b"ftyp" and head[8:12] in _HEIF_BRANDS:
        return HEIC
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"PK\x03\x04") and fileobj is not None:
        try:
            fileobj.seek(0)
            with zipfile.ZipFile(fileobj) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, OSError, ValueError):
            return None
        finally:
            fileobj.seek(0)
        if "[Content_Types].xml" in names:
            if any(n.startswith("xl/") for n in names):
                return XLSX
            if any(n.startswith("word/") for n in names):
                return DOCX
    return None


def hash_file(fileobj) -> str:
    digest = hashlib.sha256()
    fileobj.seek(0)
    for chunk in iter(lambda: fileobj.read(1024 * 1024), b""):
        digest.update(chunk)
    fileobj.seek(0)
    return digest.hexdigest()


def check_upload(upload, allowed=ALLOWED_KINDS, max_bytes: int | None = None) -> FileKind:
    """Refuse an empty, oversized or unrecognised file with a message in Chinese."""
    max_bytes = max_bytes or settings.ATTACHMENT_MAX_BYTES
    size = upload.size if upload.size is not None else 0
    if size == 0:
        raise ServiceError(_("The file is empty."), field="file", code="empty_file")
    if size > max_bytes:
        raise ServiceError(
            _("The file is larger than %(limit)s MB.") % {"limit": max_bytes // (1024 * 1024)},
            field="file",
            code="file_too_large",
        )
    upload.seek(0)
    head = upload.read(64)
    upload.seek(0)
    kind = sniff(head, upload)
    if kind is None or kind not in allowed:
        names = "、".join(k.extension.upper() for k in allowed)
        raise ServiceError(
            _("This file type is not accepted; allowed types: %(types)s.") % {"types": names},
            field="file",
            code="file_type",
        )
    return kind


@transaction.atomic
def attachment_store(
    *, actor, upload, owner=None, description: str = "", allowed=ALLOWED_KINDS
) -> Attachment:
    from civilaffairs.services import audit_record

    kind = check_upload(upload, allowed=allowed)
    if kind in PHOTO_KINDS:
        upload, kind = _photo_without_metadata(upload), JPEG
    sha256 = hash_file(upload)
    attachment = Attachment(
        original_name=(getattr(upload, "name", "") or "file")[-200:],
        content_type_detected=kind.mime,
        extension=kind.extension,
        size=upload.size,
        sha256=sha256,
        uploaded_by=actor,
        description=description,
        owner=owner,
    )
    from django.utils import timezone

    attachment.uploaded_at = timezone.now()
    attachment.file.save("upload", File(upload), save=False)
    attachment.save()
    audit_record(
        actor=actor,
        action="attachment.create",
        obj=attachment,
        summary=_("Uploaded a file"),
        changes={"sha256": sha256, "size": upload.size},
    )
    return attachment


def _photo_without_metadata(upload):
    """Photos are evidence and may carry where someone lives: they are checked, re-encoded as
    JPEG and stored without EXIF/GPS, like the inspectors' photos (one pipeline for both)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from inspections.photos import process_photo

    processed = process_photo(upload)
    stem = (getattr(upload, "name", "") or "photo").rsplit(".", 1)[0][-190:] or "photo"
    return SimpleUploadedFile(f"{stem}.jpg", processed.image, content_type="image/jpeg")


def purge_unattached(older_than_hours: int = 24) -> int:
    """Uploads never attached to anything (a form abandoned after the upload) are removed
    after a day, file and row."""
    from django.utils import timezone

    cutoff = timezone.now() - timezone.timedelta(hours=older_than_hours)
    removed = 0
    for attachment in Attachment.objects.filter(content_type__isnull=True, uploaded_at__lt=cutoff):
        with transaction.atomic():
            locked = (
                Attachment.objects.select_for_update(skip_locked=True)
                .filter(pk=attachment.pk, content_type__isnull=True)
                .first()
            )
            if locked is None:
                continue
            name, storage = locked.file.name, locked.file.storage
            locked.delete()
            transaction.on_commit(lambda n=name, s=storage: s.delete(n))
            removed += 1
    return removed
