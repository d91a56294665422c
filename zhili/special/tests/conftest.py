import io

import pytest
from PIL import Image

from zhili.accounts.models import Position, Role, User
from zhili.core import pii
from zhili.core.pii.validation import id_check_digit
from zhili.core.scoping import forget_scope
from zhili.people.models import Person
from zhili.special import services
from zhili.special.models import SpecialCategory

MENTAL_DETAILS = {"family_economy": "02", "on_subsistence": False, "diagnosis": "01",
                  "has_incidents": True, "incident_count": 2, "treatment": "02",
                  "managers": ["01", "02"]}
CULT_DETAILS = {"organisation": "某组织", "involvement": "02", "transformation": "02"}


def id_number(region: str, birth: str, seq: str) -> str:
    """A valid GB 11643 number: region (6) + birth date (8) + sequence (3) + check digit."""
    body = f"{region}{birth}{seq}"
    return body + id_check_digit(body)


def make_person(area, name: str, number: str | None, phone: str | None = None) -> Person:
    person = Person(name=name, area=area, area_code=area.code, sex="1")
    pii.assign(person, "id_number", number)
    pii.assign(person, "phone", phone)
    person.save()
    return person


class Special:
    """The world, plus the people who run special-population work in 通州区: the 金沙 and
    兴东 town centres, the county centre, grid workers, and persons to manage."""

    def __init__(self, world):
        self.world = world
        self.grid_worker = world.personas["grid_worker"].user  # 金沙 第1网格
        self.town = self.user("d.jinsha", "dispatcher", world.town_a1, world.centre_a1)
        self.town2 = self.user("d.xingdong", "dispatcher", world.town_a2, world.centre_a2)
        self.county = self.user("d.tongzhou", "dispatcher", world.county_a)
        self.worker2 = self.user("g.xingdong", "grid_worker", world.village_a2)
        self.leader = self.user("l.tongzhou", "leader", world.county_a)
        self.mental = SpecialCategory.objects.get(code="mental")
        self.cult = SpecialCategory.objects.get(code="cult")
        self.released_cat = SpecialCategory.objects.get(code="released")
        self.zhang = make_person(world.grid_a1, "张三丰", id_number("320612", "19800101", "123"),
                                 "13812345678")
        self.li = make_person(world.grid_a1, "李四光", id_number("320612", "19750505", "246"))
        self.wang = make_person(world.village_a2, "王五", id_number("320612", "19900909", "357"))
        self.far = make_person(world.grid_b1, "赵六", id_number("320613", "19851212", "468"))

    @staticmethod
    def user(username, role_code, area, org=None):
        user = User.objects.create_user(username=username, password="Special#Pass2026x",
                                        display_name=username)
        Position.objects.create(user=user, role=Role.objects.get(code=role_code), area=area,
                                area_code=area.code, org=org)
        return user

    def intake(self, person=None, category=None, *, actor=None, level="strict",
               risk_level=None, details=None, **kw):
        category = category or self.mental
        if risk_level is None:
            risk_level = "3" if category.risk_scale == "danger" else "medium"
        if details is None:
            details = MENTAL_DETAILS if category.code == "mental" else CULT_DETAILS
        return services.put_under_management(
            actor=actor or self.town, person=person or self.zhang, category=category,
            level=level, risk_level=risk_level, details=details, **kw)

    @staticmethod
    def fresh(user):
        forget_scope(user)
        return user


@pytest.fixture
def sp(world):
    return Special(world)


@pytest.fixture
def jpeg_bytes():
    def make(size=(40, 30)) -> bytes:
        buffer = io.BytesIO()
        Image.new("RGB", size, (200, 120, 80)).save(buffer, "JPEG")
        return buffer.getvalue()

    return make
