"""Helpers for the daily bottom-line report tests: a period on a fixed day and a clock."""

import contextlib
import datetime as dt
from unittest import mock
from zoneinfo import ZoneInfo

from civilaffairs.choices import BottomLine
from reports.daily import daily_report_submit, period_create

SHANGHAI = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 1, 15)


def at(hour: int, minute: int = 0, second: int = 0, day: dt.date = DAY) -> dt.datetime:
    """A moment on ``day`` in Asia/Shanghai (the bureau's clock)."""
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=SHANGHAI)


@contextlib.contextmanager
def clock(moment: dt.datetime):
    """Every ``timezone.now()`` (services, auto_now fields) answers ``moment``."""
    with mock.patch("django.utils.timezone.now", return_value=moment.astimezone(dt.UTC)):
        yield


def make_period(city, **fields):
    values = {
        "name": "2026年冬季寒潮防御期",
        "start_date": DAY - dt.timedelta(days=3),
        "end_date": DAY + dt.timedelta(days=3),
        "cutoff": dt.time(16, 0),
        "remind_minutes": 60,
    }
    values.update(fields)
    with clock(at(9, day=values["start_date"])):
        return period_create(actor=city["office_head"], **values)


def lines(abnormal=None):
    """Five lines, normal unless named in ``abnormal`` ({bottom line: note})."""
    abnormal = abnormal or {}
    return [
        {
            "bottom_line": key,
            "status": "abnormal" if key in abnormal else "normal",
            "note": abnormal.get(key, ""),
        }
        for key in BottomLine.values
    ]


def submit(city, period, unit, who, moment, **kwargs):
    kwargs.setdefault("responsible_leader", "王副局长")
    if "lines" not in kwargs:
        kwargs.setdefault("nil", True)
    with clock(moment):
        return daily_report_submit(
            actor=city[who],
            period=period,
            unit=unit,
            day=moment.astimezone(SHANGHAI).date(),
            **kwargs,
        )
