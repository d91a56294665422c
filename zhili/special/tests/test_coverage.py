"""The coverage figures per area and category, from grouped queries."""

import datetime as dt

import pytest
from django.utils import timezone

from zhili.special import coverage, handovers, services
from zhili.special.deadlines import sweep_all

pytestmark = pytest.mark.django_db


def build(sp):
    """金沙 (town A1): two mental (one overdue, one lost contact), one cult; 兴东 (A2): one
    mental, visited twice; one handover from 金沙 to 兴东 pending; one released record."""
    z = sp.intake(level="strict", risk_level="4")
    li = sp.intake(person=sp.li, level="key", risk_level="1")  # every 14 days
    cult = sp.intake(person=sp.li, category=sp.cult, level="general", risk_level="low")
    w = sp.intake(person=sp.wang, actor=sp.town2, level="general", risk_level="0")
    for _ in range(2):
        services.record_visit(actor=sp.worker2, supervision=w, method="home", findings="正常")
    services.record_visit(actor=sp.grid_worker, supervision=cult, method="phone",
                          findings="正常")
    services.mark_lost_contact(actor=sp.grid_worker, supervision=li, note="失联")
    sweep_all(z.deadline_at + dt.timedelta(minutes=1))  # z is overdue
    handovers.propose_handover(actor=sp.town, supervision=cult,
                               to_area=sp.world.village_a2.code, reason="搬迁")
    gone = sp.intake(person=sp.far, actor=sp.world.personas["city_dispatcher"].user)
    services.release(actor=sp.world.personas["city_dispatcher"].user, supervision=gone,
                     reason="mistake")
    return z, li, cult, w


def test_coverage_of_a_county(sp, django_assert_max_num_queries):
    build(sp)
    today = timezone.localdate()
    with django_assert_max_num_queries(8):
        f = coverage.figures(sp.county, sp.world.county_a, start=today.replace(day=1),
                             end=today, now=timezone.now() + dt.timedelta(days=8))
    rows = {r.area.code: r for r in f.rows}
    assert set(rows) == {sp.world.town_a1.code, sp.world.town_a2.code}
    jinsha, xingdong = rows[sp.world.town_a1.code], rows[sp.world.town_a2.code]
    assert jinsha.total.managed == 3 and xingdong.total.managed == 1
    mental, cult = sp.mental.pk, sp.cult.pk
    assert jinsha.cells[mental].managed == 2 and jinsha.cells[cult].managed == 1
    assert jinsha.cells[mental].overdue == 1 and jinsha.cells[mental].lost == 1
    assert jinsha.cells[mental].on_schedule_rate == 50.0
    assert jinsha.cells[cult].visits == 1 and jinsha.cells[cult].handovers_out == 1
    assert jinsha.cells[cult].handing_over == 1
    assert xingdong.cells[mental].visits == 2 and xingdong.cells[mental].visited == 1
    assert xingdong.cells[cult].handovers_in == 1
    assert xingdong.total.on_schedule_rate == 100.0
    # Eight days on, the 7-day ones (and the 14-day warning window) come due.
    assert jinsha.cells[mental].due_soon == 1
    assert f.totals[mental].risk == {"4": 1, "1": 1, "0": 1}
    assert dict(f.risk_table()[0][1])["Level 4"] == 1
    assert f.grand.managed == 4  # the released record is not counted


def test_coverage_scoped_to_the_user(sp, client_for):
    build(sp)
    # The town dispatcher sees its villages; another town's page is out of reach.
    f = coverage.figures(sp.town, sp.world.town_a1, start=timezone.localdate(),
                         end=timezone.localdate())
    assert [r.area for r in f.rows] == [sp.world.village_a1]
    assert f.grand.managed == 3
    client = client_for(sp.town)
    assert client.get("/special/coverage/", {"area": sp.world.town_a2.code[:9]}).status_code \
        == 404
    response = client_for(sp.leader).get("/api/v1/special/coverage",
                                         {"area": sp.world.county_a.code[:6]})
    assert response.status_code == 200
    body = response.json()
    assert body["grand_total"]["managed"] == 4
    assert {r["area_name"] for r in body["rows"]} == {"金沙街道", "兴东街道"}
    assert body["totals"]["mental"]["overdue"] == 1
    page = client_for(sp.leader).get("/special/coverage/").content.decode()
    assert "金沙街道" in page and "张**" not in page
