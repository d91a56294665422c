"""The video-evidence page: a parcel found by waybill or record shows its outlet's cameras
around its moments; playing one asks the platform and is audited; nothing out of reach is
shown; a platform that is down, slow or missing gives a message, never an error page."""

import datetime as dt
import socket

import pytest
from django.urls import reverse
from django.utils import timezone

from zhili.core.models import AuditLog
from zhili.delivery import evidence, ingest
from zhili.delivery.models import Inspection, Shipment
from zhili.delivery.testing import parcel
from zhili.devices.models import Device

pytestmark = pytest.mark.django_db
URL = reverse("delivery:video_evidence")
WAYBILL = "SF0000000001"


@pytest.fixture
def scene(sector, settings):
    settings.ZHILI_VIDEO_PLATFORM = "fake"
    world = sector.world
    place = {"org": world.outlet_a1, "area": world.town_a1, "area_code": world.town_a1.code}
    sector.recorder = Device.objects.create(kind="nvr", code="32061201481188000001",
                                            name="录像机", **place)
    sector.cameras = [
        Device.objects.create(kind="camera", code="32061201481328000002", name="收寄台",
                              parent=sector.recorder, **place),
        Device.objects.create(kind="camera", code="32061201481328000003", name="验视台",
                              parent=sector.recorder, **place)]
    Device.objects.create(kind="camera", code="32061201481328000004", name="已拆除",
                          status="retired", **place)
    # A camera of the rival outlet in the same town: not this parcel's.
    sector.rival_camera = Device.objects.create(
        kind="camera", code="32061201481328000009", name="中通收寄台",
        org=sector.rival_outlet.org, area=world.town_a1, area_code=world.town_a1.code)
    when = timezone.now() - dt.timedelta(hours=3)
    ingest.receive(actor=sector.feeder, company=sector.company, kind="inspections", key="i1",
                   body=ndjson_of({"waybill": WAYBILL, "outlet": "JS01",
                                   "inspected_at": (when - dt.timedelta(minutes=2)).isoformat(),
                                   "inspector": "王五", "photo_ref": "p/1.jpg"}),
                   content_type="application/x-ndjson")
    ingest.receive(actor=sector.feeder, company=sector.company, kind="scans", key="x1",
                   body=ndjson_of({"waybill": WAYBILL, "outlet": "JS01",
                                   "scanned_at": (when + dt.timedelta(minutes=40)).isoformat(),
                                   "machine": "XR-JS01-1", "alarm": "false"}),
                   content_type="application/x-ndjson")
    ingest.receive(actor=sector.feeder, company=sector.company, kind="shipments", key="s1",
                   body=ndjson_of(parcel(WAYBILL, when=when)),
                   content_type="application/x-ndjson")
    sector.shipment = Shipment.objects.get(waybill=WAYBILL)
    now = timezone.now()
    sector.rival_shipment = Shipment.objects.create(
        company=sector.other_company, outlet=sector.rival_outlet,
        area_code=sector.rival_outlet.area_code, waybill="ZT0000000001",
        day=timezone.localdate(), accepted_at=now - dt.timedelta(hours=1), goods="书")
    return sector


def ndjson_of(row):
    from zhili.delivery.testing import ndjson

    return ndjson([row])


def playbacks():
    return AuditLog.objects.filter(action="delivery.video.playback").order_by("seq")


def test_regulator_finds_the_parcel_and_plays_a_camera(scene, client):
    client.force_login(scene.regulator)
    page = client.get(URL, {"waybill": WAYBILL})
    assert page.status_code == 200
    found = page.context["found"]
    assert found.shipment.pk == scene.shipment.pk and found.outlet.code == "JS01"
    assert [m.kind for m in found.moments] == ["inspected", "accepted", "scanned"]
    assert [c.code for c in found.cameras] == [c.code for c in scene.cameras]  # not retired
    assert b"video-fake" in page.content and not playbacks().exists()  # listing plays nothing

    camera = scene.cameras[1]
    page = client.get(URL, {"shipment": scene.shipment.pk, "camera": camera.pk,
                            "moment": "inspected", "minutes": "2"})
    playback = page.context["playback"]
    moment = page.context["moment"]
    assert moment.end - moment.start == dt.timedelta(minutes=4)
    assert f"/{scene.recorder.code}/{camera.code}/" in playback.url
    assert playback.url.encode() in page.content
    row = playbacks().get()
    assert row.actor == scene.regulator and row.target_type == "delivery.shipment"
    assert row.target_id == str(scene.shipment.pk) and row.area_code == scene.outlet.area_code
    assert row.changes["camera"] == camera.code and row.changes["outcome"] == "opened"
    assert row.changes["moment"] == "inspected"
    assert row.changes["platform_ref"] == playback.platform_ref
    assert row.changes["start"] == moment.start.isoformat()


