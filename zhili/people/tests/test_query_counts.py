"""Registry lists issue the same number of queries for 3 rows as for 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhili.people import services

pytestmark = pytest.mark.django_db

LISTS = ["/people/", "/people/houses/", "/people/buildings/", "/people/units/",
         "/api/v1/people/persons", "/api/v1/people/houses", "/api/v1/people/buildings",
         "/api/v1/people/units"]


def _grow(world, actor, ids, start, n):
    for i in range(start, start + n):
        person = services.create_person(actor=actor, area=world.grid_a1, data={
            "name": f"居民{i}", "id_number": ids(seq=f"{i:03d}"), "phone": f"138{i:08d}"}).obj
        services.save_residency(actor=actor, person=person, kind="floating", data={
            "inflow_reason": "01", "residence_type": "02"})
        building = services.create_building(actor=actor, area=world.grid_a1, data={
            "estate": f"小区{i}", "name": "1幢", "floors": 6, "leader_phone": "13600001111"}).obj
        services.create_house(actor=actor, area=world.grid_a1, building=building, data={
            "number": f"1-1-{i}", "address": "东市路"})
        services.create_unit(actor=actor, area=world.grid_a1, kind="enterprise", data={
            "uscc": _uscc(i), "name": f"公司{i}", "address": "x", "legal_rep_name": "周",
            "attention": "03", "category": "01", "hazard": "00"})


def _uscc(i: int) -> str:
    from zhili.core.pii.validation import uscc_check_char

    body = f"91320612MA{i:06d}0"
    return body + uscc_check_char(body)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", LISTS)
def test_list_query_count_does_not_grow_with_rows(world, client_for, ids, url):
    admin = world.personas["town_admin"].user
    client = client_for(admin)
    _grow(world, admin, ids, 1, 3)
    _count(client, url)
    few = _count(client, url)
    _grow(world, admin, ids, 4, 27)
    assert _count(client, url) == few, url
