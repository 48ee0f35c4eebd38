"""The official-format document of a flash report (in the manner of GB/T 9704): one template
for the stored PDF and the HTML preview, so both show the same content.

What a document shows of its linked findings, visits and orders is decided by who reads it:
the HTML preview shows what the viewer may see; the stored PDF, which every recipient opens,
shows only what every one of its audience (the leaders it went to; before distribution, the
signer) may see. A finding of a secret plan therefore never reaches a reader through it."""

import base64
import datetime as dt
import io
import logging
from dataclasses import dataclass, field

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from reports.flash_querysets import SAME_DAY_ZONE

log = logging.getLogger(__name__)

SECTIONS = (
    ("situation", gettext_lazy("I. Basic situation")),
    ("problems", gettext_lazy("II. Problems found")),
    ("causes", gettext_lazy("III. Cause analysis")),
    ("suggestions", gettext_lazy("IV. Opinions and suggestions")),
)
# Evidence photos are embedded downscaled: a page column is ~75 mm wide, 900 px is ~300 dpi.
PHOTO_MAX_SIDE = 900
PHOTO_QUALITY = 72
PHOTOS_PER_FINDING = 2
PHOTOS_PER_REPORT = 8
PDF_STAMP = "flash-report:{pk}:v{version}"


def long_date(value) -> str:
    """A date as official documents write it (2026年3月5日), through the catalog."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        value = value.astimezone(SAME_DAY_ZONE).date()
    return _("%(year)d-%(month)d-%(day)d") % {
        "year": value.year,
        "month": value.month,
        "day": value.day,
    }


def paragraphs(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@dataclass
class FindingBlock:
    finding: object
    photos: list[str] = field(default_factory=list)  # data: URIs of downscaled JPEGs


def _downscaled(photo) -> str | None:
    from PIL import Image

    try:
        with photo.file.open("rb") as handle, Image.open(handle) as image:
            image = image.convert("RGB")
            image.thumbnail((PHOTO_MAX_SIDE, PHOTO_MAX_SIDE))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=PHOTO_QUALITY, optimize=True, progressive=False)
    except (OSError, ValueError) as error:  # a missing or unreadable file is left out
        log.warning("photo %s left out of a flash report: %s", photo.pk, error)
        return None
    return "data:image/jpeg;base64," + base64.b64encode(buffer.getvalue()).decode()


def visible_links(report, readers) -> dict:
    """The report's linked findings (with their evidence photos), visits and orders that
    every one of ``readers`` may see."""
    from inspections.models import Finding, Photo, Visit
    from rectification.models import Rectification

    if report.pk is None or not readers:
        return {"findings": [], "visits": [], "orders": []}
    findings = report.findings.filed()
    visits = report.visits.all()
    orders = report.rectifications.all()
    photos = Photo.objects.filter(finding__in=report.findings.all(), kind="evidence")
    for reader in readers:
        findings = findings.filter(pk__in=Finding.objects.visible_to(reader).values("pk"))
        visits = visits.filter(pk__in=Visit.objects.visible_to(reader).values("pk"))
        orders = orders.filter(pk__in=Rectification.objects.visible_to(reader).values("pk"))
        photos = photos.filter(pk__in=Photo.objects.visible_to(reader).values("pk"))
    findings = list(findings.select_related("target").order_by("found_at", "pk"))
    by_finding: dict[int, list] = {}
    for photo in photos.order_by("finding_id", "uploaded_at", "pk"):
        by_finding.setdefault(photo.finding_id, []).append(photo)
    blocks, budget = [], PHOTOS_PER_REPORT
    for finding in findings:
        block = FindingBlock(finding)
        for photo in by_finding.get(finding.pk, [])[:PHOTOS_PER_FINDING]:
            if budget <= 0:
                break
            uri = _downscaled(photo)
            if uri:
                block.photos.append(uri)
                budget -= 1
        blocks.append(block)
    return {
        "findings": blocks,
        "visits": list(visits.select_related("target", "plan").order_by("started_at", "pk")),
        "orders": list(orders.select_related("responsible_unit").order_by("dispatched_at", "pk")),
    }


def document_context(report, readers, *, recipients=None, preview=False) -> dict:
    if recipients is None:
        recipients = (
            [r.user for r in report.recipients.select_related("user").order_by("user_id")]
            if report.pk
            else []
        )
    sections = [
        {"heading": heading, "paragraphs": paragraphs(getattr(report, name))}
        for name, heading in SECTIONS
        if paragraphs(getattr(report, name))
    ]
    issued_on = report.signed_at or report.updated_at or report.created_at
    return {
        "report": report,
        "issue_label": report.issue_label,
        "year": report.year,
        "sections": sections,
        "signer": report.signed_by if report.signed_by_id else None,
        "issued_date": long_date(issued_on) if issued_on else long_date(dt.date.today()),
        "found_at": report.found_at.astimezone(SAME_DAY_ZONE) if report.found_at else None,
        "occurred_at": report.occurred_at.astimezone(SAME_DAY_ZONE) if report.occurred_at else None,
        "recipients": recipients,
        "preview": preview,
        **visible_links(report, readers),
    }


def render_document(report, readers, *, preview=False, recipients=None) -> str:
    return render_to_string(
        "reports/flash_pdf.html",
        document_context(report, readers, recipients=recipients, preview=preview),
    )


def pdf_audience(report) -> list:
    """Whose view the stored PDF takes: every leader it went to, else its signer (or its
    drafter, for a document that is not signed yet)."""
    people = [r.user for r in report.recipients.select_related("user").order_by("user_id")]
    if people:
        return people
    return [report.signed_by or report.created_by]


def flash_pdf_bytes(report, readers=None) -> bytes:
    from civilaffairs.pdf import render_pdf

    readers = pdf_audience(report) if readers is None else readers
    return render_pdf(render_document(report, readers))


def store_flash_pdf(report_id: int):
    """Render the report's PDF and keep it as its attachment (``report.pdf``). Idempotent:
    when the stored PDF was rendered from the report's current version, nothing is done.
    Rendering happens outside any lock; the result is kept only if the report did not
    change meanwhile (otherwise the task queued by that change renders it)."""
    from civilaffairs.files import attachment_store
    from reports.models import FlashReport

    report = (
        FlashReport.objects.select_related("pdf", "signed_by", "created_by")
        .filter(pk=report_id)
        .first()
    )
    if report is None or report.serial is None:
        return None
    stamp = PDF_STAMP.format(pk=report.pk, version=report.version)
    if report.pdf is not None and report.pdf.description == stamp:
        return report.pdf
    content = flash_pdf_bytes(report)
    with transaction.atomic():
        locked = (
            FlashReport.objects.select_for_update(of=("self",))
            .select_related("pdf")
            .get(pk=report.pk)
        )
        if locked.version != report.version:
            return None
        if locked.pdf is not None and locked.pdf.description == stamp:
            return locked.pdf
        name = f"flash-{locked.year}-{locked.serial:03d}.pdf"
        attachment = attachment_store(
            actor=locked.signed_by or locked.created_by,
            upload=SimpleUploadedFile(name, content, content_type="application/pdf"),
            owner=locked,
            description=stamp,
        )
        FlashReport.objects.filter(pk=locked.pk).update(pdf=attachment)
    return attachment
