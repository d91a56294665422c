"""The device registry: the service's rules (identifiers by kind, place and reach, recorders),
the pages and the API."""

import json

import pytest
from django.urls import reverse

from zhili.core.models import AuditLog
from zhili.core.services import ServiceError
from zhili.devices import services
from zhili.devices.models import Device

pytestmark = pytest.mark.django_db

CAMERA = "32061200001320000001"
NVR = "32061200001180000001"


@pytest.fixture
def admin(world):
    return world.personas["district_admin"].user  # 通州区: devices.add/change_device


def data(world, **extra):
    return {"kind": "camera", "code": CAMERA, "name": "东市路口1号", "area": world.village_a1,
            **extra}


def test_a_camera_is_registered_by_its_gb28181_code(world, admin):
    typed = " ３２０６１２００ ００１３２０ ０００００１"  # full-width, in groups
    device = services.save_device(actor=admin, data=data(world, code=typed))
    assert device.code == CAMERA and device.area_code == world.village_a1.code
    assert device.status == "online" and device.org is None
    row = AuditLog.objects.get(action="devices.create")
    assert row.changes["code"] == CAMERA and row.area_code == world.village_a1.code


@pytest.mark.parametrize(("extra", "field", "message"), [
    ({"code": "1234"}, "code", "exactly 20 digits"),
    ({"code": NVR}, "code", "another kind of device"),  # a recorder's code on a camera
    ({"code": "32061200001329000001"}, "code", "reserved"),
    ({"kind": "gate", "code": CAMERA}, "code", "another kind of device"),
    ({"kind": "xray", "code": "XR 01"}, "code", "serial number"),
    ({"kind": "xray", "code": "-XR01"}, "code", "serial number"),
    ({"kind": "xray", "code": "X" * 41}, "code", "serial number"),
    ({"kind": "toaster"}, "kind", "kind of device"),
    ({"name": " "}, "name", "name"),
    ({"area": None}, "area", "Choose the area"),
    ({"lat": "91"}, "lat", "from -90 to 90"),
    ({"status": "lost"}, "status", "status"),
])
def test_bad_input_is_a_field_error(world, admin, extra, field, message):
    with pytest.raises(ServiceError) as exc:
        services.save_device(actor=admin, data=data(world, **extra))
    assert message in exc.value.field_messages[field][0]
    assert not Device.objects.exists()


def test_an_xray_machine_at_an_outlet_takes_its_place(world, admin):
    machine = services.save_device(actor=admin, data={
        "kind": "xray", "code": "XR-JS01-2", "name": "安检机2", "org": world.outlet_a1})
    assert machine.area == world.town_a1  # the organisation's area
    inside = services.save_device(actor=admin, data={
        "kind": "xray", "code": "XR-JS01-3", "name": "安检机3", "org": world.outlet_a1,
        "area": world.village_a1})
    assert inside.area_code == world.village_a1.code
    with pytest.raises(ServiceError) as exc:  # 兴东街道 is not where the outlet is
        services.save_device(actor=admin, data={
            "kind": "xray", "code": "XR-JS01-4", "name": "安检机4", "org": world.outlet_a1,
            "area": world.town_a2})
    assert "area inside it" in exc.value.field_messages["area"][0]


def test_reach_is_checked_for_area_and_organisation(world):
    town_admin = world.personas["town_admin"].user  # 金沙街道
    with pytest.raises(ServiceError) as exc:
        services.save_device(actor=town_admin, data=data(world, area=world.town_b1))
    assert exc.value.code == "out_of_scope"
    with pytest.raises(ServiceError) as exc:
        services.save_device(actor=town_admin, data={
            "kind": "xray", "code": "XR-1", "name": "x", "org": world.centre_b1})
    assert "outside your reach" in exc.value.field_messages["org"][0]
    with pytest.raises(Exception) as exc:  # no devices.add_device
        services.save_device(actor=world.personas["grid_worker"].user, data=data(world))
    assert type(exc.value).__name__ == "PermissionDenied"


def test_codes_are_unique_whatever_the_case(world, admin):
    services.save_device(actor=admin, data={"kind": "xray", "code": "XR-A1", "name": "a",
                                            "area": world.town_a1})
    with pytest.raises(ServiceError) as exc:
        services.save_device(actor=admin, data={"kind": "xray", "code": "xr-a1", "name": "b",
                                                "area": world.town_a1})
    assert exc.value.code == "duplicate" and "a" in exc.value.message
    superuser = world.personas["superuser"].user
    services.save_device(actor=superuser, data={"kind": "xray", "code": "XR-B1", "name": "b",
                                                "area": world.town_b1})
    with pytest.raises(ServiceError) as exc:  # someone else's: no name given away
        services.save_device(actor=admin, data={"kind": "xray", "code": "XR-B1", "name": "c",
                                                "area": world.town_a1})
    assert "registered elsewhere" in exc.value.message


def test_cameras_hang_on_recorders(world, admin):
    nvr = services.save_device(actor=admin, data=data(world, kind="nvr", code=NVR,
                                                      name="录像机"))
    camera = services.save_device(actor=admin, data=data(world, parent=nvr))
    assert list(nvr.channels.all()) == [camera]
    machine = services.save_device(actor=admin, data={"kind": "xray", "code": "XR-9",
                                                      "name": "x", "area": world.town_a1})
    with pytest.raises(ServiceError, match="video recorder"):
        services.save_device(actor=admin, device=camera, data={"parent": machine})
    with pytest.raises(ServiceError, match="Only a camera"):
        services.save_device(actor=admin, device=machine, data={"parent": nvr})


