import datetime as dt

import pytest

from zhili.areas.models import Area
from zhili.people import validation
from zhili.people.demo import build_people
from zhili.people.models import House, Person, Residency, Unit

pytestmark = pytest.mark.django_db


def test_demo_registry_is_valid_and_idempotent(world):
    areas = {a.code: a for a in Area.objects.all()}
    created = build_people(scale="small", areas=areas, orgs={}, today=dt.date(2026, 6, 1))
    assert created == Person.objects.count() > 20
    assert House.objects.filter(is_rental=True).exists() and Unit.objects.exists()
    assert Residency.objects.filter(kind="registered").exists()
    for person in Person.objects.filter(id_type="111"):
        _cleaned, errors = validation.clean_person(
            {"name": person.name, "id_number": person.id_number, "sex": person.sex,
             "birth_date": person.birth_date, "phone": person.phone or ""},
            today=dt.date(2026, 6, 1))
        assert not errors, errors
    for unit in Unit.objects.all():
        assert validation.validate_uscc(unit.uscc)[1] == []
    assert Person.objects.first().history.count() == 1
    assert build_people(scale="small", areas=areas, orgs={}, today=dt.date(2026, 6, 1)) == 0
