import datetime as dt
import re

import pytest

from zhili.core.models import AuditLog
from zhili.workdays import clock
from zhili.workdays.models import CalendarDay

pytestmark = pytest.mark.usefixtures("calendar")


def _cell(page: str, date: str) -> str:
    """The class attribute of a day's cell in the month grid."""
    match = re.search(r'<td class="([^"]*)"[^>]*data-date="' + date + '"', page)
    return match.group(1) if match else ""


def test_everyone_with_a_position_sees_the_year(client_for, personas):
    client = client_for(personas["grid_worker"])
    response = client.get("/workdays/?year=2025")
    assert response.status_code == 200
    page = response.content.decode()
    assert "国庆节" in page and "国庆节调休" in page
    assert "zl-wd-holiday" in _cell(page, "2025-10-01")
    assert "zl-wd-makeup" in _cell(page, "2025-09-28")
    assert "zl-wd-rest" in _cell(page, "2025-10-12")
    assert _cell(page, "2025-10-09") == ""  # an ordinary working day
    assert "08:30–12:00, 13:30–17:30" in page
    # read only: no form, no buttons
    assert 'data-testid="workdays-add"' not in page and "/workdays/set/" not in page
    assert "enter the State Council" not in page


def test_the_nav_item_shows_for_every_role(client_for, personas):
    page = client_for(personas["org_staff"]).get("/").content.decode()
    assert 'href="/workdays/"' in page and "Working-day calendar" in page


def test_an_account_without_a_position_is_refused(client_for, personas):
    assert client_for(personas["outsider"]).get("/workdays/").status_code == 403


def test_a_year_the_package_does_not_know_asks_for_the_notice(client_for, personas):
    client = client_for(personas["superuser"])
    page = client.get("/workdays/?year=2030").content.decode()
    assert "enter the State Council's holiday notice for this year" in page
    assert "2004–2026" in page
    # once something is entered, the notice goes
    client.post("/workdays/set/", {"date": "2030-10-01", "is_workday": "holiday",
                                   "name": "国庆节"})
    page = client.get("/workdays/?year=2030").content.decode()
    assert "enter the State Council" not in page
    assert "zl-wd-holiday" in _cell(page, "2030-10-01")


def test_a_bad_year_shows_this_year(client_for, personas):
    client = client_for(personas["grid_worker"])
    response = client.get("/workdays/?year=abc")
    assert response.status_code == 200
    assert response.context["year"] == dt.date.today().year


def test_add_an_exception(client_for, personas):
    client = client_for(personas["superuser"])
    page = client.get("/workdays/?year=2025").content.decode()
    assert 'data-testid="workdays-add"' in page
    response = client.post("/workdays/set/", {"date": "2025-10-15", "is_workday": "holiday",
                                              "name": "防汛停工"})
    assert response.status_code == 302 and response["Location"] == "/workdays/?year=2025"
    row = CalendarDay.objects.get(date="2025-10-15")
    assert not row.is_workday and row.name == "防汛停工"
    assert not clock.is_workday(dt.date(2025, 10, 15))
    assert AuditLog.objects.filter(action="workdays.set", target_id=str(row.pk)).exists()
    page = client.get(response["Location"]).content.decode()
    assert "is a holiday (防汛停工)" in page


def test_the_add_form_suggests_the_kind_a_day_can_be(client_for, personas):
    client = client_for(personas["superuser"])
    form = client.get("/workdays/set/?date=2025-10-18").context["form"]  # a Saturday
    assert form.initial == {"date": dt.date(2025, 10, 18), "is_workday": "workday"}


@pytest.mark.parametrize(("data", "field"), [
    ({"date": "2025-02-30", "is_workday": "holiday", "name": "x"}, "date"),
    ({"date": "", "is_workday": "holiday", "name": "x"}, "date"),
    ({"date": "2025-10-15", "is_workday": "sometimes", "name": "x"}, "is_workday"),
    ({"date": "2025-10-18", "is_workday": "workday", "name": ""}, "name"),  # from the service
])
def test_bad_input_shows_field_errors(client_for, personas, data, field):
    client = client_for(personas["superuser"])
    before = CalendarDay.objects.count()
    response = client.post("/workdays/set/", data)
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == [field]
    assert 'class="invalid-feedback d-block"' in response.content.decode()
    assert CalendarDay.objects.count() == before


def test_edit_and_delete(client_for, personas):
    client = client_for(personas["superuser"])
    row = CalendarDay.objects.get(date="2025-10-08")
    assert client.get(f"/workdays/{row.pk}/edit/").status_code == 200
    response = client.post(f"/workdays/{row.pk}/edit/", {"is_workday": "holiday",
                                                         "name": "国庆节（延长）"})
    assert response.status_code == 302 and response["Location"] == "/workdays/?year=2025"
    row.refresh_from_db()
    assert row.name == "国庆节（延长）"
    # a weekday set back to "work" is no exception any more
    client.post(f"/workdays/{row.pk}/edit/", {"is_workday": "workday", "name": ""})
    assert not CalendarDay.objects.filter(pk=row.pk).exists()
    assert clock.is_workday(dt.date(2025, 10, 8))
    other = CalendarDay.objects.get(date="2025-10-07")
    response = client.post(f"/workdays/{other.pk}/delete/")
    assert response.status_code == 302 and response["Location"] == "/workdays/?year=2025"
    assert not CalendarDay.objects.filter(pk=other.pk).exists()
    assert AuditLog.objects.filter(action="workdays.delete", target_id=str(other.pk)).exists()
    assert clock.is_workday(dt.date(2025, 10, 7))


@pytest.mark.parametrize("key", ["district_admin", "grid_worker"])
def test_changes_are_refused_without_the_permission(client_for, personas, key):
    client = client_for(personas[key])
    row = CalendarDay.objects.get(date="2025-10-08")
    assert client.post("/workdays/set/", {"date": "2025-10-15", "is_workday": "holiday",
                                          "name": "x"}).status_code == 403
    assert client.post(f"/workdays/{row.pk}/edit/", {"is_workday": "workday"}).status_code \
        == 403
    assert client.post(f"/workdays/{row.pk}/delete/").status_code == 403
    assert CalendarDay.objects.filter(pk=row.pk).exists()
    assert not CalendarDay.objects.filter(date="2025-10-15").exists()
