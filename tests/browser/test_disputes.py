"""Real browsers through a mediation case (大调解), in the Chinese UI: the town centre takes in a
medical dispute with two parties (adding and removing a party row on the way) and routes it to
the county's medical-dispute body; the body accepts, holds two sessions, concludes with a
written agreement, downloads it as Word and PDF (both carry the parties' names), records the
signatures, the judicial confirmation and a follow-up visit that finds it fulfilled, and the
case is closed."""

import datetime as dt
import re

import pytest

from tests.browser.test_events import sign_in
from tests.browser.test_walkthrough import ARTIFACTS, browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser

ID_NUMBER = "320612199001011232"
USCC = "91320612MA1P8BJ532"


@pytest.fixture
def mediation(live_db, settings):
    from zhili.core.testing import World
    from zhili.disputes.testing import Mediation

    settings.LANGUAGE_CODE = "zh-hans"
    return Mediation(World())


def act(page, action, **fields):
    """Open an action's panel, fill it (lists check boxes, radios pick a value) and submit;
    wait for the next page and its success message."""
    page.click(f"[data-testid=open-{action}]")
    page.wait_for_selector(f"#act-{action}.show")
    panel = page.locator(f"#act-{action}")
    for name, value in fields.items():
        if isinstance(value, list | tuple):
            boxes = panel.locator(f'input[type=checkbox][name="{name}"]')
            for i in range(boxes.count()):
                box = boxes.nth(i)
                if box.get_attribute("value") in value:
                    box.check()
                else:
                    box.uncheck()
            continue
        radios = panel.locator(f'input[type=radio][name="{name}"]')
        if radios.count():
            radios.and_(panel.locator(f'[value="{value}"]')).check()
            continue
        field = panel.locator(f'[name="{name}"]')
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(str(value))
        else:
            field.fill(str(value))
    with page.expect_navigation():
        panel.locator(f"[data-testid=do-{action}]").click()
    # A refusal comes back as the page with the form's errors: say which, not "timeout".
    page.wait_for_selector(".alert-success, .invalid-feedback, .alert-danger")
    problems = page.locator(".invalid-feedback, .alert-danger")
    assert problems.count() == 0, (action, problems.all_inner_texts())


def state(page):
    return page.get_attribute("[data-testid=state]", "data-state")


def download(page, testid):
    with page.expect_download() as info:
        page.click(f"[data-testid={testid}]")
    handle = info.value
    with open(handle.path(), "rb") as stored:
        return handle.suggested_filename, stored.read()


