"""Real browsers through the event loop: a grid worker reports from the phone page while
offline (the report waits on the phone and goes out when the network returns), then the
dispatcher, the department and the grid worker take it all the way to evaluation."""

import re

import pytest

from tests.browser.test_walkthrough import ARTIFACTS, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.fixture
def loop_world(live_db, settings):
    from zhili.accounts.models import Position, Role, User
    from zhili.core.models import EscalationStep
    from zhili.core.testing import World
    from zhili.events.models import EventCategory, RoutingRule, SLARule
    from zhili.events.seed import seed

    settings.LANGUAGE_CODE = "zh-hans"
    seed(EventCategory, SLARule, EscalationStep)  # a flushed live database lost its seed rows
    world = World()
    dispatcher = User.objects.create_user(username="d.town", password=World.PASSWORD)
    Position.objects.create(user=dispatcher, role=Role.objects.get(code="dispatcher"),
                            area=world.town_a1, area_code=world.town_a1.code,
                            org=world.centre_a1)
    RoutingRule.objects.create(area=world.county_a, area_code=world.county_a.code,
                               category=EventCategory.objects.get(code="garbage"),
                               lead_org=world.police_a)
    return world


def sign_in(browser, base, username, password, **context):  # noqa: F811
    page = browser.new_context(locale="zh-CN", **context).new_page()
    page.set_default_timeout(30000)
    page.goto(f"{base}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("form button[type=submit]")
    page.wait_for_url(re.compile(r".*/$"))
    return page


def act(page, action, **fields):
    page.click(f"[data-testid=open-{action}]")
    panel = page.locator(f"#act-{action}")
    # Bootstrap adds "show" when the panel has finished opening: filling and submitting while
    # it still slides open can miss the button.
    page.wait_for_selector(f"#act-{action}.show")
    for name, value in fields.items():
        choice = panel.locator(f'input[type=radio][name="{name}"][value="{value}"]')
        if choice.count():
            choice.check()
            continue
        field = panel.locator(f"[name={name}]")
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    # The page still shows the previous action's success message until the form's response
    # arrives: wait for the new page, not just for any success message.
    with page.expect_navigation():
        panel.locator(f"[data-testid=do-{action}]").click()
    page.wait_for_selector(".alert-success")


def state(page):
    return page.inner_text("[data-testid=state]")


def test_report_offline_then_the_whole_loop(browser, live_server, loop_world):  # noqa: F811
    from zhili.events.models import Event

    base, password = live_server.url, loop_world.PASSWORD
    ARTIFACTS.mkdir(exist_ok=True)

    phone = sign_in(browser, base, "p.grid_worker", password,
                    viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    phone.goto(f"{base}/events/m/")
    phone.wait_for_selector("[data-testid=m-submit]")
    phone.context.set_offline(True)
    phone.wait_for_function("!navigator.onLine")
    phone.select_option("#m-category", "garbage")
    phone.fill("#m-description", "幸福路垃圾桶满溢，气味很大")
    phone.click("[data-testid=m-submit]")
    phone.wait_for_selector("[data-testid=queue]:not(.d-none)")
    assert phone.inner_text("#queue-count") == "1"
    assert Event.objects.count() == 0
    phone.screenshot(path=str(ARTIFACTS / "mobile-offline.png"), full_page=True)
    phone.context.set_offline(False)
    phone.wait_for_selector("[data-testid=result].alert-success")
    number = re.search(r"SJ\d+", phone.inner_text("[data-testid=result]")).group(0)
    assert Event.objects.get(number=number).channel == "grid"
    event_url = f"{base}/events/{Event.objects.get(number=number).pk}/"

    desk = sign_in(browser, base, "d.town", password)
    desk.goto(f"{base}/events/")
    desk.click(f"text={number}")
    act(desk, "accept")
    act(desk, "dispatch", lead_org=str(loop_world.police_a.pk))
    assert "待签收" in state(desk)

    handler = sign_in(browser, base, "p.org_staff", password)
    handler.goto(event_url)
    act(handler, "send_back", reason="应由城管部门处理")
    assert "退单" in state(handler)

    desk.goto(event_url)
    act(desk, "dispatch", lead_org=str(loop_world.police_a.pk), note="经核实由公安牵头")
    handler.goto(event_url)
    act(handler, "sign")
    act(handler, "finish", result="已联系环卫清运完毕")

    phone.goto(event_url)
    act(phone, "verify_ok", note="现场已清理干净")
    desk.goto(event_url)
    act(desk, "close")
    assert "已结案" in state(desk)
    phone.goto(event_url)
    act(phone, "evaluate", satisfaction="satisfied")
    desk.goto(event_url)
    timeline = desk.inner_text("[data-testid=timeline]")
    for step in ("report", "accept", "dispatch", "send_back", "sign", "finish", "verify_ok",
                 "close", "evaluate"):
        assert step in timeline
    desk.screenshot(path=str(ARTIFACTS / "event-closed.png"), full_page=True)
    event = Event.objects.get(number=number)
    assert event.state == "closed" and event.satisfaction == "satisfied"
    assert event.return_count == 1
