"""Flash reports for tests, driven through the real services."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from inspections.models import Finding
from reports import services

SHANGHAI = ZoneInfo("Asia/Shanghai")


def finding(city, *, target=None, severity="major", found_at=None, state="open", visit=None):
    """A filed finding (straight into the table: its own workflow is tested elsewhere)."""
    return Finding.objects.create(
        visit=visit,
        target=target or city.inst_a,
        bottom_line="safety",
        category="fire_hazard",
        severity=severity,
        title="消防通道堵塞，安全出口上锁",
        description="夜间值班室无人，二楼安全出口被铁链锁闭。",
        found_at=found_at or timezone.now(),
        found_by=city["inspector"],
        state=state,
    )


def draft(city, actor=None, **kw):
    kw.setdefault("title", "甲区东街防寒庇护站消防通道堵塞")
    kw.setdefault("found_at", timezone.now() - dt.timedelta(minutes=30))
    kw.setdefault("situation", "3月5日晚，督查组对甲区东街防寒庇护站开展暗访。")
    kw.setdefault("problems", "二楼安全出口被铁链锁闭，消防通道堆放杂物。")
    kw.setdefault("causes", "值班制度落实不到位。")
    kw.setdefault("suggestions", "责令立即整改，约谈站点负责人。")
    return services.flash_create(actor=actor or city["supervisor"], **kw)


def approved(city, **kw):
    report = draft(city, **kw)
    services.flash_transition(report=report, actor=city["supervisor"], action="submit")
    return services.flash_transition(report=report, actor=city["office_head"], action="approve")


def signed(city, **kw):
    report = approved(city, **kw)
    return services.flash_transition(report=report, actor=city["office_head"], action="sign_off")


def distributed(city, leaders=None, **kw):
    report = signed(city, **kw)
    return services.flash_transition(
        report=report,
        actor=city["supervisor"],
        action="distribute",
        recipients=leaders or [city["leader"]],
    )


def jpeg_bytes(size=(1600, 1200)):
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle([100, 100, size[0] - 100, size[1] - 100], fill="firebrick")
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=90)
    return buffer.getvalue()


def photo_upload(name="现场.jpg"):
    return SimpleUploadedFile(name, jpeg_bytes(), content_type="image/jpeg")
