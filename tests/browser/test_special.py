"""Real browsers through the special-population work (回归工程), in the Chinese UI: the town
dispatcher puts a registered person under management in two steps and sees the record masked;
a grid worker on a phone finds the overdue visit in "My visits", records it with a photo and
the visit clock restarts; the dispatcher unmasks the ID number with a stated purpose (audited,
no plaintext in the log) while the grid worker is offered no unmasking; and a handover to
another town is accepted there, after which the record belongs to the receiving town."""

import datetime as dt
import io
import json
import re

import pytest

from tests.browser.test_events import sign_in
from tests.browser.test_walkthrough import ARTIFACTS, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
         # Inside the city box the visit service accepts (南通 通州).
         "geolocation": {"latitude": 32.06, "longitude": 120.85},
         "permissions": ["geolocation"]}
MENTAL_FIELDS = {"family_economy": "02", "on_subsistence": "false", "diagnosis": "01",
                 "has_incidents": "true", "incident_count": "1", "treatment": "02"}


def id_number(region="320612", birth="19800101", seq="123"):
    """A valid GB 11643 resident ID number (region, birth date, sequence, check digit)."""
    from zhili.core.pii.validation import id_check_digit

    body = region + birth + seq
    return body + id_check_digit(body)


def jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 80)).save(buffer, "JPEG")
    return buffer.getvalue()


@pytest.fixture
def special_world(live_db, settings):
    """The world, the two town dispatchers (金沙 sends, 兴东 receives) and 张三丰, registered in
    金沙 第1网格 through the registry's own service."""
    from zhili.accounts.models import Position, Role, User
    from zhili.core.models import EscalationStep
    from zhili.core.testing import World
    from zhili.people import services as people
    from zhili.special.builtin import seed
    from zhili.special.models import SpecialCategory

    settings.LANGUAGE_CODE = "zh-hans"
    seed(SpecialCategory, EscalationStep)  # a flushed live database lost the seeded categories
    world = World()
    dispatcher = Role.objects.get(code="dispatcher")
    for username, town, centre in (("d.jinsha", world.town_a1, world.centre_a1),
                                   ("d.xingdong", world.town_a2, world.centre_a2)):
        user = User.objects.create_user(username=username, password=World.PASSWORD,
                                        display_name=username)
        Position.objects.create(user=user, role=dispatcher, area=town, area_code=town.code,
                                org=centre)
    world.number = id_number()
    world.person = people.create_person(
        actor=world.personas["town_admin"].user, area=world.grid_a1,
        data={"name": "张三丰", "id_number": world.number, "phone": "13812345678",
              "ethnicity": "汉族", "current_address": "东市路12号"}).obj
    world.mental = SpecialCategory.objects.get(code="mental")
    return world


