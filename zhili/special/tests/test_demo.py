"""The demo builder puts persons under management with a lived-in history."""

import pytest
from django.utils import timezone

from zhili.areas.models import Area
from zhili.core import pii
from zhili.people.models import Person
from zhili.special.demo import build_special
from zhili.special.fields import clean_details, definitions_of
from zhili.special.models import Handover, HelperMember, Supervision, Visit

pytestmark = pytest.mark.django_db


def test_build_special_without_persons(world):
    areas = {a.code: a for a in Area.objects.all()}
    n = build_special(scale="small", areas=areas, orgs={}, today=timezone.localdate())
    assert n == Supervision.objects.count() >= 60
    person = Person.objects.first()
    assert pii.validate_id_number(person.id_number).number == person.id_number
    assert set(Supervision.objects.values_list("category__code", flat=True)) >= {
        "mental", "released", "drug"}
    for record in Supervision.objects.select_related("category"):
        assert clean_details(definitions_of(record.category), record.details) == record.details
    assert Visit.objects.count() > n
    assert Supervision.objects.filter(overdue=True).exists()
    assert Supervision.objects.filter(state="released").exists()
    assert Handover.objects.filter(state__in=["pending", "disputed"]).exists()
    mental = Supervision.objects.filter(category__code="mental").first()
    assert set(mental.helpers.values_list("role", flat=True)) == {
        "doctor", "guardian", "cadre", "police"}
    assert HelperMember.objects.exclude(phone=None).exists()
    # Idempotent.
    assert build_special(scale="small", areas=areas, orgs={}, today=timezone.localdate()) == 0
