"""The exceptions the `chinese_calendar` package knows (the State Council's notices it has
transcribed), and writing them into `CalendarDay`. Used by the initial data migration and by
`zhili manage seed_workdays` after the package is upgraded with a new year's notice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class PackageDay:
    date: dt.date
    is_workday: bool
    name: str


def package_years() -> list[int]:
    """The years the installed chinese_calendar covers, in order."""
    import chinese_calendar

    return sorted({d.year for d in chinese_calendar.holidays} |
                  {d.year for d in chinese_calendar.workdays})


def _chinese(name: str) -> str:
    from chinese_calendar.constants import Holiday

    try:
        return Holiday(name).chinese
    except ValueError:
        return name


def package_exceptions(year: int | None = None) -> list[PackageDay]:
    """Holidays on weekdays and make-up workdays on weekends; holidays that fall on a weekend
    (and workdays on weekdays) follow the default rule anyway and are left out."""
    import chinese_calendar

    found = []
    for day, name in chinese_calendar.holidays.items():
        if day.weekday() < 5 and (year is None or day.year == year):
            found.append(PackageDay(day, False, _chinese(name)))
    for day, name in chinese_calendar.workdays.items():
        if day.weekday() >= 5 and (year is None or day.year == year):
            found.append(PackageDay(day, True, f"{_chinese(name)}调休"))
    found.sort(key=lambda e: e.date)
    return found


@dataclass
class SeedResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


def seed(*, year: int | None = None, model=None, using: str | None = None) -> SeedResult:
    """Make the table agree with the package for `year` (every year it knows when None).

    Idempotent. Rows for dates the package does not list (exceptions entered by hand, e.g. a
    year it does not cover yet) are kept. `model` is the historical model in a migration."""
    if model is None:
        from zhili.workdays.models import CalendarDay as model
    manager = model._default_manager.db_manager(using)
    wanted = package_exceptions(year)
    existing = {row.date: row for row in manager.filter(date__in=[e.date for e in wanted])}
    result = SeedResult()
    new_rows = []
    for entry in wanted:
        row = existing.get(entry.date)
        if row is None:
            new_rows.append(model(date=entry.date, is_workday=entry.is_workday, name=entry.name))
            result.created += 1
        elif row.is_workday != entry.is_workday or row.name != entry.name:
            row.is_workday, row.name = entry.is_workday, entry.name
            row.save(update_fields=["is_workday", "name", "updated_at"])
            result.updated += 1
        else:
            result.unchanged += 1
    manager.bulk_create(new_rows, batch_size=500)
    return result
