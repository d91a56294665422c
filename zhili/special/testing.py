"""Battery factories: records, handovers, photos and categories placed inside or outside a
persona's reach (see zhili.core.testing)."""

from django.core.files.base import ContentFile

from zhili.core.testing import battery_factory
from zhili.people.models import Person
from zhili.special.choices import HandoverState, SupervisionState
from zhili.special.models import (
    Coverage,
    Handover,
    SpecialCategory,
    Supervision,
    Visit,
    VisitPhoto,
)


def _category():
    category, _ = SpecialCategory.objects.get_or_create(
        code="battery-special", defaults={"name": "测试类别", "visit_days": {
            "strict": 7, "key": 15, "general": 30}})
    return category


def _record(place, marker: str, **extra) -> Supervision:
    person = Person.objects.create(name=marker, area=place, area_code=place.code)
    return Supervision.objects.create(person=person, category=_category(), level="general",
                                      risk_level="low", area=place, area_code=place.code,
                                      note=marker, **extra)


@battery_factory(Supervision)
def make_record(world, persona, inside: bool, marker: str):
    place = world.area_inside(persona) if inside else world.area_outside(persona)
    return None if place is None else _record(place, marker)


battery_factory(Coverage)(make_record)


@battery_factory(Handover)
def make_handover(world, persona, inside: bool, marker: str):
    """Inside: the persona's area receives it (from elsewhere). Outside: neither side is in
    the persona's reach."""
    if inside:
        to = world.area_inside(persona)
        if to is None:
            return None
        sender = world.area_outside(persona) or (world.grid_a1b if to != world.grid_a1b
                                                 else world.grid_a1)
    else:
        sender = to = world.area_outside(persona)
        if sender is None:
            return None
    record = _record(sender, marker, state=SupervisionState.HANDING_OVER,
                     pending_area_code=to.code)
    return Handover.objects.create(supervision=record, from_area=sender,
                                   from_area_code=sender.code, to_area=to, to_area_code=to.code,
                                   arbiter_area=world.city, reason=marker,
                                   state=HandoverState.PENDING)


@battery_factory(VisitPhoto)
def make_photo(world, persona, inside: bool, marker: str):
    record = make_record(world, persona, inside, marker)
    if record is None:
        return None
    visit = Visit.objects.create(supervision=record, category=record.category,
                                 area_code=record.area_code, method="home", findings=marker)
    photo = VisitPhoto(visit=visit, extension="png", content_type="image/png", size=4, width=1,
                       height=1, sha256="0" * 64)
    photo.file.save("p.png", ContentFile(b"\x89PNG"), save=False)
    photo.save()
    return photo


@battery_factory(SpecialCategory)
def make_category(world, persona, inside: bool, marker: str):
    return SpecialCategory.objects.create(code=marker, name=marker) if inside else None
