import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from zhili.accounts.models import Position, User
from zhili.core.models import AuditLog
from zhili.core.services import ServiceError
from zhili.core.testing import role_perms
from zhili.workdays import clock, services
from zhili.workdays.clock import Unit
from zhili.workdays.models import CalendarDay
from zhili.workdays.tests.conftest import at

pytestmark = pytest.mark.usefixtures("calendar")

D = dt.date
# An ordinary Wednesday and Saturday (no notice touches them).
WEDNESDAY, SATURDAY = D(2025, 10, 15), D(2025, 10, 18)


@pytest.fixture
def sysadmin(world):
    user = User.objects.create_user(username="calendar.admin", password=world.PASSWORD)
    Position.objects.create(user=user, role=world.roles["sysadmin"], area=world.city,
                            area_code=world.city.code)
    return user


def _audit(action):
    return list(AuditLog.objects.filter(action=action).order_by("seq"))


def test_every_role_may_view_and_only_the_system_administrator_may_change(world):
    for code, role in world.roles.items():
        perms = role_perms(role)
        assert "workdays.view_calendarday" in perms, code
        assert ("workdays.change_calendarday" in perms) == (code == "sysadmin"), code


def test_a_new_holiday_is_used_by_the_clock_at_once(sysadmin):
    assert clock.is_workday(WEDNESDAY)
    before = clock.deadline(at(2025, 10, 14, 10), 1, Unit.WORK_DAYS)
    assert before == at(2025, 10, 15, 17, 30)
    row = services.set_day(actor=sysadmin, date=WEDNESDAY, is_workday=False, name=" 防汛停工 ")
    assert row.name == "防汛停工" and not row.is_workday
    assert not clock.is_workday(WEDNESDAY)
    assert clock.deadline(at(2025, 10, 14, 10), 1, Unit.WORK_DAYS) == at(2025, 10, 16, 17, 30)
    [entry] = _audit("workdays.set")
    assert entry.actor == sysadmin and entry.target_id == str(row.pk)
    assert entry.changes == {"date": "2025-10-15", "is_workday": [True, False],
                             "name": ["", "防汛停工"]}


def test_a_make_up_saturday_and_a_rename(sysadmin):
    services.set_day(actor=sysadmin, date=SATURDAY, is_workday=True, name="补班")
    assert clock.is_workday(SATURDAY)
    services.set_day(actor=sysadmin, date=SATURDAY, is_workday=True, name="调休上班")
    assert CalendarDay.objects.get(date=SATURDAY).name == "调休上班"
    # the same values again write nothing
    services.set_day(actor=sysadmin, date=SATURDAY, is_workday=True, name="调休上班")
    assert [e.changes["name"] for e in _audit("workdays.set")] == [["", "补班"],
                                                                  ["补班", "调休上班"]]


def test_setting_a_day_back_to_the_rule_removes_its_row(sysadmin):
    national_day = D(2025, 10, 1)
    assert not clock.is_workday(national_day)
    assert services.set_day(actor=sysadmin, date=national_day, is_workday=True, name="") is None
    assert not CalendarDay.objects.filter(date=national_day).exists()
    assert clock.is_workday(national_day)
    [entry] = _audit("workdays.set")
    assert entry.changes["exception"] == "removed"
    assert entry.changes["is_workday"] == [False, True]
    # a day that already follows the rule: nothing stored, nothing audited
    assert services.set_day(actor=sysadmin, date=WEDNESDAY, is_workday=True, name="x") is None
    assert not CalendarDay.objects.filter(date=WEDNESDAY).exists()
    assert len(_audit("workdays.set")) == 1


def test_delete_day(sysadmin):
    row = CalendarDay.objects.get(date=D(2025, 10, 8))
    services.delete_day(actor=sysadmin, day=row)
    assert clock.is_workday(D(2025, 10, 8))
    [entry] = _audit("workdays.delete")
    assert entry.changes == {"date": "2025-10-08", "is_workday": False, "name": "国庆节"}
    services.delete_day(actor=sysadmin, day=row)  # twice: nothing left to do
    assert len(_audit("workdays.delete")) == 1


