"""Build the demo city of Nantong: real divisions, generated grids, organisations and users.

Deterministic (a fixed random seed, input in code order) and idempotent (existing codes,
organisations and users are kept, only what is missing is added), so running it twice changes
nothing. Bulk inserts keep the small scale well under a minute.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc

from zhili.accounts.models import Position, Role, User
from zhili.areas.choices import AreaLevel, CommunityType, UrbanRural
from zhili.areas.models import Area
from zhili.core import audit, codes
from zhili.demo import geometry
from zhili.orgs.choices import OrgKind
from zhili.orgs.models import Organisation

DATA = Path(__file__).parent / "data" / "nantong-divisions.csv"
LEVELS = {"city": AreaLevel.CITY, "county": AreaLevel.COUNTY, "town": AreaLevel.TOWN,
          "village": AreaLevel.VILLAGE}
GRIDS_PER_VILLAGE = {"small": (2, 2), "city": (4, 8)}  # (min, max); city averages ≈ 6
SEED = 3206

# 19 dispute categories of the professional mediation bodies (一综多专); a body per category
# in every county-level unit, plus the city's own (19 + 5) = 176 bodies in all.
MEDIATION_CATEGORIES = [
    "医患纠纷", "交通事故", "劳动人事争议", "婚姻家庭", "物业纠纷", "消费纠纷", "环境保护",
    "沿江沿海水域", "涉校纠纷", "征地拆迁", "建设工程", "知识产权", "金融纠纷", "旅游纠纷",
    "电子商务", "保险纠纷", "商事纠纷", "道路运输", "农村土地承包",
]
CITY_EXTRA_MEDIATION = ["律师调解中心", "商会调解中心", "价格争议调解中心", "涉侨纠纷调解中心",
                        "个人调解工作室联合会"]
CITY_DEPARTMENTS = [
    ("中共南通市委政法委员会", OrgKind.DEPARTMENT), ("南通市公安局", OrgKind.DEPARTMENT),
    ("南通市司法局", OrgKind.DEPARTMENT), ("南通市信访局", OrgKind.DEPARTMENT),
    ("南通市民政局", OrgKind.DEPARTMENT), ("南通市卫生健康委员会", OrgKind.DEPARTMENT),
    ("南通市住房和城乡建设局", OrgKind.DEPARTMENT), ("南通市城市管理局", OrgKind.DEPARTMENT),
    ("南通市市场监督管理局", OrgKind.DEPARTMENT), ("南通市邮政管理局", OrgKind.DEPARTMENT),
    ("南通市人力资源和社会保障局", OrgKind.DEPARTMENT),
]
# County departments that handle grid events (see zhili/events/demo.py for the routing).
COUNTY_DEPARTMENTS = {
    "urban": "城市管理局", "ecology": "生态环境局", "housing": "住房和城乡建设局",
    "emergency": "应急管理局", "labour": "人力资源和社会保障局", "civil": "民政局",
}
COURIERS = ["中国邮政", "顺丰速运", "中通快递", "圆通速递", "申通快递", "韵达快递", "京东物流",
            "极兔速递"]


@dataclass
class Summary:
    areas: int = 0
    grids: int = 0
    orgs: int = 0
    users: int = 0
    events: int = 0
    persons: int = 0
    special: int = 0
    disputes: int = 0
    outlets: int = 0
    parcels: int = 0


def _fake_uscc(rng: random.Random, region: str, kind_prefix: str = "91") -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    body = kind_prefix + region[:6] + "".join(rng.choice(alphabet) for _ in range(9))
    return body + uscc.calc_check_digit(body)


def _urban_rural(town_code: str, village_code: str) -> str:
    town_part = int(town_code[6:9])
    if codes.village_class(village_code) == "community":
        return UrbanRural.MAIN_URBAN if town_part < 100 else UrbanRural.TOWN_CENTRE
    return UrbanRural.VILLAGE


def rng_for(key: str) -> random.Random:
    """A generator seeded by what it decides about, so a choice never depends on what else was
    generated before (which is what makes re-runs add nothing)."""
    return random.Random(f"{SEED}:{key}")


class DemoBuilder:
    def __init__(self, scale: str = "small", stdout=None, events: bool = True):
        self.scale = scale
        # False: areas, organisations and users only, no module records (events, persons,
        # special populations): benchmarks generate their own.
        self.events = events
        self.summary = Summary()
        self.write = stdout.write if stdout else (lambda *_: None)
        self.today = timezone.localdate()

    # -- areas ---------------------------------------------------------------------------------
    def _read_divisions(self) -> list[dict]:
        with DATA.open(encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle))
        rows.sort(key=lambda r: (LEVELS[r["level"]], r["code"]))
        return rows

    def build_areas(self) -> dict[str, Area]:
        rows = self._read_divisions()
        existing = {a.code: a for a in Area.objects.all()}
        by_code: dict[str, Area] = dict(existing)
        # Grid counts are drawn first so boundaries can be sized by them.
        low, high = GRIDS_PER_VILLAGE[self.scale]
        grid_counts = {codes.pad(r["code"]): rng_for(r["code"]).randint(low, high)
                       for r in rows if r["level"] == "village"}
        weights: dict[str, float] = {}
        children: dict[str, list[str]] = {}
        for row in reversed(rows):
            code = codes.pad(row["code"])
            parent = codes.pad(row["parent_code"]) if row["level"] != "city" else None
            weight = grid_counts.get(code, 0) or sum(weights[c] for c in children.get(code, []))
            weights[code] = max(weight, 1)
            if parent:
                children.setdefault(parent, []).insert(0, code)
        boxes: dict[str, tuple] = {}
        for row in rows:
            code = codes.pad(row["code"])
            if row["level"] == "city":
                boxes[code] = geometry.CITY_BOX
            kids = children.get(code, [])
            for kid, box in zip(kids, geometry.split(boxes[code], [weights[k] for k in kids]),
                                strict=True):
                boxes[kid] = box
        for level_name in ("city", "county", "town", "village"):
            new = []
            for row in rows:
                if row["level"] != level_name:
                    continue
                code = codes.pad(row["code"])
                if code in by_code:
                    continue
                parent = by_code.get(codes.pad(row["parent_code"])) if level_name != "city" \
                    else None
                area = self._area(code, row["name"], LEVELS[level_name], parent, boxes[code])
                if level_name == "village":
                    town_code = parent.code
                    area.urban_rural = _urban_rural(town_code, code)
                    if codes.village_class(code) == "community":
                        area.community_type = rng_for(code).choice(CommunityType.values[:4])
                new.append(area)
            for area in Area.objects.bulk_create(new, batch_size=500):
                by_code[area.code] = area
            self.summary.areas += len(new)
        self._build_grids(by_code, grid_counts, boxes)
        return by_code

    def _area(self, code, name, level, parent, box) -> Area:
        lng, lat = geometry.center(box)
        area = Area(code=code, name=name, level=level, parent=parent,
                    center_lng=Decimal(str(lng)), center_lat=Decimal(str(lat)),
                    geometry_synthetic=True, valid_from=self.today)
        area.set_polygon(geometry.polygon(box, inset=0.02 if level >= AreaLevel.VILLAGE
                                          else 0.0))
        return area

    def _build_grids(self, by_code, grid_counts, boxes) -> None:
        new = []
        for village_code, count in sorted(grid_counts.items()):
            village = by_code[village_code]
            cells = geometry.split(boxes[village_code], [1.0] * count)
            for number, cell in enumerate(cells, start=1):
                code = village.prefix + str(number).zfill(3)
                if code in by_code:
                    continue
                grid = self._area(code, f"第{number}网格", AreaLevel.GRID, village, cell)
                grid.urban_rural = village.urban_rural
                new.append(grid)
        for grid in Area.objects.bulk_create(new, batch_size=1000):
            by_code[grid.code] = grid
        self.summary.grids += len(new)

    # -- organisations -------------------------------------------------------------------------
    def build_orgs(self, areas: dict[str, Area]) -> dict[str, Organisation]:
        existing = {(o.area_id, o.name): o for o in Organisation.objects.all()}
        made: dict[str, Organisation] = {}
        pending: list[tuple[str, Organisation]] = []

        def add(key, name, kind, area, parent=None, uscc_code=""):
            found = existing.get((area.pk, name))
            if found is not None:
                made[key] = found
                return
            org = Organisation(name=name, kind=kind, area=area, area_code=area.code,
                               parent=parent, uscc=uscc_code)
            pending.append((key, org))

        def flush():
            if pending:
                Organisation.objects.bulk_create([o for _, o in pending], batch_size=500)
                made.update(dict(pending))
                self.summary.orgs += len(pending)
                pending.clear()

        city = next(a for a in areas.values() if a.level == AreaLevel.CITY)
        add("city.centre", "南通市社会治理现代化指挥中心", OrgKind.GOVERNANCE_CENTRE, city)
        for name, kind in CITY_DEPARTMENTS:
            add(f"city.{name}", name, kind, city)
        for category in MEDIATION_CATEGORIES:
            add(f"city.med.{category}", f"南通市{category}人民调解委员会", OrgKind.MEDIATION_BODY,
                city)
        for name in CITY_EXTRA_MEDIATION:
            add(f"city.med.{name}", f"南通市{name}", OrgKind.MEDIATION_BODY, city)
        for brand in COURIERS:
            add(f"courier.{brand}", f"{brand}南通分公司", OrgKind.COURIER_COMPANY, city,
                uscc_code=_fake_uscc(rng_for(brand), "320600"))
        flush()
        counties = sorted((a for a in areas.values() if a.level == AreaLevel.COUNTY),
                          key=lambda a: a.code)
        for county in counties:
            n = county.name
            add(f"{county.code}.centre", f"{n}社会治理现代化指挥中心", OrgKind.GOVERNANCE_CENTRE,
                county)
            police = "公安分局" if n.endswith("区") else "公安局"
            add(f"{county.code}.police", f"南通市{n}{police}" if n.endswith("区") else
                f"{n}{police}", OrgKind.DEPARTMENT, county)
            add(f"{county.code}.justice", f"{n}司法局", OrgKind.DEPARTMENT, county)
            add(f"{county.code}.petition", f"{n}信访局", OrgKind.DEPARTMENT, county)
            for key, department in COUNTY_DEPARTMENTS.items():
                add(f"{county.code}.{key}", f"{n}{department}", OrgKind.DEPARTMENT, county)
            for category in MEDIATION_CATEGORIES:
                add(f"{county.code}.med.{category}", f"{n}{category}人民调解委员会",
                    OrgKind.MEDIATION_BODY, county)
            for i in (1, 2):
                add(f"{county.code}.law{i}", f"江苏{n[:2]}第{i}律师事务所", OrgKind.LAW_FIRM,
                    county, uscc_code=_fake_uscc(rng_for(f"law{i}{county.code}"), county.code,
                                                 "31"))
            add(f"{county.code}.security", f"{n}保安服务有限公司", OrgKind.SECURITY_COMPANY,
                county, uscc_code=_fake_uscc(rng_for(f"security{county.code}"), county.code))
        towns = sorted((a for a in areas.values() if a.level == AreaLevel.TOWN),
                       key=lambda a: a.code)
        for town in towns:
            n = town.name
            add(f"{town.code}.centre", f"{n}综治中心", OrgKind.GOVERNANCE_CENTRE, town)
            add(f"{town.code}.police", f"{n}派出所", OrgKind.POLICE_STATION, town)
            add(f"{town.code}.justice", f"{n}司法所", OrgKind.JUDICIAL_OFFICE, town)
            add(f"{town.code}.mediation", f"{n}人民调解委员会", OrgKind.MEDIATION_BODY, town)
        flush()
        for town in towns:
            for i, brand in enumerate(rng_for(f"outlets{town.code}").sample(COURIERS, 2), start=1):
                add(f"{town.code}.outlet{i}", f"{brand}{town.name}营业部", OrgKind.COURIER_OUTLET,
                    town, parent=made[f"courier.{brand}"])
        villages = sorted((a for a in areas.values() if a.level == AreaLevel.VILLAGE),
                          key=lambda a: a.code)
        for village in villages:
            suffix = "居民委员会" if codes.village_class(village.code) == "community" else \
                "村民委员会"
            name = village.name if village.name.endswith(("委员会", "会")) else \
                f"{village.name}{suffix}"
            add(f"{village.code}.committee", name, OrgKind.COMMITTEE, village)
        flush()
        return made

    # -- users ---------------------------------------------------------------------------------
    def build_users(self, areas: dict[str, Area], orgs: dict[str, Organisation]) -> list[dict]:
        roles = {r.code: r for r in Role.objects.all()}
        city = next(a for a in areas.values() if a.level == AreaLevel.CITY)
        county = areas[codes.pad("320612")]  # 通州区
        town = areas[codes.pad("320612001")]  # 金沙街道
        sibling_town = areas[codes.pad("320612002")]  # 兴东街道
        village = sorted((a for a in areas.values() if a.parent_id == town.pk),
                         key=lambda a: a.code)[0]
        grid = sorted((a for a in areas.values() if a.parent_id == village.pk),
                      key=lambda a: a.code)[0]
        outlet = orgs[f"{town.code}.outlet1"]
        plan = [
            ("admin", "系统管理员", "sysadmin", city, None, "", True),
            ("city.leader", "市领导", "leader", city, None, "", False),
            ("city.dispatcher", "市指挥中心调度员", "dispatcher", city, orgs["city.centre"], "",
             False),
            ("city.assessor", "市考核办", "assessment_officer", city, None, "", False),
            ("city.auditor", "安全审计员", "auditor", city, None, "", False),
            ("city.courier", "市邮政管理局监管员", "courier_regulator", city,
             orgs["city.南通市邮政管理局"], "", False),
            ("county.admin", "通州区区域管理员", "area_admin", county, None, "", False),
            ("county.dispatcher", "通州区调度员", "dispatcher", county,
             orgs[f"{county.code}.centre"], "", False),
            ("county.leader", "通州区领导", "leader", county, None, "", False),
            ("county.handler", "通州区公安分局经办人", "handler", county,
             orgs[f"{county.code}.police"], "", False),
            ("county.mediator", "医患纠纷调解员", "mediator", county,
             orgs[f"{county.code}.med.医患纠纷"], "", False),
            ("town.mediator", "金沙街道人民调解员", "mediator", town,
             orgs[f"{town.code}.mediation"], "", False),
            ("town.admin", "金沙街道区域管理员", "area_admin", town, None, "", False),
            ("town.dispatcher", "金沙街道综治中心调度员", "dispatcher", town,
             orgs[f"{town.code}.centre"], "", False),
            ("town.gridchief", "金沙街道总网格长", "grid_leader", town, None, "总网格长", False),
            ("town2.dispatcher", "兴东街道综治中心调度员", "dispatcher", sibling_town,
             orgs[f"{sibling_town.code}.centre"], "", False),
            ("village.gridleader", f"{village.name}片区网格长", "grid_leader", village, None,
             "片区网格长", False),
            ("grid.worker", "专职网格员", "grid_worker", grid, None, "专职网格员", False),
            ("outlet.staff", "网点收寄员", "outlet_staff", town, outlet, "", False),
        ]
        printed = []
        password = settings.ZHILI_DEMO_PASSWORD
        for username, display, role_code, area, org, title, superuser in plan:
            user = User.objects.filter(username=username).first()
            if user is None:
                user = User(username=username, display_name=display, is_superuser=superuser,
                            is_staff=superuser, password_changed_at=timezone.now())
                user.set_password(password)
                user.save()
                self.summary.users += 1
            role = roles[role_code]
            if not Position.objects.filter(user=user, role=role, area=area, org=org).exists():
                Position.objects.create(user=user, role=role, area=area, area_code=area.code,
                                        org=org, title=title)
            printed.append({"username": username, "role": str(role), "area": area.name,
                            "org": org.name if org else "", "title": title})
        # One user holding two positions, to show switching between them.
        dispatcher = User.objects.get(username="town.dispatcher")
        if not Position.objects.filter(user=dispatcher, role=roles["grid_leader"]).exists():
            Position.objects.create(user=dispatcher, role=roles["grid_leader"], area=village,
                                    area_code=village.code, title="片区网格长(兼)")
        return printed

    @transaction.atomic
    def build(self) -> list[dict]:
        from zhili.events.demo import build_events

        areas = self.build_areas()
        orgs = self.build_orgs(areas)
        users = self.build_users(areas, orgs)
        if self.events:
            from zhili.delivery.demo import build_delivery
            from zhili.disputes.demo import build_disputes
            from zhili.people.demo import build_people
            from zhili.special.demo import build_special

            self.summary.events = build_events(scale=self.scale, areas=areas, orgs=orgs,
                                               today=self.today)
            self.summary.persons = build_people(scale=self.scale, areas=areas, orgs=orgs,
                                                today=self.today)
            self.summary.special = build_special(scale=self.scale, areas=areas, orgs=orgs,
                                                 today=self.today)
            # After the people (parties from the registry) and the events (cases taken in
            # from grid events of the dispute categories).
            self.summary.disputes = build_disputes(scale=self.scale, areas=areas, orgs=orgs,
                                                   today=self.today)
            self.write(f"Disputes (大调解): added {self.summary.disputes} cases.")
            delivery = build_delivery(scale=self.scale, areas=areas, orgs=orgs, today=self.today)
            self.summary.outlets, self.summary.parcels = delivery.outlets, delivery.parcels
            self.write(f"Courier safety: added {delivery.outlets} outlets, {delivery.devices} "
                       f"devices, {delivery.parcels} parcels, {delivery.inspections} "
                       f"inspections, {delivery.scans} X-ray scans.")
        if self.summary.areas or self.summary.grids or self.summary.orgs or self.summary.users:
            audit.record(actor=None, actor_name="zhili demo", action="demo.build",
                         changes={"scale": self.scale, **self.summary.__dict__})
        return users