def test_changes_are_checked_again_and_audited(world, admin):
    camera = services.save_device(actor=admin, data=data(world))
    with pytest.raises(ServiceError) as exc:  # the stored camera code does not fit a gate
        services.save_device(actor=admin, device=camera, data={"kind": "gate"})
    assert "code" in exc.value.field_messages
    services.save_device(actor=admin, device=camera, data={"name": "东市路口", "lat": "32.1"})
    camera.refresh_from_db()
    assert camera.name == "东市路口" and str(camera.lat) == "32.100000"
    changes = AuditLog.objects.get(action="devices.update").changes
    assert changes["name"] == ["东市路口1号", "东市路口"] and changes["lat"] == [None, "32.100000"]
    services.set_status(actor=admin, device=camera, status="retired")
    camera.refresh_from_db()
    assert camera.status == "retired"
    town_b = world.personas["sibling_admin"].user  # 兴东街道: does not reach 东市社区
    with pytest.raises(ServiceError) as exc:
        services.save_device(actor=town_b, device=camera, data={"name": "x"})
    assert exc.value.status == 404


# --- pages ---------------------------------------------------------------------------------------

def test_pages(world, admin, client_for):
    nvr = services.save_device(actor=admin, data=data(world, kind="nvr", code=NVR,
                                                      name="录像机"))
    camera = services.save_device(actor=admin, data=data(world, parent=nvr))
    superuser = world.personas["superuser"].user
    services.save_device(actor=superuser, data={"kind": "xray", "code": "XR-B1",
                                                "name": "城东安检机", "area": world.town_b1})
    client = client_for(admin)
    listing = client.get(reverse("devices:list")).content.decode()
    assert "录像机" in listing and "东市路口1号" in listing and "城东安检机" not in listing
    cameras = client.get(reverse("devices:list"), {"kind": "camera"}).content.decode()
    assert "东市路口1号" in cameras and "录像机" not in cameras
    by_area = client.get(reverse("devices:list"), {"area": world.town_a2.code}).content
    assert "东市路口1号" not in by_area.decode()
    detail = client.get(nvr.get_absolute_url()).content.decode()
    assert camera.get_absolute_url() in detail  # its channels
    response = client.post(reverse("devices:create"), {
        "kind": "camera", "code": NVR[:-1], "name": "坏码", "area": world.village_a1.pk,
        "status": "online"})
    assert response.status_code == 200 and "exactly 20 digits" in response.content.decode()
    response = client.post(reverse("devices:create"), {
        "kind": "xray", "code": "XR-JS01-9", "name": "安检机9", "org": world.outlet_a1.pk,
        "status": "online"})
    machine = Device.objects.get(code="XR-JS01-9")
    assert response.status_code == 302 and response["Location"] == machine.get_absolute_url()
    form = client.get(reverse("devices:create") + f"?org={world.outlet_a1.pk}&kind=xray")
    assert form.status_code == 200
    response = client.post(reverse("devices:edit", args=[machine.pk]), {
        "kind": "xray", "code": "XR-JS01-9", "name": "安检机九", "org": world.outlet_a1.pk,
        "area": world.town_a1.pk, "status": "fault"})
    machine.refresh_from_db()
    assert response.status_code == 302 and (machine.name, machine.status) == ("安检机九",
                                                                              "fault")
    client.post(reverse("devices:status", args=[machine.pk]), {"status": "online"})
    machine.refresh_from_db()
    assert machine.status == "online"
    assert client_for(world.personas["grid_worker"]).get(
        reverse("devices:list")).status_code == 403


def test_an_outlet_device_links_back_to_its_outlet(world, client_for):
    from zhili.delivery.testing import Sector

    sector = Sector(world)
    page = client_for(sector.regulator).get(sector.machine.get_absolute_url()).content
    assert reverse("delivery:outlet", args=[sector.outlet.pk]) in page.decode()


# --- API -----------------------------------------------------------------------------------------

API = "/api/v1/devices"


def test_api(world, admin, client_for):
    client = client_for(admin)
    response = client.post(API, json.dumps({
        "kind": "camera", "code": CAMERA, "name": "东市路口1号",
        "area_code": world.village_a1.code}), content_type="application/json")
    assert response.status_code == 201, response.content
    camera = response.json()
    assert camera["area_name"] == "东市社区" and camera["kind_name"] == "Camera"
    response = client.post(API, json.dumps({
        "kind": "xray", "code": "XR-2", "name": "x", "org_id": world.centre_b1.pk}),
        content_type="application/json")
    assert response.status_code == 400 and "org_id" in response.json()["fields"]
    response = client.post(API, json.dumps({
        "kind": "xray", "code": "XR-2", "name": "x", "area_code": world.town_b1.code}),
        content_type="application/json")
    assert response.status_code == 400 and "area_code" in response.json()["fields"]
    response = client.post(API, json.dumps({
        "kind": "xray", "code": "XR-2", "name": "安检机", "org_id": world.outlet_a1.pk}),
        content_type="application/json")
    assert response.status_code == 201 and response.json()["area_code"] == world.town_a1.code
    response = client.patch(f"{API}/{camera['id']}", json.dumps({"status": "offline"}),
                            content_type="application/json")
    assert response.json()["status"] == "offline" and response.json()["code"] == CAMERA
    bad = client.patch(f"{API}/{camera['id']}", json.dumps({"code": "1"}),
                       content_type="application/json")
    assert bad.status_code == 400 and "code" in bad.json()["fields"]
    listed = client.get(API, {"kind": "xray", "org": world.outlet_a1.pk}).json()
    assert [d["code"] for d in listed["items"]] == ["XR-2"] and listed["count"] == 1
    assert client.get(API, {"kind": "fridge"}).status_code == 422
    other = world.personas["sibling_admin"]
    assert client_for(other).get(f"{API}/{camera['id']}").status_code == 404
