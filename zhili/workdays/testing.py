import datetime as dt

from zhili.core.testing import battery_factory
from zhili.workdays.models import CalendarDay

# Far beyond any real notice, so battery rows never meet the seeded calendar.
_FIRST_PROBE = dt.date(2101, 1, 3)


@battery_factory(CalendarDay)
def make_calendar_day(world, persona, inside: bool, marker: str):
    """The calendar is national: every day is in everyone's reach, nothing is outside it
    (a persona without the permission still gets 403 from the battery)."""
    if not inside:
        return None
    taken = set(CalendarDay.objects.filter(date__gte=_FIRST_PROBE).values_list("date", flat=True))
    day = _FIRST_PROBE
    while day in taken or day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return CalendarDay.objects.create(date=day, is_workday=False, name=marker)
