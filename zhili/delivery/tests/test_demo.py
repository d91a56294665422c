"""The courier demo on a slice of the real city (通州区: 17 towns): registry rows, devices with
valid GB/T 28181 codes, staff with valid ID numbers, thirty days of traffic with realistic
rates, rollups equal to a rebuild, rows equal to what the feed checks make, idempotence."""

import csv
import datetime as dt
import json
from collections import Counter

import pytest
from django.db import connection
from django.utils import timezone

from zhili.areas.models import Area
from zhili.core import codes, pii
from zhili.delivery import demo, feeds, ingest
from zhili.delivery.models import (
    CourierCompany,
    CourierStaff,
    IngestBatch,
    Inspection,
    Outlet,
    OutletDay,
    Shipment,
    XRayScan,
)
from zhili.demo.builder import DATA, DemoBuilder
from zhili.devices.codes import parse_gb28181
from zhili.devices.models import Device
from zhili.orgs.models import Organisation

pytestmark = pytest.mark.django_db
COUNTY = "320612"
ROLLUP_FIELDS = ("outlet_id", "day", *ingest.ROLLUP)


def _slice(villages_per_town: int = 2) -> dict:
    """The city, one county, its towns and a few villages of each, from the demo's data."""
    with DATA.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    kept, per_town = [], {}
    for row in rows:
        code, level = row["code"], row["level"]
        if level == "village":
            parent = row["parent_code"]
            if not parent.startswith(COUNTY) or per_town.get(parent, 0) >= villages_per_town:
                continue
            per_town[parent] = per_town.get(parent, 0) + 1
        elif level in ("county", "town") and not code.startswith(COUNTY):
            continue
        kept.append(row)
    levels = {"city": 1, "county": 2, "town": 3, "village": 4}
    areas = {}
    for row in sorted(kept, key=lambda r: levels[r["level"]]):
        parent = areas.get(codes.pad(row["parent_code"]))
        area = Area.objects.create(code=codes.pad(row["code"]), name=row["name"],
                                   level=levels[row["level"]], parent=parent,
                                   center_lng=120.86, center_lat=32.01)
        areas[area.code] = area
    return areas


@pytest.fixture
def city():
    areas = _slice()
    orgs = DemoBuilder(scale="small").build_orgs(areas)
    return areas, orgs


def rollups():
    return sorted(OutletDay.objects.values_list(*ROLLUP_FIELDS))


def test_small_demo_slice(city):
    areas, orgs = city
    today = timezone.localdate()
    made = demo.build_delivery(scale="small", areas=areas, orgs=orgs, today=today)

    # Registry: the eight companies (valid USCC on their organisations), two outlets a town.
    assert made.companies == CourierCompany.objects.count() == 8
    for company in CourierCompany.objects.select_related("org"):
        assert pii.validate_uscc(company.org.uscc) == company.org.uscc
        assert company.phone and company.area_code == company.org.area_code
    towns = [a for a in areas.values() if a.level == 3]
    assert made.outlets == Outlet.objects.count() == 2 * len(towns) == 34
    home = Outlet.objects.get(org=orgs[f"{codes.pad('320612001')}.outlet1"])
    assert home.area.name == "金沙街道"
    assert len(set(Outlet.objects.values_list("company_id", "code"))) == 34

    # Staff: valid, encrypted and searchable ID numbers.
    staff = list(CourierStaff.objects.all())
    assert len(staff) >= 34 * 5
    for member in staff[:60]:
        assert pii.validate_id_number(member.id_number).number == member.id_number
        assert member.id_number_bidx == pii.blind_index(member.id_number, "id_number")
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM delivery_courierstaff LIMIT 1")
        assert pii.crypto.looks_encrypted(cursor.fetchone()[0])

    # Devices: a recorder and 2–4 cameras an outlet, GB/T 28181 codes of the outlet's county;
    # an X-ray machine for most outlets, not all.
    for outlet in Outlet.objects.select_related("org"):
        devices = list(Device.objects.filter(org=outlet.org))
        cameras = [d for d in devices if d.kind == "camera"]
        recorders = [d for d in devices if d.kind == "nvr"]
        assert 2 <= len(cameras) <= 4 and len(recorders) == 1
        for device in cameras + recorders:
            parsed = parse_gb28181(device.code)
            assert parsed["division"] == outlet.area_code[:6]
            assert parsed["type"] == ("132" if device.kind == "camera" else "118")
        assert {c.parent_id for c in cameras} == {recorders[0].pk}
    xray_outlets = set(Device.objects.filter(kind="xray").values_list("org_id", flat=True))
    assert 20 < len(xray_outlets) < 34

    # Traffic: the expected volume, written through ingestion with batches per company/day.
    assert made.parcels == Shipment.objects.count()
    assert 34 * 30 * 6.1 * 0.7 < made.parcels < 34 * 30 * 6.1 * 1.3
    assert made.inspections == Inspection.objects.count()
    assert made.scans == XRayScan.objects.count()
    first, last = today - dt.timedelta(days=30), today - dt.timedelta(days=1)
    assert set(Shipment.objects.values_list("day", flat=True)) == {
        first + dt.timedelta(days=i) for i in range(30)}
    assert not Shipment.objects.filter(batch_id=None).exists()
    # One batch per company, kind and day, counting exactly its rows.
    for kind, model in (("shipments", Shipment), ("inspections", Inspection),
                        ("scans", XRayScan)):
        per_batch = Counter(model.objects.values_list("batch_id", flat=True))
        assert dict(IngestBatch.objects.filter(kind=kind).values_list("pk", "created")) == \
            per_batch
    assert Shipment.objects.filter(outlet=home).count() > 30

    # Rates per outlet follow its profile.
    home_id = orgs[f"{codes.pad('320612001')}.outlet1"].pk
    totals = {}
    for row in OutletDay.objects.values("outlet_id", *ingest.ROLLUP[:-2]):
        sums = totals.setdefault(row["outlet_id"], dict.fromkeys(ingest.ROLLUP[:-2], 0))
        for name in sums:
            sums[name] += row[name]
    profiles = {}
    for outlet in Outlet.objects.all():
        profile = demo._profile(outlet, home_id)
        profiles[profile] = profiles.get(profile, 0) + 1
        t = totals[outlet.pk]
        real, inspected, xrayed = (t[k] / t["parcels"] for k in ("real_name", "inspected",
                                                                   "xrayed"))
        photos = t["inspection_photos"] / max(t["inspections"], 1)
        if profile == "model":
            assert real > 0.98 and inspected == 1 and xrayed == 1 and photos > 0.97, outlet
        elif profile == "gaps":
            assert min(real, inspected, xrayed) < 0.99, outlet
            assert min(real, inspected) > 0.8, outlet
        elif profile == "suspicious":
            assert inspected == 1 and photos == 0, outlet
        else:
            assert xrayed == 0, outlet
    assert profiles["model"] > 20 and profiles["gaps"] >= 3 and made.profiles == profiles
    assert demo._profile(home, home_id) == "gaps"
    overall = Shipment.objects.filter(real_name=True).count() / made.parcels
    assert 0.97 < overall < 1
    assert Shipment.objects.filter(id_problem="missing").exists()
    assert Shipment.objects.filter(id_problem="invalid").exists()
    assert Shipment.objects.filter(flagged=True).exists()

    # The rollups kept while writing equal the ones rebuilt from the records.
    kept = rollups()
    ingest.rebuild_days(first, last)
    assert rollups() == kept

    # Second run the same day: nothing more.
    counts = (Shipment.objects.count(), Outlet.objects.count(), Device.objects.count(),
              CourierStaff.objects.count(), Organisation.objects.count())
    again = demo.build_delivery(scale="small", areas=areas, orgs=orgs, today=today)
    assert (again.outlets, again.parcels, again.devices, again.staff) == (0, 0, 0, 0)
    assert (Shipment.objects.count(), Outlet.objects.count(), Device.objects.count(),
            CourierStaff.objects.count(), Organisation.objects.count()) == counts


