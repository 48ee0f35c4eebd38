"""The flash report as an official-format PDF: CJK fonts embedded, text extracts with the
Chinese title and 第N期, page 1 is not blank, evidence photos embedded downscaled, the task is
idempotent and the stored PDF is served only to those who may see the report."""

import io
import subprocess

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from PIL import Image

from civilaffairs.models import Attachment
from inspections import services as inspections
from inspections.models import Finding
from reports.flash_pdf import flash_pdf_bytes, store_flash_pdf
from reports.models import FlashReport
from tests.flash_data import distributed, draft, photo_upload
from tests.inspection_data import walked_visit

pytestmark = pytest.mark.django_db


def _poppler(tool, *args, path) -> bytes:
    return subprocess.run(
        [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout


def finding_with_photo(city):
    visit = walked_visit(city)
    finding, _created = inspections.finding_create(
        actor=city["inspector"],
        visit=visit,
        bottom_line="safety",
        category="fire_hazard",
        severity="major",
        title="二楼安全出口被铁链锁闭",
        description="夜间巡查发现。",
    )
    inspections.photo_add(
        actor=city["inspector"], visit=visit, upload=photo_upload(), finding=finding
    )
    Finding.objects.filter(pk=finding.pk).update(state="open")
    return Finding.objects.get(pk=finding.pk)


@pytest.fixture
def stored(city, tmp_path):
    with translation.override("zh-hans"):
        report = distributed(city, findings=[finding_with_photo(city)])
        attachment = store_flash_pdf(report.pk)
    path = tmp_path / "flash.pdf"
    with attachment.file.open("rb") as handle:
        path.write_bytes(handle.read())
    return report, attachment, path


def test_the_pdf_embeds_its_cjk_fonts(stored):
    _report, _attachment, path = stored
    lines = _poppler("pdffonts", path=path).decode().splitlines()[2:]
    assert lines, "no fonts"
    for line in lines:
        name, emb = line.split()[0], line.split()[-5]
        assert "CJK" in name, line
        assert emb == "yes", line


def test_the_text_extracts_with_the_chinese_title_and_issue_number(stored):
    report, _attachment, path = stored
    text = _poppler("pdftotext", "-layout", path=path).decode()
    flat = "".join(text.split())
    assert "五五快报" in flat
    assert "".join(report.title.split()) in flat
    assert f"{report.year}年第{report.serial}期" in flat
    assert "局长" in flat  # the distribution list


def test_page_one_is_not_blank_and_has_the_red_masthead(stored, tmp_path):
    _report, _attachment, path = stored
    _poppler("pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", path=path)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(path), str(tmp_path / "p")],
        check=True,
        timeout=60,
    )
    png = next(tmp_path.glob("p*.png"))
    image = Image.open(png).convert("RGB")
    raw = image.tobytes()
    pixels = [tuple(raw[i : i + 3]) for i in range(0, len(raw), 3)]
    dark = sum(1 for r, g, b in pixels if r + g + b < 200)
    red = sum(1 for r, g, b in pixels if r > 150 and g < 80 and b < 80)
    assert dark > 500 and red > 200, (dark, red)


def test_photos_are_embedded_downscaled(stored):
    import pypdf

    _report, _attachment, path = stored
    reader = pypdf.PdfReader(str(path))
    images = [image for page in reader.pages for image in page.images]
    assert images, "the evidence photo is missing"
    for image in images:
        width, height = Image.open(io.BytesIO(image.data)).size
        assert max(width, height) <= 900


def test_rendering_is_idempotent_and_follows_new_versions(city, stored):
    report, attachment, _path = stored
    report.refresh_from_db()
    assert report.pdf == attachment
    assert store_flash_pdf(report.pk) == attachment
    assert Attachment.objects.filter(object_id=report.pk, extension="pdf").count() == 1
    from reports import services

    services.flash_transition(
        report=report,
        actor=city["supervisor"],
        action="distribute",
        recipients=[city["leader"], city["leader_a"]],
    )
    again = store_flash_pdf(report.pk)
    assert again != attachment
    report.refresh_from_db()
    assert report.pdf == again


def test_an_unsigned_report_gets_no_stored_pdf(city):
    assert store_flash_pdf(draft(city).pk) is None
    assert store_flash_pdf(123456789) is None


def test_the_pdf_is_served_only_to_readers(city, stored, login):
    report, attachment, _path = stored
    url = reverse("reports:flash-pdf", args=[report.pk])
    response = login(city["leader"]).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF-")
    for persona in ("leader_a", "liaison_a", "inspector"):
        assert login(city[persona]).get(url).status_code == 404
    assert login(city["liaison_a"]).get(attachment.get_absolute_url()).status_code == 404


def test_a_draft_pdf_is_rendered_on_demand_for_the_office(city, login):
    report = draft(city)
    response = login(city["supervisor"]).get(reverse("reports:flash-pdf", args=[report.pk]))
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF-")


def test_the_preview_shows_the_same_document(city, stored, login):
    report, _attachment, _path = stored
    page = login(city["leader"]).get(reverse("reports:flash-preview", args=[report.pk]))
    text = page.content.decode()
    assert page.status_code == 200 and "五五快报" in text and report.title in text


def test_a_one_page_report_renders_in_one_page(city):
    import pypdf

    report = draft(city, found_at=timezone.now())
    assert len(pypdf.PdfReader(io.BytesIO(flash_pdf_bytes(report))).pages) == 1
    assert FlashReport.objects.count() == 1
