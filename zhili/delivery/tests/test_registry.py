"""The courier registry: companies, outlets and staff through the services, the pages, the API
and the bulk import (CSV in UTF-8 and GB18030, Excel), with reach and masking."""

import datetime as dt
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse
from python_calamine import CalamineWorkbook

from zhili.core import pii
from zhili.core.models import AuditLog, Job
from zhili.core.pii.validation import id_check_digit, uscc_check_char
from zhili.core.services import ServiceError
from zhili.core.tabular import write_csv, write_xlsx
from zhili.delivery import imports, registry
from zhili.delivery.models import CourierCompany, CourierStaff, Outlet
from zhili.devices.models import Device
from zhili.orgs.models import Organisation

pytestmark = pytest.mark.django_db


def uscc(body: str = "91320612MA1ABCDE1") -> str:
    return body + uscc_check_char(body)


def id_number(born: str = "19900101", seq: str = "123") -> str:
    first17 = "320612" + born + seq
    return first17 + id_check_digit(first17)


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        return cursor.fetchone()[0]


def company_data(world, **extra):
    return {"name": "韵达快递通州分公司", "uscc": uscc(), "area": world.county_a, "brand": "韵达",
            "registration_type": "150", "holding": "210", "business_scope": ["01", "02"],
            "enterprise_type": "01", "person_in_charge": "周经理", "phone": "13912345678",
            **extra}


def outlet_data(sector, **extra):
    return {"company": sector.company, "code": "JS02", "name": "顺丰金沙二部",
            "area": sector.world.town_a1, "address": "通州区金沙街道人民路8号",
            "phone": "0513-86123456", "lat": "32.08", "lng": "121.07", **extra}


def staff_data(sector, **extra):
    return {"outlet": sector.outlet, "name": "钱七", "id_number": id_number(),
            "phone": "13812345678", "duty": "collect",
            "background_checked_on": dt.date(2024, 3, 5), **extra}


# --- services: companies -------------------------------------------------------------------------

def test_a_company_is_registered_with_its_organisation(sector):
    world = sector.world
    company = registry.save_company(actor=sector.regulator, data=company_data(world))
    org = company.org
    assert (org.kind, org.area, org.uscc, org.parent) == ("courier", world.county_a, uscc(),
                                                          None)
    assert company.area_code == world.county_a.code and company.business_scope == ["01", "02"]
    assert "13912345678" not in raw_column("delivery_couriercompany", "phone", company.pk)
    row = AuditLog.objects.get(action="delivery.company.create")
    assert row.target_id == str(company.pk) and "13912345678" not in json.dumps(row.changes)
    # Changing only the brand leaves everything else alone; the phone is audited masked.
    registry.save_company(actor=sector.regulator, company=company,
                          data={"brand": "韵达速递", "phone": "13700001111"})
    company.refresh_from_db()
    assert company.brand == "韵达速递" and company.org.name == "韵达快递通州分公司"
    changes = AuditLog.objects.get(action="delivery.company.update").changes
    assert changes["phone"] == ["139****5678", "137****1111"]


@pytest.mark.parametrize(("field", "value", "message"), [
    ("uscc", "91320612MA1ABCDE1X", "does not match"),
    ("uscc", "", "Give the unified social credit code"),
    ("registration_type", "999", "not a code of table GB/T 31000 5.51"),
    ("business_scope", ["01", "09"], "09 is not a code of table GB/T 31000 5.53"),
    ("enterprise_type", "05", "5.54"),
    ("phone", "12345", "Enter a mobile number"),
    ("brand", " ", "service brand"),
])
def test_bad_company_input_is_a_field_error_and_nothing_is_written(sector, field, value,
                                                                   message):
    before = Organisation.objects.count()
    with pytest.raises(ServiceError) as exc:
        registry.save_company(actor=sector.regulator,
                              data=company_data(sector.world, **{field: value}))
    assert message in exc.value.field_messages[field][0]
    assert Organisation.objects.count() == before and CourierCompany.objects.count() == 2


