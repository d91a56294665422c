"""Battery factories: a registry row the persona reaches (inside) or one it must not."""

from zhili.core.testing import battery_factory
from zhili.people.models import Building, House, Person, Residency, Unit


def _place(world, persona, inside: bool):
    # Registry rows are placed by area only (organisation staff reach them through the area
    # of their position, like any other area-scoped row).
    return world.area_inside(persona) if inside else world.area_outside(persona)


@battery_factory(Person)
def make_person(world, persona, inside: bool, marker: str):
    place = _place(world, persona, inside)
    if place is None:
        return None
    return Person.objects.create(name=marker, area=place, area_code=place.code)


@battery_factory(Residency)
def make_residency(world, persona, inside: bool, marker: str):
    person = make_person(world, persona, inside, marker)
    if person is None:
        return None
    return Residency.objects.create(person=person, kind="floating", area_code=person.area_code,
                                    inflow_reason="01", residence_type="02")


@battery_factory(Building)
def make_building(world, persona, inside: bool, marker: str):
    place = _place(world, persona, inside)
    if place is None:
        return None
    return Building.objects.create(estate=marker, name="1幢", floors=6, area=place,
                                   area_code=place.code)


@battery_factory(House)
def make_house(world, persona, inside: bool, marker: str):
    place = _place(world, persona, inside)
    if place is None:
        return None
    return House.objects.create(number=marker, area=place, area_code=place.code)


@battery_factory(Unit)
def make_unit(world, persona, inside: bool, marker: str):
    place = _place(world, persona, inside)
    if place is None:
        return None
    return Unit.objects.create(kind="enterprise", name=marker, area=place, area_code=place.code,
                               address="-", legal_rep_name="-", category="01", hazard="00")
