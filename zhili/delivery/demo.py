"""The demo city's courier sector: the eight companies' registry rows, their outlets (two per
town; at city scale about a thousand, spread over towns and villages), staff, cameras and
X-ray machines, and thirty days of parcel traffic with the gaps a regulator looks for.

Most outlets are at 100 % on the three rules (real-name, inspection, X-ray); some fall to
90–98 % on one or more; a few report 100 % inspection without a single photo (the pattern of
inspections ticked rather than done); a few have no X-ray machine at all; a handful of parcels
name prohibited goods. The outlet of the demo's outlet-staff user has gaps, so that user has
something to answer.

The traffic goes through `ingest.write`, the path real feeds take, so the records and the
daily rollups are exactly what ingestion would have made of the same feeds (the demo test
checks them against `rebuild_days`). The row tuples are those `feeds.check_*` produce.

Deterministic (seeded by what is decided about) and idempotent: registry rows are made only
where missing, and traffic only for days that have none.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from zhili.areas.choices import AreaLevel
from zhili.core import codes, pii
from zhili.core.pii import crypto
from zhili.core.pii.validation import id_check_digit
from zhili.delivery import feeds, ingest
from zhili.delivery.choices import BatchState, FeedKind, InspectionResult, StaffDuty
from zhili.delivery.models import (
    CourierCompany,
    CourierStaff,
    IngestBatch,
    Outlet,
    OutletDay,
)
from zhili.devices.choices import DeviceKind, DeviceStatus
from zhili.devices.models import Device
from zhili.orgs.choices import OrgKind
from zhili.orgs.models import Organisation

SEED = 28181
DAYS = 30
# Parcels per outlet and day (before each outlet's own weight): ≈ 50,000 parcels in 30 days
# over the small city's 272 outlets, ≈ 1,000,000 over the full city's ≈ 1,000.
DAILY = {"small": 6.1, "city": 33.0}
# At city scale, the chance that a village gets an outlet of its own (2,005 villages → ≈ 730
# more outlets on top of two per town).
VILLAGE_OUTLETS = {"small": 0.0, "city": 0.365}
CHUNK = 20_000
HOME_TOWN = "320612001"  # 金沙街道: where the demo users work
COMPANY_SUFFIX = "南通分公司"
# Organisation name prefix → (brand, the company's outlet-code prefix, waybill prefix,
# registration type 5.51, holding 5.52, business scope 5.53).
BRANDS = {
    "中国邮政": ("中国邮政", "YZ", "9", "110", "110", ["01", "02", "03", "04"]),
    "顺丰速运": ("顺丰", "SF", "SF", "160", "210", ["01", "02", "03", "04"]),
    "中通快递": ("中通", "ZT", "7", "150", "210", ["01", "02", "03"]),
    "圆通速递": ("圆通", "YT", "YT", "160", "210", ["01", "02", "03"]),
    "申通快递": ("申通", "ST", "77", "160", "210", ["01", "02"]),
    "韵达快递": ("韵达", "YD", "43", "160", "210", ["01", "02"]),
    "京东物流": ("京东", "JD", "JD", "150", "210", ["01", "02", "03", "04"]),
    "极兔速递": ("极兔", "JT", "JT", "150", "230", ["01", "02"]),
}
# Outlet behaviour: (name, share). `gaps`: one or more rates at 90–98 %; `suspicious`: every
# parcel inspected within the same second it was taken in, no photo ever; `no_xray`: no
# machine registered (nothing X-rayed).
PROFILES = (("model", 78), ("gaps", 14), ("suspicious", 4), ("no_xray", 4))
SURNAMES = ("张王李陈刘杨黄吴徐朱周顾陆沈钱施曹季缪冯蔡袁倪丁"
            "范姜蒋邱曾葛严秦薛瞿成何高胡孙马郭林罗梁")
GIVEN = ("伟强磊军勇杰涛斌超明辉刚健平志华俊峰宇浩凯"
         "鹏飞海波芳娟敏静丽艳娜秀英霞玲燕琴红梅兰婷雪慧")
# Where senders and couriers are registered: Nantong's counties (and their former codes),
# and the provinces couriers commonly come from.
NANTONG = ["320612", "320683", "320613", "320602", "320611", "320614", "320684", "320623",
           "320681", "320682", "320685", "320621"]
ORIGINS = ["341221", "341225", "341282", "411522", "411526", "510921", "320923", "321323",
           "340826", "362329", "522121", "130529"]
ROADS = ["人民路", "工农路", "青年路", "长江路", "世纪大道", "金沙路", "新金路", "府前路", "北大街",
         "兴东路", "桃园路", "南山路", "通甲路", "建设路"]
# (goods, declared category, weight range kg, share). Nantong's home-textile trade (叠石桥,
# 志浩) is the biggest sender.
GOODS = [
    ("家纺四件套", "家纺", (1.5, 4.0), 16), ("被芯", "家纺", (2.0, 5.0), 8),
    ("枕头", "家纺", (0.8, 2.0), 5), ("衣服", "服装", (0.3, 1.5), 14),
    ("鞋子", "服装", (0.8, 2.0), 6), ("文件", "文件", (0.1, 0.3), 8),
    ("书籍", "文化用品", (0.5, 3.0), 5), ("手机壳", "电子配件", (0.1, 0.3), 4),
    ("数据线", "电子配件", (0.1, 0.3), 3), ("茶叶", "食品", (0.3, 1.0), 3),
    ("零食", "食品", (0.5, 3.0), 6), ("海鲜干货", "食品", (0.5, 2.0), 3),
    ("化妆品", "日用品", (0.2, 1.0), 5), ("保温杯", "日用品", (0.4, 0.8), 3),
    ("玩具", "玩具", (0.3, 2.0), 4), ("五金配件", "五金", (0.5, 5.0), 3),
]
GOODS_NAMES = [g for g, _c, _r, _w in GOODS]
GOODS_CUMULATIVE = list(itertools.accumulate(w for _g, _c, _r, w in GOODS))
GOODS_BY_NAME = {g: (c, r) for g, c, r, _w in GOODS}
# Goods that name prohibited items (the screening list flags them).
FLAGGED = [("烟花爆竹", "其他"), ("打火机气罐", "日用品"), ("管制刀具", "五金"),
           ("仿真枪", "玩具"), ("工业酒精 5 升", "化工"), ("汽车蓄电池", "汽车配件"),
           ("农药", "农资"), ("高仿名表", "饰品")]
COMMITTEE_SUFFIXES = (("村民委员会", "村"), ("村委会", "村"), ("居民委员会", ""),
                      ("居委会", ""))
CAMERAS = ["收寄台", "验视台", "安检机出口", "出入口"]
CAMERA_MAKERS = [("海康威视", "DS-2CD3T47"), ("大华", "DH-IPC-HFW2433"), ("宇视", "IPC2124")]
XRAY_MAKERS = [("同方威视", "CX5030"), ("公安部第一研究所", "FISCAN-5030"), ("中科", "ZK-5030")]


def _rng(key: str) -> random.Random:
    return random.Random(f"{SEED}:{key}")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7
                                                       else "")


def _id_number(rng: random.Random, region: str, today: dt.date, low: int = 18,
               high: int = 70) -> str:
    born = today - dt.timedelta(days=rng.randrange(low * 365, high * 365))
    body = f"{region}{born:%Y%m%d}{rng.randrange(1000):03d}"
    return body + id_check_digit(body)


def _mobile(rng: random.Random) -> str:
    return "1" + rng.choice("3578") + str(rng.randrange(10)) + f"{rng.randrange(10**8):08d}"


@dataclass
class Made:
    """What the demo added (all zero on a second run the same day)."""

    companies: int = 0
    outlets: int = 0
    outlet_orgs: int = 0
    staff: int = 0
    devices: int = 0
    parcels: int = 0
    inspections: int = 0
    scans: int = 0
    profiles: dict[str, int] = field(default_factory=dict)


@dataclass
class _Site:
    """One outlet as the traffic generator sees it."""

    outlet_id: int
    company_id: int
    area_code: str
    code: str
    waybill_prefix: str
    number: int  # the outlet's number within its company: part of its waybills
    profile: str
    weight: float
    p_real: float
    p_inspect: float
    p_photo: float
    p_xray: float
    p_flag: float
    machine: str
    inspectors: list[str]


def build_delivery(*, scale: str, areas: dict, orgs: dict, today: dt.date) -> Made:
    """Add what is missing of the courier sector (see the module's docstring); returns what
    was added. `areas` and `orgs` are the demo builder's (code → area, key → organisation)."""
    made = Made()
    companies = _companies(made)
    if not companies:
        return made
    if VILLAGE_OUTLETS[scale]:
        _village_outlets(made, scale, areas, companies)
    outlets = _outlets(made, companies, today)
    home = orgs.get(f"{codes.pad(HOME_TOWN)}.outlet1")
    home_id = home.pk if home is not None else None
    _staff(made, outlets, today, home_id)
    _devices(made, outlets, home_id)
    sites = _sites(outlets, companies, home_id)
    for site in sites:
        made.profiles[site.profile] = made.profiles.get(site.profile, 0) + 1
    _traffic(made, scale, sites, {pk: c.area_code for pk, c in companies.items()}, today)
    return made


# --- registry ---------------------------------------------------------------------------------

def _companies(made: Made) -> dict[int, CourierCompany]:
    """CourierCompany rows for the courier organisations named after a known brand (by the
    company's id)."""
    names = {prefix + COMPANY_SUFFIX: prefix for prefix in BRANDS}
    found = {c.org_id: c for c in CourierCompany.objects.select_related("org")}
    for org in Organisation.objects.filter(kind=OrgKind.COURIER_COMPANY,
                                           name__in=names).order_by("name"):
        if org.pk in found:
            continue
        brand, _prefix, _waybill, registration, holding, scope = BRANDS[names[org.name]]
        rng = _rng(f"company:{org.name}")
        company = CourierCompany(
            org=org, area_code=org.area_code, brand=brand,
            licence_no=f"苏{rng.randrange(2009, 2019)}{rng.randrange(10000):04d}",
            registration_type=registration, holding=holding, business_scope=scope,
            enterprise_type="02", person_in_charge=_name(rng))
        pii.assign(company, "phone", f"0513{rng.randrange(80000000, 90000000)}")
        company.save()
        found[org.pk] = company
        made.companies += 1
    # Only the brands the demo knows: a company registered by hand keeps its own data.
    return {c.pk: c for c in found.values() if c.org.name in names}


def _village_outlets(made: Made, scale: str, areas: dict, companies: dict) -> None:
    existing = set(Organisation.objects.filter(kind=OrgKind.COURIER_OUTLET)
                   .values_list("area_id", "name"))
    brands = sorted(companies.values(), key=lambda c: c.org.name)
    villages = sorted((a for a in areas.values() if a.level == AreaLevel.VILLAGE),
                      key=lambda a: a.code)
    new = []
    for village in villages:
        rng = _rng(f"village-outlet:{village.code}")
        if rng.random() >= VILLAGE_OUTLETS[scale]:
            continue
        company = rng.choice(brands)
        place = _place_name(village.name)
        name = f"{company.org.name.removesuffix(COMPANY_SUFFIX)}{place}营业部"
        if (village.pk, name) in existing:
            continue
        new.append(Organisation(name=name, kind=OrgKind.COURIER_OUTLET, area=village,
                                area_code=village.code, parent=company.org))
    Organisation.objects.bulk_create(new, batch_size=500)
    made.outlet_orgs += len(new)


def _place_name(name: str) -> str:
    """"东市社区居委会" → "东市社区", "金余村委会" → "金余村": how an outlet is named after it."""
    for suffix, keep in COMMITTEE_SUFFIXES:
        if name.endswith(suffix):
            stem = name.removesuffix(suffix)
            return stem if stem.endswith(keep) else stem + keep
    return name


def _outlets(made: Made, companies: dict, today: dt.date) -> list[Outlet]:
    """An Outlet row for every outlet organisation under a demo company."""
    have = set(Outlet.objects.values_list("org_id", flat=True))
    by_org = {c.org_id: c for c in companies.values()}
    orgs = Organisation.objects.filter(kind=OrgKind.COURIER_OUTLET,
                                       parent_id__in=list(by_org)).select_related("area")
    new = []
    for org in sorted(orgs, key=lambda o: (o.area_code, o.name)):
        if org.pk in have:
            continue
        company = by_org[org.parent_id]
        prefix = BRANDS[company.org.name.removesuffix(COMPANY_SUFFIX)][1]
        area = org.area
        rng = _rng(f"outlet:{org.area_code}:{org.name}")
        town = area if area.level == AreaLevel.TOWN else None
        outlet = Outlet(
            org=org, company=company, code=f"{prefix}{area.code[:12]}", area=area,
            area_code=area.code, licence_no=f"备{area.code[:6]}{rng.randrange(100000):05d}",
            address=f"{(town or area).name}{rng.choice(ROADS)}{rng.randrange(1, 400)}号",
            person_in_charge=_name(rng),
            lat=_jitter(rng, area.center_lat), lng=_jitter(rng, area.center_lng),
            created_at=timezone.make_aware(dt.datetime.combine(
                today - dt.timedelta(days=rng.randrange(200, 2500)), dt.time(9))))
        pii.assign(outlet, "phone", _mobile(rng))
        new.append(outlet)
    Outlet.objects.bulk_create(new, batch_size=500)
    made.outlets += len(new)
    return list(Outlet.objects.filter(company_id__in=list(companies))
                .select_related("org", "area").order_by("code"))


def _jitter(rng: random.Random, value) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value) + Decimal(rng.uniform(-0.004, 0.004))).quantize(Decimal("0.000001"))