def test_company_reach_and_duplicates(sector):
    world = sector.world
    with pytest.raises(ServiceError) as exc:  # the regulator of 通州区 does not reach 崇川区
        registry.save_company(actor=sector.regulator,
                              data=company_data(world, area=world.county_b))
    assert exc.value.code == "out_of_scope"
    registry.save_company(actor=sector.regulator, data=company_data(world))
    with pytest.raises(ServiceError) as exc:
        registry.save_company(actor=sector.regulator,
                              data=company_data(world, name="另一家", brand="另一家"))
    assert exc.value.code == "duplicate" and "韵达快递通州分公司" in exc.value.message
    with pytest.raises(ServiceError) as exc:  # same name in the same area
        registry.save_company(actor=sector.regulator, data=company_data(
            world, uscc=uscc("91320612MA1ABCDE2")))
    assert "already has an organisation" in exc.value.field_messages["name"][0]


def test_an_existing_courier_organisation_gets_its_profile(sector):
    world = sector.world
    org = Organisation.objects.create(name="极兔速递通州分公司", kind="courier",
                                      area=world.county_a, area_code=world.county_a.code,
                                      uscc=uscc("91320612MA1ABCDE3"))
    company = registry.save_company(actor=sector.regulator, org=org, data={"brand": "极兔"})
    assert company.org == org and company.area_code == world.county_a.code
    with pytest.raises(ServiceError) as exc:  # a police station is no courier company
        registry.save_company(actor=sector.regulator, org=world.police_a,
                              data={"brand": "x"})
    assert "courier company" in exc.value.field_messages["org"][0]


# --- services: outlets ---------------------------------------------------------------------------

def test_an_outlet_is_registered_under_its_company(sector):
    world = sector.world
    # The company sits at the city: the county's regulator registers its outlets in the county.
    outlet = registry.save_outlet(actor=sector.regulator, data=outlet_data(sector))
    org = outlet.org
    assert (org.kind, org.parent, org.area, org.name) == ("outlet", sector.company.org,
                                                          world.town_a1, "顺丰金沙二部")
    assert outlet.area_code == world.town_a1.code and str(outlet.lat) == "32.080000"
    assert "86123456" not in raw_column("delivery_outlet", "phone", outlet.pk)
    # The company's API key reaches the new outlet through the organisation tree.
    assert Outlet.objects.in_scope(sector.feeder).filter(pk=outlet.pk).exists()


def test_outlet_codes_are_unique_per_company(sector):
    with pytest.raises(ServiceError) as exc:
        registry.save_outlet(actor=sector.regulator, data=outlet_data(sector, code="JS01"))
    assert exc.value.code == "duplicate" and "顺丰金沙营业部" in exc.value.message
    rival = registry.save_outlet(actor=sector.regulator, data=outlet_data(
        sector, company=sector.other_company, code="JS01", name="中通金沙二部"))
    assert rival.code == "JS01"
    with pytest.raises(ServiceError) as exc:
        registry.save_outlet(actor=sector.regulator, data=outlet_data(sector, code="JS 02?"))
    assert "letters, digits" in exc.value.field_messages["code"][0]


@pytest.mark.parametrize(("extra", "field"), [
    ({"area": "town_b1"}, "area"),  # out of reach
    ({"area": "county_a"}, "area"),  # too large for an outlet
    ({"lat": "132"}, "lat"),
    ({"name": ""}, "name"),
    ({"company": None}, "company"),
])
def test_bad_outlet_input_writes_nothing(sector, extra, field):
    extra = {k: getattr(sector.world, v) if k == "area" else v for k, v in extra.items()}
    orgs = Organisation.objects.count()
    with pytest.raises(ServiceError) as exc:
        registry.save_outlet(actor=sector.regulator, data=outlet_data(sector, **extra))
    assert field in exc.value.field_messages
    assert Organisation.objects.count() == orgs and Outlet.objects.count() == 3


def test_moving_an_outlet_takes_its_staff_and_devices(sector):
    world = sector.world
    staff = registry.save_staff(actor=sector.regulator, data=staff_data(sector))
    registry.save_outlet(actor=sector.regulator, outlet=sector.outlet,
                         data={"area": world.town_a2, "name": "顺丰兴东营业部"})
    sector.outlet.refresh_from_db()
    assert sector.outlet.org.name == "顺丰兴东营业部"
    assert sector.outlet.org.area == world.town_a2
    staff.refresh_from_db()
    sector.machine.refresh_from_db()
    assert staff.area_code == world.town_a2.code
    assert sector.machine.area_code == world.town_a2.code
    with pytest.raises(ServiceError) as exc:
        registry.save_outlet(actor=sector.regulator, outlet=sector.outlet,
                             data={"company": sector.other_company})
    assert "company" in exc.value.field_messages


