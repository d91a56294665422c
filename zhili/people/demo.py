"""Demo registry: buildings with their leaders, houses (some rented out, with owners and
tenants), households of persons with valid ID numbers, residency facts (registered, floating,
left-behind, foreign) and units with valid credit codes.

The demo users' town (金沙街道) is filled densely; elsewhere a share of the grids gets a few
households, so every level of the tree has figures. Written in bulk (not through the services)
so the small scale builds in seconds; values are encrypted and indexed exactly as the services
would (`pii.assign`), and a creation history row is written for each record.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from simple_history.utils import bulk_create_with_history

from zhili.areas.choices import AreaLevel
from zhili.core import codes, pii
from zhili.core.pii.validation import id_check_digit, org_code_check_char, uscc_check_char
from zhili.people.models import Building, House, Person, Residency, Unit

SEED = 3206
HOME_TOWN = "320612001"  # 金沙街道, where the demo users work
# (persons' households per densely filled grid, share of other grids with a few households)
DENSITY = {"small": (14, 1 / 10), "city": (20, 1 / 2)}
LIGHT_HOUSEHOLDS = 3
# Division codes that Nantong ID numbers carry (current and pre-2020 county codes).
NANTONG_REGIONS = {
    "320612": ["320612", "320683"],  # 通州区 (通州市 before 2009)
    "320613": ["320613", "320602", "320611"],  # 崇川区 (港闸区 merged in 2020)
    "320614": ["320614", "320684"],  # 海门区 (海门市 before 2020)
    "320623": ["320623"], "320671": ["320602", "320612"], "320681": ["320681"],
    "320682": ["320682"], "320685": ["320685", "320621"],
}
# Where floating residents come from (county codes of GB/T 2260).
ORIGINS = ["341221", "341225", "341282", "411522", "411526", "510921", "320923", "321323",
           "340826", "362329", "522121", "130529"]
SURNAMES = ("张王李陈刘杨黄吴徐朱周顾陆沈钱施曹季缪冯蔡袁倪丁范姜蒋邱曾葛严秦薛瞿成"
            "何高胡孙马郭林罗梁宋郑谢韩唐许邓冯")
MALE_CHARS = "伟强磊军勇杰涛斌超明辉刚健平建国志华俊峰宇浩凯鹏飞海波林东"
FEMALE_CHARS = "芳娟敏静丽艳娜秀英霞玲燕琴红梅兰凤洁萍婷雪慧晶莉倩颖雯"
ROADS = ["人民路", "工农路", "青年路", "长江路", "世纪大道", "金沙路", "新金路", "府前路",
         "北大街", "兴东路", "桃园路", "南山路"]
ESTATES = ["花园", "新村", "小区", "家园", "苑", "名都"]
TRADES = ["纺织", "家纺", "建筑", "机械", "电子", "船舶配件", "食品", "物流", "服装", "五金"]
FOREIGNERS = [("KOR", "KIM", "MINJUN"), ("JPN", "SATO", "HARUTO"), ("USA", "SMITH", "JOHN"),
              ("DEU", "MUELLER", "ANNA"), ("VNM", "NGUYEN", "LAN")]


def _name(rng: random.Random, male: bool) -> str:
    chars = MALE_CHARS if male else FEMALE_CHARS
    given = rng.choice(chars) + (rng.choice(chars) if rng.random() < 0.7 else "")
    return rng.choice(SURNAMES) + given


class _Ids:
    """Unique, valid resident ID numbers: region + birth date + sequence + check digit."""

    def __init__(self, rng: random.Random):
        self.rng, self.used = rng, set()

    def make(self, region: str, born: dt.date, male: bool) -> str:
        while True:
            seq = self.rng.randrange(0, 1000)
            if (seq % 2 == 1) != male:
                seq = (seq + 1) % 1000
            body = f"{region}{born:%Y%m%d}{seq:03d}"
            number = body + id_check_digit(body)
            if number not in self.used:
                self.used.add(number)
                return number


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3578") + str(rng.randrange(10)) + f"{rng.randrange(10**8):08d}"


def _born(rng: random.Random, today: dt.date, low: int, high: int) -> dt.date:
    age_days = rng.randrange(low * 365, high * 365 + 1)
    return today - dt.timedelta(days=age_days)


def _uscc(rng: random.Random, region: str, prefix: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = "".join(rng.choice(alphabet) for _ in range(8))
    first17 = prefix + region + body + org_code_check_char(body)
    if any(c not in alphabet for c in first17):  # the inner check can be an X (allowed)
        return _uscc(rng, region, prefix)
    return first17 + uscc_check_char(first17)


def _age(born: dt.date, today: dt.date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


class _Grid:
    """Generates one grid's places and people into the shared lists."""

    def __init__(self, out: dict, rng: random.Random, ids: _Ids, grid, today: dt.date):
        self.out, self.rng, self.ids, self.grid, self.today = out, rng, ids, grid, today
        self.county = grid.code[:6]
        self.urban = codes.village_class(grid.code) == "community"
        self.village = grid.parent

    def person(self, *, male: bool, born: dt.date, region: str | None = None,
               house: House | None = None, relation: str = "", **extra) -> Person:
        rng = self.rng
        region = region or rng.choice(NANTONG_REGIONS.get(self.county, [self.county]))
        age = _age(born, self.today)
        person = Person(
            name=_name(rng, male), sex="1" if male else "2", birth_date=born,
            ethnicity="01" if rng.random() < 0.985 else rng.choice(["03", "10", "11", "08"]),
            native_place=region, registered_place=region, area=self.grid,
            area_code=self.grid.code, house=house, house_relation=relation,
            marital_status=("10" if age < 24 else rng.choice(["20", "20", "20", "21", "40"])
                            if age < 70 else rng.choice(["20", "30"])),
            political_status=("03" if 14 <= age <= 28 and rng.random() < 0.4 else
                              "01" if age >= 18 and rng.random() < 0.08 else "13"),
            education=("80" if age < 12 else "70" if age < 15 else rng.choice(
                ["20", "30", "60", "70", "40"] if age < 55 else ["70", "80", "60", "90"])),
            occupation=("学生" if 6 <= age < 22 else "退休" if age >= 62 else
                        rng.choice(["工人", "个体经营", "职员", "农民", "教师", "司机", "无业"])),
            lng=house.lng if house else None, lat=house.lat if house else None, **extra)
        pii.assign(person, "id_number", self.ids.make(region, born, male))
        if age >= 14:
            pii.assign(person, "phone", _phone(rng))
        if house is not None:
            pii.assign(person, "current_address", self.out["addresses"][id(house)])
        pii.assign(person, "registered_address", self.out["addresses"].get(id(house)) if
                   region[:4] == "3206" and house is not None else
                   f"{region}户籍地址{rng.randrange(1, 200)}号")
        self.out["persons"].append(person)
        return person

    def residency(self, person: Person, kind: str, **fields) -> None:
        details = fields.pop("details", {})
        residency = Residency(person=person, kind=kind, area_code=person.area_code,
                              details=details)
        for name in ("related_id_number", "related_phone", "document_number"):
            if name in fields:
                pii.assign(residency, name, fields.pop(name))
        for name, value in fields.items():
            setattr(residency, name, value)
        self.out["residencies"].append(residency)

    def place(self, households: int) -> None:
        rng, grid = self.rng, self.grid
        lng = float(grid.center_lng or 120.86)
        lat = float(grid.center_lat or 32.01)
        town = self.village.parent.name if self.village and self.village.parent else ""
        building = None
        for index in range(households):
            if self.urban and (building is None or index % 8 == 0):
                estate = (self.village.name[:2] if self.village else "") + rng.choice(ESTATES)
                floors = rng.choice([6, 6, 7, 11, 18, 26])
                building = Building(estate=estate, name=f"{index // 8 + 1}幢", area=grid,
                                    area_code=grid.code, floors=floors,
                                    units=rng.choice([1, 2, 3]),
                                    households=floors * 2 * rng.choice([1, 2]),
                                    floor_area=Decimal(rng.randrange(2000, 12000)),
                                    leader_name=_name(rng, rng.random() < 0.5),
                                    address=f"{rng.choice(ROADS)}{rng.randrange(1, 300)}号",
                                    lng=Decimal(f"{lng + rng.uniform(-.004, .004):.7f}"),
                                    lat=Decimal(f"{lat + rng.uniform(-.003, .003):.7f}"))
                pii.assign(building, "leader_phone", _phone(rng))
                self.out["buildings"].append(building)
            number = (f"{building.name[:-1]}-{rng.randrange(1, building.units + 1)}-"
                      f"{rng.randrange(1, building.floors + 1)}{rng.randrange(1, 3):02d}"
                      if self.urban else f"{rng.randrange(1, 12)}组{rng.randrange(1, 80)}号")
            rental = rng.random() < (0.22 if self.urban else 0.08)
            house = House(number=number, building=building if self.urban else None, area=grid,
                          area_code=grid.code, use="01" if rng.random() < 0.9 else "06",
                          floor_area=Decimal(rng.randrange(45, 180)), is_rental=rental,
                          lng=Decimal(f"{lng + rng.uniform(-.004, .004):.7f}"),
                          lat=Decimal(f"{lat + rng.uniform(-.003, .003):.7f}"))
            address = (f"江苏省南通市{town}{building.address}{number}室" if self.urban else
                       f"江苏省南通市{town}{self.village.name if self.village else ''}{number}")
            pii.assign(house, "address", address)
            self.out["addresses"][id(house)] = address
            self.out["houses"].append(house)
            self.household(house, rental)

    def household(self, house: House, rental: bool) -> None:
        rng, today = self.rng, self.today
        if rental:
            owner_born = _born(rng, today, 35, 75)
            owner_male = rng.random() < 0.6
            house.owner_name = _name(rng, owner_male)
            house.owner_id_type = "111"
            region = rng.choice(NANTONG_REGIONS.get(self.county, [self.county]))
            pii.assign(house, "owner_id_number", self.ids.make(region, owner_born, owner_male))
            pii.assign(house, "owner_phone", _phone(rng))
            pii.assign(house, "owner_address",
                       f"江苏省南通市{rng.choice(ROADS)}{rng.randrange(1, 300)}号")
            house.rental_use = rng.choice(["02", "02", "02", "01", "03"])
            house.hazard = "00" if rng.random() < 0.85 else rng.choice(["01", "02", "05"])
            for _ in range(rng.choice([1, 1, 2, 3])):
                self.tenant(house)
            return
        head_male = rng.random() < 0.8
        head = self.person(male=head_male, born=_born(rng, today, 28, 88), house=house,
                           relation="owner")
        household_number = f"{rng.randrange(10**8, 10**9)}"
        self.residency(head, "registered", household_match="01", relation="02",
                       details={"household_number": household_number})
        head_age = _age(head.birth_date, today)
        spouse = None
        if rng.random() < 0.8:
            spouse = self.person(male=not head_male, born=head.birth_date + dt.timedelta(
                days=rng.randrange(-1500, 1500)), house=house, relation="family")
            self.residency(spouse, "registered", household_match="01", relation="10",
                           related_name=head.name, related_id_number=head.id_number,
                           details={"household_number": household_number})
        children = rng.choice([0, 1, 1, 2]) if head_age < 60 else 0
        for _ in range(children):
            child_born = head.birth_date + dt.timedelta(days=rng.randrange(22 * 365, 36 * 365))
            if child_born >= today:
                continue
            child = self.person(male=rng.random() < 0.52, born=child_born, house=house,
                                relation="family")
            self.residency(child, "registered", household_match="01",
                           relation="20" if child.sex == "1" else "30", related_name=head.name,
                           related_id_number=head.id_number,
                           details={"household_number": household_number})
            if not self.urban and _age(child_born, today) < 16 and rng.random() < 0.25:
                self.left_behind(child, "03")
        if not self.urban and head_age >= 65 and rng.random() < 0.45:
            self.left_behind(head, "01")

    def left_behind(self, person: Person, group: str) -> None:
        rng = self.rng
        relative_male = rng.random() < 0.6
        born = person.birth_date + dt.timedelta(days=(25 if group == "01" else -28) * 365)
        born = min(born, self.today - dt.timedelta(days=20 * 365))
        self.residency(
            person, "left_behind", left_behind_type=group, household_match="01",
            health=rng.choice(["02", "03", "03", "04"]), related_name=_name(rng, relative_male),
            related_id_number=self.ids.make(person.native_place or self.county, born,
                                            relative_male),
            relation="20" if group == "01" else "50", related_phone=_phone(rng),
            details={"related_work_address": rng.choice(["上海市", "苏州市", "无锡市", "南京市"])
                     + rng.choice(["某建筑工地", "某电子厂", "某物流园"]),
                     "annual_income": rng.randrange(3000, 30000),
                     "family_income": rng.randrange(30000, 120000),
                     "difficulties": rng.choice(["", "行动不便，需要定期探访", "缺少看护"])})

    def tenant(self, house: House) -> None:
        rng, today = self.rng, self.today
        if self.urban and rng.random() < 0.03:
            nationality, surname, given = rng.choice(FOREIGNERS)
            person = Person(name=f"{surname} {given}"[:50], id_type="414", area=self.grid,
                            area_code=self.grid.code, house=house, house_relation="tenant",
                            sex=rng.choice(["1", "2"]), birth_date=_born(rng, today, 22, 60))
            pii.assign(person, "id_number", f"M{rng.randrange(10**7, 10**8)}")
            pii.assign(person, "phone", _phone(rng))
            pii.assign(person, "current_address", self.out["addresses"][id(house)])
            self.out["persons"].append(person)
            arrived = today - dt.timedelta(days=rng.randrange(30, 700))
            self.residency(person, "foreign", nationality=nationality, document_type="414",
                           document_number=f"M{rng.randrange(10**7, 10**8)}",
                           document_expires_on=today + dt.timedelta(days=rng.randrange(200, 2000)),
                           visit_purpose=rng.choice(["01", "02", "03"]), registered_on=arrived,
                           leaves_on=today + dt.timedelta(days=rng.randrange(30, 700)),
                           details={"foreign_surname": surname, "foreign_given_name": given})
            return
        origin = rng.choice(ORIGINS)
        person = self.person(male=rng.random() < 0.58, born=_born(rng, today, 18, 55),
                             region=origin, house=house, relation="tenant")
        self.residency(person, "floating", inflow_reason=rng.choice(["01", "01", "01", "03",
                                                                     "06", "04"]),
                       permit_type="01", residence_type="02",
                       document_number=f"3206{rng.randrange(10**9, 10**10)}",
                       registered_on=today - dt.timedelta(days=rng.randrange(10, 1500)),
                       document_expires_on=today + dt.timedelta(days=rng.randrange(30, 1000)),
                       is_key_person=rng.random() < 0.02)

    def units(self, count: int) -> None:
        rng, grid = self.rng, self.grid
        for _ in range(count):
            trade = rng.choice(TRADES)
            rep_male = rng.random() < 0.75
            unit = Unit(kind="enterprise", uscc=_uscc(rng, grid.code[:6], rng.choice(
                ["91", "91", "92", "93"])), name=f"南通{rng.choice(SURNAMES)}{rng.choice(SURNAMES)}"
                f"{trade}有限公司", area=grid, area_code=grid.code,
                address=f"{rng.choice(ROADS)}{rng.randrange(1, 500)}号",
                phone=f"0513-8{rng.randrange(10**6, 10**7)}", employees=rng.randrange(3, 400),
                legal_rep_name=_name(rng, rep_male), category=rng.choice(["01", "01", "03", "02"]),
                hazard="00" if rng.random() < 0.8 else rng.choice(["01", "02", "04"]),
                attention=rng.choice(["03", "03", "02", "01"]),
                is_hazardous_chemicals=rng.random() < 0.04,
                has_party_org=rng.random() < 0.2, security_name=_name(rng, True),
                details={"party_members": rng.randrange(0, 12), "has_union": rng.random() < 0.4})
            pii.assign(unit, "legal_rep_id_number", self.ids.make(
                grid.code[:6], _born(rng, self.today, 28, 65), rep_male))
            pii.assign(unit, "legal_rep_phone", _phone(rng))
            pii.assign(unit, "security_phone", _phone(rng))
            self.out["units"].append(unit)

    def social_org(self) -> None:
        rng, grid = self.rng, self.grid
        name = (self.village.name if self.village else grid.name) + rng.choice(
            ["志愿者协会", "老年人协会", "文体协会", "调解服务中心"])
        unit = Unit(kind="social_org", uscc=_uscc(rng, grid.code[:6], "51"), name=name,
                    area=grid, area_code=grid.code, address=f"{rng.choice(ROADS)}1号",
                    legal_rep_name=_name(rng, rng.random() < 0.5), category="01",
                    attention="03", employees=rng.randrange(2, 20),
                    details={"registration_number": f"通民证字第{rng.randrange(100, 999)}号",
                             "registration_authority": grid.code[:6], "is_operating": True,
                             "has_foreign_background": False})
        self.out["units"].append(unit)