def test_rows_are_what_the_feed_checks_make(city):
    """Stored parcels, sent again as a company would send them, check to the same values."""
    areas, orgs = city
    demo.build_delivery(scale="small", areas=areas, orgs=orgs, today=timezone.localdate())
    sample = list(Shipment.objects.filter(real_name=False)[:20]) + \
        list(Shipment.objects.filter(flagged=True)[:10]) + list(Shipment.objects.all()[:40])
    company = sample[0].company
    sample = list({s.pk: s for s in sample if s.company_id == company.pk}.values())
    outlets = dict(Outlet.objects.values_list("pk", "code"))
    parsed = []
    for line, s in enumerate(sample, start=1):
        sender = json.loads(s.sender)
        parsed.append((line, {
            "waybill": s.waybill, "outlet": outlets[s.outlet_id],
            "accepted_at": s.accepted_at.isoformat(), "sender_name": sender["name"],
            "id_type": sender["id_type"], "id_number": sender["id_number"],
            "phone": sender["phone"], "goods": s.goods, "category": s.goods_category,
            "weight": str(s.weight)}, ""))
    checked = feeds.check_shipments(parsed, ingest.context_for(company))
    assert checked.rejected == 0
    columns = ingest.COLUMNS["shipments"]
    compared = [c for c in columns if c not in ("sender", "batch_id", "received_at")]
    for s, row in zip(sample, checked.good, strict=True):
        values = dict(zip(columns, row, strict=True))
        for name in compared:
            stored = getattr(s, name)
            assert values[name] == stored or (values[name] is None and stored == ""), \
                (s.waybill, name, values[name], stored)


def test_city_scale_adds_village_outlets(city, monkeypatch):
    areas, orgs = city
    monkeypatch.setitem(demo.DAILY, "city", 0.5)  # the volume is not what is tested here
    monkeypatch.setitem(demo.VILLAGE_OUTLETS, "city", 0.5)
    made = demo.build_delivery(scale="city", areas=areas, orgs=orgs, today=timezone.localdate())
    villages = [a for a in areas.values() if a.level == 4]
    in_villages = Outlet.objects.filter(area__level=4).count()
    assert made.outlet_orgs == in_villages and 0 < in_villages < len(villages)
    assert made.outlets == 34 + in_villages
    for outlet in Outlet.objects.filter(area__level=4).select_related("org__parent"):
        assert outlet.org.kind == "outlet" and outlet.org.parent.kind == "courier"
        assert outlet.org.parent.courier_company == outlet.company
