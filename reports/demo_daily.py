"""Demo data for the daily bottom-line reports: the winter cold-snap period (2026年冬季寒潮防御期)
covering today, the units' reports of the last few days filed through the real services on a
moved clock (some late, a few missing, some abnormal lines, one turned into a finding), the
digests of the past days built as the scheduled task would have, and a weekly summary.

Idempotent: the period is found by name; a day already reported is not filed again."""

import contextlib
import datetime as dt
import random
from unittest import mock

from django.db import transaction
from django.utils import timezone

from civilaffairs.choices import BottomLine, Role
from civilaffairs.models import User
from reports import daily as services
from reports import digest
from reports.daily_querysets import CUTOFF_ZONE, local_today
from reports.models import DailyReport, SensitivePeriod, WeeklyReport

PERIOD_NAME = "2026年冬季寒潮防御期"
DAYS_BACK = 4

ABNORMAL_NOTES = {
    BottomLine.SAFETY: [
        "寒潮期间夜间巡查发现一处防寒庇护站电暖器线路老化，已停用并报修。",
        "辖区一养老机构燃气报警器故障，已临时关闭厨房燃气并通知维修。",
    ],
    BottomLine.STABILITY: ["一名受助人员因返乡车票问题情绪激动，已安排专人疏导并协调购票。"],
    BottomLine.DISASTER_RELIEF: ["低保户王某家中取暖设备损坏，已发放临时救助棉被两床。"],
    BottomLine.INTEGRITY: ["收到群众反映某站点物资发放登记不规范，已派员核查。"],
    BottomLine.ETHICS: ["一名护理员对老人态度生硬被家属投诉，已约谈并调整岗位。"],
}
LEADERS = ["李副局长", "陈副局长", "张主任", "刘副主任"]


@contextlib.contextmanager
def clock(moment: dt.datetime):
    with mock.patch("django.utils.timezone.now", return_value=moment.astimezone(dt.UTC)):
        yield


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=CUTOFF_ZONE)


def _liaison(unit) -> User | None:
    return (
        User.objects.filter(
            is_active=True, roles__role=Role.UNIT_LIAISON, roles__scope__path__in=_paths(unit)
        )
        .order_by("pk")
        .first()
    )


def _paths(unit) -> list[str]:
    from civilaffairs.notifications import ancestor_paths

    return ancestor_paths(unit)


def _office() -> User | None:
    return User.objects.filter(is_active=True, roles__role=Role.OFFICE_HEAD).order_by("pk").first()


def load_daily() -> dict:
    office = _office()
    if office is None:
        return {"skipped": "no office head"}
    today = local_today()
    start = today - dt.timedelta(days=DAYS_BACK)
    stats = {"reports": 0, "late": 0, "missing": 0, "digests": 0, "findings": 0}
    period = SensitivePeriod.objects.filter(name=PERIOD_NAME).first()
    if period is None:
        with clock(_at(start, 8, 30)), transaction.atomic():
            # The office names the units that report: those with a liaison to file for them.
            units = [u for u in services.default_units() if _liaison(u) is not None]
            period = services.period_create(
                actor=office,
                units=units or None,
                name=PERIOD_NAME,
                start_date=start,
                end_date=today + dt.timedelta(days=10),
                cutoff=dt.time(16, 0),
                remind_minutes=60,
            )
    units = list(period.units.order_by("path"))
    rng = random.Random(20260115)  # noqa: S311 - repeatable demo data, not secrets  # nosec B311
    now = timezone.now()
    for offset in range(DAYS_BACK, -1, -1):
        day = today - dt.timedelta(days=offset)
        done = set(
            DailyReport.objects.filter(period=period, day=day).values_list("unit_id", flat=True)
        )
        for index, unit in enumerate(units):
            # Every draw is made whatever happens to the unit, so a second run sees the same
            # days as the first and files nothing new.
            roll, abnormal_roll = rng.random(), rng.random()
            late_minute, hour, minute = rng.randint(5, 50), rng.randint(9, 15), rng.randint(0, 59)
            line_key = rng.choice(list(ABNORMAL_NOTES))
            note = rng.choice(ABNORMAL_NOTES[line_key])
            if unit.pk in done:
                continue
            liaison = _liaison(unit)
            if liaison is None:
                continue
            if roll < 0.08:  # missing
                stats["missing"] += 1
                continue
            moment = _at(day, 16, late_minute) if roll < 0.2 else _at(day, hour, minute)
            if moment > now:
                continue  # today's afternoon has not happened yet
            abnormal = {line_key: note} if abnormal_roll < 0.15 else {}
            lines = [
                {
                    "bottom_line": key,
                    "status": "abnormal" if key in abnormal else "normal",
                    "note": abnormal.get(key, ""),
                }
                for key in BottomLine.values
            ]
            with clock(moment), transaction.atomic():
                report, _created = services.daily_report_submit(
                    actor=liaison,
                    period=period,
                    unit=unit,
                    day=day,
                    lines=lines,
                    nil=not abnormal,
                    responsible_leader=LEADERS[index % len(LEADERS)],
                )
            stats["reports"] += 1
            stats["late"] += report.late
            if abnormal and BottomLine.SAFETY in abnormal and offset >= 1:
                line = report.lines.get(bottom_line=BottomLine.SAFETY)
                if line.finding_id is None:
                    with clock(moment + dt.timedelta(minutes=40)), transaction.atomic():
                        services.abnormal_line_to_finding(actor=office, line=line)
                    stats["findings"] += 1
        build_at = _at(day, 16, 5)
        if build_at <= now:
            with clock(build_at):
                stats["digests"] += digest.build_digest(period, day, now=build_at) is not None
    week = services.week_of(today) - dt.timedelta(days=7)
    if not WeeklyReport.objects.filter(week_start=week).exists():
        with clock(_at(week + dt.timedelta(days=4), 17, 0)):
            services.weekly_save(
                actor=office,
                week_start=week,
                plan="1. 对寒潮期间防寒庇护站开展夜间暗访不少于6家；\n"
                "2. 督促各区民政局按时报送每日底线报告，缺报单位约谈联络员；\n"
                "3. 对上周发现的3个重大隐患开展复查。",
                summary="本周共开展督查走访，发现问题均已建档并下发整改；"
                "寒潮防御期每日底线报告总体按时，个别单位迟报已电话提醒。",
                version=0,
            )
    return stats