def _profile(outlet: Outlet, home_org_id: int | None) -> str:
    if outlet.org_id == home_org_id:
        return "gaps"
    rng = _rng(f"profile:{outlet.code}")
    names, weights = zip(*PROFILES, strict=True)
    return rng.choices(names, weights)[0]


def _staff(made: Made, outlets: list[Outlet], today: dt.date, home_id: int | None) -> None:
    staffed = set(CourierStaff.objects.values_list("outlet_id", flat=True).distinct())
    new = []
    for outlet in outlets:
        if outlet.pk in staffed:
            continue
        rng = _rng(f"staff:{outlet.code}")
        county = outlet.area_code[:6]
        careless = _profile(outlet, home_id) != "model"
        duties = [StaffDuty.MANAGER] + [StaffDuty.COLLECT] * rng.randint(2, 4) + \
            [StaffDuty.SCREEN] + [StaffDuty.DELIVER] * rng.randint(1, 3)
        for i, duty in enumerate(duties):
            # The person in charge is the manager; couriers often come from other provinces.
            name = outlet.person_in_charge if i == 0 else _name(rng)
            region = county if rng.random() < 0.5 else rng.choice(ORIGINS)
            staff = CourierStaff(outlet=outlet, area_code=outlet.area_code, name=name,
                                 duty=duty)
            pii.assign(staff, "id_number", _id_number(rng, region, today, 19, 55))
            pii.assign(staff, "phone", _mobile(rng))
            missing = 0.2 if careless else 0.03
            if rng.random() >= missing:
                staff.background_checked_on = today - dt.timedelta(days=rng.randrange(30, 1000))
            if rng.random() >= missing:
                staff.trained_on = today - dt.timedelta(days=rng.randrange(10, 700))
            new.append(staff)
    CourierStaff.objects.bulk_create(new, batch_size=1000)
    made.staff += len(new)


