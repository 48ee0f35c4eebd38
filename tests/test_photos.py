"""The photo evidence pipeline (inspections/photos.py). Every fixture is generated here."""

import io
import struct
import time
import zipfile
import zlib
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

import pillow_heif
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image, ImageCms, ImageFile
from PIL.TiffImagePlugin import IFDRational

from civilaffairs.exceptions import ServiceError
from inspections.photos import ProcessedPhoto, process_photo

RED = (220, 20, 20)
BLUE = (20, 20, 220)


# --- Fixtures built in code -----------------------------------------------------------------


def upload(data: bytes, name: str = "photo.jpg", content_type: str = "image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def two_colour_image(size=(80, 40), mode="RGB") -> Image.Image:
    """Left half red, right half blue: shows which way the image was turned."""
    img = Image.new(mode, size, BLUE)
    img.paste(RED, (0, 0, size[0] // 2, size[1]))
    return img


def encode(img: Image.Image, fmt: str = "JPEG", **params) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, fmt, **params)
    return buffer.getvalue()


def camera_exif(
    *,
    orientation=None,
    taken="2024:05:01 10:20:30",
    offset=None,
    lat=((31, 1), (14, 1), (252, 100)),
    lat_ref="N",
    lon=((121, 1), (28, 1), (30, 1)),
    lon_ref="E",
) -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = "TestCam"  # Make
    if orientation:
        exif[0x0112] = orientation
    exif_ifd = exif.get_ifd(0x8769)
    if taken:
        exif_ifd[0x9003] = taken  # DateTimeOriginal
    if offset:
        exif_ifd[0x9011] = offset  # OffsetTimeOriginal
    if lat:
        gps = exif.get_ifd(0x8825)
        gps[1] = lat_ref
        gps[2] = tuple(IFDRational(*part) for part in lat)
        gps[3] = lon_ref
        gps[4] = tuple(IFDRational(*part) for part in lon)
    return exif


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload))
    )