def test_an_outlet_out_of_reach_cannot_be_changed(sector):
    with pytest.raises(ServiceError) as exc:
        registry.save_outlet(actor=sector.regulator, outlet=sector.outlet_b, data={"name": "x"})
    assert exc.value.status == 404


# --- services: staff -----------------------------------------------------------------------------

def test_staff_are_registered_by_id_number_encrypted(sector):
    staff = registry.save_staff(actor=sector.regulator, data=staff_data(sector))
    assert staff.area_code == sector.outlet.area_code
    assert id_number() not in raw_column("delivery_courierstaff", "id_number", staff.pk)
    assert CourierStaff.objects.filter(pii.lookup_q(CourierStaff, "id_number", id_number()))\
        .get() == staff
    changes = AuditLog.objects.get(action="delivery.staff.create").changes
    assert id_number() not in json.dumps(changes) and changes["id_number"].endswith(
        id_number()[-4:])
    # One active record per person: a second outlet gets an error naming the first.
    with pytest.raises(ServiceError) as exc:
        registry.save_staff(actor=sector.regulator, data=staff_data(
            sector, outlet=sector.rival_outlet))
    assert exc.value.code == "duplicate" and "顺丰金沙营业部" in exc.value.message
    # Moving the record is a change of outlet.
    registry.save_staff(actor=sector.regulator, staff=staff,
                        data={"outlet": sector.rival_outlet})
    staff.refresh_from_db()
    assert staff.outlet == sector.rival_outlet


@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"id_number": "320612199001011230"}, "id_number", "does not match"),
    ({"id_number": ""}, "id_number", "real name"),
    ({"duty": "boss"}, "duty", "Choose the duty"),
    ({"trained_on": dt.date(2099, 1, 1)}, "trained_on", "future"),
    ({"outlet": None}, "outlet", "Choose the outlet"),
])
def test_bad_staff_input(sector, extra, field, message):
    with pytest.raises(ServiceError) as exc:
        registry.save_staff(actor=sector.regulator, data=staff_data(sector, **extra))
    assert message in exc.value.field_messages[field][0]
    assert not CourierStaff.objects.exists()


def test_staff_of_an_outlet_out_of_reach_are_refused(sector):
    with pytest.raises(ServiceError) as exc:
        registry.save_staff(actor=sector.regulator, data=staff_data(
            sector, outlet=sector.outlet_b))
    assert "outside your reach" in exc.value.field_messages["outlet"][0]


def test_closing_and_reopening(sector):
    staff = registry.save_staff(actor=sector.regulator, data=staff_data(sector))
    superuser = sector.world.personas["superuser"].user
    with pytest.raises(ServiceError, match="outlets first"):
        registry.deactivate(actor=superuser, obj=sector.company)
    registry.deactivate(actor=sector.regulator, obj=staff)
    other = registry.save_staff(actor=sector.regulator, data=staff_data(
        sector, outlet=sector.rival_outlet))  # left one outlet, works at another
    with pytest.raises(ServiceError) as exc:
        registry.set_active(actor=sector.regulator, obj=staff, active=True)
    assert exc.value.code == "duplicate"
    registry.deactivate(actor=sector.regulator, obj=sector.outlet)
    sector.outlet.refresh_from_db()
    assert not sector.outlet.is_active and not sector.outlet.org.is_active
    with pytest.raises(ServiceError, match="closed or outside"):
        registry.save_staff(actor=sector.regulator, staff=other,
                            data={"outlet": sector.outlet})
    assert AuditLog.objects.filter(action="delivery.outlet.close").exists()


