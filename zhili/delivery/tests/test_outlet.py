"""The outlet's phone pages: today's figures, waybill lookup, inspections recorded on the phone
(through the same write as the feed: rollups and the parcel's flag move alike)."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from zhili.core.services import ServiceError
from zhili.delivery import ingest
from zhili.delivery import outlet as services
from zhili.delivery.models import Inspection, OutletDay, RectificationOrder, Shipment
from zhili.delivery.testing import ndjson, parcel

pytestmark = pytest.mark.django_db


def jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def push(sector, kind, rows, key):
    return ingest.receive(actor=sector.feeder, company=sector.company, kind=kind, key=key,
                          body=ndjson(rows), content_type="application/x-ndjson")[0]


@pytest.fixture
def today(sector):
    """Three parcels at JS01 today (one flagged, one without ID), one at CD01; one screened."""
    push(sector, "shipments", [parcel("SF0000000001"), parcel("SF0000000002", id_number=""),
                               parcel("SF0000000003", goods="管制刀具一把"),
                               parcel("SF0000000004", outlet="CD01")], "s1")
    push(sector, "scans", [{"waybill": "SF0000000001", "outlet": "JS01",
                            "scanned_at": parcel("x")["accepted_at"], "machine": "XR-JS01-1",
                            "alarm": "0"}], "x1")
    return sector


def day(sector):
    return OutletDay.objects.get(outlet=sector.outlet, day=timezone.localdate())


def test_pages_are_for_outlet_staff(sector, client, client_for):
    pages = [reverse("delivery:outlet_home"), reverse("delivery:lookup"),
             reverse("delivery:inspect"), reverse("delivery:outlet_manifest"),
             reverse("delivery:outlet_sw")]
    for url in pages:
        assert client.get(url).status_code == 302  # anonymous: the login form
    for user in (sector.regulator, sector.world.personas["city_dispatcher"].user,
                 sector.world.personas["grid_worker"].user):
        other = client_for(user)
        for url in pages:
            assert other.get(url).status_code == 403, (user, url)
    staff = client_for(sector.outlet_user)
    for url in pages:
        assert staff.get(url).status_code == 200, url


def test_home_shows_todays_rates(today, client_for):
    order = RectificationOrder.objects.create(
        outlet=today.outlet, area_code=today.outlet.area_code, number="ZG-1",
        period_start=timezone.localdate(), period_end=timezone.localdate(), findings="x",
        requirements="y")
    RectificationOrder.objects.create(
        outlet=today.outlet_b, area_code=today.outlet_b.area_code, number="ZG-OTHER",
        period_start=timezone.localdate(), period_end=timezone.localdate(), findings="x",
        requirements="y")
    page = client_for(today.outlet_user).get(reverse("delivery:outlet_home"))
    html = page.content.decode()
    overview = page.context["overview"]
    assert (overview.today.parcels, overview.today.real_name, overview.today.xrayed) == (3, 2, 1)
    assert overview.today.real_name_rate == 66.7 and overview.today.inspected_rate == 0.0
    assert [p.waybill for p in overview.flagged] == ["SF0000000003"]
    assert [o for o, _url in overview.open_orders] == [order]  # not CD01's
    assert "66.7%" in html and "33.3%" in html and "SF0000000003" in html
    assert "SF0000000004" not in html and "ZG-OTHER" not in html
    assert len(overview.week) == 7 and overview.week[1].parcels == 0
    assert 'rel="manifest"' in html and "delivery-outlet.js" in html


def test_lookup_page(today, client_for):
    staff = client_for(today.outlet_user)
    page = staff.get(reverse("delivery:lookup"), {"waybill": " sf0000000001 "}).content.decode()
    assert "SF0000000001" in page and "张*" in page and "3206**********1232" in page
    assert "320612199001011232" not in page and "13812345678" not in page
    assert 'data-testid="not-inspected"' in page and "XR-JS01-1" in page
    # CD01's parcel is another outlet's: not shown here.
    other = staff.get(reverse("delivery:lookup"), {"waybill": "SF0000000004"}).content.decode()
    assert 'data-testid="nothing"' in other and "SF0000000004" in other
    bad = staff.get(reverse("delivery:lookup"), {"waybill": "x!"}).content.decode()
    assert 'data-testid="parcel"' not in bad and "6–40" in bad


def test_an_inspection_from_the_phone_counts_like_the_feed(today, client_for):
    staff = client_for(today.outlet_user)
    before = day(today)
    assert (before.inspected, before.inspections, before.inspection_photos) == (0, 0, 0)
    response = staff.post(reverse("delivery:inspect"), {
        "waybill": "sf0000000003", "result": "prohibited",
        "photo": SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg")})
    assert response.status_code == 302
    assert response["Location"] == reverse("delivery:lookup") + "?waybill=SF0000000003"
    record = Inspection.objects.get()
    assert (record.waybill, record.result, record.source, record.inspector) == (
        "SF0000000003", "prohibited", "app", "c.outlet")
    assert record.outlet_id == today.outlet.pk and record.company_id == today.company.pk
    assert record.photo_ref.startswith("delivery/inspections/")
    assert default_storage.exists(record.photo_ref)
    assert Shipment.objects.get(waybill="SF0000000003").inspected
    after = day(today)
    assert (after.inspected, after.inspections, after.inspection_photos) == (1, 1, 1)
    # Sent again (a lost answer, or twice by hand): one inspection, counted once.
    again = staff.post(reverse("delivery:inspect"), {
        "waybill": "SF0000000003", "result": "prohibited",
        "photo": SimpleUploadedFile("p.jpg", jpeg(), content_type="image/jpeg")}, follow=True)
    assert "already inspected" in again.content.decode()
    assert Inspection.objects.count() == 1
    again_day = day(today)
    assert (again_day.inspected, again_day.inspections) == (1, 1)
    # The rebuilt rollups agree with the ones kept while recording.
    kept = list(OutletDay.objects.order_by("outlet_id", "day").values_list(
        "outlet_id", "day", "parcels", "inspected", "xrayed", "inspections",
        "inspection_photos", "scans"))
    ingest.rebuild_days(timezone.localdate() - dt.timedelta(days=1), timezone.localdate())
    assert list(OutletDay.objects.order_by("outlet_id", "day").values_list(
        "outlet_id", "day", "parcels", "inspected", "xrayed", "inspections",
        "inspection_photos", "scans")) == kept


def test_inspection_refusals(today, client_for):
    staff = client_for(today.outlet_user)
    bad_photo = staff.post(reverse("delivery:inspect"), {
        "waybill": "SF0000000001", "result": "passed",
        "photo": SimpleUploadedFile("p.jpg", b"not an image", content_type="image/jpeg")})
    assert bad_photo.status_code == 200 and bad_photo.context["form"].errors["photo"]
    bad_waybill = staff.post(reverse("delivery:inspect"), {"waybill": "x", "result": "passed"})
    assert bad_waybill.context["form"].errors["waybill"]
    bad_result = staff.post(reverse("delivery:inspect"), {"waybill": "SF0000000001",
                                                          "result": "fine"})
    assert bad_result.context["form"].errors["result"]
    assert not Inspection.objects.exists() and day(today).inspections == 0
    with pytest.raises(PermissionDenied):  # a regulator has no outlet work
        services.record_inspection(actor=today.regulator, outlet=today.outlet,
                                   waybill="SF0000000001", result="passed")
    with pytest.raises(ServiceError) as exc:  # not the staff member's outlet
        services.record_inspection(actor=today.outlet_user, outlet=today.outlet_b,
                                   waybill="SF0000000004", result="passed")
    assert exc.value.status == 403


def test_the_offline_queue_endpoint(today, client_for):
    staff = client_for(today.outlet_user)
    url = "/api/v1/delivery/outlet/inspections"
    done = timezone.localtime(timezone.now() - dt.timedelta(days=1, hours=1))
    first = staff.post(url, {"waybill": "SF0000000002", "result": "passed",
                             "inspected_at": done.isoformat(),
                             "photo": SimpleUploadedFile("a.jpg", jpeg())})
    assert first.status_code == 201, first.content
    assert first.json()["created"] and first.json()["has_photo"]
    record = Inspection.objects.get()
    assert record.day == done.date() and record.inspected_at == done
    # The queue resends after a lost answer: 200, not created again.
    again = staff.post(url, {"waybill": "SF0000000002", "result": "passed",
                             "inspected_at": done.isoformat()})
    assert again.status_code == 200 and again.json()["created"] is False
    assert Inspection.objects.count() == 1
    # Done yesterday, for a parcel taken in today: the parcel is inspected, on its own day.
    assert Shipment.objects.get(waybill="SF0000000002").inspected and day(today).inspected == 1
    future = staff.post(url, {"waybill": "SF0000000001",
                              "inspected_at": (timezone.now() + dt.timedelta(hours=1))
                              .isoformat()})
    assert future.status_code == 400 and "inspected_at" in future.json()["fields"]
    assert client_for(today.regulator).post(url, {"waybill": "SF0000000001"}).status_code == 403


def test_staff_without_a_registered_outlet(sector, client_for):
    from zhili.accounts.models import Position, Role, User
    from zhili.orgs.models import Organisation

    org = Organisation.objects.create(name="未登记营业部", kind="outlet", area=sector.world.town_a1,
                                      area_code=sector.world.town_a1.code,
                                      parent=sector.world.courier)
    user = User.objects.create_user(username="c.unregistered", password="x")
    Position.objects.create(user=user, role=Role.objects.get(code="outlet_staff"),
                            area=sector.world.town_a1, area_code=sector.world.town_a1.code,
                            org=org)
    staff = client_for(user)
    home = staff.get(reverse("delivery:outlet_home"))
    assert home.status_code == 200 and 'data-testid="no-outlet"' in home.content.decode()
    assert services.outlet_of(user) is None
    response = staff.post("/api/v1/delivery/outlet/inspections", {"waybill": "SF0000000001"})
    assert response.status_code == 403 and response.json()["code"] == "no_outlet"


def test_pwa_files(sector, client_for):
    staff = client_for(sector.outlet_user)
    manifest = staff.get(reverse("delivery:outlet_manifest")).json()
    assert manifest["display"] == "standalone"
    assert manifest["start_url"] == manifest["scope"] == "/delivery/outlet/"
    worker = staff.get(reverse("delivery:outlet_sw"))
    assert worker["Service-Worker-Allowed"] == "/delivery/outlet/" and b"caches" in worker.content