def test_intake_to_closure_with_the_agreement_documents(browser, live_server,  # noqa: F811
                                                       mediation):
    from django.utils import timezone

    from zhili.core.documents import docx_text, pdf_text
    from zhili.disputes.models import Dispute

    m, base = mediation, live_server.url
    password = m.world.PASSWORD
    ARTIFACTS.mkdir(exist_ok=True)
    today = timezone.localdate()

    # 1. Intake at the town centre: the case and two parties, a person and a hospital.
    desk = sign_in(browser, base, "m.dispatcher", password)
    desk.goto(f"{base}/disputes/new/")
    desk.wait_for_selector("[data-testid=register-form]")
    desk.select_option("#id_channel", "walk_in")
    desk.fill("#id_title", "医疗费用赔偿纠纷")
    desk.fill("#id_occurred_on", (today - dt.timedelta(days=3)).isoformat())
    desk.select_option("#id_area", str(m.world.village_a1.pk))
    desk.fill("#id_place", "金沙街道某某医院")
    desk.select_option("#id_type_group", "05")
    desk.select_option("#id_type_item", "0502")
    # The statistics class follows the type until the clerk picks one.
    assert desk.input_value("#id_stat_class") == "medical"
    desk.fill("#id_amount", "50000")
    desk.fill("#id_description", "患者术后感染，要求医院赔偿医疗费用。")
    rows = desk.locator("[data-testid=party-row]")
    assert rows.count() == 2
    desk.click("[data-testid=add-party]")  # a third row, then thought better of
    assert rows.count() == 3 and desk.input_value("#id_parties-TOTAL_FORMS") == "3"
    rows.nth(2).locator("[data-remove-party]").click()
    assert rows.count() == 2 and desk.input_value("#id_parties-TOTAL_FORMS") == "2"
    desk.fill("#id_parties-0-name", "张三")
    desk.fill("#id_parties-0-id_number", ID_NUMBER)
    desk.fill("#id_parties-0-phone", "13812345678")
    desk.fill("#id_parties-0-address", "金沙街道人民路1号")
    desk.select_option("#id_parties-1-side", "respondent")
    desk.select_option("#id_parties-1-kind", "org")
    assert desk.locator("#id_parties-1-uscc").is_visible()
    assert not desk.locator("#id_parties-1-id_number").is_visible()
    desk.fill("#id_parties-1-name", "南通市某某医院")
    desk.fill("#id_parties-1-uscc", USCC)
    desk.fill("#id_parties-1-representative", "院长 李四")
    with desk.expect_navigation():
        desk.click("[data-testid=register-submit]")
    desk.wait_for_url(re.compile(r".*/disputes/\d+/$"))
    desk.wait_for_selector(".alert-success")
    case = Dispute.objects.get()
    url = f"{base}/disputes/{case.pk}/"
    assert desk.url == url and state(desk) == "registered"
    assert case.parties.count() == 2 and case.proposed_body == m.medical_body
    parties = desk.inner_text("[data-testid=parties]")
    assert "张三" not in parties and ID_NUMBER not in parties  # masked by default
    assert "南通市某某医院" in desk.inner_text("[data-testid=candidates]") or \
        m.medical_body.org.name in desk.inner_text("[data-testid=candidates]")

    # 2. Route to the medical-dispute body (proposed, so already chosen).
    assert desk.input_value("#act-route [name=body]") == str(m.medical_body.pk)
    act(desk, "route", note="医疗纠纷，转医调委专业调解")
    assert state(desk) == "assigned"

    # 3. The body accepts with two mediators and holds two sessions.
    body = sign_in(browser, base, "m.medical", password, accept_downloads=True)
    body.goto(url)
    act(body, "accept", mediators=[str(m.mediator.pk), str(m.mediator2.pk)],
        lead=str(m.mediator.pk))
    assert state(body) == "mediating"
    for n, hours in ((1, 3), (2, 1)):
        held = timezone.localtime() - dt.timedelta(hours=hours)
        act(body, "session", held_at=held.strftime("%Y-%m-%dT%H:%M"), place="医调委调解室",
            participants="张三、医院代表李四",
            record=f"第{n}次调解：双方陈述意见，就赔偿数额协商。")
    assert body.locator("[data-testid=sessions] .border-start").count() == 2

    # 4. Success, with a written agreement.
    act(body, "conclude", outcome="success", facts="患者术后感染，经鉴定医院存在过错。",
        issues="医疗费用及损失由谁承担。", responsibilities="医院负主要责任。",
        terms="医院一次性赔偿张三人民币三万元。\n双方就此事再无其他争议。",
        performance_method="银行转账", performance_place="金沙街道",
        performance_due=(today + dt.timedelta(days=10)).isoformat(), place="医调委调解室")
    assert state(body) == "agreed"
    assert "通州医调〔" in body.inner_text("[data-testid=agreement]")

    # 5. The agreement as Word and as PDF: both name the parties.
    name, word = download(body, "download-docx")
    assert name.endswith(".docx") and word.startswith(b"PK")
    text = docx_text(word)
    assert "张三" in text and "南通市某某医院" in text and ID_NUMBER in text
    name, pdf = download(body, "download-pdf")
    assert name.endswith(".pdf") and pdf.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert "张三" in text and "南通市某某医院" in text

    # 6. Signatures of both parties and a mediator: in force, 30 days to apply to a court.
    signed = [f"p{p.pk}" for p in case.parties.all()] + [f"m{m.mediator.pk}"]
    act(body, "sign", signed=signed, signed_on=today.isoformat())
    assert state(body) == "performing"
    assert (today + dt.timedelta(days=30)).isoformat() in body.inner_text(
        "[data-testid=confirmation-deadline]")

    # 7. Judicial confirmation: applied for, then ruled valid.
    act(body, "apply_confirmation", court="南通市通州区人民法院", applied_on=today.isoformat())
    act(body, "ruling", result="valid", ruled_on=today.isoformat(),
        ruling_number="（2026）苏0612民特1号")
    assert "（2026）苏0612民特1号" in body.inner_text("[data-testid=confirmations]")

    # 8. The follow-up finds it fulfilled: the case is closed.
    act(body, "follow_up", visited_on=today.isoformat(), method="phone",
        fulfilment="fulfilled", satisfaction="satisfied", note="赔偿款已到账")
    assert state(body) == "closed"
    timeline = body.locator("[data-testid=timeline] li")
    actions = [timeline.nth(i).get_attribute("data-action") for i in range(timeline.count())]
    assert actions == ["register", "route", "accept", "record_session", "record_session",
                       "agree", "sign", "apply_confirmation", "ruling", "close"]
    body.screenshot(path=str(ARTIFACTS / "dispute-closed.png"), full_page=True)
    case.refresh_from_db()
    assert case.state == "closed" and case.satisfaction == "satisfied"
    assert case.current_agreement().fulfilment == "fulfilled"

    # The centre's list shows the case closed; the body's list of open cases no longer has it.
    desk.goto(f"{base}/disputes/?body={m.medical_body.pk}&state=open")
    assert case.number not in desk.inner_text("[data-testid=dispute-list]")
    desk.goto(f"{base}/disputes/?body={m.medical_body.pk}")
    assert case.number in desk.inner_text("[data-testid=dispute-list]")