def test_who_sees_what(sector):
    def codes_for(user):
        return set(Outlet.objects.restrict(user).values_list("code", flat=True))

    assert codes_for(sector.regulator) == {"JS01", "ZT01"}  # 通州区
    assert codes_for(sector.outlet_user) == {"JS01"}  # its own outlet
    assert codes_for(sector.feeder) == {"JS01", "CD01"}  # the company's outlets
    assert set(CourierCompany.objects.restrict(sector.regulator)) == set()  # city companies
    assert set(registry.companies_for_outlets(sector.regulator)) == {
        sector.company, sector.other_company}


# --- pages ---------------------------------------------------------------------------------------

def test_company_pages(sector, client_for):
    world = sector.world
    client = client_for(sector.regulator)
    assert client.get(reverse("delivery:companies")).status_code == 200
    response = client.post(reverse("delivery:company_create"), {
        "name": "韵达快递通州分公司", "uscc": "91320612MA1ABCDE1X", "brand": "韵达",
        "area": world.county_a.pk, "business_scope": ["01"]})
    assert response.status_code == 200 and "invalid-feedback" in response.content.decode()
    assert not CourierCompany.objects.filter(brand="韵达").exists()
    response = client.post(reverse("delivery:company_create"), {
        "name": "韵达快递通州分公司", "uscc": uscc(), "brand": "韵达", "area": world.county_a.pk,
        "business_scope": ["01", "04"], "registration_type": "150", "phone": "13912345678"})
    company = CourierCompany.objects.get(brand="韵达")
    assert response.status_code == 302 and response["Location"] == company.get_absolute_url()
    page = client.get(company.get_absolute_url()).content.decode()
    assert "150 有限责任公司" in page and "国内同城" in page and "国际" in page
    assert "13912345678" not in page and "139****5678" in page
    form = client.get(reverse("delivery:company_edit", args=[company.pk])).content.decode()
    assert "13912345678" not in form and "139****5678" in form
    response = client.post(reverse("delivery:company_edit", args=[company.pk]), {
        "name": "韵达快递通州分公司", "uscc": uscc(), "brand": "韵达快递",
        "area": world.county_a.pk, "business_scope": ["01", "04"],
        "registration_type": "150", "phone": ""})
    assert response.status_code == 302
    company.refresh_from_db()
    assert company.brand == "韵达快递" and company.phone == "13912345678"  # kept
    # The city's companies are outside the county regulator's reach.
    assert client.get(sector.company.get_absolute_url()).status_code == 404


def test_outlet_pages(sector, client_for):
    world = sector.world
    registry.save_staff(actor=sector.regulator, data=staff_data(sector))
    client = client_for(sector.regulator)
    listing = client.get(reverse("delivery:outlets")).content.decode()
    assert "顺丰金沙营业部" in listing and "中通金沙营业部" in listing
    assert "顺丰城东营业部" not in listing
    page = client.get(sector.outlet.get_absolute_url()).content.decode()
    assert "钱七" in page and id_number() not in page and "13812345678" not in page
    assert "138****5678" in page and "XR-JS01-1" in page and 'id="outlet-compliance"' in page
    # The company at the city is named, without a link the county cannot follow.
    assert sector.company.get_absolute_url() not in page
    create = client.get(reverse("delivery:outlet_create") + f"?company={sector.company.pk}")
    assert "顺丰" in create.content.decode()
    response = client.post(reverse("delivery:outlet_create"), {
        "company": sector.company.pk, "code": "JS02", "name": "顺丰金沙二部",
        "area": world.town_b1.pk})
    assert response.status_code == 200 and not Outlet.objects.filter(code="JS02").exists()
    response = client.post(reverse("delivery:outlet_create"), {
        "company": sector.company.pk, "code": "JS02", "name": "顺丰金沙二部",
        "area": world.town_a1.pk, "phone": "0513-86123456"})
    outlet = Outlet.objects.get(code="JS02")
    assert response.status_code == 302 and response["Location"] == outlet.get_absolute_url()
    # Outlet staff see their outlet (its devices and its staff, masked) and nothing else.
    staff_client = Client()
    staff_client.force_login(sector.outlet_user)
    own = staff_client.get(sector.outlet.get_absolute_url()).content.decode()
    assert "XR-JS01-1" in own and 'data-testid="outlet-staff"' in own
    assert staff_client.get(outlet.get_absolute_url()).status_code == 404