@pytest.mark.parametrize(("date", "is_workday", "name", "field"), [
    (SATURDAY, True, "  ", "name"),
    (WEDNESDAY, False, "x" * 101, "name"),
    (dt.datetime(2025, 10, 15, 9, 0), False, "x", "date"),
    ("2025-10-15", False, "x", "date"),
])
def test_refusals_name_the_field(sysadmin, date, is_workday, name, field):
    with pytest.raises(ServiceError) as exc:
        services.set_day(actor=sysadmin, date=date, is_workday=is_workday, name=name)
    assert list(exc.value.field_messages) == [field]
    assert not CalendarDay.objects.filter(date__in=[WEDNESDAY, SATURDAY]).exists()


@pytest.mark.parametrize("key", ["district_admin", "city_dispatcher", "grid_worker", "outsider"])
def test_only_administrators_may_change_the_calendar(personas, key):
    user = personas[key].user
    with pytest.raises(PermissionDenied):
        services.set_day(actor=user, date=WEDNESDAY, is_workday=False, name="停工")
    with pytest.raises(PermissionDenied):
        services.delete_day(actor=user, day=CalendarDay.objects.get(date=D(2025, 10, 1)))
    assert clock.is_workday(WEDNESDAY) and not clock.is_workday(D(2025, 10, 1))
    assert not _audit("workdays.set") and not _audit("workdays.delete")


def test_the_superuser_may_change_it_too(personas):
    services.set_day(actor=personas["superuser"].user, date=WEDNESDAY, is_workday=False,
                     name="停工")
    assert not clock.is_workday(WEDNESDAY)


def test_everyone_signed_in_reads_the_whole_calendar(personas):
    total = CalendarDay.objects.count()
    for key in ("grid_worker", "org_staff", "sibling_admin"):
        assert CalendarDay.objects.restrict(personas[key].user).count() == total
    # in reach for an account without a position, but it may not view (→ 403, not 404) …
    outsider = personas["outsider"].user
    assert CalendarDay.objects.in_scope(outsider).count() == total
    assert CalendarDay.objects.restrict(outsider).count() == 0
    # … and nothing for nobody
    from django.contrib.auth.models import AnonymousUser

    assert CalendarDay.objects.in_scope(AnonymousUser()).count() == 0


# --- the cache -------------------------------------------------------------------------------


def test_a_rolled_back_change_does_not_linger_in_the_cache(sysadmin):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.set_day(actor=sysadmin, date=WEDNESDAY, is_workday=False, name="停工")
        assert not clock.is_workday(WEDNESDAY)
        raise RuntimeError("the surrounding request failed")
    assert clock.is_workday(WEDNESDAY)


def test_changes_from_another_process_are_seen_within_a_minute(fresh_cache,
                                                              django_assert_num_queries):
    assert not clock.is_workday(D(2025, 10, 8))
    # another process edits the row (no signal reaches this one)
    CalendarDay.objects.filter(date=D(2025, 10, 8)).update(is_workday=True,
                                                           updated_at=timezone.now())
    with django_assert_num_queries(0):
        assert not clock.is_workday(D(2025, 10, 8))  # still the cached table
    fresh_cache.checked_at -= clock.REFRESH_SECONDS + 1  # a minute later
    assert clock.is_workday(D(2025, 10, 8))


def test_invalidate_forgets_the_table(fresh_cache):
    clock.is_workday(WEDNESDAY)
    assert fresh_cache.days is not None
    clock.invalidate()
    assert fresh_cache.days is None
    CalendarDay.objects.filter(date=D(2025, 10, 8)).delete()  # the signal invalidates too
    assert clock.is_workday(D(2025, 10, 8))
