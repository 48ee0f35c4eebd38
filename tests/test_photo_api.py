"""Photo uploads through the API: bad files get a clear 400 in Chinese within 2 s and store
nothing; a retried upload is applied once."""

import re
import time
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inspections import services
from inspections.models import Photo
from tests.inspection_data import make_visit
from tests.test_photos import encode, png_claiming, two_colour_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(city):
    visit = make_visit(city)
    services.visit_checkin(actor=city["inspector"], visit=visit, latitude=23.12, longitude=113.26)
    return visit


def jpeg():
    return encode(two_colour_image((400, 300)))


def bad_files(settings):
    settings.PHOTO_MAX_BYTES = 256 * 1024
    good_png = encode(two_colour_image((64, 64)), "PNG")
    real_jpeg = jpeg()
    return {
        "renamed.php": ("photo.jpg", b"<?php system($_GET['c']); ?>" * 10),
        "svg": (
            "photo.svg",
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        ),
        "html-png polyglot": ("photo.png", good_png + b"<html><script>alert(1)</script></html>"),
        "png-after-html": ("photo.png", b"<html><script>alert(1)</script></html>" + good_png),
        "truncated jpeg": ("photo.jpg", real_jpeg[: len(real_jpeg) // 2]),
        "30000x30000 png": ("photo.png", png_claiming(30000, 30000)),
        "empty": ("photo.jpg", b""),
        "over the limit": ("photo.jpg", b"\xff\xd8\xff\xe0" + b"\0" * (300 * 1024)),
    }


def test_each_bad_file_gets_a_chinese_400_fast_and_stores_nothing(
    city, client, visit, settings, tmp_path
):
    client.force_login(city["inspector"])
    for label, (name, content) in bad_files(settings).items():
        started = time.monotonic()
        response = client.post(
            reverse("api-photo-list"),
            {
                "client_uuid": str(uuid.uuid4()),
                "visit": visit.pk,
                "file": SimpleUploadedFile(name, content, content_type="image/jpeg"),
            },
        )
        elapsed = time.monotonic() - started
        assert response.status_code == 400, (label, response.status_code, response.content)
        detail = response.json().get("detail") or str(response.json())
        assert re.search(r"[\u4e00-\u9fff]", detail), (label, detail)
        assert elapsed < 2, (label, elapsed)
    assert not Photo.objects.exists()
    media = tmp_path / "media"
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_a_retried_photo_upload_is_applied_once(city, client, visit):
    client.force_login(city["inspector"])
    key = str(uuid.uuid4())
    content = jpeg()

    def send(data=content):
        return client.post(
            reverse("api-photo-list"),
            {
                "client_uuid": key,
                "visit": visit.pk,
                "kind": "evidence",
                "file": SimpleUploadedFile("p.jpg", data, content_type="image/jpeg"),
            },
        )

    first, second = send(), send()
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["uuid"] == second.json()["uuid"]
    assert Photo.objects.count() == 1
    other = send(encode(two_colour_image((300, 300))))
    assert other.status_code == 409
    assert Photo.objects.count() == 1
    photo = Photo.objects.get()
    # Served only through the authenticated view, to people who may see it.
    url = reverse("inspections:photo-file", args=[photo.uuid])
    assert client.get(url).status_code == 200
    client.force_login(city["liaison_b"])
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302