def test_staff_pages(sector, client_for):
    client = client_for(sector.regulator)
    response = client.post(reverse("delivery:staff_create"), {
        "outlet": sector.outlet.pk, "name": "钱七", "id_number": "320612199001011230",
        "duty": "collect"})
    assert response.status_code == 200 and "does not match" in response.content.decode()
    response = client.post(reverse("delivery:staff_create"), {
        "outlet": sector.outlet.pk, "name": "钱七", "id_number": id_number(),
        "phone": "13812345678", "duty": "collect"})
    staff = CourierStaff.objects.get()
    assert response.status_code == 302 and response["Location"] == \
        sector.outlet.get_absolute_url()
    listing = client.get(reverse("delivery:staff"), {"id_number": id_number()}).content
    assert "钱七" in listing.decode() and "3206**********" + id_number()[-4:] in \
        listing.decode()
    assert id_number() not in client.get(reverse("delivery:staff")).content.decode()
    none = client.get(reverse("delivery:staff"), {"id_number": id_number(seq="456")}).content
    assert "钱七" not in none.decode()
    unchecked = client.get(reverse("delivery:staff"), {"missing": "background"}).content
    assert "钱七" in unchecked.decode()
    form = client.get(reverse("delivery:staff_edit", args=[staff.pk])).content.decode()
    assert id_number() not in form
    response = client.post(reverse("delivery:staff_edit", args=[staff.pk]), {
        "outlet": sector.outlet.pk, "name": "钱七", "id_number": "", "phone": "",
        "duty": "screen", "trained_on": "2024-05-01"})
    assert response.status_code == 302
    staff.refresh_from_db()
    assert (staff.duty, staff.id_number, staff.phone) == ("screen", id_number(), "13812345678")
    client.post(reverse("delivery:staff_active", args=[staff.pk]), {"active": "0"})
    staff.refresh_from_db()
    assert not staff.is_active


# --- API -----------------------------------------------------------------------------------------

API = "/api/v1/delivery"