def test_outlet_staff_see_their_own_parcels_only(scene, client):
    client.force_login(scene.outlet_user)
    page = client.get(URL, {"waybill": WAYBILL})
    assert page.context["found"].shipment.pk == scene.shipment.pk
    assert len(page.context["found"].cameras) == 2
    for query in ({"waybill": "ZT0000000001"}, {"shipment": scene.rival_shipment.pk}):
        page = client.get(URL, query)
        assert page.status_code == 200 and page.context["found"] is None
        assert "中通金沙营业部".encode() not in page.content
        assert scene.rival_camera.code.encode() not in page.content
    # A camera of another outlet cannot be played through this parcel.
    page = client.get(URL, {"shipment": scene.shipment.pk, "camera": scene.rival_camera.pk,
                            "moment": "accepted"})
    assert page.context["playback"] is None and page.context["error"]
    assert not playbacks().exists()


def test_inspection_without_its_parcel_record(scene, client):
    Shipment.objects.filter(pk=scene.shipment.pk).delete()
    client.force_login(scene.regulator)
    page = client.get(URL, {"waybill": WAYBILL})
    found = page.context["found"]
    assert found.shipment is None and [m.kind for m in found.moments] == ["inspected",
                                                                          "scanned"]
    inspection = Inspection.objects.get(waybill=WAYBILL)
    page = client.get(URL, {"inspection": inspection.pk, "camera": scene.cameras[0].pk,
                            "moment": "inspected"})
    assert page.context["playback"] is not None
    assert playbacks().get().target_type == "delivery.inspection"


def test_several_records_with_one_waybill_are_listed(scene, client):
    Shipment.objects.create(company=scene.other_company, outlet=scene.rival_outlet,
                            area_code=scene.rival_outlet.area_code, waybill=WAYBILL,
                            day=timezone.localdate(), accepted_at=timezone.now(), goods="书")
    client.force_login(scene.regulator)
    page = client.get(URL, {"waybill": WAYBILL})
    assert page.context["found"] is None and len(page.context["matches"]) == 2


def test_platform_down_is_a_message_and_audited(scene, client, settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.ZHILI_VIDEO_PLATFORM = "wvp"
    settings.ZHILI_VIDEO_URL = f"http://127.0.0.1:{port}"
    settings.ZHILI_VIDEO_TIMEOUT = 1
    client.force_login(scene.regulator)
    page = client.get(URL, {"shipment": scene.shipment.pk, "camera": scene.cameras[0].pk,
                            "moment": "accepted"})
    assert page.status_code == 200 and page.context["playback"] is None
    assert "cannot be reached" in page.context["error"]
    row = playbacks().get()
    assert row.changes["outcome"] == "unavailable" and "cannot be reached" in row.changes["error"]


def test_misconfigured_or_missing_platform(scene, client, settings):
    client.force_login(scene.regulator)
    settings.ZHILI_VIDEO_PLATFORM = "wvp"
    settings.ZHILI_VIDEO_URL = ""
    page = client.get(URL, {"shipment": scene.shipment.pk, "camera": scene.cameras[0].pk,
                            "moment": "accepted"})
    assert page.status_code == 200 and "ZHILI_VIDEO_URL" in page.context["platform_error"]
    assert "No video platform" in page.context["error"]
    settings.ZHILI_VIDEO_PLATFORM = ""
    page = client.get(URL, {"waybill": WAYBILL})
    assert page.status_code == 200 and b"video-none" in page.content
    assert b"play-" not in page.content  # nothing to play with


def test_bad_queries_and_permissions(scene, client, personas):
    client.force_login(scene.regulator)
    for query in ({"shipment": "abc"}, {"shipment": "-1"}, {"inspection": ""},
                  {"waybill": "x" * 300}, {"minutes": "9999"}, {}):
        page = client.get(URL, query)
        assert page.status_code == 200 and page.context["found"] is None
    page = client.get(URL, {"shipment": scene.shipment.pk, "camera": "x", "moment": "nope"})
    assert page.status_code == 200 and page.context["error"]
    client.force_login(personas["grid_worker"].user)  # no parcel records in this role
    assert client.get(URL, {"waybill": WAYBILL}).status_code == 403
    client.logout()
    assert client.get(URL).status_code == 302


def test_window_choices():
    assert evidence.clean_minutes("10") == 10
    assert evidence.clean_minutes("7") == evidence.clean_minutes(None) == 5