def png_claiming(width: int, height: int) -> bytes:
    """A well-formed PNG whose header declares width × height, with almost no pixel data: a
    decompression bomb's header, built without allocating its pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    idat = zlib.compress(b"\x00" * 1024)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def webp_claiming(width: int, height: int) -> bytes:
    """A WebP extended-format header declaring a canvas of width × height."""
    vp8x = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little")
    vp8x += (height - 1).to_bytes(3, "little")
    chunk = b"VP8X" + struct.pack("<I", len(vp8x)) + vp8x
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def exif_bytes_in(data: bytes) -> bool:
    return b"Exif\x00\x00" in data or b"TestCam" in data


def assert_no_metadata(jpeg: bytes) -> None:
    img = Image.open(io.BytesIO(jpeg))
    assert img.format == "JPEG"
    assert len(img.getexif()) == 0
    for key in ("exif", "icc_profile", "xmp", "comment", "photoshop", "adobe"):
        assert key not in img.info, key
    assert not exif_bytes_in(jpeg)
    assert b"ICC_PROFILE" not in jpeg
    assert b"http://ns.adobe.com/xap/1.0/" not in jpeg


def refused(data: bytes, code: str, *, name="photo.jpg", **kwargs) -> ServiceError:
    started = time.monotonic()
    with pytest.raises(ServiceError) as caught:
        process_photo(upload(data, name), **kwargs)
    elapsed = time.monotonic() - started
    assert elapsed < 2, f"refusing took {elapsed:.2f} s"
    error = caught.value
    assert error.code == code, error.message
    assert error.field == "file"
    assert str(error.message)
    return error


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


# --- Accepted photos ------------------------------------------------------------------------


def test_jpeg_with_exif_gives_time_and_position_and_loses_the_exif():
    data = encode(two_colour_image(), exif=camera_exif())
    assert exif_bytes_in(data)

    photo = process_photo(upload(data))

    assert isinstance(photo, ProcessedPhoto)
    assert photo.original_type == "jpeg"
    assert photo.captured_at == datetime(2024, 5, 1, 10, 20, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert photo.captured_at.utcoffset() == timedelta(hours=8)
    # 31° 14' 2.52" N, 121° 28' 30" E
    assert photo.latitude == Decimal("31.234033")
    assert photo.longitude == Decimal("121.475000")
    assert photo.latitude.as_tuple().exponent == -6
    assert (photo.width, photo.height) == (80, 40)
    assert_no_metadata(photo.image)
    assert_no_metadata(photo.thumbnail)
    assert len(photo.sha256) == 64
    assert photo.sha256 != photo.original_sha256


def test_offset_time_and_southern_western_coordinates():
    exif = camera_exif(offset="-03:00", lat_ref="S", lon_ref="W")
    photo = process_photo(upload(encode(two_colour_image(), exif=exif)))

    assert photo.captured_at == datetime(
        2024, 5, 1, 10, 20, 30, tzinfo=timezone(-timedelta(hours=3))
    )
    assert photo.latitude == Decimal("-31.234033")
    assert photo.longitude == Decimal("-121.475000")


def test_photo_without_exif_has_no_time_or_position():
    photo = process_photo(upload(encode(two_colour_image())))

    assert photo.captured_at is None
    assert photo.latitude is None
    assert photo.longitude is None


def test_malformed_exif_values_are_ignored_not_refused():
    exif = camera_exif(taken="not a date", lat=((31, 0), (14, 1), (0, 1)))
    photo = process_photo(upload(encode(two_colour_image(), exif=exif)))

    assert photo.captured_at is None
    assert photo.latitude is None and photo.longitude is None


def test_orientation_6_is_applied():
    # Stored 80×40, red on the left; orientation 6 means "turn 90° clockwise to display".
    data = encode(two_colour_image(), exif=camera_exif(orientation=6))

    photo = process_photo(upload(data))

    assert (photo.width, photo.height) == (40, 80)
    out = Image.open(io.BytesIO(photo.image)).convert("RGB")
    assert out.size == (40, 80)
    assert near(out.getpixel((20, 10)), RED)
    assert near(out.getpixel((20, 70)), BLUE)
    assert 0x0112 not in out.getexif()


def test_large_photo_is_downscaled_and_thumbnail_is_320():
    img = two_colour_image((3000, 1000))
    photo = process_photo(upload(encode(img, quality=70)))

    assert (photo.width, photo.height) == (2560, 853)
    assert Image.open(io.BytesIO(photo.image)).size == (2560, 853)
    thumb = Image.open(io.BytesIO(photo.thumbnail))
    assert thumb.format == "JPEG"
    assert max(thumb.size) == 320


def test_small_photo_is_not_enlarged():
    photo = process_photo(upload(encode(two_colour_image((100, 60)))))

    assert (photo.width, photo.height) == (100, 60)
    assert Image.open(io.BytesIO(photo.thumbnail)).size == (100, 60)


def test_output_is_progressive_jpeg():
    photo = process_photo(upload(encode(two_colour_image())))

    assert Image.open(io.BytesIO(photo.image)).info.get("progressive") == 1


def test_png_with_alpha_is_flattened_onto_white():
    img = two_colour_image(mode="RGBA")
    img.paste((0, 0, 0, 0), (0, 0, 80, 10))  # a fully transparent band at the top
    data = encode(img, "PNG")

    photo = process_photo(upload(data, "photo.png", "image/png"))

    assert photo.original_type == "png"
    out = Image.open(io.BytesIO(photo.image))
    assert out.mode == "RGB"
    assert near(out.getpixel((10, 5)), (255, 255, 255))
    assert near(out.getpixel((10, 30)), RED)
    assert_no_metadata(photo.image)


def test_palette_png_and_greyscale_16_bit_png_are_accepted():
    palette = process_photo(upload(encode(two_colour_image().convert("P"), "PNG")))
    grey = Image.linear_gradient("L").resize((64, 64)).convert("I")
    grey = grey.point(lambda v: v * 256).convert("I;16")
    sixteen = process_photo(upload(encode(grey, "PNG")))

    assert palette.original_type == sixteen.original_type == "png"
    out = Image.open(io.BytesIO(sixteen.image)).convert("L")
    assert out.getpixel((32, 2)) < 30 < 225 < out.getpixel((32, 61))


def test_webp_is_accepted():
    data = encode(two_colour_image(), "WEBP", quality=90, exif=camera_exif())

    photo = process_photo(upload(data, "photo.webp", "image/webp"))

    assert photo.original_type == "webp"
    assert photo.latitude == Decimal("31.234033")
    assert_no_metadata(photo.image)


@pytest.mark.skipif(
    not pillow_heif.libheif_info().get("HEIF"), reason="this libheif build cannot write HEIC"
)
def test_heic_is_accepted():
    data = encode(two_colour_image(), "HEIF", quality=90, exif=camera_exif())
    assert data[4:12] == b"ftypheic"

    photo = process_photo(upload(data, "IMG_0001.HEIC", "image/heic"))

    assert photo.original_type == "heic"
    assert (photo.width, photo.height) == (80, 40)
    assert photo.captured_at == datetime(2024, 5, 1, 10, 20, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert photo.longitude == Decimal("121.475000")
    assert_no_metadata(photo.image)


def test_colour_profile_xmp_and_comment_are_stripped():
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>'
    data = encode(
        two_colour_image(), icc_profile=srgb, xmp=xmp, comment=b"secret", exif=camera_exif()
    )
    assert b"ICC_PROFILE" in data and b"secret" in data

    photo = process_photo(upload(data))

    assert_no_metadata(photo.image)
    assert b"secret" not in photo.image
    assert b"xmpmeta" not in photo.image


def test_a_little_padding_after_the_image_is_tolerated():
    data = encode(two_colour_image()) + b"\x00" * 32
    assert process_photo(upload(data)).original_type == "jpeg"


def test_same_input_gives_same_output():
    data = encode(two_colour_image((1200, 900)), exif=camera_exif(orientation=6))

    first = process_photo(upload(data))
    second = process_photo(upload(data, "retry.jpg"))

    assert first.sha256 == second.sha256
    assert first.image == second.image
    assert first.thumbnail == second.thumbnail
    assert first.original_sha256 == second.original_sha256
    assert first == second


def test_file_already_read_to_the_end_is_read_from_the_start():
    data = encode(two_colour_image())
    f = upload(data)
    f.read()

    assert process_photo(f).original_type == "jpeg"


# --- Refused files --------------------------------------------------------------------------


def test_renamed_php_is_refused():
    refused(b"<?php system($_GET['c']); ?>\n", "file_type", name="photo.jpg")


def test_svg_is_refused():
    svg = (
        b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
        b"<script>alert(1)</script></svg>"
    )
    refused(svg, "file_type", name="photo.png")


def test_gif_pdf_and_zip_are_refused():
    refused(encode(two_colour_image(), "GIF"), "file_type", name="photo.jpg")
    refused(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n%%EOF\n", "file_type")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("photo.jpg", encode(two_colour_image()))
    refused(archive.getvalue(), "file_type", name="photo.jpg")


def test_html_with_png_appended_is_refused_by_type():
    data = b"<html><script>alert(1)</script></html>" + encode(two_colour_image(), "PNG")
    refused(data, "file_type", name="photo.png")


def test_png_with_html_appended_is_refused():
    data = encode(two_colour_image(), "PNG") + b"<html><script>alert(1)</script></html>"
    refused(data, "trailing_data", name="photo.png")


def test_jpeg_with_html_appended_is_refused():
    data = encode(two_colour_image()) + b"<html><script>alert(1)</script></html>"
    refused(data, "trailing_data")


def test_webp_with_script_appended_is_refused():
    data = encode(two_colour_image(), "WEBP") + b"<?php system($_GET['c']); ?>"
    refused(data, "trailing_data", name="photo.webp")


@pytest.mark.skipif(
    not pillow_heif.libheif_info().get("HEIF"), reason="this libheif build cannot write HEIC"
)
def test_heic_with_html_appended_is_refused():
    data = encode(two_colour_image(), "HEIF") + b"<html><script>alert(1)</script></html>"
    refused(data, "trailing_data", name="photo.heic")


def test_truncated_jpeg_is_refused():
    data = encode(two_colour_image((400, 300), mode="RGB"), quality=95)
    refused(data[: len(data) // 2], "corrupt_image")


def test_truncated_png_is_refused():
    data = encode(Image.effect_noise((200, 200), 50), "PNG")
    refused(data[: len(data) // 2], "corrupt_image", name="photo.png")


def test_damaged_png_chunk_is_refused():
    data = bytearray(encode(two_colour_image(), "PNG"))
    data[45] ^= 0xFF  # inside the IDAT data: the chunk CRC no longer matches
    refused(bytes(data), "corrupt_image", name="photo.png")


@pytest.mark.parametrize("lenient", [False, True])
def test_truncation_is_refused_even_when_pillow_is_told_to_load_truncated_images(
    monkeypatch, lenient
):
    # WeasyPrint turns this process-wide flag on at import; the refusal must not depend on it.
    monkeypatch.setattr(ImageFile, "LOAD_TRUNCATED_IMAGES", lenient)
    data = encode(Image.effect_noise((200, 200), 50))
    refused(data[: len(data) // 2], "corrupt_image")
    png = encode(Image.effect_noise((200, 200), 50), "PNG")
    refused(png[: len(png) // 2], "corrupt_image", name="photo.png")


def test_decompression_bomb_png_is_refused_without_decoding():
    error = refused(png_claiming(30000, 30000), "too_many_pixels", name="photo.png")
    with translation.override("en"):
        assert "30000 × 30000" in str(error.message)


def test_too_many_megapixels_is_refused():
    with translation.override("en"):
        error = refused(png_claiming(8000, 7000), "too_many_pixels", name="photo.png")
        assert "50 megapixels" in str(error.message)


def test_too_long_a_side_is_refused():
    refused(png_claiming(12001, 10), "too_many_pixels", name="photo.png")


def test_huge_webp_canvas_is_refused_without_decoding():
    refused(webp_claiming(16000, 16000), "too_many_pixels", name="photo.webp")


def test_empty_file_is_refused():
    refused(b"", "empty_file")


def test_oversize_file_is_refused_by_setting(settings):
    settings.PHOTO_MAX_BYTES = 1000
    data = encode(Image.effect_noise((100, 100), 50).convert("RGB"), quality=95)
    assert len(data) > 1000
    with translation.override("en"):
        error = refused(data, "file_too_large")
        assert "MB" in str(error.message)


def test_oversize_file_is_refused_by_argument():
    data = encode(Image.effect_noise((100, 100), 50).convert("RGB"), quality=95)
    refused(data, "file_too_large", max_bytes=len(data) - 1)
    assert process_photo(upload(data), max_bytes=len(data)).original_type == "jpeg"


def test_declared_size_is_not_trusted():
    data = encode(Image.effect_noise((100, 100), 50).convert("RGB"), quality=95)
    f = upload(data)
    f.size = 10  # a client lying about the size

    with pytest.raises(ServiceError) as caught:
        process_photo(f, max_bytes=1000)
    assert caught.value.code == "file_too_large"


def test_messages_are_english_msgids():
    with translation.override("en"):
        assert refused(b"", "empty_file").message == "The photo is empty."
        assert (
            refused(b"GIF89a", "file_type").message
            == "Only JPEG, PNG, HEIC and WebP photos are accepted."
        )
