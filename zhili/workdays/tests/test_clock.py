"""The clock on real calendars: National Day 2025, New Year 2026, Spring Festival 2026."""

import datetime as dt
from decimal import Decimal

import chinese_calendar
import pytest
from django.core.exceptions import ImproperlyConfigured

from zhili.workdays import clock
from zhili.workdays.clock import Remaining, Unit
from zhili.workdays.tests.conftest import at

pytestmark = pytest.mark.usefixtures("calendar")

D = dt.date
H = 3600


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def test_the_dates_used_here_are_the_package_s():
    """Not guesses: the State Council's notices as chinese_calendar transcribes them."""
    # National Day + Mid-autumn 2025: Oct 1–8 off; make-up on Sunday 9-28 and Saturday 10-11.
    assert all(chinese_calendar.is_holiday(d) for d in _days(D(2025, 10, 1), D(2025, 10, 8)))
    assert chinese_calendar.is_workday(D(2025, 9, 28)) and D(2025, 9, 28).weekday() == 6
    assert chinese_calendar.is_workday(D(2025, 10, 11)) and D(2025, 10, 11).weekday() == 5
    assert chinese_calendar.is_workday(D(2025, 9, 30)) and chinese_calendar.is_workday(
        D(2025, 10, 9))
    assert chinese_calendar.is_holiday(D(2025, 10, 12))
    # New Year 2026: Jan 1–3 off, make-up on Sunday Jan 4.
    assert all(chinese_calendar.is_holiday(d) for d in _days(D(2026, 1, 1), D(2026, 1, 3)))
    assert chinese_calendar.is_workday(D(2026, 1, 4)) and D(2026, 1, 4).weekday() == 6
    # Spring Festival 2026: Feb 15–23 off; make-up on Saturdays Feb 14 and Feb 28.
    assert all(chinese_calendar.is_holiday(d) for d in _days(D(2026, 2, 15), D(2026, 2, 23)))
    assert chinese_calendar.is_workday(D(2026, 2, 13))
    assert chinese_calendar.is_workday(D(2026, 2, 24))
    for makeup in (D(2026, 2, 14), D(2026, 2, 28)):
        assert chinese_calendar.is_workday(makeup) and makeup.weekday() == 5


def test_is_workday_agrees_with_the_package_for_every_day_of_2025_and_2026():
    for day in _days(D(2025, 1, 1), D(2026, 12, 31)):
        assert clock.is_workday(day) == chinese_calendar.is_workday(day), day


def test_is_workday_takes_the_local_date_of_a_datetime():
    # 2025-09-30 17:00 UTC is already Oct 1 in Beijing.
    assert not clock.is_workday(dt.datetime(2025, 9, 30, 17, 0, tzinfo=dt.UTC))
    assert clock.is_workday(dt.datetime(2025, 9, 30, 15, 0, tzinfo=dt.UTC))


# --- WORK_DAYS -------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "amount", "expected"), [
    # the start's own day never counts, whatever the time
    (at(2025, 9, 22, 7, 0), 3, at(2025, 9, 25, 17, 30)),
    (at(2025, 9, 22, 23, 0), 3, at(2025, 9, 25, 17, 30)),
    # Friday → the make-up Sunday 9-28 is the first working day
    (at(2025, 9, 26, 10, 0), 1, at(2025, 9, 28, 17, 30)),
    # a rest-day start: Saturday 9-27 → 9-28 (Sun, make-up), 9-29, 9-30
    (at(2025, 9, 27, 10, 0), 3, at(2025, 9, 30, 17, 30)),
    # across National Day: after 9-30 come 10-09, 10-10 and the make-up Saturday 10-11
    (at(2025, 9, 30, 10, 0), 1, at(2025, 10, 9, 17, 30)),
    (at(2025, 9, 30, 10, 0), 3, at(2025, 10, 11, 17, 30)),
    (at(2025, 9, 30, 10, 0), 4, at(2025, 10, 13, 17, 30)),
    # started during the holiday
    (at(2025, 10, 3, 9, 0), 1, at(2025, 10, 9, 17, 30)),
    # across the year: New Year 2026 off Jan 1–3, make-up Sunday Jan 4
    (at(2025, 12, 31, 16, 0), 1, at(2026, 1, 4, 17, 30)),
    (at(2025, 12, 31, 16, 0), 2, at(2026, 1, 5, 17, 30)),
    # Spring Festival 2026: Sat 2-14 is worked, Feb 15–23 are not, Sat 2-28 is worked
    (at(2026, 2, 13, 15, 0), 1, at(2026, 2, 14, 17, 30)),
    (at(2026, 2, 13, 15, 0), 2, at(2026, 2, 24, 17, 30)),
    (at(2026, 2, 13, 15, 0), 10, at(2026, 3, 5, 17, 30)),
    (at(2026, 2, 27, 9, 0), 1, at(2026, 2, 28, 17, 30)),
])
def test_work_days(start, amount, expected):
    assert clock.deadline(start, amount, Unit.WORK_DAYS) == expected


