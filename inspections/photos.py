"""The photo evidence pipeline: check an uploaded photo, re-encode it without metadata, and keep
what the metadata said (capture time, GPS) as plain values. See DESIGN.md §5 "Evidence is
evidence".

Everything here is a pure function of the uploaded bytes: the same upload always gives the same
output bytes and hence the same SHA-256, so a phone retrying an upload is recognised.

Order of the checks, cheapest and safest first:

1. size (declared, then actual) and emptiness;
2. type by magic bytes (never by name or declared content type);
3. the header only (no pixel data): width × height against our own limits, so that a
   "decompression bomb" is refused before any memory is allocated for it;
4. the container structure: every PNG chunk (with its CRC), every JPEG segment and scan, every
   WebP/HEIF box must be intact, and nothing but a little padding may follow the image's end
   (a valid image with a script appended is a polyglot and is refused);
5. a full decode, with truncated images refused;
6. re-encoding: orientation applied, colours converted to sRGB, alpha flattened onto white,
   downscaled, written as a plain JPEG with no EXIF, XMP, ICC profile or comment.
"""

from __future__ import annotations

import hashlib
import io
import re
import struct
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

import pillow_heif
from django.conf import settings
from django.utils.translation import gettext as _
from PIL import (
    Image,
    ImageCms,
    ImageFile,
    ImageOps,
    JpegImagePlugin,
    PngImagePlugin,
    WebPImagePlugin,
)

from civilaffairs.exceptions import ServiceError

pillow_heif.register_heif_opener()

__all__ = ["ProcessedPhoto", "process_photo"]

MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 15 * MIB
MAX_PIXELS = 50_000_000
MAX_SIDE = 12_000
OUTPUT_MAX_SIDE = 2560
THUMBNAIL_SIDE = 320
JPEG_QUALITY = 85
THUMBNAIL_QUALITY = 80
MAX_PADDING = 64  # bytes of 0x00/0xFF tolerated after the end of the image
# Pillow's BILINEAR is a true (antialiasing) triangle filter when downscaling; for the usual
# downscale by about 1.5 it looks as good as LANCZOS at a third of the time, which keeps a 12 MP
# photo under half a second on a 2-core host.
RESAMPLE = Image.Resampling.BILINEAR
CAMERA_TIME_ZONE = ZoneInfo("Asia/Shanghai")  # for EXIF times without OffsetTimeOriginal

# EXIF tags used here.
_ORIENTATION = 0x0112
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_DATETIME_ORIGINAL = 0x9003
_OFFSET_TIME_ORIGINAL = 0x9011
_GPS_LATITUDE_REF, _GPS_LATITUDE, _GPS_LONGITUDE_REF, _GPS_LONGITUDE = 1, 2, 3, 4

# HEIF brands whose image is HEVC-coded ("HEIC"); AVIF and other HEIF codecs are refused.
_HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
_HEIF_GENERIC_BRANDS = {b"mif1", b"msf1"}
_AVIF_BRANDS = {b"avif", b"avis"}
# Top-level ISOBMFF boxes that may appear in a HEIF file. Anything else after the boxes is
# treated as appended data.
_HEIF_TOP_LEVEL_BOXES = {
    b"ftyp", b"meta", b"mdat", b"moov", b"free", b"skip", b"wide", b"uuid", b"pdin",
    b"moof", b"mfra", b"meco", b"styp", b"sidx", b"ssix", b"prft", b"emsg", b"etyp",
}  # fmt: skip

# In JPEG entropy-coded data, 0xFF is followed by 0x00 (stuffing), a restart marker (D0-D7) or
# another 0xFF (fill); anything else is the next marker.
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")

# Errors Pillow, its plugins and libheif raise on malformed input.
_DECODE_ERRORS = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    struct.error,
    zlib.error,
    RuntimeError,
    KeyError,
    IndexError,
    TypeError,
    Image.DecompressionBombError,
)


