from zhili.areas.models import Area
from zhili.core import codes
from zhili.core.testing import battery_factory


@battery_factory(Area)
def make_area(world, persona, inside: bool, marker: str):
    if inside:
        return world.area_inside(persona)
    place = world.area_outside(persona)
    if place is None:
        return None
    parent = place if place.level < 5 else place.parent
    taken = set(Area.objects.filter(parent=parent).values_list("code", flat=True))
    width = codes.LEVEL_BY_RANK[parent.level + 1].digits - len(parent.prefix)
    number = next(n for n in range(1, 10**width)
                  if codes.pad(parent.prefix + str(n).zfill(width)) not in taken)
    area = Area.objects.create(code=codes.pad(parent.prefix + str(number).zfill(width)),
                               name=marker, level=parent.level + 1, parent=parent)
    assert not (persona.area and world.descends(area, persona.area))
    return area