def _devices(made: Made, outlets: list[Outlet], home_id: int | None) -> None:
    """A recorder (NVR) with 2–4 cameras as its channels, and an X-ray machine unless the
    outlet has none. Camera and recorder codes are GB/T 28181: the county's division code,
    access unit 01, industry 48 (邮政企业接入), type 118 (NVR) or 132 (IPC), network 8
    (社会资源接入网: cameras a company owns), then a serial unique in the county."""
    equipped = set(Device.objects.filter(org_id__in=[o.org_id for o in outlets])
                   .values_list("org_id", flat=True).distinct())
    used = set(Device.objects.values_list("code", flat=True))
    by_county: dict[str, int] = {}
    recorders, cameras = [], []
    now = timezone.now()

    def code(county: str, type_code: str) -> str:
        serial = by_county.get(county, 0)
        while True:
            serial += 1
            candidate = f"{county}0148{type_code}8{serial:06d}"
            if candidate not in used:
                by_county[county] = serial
                used.add(candidate)
                return candidate

    for outlet in outlets:
        if outlet.org_id in equipped:
            continue
        rng = _rng(f"devices:{outlet.code}")
        county = outlet.area_code[:6]
        common = {"org": outlet.org, "area": outlet.area, "area_code": outlet.area_code,
                  "address": outlet.address, "installed_on": outlet.created_at.date(),
                  "last_seen_at": now}
        maker, model = rng.choice(CAMERA_MAKERS)
        recorder = Device(kind=DeviceKind.NVR, code=code(county, "118"),
                          name=f"{outlet.org.name}硬盘录像机", manufacturer=maker,
                          model="NVR-08", **common)
        recorders.append(recorder)
        for place in CAMERAS[:rng.randint(2, 4)]:
            status = rng.choices([DeviceStatus.ONLINE, DeviceStatus.OFFLINE,
                                  DeviceStatus.FAULT], [95, 4, 1])[0]
            cameras.append((recorder, Device(
                kind=DeviceKind.CAMERA, code=code(county, "132"),
                name=f"{outlet.org.name}{place}", manufacturer=maker, model=model,
                status=status, **common)))
        if _profile(outlet, home_id) != "no_xray":
            xmaker, xmodel = rng.choice(XRAY_MAKERS)
            cameras.append((None, Device(kind=DeviceKind.XRAY, code=f"XR-{outlet.code}",
                                         name=f"{outlet.org.name}安检机", manufacturer=xmaker,
                                         model=xmodel, **common)))
    Device.objects.bulk_create(recorders, batch_size=500)
    for parent, device in cameras:
        device.parent = parent
    Device.objects.bulk_create([d for _p, d in cameras], batch_size=500)
    made.devices += len(recorders) + len(cameras)


