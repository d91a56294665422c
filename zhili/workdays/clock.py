"""The working-day clock: time limits counted on China's calendar.

Time limits (grid events, disputes, rectification orders …) are set in one of four units:

- ``MINUTES`` and ``DAYS`` are calendar time: holidays and nights count like any other time;
- ``WORK_HOURS`` and ``WORK_DAYS`` count only *working time*: the working periods
  (``ZHILI_WORK_PERIODS``, default ``08:30-12:00,13:30-17:30``, in ``settings.TIME_ZONE``) of
  *working days*.

A working day is Monday–Friday, unless `CalendarDay` says otherwise: statutory holidays that fall
on weekdays are rest days and make-up workdays (调休) that fall on weekends are working days. The
table holds only those exceptions; it is read once and kept in this process (see `invalidate`).

Everything here is a pure function of its arguments, the settings and that table. Datetimes must
be timezone-aware; results are aware datetimes in ``settings.TIME_ZONE``. Amounts may be int,
float or Decimal and must not be negative. Calculations loop over days, never over minutes, and
use whole microseconds so that no rounding drifts.

Rules for ``deadline(start, amount, unit)``:

- ``MINUTES``: ``start`` plus ``amount`` minutes of elapsed time.
- ``DAYS``: the same local time of day ``amount`` calendar days later (a fraction adds that share
  of 24 hours).
- ``WORK_HOURS``: the earliest moment by which ``amount`` hours of working time have passed since
  ``start``. A start outside working time begins counting at the next working period; a limit
  used up exactly at the end of a period ends there (12:00), not at the start of the next one.
- ``WORK_DAYS``: the end of the last working period of the N-th working day *after* the start's
  local date. The start's own date never counts, even when it is a working day and the start is
  before office hours: "3 working days" from any time on Monday 2025-09-22 ends on Thursday
  09-25 at 17:30. A fractional part continues into the following working day by that share of
  its working time (1.5 working days from Monday ends on Wednesday halfway through the working
  time: 13:45 with the default periods).
- An amount of 0 returns ``start`` unchanged in every unit, also outside working time: a limit of
  nothing is due at once (and a clock paused with nothing left is overdue again when resumed).

Pausing ("waiting for the citizen"): ``remaining(now, deadline, unit)`` measures what is left,
in working seconds for the work units and in elapsed seconds for the calendar units, and
``resume(later, left)`` puts exactly that back from ``later`` (work time counted like
``WORK_HOURS``). A clock due 2025-10-10 17:30, paused on 09-30 at 10:00, has 21 working hours
left (6 that day, 7.5 on 10-09 and on 10-10); resumed on Monday 10-13 at 10:00 it is due on 10-15
at 17:30. The part of 09-30 already gone when it stopped stays used.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
import time
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db import models
from django.utils.translation import gettext_lazy as _

DEFAULT_WORK_PERIODS = "08:30-12:00,13:30-17:30"
# How often, at most, the cached exception table is compared with the database (seconds). Edits
# through the services are seen at once in their own process; other processes see them after this.
REFRESH_SECONDS = 60
# A limit that needs more days than this is a mistake (or a calendar without working days).
MAX_DAYS = 366 * 30

US = 1_000_000  # microseconds per second
ONE_DAY = dt.timedelta(days=1)
UTC = dt.UTC


class Unit(models.TextChoices):
    MINUTES = "minutes", _("minutes")  # 自然分钟
    WORK_HOURS = "work_hours", _("working hours")  # 工作时
    WORK_DAYS = "work_days", _("working days")  # 工作日
    DAYS = "days", _("calendar days")  # 自然日


WORK_UNITS = frozenset({Unit.WORK_HOURS, Unit.WORK_DAYS})
WORK = "work"
CALENDAR = "calendar"


@dataclass(frozen=True)
class Remaining:
    """Time left on a stopped clock: `seconds` of working time (kind "work") or of elapsed time
    (kind "calendar"). Never negative: an overdue clock has 0 left."""

    kind: str
    seconds: float

    def __post_init__(self):
        if self.kind not in (WORK, CALENDAR):
            raise ValueError(f"kind must be {WORK!r} or {CALENDAR!r}, not {self.kind!r}")
        seconds = float(self.seconds)
        if math.isnan(seconds) or math.isinf(seconds):
            raise ValueError("seconds must be a finite number")
        object.__setattr__(self, "seconds", max(0.0, seconds))


# ---------------------------------------------------------------------------------------------
# Settings


_PERIOD = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_parsed: tuple[str, tuple[tuple[dt.time, dt.time], ...]] | None = None


def parse_work_periods(raw: str) -> tuple[tuple[dt.time, dt.time], ...]:
    """``"08:30-12:00,13:30-17:30"`` → ((08:30, 12:00), (13:30, 17:30)); ValueError if malformed,
    empty, reversed or overlapping."""
    periods = []
    for part in (raw or "").split(","):
        if not part.strip():
            continue
        match = _PERIOD.match(part)
        if not match:
            raise ValueError(f"{part.strip()!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        try:
            start, end = dt.time(h1, m1), dt.time(h2, m2)
        except ValueError:
            raise ValueError(f"{part.strip()!r} is not a valid time range") from None
        if end <= start:
            raise ValueError(f"{part.strip()!r} ends before it starts")
        periods.append((start, end))
    if not periods:
        raise ValueError("no working period given")
    periods.sort()
    for (_s1, e1), (s2, _e2) in zip(periods, periods[1:], strict=False):
        if s2 < e1:
            raise ValueError("working periods overlap")
    return tuple(periods)


def work_periods() -> tuple[tuple[dt.time, dt.time], ...]:
    """The working periods of a working day, from ``settings.ZHILI_WORK_PERIODS``."""
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    global _parsed
    raw = getattr(settings, "ZHILI_WORK_PERIODS", None) or DEFAULT_WORK_PERIODS
    cached = _parsed
    if cached is not None and cached[0] == raw:
        return cached[1]
    try:
        periods = parse_work_periods(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"ZHILI_WORK_PERIODS: {exc}") from None
    _parsed = (raw, periods)
    return periods


def _tz():
    from django.utils import timezone

    return timezone.get_default_timezone()


# ---------------------------------------------------------------------------------------------
# The exception table, cached in this process


class _Cache:
    def __init__(self):
        self.lock = threading.Lock()
        self.days: dict[dt.date, bool] | None = None
        self.signature: tuple | None = None
        self.checked_at = -math.inf
        # True while a write may be uncommitted: the table is then re-checked on every call, so
        # a rolled-back write does not linger for a minute.
        self.suspect = False


_cache = _Cache()


def _signature() -> tuple:
    from django.db.models import Count, Max

    from zhili.workdays.models import CalendarDay

    row = CalendarDay.objects.dangerously_unscoped().aggregate(n=Count("id"),
                                                                last=Max("updated_at"))
    return row["n"], row["last"]


def _exceptions() -> dict[dt.date, bool]:
    """{date: is_workday} of every exception, refreshed when the table changed."""
    cache = _cache
    days = cache.days
    if days is not None and not cache.suspect and \
            time.monotonic() - cache.checked_at < REFRESH_SECONDS:
        return days
    from django.db import connection

    from zhili.workdays.models import CalendarDay

    with cache.lock:
        # Signature first, rows second: a write in between makes the next check reload.
        signature = _signature()
        if cache.days is None or signature != cache.signature:
            cache.days = dict(CalendarDay.objects.dangerously_unscoped()
                              .values_list("date", "is_workday"))
            cache.signature = signature
        cache.checked_at = time.monotonic()
        if cache.suspect and not connection.in_atomic_block:
            cache.suspect = False  # read outside any transaction: committed rows only
        return cache.days


def invalidate() -> None:
    """Forget the cached table; the next call reads it again. Services call this after every
    write, so the writer's own process sees the change at once (other processes within
    REFRESH_SECONDS).

    Inside a transaction, the table is re-checked on every call until it commits: should it
    roll back, the rows read meanwhile would otherwise be believed for a minute."""
    from django.db import connection, transaction

    with _cache.lock:
        _cache.days = None
        _cache.signature = None
        _cache.checked_at = -math.inf
        if connection.in_atomic_block:
            _cache.suspect = True
    if connection.in_atomic_block:
        transaction.on_commit(_committed)


def _committed() -> None:
    with _cache.lock:
        _cache.days = None
        _cache.checked_at = -math.inf
        _cache.suspect = False


# ---------------------------------------------------------------------------------------------
# Days and working periods


def _workday(day: dt.date, table: dict[dt.date, bool]) -> bool:
    found = table.get(day)
    return day.weekday() < 5 if found is None else found


def is_workday(day: dt.date) -> bool:
    """Whether ``day`` is a working day. A datetime counts by its local date."""
    if isinstance(day, dt.datetime):
        day = _local(day).date()
    return _workday(day, _exceptions())


def _local(moment: dt.datetime) -> dt.datetime:
    if not isinstance(moment, dt.datetime):
        raise TypeError(f"expected a datetime, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes given to the clock must be timezone-aware")
    return moment.astimezone(_tz())


def _elapsed_us(a: dt.datetime, b: dt.datetime) -> int:
    """Microseconds from a to b, in real elapsed time (UTC: right even where clocks shift)."""
    delta = b.astimezone(UTC) - a.astimezone(UTC)
    return (delta.days * 86400 + delta.seconds) * US + delta.microseconds


def _plus_us(moment: dt.datetime, us: int) -> dt.datetime:
    return (moment.astimezone(UTC) + dt.timedelta(microseconds=us)).astimezone(_tz())


def _windows(day: dt.date, table) -> list[tuple[dt.datetime, dt.datetime]]:
    """The working periods of ``day`` as aware local datetimes; none on a rest day."""
    if not _workday(day, table):
        return []
    tz = _tz()
    return [(dt.datetime.combine(day, start, tzinfo=tz), dt.datetime.combine(day, end, tzinfo=tz))
            for start, end in work_periods()]


def _work_us_between(a: dt.datetime, b: dt.datetime, table) -> int:
    if b <= a:
        return 0
    total, day, last = 0, a.date(), b.date()
    while day <= last:
        for start, end in _windows(day, table):
            lo, hi = max(start, a), min(end, b)
            if hi > lo:
                total += _elapsed_us(lo, hi)
        day += ONE_DAY
    return total


def _add_work_us(start: dt.datetime, us: int, table) -> dt.datetime:
    """The earliest moment by which ``us`` microseconds of working time have passed."""
    if us <= 0:
        return start
    day = start.date()
    for _step in range(MAX_DAYS):
        for period_start, period_end in _windows(day, table):
            lo = max(period_start, start)
            if period_end <= lo:
                continue
            available = _elapsed_us(lo, period_end)
            if us <= available:
                return _plus_us(lo, us)
            us -= available
        day += ONE_DAY
    raise ValueError(f"no end within {MAX_DAYS} days: check the working-day calendar")


def _nth_workday_after(day: dt.date, n: int, table) -> dt.date:
    for _step in range(MAX_DAYS):
        if n <= 0:
            return day
        day += ONE_DAY
        if _workday(day, table):
            n -= 1
    raise ValueError(f"no end within {MAX_DAYS} days: check the working-day calendar")


def work_seconds_between(a: dt.datetime, b: dt.datetime) -> float:
    """Seconds of working time between two moments (0 when b is not after a)."""
    return _work_us_between(_local(a), _local(b), _exceptions()) / US


# ---------------------------------------------------------------------------------------------
# Deadlines


def _amount(amount) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, int | float | Decimal):
        raise TypeError(f"amount must be a number, not {type(amount).__name__}")
    try:
        # str(): 0.1 hours is 360 seconds, not the binary float's 359.999…
        value = Decimal(str(amount)) if isinstance(amount, float) else Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"invalid amount {amount!r}") from None
    if not value.is_finite() or value < 0:
        raise ValueError(f"amount must be a non-negative number, not {amount!r}")
    return value


def _to_us(value: Decimal, seconds_per_unit: int) -> int:
    return int((value * seconds_per_unit * US).to_integral_value(rounding=ROUND_HALF_UP))


def deadline(start: dt.datetime, amount, unit) -> dt.datetime:
    """When a limit of ``amount`` ``unit`` running from ``start`` expires (rules: module doc).

    ``unit`` is a `Unit` or its value (``"work_days"`` …); raises ValueError for an unknown
    unit or a negative amount, and for a naive ``start``."""
    unit = Unit(unit)
    value = _amount(amount)
    local = _local(start)
    if value == 0:
        return local
    if unit == Unit.MINUTES:
        return _plus_us(local, _to_us(value, 60))
    if unit == Unit.DAYS:
        whole = int(value)
        moved = dt.datetime.combine(local.date() + dt.timedelta(days=whole), local.timetz())
        return _plus_us(moved, _to_us(value - whole, 86400))
    table = _exceptions()
    if unit == Unit.WORK_HOURS:
        return _add_work_us(local, _to_us(value, 3600), table)
    whole = int(value)
    fraction = value - whole
    day = _nth_workday_after(local.date(), whole, table)
    if not fraction:
        return _windows(day, table)[-1][1]
    following = _nth_workday_after(day, 1, table)
    periods = _windows(following, table)
    day_us = sum(_elapsed_us(a, b) for a, b in periods)
    share = int((fraction * day_us).to_integral_value(rounding=ROUND_HALF_UP))
    return _add_work_us(periods[0][0], share, table)


def remaining(now: dt.datetime, deadline: dt.datetime, unit) -> Remaining:
    """What is left of a limit at ``now``: working seconds for WORK_HOURS/WORK_DAYS, elapsed
    seconds for MINUTES/DAYS; 0 once the deadline has passed."""
    unit = Unit(unit)
    a, b = _local(now), _local(deadline)
    if unit in WORK_UNITS:
        return Remaining(WORK, _work_us_between(a, b, _exceptions()) / US)
    return Remaining(CALENDAR, max(0, _elapsed_us(a, b)) / US)


def resume(now: dt.datetime, remaining: Remaining) -> dt.datetime:
    """The new deadline of a clock restarted at ``now`` with ``remaining`` left: that much
    working time from ``now`` (kind "work", counted like WORK_HOURS) or elapsed time."""
    local = _local(now)
    us = round(remaining.seconds * US)
    if remaining.kind == WORK:
        return _add_work_us(local, us, _exceptions())
    return _plus_us(local, us)