def test_fractional_work_days_continue_into_the_next_working_day():
    # 7.5 working hours a day: half is 3 h 45 min → 08:30–12:00, then 13:30–13:45.
    monday = at(2025, 9, 22, 9, 0)
    assert clock.deadline(monday, Decimal("1.5"), Unit.WORK_DAYS) == at(2025, 9, 24, 13, 45)
    assert clock.deadline(monday, 0.5, Unit.WORK_DAYS) == at(2025, 9, 23, 13, 45)
    # the half day after 9-30 falls after National Day
    assert clock.deadline(at(2025, 9, 29, 9), 1.5, "work_days") == at(2025, 10, 9, 13, 45)


# --- WORK_HOURS ------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "hours", "expected"), [
    (at(2025, 9, 29, 9, 0), 2, at(2025, 9, 29, 11, 0)),
    # ends exactly at the end of a period: there, not at 13:30
    (at(2025, 9, 29, 11, 0), 1, at(2025, 9, 29, 12, 0)),
    # a start in the lunch break or before work begins counting at the next period
    (at(2025, 9, 29, 12, 30), 1, at(2025, 9, 29, 14, 30)),
    (at(2025, 9, 29, 7, 0), 2, at(2025, 9, 29, 10, 30)),
    (at(2025, 9, 29, 11, 0), 2, at(2025, 9, 29, 14, 30)),
    # Friday evening → the make-up Sunday 9-28
    (at(2025, 9, 26, 18, 0), 1, at(2025, 9, 28, 9, 30)),
    # 9-30 16:00: 1.5 h that day, then 3.5 h in the morning of 10-09, then 3 h
    (at(2025, 9, 30, 16, 0), 8, at(2025, 10, 9, 16, 30)),
    # a whole day's worth from the end of 9-30 is the end of 10-09
    (at(2025, 9, 30, 17, 30), 7.5, at(2025, 10, 9, 17, 30)),
    # across the year: 1 h on 2025-12-31, the next on the make-up Sunday 2026-01-04
    (at(2025, 12, 31, 16, 30), 2, at(2026, 1, 4, 9, 30)),
    # Spring Festival: 2026-02-14 (Sat, worked) then nothing until 02-24
    (at(2026, 2, 14, 16, 30), 2, at(2026, 2, 24, 9, 30)),
    (at(2026, 2, 13, 8, 30), Decimal("0.1"), at(2026, 2, 13, 8, 36)),
])
def test_work_hours(start, hours, expected):
    assert clock.deadline(start, hours, Unit.WORK_HOURS) == expected


def test_work_hours_over_weeks_match_the_working_seconds_counted():
    start = at(2025, 9, 15, 10, 17, 3)
    for hours in (1, 7.5, 33, 75, 150.25, 400):
        end = clock.deadline(start, hours, Unit.WORK_HOURS)
        assert clock.work_seconds_between(start, end) == pytest.approx(hours * H, abs=1e-6)


# --- calendar units and edge rules -----------------------------------------------------------


