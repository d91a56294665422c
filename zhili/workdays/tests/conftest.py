import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from zhili.workdays import clock, seeding

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(year, month, day, hour=0, minute=0, second=0) -> dt.datetime:
    """An aware moment in Beijing time."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


def package_block(year: int, name: str) -> tuple[list[dt.date], list[dt.date]]:
    """(days off, make-up workdays) of one holiday in one year, as chinese_calendar lists them."""
    off = sorted(d for d, n in chinese_calendar.holidays.items() if d.year == year and n == name)
    work = sorted(d for d, n in chinese_calendar.workdays.items() if d.year == year and n == name)
    return off, work


@pytest.fixture
def calendar(db):
    """The 2025 and 2026 exceptions from the package (already there after migrate, unless a
    transactional test flushed the table), and a clock that has forgotten earlier tests."""
    for year in (2025, 2026):
        seeding.seed(year=year)
    clock.invalidate()
    yield
    clock.invalidate()


@pytest.fixture
def fresh_cache(monkeypatch):
    """A clock cache of its own, not marked suspect by writes of earlier tests."""
    monkeypatch.setattr(clock, "_cache", clock._Cache())
    return clock._cache
