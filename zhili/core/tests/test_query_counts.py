"""Lists must not issue a query per row: the count is the same for 3 rows and for 30."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from zhili.accounts.models import Position, User
from zhili.areas.models import Area
from zhili.core import codes
from zhili.orgs.models import Organisation

pytestmark = pytest.mark.django_db

LISTS = ["/api/v1/areas?limit=500", "/api/v1/orgs?limit=500", "/api/v1/accounts/users?limit=500",
         "/areas/", "/orgs/", "/accounts/users/", "/areas/{village}/"]


def _grow(world, n):
    start = Area.objects.filter(parent=world.village_a1).count() + 1
    for i in range(start, start + n):
        grid = Area.objects.create(code=codes.pad(f"{world.village_a1.prefix}{i:03d}"),
                                   name=f"网格{i}", level=5, parent=world.village_a1)
        Organisation.objects.create(name=f"单位{i}", kind="other", area=grid,
                                    area_code=grid.code)
        user = User.objects.create_user(username=f"u{i}", password="x")
        Position.objects.create(user=user, role=world.roles["grid_worker"], area=grid,
                                area_code=grid.code)


def _count(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


@pytest.mark.parametrize("url", LISTS)
def test_list_query_count_does_not_grow_with_rows(client_for, personas, world, url):
    client = client_for(personas["district_admin"])
    url = url.replace("{village}", str(world.village_a1.pk))
    _grow(world, 3)
    _count(client, url)  # warm-up: session and content-type caches fill on the first request
    few = _count(client, url)
    _grow(world, 30)
    many = _count(client, url)
    assert many == few, f"{url}: {few} queries for few rows, {many} for many"
