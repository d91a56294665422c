from zhili.accounts.models import ApiKey, Position, User
from zhili.core.testing import battery_factory


def _position(world, persona, inside: bool, marker: str):
    """A user holding one position the persona does (not) reach."""
    if persona.org_scoped:
        org = persona.org if inside else world.org_outside(persona, marker)
        place, role = org.area, world.roles["handler"]
    else:
        place = world.area_inside(persona) if inside else world.area_outside(persona)
        org, role = None, world.roles["grid_worker"]
    if place is None:
        return None
    user = User.objects.create_user(username=marker, password=world.PASSWORD,
                                    display_name=marker)
    return Position.objects.create(user=user, role=role, area=place, area_code=place.code,
                                   org=org)


@battery_factory(Position)
def make_position(world, persona, inside: bool, marker: str):
    return _position(world, persona, inside, marker)


@battery_factory(User)
def make_user(world, persona, inside: bool, marker: str):
    position = _position(world, persona, inside, marker)
    return position.user if position else None


@battery_factory(ApiKey)
def make_api_key(world, persona, inside: bool, marker: str):
    org = world.org_inside(persona, marker) if inside else world.org_outside(persona, marker)
    if org is None:
        return None
    service = User.objects.create(username=f"svc-{marker}", is_service=True)
    Position.objects.create(user=service, role=world.roles["api_client"], area=org.area,
                            area_code=org.area_code, org=org)
    return ApiKey.objects.create(name=marker, org=org, area_code=org.area_code,
                                 role=world.roles["api_client"], service_user=service,
                                 prefix=marker[-10:], key_hash="0" * 64)
