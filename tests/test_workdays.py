"""Working days on the Chinese calendar, with 调休, and provisional deadlines beyond known data."""

import datetime as dt

import pytest
from django.core.management import call_command

from civilaffairs import workdays
from civilaffairs.models import CalendarDay, CalendarYear

pytestmark = pytest.mark.django_db
D = dt.date


def test_the_calendar_is_preloaded_from_the_package():
    assert CalendarYear.objects.filter(year=2026).exists()
    assert not CalendarDay.objects.get(date=D(2026, 10, 1)).is_workday  # National Day
    assert CalendarDay.objects.get(date=D(2026, 10, 10)).is_workday  # make-up Saturday


def test_deadline_across_the_2026_national_day_holiday():
    # Dispatched on Wed 30 Sep: 1–7 Oct are holidays, Thu 8, Fri 9 and Sat 10 (调休) work.
    assert workdays.add_working_days(D(2026, 9, 30), 1) == workdays.Deadline(D(2026, 10, 8), False)
    assert workdays.add_working_days(D(2026, 9, 30), 3).date == D(2026, 10, 10)  # a Saturday
    assert workdays.add_working_days(D(2026, 9, 30), 4).date == D(2026, 10, 12)  # Sun 11 off
    assert workdays.working_days_between(D(2026, 9, 30), D(2026, 10, 12)) == 4


def test_plain_weekends_do_not_count():
    # Fri 13 Nov 2026 + 1 working day = Mon 16 Nov.
    assert workdays.add_working_days(D(2026, 11, 13), 1).date == D(2026, 11, 16)
    assert workdays.add_working_days(D(2026, 11, 13), 0).date == D(2026, 11, 13)


def test_a_deadline_beyond_known_data_is_provisional_until_its_year_is_loaded(
    tmp_path, django_capture_on_commit_callbacks
):
    deadline = workdays.add_working_days(D(2026, 12, 28), 10)
    assert deadline.provisional
    # Without 2027 data: Mon–Fri only, 1 Jan 2027 (Friday) counted as a working day.
    assert deadline.date == D(2027, 1, 11)
    loaded = []
    workdays.LOADED_HOOKS.append(loaded.append)
    try:
        notice = tmp_path / "2027.csv"
        notice.write_text("date,is_workday,name\n2027-01-01,0,元旦\n", encoding="utf-8")
        with django_capture_on_commit_callbacks(execute=True):
            call_command("load_calendar", year=2027, file=str(notice))
    finally:
        workdays.LOADED_HOOKS.remove(loaded.append)
    recomputed = workdays.add_working_days(D(2026, 12, 28), 10)
    assert recomputed == workdays.Deadline(D(2027, 1, 12), False)
    assert loaded == [[2027]]


def test_bad_calendar_file_changes_nothing(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,is_workday,name\n2028-13-01,0,x\n", encoding="utf-8")
    from django.core.management.base import CommandError

    with pytest.raises(CommandError):
        call_command("load_calendar", year=2028, file=str(bad))
    assert not CalendarYear.objects.filter(year=2028).exists()
