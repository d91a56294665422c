"""Battery factory: a device placed inside or outside a persona's reach (see
zhili.core.testing). Organisation staff reach devices through their organisation, everyone
else through the area."""

from zhili.core.testing import battery_factory
from zhili.devices.models import Device


@battery_factory(Device)
def make_device(world, persona, inside: bool, marker: str):
    if persona.org_scoped:
        org = persona.org if inside else world.org_outside(persona, marker)
        if org is None:
            return None
        place = org.area
    else:
        place = world.area_inside(persona) if inside else world.area_outside(persona)
        if place is None:
            return None
        org = None
    return Device.objects.create(kind="xray", code=marker, name=marker, org=org, area=place,
                                 area_code=place.code)
