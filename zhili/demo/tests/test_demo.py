import itertools

import pytest
from django.conf import settings
from django.core.management import call_command

from zhili.accounts.models import User
from zhili.areas.choices import AreaLevel
from zhili.areas.models import Area
from zhili.demo import geometry
from zhili.orgs.models import Organisation

pytestmark = pytest.mark.django_db


def box_of(area):
    ring = area.polygon["coordinates"][0]
    xs, ys = [p[0] for p in ring], [p[1] for p in ring]
    return min(xs), min(ys), max(xs), max(ys)


def overlap(a, b) -> bool:
    return a[0] < b[2] - 1e-9 and b[0] < a[2] - 1e-9 and a[1] < b[3] - 1e-9 and \
        b[1] < a[3] - 1e-9


def test_small_demo_is_real_nantong_and_idempotent(capsys):
    call_command("build_demo", "--scale", "small")
    out = capsys.readouterr().out
    counts = Area.objects.count_by_level()
    assert counts == {AreaLevel.CITY: 1, AreaLevel.COUNTY: 8, AreaLevel.TOWN: 136,
                      AreaLevel.VILLAGE: 2005, AreaLevel.GRID: 4010}
    assert Area.objects.get(code="320612001000000").name == "金沙街道"
    assert Organisation.objects.filter(kind="mediation", parent=None).exclude(
        area__level=AreaLevel.TOWN).count() == 176
    assert "city.dispatcher" in out and settings.ZHILI_DEMO_PASSWORD in out
    before = (Area.objects.count(), Organisation.objects.count(), User.objects.count())
    call_command("build_demo", "--scale", "small")
    assert (Area.objects.count(), Organisation.objects.count(), User.objects.count()) == before
    assert "added 0 areas, 0 grids, 0 organisations, 0 users" in capsys.readouterr().out


def test_demo_boundaries_nest_and_do_not_overlap():
    call_command("build_demo", "--scale", "small")
    town = Area.objects.get(code="320612001000000")
    villages = list(Area.objects.filter(parent=town))
    parent_box = box_of(town)
    for village in villages:
        b = box_of(village)
        assert parent_box[0] - 1e-9 <= b[0] and b[2] <= parent_box[2] + 1e-9
        assert village.geometry_synthetic
    for a, b in itertools.combinations(villages, 2):
        assert not overlap(box_of(a), box_of(b)), (a, b)


def test_split_gives_every_weight_its_share():
    cells = geometry.split((0.0, 0.0, 4.0, 1.0), [1, 1, 2])
    areas = [(c[2] - c[0]) * (c[3] - c[1]) for c in cells]
    assert areas == pytest.approx([1.0, 1.0, 2.0])


def test_demo_users_can_sign_in(client):
    call_command("build_demo", "--scale", "small")
    response = client.post("/accounts/login/", {"username": "town.dispatcher",
                                                "password": settings.ZHILI_DEMO_PASSWORD})
    assert response.status_code == 302
    home = client.get("/")
    assert "金沙街道" in home.content.decode()
    assert len(User.objects.get(username="town.dispatcher").positions.all()) == 2
