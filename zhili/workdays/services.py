"""Writes to the working-day calendar. The calendar is national, so there is no area to check:
only the permission. Every write drops the clock's cached table."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from zhili.core import audit
from zhili.core.scoping import require
from zhili.core.services import field_error
from zhili.workdays import clock
from zhili.workdays.models import CalendarDay, default_is_workday

NAME_MAX = CalendarDay._meta.get_field("name").max_length


def _check_date(date) -> dt.date:
    # A datetime is a date too, but a time of day here would be a caller's mistake.
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise field_error("date", _("Enter a valid date."))
    return date


@transaction.atomic
def set_day(*, actor, date: dt.date, is_workday: bool, name: str = "") -> CalendarDay | None:
    """Record that `date` is (or is not) a working day.

    Only exceptions are stored: a holiday on a weekday or a make-up workday on a weekend. A day
    set back to what the default rule says (Monday–Friday work) loses its row, and None is
    returned. Changing a row to the same values writes nothing.

    Deleting needs only the "change" permission, like every other edit of the calendar: setting
    a day back to the rule removes its row anyway."""
    require(actor, CalendarDay, "change")
    date = _check_date(date)
    is_workday = bool(is_workday)
    name = (name or "").strip()
    row = CalendarDay.objects.select_for_update().filter(date=date).first()
    before = {"is_workday": row.is_workday if row else default_is_workday(date),
              "name": row.name if row else ""}
    if is_workday == default_is_workday(date):
        if row is None:
            return None
        audit.record(actor=actor, action="workdays.set", target=row,
                     changes={"date": date, "is_workday": [before["is_workday"], is_workday],
                              "name": [before["name"], ""], "exception": "removed"})
        row.delete()
        clock.invalidate()
        return None
    if not name:
        raise field_error("name", _("Name the day, e.g. the holiday it belongs to."))
    if len(name) > NAME_MAX:
        raise field_error("name", _("At most %(n)d characters.") % {"n": NAME_MAX})
    if row is not None and row.is_workday == is_workday and row.name == name:
        return row
    if row is None:
        row = CalendarDay(date=date)
    row.is_workday, row.name = is_workday, name
    row.save()
    audit.record(actor=actor, action="workdays.set", target=row,
                 changes={"date": date, "is_workday": [before["is_workday"], is_workday],
                          "name": [before["name"], name]})
    clock.invalidate()
    return row


@transaction.atomic
def delete_day(*, actor, day: CalendarDay) -> None:
    """Remove an exception: the date follows the default rule again."""
    require(actor, CalendarDay, "change")
    row = CalendarDay.objects.select_for_update().filter(pk=day.pk).first()
    if row is None:
        return  # already removed (two admins, one click each): nothing left to do
    audit.record(actor=actor, action="workdays.delete", target=row,
                 changes={"date": row.date, "is_workday": row.is_workday, "name": row.name})
    row.delete()
    clock.invalidate()