def test_intake_visit_on_the_phone_and_unmask(browser, live_server, special_world):  # noqa: F811
    from django.db.models import F
    from django.utils import timezone

    from zhili.core import pii
    from zhili.core.models import AuditLog, UnmaskGrant
    from zhili.special.deadlines import sweep_all
    from zhili.special.models import Supervision

    world, base = special_world, live_server.url
    number, masked = world.number, pii.mask_id_number(world.number)
    ARTIFACTS.mkdir(exist_ok=True)

    # 1. The town dispatcher: find by ID number and category, then level, risk and the
    #    category's required fields.
    desk = sign_in(browser, base, "d.jinsha", world.PASSWORD)
    desk.goto(f"{base}/special/new/")
    desk.wait_for_selector("[data-testid=intake-form]")
    desk.select_option("#id_category", str(world.mental.pk))
    desk.fill("#id_id_number", "320612198001011")  # a typo first: told on the field
    desk.click("[data-testid=intake-submit]")
    desk.wait_for_selector(".invalid-feedback")
    assert desk.locator("[data-testid=found-person]").count() == 0
    desk.fill("#id_id_number", number)
    desk.click("[data-testid=intake-submit]")
    found = desk.locator("[data-testid=found-person]")
    found.wait_for()
    assert masked in found.inner_text() and "张**" in found.inner_text()
    # Step 2 carries the number typed in step 1 in a hidden field, but shows it masked only.
    assert number not in desk.inner_text("body") and "张三丰" not in desk.content()
    started = timezone.localdate() - dt.timedelta(days=21)
    desk.select_option("#id_level", "strict")
    desk.select_option("#id_risk_level", "3")
    desk.fill("#id_started_on", started.isoformat())
    for name, value in MENTAL_FIELDS.items():
        field = desk.locator(f'[name="details.{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    desk.check('input[name="details.managers"][value="01"]')
    desk.click("[data-testid=intake-submit]")
    desk.wait_for_url(re.compile(r".*/special/\d+/$"))
    desk.wait_for_selector(".alert-success")
    record = Supervision.objects.get(person=world.person)
    assert desk.url == f"{base}/special/{record.pk}/"
    assert (record.category, record.level, record.risk_level) == (world.mental, "strict", "3")
    assert record.area_code == world.grid_a1.code and record.started_on == started
    assert record.details["diagnosis"] == "01" and record.details["managers"] == ["01"]
    header = desk.inner_text("[data-testid=person]")
    assert masked in header and "张**" in header
    assert number not in desk.content() and "张三丰" not in desk.content()
    desk.screenshot(path=str(ARTIFACTS / "special-record-masked.png"), full_page=True)

    # Three weeks on, nobody has visited: move the clock the intake started back to the
    # start date, and let the deadline sweep mark the visit overdue.
    back = dt.timedelta(days=21)
    Supervision.objects.filter(pk=record.pk).update(
        step_started_at=F("step_started_at") - back, deadline_at=F("deadline_at") - back,
        warn_at=F("warn_at") - back)
    record.transitions.update(created_at=F("created_at") - back,
                              deadline_after=F("deadline_after") - back)
    sweep_all()
    record.refresh_from_db()
    assert record.overdue
    old_deadline = record.deadline_at

    # 2. The grid worker's phone: the overdue visit is in "My visits"; record it there.
    phone = sign_in(browser, base, "p.grid_worker", world.PASSWORD, **PHONE)
    phone.goto(f"{base}/special/m/")
    due = phone.locator(f"[data-testid=due-{record.pk}]")
    due.wait_for()
    assert "张**" in due.inner_text() and "超期" in due.inner_text()
    due.tap()
    phone.wait_for_url(re.compile(rf".*/special/{record.pk}/visit/\?back=mobile$"))
    phone.wait_for_selector("[data-testid=visit-form]")
    phone.select_option("#id_method", "home")
    phone.fill("#id_findings", "上门见到本人，按时服药，情绪稳定，监护人在家")
    phone.fill("#id_place", "东市路12号")
    phone.click("#v-gps")
    phone.wait_for_function("document.getElementById('id_lat').value !== ''")
    phone.set_input_files("#id_photos", files=[{"name": "visit.jpg", "mimeType": "image/jpeg",
                                                "buffer": jpeg()}])
    phone.click("[data-testid=visit-submit]")
    phone.wait_for_url(re.compile(r".*/special/m/$"))
    phone.wait_for_selector(".alert-success")
    record.refresh_from_db()
    visit = record.visits.get()
    assert visit.photos.count() == 1 and visit.lat is not None and visit.contact_made
    assert not record.overdue and record.last_visit_at == visit.visited_at
    assert record.deadline_at > old_deadline and record.deadline_at > timezone.now()
    assert visit.next_due_at == record.deadline_at
    new_due = timezone.localtime(record.deadline_at)
    assert new_due.strftime("%Y-%m-%d") in phone.inner_text(".alert-info")
    due = phone.locator(f"[data-testid=due-{record.pk}]")
    assert new_due.strftime("%m-%d") in due.inner_text() and "超期" not in due.inner_text()
    phone.screenshot(path=str(ARTIFACTS / "special-mobile-visited.png"), full_page=True)

    desk.reload()
    desk.wait_for_selector("[data-testid=clock]")
    assert new_due.strftime("%Y-%m-%d") in desk.inner_text("[data-testid=clock]")
    assert "按时服药" in desk.inner_text("[data-testid=visits]")
    assert desk.locator("[data-testid=visits] img").count() == 1

    # 4. Unmasking. The grid worker may read the record but is offered no unmasking, and the
    #    unmask page refuses them.
    phone.goto(f"{base}/special/{record.pk}/")
    phone.wait_for_selector("[data-testid=person]")
    assert masked in phone.inner_text("[data-testid=person]")
    assert phone.locator("[data-testid=unmask]").count() == 0
    refused = phone.goto(f"{base}/pii/unmask/special/supervision/{record.pk}/")
    assert refused.status == 403

    # The dispatcher states a purpose (too short first) and then sees the number in clear.
    desk.click("[data-testid=unmask]")
    desk.wait_for_url(re.compile(rf".*/pii/unmask/special/supervision/{record.pk}/"))
    form = desk.locator("#zl-unmask form")
    form.wait_for()
    for box in form.locator("input[name=fields]").all():  # all offered, by default
        box.set_checked(box.get_attribute("value") == "person.id_number")
    form.locator("#id_purpose_category").select_option("visit")
    form.locator("#id_purpose").fill("核实")
    form.locator("button[type=submit]").click()
    desk.wait_for_selector("#zl-unmask .invalid-feedback")
    assert UnmaskGrant.objects.count() == 0
    form = desk.locator("#zl-unmask form")
    assert form.locator('input[name=fields][value="person.id_number"]').is_checked()
    purpose = "核实身份后上门走访，核对监护人信息"
    form.locator("#id_purpose").fill(purpose)
    form.locator("button[type=submit]").click()
    desk.wait_for_url(re.compile(rf".*/special/{record.pk}/$"))
    desk.wait_for_selector(".alert-success")
    assert number in desk.inner_text("[data-testid=person]")
    assert "张**" in desk.inner_text("[data-testid=person]")  # the name was not asked for
    desk.screenshot(path=str(ARTIFACTS / "special-record-unmasked.png"), full_page=True)

    row = AuditLog.objects.get(action="pii.unmask")
    assert row.actor.username == "d.jinsha"
    assert row.changes["purpose"] == purpose and row.changes["purpose_category"] == "visit"
    assert row.changes["fields"] == ["person.id_number"]
    stored = json.dumps([row.changes, row.target_repr, row.target_id, row.actor_name],
                        ensure_ascii=False, default=str)
    assert number not in stored and "张三丰" not in stored
    # Still masked for everybody else.
    phone.goto(f"{base}/special/{record.pk}/")
    phone.wait_for_selector("[data-testid=person]")
    assert number not in phone.content()


def test_handover_to_another_town(browser, live_server, special_world):  # noqa: F811
    from zhili.accounts.models import User
    from zhili.special import services
    from zhili.special.models import Handover, Supervision

    world, base = special_world, live_server.url
    ARTIFACTS.mkdir(exist_ok=True)
    record = services.put_under_management(
        actor=User.objects.get(username="d.jinsha"), person=world.person,
        category=world.mental, level="key", risk_level="2",
        details={"family_economy": "02", "on_subsistence": False, "diagnosis": "01",
                 "has_incidents": False, "treatment": "02"})
    record_path = f"/special/{record.pk}/"
    phone = sign_in(browser, base, "p.grid_worker", world.PASSWORD, **PHONE)
    phone.goto(f"{base}/special/m/")
    phone.wait_for_selector(f"[data-testid=due-{record.pk}]")

    # 3. 金沙 proposes: the person moved to 兴东街道.
    sender = sign_in(browser, base, "d.jinsha", world.PASSWORD)
    sender.goto(base + record_path)
    sender.click("[data-testid=propose-handover]")
    sender.wait_for_selector("[data-testid=handover-form]")
    sender.fill("#id_to_area", world.town_a2.code[:9])
    sender.fill("#id_reason", "本人已搬至兴东街道兴东村居住，自本月起")
    sender.click("[data-testid=handover-submit]")
    sender.wait_for_url(re.compile(r".*/special/handovers/\d+/$"))
    sender.wait_for_selector(".alert-success")
    handover = Handover.objects.get(supervision=record)
    assert handover.state == "pending" and handover.to_area_code == world.town_a2.code
    assert "待接收地确认" in sender.inner_text("[data-testid=handover-state]")
    sender.goto(f"{base}/special/")
    sender.wait_for_selector("[data-testid=supervision-list]")
    assert "衔接中" in sender.inner_text("[data-testid=supervision-list]")

    # 兴东's dispatcher finds it among the handovers to answer and accepts it.
    receiver = sign_in(browser, base, "d.xingdong", world.PASSWORD)
    receiver.goto(f"{base}/special/handovers/")
    listing = receiver.locator("[data-testid=handover-list]")
    listing.wait_for()
    link = receiver.locator(f'a[href="/special/handovers/{handover.pk}/"]')
    row = listing.locator("tbody tr", has=link)
    # The sending side is the record's area: the grid the person was registered in, named
    # with its community (every community has a 第1网格).
    assert "张**" in row.inner_text() and "东市社区 第1网格" in row.inner_text()
    assert "兴东街道" in row.inner_text() and "待接收地确认" in row.inner_text()
    link.click()
    receiver.wait_for_selector("[data-testid=handover-actions]")
    assert "张三丰" not in receiver.content()
    receiver.fill("#id_note", "已核实居住地，同意接收")
    receiver.click("[data-testid=do-accept]")
    receiver.wait_for_selector(".alert-success")
    assert "已接收" in receiver.inner_text("[data-testid=handover-state]")
    assert receiver.locator("[data-testid=handover-actions]").count() == 0
    receiver.screenshot(path=str(ARTIFACTS / "special-handover-accepted.png"), full_page=True)

    record = Supervision.objects.get(pk=record.pk)
    handover.refresh_from_db()
    assert handover.state == "accepted" and handover.answered_by.username == "d.xingdong"
    assert record.area_code == world.town_a2.code and record.area_id == world.town_a2.pk
    assert record.state == "active" and record.pending_area_code == ""

    # The record is now 兴东's: in its list, and out of 金沙's reach (a handed-over record is
    # not kept in the sender's list; the settled handover stays in its "Settled" box).
    receiver.goto(f"{base}/special/")
    receiver.wait_for_selector(f'[data-testid=supervision-list] a[href="{record_path}"]')
    receiver.goto(base + record_path)
    receiver.wait_for_selector("[data-testid=record-visit]")
    sender.goto(f"{base}/special/")
    sender.wait_for_selector("[data-testid=supervision-list]")
    assert sender.locator(f'[data-testid=supervision-list] a[href="{record_path}"]').count() == 0
    assert "暂无记录。" in sender.inner_text("[data-testid=supervision-list]")
    assert sender.goto(base + record_path).status == 404
    sender.goto(f"{base}/special/handovers/?box=closed")
    sender.wait_for_selector(
        f'[data-testid=handover-list] a[href="/special/handovers/{handover.pk}/"]')
    # Nor is the person on the 金沙 grid worker's visit list any more.
    phone.goto(f"{base}/special/m/")
    phone.wait_for_selector("[data-testid=due-list]")
    assert phone.locator(f"[data-testid=due-{record.pk}]").count() == 0