@dataclass(frozen=True)
class ProcessedPhoto:
    """A photo ready to be filed as evidence."""

    image: bytes = field(repr=False)  # re-encoded JPEG without any metadata
    thumbnail: bytes = field(repr=False)  # JPEG, longest side THUMBNAIL_SIDE px
    sha256: str  # of `image`
    original_sha256: str  # of the upload as received
    original_type: str  # "jpeg" | "png" | "heic" | "webp"
    width: int  # of `image`
    height: int
    captured_at: datetime | None  # aware
    latitude: Decimal | None  # 6 decimal places, south negative
    longitude: Decimal | None  # 6 decimal places, west negative


def process_photo(upload, *, max_bytes: int | None = None) -> ProcessedPhoto:
    """Check and re-encode an uploaded photo; raise ServiceError(field="file") if it is refused.

    ``upload`` is a Django UploadedFile or any file object with ``read`` (and optionally
    ``seek`` and ``size``). ``max_bytes`` defaults to ``settings.PHOTO_MAX_BYTES`` (15 MiB).
    """
    if max_bytes is None:
        max_bytes = getattr(settings, "PHOTO_MAX_BYTES", DEFAULT_MAX_BYTES)
    data = _read(upload, max_bytes)
    kind = _sniff(data)
    if kind == "webp":
        # Pillow's WebP plugin allocates its decoder when opening, so check the header first.
        size = _webp_canvas_size(data)
        if size is None:
            raise _corrupt()
        _check_pixels(*size)
    img = _open_header(data, kind)
    _check_pixels(*img.size)
    _STRUCTURE_CHECKS[kind](data)
    _decode(img)
    captured_at, latitude, longitude = _metadata(img)

    img = _normalise(img, _downscale_size(img.size, OUTPUT_MAX_SIDE))
    image = _encode(img, JPEG_QUALITY, progressive=True)

    thumb = img.resize(
        _downscale_size(img.size, THUMBNAIL_SIDE), Image.Resampling.LANCZOS, reducing_gap=2.0
    )
    thumbnail = _encode(thumb, THUMBNAIL_QUALITY, progressive=False)

    return ProcessedPhoto(
        image=image,
        thumbnail=thumbnail,
        sha256=hashlib.sha256(image).hexdigest(),
        original_sha256=hashlib.sha256(data).hexdigest(),
        original_type=kind,
        width=img.width,
        height=img.height,
        captured_at=captured_at,
        latitude=latitude,
        longitude=longitude,
    )


# --- Refusals -------------------------------------------------------------------------------


def _refuse(message: str, code: str) -> ServiceError:
    return ServiceError(message, field="file", code=code)


def _corrupt() -> ServiceError:
    return _refuse(_("The photo is damaged or incomplete."), "corrupt_image")


def _trailing() -> ServiceError:
    return _refuse(
        _("The file contains data after the end of the image and was refused."), "trailing_data"
    )


def _megabytes(n: int) -> str:
    return f"{n / MIB:.2f}".rstrip("0").rstrip(".")


# --- Reading and recognising ----------------------------------------------------------------


def _read(upload, max_bytes: int) -> bytes:
    def too_large():
        return _refuse(
            _("The photo is larger than %(limit)s MB.") % {"limit": _megabytes(max_bytes)},
            "file_too_large",
        )

    declared = getattr(upload, "size", None)
    if isinstance(declared, int) and declared > max_bytes:
        raise too_large()
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(max_bytes + 1)  # never trust .size: read at most one byte too many
    if hasattr(upload, "seek"):
        upload.seek(0)
    if not data:
        raise _refuse(_("The photo is empty."), "empty_file")
    if len(data) > max_bytes:
        raise too_large()
    return bytes(data)


