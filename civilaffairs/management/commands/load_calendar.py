from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from civilaffairs import workdays


class Command(BaseCommand):
    help = (
        "Load the working-day calendar: every year the chinesecalendar package covers, or one "
        "year from a CSV file of date,is_workday,name rows."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="Only this year.")
        parser.add_argument("--file", type=Path, help="CSV file for --year.")

    def handle(self, *args, year=None, file=None, **options):
        if file is not None:
            if year is None:
                raise CommandError("--file needs --year")
            try:
                count = workdays.load_from_csv(file, year)
            except (OSError, ValueError, KeyError) as exc:
                raise CommandError(f"{file}: {exc}") from exc
            self.stdout.write(f"{year}: {count} exception days loaded from {file}")
            return
        years = workdays.load_from_package([year] if year else None)
        if year and not years:
            raise CommandError(f"The chinesecalendar package has no data for {year}.")
        self.stdout.write(
            f"Loaded {len(years)} years from chinesecalendar: "
            f"{years[0] if years else '-'}…{years[-1] if years else '-'}"
        )
