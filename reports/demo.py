"""Demo flash reports: a few 五五快报 in every state, drafted from the demo's major findings and
driven through the real services on a moved clock, so serials, timelines, audit events and the
same-day flag are what they would have been — one of them signed after midnight (a breach)."""

import contextlib
import datetime as dt
from unittest import mock

from django.utils import timezone

from civilaffairs.models import User
from reports import services
from reports.models import FlashReport

OFFICE_NAME = "五·五专项工作办公室"


@contextlib.contextmanager
def clock(moment: dt.datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _texts(finding) -> dict:
    unit = finding.target.name if finding is not None else "海珠区某养老机构"
    problem = finding.title if finding is not None else "消防通道堵塞"
    return {
        "situation": (
            f"专项办督查组按照寒潮期间安全生产专项行动部署，对{unit}开展暗访检查。"
            "检查组采取“四不两直”方式，直奔现场、直插基层，重点查看消防安全、值班值守和服务保障情况。"
        ),
        "problems": (
            f"检查发现{problem}。现场相关负责人不能说明整改安排，"
            "有关制度未落实到位，存在较大安全隐患，属于重大问题。"
        ),
        "causes": (
            "一是单位主要负责人安全发展理念树得不牢，对冬季消防安全重视不够；"
            "二是日常巡查流于形式，隐患排查台账与现场情况不符；"
            "三是属地民政部门监管责任落实不到位。"
        ),
        "suggestions": (
            "一是责令该单位立即整改，当日消除隐患，整改情况报专项办；"
            "二是由属地区民政局约谈单位主要负责人，并举一反三开展全面排查；"
            "三是将该问题纳入“五·五”督查台账，实行销号管理。"
        ),
    }


def _plan(today):
    """(topic when no finding fits, found day offset and hour when no finding fits, steps,
    distributed to leaders). A step is (action, minutes after the report's found time) or
    (action, (days after the found day, hour, minute)) for a fixed clock time."""
    return [
        (
            "消防安全重大隐患",
            -12,
            10,
            [
                ("submit", 30),
                ("approve", 50),
                ("sign_off", 75),
                ("distribute", 90),
                ("read", (1, 8, 40)),
            ],
            True,
        ),
        (
            "夜间值班脱岗",
            -6,
            21,
            [
                ("submit", 70),
                ("approve", 110),
                ("sign_off", (1, 0, 40)),
                ("distribute", (1, 8, 30)),
            ],
            True,
        ),
        ("安全出口锁闭", -2, 9, [("submit", 25), ("approve", 55), ("sign_off", 80)], False),
        ("燃气管道老化", 0, 8, [("submit", 40)], False),
        ("电动车违规充电", 0, 9, [("submit", 30), ("return", 60)], False),
        ("应急照明损坏", 0, 10, [], False),
    ]


def load_flash() -> dict:
    """Idempotent: nothing is added when the office already has demo flash reports."""
    from inspections.models import Finding
    from reports.flash_pdf import store_flash_pdf

    if FlashReport.objects.filter(issuing_office=OFFICE_NAME).exists():
        return {"skipped": "already loaded"}
    users = {
        u.username: u
        for u in User.objects.filter(username__in=["zxb01", "zxb03", "zxb_head", "leader"])
    }
    if len(users) < 4:
        return {"skipped": "demo users missing"}
    leaders = [users["leader"], *User.objects.filter(username="leader_tianhe")]
    today = timezone.localdate()
    filed = Finding.objects.exclude(state="draft").select_related("target")
    used: set[int] = set()

    def pick(queryset):
        """The latest major (else serious) finding not used yet."""
        for severity in ("major", "serious"):
            found = (
                queryset.filter(severity=severity)
                .exclude(pk__in=used)
                .order_by("-found_at", "-pk")
                .first()
            )
            if found is not None:
                used.add(found.pk)
                return found
        return None

    made = {"reports": 0, "breaches": 0, "pdfs": 0}
    now = timezone.now()
    zone = timezone.get_current_timezone()
    for index, (topic, offset, hour, steps, to_leaders) in enumerate(_plan(today)):
        if any(action == "sign_off" for action, _when in steps):
            # An issued report tells of a finding of the past: it is dated by that finding.
            finding = pick(filed.filter(found_at__lt=now - dt.timedelta(days=2)))
        else:
            # One in the works is about today's finding, if today has one.
            finding = pick(filed.filter(found_at__date=today))
        if finding is not None:
            found = finding.found_at + dt.timedelta(minutes=20)
        else:
            found = _at(today + dt.timedelta(days=offset), hour, 5 + index * 7)
        if found > now - dt.timedelta(minutes=3):
            found = max(finding.found_at, now - dt.timedelta(minutes=3)) if finding else now
        title = f"{finding.target.name}{finding.title}" if finding else f"市属养老机构{topic}"
        with clock(min(found + dt.timedelta(minutes=25), now)):
            report = services.flash_create(
                actor=users["zxb01"],
                title=title,
                found_at=found,
                occurred_at=found - dt.timedelta(minutes=40),
                issuing_office=OFFICE_NAME,
                findings=[finding] if finding is not None else [],
                **_texts(finding),
            )
        previous = found + dt.timedelta(minutes=25)
        for action, when in steps:
            if isinstance(when, tuple):
                day, h, m = when
                moment = _at(found.astimezone(zone).date() + dt.timedelta(days=day), h, m)
            else:
                moment = found + dt.timedelta(minutes=when)
            moment = min(max(moment, previous + dt.timedelta(minutes=1)), now)
            previous = moment
            with clock(moment):
                if action == "read":
                    services.flash_mark_read(report=report, actor=users["leader"])
                    continue
                actor = {
                    "submit": users["zxb01"],
                    "approve": users["zxb_head"],
                    "return": users["zxb_head"],
                    "sign_off": users["zxb_head"] if index else users["leader"],
                    "distribute": users["zxb03"],
                }[action]
                report = services.flash_transition(
                    report=report,
                    actor=actor,
                    action=action,
                    note="请补充原因分析和整改时限。" if action == "return" else "",
                    recipients=leaders if to_leaders and action == "distribute" else (),
                )
        made["reports"] += 1
        made["breaches"] += report.on_time is False
    for report in FlashReport.objects.filter(issuing_office=OFFICE_NAME, serial__isnull=False):
        made["pdfs"] += store_flash_pdf(report.pk) is not None
    return made