def _sniff(data: bytes) -> str:
    """The photo type from its first bytes, or a refusal."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 16 and data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "webp"
    if len(data) >= 16 and data[4:8] == b"ftyp":
        box_size = int.from_bytes(data[0:4], "big")
        if 16 <= box_size <= min(len(data), 4096):
            brands = {data[8:12]} | {
                data[i : i + 4] for i in range(16, box_size - 3, 4)
            }  # major brand + compatible brands
            if brands & _HEIC_BRANDS or (
                data[8:12] in _HEIF_GENERIC_BRANDS and not brands & _AVIF_BRANDS
            ):
                return "heic"
    raise _refuse(_("Only JPEG, PNG, HEIC and WebP photos are accepted."), "file_type")


def _open_header(data: bytes, kind: str) -> ImageFile.ImageFile:
    """Parse the header only. The plugin class is used directly rather than Image.open(), which
    would apply Pillow's own, much higher, decompression-bomb limit first; ours follows."""
    plugin = {
        "jpeg": JpegImagePlugin.JpegImageFile,
        "png": PngImagePlugin.PngImageFile,
        "webp": WebPImagePlugin.WebPImageFile,
        "heic": pillow_heif.HeifImageFile,
    }[kind]
    try:
        img = plugin(io.BytesIO(data))
    except _DECODE_ERRORS:
        raise _corrupt() from None
    if img.width < 1 or img.height < 1:
        raise _corrupt()
    return img