def test_minutes_and_days_ignore_the_calendar():
    assert clock.deadline(at(2025, 9, 30, 23, 30), 90, Unit.MINUTES) == at(2025, 10, 1, 1, 0)
    assert clock.deadline(at(2025, 9, 30, 10, 0), 3, Unit.DAYS) == at(2025, 10, 3, 10, 0)
    assert clock.deadline(at(2025, 12, 30, 10, 0), 2.5, Unit.DAYS) == at(2026, 1, 1, 22, 0)
    # another time zone in, Beijing time out, the same instant
    utc = dt.datetime(2025, 9, 30, 2, 0, tzinfo=dt.UTC)
    result = clock.deadline(utc, 30, Unit.MINUTES)
    assert result == at(2025, 9, 30, 10, 30) and result.utcoffset() == dt.timedelta(hours=8)


@pytest.mark.parametrize("unit", list(Unit))
def test_zero_returns_the_start_even_outside_working_time(unit):
    start = at(2025, 10, 3, 3, 0)  # a holiday, at night
    assert clock.deadline(start, 0, unit) == start
    assert clock.deadline(start, Decimal("0.00"), unit) == start


def test_results_are_local_aware_datetimes():
    result = clock.deadline(dt.datetime(2025, 9, 29, 1, 0, tzinfo=dt.UTC), 1, Unit.WORK_HOURS)
    assert result == at(2025, 9, 29, 10, 0)
    assert str(result.tzinfo) == "Asia/Shanghai"


@pytest.mark.parametrize(("args", "error"), [
    ((dt.datetime(2025, 9, 29, 9, 0), 1, Unit.WORK_HOURS), ValueError),  # naive
    ((at(2025, 9, 29, 9), -1, Unit.WORK_HOURS), ValueError),
    ((at(2025, 9, 29, 9), float("nan"), Unit.MINUTES), ValueError),
    ((at(2025, 9, 29, 9), 1, "fortnights"), ValueError),
    ((at(2025, 9, 29, 9), "3", Unit.DAYS), TypeError),
    ((at(2025, 9, 29, 9), True, Unit.DAYS), TypeError),
])
def test_bad_arguments_are_refused(args, error):
    with pytest.raises(error):
        clock.deadline(*args)


def test_work_seconds_between():
    assert clock.work_seconds_between(at(2025, 9, 29, 0), at(2025, 9, 30, 0)) == 7.5 * H
    # the whole National Day holiday contributes nothing
    assert clock.work_seconds_between(at(2025, 9, 30, 17, 30), at(2025, 10, 9, 8, 30)) == 0
    assert clock.work_seconds_between(at(2025, 9, 29, 11, 0), at(2025, 9, 29, 14, 0)) == 1.5 * H
    assert clock.work_seconds_between(at(2025, 9, 30), at(2025, 9, 29)) == 0
    # a month: its working days (the make-up Sunday 9-28 included), 7.5 h each
    working = sum(chinese_calendar.is_workday(d) for d in _days(D(2025, 9, 1), D(2025, 9, 30)))
    assert working == 23
    assert clock.work_seconds_between(at(2025, 9, 1), at(2025, 10, 1)) == working * 7.5 * H


# --- pausing ---------------------------------------------------------------------------------


def test_a_paused_work_clock_keeps_the_working_time_that_was_left():
    start = at(2025, 9, 29, 10, 0)
    due = clock.deadline(start, 3, Unit.WORK_DAYS)
    assert due == at(2025, 10, 10, 17, 30)  # 9-30, 10-09, 10-10
    # paused on 9-30 at 10:00: 6 h left that day + two full days
    left = clock.remaining(at(2025, 9, 30, 10, 0), due, Unit.WORK_DAYS)
    assert left == Remaining("work", 21 * H)
    # resumed on Monday 10-13 at 10:00: 6 h + 7.5 h + 7.5 h
    assert clock.resume(at(2025, 10, 13, 10, 0), left) == at(2025, 10, 15, 17, 30)
    # resumed during a holiday: counting starts on the next working day
    assert clock.resume(at(2025, 10, 5, 15, 0), left) == at(2025, 10, 11, 16, 0)