# --- traffic ---------------------------------------------------------------------------------

def _sites(outlets: list[Outlet], companies: dict, home_org_id: int | None) -> list[_Site]:
    machines = dict(Device.objects.filter(kind=DeviceKind.XRAY,
                                          org_id__in=[o.org_id for o in outlets])
                    .values_list("org_id", "code"))
    inspectors: dict[int, list[str]] = {}
    for outlet_id, name in CourierStaff.objects.filter(
            outlet__in=outlets, duty=StaffDuty.COLLECT).values_list("outlet_id", "name"):
        inspectors.setdefault(outlet_id, []).append(name)
    numbers: dict[int, int] = {}
    sites = []
    for outlet in outlets:
        company = companies.get(outlet.company_id)
        if company is None:
            continue
        numbers[outlet.company_id] = numbers.get(outlet.company_id, 0) + 1
        profile = _profile(outlet, home_org_id)
        rng = _rng(f"rates:{outlet.code}")
        p_real, p_inspect, p_photo = (1.0 if rng.random() < 0.7 else 0.997), 1.0, 0.995
        machine = machines.get(outlet.org_id, "")
        p_xray = 1.0 if machine else 0.0
        if profile == "gaps":
            # One to three of the rates fall to 90–98 %.
            for rate in rng.sample(["real", "inspect", "xray"], rng.randint(1, 3)):
                value = rng.uniform(0.90, 0.98)
                if rate == "real":
                    p_real = value
                elif rate == "inspect":
                    p_inspect = value
                elif machine:
                    p_xray = value
        elif profile == "suspicious":
            p_photo = 0.0
        brand = company.org.name.removesuffix(COMPANY_SUFFIX)
        sites.append(_Site(
            outlet_id=outlet.pk, company_id=outlet.company_id, area_code=outlet.area_code,
            code=outlet.code, waybill_prefix=BRANDS[brand][2], number=numbers[outlet.company_id],
            profile=profile, weight=rng.lognormvariate(0, 0.5) / math.exp(0.125),
            p_real=p_real, p_inspect=p_inspect, p_photo=p_photo, p_xray=p_xray,
            p_flag=0.01 if rng.random() < 0.02 else 0.0004, machine=machine,
            inspectors=inspectors.get(outlet.pk) or [outlet.person_in_charge or "值班员"]))
    return sites


