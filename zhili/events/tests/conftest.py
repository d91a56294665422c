import io

import pytest
from PIL import Image
from PIL.TiffImagePlugin import IFDRational

from zhili.accounts.models import Position, User
from zhili.events.models import EventCategory, RoutingRule


class Loop:
    """The world, plus the people of the event loop in 金沙街道 and a routing rule."""

    def __init__(self, world):
        self.world = world
        roles = world.roles
        self.grid_worker = world.personas["grid_worker"].user
        self.handler = world.personas["org_staff"].user  # 通州公安分局
        self.dispatcher = self._user("d.town", "dispatcher", world.town_a1, world.centre_a1)
        self.county_dispatcher = self._user("d.county", "dispatcher", world.county_a)
        self.city_dispatcher = world.personas["city_dispatcher"].user
        self.other_handler = self._user("h.justice", "handler", world.county_a, world.justice_a)
        self.garbage = EventCategory.objects.get(code="garbage")
        self.noise = EventCategory.objects.get(code="noise")
        RoutingRule.objects.create(area=world.county_a, area_code=world.county_a.code,
                                   category=self.garbage, lead_org=world.police_a)
        assert roles

    @staticmethod
    def _user(username, role_code, area, org=None):
        from zhili.accounts.models import Role

        user = User.objects.create_user(username=username, password="Loop#Pass2026x",
                                        display_name=username)
        Position.objects.create(user=user, role=Role.objects.get(code=role_code), area=area,
                                area_code=area.code, org=org)
        return user


@pytest.fixture
def loop(world):
    return Loop(world)


def jpeg(gps=None, size=(64, 48)) -> bytes:
    """A small JPEG, optionally with an EXIF GPS position (lat, lng)."""
    image = Image.new("RGB", size, (120, 160, 200))
    exif = Image.Exif()
    if gps:
        def dms(value):
            value = abs(value)
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            seconds = round(((value - degrees) * 60 - minutes) * 60 * 100)
            return (IFDRational(degrees, 1), IFDRational(minutes, 1), IFDRational(seconds, 100))

        from PIL.ExifTags import IFD

        exif.get_ifd(IFD.GPSInfo).update({1: "N", 2: dms(gps[0]), 3: "E", 4: dms(gps[1])})
        exif[0x010F] = "TestPhone"
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


@pytest.fixture
def photo_bytes():
    return jpeg
