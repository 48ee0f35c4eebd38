import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from civilaffairs.exceptions import ServiceError
from civilaffairs.files import attachment_store, sniff

pytestmark = pytest.mark.django_db


def png_bytes(size=(8, 8)):
    buffer = io.BytesIO()
    Image.new("RGB", size, "red").save(buffer, "PNG")
    return buffer.getvalue()


def test_sniff_recognises_by_content_not_name():
    assert sniff(png_bytes()[:64]).extension == "png"
    assert sniff(b"\xff\xd8\xff\xe0" + b"\0" * 20).extension == "jpg"
    assert sniff(b"%PDF-1.7\n").extension == "pdf"
    assert sniff(b"<?php echo 1; ?>") is None
    assert sniff(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>") is None


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("photo.png", b"<?php system($_GET['c']); ?>", "不接受此文件类型"),
        ("empty.pdf", b"", "文件为空"),
        ("image.svg", b"<svg xmlns='http://www.w3.org/2000/svg'/>", "不接受此文件类型"),
    ],
)
def test_bad_files_are_refused_in_chinese_and_nothing_is_stored(city, name, content, message):
    from civilaffairs.models import Attachment

    with pytest.raises(ServiceError) as error:
        attachment_store(
            actor=city["supervisor"], upload=SimpleUploadedFile(name, content), owner=city.inst_a
        )
    assert message in str(error.value.message)
    assert not Attachment.objects.exists()


def test_oversized_file_is_refused(city, settings):
    settings.ATTACHMENT_MAX_BYTES = 1024 * 1024
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * (1024 * 1024 + 1))
    with pytest.raises(ServiceError, match="大于 1 MB"):
        attachment_store(actor=city["supervisor"], upload=big, owner=city.inst_a)


def test_stored_file_has_its_sha256_and_is_served_only_to_who_may_see_its_owner(city, client):
    import hashlib

    content = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    attachment = attachment_store(
        actor=city["supervisor"],
        upload=SimpleUploadedFile("整改报告.pdf", content),
        owner=city.inst_a,
    )
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.content_type_detected == "application/pdf"
    url = reverse("attachment-download", args=[attachment.uuid])

    assert client.get(url).status_code == 302  # anonymous: to the login page

    client.force_login(city["liaison_a"])  # district A: the owner is in scope
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content
    assert response["X-Content-Type-Options"] == "nosniff"

    client.force_login(city["liaison_b"])  # district B: out of scope, so it does not exist
    assert client.get(url).status_code == 404
    client.force_login(city["auditor"])
    assert client.get(url).status_code == 404


def test_the_file_name_a_user_gave_is_not_used_for_storage(city):
    attachment = attachment_store(
        actor=city["supervisor"],
        upload=SimpleUploadedFile("../../etc/passwd.png", png_bytes()),
        owner=city.inst_a,
    )
    assert ".." not in attachment.file.name
    assert attachment.file.name.endswith(f"{attachment.uuid}.jpg")


def test_photos_are_stored_reencoded_without_metadata(city):
    import hashlib

    from PIL import Image

    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x010F] = "Phone maker"  # Make
    exif[0x8825] = {1: "N", 2: (23.0, 7.0, 12.0), 3: "E", 4: (113.0, 15.0, 36.0)}  # GPS
    Image.new("RGB", (64, 48), "blue").save(buffer, "JPEG", exif=exif)
    assert Image.open(io.BytesIO(buffer.getvalue())).getexif()
    attachment = attachment_store(
        actor=city["liaison_a"], upload=SimpleUploadedFile("整改后.jpeg", buffer.getvalue())
    )
    stored = attachment.file.read()
    assert attachment.sha256 == hashlib.sha256(stored).hexdigest()
    assert attachment.content_type_detected == "image/jpeg"
    assert attachment.original_name == "整改后.jpg"
    assert not Image.open(io.BytesIO(stored)).getexif()


def test_abandoned_uploads_are_purged_after_a_day(city, django_capture_on_commit_callbacks):
    import datetime as dt

    from django.utils import timezone

    from civilaffairs.files import purge_unattached
    from civilaffairs.models import Attachment

    old = attachment_store(actor=city["liaison_a"], upload=SimpleUploadedFile("a.png", png_bytes()))
    fresh = attachment_store(
        actor=city["liaison_a"], upload=SimpleUploadedFile("b.png", png_bytes())
    )
    kept = attachment_store(
        actor=city["liaison_a"], upload=SimpleUploadedFile("c.png", png_bytes()), owner=city.inst_a
    )
    day_ago = timezone.now() - dt.timedelta(hours=25)
    Attachment.objects.filter(pk__in=[old.pk, kept.pk]).update(uploaded_at=day_ago)
    storage, name = old.file.storage, old.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert purge_unattached() == 1
    assert set(Attachment.objects.values_list("pk", flat=True)) == {fresh.pk, kept.pk}
    assert not storage.exists(name)