def build_people(*, scale: str, areas: dict, orgs: dict, today: dt.date) -> int:
    """Generate the registry once (idempotent: nothing is added when persons exist).
    Returns the number of persons created."""
    if Person.objects.exists():
        return 0
    rng = random.Random(SEED)
    ids = _Ids(rng)
    dense, share = DENSITY.get(scale, DENSITY["small"])
    grids = sorted((a for a in areas.values() if a.level == AreaLevel.GRID),
                   key=lambda a: a.code)
    parents = {a.pk: a for a in areas.values()}
    out = {"persons": [], "residencies": [], "buildings": [], "houses": [], "units": [],
           "addresses": {}}
    seen_towns = set()
    for grid in grids:
        grid.parent = parents.get(grid.parent_id)
        if grid.parent is not None:
            grid.parent.parent = parents.get(grid.parent.parent_id)
        home = grid.code.startswith(HOME_TOWN)
        if not home and rng.random() >= share:
            continue
        maker = _Grid(out, rng, ids, grid, today)
        maker.place(dense if home else LIGHT_HOUSEHOLDS)
        maker.units(2 if home else (1 if rng.random() < 0.3 else 0))
        town = grid.code[:9]
        if town not in seen_towns:
            seen_towns.add(town)
            maker.social_org()
    bulk_create_with_history(out["buildings"], Building, batch_size=1000)
    for house in out["houses"]:
        house.building_id = house.building.pk if house.building is not None else None
    bulk_create_with_history(out["houses"], House, batch_size=1000)
    for person in out["persons"]:
        person.house_id = person.house.pk if person.house is not None else None
    bulk_create_with_history(out["persons"], Person, batch_size=1000)
    for residency in out["residencies"]:
        residency.person_id = residency.person.pk
    bulk_create_with_history(out["residencies"], Residency, batch_size=1000)
    bulk_create_with_history(out["units"], Unit, batch_size=1000)
    return len(out["persons"])
