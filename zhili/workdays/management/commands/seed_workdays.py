from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from zhili.core import audit
from zhili.workdays import clock, seeding


class Command(BaseCommand):
    help = ("Write the holidays and make-up workdays the installed chinese_calendar package "
            "knows into the working-day calendar (idempotent; rows entered by hand for other "
            "dates are kept).")

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, help="only this year (default: every year "
                                                     "the package knows)")

    def handle(self, *args, year=None, **options):
        years = seeding.package_years()
        if year is not None and year not in years:
            raise CommandError(
                f"chinese_calendar knows {years[0]}–{years[-1]}, not {year}: upgrade the "
                "package, or enter the State Council's holiday notice for that year on the "
                "Working-day calendar page.")
        with transaction.atomic():
            result = seeding.seed(year=year)
            if result.changed:
                audit.record(actor=None, actor_name="seed_workdays", action="workdays.seed",
                             changes={"year": year, "created": result.created,
                                      "updated": result.updated})
        clock.invalidate()
        scope = str(year) if year is not None else f"{years[0]}–{years[-1]}"
        self.stdout.write(self.style.SUCCESS(
            f"working-day calendar {scope}: {result.created} added, {result.updated} "
            f"corrected, {result.unchanged} already right"))