def post(client, path, body, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def patch(client, path, body):
    return client.patch(path, json.dumps(body), content_type="application/json")


def test_api_registry_round_trip(sector, client_for):
    world = sector.world
    client = client_for(sector.regulator)
    response = post(client, f"{API}/companies", {
        "name": "韵达快递通州分公司", "uscc": uscc(), "area_code": world.county_a.code,
        "brand": "韵达", "business_scope": ["01"], "phone": "13912345678"})
    assert response.status_code == 201, response.content
    company = response.json()
    assert company["phone"] == "139****5678" and company["area_name"] == "通州区"
    bad = post(client, f"{API}/companies", {"name": "x", "uscc": "123", "brand": "x",
                                            "area_code": world.county_b.code})
    assert bad.status_code == 400 and "uscc" in bad.json()["fields"]
    response = post(client, f"{API}/outlets", {
        "company_id": sector.company.pk, "code": "JS02", "name": "顺丰金沙二部",
        "area_code": world.town_b1.code})
    assert response.status_code == 400 and "area_code" in response.json()["fields"]
    response = post(client, f"{API}/outlets", {
        "company_id": sector.company.pk, "code": "JS02", "name": "顺丰金沙二部",
        "area_code": world.town_a1.code, "phone": "0513-86123456"})
    assert response.status_code == 201, response.content
    outlet = response.json()
    assert outlet["phone"] == "0513-****3456" and outlet["brand"] == "顺丰"
    response = patch(client, f"{API}/outlets/{outlet['id']}", {"licence_no": "苏A0002"})
    assert response.json()["licence_no"] == "苏A0002" and response.json()["name"] == "顺丰金沙二部"
    listed = client.get(f"{API}/outlets", {"company": sector.company.pk}).json()
    assert {o["code"] for o in listed["items"]} == {"JS01", "JS02"}
    assert client.get(f"{API}/outlets/{sector.outlet_b.pk}").status_code == 404

    response = post(client, f"{API}/staff", {
        "outlet_id": outlet["id"], "name": "钱七", "id_number": id_number(),
        "phone": "13812345678", "duty": "screen"})
    assert response.status_code == 201, response.content
    staff = response.json()
    assert staff["id_number"] == "3206**********" + id_number()[-4:]
    assert staff["phone"] == "138****5678" and staff["warnings"] == []
    dup = post(client, f"{API}/staff", {"outlet_id": sector.outlet.pk, "name": "钱七",
                                        "id_number": id_number(), "duty": "collect"})
    assert dup.status_code == 400 and "id_number" in dup.json()["fields"]
    found = client.get(f"{API}/staff", {"id_number": id_number()}).json()
    assert [s["id"] for s in found["items"]] == [staff["id"]]
    assert id_number() not in json.dumps(found)
    moved = patch(client, f"{API}/staff/{staff['id']}", {"outlet_id": sector.outlet.pk})
    assert moved.json()["outlet_code"] == "JS01"
    left = post(client, f"{API}/staff/{staff['id']}/active", {"active": False})
    assert left.json()["is_active"] is False

    devices = client.get(f"{API}/outlets/{sector.outlet.pk}/devices").json()
    assert [d["code"] for d in devices] == ["XR-JS01-1"]


def test_a_company_api_key_sees_its_own_outlets(sector):
    from zhili.accounts.models import Role
    from zhili.accounts.services import create_api_key

    superuser = sector.world.personas["superuser"].user
    _key, raw = create_api_key(actor=superuser, org=sector.company.org, name="顺丰数据接口",
                               role=Role.objects.get(code="api_client"))
    client = Client()
    listed = client.get(f"{API}/outlets", HTTP_X_API_KEY=raw).json()
    assert {o["code"] for o in listed["items"]} == {"JS01", "CD01"}
    assert client.get(f"{API}/outlets/{sector.rival_outlet.pk}",
                      HTTP_X_API_KEY=raw).status_code == 404
    devices = client.get(f"{API}/outlets/{sector.outlet.pk}/devices", HTTP_X_API_KEY=raw)
    assert devices.status_code == 200 and len(devices.json()) == 1
    # The key pushes feeds; it does not keep the register.
    response = post(Client(), f"{API}/outlets", {
        "company_id": sector.company.pk, "code": "X1", "name": "x",
        "area_code": sector.world.town_a1.code}, HTTP_X_API_KEY=raw)
    assert response.status_code == 403


# --- import --------------------------------------------------------------------------------------

OUTLET_HEADERS = ["所属企业", "网点编码", "网点名称", "所在区域", "网点地址", "联系电话"]
STAFF_HEADERS = ["网点编码", "姓名", "公民身份号码", "联系电话", "岗位", "背景审查日期"]


def run(sector, kind, data, filename, **options):
    return imports.import_file(kind, actor=sector.regulator, data=data, filename=filename,
                               **options)


def test_outlet_import_checks_first_then_writes(sector):
    world = sector.world
    rows = [
        ["顺丰", "JS02", "顺丰金沙二部", world.town_a1.code, "金沙街道人民路8号", "0513-86123456"],
        ["", "", "", "", "", ""],  # blank: skipped, line numbers stay those of the file
        [sector.other_company.org.name, "ZT02", "中通兴东营业部", "兴东街道", "", ""],
        ["顺丰", "JS01", "顺丰金沙营业部", world.town_a1.code, "", ""],  # registered: skipped
        ["顺丰", "JS02", "重复", world.town_a1.code, "", ""],  # twice in the file
        ["顺丰", "CD02", "顺丰城东二部", world.town_b1.code, "", ""],  # out of reach
        ["韵达", "YD01", "韵达网点", world.town_a1.code, "", ""],  # no such company
        ["顺丰", "JS03", "顺丰金沙三部", "", "", "12345"],  # no area, bad phone
    ]
    data = write_csv(OUTLET_HEADERS, rows)
    check = run(sector, "outlets", data, "outlets.csv")
    assert check.encoding == "utf-8-sig" and Outlet.objects.count() == 3  # nothing written
    assert (check.submitted, check.created, check.skipped, check.rejected) == (7, 2, 1, 4)
    problems = {(e.row, e.field) for e in check.errors}
    assert problems == {(6, "code"), (7, "area"), (8, "company"), (9, "area")}
    assert any("already on row 2" in e.message for e in check.errors)
    refused = run(sector, "outlets", data, "outlets.csv", dry_run=False)
    assert refused.refused and Outlet.objects.count() == 3
    done = run(sector, "outlets", data, "outlets.csv", dry_run=False, strict=False)
    assert done.written and done.created == 2
    new = Outlet.objects.get(code="ZT02")
    assert new.company == sector.other_company and new.area == world.town_a2
    assert new.org.parent == sector.other_company.org
    audit = AuditLog.objects.filter(action="delivery.import.outlets").latest("seq")
    assert audit.changes["created"] == 2 and audit.changes["rejected"] == 4


def test_outlet_import_updates_when_asked(sector):
    rows = [["JS01", "顺丰金沙营业部", sector.world.town_a1.code, "金沙街道新址1号", ""]]
    data = write_csv(OUTLET_HEADERS[1:], rows)
    result = run(sector, "outlets", data, "o.csv", dry_run=False, on_duplicate="update",
                 company=sector.company)
    assert result.updated == 1 and not result.errors
    sector.outlet.refresh_from_db()
    assert sector.outlet.address == "金沙街道新址1号"


def test_staff_import_in_gb18030_with_row_errors(sector):
    existing = registry.save_staff(actor=sector.regulator, data=staff_data(sector))
    rows = [
        ["JS01", "孙八", id_number(seq="456"), "13911112222", "收寄", "2024/3/5"],
        ["ZT01", "周九", id_number(seq="789"), "", "安检员", ""],
        ["JS01", "钱七", id_number(), "", "派送", ""],  # registered: skipped
        ["JS01", "吴十", "320612199001011230", "", "收寄", ""],  # check digit
        ["JS01", "郑一", id_number(seq="456"), "", "收寄", ""],  # twice in the file
        ["CD01", "王二", id_number(seq="135"), "", "收寄", ""],  # outlet out of reach
        ["JS01", "冯三", id_number(seq="246"), "", "经理", "2099-01-01"],  # duty, date
    ]
    data = write_csv(STAFF_HEADERS, rows, encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    result = run(sector, "staff", data, "员工.csv", dry_run=False, strict=False)
    assert result.encoding == "gb18030"
    assert (result.created, result.skipped, result.rejected) == (2, 1, 4)
    problems = {(e.row, e.field) for e in result.errors}
    assert problems == {(5, "id_number"), (6, "id_number"), (7, "outlet"), (8, "duty")}
    sun = CourierStaff.objects.get(name="孙八")
    assert sun.background_checked_on == dt.date(2024, 3, 5) and sun.phone == "13911112222"
    assert CourierStaff.objects.get(name="周九").duty == "screen"
    existing.refresh_from_db()
    assert existing.duty == "collect"  # skipped, not updated
    assert id_number(seq="456") not in raw_column("delivery_courierstaff", "id_number", sun.pk)


def test_staff_import_from_excel(sector):
    headers = ["网点编码*", "姓名（必填）", "身份证号", "岗位"]
    data = write_xlsx(headers, [["JS01", "孙八", id_number(seq="456"), "安检"],
                                [None, None, None, None],
                                ["JS01", "李四", "", "收寄"]])
    result = run(sector, "staff", data, "staff.xlsx", dry_run=False, strict=False)
    assert result.encoding == "xlsx" and result.created == 1
    assert [(e.row, e.field) for e in result.errors] == [(4, "id_number")]
    assert CourierStaff.objects.get().duty == "screen"


def test_files_that_cannot_be_read_are_refused_whole(sector):
    wrong = write_csv(["网点", "名字"], [["JS01", "孙八"]])
    result = run(sector, "staff", wrong, "s.csv", dry_run=False)
    assert "Missing columns" in result.file_error and "公民身份号码" in result.file_error
    assert not CourierStaff.objects.exists()
    twice = write_csv(["网点编码", "姓名", "身份证号", "公民身份号码", "岗位"], [["JS01"] * 5])
    assert "both hold" in run(sector, "staff", twice, "s.csv").file_error
    garbage = run(sector, "staff", b"\xff\xfe\x00\x81\x82garbage", "s.csv")
    assert "neither UTF-8 nor GB18030" in garbage.file_error
    with pytest.raises(ServiceError) as exc:  # outlet staff do not keep the register
        imports.import_file("staff", actor=sector.outlet_user, data=wrong, filename="s.csv")
    assert exc.value.status == 403


def test_templates_have_chinese_headers_that_import(sector, client_for):
    client = client_for(sector.regulator)
    for kind, required in (("outlets", "网点编码"), ("staff", "公民身份号码"),
                           ("devices", "设备编码")):
        response = client.get(reverse(f"delivery:import_{kind}_template"))
        assert response.status_code == 200
        rows = CalamineWorkbook.from_filelike(io.BytesIO(response.content))\
            .get_sheet_by_index(0).to_python()
        assert required in rows[0]
        result = run(sector, kind, response.content, "template.xlsx", company=sector.company)
        assert not result.file_error and result.submitted == 0


def test_import_pages_check_then_import(sector, client_for,
                                        django_capture_on_commit_callbacks):
    client = client_for(sector.regulator)
    assert client.get(reverse("delivery:import_staff")).status_code == 200
    data = write_csv(STAFF_HEADERS, [["JS01", "孙八", id_number(seq="456"), "", "收寄", ""],
                                     ["JS01", "吴十", "320612199001011230", "", "收寄", ""]])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("delivery:import_staff"), {
            "file": SimpleUploadedFile("staff.csv", data), "strict": "on",
            "on_duplicate": "skip"})
    check = Job.objects.latest("id")
    assert response.status_code == 302
    assert response["Location"] == reverse("delivery:import_job", args=[check.pk])
    assert check.status == "succeeded" and check.result["rejected"] == 1
    assert not CourierStaff.objects.exists()
    page = client.get(response["Location"]).content.decode()
    assert 'data-testid="row-errors"' in page and 'data-testid="confirm-form"' in page
    errors = b"".join(client.get(reverse("core:job_download", args=[check.pk]))
                      .streaming_content)
    fix = CalamineWorkbook.from_filelike(io.BytesIO(errors)).get_sheet_by_index(0).to_python()
    assert fix[1][0] == 3 and "公民身份号码" in fix[1][1] and "吴十" in fix[1]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("delivery:import_confirm", args=[check.pk]),
                               {"on_duplicate": "skip"})  # strict unticked
    job = Job.objects.latest("id")
    assert job.pk != check.pk and job.result["created"] == 1 and job.result["written"]
    assert list(CourierStaff.objects.values_list("name", flat=True)) == ["孙八"]
    # Outlet staff may not import.
    other = Client()
    other.force_login(sector.outlet_user)
    assert other.get(reverse("delivery:import_staff")).status_code == 403