def _check_pixels(width: int, height: int) -> None:
    if width > MAX_SIDE or height > MAX_SIDE:
        raise _refuse(
            _(
                "The photo is %(width)s × %(height)s pixels; "
                "neither side may be longer than %(limit)s pixels."
            )
            % {"width": width, "height": height, "limit": MAX_SIDE},
            "too_many_pixels",
        )
    if width * height > MAX_PIXELS:
        raise _refuse(
            _("The photo is %(width)s × %(height)s pixels; the limit is %(limit)s megapixels.")
            % {"width": width, "height": height, "limit": MAX_PIXELS // 1_000_000},
            "too_many_pixels",
        )


def _webp_canvas_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a WebP's first chunk (VP8X, VP8L or VP8), without decoding."""
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        return (
            int.from_bytes(data[24:27], "little") + 1,
            int.from_bytes(data[27:30], "little") + 1,
        )
    if chunk == b"VP8L" and len(data) >= 25 and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and len(data) >= 30 and data[23:26] == b"\x9d\x01\x2a":
        return (
            int.from_bytes(data[26:28], "little") & 0x3FFF,
            int.from_bytes(data[28:30], "little") & 0x3FFF,
        )
    return None


# --- Container structure --------------------------------------------------------------------


def _check_end(data: bytes, end: int) -> None:
    """Only a little 0x00/0xFF padding may follow the end of the image."""
    rest = data[end:]
    if len(rest) > MAX_PADDING or rest.strip(b"\x00\xff"):
        raise _trailing()


def _check_png(data: bytes) -> None:
    view = memoryview(data)
    n = len(data)
    pos = 8
    first = True
    while True:
        if pos + 12 > n:
            raise _corrupt()  # ended before IEND
        length = int.from_bytes(data[pos : pos + 4], "big")
        chunk_type = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        if length > 0x7FFFFFFF or not chunk_type.isalpha() or end > n:
            raise _corrupt()
        if first and chunk_type != b"IHDR":
            raise _corrupt()
        if zlib.crc32(view[pos + 4 : end - 4]) != int.from_bytes(data[end - 4 : end], "big"):
            raise _corrupt()
        first = False
        pos = end
        if chunk_type == b"IEND":
            break
    _check_end(data, pos)


def _check_jpeg(data: bytes) -> None:
    n = len(data)
    pos = 2  # after SOI
    while True:
        if pos + 2 > n or data[pos] != 0xFF:
            raise _corrupt()  # truncated, or junk where a marker should be
        while pos + 2 < n and data[pos + 1] == 0xFF:  # fill bytes
            pos += 1
        marker = data[pos + 1]
        pos += 2
        if marker == 0xD9:  # EOI
            break
        if marker == 0x01 or 0xD0 <= marker <= 0xD7:  # TEM, RSTn: no length
            continue
        if marker in (0x00, 0xD8, 0xFF):
            raise _corrupt()
        if pos + 2 > n:
            raise _corrupt()
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2 or pos + length > n:
            raise _corrupt()
        pos += length
        if marker == 0xDA:  # SOS: entropy-coded data runs to the next marker
            found = _JPEG_NEXT_MARKER.search(data, pos)
            if found is None:
                raise _corrupt()
            pos = found.start()
    _check_end(data, pos)


def _check_webp(data: bytes) -> None:
    riff_size = int.from_bytes(data[4:8], "little")
    end = 8 + riff_size
    if riff_size < 4 or end > len(data):
        raise _corrupt()
    pos = 12
    while pos < end:
        if pos + 8 > end:
            raise _corrupt()
        chunk_size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        pos += 8 + chunk_size + (chunk_size & 1)
    if pos > end + 1:  # a chunk overruns the RIFF (one missing pad byte is tolerated)
        raise _corrupt()
    _check_end(data, end)


def _check_heif(data: bytes) -> None:
    n = len(data)
    pos = 0
    while pos < n:
        if n - pos <= MAX_PADDING and not data[pos:].strip(b"\x00\xff"):
            break
        if pos + 8 > n:
            raise _trailing()
        size = int.from_bytes(data[pos : pos + 4], "big")
        box_type = data[pos + 4 : pos + 8]
        if box_type not in _HEIF_TOP_LEVEL_BOXES:
            raise _trailing() if pos else _corrupt()
        if size == 0:  # box runs to the end of the file
            size = n - pos
        elif size == 1:  # 64-bit size follows
            if pos + 16 > n:
                raise _corrupt()
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
            if size < 16:
                raise _corrupt()
        elif size < 8:
            raise _corrupt()
        if pos + size > n:
            raise _corrupt()  # truncated
        pos += size


_STRUCTURE_CHECKS = {
    "jpeg": _check_jpeg,
    "png": _check_png,
    "webp": _check_webp,
    "heic": _check_heif,
}


# --- Decoding and metadata ------------------------------------------------------------------


def _decode(img: ImageFile.ImageFile) -> None:
    if img.format == "JPEG":
        # Let libjpeg scale down by 2, 4 or 8 while decoding when the result is still at least
        # as large as the output will be: much faster for big photos, and deterministic.
        img.draft(None, _downscale_size(img.size, OUTPUT_MAX_SIDE))
    try:
        # WeasyPrint sets the process-wide ImageFile.LOAD_TRUNCATED_IMAGES = True when it is
        # imported (a worker that renders PDFs), so this decode alone cannot be trusted to
        # refuse a truncated image: the structure checks above are what refuse it.
        img.load()
    except _DECODE_ERRORS:
        raise _corrupt() from None


def _metadata(img: Image.Image) -> tuple[datetime | None, Decimal | None, Decimal | None]:
    """Capture time and GPS position from EXIF. Missing or malformed values give None: they are
    information, not grounds for refusing the photo."""
    try:
        exif = img.getexif()
        exif_ifd = exif.get_ifd(_EXIF_IFD)
        gps_ifd = exif.get_ifd(_GPS_IFD)
    except _DECODE_ERRORS:
        return None, None, None
    captured_at = _exif_datetime(
        exif_ifd.get(_DATETIME_ORIGINAL, exif.get(_DATETIME_ORIGINAL)),
        exif_ifd.get(_OFFSET_TIME_ORIGINAL, exif.get(_OFFSET_TIME_ORIGINAL)),
    )
    latitude = _gps_coordinate(gps_ifd.get(_GPS_LATITUDE), gps_ifd.get(_GPS_LATITUDE_REF), 90)
    longitude = _gps_coordinate(gps_ifd.get(_GPS_LONGITUDE), gps_ifd.get(_GPS_LONGITUDE_REF), 180)
    if latitude is None or longitude is None or (latitude == 0 and longitude == 0):
        latitude = longitude = None  # half a position, or "no fix" written as 0,0
    return captured_at, latitude, longitude


def _text(value) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("ascii", "replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 \t\r\n")


_OFFSET = re.compile(r"([+-])(\d{2}):?(\d{2})")


def _exif_datetime(value, offset) -> datetime | None:
    text = _text(value)
    if not text:
        return None
    try:
        naive = datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S")  # zone set below
    except ValueError:
        return None
    offset_text = _text(offset)
    match = _OFFSET.fullmatch(offset_text) if offset_text else None
    if match:
        sign = -1 if match[1] == "-" else 1
        delta = timedelta(hours=int(match[2]), minutes=int(match[3]))
        if delta <= timedelta(hours=14):
            return naive.replace(tzinfo=timezone(sign * delta))
    return naive.replace(tzinfo=CAMERA_TIME_ZONE)


def _rational(value) -> Fraction:
    if isinstance(value, tuple) and len(value) == 2:  # (numerator, denominator)
        return Fraction(int(value[0]), int(value[1]))
    numerator = getattr(value, "numerator", None)
    denominator = getattr(value, "denominator", None)
    if numerator is not None and denominator is not None:  # IFDRational, int, Fraction
        return Fraction(int(numerator), int(denominator))
    return Fraction(str(value))


def _gps_coordinate(value, ref, limit: int) -> Decimal | None:
    if value is None:
        return None
    parts = value if isinstance(value, tuple) and len(value) in (1, 2, 3) else (value,)
    try:
        total = sum((_rational(part) / 60**i for i, part in enumerate(parts)), start=Fraction(0))
    except (ValueError, TypeError, ZeroDivisionError, ArithmeticError):
        return None
    if total < 0 or total > limit:
        return None
    if (_text(ref) or "").upper() in ("S", "W"):
        total = -total
    exact = Decimal(total.numerator) / Decimal(total.denominator)
    return exact.quantize(Decimal("0.000001"), rounding=ROUND_HALF_UP)


# --- Re-encoding ----------------------------------------------------------------------------


def _downscale_size(size: tuple[int, int], longest: int) -> tuple[int, int]:
    width, height = size
    if max(width, height) <= longest:
        return width, height
    scale = longest / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _normalise(img: Image.Image, size: tuple[int, int]) -> Image.Image:
    """Downscale to `size`, apply the EXIF orientation, convert the colours to sRGB using the
    embedded ICC profile (if any) and flatten onto white: an 8-bit RGB image with empty `info`."""
    icc = img.info.get("icc_profile")
    has_alpha = img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        # 16-bit or 32-bit grey: scale to 8 bits rather than clip.
        img = img.convert("I").point(lambda v: v * (1 / 256)).convert("L")
        has_alpha = False
    if img.mode not in ("RGB", "L", "CMYK") or has_alpha:
        img = img.convert("RGBA" if has_alpha else "RGB")
    if img.size != size:
        img = img.resize(size, RESAMPLE)
    # After resizing, which is cheaper; convert(), point() and resize() keep img.info, where
    # exif_transpose finds the orientation (EXIF, or XMP tiff:Orientation).
    ImageOps.exif_transpose(img, in_place=True)
    if icc:
        img = _apply_icc(img, icc)
    if img.mode == "RGBA":
        flat = Image.new("RGB", img.size, (255, 255, 255))
        flat.paste(img, mask=img.getchannel("A"))
        img = flat
    elif img.mode != "RGB":
        img = img.convert("RGB")
    img.info = {}  # nothing of the original's metadata may reach the encoder
    return img


def _apply_icc(img: Image.Image, icc: bytes) -> Image.Image:
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if "srgb" in ImageCms.getProfileDescription(profile).lower().replace(" ", ""):
            return img
        srgb = ImageCms.createProfile("sRGB")  # per call: LittleCMS handles are not shared
        return ImageCms.profileToProfile(
            img, profile, srgb, outputMode="RGBA" if img.mode == "RGBA" else "RGB"
        )
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return img  # an unusable profile: keep the pixel values as they are (assume sRGB)


def _encode(img: Image.Image, quality: int, *, progressive: bool) -> bytes:
    buffer = io.BytesIO()
    # No exif=, icc_profile=, xmp= or comment= arguments and an empty img.info: the output
    # carries no metadata at all.
    img.save(
        buffer,
        "JPEG",
        quality=quality,
        optimize=True,
        progressive=progressive,
        subsampling="4:2:0",
    )
    return buffer.getvalue()
