"""Preload the working-day calendar from the chinesecalendar package (the years it covers).
Later years are added by `manage.py load_calendar`, by hand in the admin, or from a CSV."""

from django.db import migrations


def preload(apps, schema_editor):
    from chinese_calendar import constants

    CalendarDay = apps.get_model("civilaffairs", "CalendarDay")
    CalendarYear = apps.get_model("civilaffairs", "CalendarYear")
    days = {}
    for day, name in constants.holidays.items():
        if day.weekday() < 5:
            days[day] = (False, str(name))
    for day, name in constants.workdays.items():
        if day.weekday() >= 5:
            days[day] = (True, f"{name}调休")
    CalendarDay.objects.bulk_create(
        [CalendarDay(date=d, is_workday=w, name=n) for d, (w, n) in sorted(days.items())],
        ignore_conflicts=True,
    )
    years = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
    CalendarYear.objects.bulk_create(
        [CalendarYear(year=y, source="chinesecalendar") for y in sorted(years)],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [("civilaffairs", "0004_calendar")]
    operations = [migrations.RunPython(preload, migrations.RunPython.noop)]