def test_device_import_places_machines_at_their_outlets(sector):
    headers = ["网点编码", "设备类型", "设备编码", "设备名称", "安装日期"]
    rows = [
        ["JS01", "安检机", "XR-JS01-2", "安检机2", "2024/1/15"],
        ["ZT01", "摄像机", "32061200001320000001", "中通收寄台摄像机", ""],
        ["JS01", "安检机", "xr-js01-1", "重复", ""],  # registered (whatever the case): skipped
        ["JS01", "摄像机", "32061200001180000001", "错码", ""],  # a recorder's code
        ["JS01", "冰箱", "F-1", "冰箱", ""],
        ["CD01", "安检机", "XR-CD01-1", "城东安检机", ""],  # outlet out of reach
        ["JS01", "安检机", "XR-JS01-2", "再来一次", ""],  # twice in the file
    ]
    result = run(sector, "devices", write_csv(headers, rows), "devices.csv", dry_run=False,
                 strict=False)
    assert (result.created, result.skipped, result.rejected) == (2, 1, 4)
    assert {(e.row, e.field) for e in result.errors} == {
        (5, "code"), (6, "kind"), (7, "outlet"), (8, "code")}
    machine = Device.objects.get(code="XR-JS01-2")
    assert machine.org == sector.outlet.org and machine.area == sector.outlet.area
    assert machine.installed_on == dt.date(2024, 1, 15)
    camera = Device.objects.get(kind="camera")
    assert camera.org == sector.rival_outlet.org
