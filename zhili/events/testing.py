from django.core.files.base import ContentFile

from zhili.core.testing import battery_factory
from zhili.events.models import (
    Event,
    EventCategory,
    EventPhoto,
    RoutingRule,
    SLARule,
)


def _category():
    category, _ = EventCategory.objects.get_or_create(
        code="battery-cat", defaults={"name": "测试类别"})
    return category


def make_event(world, persona, inside: bool, marker: str, **extra):
    """An event the persona reaches (inside) or not: placed by area, or — for organisation
    staff — led by their organisation or by another one."""
    if persona.org_scoped:
        org = persona.org if inside else world.org_outside(persona, marker)
        place = org.area
    else:
        place = world.area_inside(persona) if inside else world.area_outside(persona)
        org = None
    if place is None:
        return None
    event = Event.objects.create(title=marker, category=_category(), channel="web", area=place,
                                 area_code=place.code, lead_org=org, **extra)
    event.number = f"SJ{event.pk:010d}"
    event.save(update_fields=["number"])
    return event


battery_factory(Event)(make_event)


@battery_factory(EventPhoto)
def make_photo(world, persona, inside: bool, marker: str):
    event = make_event(world, persona, inside, marker)
    if event is None:
        return None
    photo = EventPhoto(event=event, stage="report", extension="png", content_type="image/png",
                       size=4, width=1, height=1, sha256="0" * 64)
    photo.file.save("p.png", ContentFile(b"\x89PNG"), save=False)
    photo.save()
    return photo


@battery_factory(RoutingRule)
def make_rule(world, persona, inside: bool, marker: str):
    org = world.org_inside(persona, marker) if inside else world.org_outside(persona, marker)
    if org is None:
        return None
    return RoutingRule.objects.create(area=org.area, area_code=org.area_code, lead_org=org,
                                      note=marker)


@battery_factory(EventCategory)
def make_category(world, persona, inside: bool, marker: str):
    return EventCategory.objects.create(code=marker, name=marker) if inside else None


@battery_factory(SLARule)
def make_limit(world, persona, inside: bool, marker: str):
    if not inside:
        return None
    return SLARule.objects.create(category=_category(), urgency="critical", step="verify",
                                  amount=1, unit="work_hours")
