import datetime as dt
from io import StringIO

import chinese_calendar
import pytest
from django.core.management import CommandError, call_command

from zhili.core.models import AuditLog
from zhili.workdays import clock, seeding
from zhili.workdays.models import CalendarDay

pytestmark = pytest.mark.django_db


def _rows(year):
    return {(r.date, r.is_workday, r.name) for r in CalendarDay.objects.in_year(year)}


def test_only_exceptions_to_the_week_are_taken():
    days = seeding.package_exceptions(2025)
    assert all((d.date.weekday() < 5) != d.is_workday for d in days)
    assert all(chinese_calendar.is_workday(d.date) == d.is_workday for d in days)
    assert {(d.date, d.name) for d in days if d.is_workday} == {
        (dt.date(2025, 1, 26), "春节调休"), (dt.date(2025, 2, 8), "春节调休"),
        (dt.date(2025, 4, 27), "劳动节调休"), (dt.date(2025, 9, 28), "国庆节调休"),
        (dt.date(2025, 10, 11), "国庆节调休")}
    assert seeding.package_years()[0] == 2004


def test_the_migration_seeded_every_year_the_package_knows():
    # (the table may have been emptied by a transactional test run before: then re-seed)
    if not CalendarDay.objects.exists():
        seeding.seed()
    for year in seeding.package_years():
        assert _rows(year) == {(d.date, d.is_workday, d.name)
                               for d in seeding.package_exceptions(year)}, year


def test_the_command_is_idempotent_and_keeps_days_entered_by_hand():
    CalendarDay.objects.in_year(2025).delete()
    CalendarDay.objects.create(date=dt.date(2027, 10, 1), is_workday=False, name="国庆节")
    n = len(seeding.package_exceptions(2025))
    out = StringIO()
    call_command("seed_workdays", year=2025, stdout=out)
    assert f"2025: {n} added, 0 corrected, 0 already right" in out.getvalue()
    assert not clock.is_workday(dt.date(2025, 10, 1))
    CalendarDay.objects.filter(date=dt.date(2025, 10, 1)).update(name="wrong", is_workday=True)
    out = StringIO()
    call_command("seed_workdays", year=2025, stdout=out)
    assert f"0 added, 1 corrected, {n - 1} already right" in out.getvalue()
    assert CalendarDay.objects.get(date=dt.date(2025, 10, 1)).name == "国庆节"
    call_command("seed_workdays", stdout=StringIO())
    assert CalendarDay.objects.filter(date=dt.date(2027, 10, 1)).exists()
    entries = AuditLog.objects.filter(action="workdays.seed").order_by("seq")
    assert [e.changes for e in entries][:2] == [
        {"year": 2025, "created": n, "updated": 0},
        {"year": 2025, "created": 0, "updated": 1}]


def test_the_command_refuses_a_year_the_package_does_not_know():
    with pytest.raises(CommandError, match="enter the State Council's holiday notice"):
        call_command("seed_workdays", year=2040, stdout=StringIO())