@dataclass
class _Parcel:
    waybill: str
    accepted_at: dt.datetime
    sender: tuple[str, str, str, str] | None  # name, id type, number, phone
    problem: str  # "", "missing" or "invalid"
    goods: str
    category: str
    weight: Decimal
    inspection: tuple[dt.datetime, str, str, str] | None  # at, inspector, result, photo
    scan: tuple[dt.datetime, bool, str] | None  # at, alarm, image


class _Senders:
    """People who send parcels: a few shops send a third of them (home textiles sell online),
    the rest are people sending now and then."""

    def __init__(self, scale: str, today: dt.date):
        rng = _rng(f"senders:{scale}")
        size = 30_000 if scale == "city" else 3_000
        self.people = []
        for _ in range(size):
            region = rng.choice(NANTONG) if rng.random() < 0.8 else rng.choice(ORIGINS)
            if rng.random() < 0.02:  # a foreigner with a passport
                self.people.append((_name(rng), "414", f"E{rng.randrange(10**8):08d}",
                                    _mobile(rng)))
            else:
                self.people.append((_name(rng), "111", _id_number(rng, region, today),
                                    _mobile(rng)))
        self.shops = self.people[: max(size // 50, 1)]

    def pick(self, rng: random.Random):
        return rng.choice(self.shops if rng.random() < 0.33 else self.people)


def _day_factor(day: dt.date) -> float:
    return {5: 0.9, 6: 0.8}.get(day.weekday(), 1.0)


def _parcels(site: _Site, day: dt.date, scale: str, senders: _Senders, zone) -> list[_Parcel]:
    """The outlet's parcels of one day, always the same for the same outlet and day."""
    rng = _rng(f"parcels:{site.code}:{day.isoformat()}")
    expected = DAILY[scale] * site.weight * _day_factor(day)
    count = max(0, round(expected * rng.uniform(0.8, 1.2)))
    opening = dt.datetime.combine(day, dt.time(8), tzinfo=zone)
    out = []
    for n in range(count):
        accepted = opening + dt.timedelta(seconds=int(rng.triangular(0, 12 * 3600, 5 * 3600)))
        waybill = f"{site.waybill_prefix}{day:%y%m%d}{site.number:04d}{n:04d}"
        name, id_type, number, phone = senders.pick(rng)
        problem = ""
        if rng.random() >= site.p_real:
            if rng.random() < 0.65:
                problem, number = "missing", ""
            else:  # a digit mistyped: the check character no longer fits
                problem = "invalid"
                digit = str((int(number[10]) + 1) % 10) if id_type == "111" else ""
                number = number[:10] + digit + number[11:] if id_type == "111" else "???"
        flagged = rng.random() < site.p_flag
        if flagged:
            goods, category = rng.choice(FLAGGED)
            low, high = 0.5, 5.0
        else:
            goods = rng.choices(GOODS_NAMES, cum_weights=GOODS_CUMULATIVE)[0]
            category, (low, high) = GOODS_BY_NAME[goods]
        weight = Decimal(f"{rng.uniform(low, high):.3f}")
        inspection = None
        if rng.random() < site.p_inspect:
            if site.profile == "suspicious":
                at = accepted  # "inspected" the very second it was taken in
            else:
                at = accepted - dt.timedelta(seconds=rng.randrange(20, 240))
            result = InspectionResult.PASSED
            if flagged:
                result = rng.choices([InspectionResult.PROHIBITED, InspectionResult.REFUSED,
                                      InspectionResult.SUSPICIOUS, InspectionResult.PASSED],
                                     [5, 2, 2, 1])[0]
            photo = f"inspect/{site.code}/{day:%Y%m%d}/{waybill}.jpg" \
                if rng.random() < site.p_photo else ""
            inspection = (at, rng.choice(site.inspectors), result, photo)
        scan = None
        if rng.random() < site.p_xray:
            at = accepted + dt.timedelta(seconds=rng.randrange(20 * 60, 180 * 60))
            alarm = rng.random() < (0.7 if flagged else 0.003)
            scan = (at, alarm, f"xray/{site.machine}/{day:%Y%m%d}/{waybill}.png")
        out.append(_Parcel(waybill, accepted, (name, id_type, number, phone), problem, goods,
                           category, weight, inspection, scan))
    return out


def _traffic(made: Made, scale: str, sites: list[_Site], areas: dict[int, str],
             today: dt.date) -> None:
    """Two passes over the days: inspection and scan records first, then the parcels. Written
    in this order, each parcel finds its records already stored when it is inserted (one
    indexed lookup), instead of every record batch searching the stored parcels for the ones
    it completes."""
    if not sites:
        return
    first = today - dt.timedelta(days=DAYS)
    done = set(OutletDay.objects.filter(day__gte=first, day__lt=today,
                                        outlet_id__in=[s.outlet_id for s in sites])
               .values_list("day", flat=True).distinct())
    days = [first + dt.timedelta(days=i) for i in range(DAYS)]
    days = [d for d in days if d not in done]
    if not days:
        return
    zone = timezone.get_default_timezone()
    senders = _Senders(scale, today)
    screen = feeds.Screen.current()
    writer = _Writer(made, areas)
    for day in days:
        for site in sites:
            for p in _parcels(site, day, scale, senders, zone):
                if p.inspection is not None:
                    at, inspector, result, photo = p.inspection
                    writer.add(FeedKind.INSPECTIONS, site.company_id, (
                        site.company_id, site.outlet_id, site.area_code, p.waybill, day, at,
                        inspector, result, photo, "feed"))
                if p.scan is not None:
                    at, alarm, image = p.scan
                    writer.add(FeedKind.SCANS, site.company_id, (
                        site.company_id, site.outlet_id, site.area_code, p.waybill, day, at,
                        site.machine, alarm, image))
        writer.end_of_day(day)
    writer.flush()
    encrypt, dumps, index = crypto.encrypt, json.dumps, feeds.sender_index
    for day in days:
        for site in sites:
            for p in _parcels(site, day, scale, senders, zone):
                name, id_type, number, phone = p.sender
                # As check_shipments builds them: the sender as one encrypted value, the
                # document's blind index only when it passed its check.
                sender = encrypt(dumps({"name": name, "id_type": id_type, "id_number": number,
                                        "phone": phone}, ensure_ascii=False,
                                       separators=(",", ":")), "sender")
                hits = screen.hits(p.goods)
                received = p.accepted_at + dt.timedelta(minutes=15)
                writer.add(FeedKind.SHIPMENTS, site.company_id, (
                    site.company_id, site.outlet_id, site.area_code, p.waybill, day,
                    p.accepted_at, sender, id_type if number else "",
                    index(number) if number and not p.problem else None, p.problem == "",
                    p.problem, p.goods, p.category, p.weight, bool(hits), ",".join(hits)[:200]),
                    (received,))
        writer.end_of_day(day)
    writer.flush()


class _Writer:
    """Collects rows per feed kind, makes one batch per company, kind and day (as a company's
    nightly push would be), and writes the rows through `ingest.write` in chunks."""

    def __init__(self, made: Made, areas: dict[int, str]):
        self.made, self.areas = made, areas  # company id → its area code
        self.pending: dict[str, list[tuple]] = {k: [] for k in FeedKind.values}
        self.ready: dict[str, list[tuple]] = {k: [] for k in FeedKind.values}

    def add(self, kind: str, company_id: int, row: tuple, tail: tuple = ()) -> None:
        """`row` up to the batch column, `tail` the columns after it."""
        self.pending[kind].append((company_id, row, tail))

    def end_of_day(self, day: dt.date) -> None:
        """Make the day's batches and complete the day's rows with their ids."""
        counts: dict[tuple[int, str], int] = {}
        for kind, items in self.pending.items():
            for company_id, _row, _tail in items:
                counts[(company_id, kind)] = counts.get((company_id, kind), 0) + 1
        if not counts:
            return
        key_of = {kind: f"demo-{day:%Y%m%d}-{kind}" for kind in FeedKind.values}
        closing = timezone.make_aware(dt.datetime.combine(day, dt.time(23, 30)))
        existing = set(IngestBatch.objects.filter(key__in=key_of.values())
                       .values_list("company_id", "kind"))
        IngestBatch.objects.bulk_create([IngestBatch(
            company_id=company_id, area_code=self.areas[company_id], kind=kind,
            key=key_of[kind], state=BatchState.DONE, submitted=n, accepted=n, created=n,
            sha256=hashlib.sha256(f"{company_id}:{key_of[kind]}".encode()).hexdigest(),
            received_at=closing, seconds=round(n / 20000, 3))
            for (company_id, kind), n in sorted(counts.items())
            if (company_id, kind) not in existing])
        ids = {(c, k): pk for c, k, pk in IngestBatch.objects.filter(
            key__in=key_of.values()).values_list("company_id", "kind", "pk")}
        for kind, items in self.pending.items():
            self.ready[kind].extend(row + (ids[(company_id, kind)],) + tail
                                    for company_id, row, tail in items)
            self.pending[kind] = []
            if len(self.ready[kind]) >= CHUNK:
                self._write(kind)

    def flush(self) -> None:
        for kind in FeedKind.values:
            self._write(kind)

    def _write(self, kind: str) -> None:
        rows = self.ready[kind]
        if not rows:
            return
        written = ingest.write(kind, rows)
        if connection.vendor == "postgresql":
            # The stage table empties on commit, and the whole demo is one transaction:
            # empty it here, or the next chunk would insert this one's rows again.
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM delivery_stage_{kind}")
        if kind == FeedKind.SHIPMENTS:
            self.made.parcels += written.created
        elif kind == FeedKind.INSPECTIONS:
            self.made.inspections += written.created
        else:
            self.made.scans += written.created
        self.ready[kind] = []
