"""Working days on the Chinese calendar: Monday to Friday, except public holidays, plus the
weekend days made into working days (调休). The calendar is a table administrators can extend:
published data ends with the current year, so a deadline that reaches into an unknown year is
marked provisional and recomputed when that year is loaded (LOADED_HOOKS)."""

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction

from civilaffairs.models import CalendarDay, CalendarYear

# Called with the list of years just loaded; rectification recomputes provisional deadlines.
LOADED_HOOKS: list = []


@dataclass(frozen=True)
class Deadline:
    date: dt.date
    provisional: bool


class WorkCalendar:
    """A snapshot of the table for fast counting (one query for the exceptions in a range)."""

    def __init__(self, start: dt.date, end: dt.date):
        self.start, self.end = start, end
        self.known_years = set(CalendarYear.objects.values_list("year", flat=True))
        self.exceptions = dict(
            CalendarDay.objects.filter(date__range=(start, end)).values_list("date", "is_workday")
        )

    def is_workday(self, day: dt.date) -> bool:
        if day in self.exceptions:
            return self.exceptions[day]
        return day.weekday() < 5

    def is_known(self, day: dt.date) -> bool:
        return day.year in self.known_years

    def covers(self, start: dt.date, end: dt.date) -> bool:
        return self.start <= start and end <= self.end


def add_working_days(start: dt.date, count: int, calendar: WorkCalendar | None = None) -> Deadline:
    """The date ``count`` working days after ``start`` (the start day itself not counted).
    ``calendar``: a snapshot already read that covers the days (a page's), else one is read."""
    if count < 0:
        raise ValueError("count must not be negative")
    # Enough room for long holidays: a working day in at most 3 calendar days on average.
    end = start + dt.timedelta(days=count * 3 + 30)
    if calendar is None or not calendar.covers(start, end):
        calendar = WorkCalendar(start, end)
    day, left, provisional = start, count, not calendar.is_known(start)
    while left > 0:
        day += dt.timedelta(days=1)
        provisional = provisional or not calendar.is_known(day)
        if calendar.is_workday(day):
            left -= 1
    return Deadline(day, provisional)


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (negative when end < start)."""
    if end < start:
        return -working_days_between(end, start)
    calendar = WorkCalendar(start, end)
    return sum(
        1
        for n in range(1, (end - start).days + 1)
        if calendar.is_workday(start + dt.timedelta(days=n))
    )


def _replace_year(year: int, days: dict[dt.date, tuple[bool, str]], source: str):
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create(
        CalendarDay(date=d, is_workday=w, name=n) for d, (w, n) in sorted(days.items())
    )
    CalendarYear.objects.update_or_create(year=year, defaults={"source": source})


def package_years() -> list[int]:
    from chinese_calendar import constants

    return sorted({d.year for d in constants.holidays} | {d.year for d in constants.workdays})


@transaction.atomic
def load_from_package(years=None) -> list[int]:
    """Load holidays and make-up workdays from the ``chinesecalendar`` package."""
    from chinese_calendar import constants

    available = package_years()
    years = [y for y in (years or available) if y in available]
    for year in years:
        days = {}
        for day, name in constants.holidays.items():
            if day.year == year and day.weekday() < 5:
                days[day] = (False, str(name))
        for day, name in constants.workdays.items():
            if day.year == year and day.weekday() >= 5:
                days[day] = (True, f"{name}调休")
        _replace_year(year, days, "chinesecalendar")
    if years:
        transaction.on_commit(lambda: [hook(years) for hook in LOADED_HOOKS])
    return years


@transaction.atomic
def load_from_csv(path: Path, year: int) -> int:
    """Load one year from a CSV of ``date,is_workday,name`` rows (the State Council's notice
    typed in by an administrator); returns the number of exception days."""
    days = {}
    with open(path, encoding="utf-8-sig", newline="") as handle:
        for row in csv.DictReader(handle):
            day = dt.date.fromisoformat(row["date"].strip())
            if day.year != year:
                raise ValueError(f"{day} is not in {year}")
            workday = row["is_workday"].strip().lower() in {"1", "true", "yes", "是"}
            if workday != (day.weekday() < 5):  # only exceptions are stored
                days[day] = (workday, row.get("name", "").strip())
    _replace_year(year, days, f"csv:{Path(path).name}")
    transaction.on_commit(lambda: [hook([year]) for hook in LOADED_HOOKS])
    return len(days)
