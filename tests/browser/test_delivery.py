"""Real browsers through courier supervision (三台合一), in the Chinese UI: the companies' feeds
leave one outlet below 100 % → the county regulator finds it flagged in the compliance report
and issues a rectification order → the outlet's staff answer it on a phone with a photo → the
regulator re-checks and closes it."""

import datetime as dt
import io
import re

import pytest

from tests.browser.test_events import act, sign_in
from tests.browser.test_walkthrough import ARTIFACTS, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def courier(live_db, settings):
    from django.utils import timezone

    from zhili.core.testing import World
    from zhili.delivery import ingest
    from zhili.delivery.testing import Sector, ndjson, parcel

    settings.LANGUAGE_CODE = "zh-hans"
    sector = Sector(World())
    when = timezone.now() - dt.timedelta(hours=1)

    def push(kind, rows, key):
        batch, _ = ingest.receive(actor=sector.feeder, company=sector.company, kind=kind,
                                  key=key, body=ndjson(rows), content_type="application/x-ndjson")
        assert batch.rejected == 0, batch.errors

    waybills = [f"SF5{i:09d}" for i in range(8)]
    # Two parcels taken in without the sender's ID: real-name 75 %.
    push("shipments", [parcel(w, when=when, **({"id_number": ""} if i < 2 else {}))
                       for i, w in enumerate(waybills)], "s1")
    push("inspections", [{"waybill": w, "outlet": "JS01", "inspected_at": when.isoformat(),
                          "inspector": "王五", "photo_ref": f"img/{w}.jpg"} for w in waybills],
         "i1")
    push("scans", [{"waybill": w, "outlet": "JS01", "scanned_at": when.isoformat(),
                    "machine": "XR-JS01-1", "alarm": "false"} for w in waybills], "x1")
    sector.day = timezone.localtime(when).date()
    return sector


def _photo() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (320, 240), (30, 120, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


def state(page):
    return page.get_attribute("[data-testid=state]", "data-state")


def test_flagged_outlet_order_answered_on_a_phone_and_closed(browser, live_server,  # noqa: F811
                                                              courier):
    from zhili.delivery.models import Evidence, RectificationOrder

    base, password = live_server.url, courier.world.PASSWORD
    outlet = courier.outlet
    ARTIFACTS.mkdir(exist_ok=True)

    desk = sign_in(browser, base, "c.regulator", password)
    desk.goto(f"{base}/delivery/supervision/?day={courier.day.isoformat()}")
    row = desk.locator(f"[data-testid=outlet-{outlet.pk}]")
    assert row.get_attribute("data-serious") == "1"
    assert "顺丰金沙营业部" in row.inner_text()
    assert row.locator("[data-anomaly=below]").count() == 1
    assert "75" in row.inner_text()
    desk.screenshot(path=str(ARTIFACTS / "delivery-compliance.png"), full_page=True)

    with desk.expect_navigation():
        desk.click(f"[data-testid=issue-{outlet.pk}]")
    assert "实名收寄率75%" in desk.input_value("#id_findings")
    with desk.expect_navigation():
        desk.click("[data-testid=submit-order]")
    desk.wait_for_selector(".alert-success")
    assert state(desk) == "issued"
    number = desk.inner_text("[data-testid=number]")
    assert re.fullmatch(r"通邮整改〔\d{4}〕第1号", number)
    order_url = desk.url
    order = RectificationOrder.objects.get(number=number)

    phone = sign_in(browser, base, "c.outlet", password,
                    viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(f"{base}/delivery/supervision/orders/")
    with phone.expect_navigation():
        phone.click(f"[data-testid=order-{order.pk}]")
    phone.wait_for_selector("[data-testid=answer-form]")
    phone.fill("#id_answer", "已对收寄员重新培训，未实名的2件已补录寄件人身份信息。")
    phone.set_input_files("#id_files", files=[{"name": "整改照片.jpg", "mimeType": "image/jpeg",
                                               "buffer": _photo()}])
    with phone.expect_navigation():
        phone.click("[data-testid=submit-answer]")
    phone.wait_for_selector(".alert-success")
    assert state(phone) == "answered"
    assert phone.locator("[data-testid=evidence] img").count() == 1
    # The page fits the phone: nothing wider than the screen.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(ARTIFACTS / "delivery-answer-phone.png"), full_page=True)
    assert Evidence.objects.get(order=order).content_type == "image/jpeg"

    desk.goto(order_url)
    assert desk.locator("[data-testid=outlet-answer] img").count() == 1
    act(desk, "close", note="现场复查，已整改到位。")
    assert state(desk) == "closed"
    timeline = desk.locator("[data-testid=timeline] li")
    assert [timeline.nth(i).get_attribute("data-action") for i in range(timeline.count())] == \
        ["issue", "answer", "close"]
    desk.screenshot(path=str(ARTIFACTS / "delivery-order-closed.png"), full_page=True)
    order.refresh_from_db()
    assert order.state == "closed" and order.recheck_note == "现场复查，已整改到位。"