def test_a_paused_calendar_clock_shifts_by_the_pause():
    due = clock.deadline(at(2025, 9, 30, 10, 0), 2, Unit.DAYS)
    left = clock.remaining(at(2025, 10, 1, 10, 0), due, Unit.DAYS)
    assert left == Remaining("calendar", 24 * H)
    assert clock.resume(at(2025, 10, 5, 8, 0), left) == at(2025, 10, 6, 8, 0)


def test_an_overdue_clock_has_nothing_left_and_is_due_at_once_when_resumed():
    due = at(2025, 9, 29, 12, 0)
    for unit in Unit:
        left = clock.remaining(at(2025, 9, 29, 15, 0), due, unit)
        assert left.seconds == 0
        assert clock.resume(at(2025, 10, 4, 9, 0), left) == at(2025, 10, 4, 9, 0)


def test_remaining_then_resume_at_once_gives_the_same_deadline():
    for start, hours in ((at(2025, 9, 26, 18), 1), (at(2025, 9, 30, 16), 8),
                         (at(2026, 2, 13, 9, 7), 40)):
        due = clock.deadline(start, hours, Unit.WORK_HOURS)
        left = clock.remaining(start, due, "work_hours")
        assert left.seconds == pytest.approx(hours * H)
        assert clock.resume(start, left) == due


def test_remaining_survives_a_json_round_trip():
    left = clock.remaining(at(2025, 9, 30, 10), at(2025, 10, 9, 9), Unit.WORK_HOURS)
    stored = {"kind": left.kind, "seconds": left.seconds}
    assert clock.resume(at(2025, 9, 30, 10), Remaining(**stored)) == at(2025, 10, 9, 9)


def test_remaining_is_never_negative_and_knows_its_kinds():
    assert Remaining("work", -5).seconds == 0
    with pytest.raises(ValueError):
        Remaining("fortnight", 5)


# --- settings and speed ----------------------------------------------------------------------


def test_work_periods_come_from_the_setting(settings):
    settings.ZHILI_WORK_PERIODS = "09:00-17:00"
    assert clock.deadline(at(2025, 9, 29, 16, 30), 1, Unit.WORK_HOURS) == at(2025, 9, 30, 9, 30)
    assert clock.deadline(at(2025, 9, 29, 16, 30), 1, Unit.WORK_DAYS) == at(2025, 9, 30, 17, 0)


@pytest.mark.parametrize("raw", ["8-12", "12:00-08:30", "08:30-12:00,11:00-14:00", "25:00-26:00",
                                 " , "])
def test_a_bad_setting_is_refused_with_its_name(settings, raw):
    from zhili.workdays.checks import work_periods_are_valid

    settings.ZHILI_WORK_PERIODS = raw
    with pytest.raises(ImproperlyConfigured, match="ZHILI_WORK_PERIODS"):
        clock.deadline(at(2025, 9, 29, 9), 1, Unit.WORK_HOURS)
    assert [e.id for e in work_periods_are_valid(None)] == ["zhili.workdays.E001"]


def test_no_query_once_the_table_is_cached(fresh_cache, django_assert_num_queries):
    clock.is_workday(D(2025, 10, 1))  # loads the table
    with django_assert_num_queries(0):
        for _ in range(50):
            clock.deadline(at(2025, 9, 30, 10), 10, Unit.WORK_DAYS)
            clock.deadline(at(2025, 9, 30, 10), 75, Unit.WORK_HOURS)


def test_ten_working_days_walk_days_not_minutes(monkeypatch):
    visited = []
    original = clock._workday

    def counting(day, table):
        visited.append(day)
        return original(day, table)

    monkeypatch.setattr(clock, "_workday", counting)
    clock.deadline(at(2025, 9, 30, 10), 10, Unit.WORK_DAYS)
    assert len(visited) < 40
    visited.clear()
    clock.deadline(at(2025, 9, 30, 10), 75, Unit.WORK_HOURS)
    assert len(visited) < 40
