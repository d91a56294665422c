"""Test support: a courier sector on top of the battery's World (a company with two outlets in
金沙街道 and one in 城东街道, an X-ray machine, staff), feed bodies, and the battery factories
placing the module's rows inside or outside a persona's reach."""

from __future__ import annotations

import datetime as dt
import json

from django.utils import timezone

from zhili.core.testing import World, battery_factory
from zhili.delivery import ingest
from zhili.delivery.models import (
    CourierCompany,
    CourierStaff,
    IngestBatch,
    Outlet,
    OutletDay,
    Penalty,
    RectificationOrder,
    Shipment,
    SpotCheck,
)

ID_A = "320612199001011232"


class Sector:
    def __init__(self, world: World):
        from zhili.accounts.models import Position, Role, User
        from zhili.devices.models import Device
        from zhili.orgs.models import Organisation

        self.world = world
        roles = {r.code: r for r in Role.objects.all()}
        company_org = world.courier  # 顺丰速运南通分公司 (city)
        self.company = CourierCompany.objects.create(org=company_org, brand="顺丰",
                                                     area_code=company_org.area_code)
        other_org = Organisation.objects.create(name="中通快递南通分公司", kind="courier",
                                                area=world.city, area_code=world.city.code)
        self.other_company = CourierCompany.objects.create(org=other_org, brand="中通",
                                                           area_code=other_org.area_code)

        def outlet(company, org, code, place):
            return Outlet.objects.create(org=org, company=company, code=code, area=place,
                                         area_code=place.code)

        self.outlet = outlet(self.company, world.outlet_a1, "JS01", world.town_a1)
        org2 = Organisation.objects.create(name="顺丰城东营业部", kind="outlet",
                                           area=world.town_b1, area_code=world.town_b1.code,
                                           parent=company_org)
        self.outlet_b = outlet(self.company, org2, "CD01", world.town_b1)
        org3 = Organisation.objects.create(name="中通金沙营业部", kind="outlet",
                                           area=world.town_a1, area_code=world.town_a1.code,
                                           parent=other_org)
        self.rival_outlet = outlet(self.other_company, org3, "ZT01", world.town_a1)
        self.machine = Device.objects.create(kind="xray", code="XR-JS01-1", name="安检机1",
                                             org=world.outlet_a1, area=world.town_a1,
                                             area_code=world.town_a1.code)

        def user(username, role, place, org=None):
            account = User.objects.create_user(username=username, password=World.PASSWORD,
                                               display_name=username)
            Position.objects.create(user=account, role=roles[role], area=place,
                                    area_code=place.code, org=org)
            return account

        self.regulator = user("c.regulator", "courier_regulator", world.county_a)
        self.outlet_user = user("c.outlet", "outlet_staff", world.town_a1, world.outlet_a1)
        self.feeder = user("c.feed", "api_client", world.city, company_org)


def parcel(waybill: str, *, outlet="JS01", when=None, **extra) -> dict:
    when = when or timezone.now() - dt.timedelta(hours=1)
    row = {"waybill": waybill, "outlet": outlet, "accepted_at": when.isoformat(),
           "sender_name": "张三", "id_type": "111", "id_number": ID_A,
           "phone": "13812345678", "goods": "衣服", "category": "日用品", "weight": "1.2"}
    row.update(extra)
    return row


def ndjson(rows: list[dict]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


# --- battery factories ----------------------------------------------------------------------------

def _outlet_for(world, persona, inside: bool, marker: str):
    """An outlet the persona reaches (its own organisation's, or one in its area) or not."""
    from zhili.orgs.models import Organisation

    if persona.org_scoped:
        parent = persona.org if inside else world.org_outside(persona, marker)
        place = parent.area
    else:
        place = world.area_inside(persona) if inside else world.area_outside(persona)
        if place is None:
            return None
        parent = None
    company_org = Organisation.objects.create(name=f"{marker} 快递", kind="courier",
                                              area=place, area_code=place.code, parent=parent)
    company = CourierCompany.objects.create(org=company_org, brand=marker,
                                            area_code=place.code)
    org = Organisation.objects.create(name=f"{marker} 网点", kind="outlet", area=place,
                                      area_code=place.code, parent=company_org)
    return Outlet.objects.create(org=org, company=company, code=marker, area=place,
                                 area_code=place.code)


@battery_factory(Outlet)
def make_outlet(world, persona, inside: bool, marker: str):
    return _outlet_for(world, persona, inside, marker)


@battery_factory(CourierCompany)
def make_company(world, persona, inside: bool, marker: str):
    outlet = _outlet_for(world, persona, inside, marker)
    return None if outlet is None else outlet.company


@battery_factory(CourierStaff)
def make_staff(world, persona, inside: bool, marker: str):
    outlet = _outlet_for(world, persona, inside, marker)
    if outlet is None:
        return None
    return CourierStaff.objects.create(outlet=outlet, area_code=outlet.area_code, name=marker,
                                       duty="collect")


@battery_factory(IngestBatch)
def make_batch(world, persona, inside: bool, marker: str):
    outlet = _outlet_for(world, persona, inside, marker)
    if outlet is None:
        return None
    return IngestBatch.objects.create(company=outlet.company, area_code=outlet.area_code,
                                      kind="shipments", key=marker, sha256="0" * 64)


@battery_factory(Shipment)
def make_shipment(world, persona, inside: bool, marker: str):
    outlet = _outlet_for(world, persona, inside, marker)
    if outlet is None:
        return None
    now = timezone.now()
    return Shipment.objects.create(company=outlet.company, outlet=outlet,
                                   area_code=outlet.area_code, waybill=marker,
                                   day=timezone.localtime(now).date(), accepted_at=now,
                                   goods=marker)


@battery_factory(OutletDay)
def make_outlet_day(world, persona, inside: bool, marker: str):
    outlet = _outlet_for(world, persona, inside, marker)
    if outlet is None:
        return None
    row = OutletDay.objects.create(outlet=outlet, company=outlet.company,
                                   area_code=outlet.area_code, day=timezone.localdate(),
                                   parcels=10, real_name=9)
    ingest.rebuild_months(row.day, row.day)
    return row


@battery_factory(RectificationOrder)
def make_order(world, persona, inside: bool, marker: str):
    outlet = _outlet_for(world, persona, inside, marker)
    if outlet is None:
        return None
    today = timezone.localdate()
    return RectificationOrder.objects.create(
        outlet=outlet, area_code=outlet.area_code, number=marker, period_start=today,
        period_end=today, findings=marker, requirements=marker)


@battery_factory(SpotCheck)
def make_spot_check(world, persona, inside: bool, marker: str):
    outlet = _outlet_for(world, persona, inside, marker)
    if outlet is None:
        return None
    return SpotCheck.objects.create(outlet=outlet, area_code=outlet.area_code,
                                    sampled=[marker], note=marker)


@battery_factory(Penalty)
def make_penalty(world, persona, inside: bool, marker: str):
    outlet = _outlet_for(world, persona, inside, marker)
    if outlet is None:
        return None
    return Penalty.objects.create(outlet=outlet, area_code=outlet.area_code,
                                  decided_on=timezone.localdate(), decision_no=marker,
                                  basis=marker)
