from zhili.core.testing import battery_factory
from zhili.orgs.models import Organisation


@battery_factory(Organisation)
def make_organisation(world, persona, inside: bool, marker: str):
    return world.org_inside(persona, marker) if inside else world.org_outside(persona, marker)
