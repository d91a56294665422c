"""The dispute pages: intake with its party rows, the case page and its actions through POSTs
(the whole loop), refusals shown on the right field with 400 and nothing written, the 409 of a
stale page, the agreement documents, files, alerts, the registry, and the list's filters,
keyset pages and query count."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from zhili.core import pii
from zhili.core.documents import docx_text, pdf_text
from zhili.core.models import AuditLog
from zhili.disputes import services
from zhili.disputes.choices import DisputeState as S
from zhili.disputes.models import (
    Agreement,
    CaseFile,
    Dispute,
    DisputeAlert,
    DisputeTransition,
    MediationBody,
    Mediator,
    Party,
)
from zhili.disputes.testing import ID_A, ID_B, register

pytestmark = pytest.mark.django_db

TODAY = dt.date.today
USCC = "91320612MA1P8BJ532"
USCC_B = "91320612MA1P8BJ545"


def intake(m, **overrides):
    """The intake form as a browser posts it: the case and two party rows."""
    data = {
        "channel": "walk_in", "title": "医疗费用赔偿纠纷",
        "occurred_on": (TODAY() - dt.timedelta(days=3)).isoformat(), "place": "金沙街道某某医院",
        "area": m.world.village_a1.pk, "type_group": "05", "type_item": "0502",
        "amount": "50,000", "description": "患者术后感染，要求医院赔偿医疗费用。",
        "parties-TOTAL_FORMS": "2", "parties-INITIAL_FORMS": "0",
        "parties-MIN_NUM_FORMS": "0", "parties-MAX_NUM_FORMS": "50",
        "parties-0-side": "applicant", "parties-0-kind": "person", "parties-0-name": "张三",
        "parties-0-id_type": "111", "parties-0-id_number": ID_A,
        "parties-0-phone": "13812345678", "parties-0-address": "金沙街道人民路1号",
        "parties-1-side": "respondent", "parties-1-kind": "org",
        "parties-1-name": "南通市某某医院", "parties-1-id_type": "111", "parties-1-uscc": USCC,
        "parties-1-representative": "院长 李四",
    }
    data.update(overrides)
    return data


def login(user):
    """A client of its own per user (the `client_for` fixture shares one)."""
    from django.test import Client

    client = Client()
    client.force_login(getattr(user, "user", user))
    return client


def act(client, dispute, action, data=None, **kwargs):
    dispute.refresh_from_db()
    payload = {"version": dispute.version, **(data or {})}
    return client.post(reverse("disputes:act", args=[dispute.pk, action]), payload, **kwargs)


def agreement_fields(**overrides):
    values = {"outcome": "success", "agreement_form": "written", "facts": "患者术后感染。",
              "issues": "医疗费用由谁承担。", "responsibilities": "医院负主要责任。",
              "terms": "医院一次性赔偿张三人民币三万元。\n双方就此事再无其他争议。",
              "performance_method": "银行转账", "performance_place": "金沙街道",
              "performance_due": (TODAY() + dt.timedelta(days=10)).isoformat(),
              "place": "金沙街道调解室", "copies": "3"}
    values.update(overrides)
    return values


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# --- pages and who sees them ---------------------------------------------------------------------

def test_pages_render_for_the_right_personas(m):
    d = register(m)
    dispatcher = login(m.dispatcher)
    for url in (reverse("disputes:list"), reverse("disputes:register"), d.get_absolute_url(),
                reverse("disputes:alerts"), reverse("disputes:bodies"),
                reverse("disputes:body", args=[m.medical_body.pk])):
        assert dispatcher.get(url).status_code == 200, url
    page = dispatcher.get(d.get_absolute_url()).content.decode()
    assert 'data-testid="open-route"' in page and 'data-testid="open-accept"' not in page
    assert 'data-testid="candidates"' in page and "通州区医患纠纷人民调解委员会" in page
    # A grid worker reads cases and registers them, but routes nothing and sees no alerts.
    grid = login(m.world.personas["grid_worker"])
    in_grid = register(m, area=m.world.grid_a1, title="网格内纠纷")
    assert in_grid.number in grid.get(reverse("disputes:list")).content.decode()
    assert grid.get(reverse("disputes:alerts")).status_code == 403
    page = grid.get(in_grid.get_absolute_url()).content.decode()
    assert 'data-testid="actions"' not in page
    assert grid.post(reverse("disputes:act", args=[in_grid.pk, "route"]),
                     {"body": m.medical_body.pk}).status_code == 403
    assert grid.get(d.get_absolute_url()).status_code == 404  # the village is not its grid
    # The medical body's mediator sees nothing of a case not routed to it.
    mediator = login(m.mediator_user)
    assert mediator.get(d.get_absolute_url()).status_code == 404
    services.route_dispute(actor=m.dispatcher, dispute=d, body=m.medical_body)
    page = mediator.get(d.get_absolute_url()).content.decode()
    assert 'data-testid="open-accept"' in page and 'data-testid="open-route"' not in page
    listed = mediator.get(reverse("disputes:list")).content.decode()
    assert d.number in listed
    # Another body's mediator: out of reach.
    assert login(m.town_mediator_user).get(d.get_absolute_url()).status_code == 404


def test_parties_are_masked_and_unmasked_through_the_flow(m):
    d = register(m)
    client = login(m.dispatcher)
    page = client.get(d.get_absolute_url()).content.decode()
    assert ID_A not in page and "13812345678" not in page and "张三" not in page
    assert pii.mask_id_number(ID_A) in page and "南通市某某医院" in page  # an org's name is not PII
    person = Party.objects.get(dispute=d, kind="person")
    url = reverse("core:unmask", args=["disputes", "party", person.pk])
    assert url in page
    response = client.post(url, {"fields": ["id_number"], "purpose_category": "verification",
                                 "purpose": "核对当事人身份信息", "next": d.get_absolute_url()})
    assert response.status_code == 302
    assert ID_A in client.get(d.get_absolute_url()).content.decode()
    # A grid worker has no unmask permission: no link, and the flow refuses.
    grid = login(m.world.personas["grid_worker"])
    assert grid.get(url).status_code in (403, 404)


# --- intake --------------------------------------------------------------------------------------

def test_register_with_two_parties(m):
    client = login(m.dispatcher)
    response = client.post(reverse("disputes:register"), intake(m, **{
        "parties-TOTAL_FORMS": "3",  # a blank third row is not a party
        "parties-2-side": "third", "parties-2-kind": "person", "parties-2-id_type": "111"}))
    d = Dispute.objects.get()
    assert response.status_code == 302 and response.url == d.get_absolute_url()
    assert d.type_code == "0502" and d.proposed_body == m.medical_body
    assert str(d.amount) == "50000.00" and d.stat_class == "medical"
    assert Party.objects.filter(dispute=d).count() == 2
    assert Party.objects.get(dispute=d, kind="org").uscc == USCC
    follow = client.get(response.url)
    assert d.number in follow.content.decode()


def test_register_shows_risk_warnings(m):
    register(m)  # the same parties before
    client = login(m.dispatcher)
    response = client.post(reverse("disputes:register"), intake(m, may_intensify="on"),
                           follow=True)
    page = response.content.decode()
    assert response.status_code == 200 and "alert-warning" in page
    assert DisputeAlert.objects.filter(kind="repeat_parties").exists()


@pytest.mark.parametrize("change,where", [
    ({"parties-0-id_number": "320612199001011238"}, "parties-0-id_number"),
    ({"parties-1-uscc": ""}, "parties-1-uscc"),
    ({"parties-1-side": "applicant"}, "parties-error"),
    ({"type_group": "02"}, "type_item"),
    ({"occurred_on": (TODAY() + dt.timedelta(days=5)).isoformat()}, "occurred_on"),
    ({"parties-0-name": ""}, "parties-0-name"),
])
def test_bad_intake_is_shown_on_its_field_and_writes_nothing(m, change, where):
    response = login(m.dispatcher).post(reverse("disputes:register"), intake(m, **change))
    assert response.status_code == 400
    page = response.content.decode()
    if where == "parties-error":
        assert 'data-testid="parties-error"' in page
    else:
        # The widget is marked invalid and its message shown.
        assert re.search(rf'<(input|select)[^>]*name="{where}"[^>]*is-invalid', page) or \
            re.search(rf'<(input|select)[^>]*is-invalid[^>]*name="{where}"', page), where
        assert "invalid-feedback" in page
    assert not Dispute.objects.exists() and not Party.objects.exists()


def test_the_party_error_lands_on_the_right_row(m):
    # The blank middle row is skipped: the service's parties.1 is the form's row 2.
    data = intake(m, **{"parties-TOTAL_FORMS": "3", "parties-2-side": "respondent",
                        "parties-2-kind": "org", "parties-2-name": "另一家医院",
                        "parties-2-uscc": "91320612MA1P8BJ53X", "parties-2-id_type": "111"})
    for name in ("kind", "name", "uscc", "representative"):
        data.pop(f"parties-1-{name}")
    data["parties-1-side"], data["parties-1-kind"] = "third", "person"
    response = login(m.dispatcher).post(reverse("disputes:register"), data)
    assert response.status_code == 400
    rows = response.context["parties"].forms
    assert not rows[1].errors and "uscc" in rows[2].errors
    assert not Dispute.objects.exists()


def test_register_from_a_grid_event(m):
    from zhili.events.models import Event, EventCategory
    from zhili.events.seed import seed  # noqa: F401  (the categories come with migrations)

    event = Event.objects.create(
        title="楼上漏水", description="楼上漏水到楼下，双方争吵", channel="grid",
        category=EventCategory.objects.get(code="neighbour-dispute"),
        area=m.world.grid_a1, area_code=m.world.grid_a1.code, address="东市路3号")
    client = login(m.dispatcher)
    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    link = f"{reverse('disputes:register')}?event={event.pk}"
    assert 'data-testid="to-dispute"' in page and link in page
    form = client.get(link)
    assert form.status_code == 200
    assert form.context["form"].initial["title"] == "楼上漏水"
    assert form.context["form"].initial["type_group"] == "02"
    data = intake(m, title="楼上漏水纠纷", type_group="02", type_item="0201", place="东市路3号",
                  area=m.world.grid_a1.pk, event=str(event.pk))
    data.pop("channel")
    response = client.post(f"{link}", data)
    d = Dispute.objects.get()
    assert response.status_code == 302 and d.source_event == event and d.channel == "event"
    page = client.get(reverse("events:detail", args=[event.pk])).content.decode()
    assert 'data-testid="dispute-case"' in page and d.get_absolute_url() in page
    # Once made, the form sends the user to the case instead of a second one.
    assert client.get(link).url == d.get_absolute_url()
    # A grid worker has no add on a garbage event: nothing is offered there.
    other = Event.objects.create(title="垃圾", channel="grid",
                                 category=EventCategory.objects.get(code="garbage"),
                                 area=m.world.grid_a1, area_code=m.world.grid_a1.code)
    page = client.get(reverse("events:detail", args=[other.pk])).content.decode()
    assert 'data-testid="to-dispute"' not in page


# --- the loop through the case page --------------------------------------------------------------

def test_the_whole_loop_through_the_pages(m):
    d = register(m)
    desk, body = login(m.dispatcher), login(m.mediator_user)

    response = act(desk, d, "route", {"body": m.medical_body.pk, "note": "医疗纠纷专业调解"})
    assert response.status_code == 302 and response.url == d.get_absolute_url()
    response = act(body, d, "accept", {"mediators": [m.mediator.pk, m.mediator2.pk],
                                       "lead": m.mediator.pk})
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == S.MEDIATING and d.lead_mediator == m.mediator
    for n, hours in ((1, 5), (2, 1)):
        held = timezone.localtime() - dt.timedelta(hours=hours)
        files = {"files": [_upload("笔录.pdf", pdf_bytes())]} if n == 1 else {}
        response = act(body, d, "session", {
            "held_at": held.strftime("%Y-%m-%dT%H:%M"), "place": "调解室",
            "participants": "张三、医院代表", "record": f"第{n}次调解笔录",
            "mediators": [m.mediator.pk], **files})
        assert response.status_code == 302, response.content.decode()[:3000]
    assert d.sessions.count() == 2
    stored = CaseFile.objects.get(dispute=d)
    assert stored.session is not None and stored.content_type == "application/pdf"

    response = act(body, d, "conclude", agreement_fields())
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == S.AGREED
    deal = d.current_agreement()
    assert deal.terms == ["医院一次性赔偿张三人民币三万元。", "双方就此事再无其他争议。"]

    for fmt, read in (("docx", docx_text), ("pdf", pdf_text)):
        response = body.get(reverse("disputes:agreement", args=[d.pk, fmt]))
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment")
        assert response["Content-Type"] == {"docx": "application/vnd.openxmlformats-"
                                            "officedocument.wordprocessingml.document",
                                            "pdf": "application/pdf"}[fmt]
        text = read(response.content)
        assert "张三" in text and "南通市某某医院" in text
    assert AuditLog.objects.filter(action="dispute.agreement.download").count() == 2

    response = act(body, d, "edit_agreement", {**agreement_fields(), "copies": "4"})
    assert response.status_code == 302 and d.current_agreement().copies == 4

    parties = list(d.parties.all())
    signed = [f"p{p.pk}" for p in parties] + [f"m{m.mediator.pk}"]
    response = act(body, d, "sign", {"signed": signed, "signed_on": TODAY().isoformat()})
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == S.PERFORMING and d.current_agreement().effective_on == TODAY()
    page = body.get(d.get_absolute_url()).content.decode()
    assert 'data-testid="confirmation-deadline"' in page
    assert (TODAY() + dt.timedelta(days=30)).isoformat() in page

    assert act(body, d, "apply_confirmation", {"court": "通州区人民法院",
                                               "applied_on": TODAY().isoformat()}
               ).status_code == 302
    confirmation = d.confirmations.get()
    assert act(body, d, "ruling", {"confirmation": confirmation.pk, "result": "valid",
                                   "ruled_on": TODAY().isoformat(),
                                   "ruling_number": "(2026)苏0612民特1号"}).status_code == 302
    response = act(body, d, "follow_up", {"visited_on": TODAY().isoformat(), "method": "phone",
                                          "fulfilment": "fulfilled",
                                          "satisfaction": "satisfied"})
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == S.CLOSED and d.satisfaction == "satisfied"
    actions = list(DisputeTransition.objects.filter(dispute=d).values_list("action", flat=True))
    assert actions == ["register", "route", "accept", "record_session", "record_session",
                       "agree", "edit_agreement", "sign", "apply_confirmation", "ruling",
                       "close"]
    page = body.get(d.get_absolute_url()).content.decode()
    assert 'data-state="closed"' in page and 'data-testid="actions"' in page  # files only
    assert 'data-testid="open-follow_up"' not in page


def _upload(name, content):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


def test_a_refused_agreement_shows_its_fields_with_400_and_writes_nothing(m):
    d = _mediating(m)
    body = login(m.mediator_user)
    before = d.version
    response = act(body, d, "conclude", agreement_fields(facts="", terms="", performance_method=""))
    assert response.status_code == 400
    form = _form(response, "conclude")
    assert {"facts", "terms", "performance_method"} <= set(form.errors)
    assert response.context["open_action"] == "conclude"
    assert 'id="act-conclude" class="accordion-collapse collapse show"' in \
        response.content.decode()
    d.refresh_from_db()
    assert d.state == S.MEDIATING and d.version == before and not Agreement.objects.exists()
    # A form that does not even validate: 400 too, the field named.
    response = act(body, d, "session", {"place": "调解室"})
    assert response.status_code == 400 and d.sessions.count() == 0
    # Signatures missing a party: the service's message on the checkbox field.
    act(body, d, "conclude", agreement_fields())
    response = act(body, d, "sign", {"signed": [f"m{m.mediator.pk}"],
                                     "signed_on": TODAY().isoformat()})
    assert response.status_code == 400 and "signed" in _form(response, "sign").errors
    d.refresh_from_db()
    assert d.state == S.AGREED


def test_a_stale_page_gets_409_and_the_case_as_it_is(m):
    d = register(m)
    seen = d.version
    services.route_dispute(actor=m.dispatcher, dispute=d, body=m.medical_body, version=seen)
    response = login(m.dispatcher).post(
        reverse("disputes:act", args=[d.pk, "reject"]),
        {"version": seen, "reason": "当事人拒绝调解"})
    assert response.status_code == 409
    page = response.content.decode()
    assert "alert-danger" in page and 'data-state="assigned"' in page
    d.refresh_from_db()
    assert d.state == S.ASSIGNED


def test_out_of_order_and_foreign_actions(m):
    d = register(m)
    desk = login(m.dispatcher)
    assert desk.post(reverse("disputes:act", args=[d.pk, "nonsense"])).status_code == 404
    # A dispatcher does not mediate: 403 before any form is read.
    assert act(desk, d, "accept", {"mediators": [m.mediator.pk]}).status_code == 403
    services.route_dispute(actor=m.dispatcher, dispute=d, body=m.medical_body)
    # Routing again once assigned: the state refuses (409), nothing changes.
    response = act(desk, d, "route", {"body": m.medical_body.pk})
    assert response.status_code == 409 and 'data-state="assigned"' in response.content.decode()
    # The body declines: it no longer sees the case and lands on the list.
    response = act(login(m.mediator_user), d, "decline", {"reason": "超出受理能力"})
    assert response.status_code == 302 and response.url == reverse("disputes:list")
    d.refresh_from_db()
    assert d.state == S.REGISTERED and d.body is None


def test_supervision_and_answer(m):
    d = _mediating(m)
    county = login(m.county_dispatcher)
    assert act(county, d, "supervise", {"message": "请加快调解进度"}).status_code == 302
    page = login(m.mediator_user).get(d.get_absolute_url()).content.decode()
    assert 'data-testid="supervised"' in page and 'data-testid="open-answer_supervision"' in page
    order = d.supervisions.get()
    response = act(login(m.mediator_user), d, "answer_supervision",
                   {"order": order.pk, "answer": "已约双方明日调解"})
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.state == "answered"


def test_extension_and_failure(m):
    d = _mediating(m)
    body = login(m.mediator_user)
    assert act(body, d, "extend", {"days": "40", "reason": "鉴定"}).status_code == 400
    assert act(body, d, "extend", {"days": "15", "reason": "等待医疗鉴定"}).status_code == 302
    d.refresh_from_db()
    assert d.extension_count == 1
    response = act(body, d, "conclude", {"outcome": "failure", "note": "双方分歧较大"})
    assert response.status_code == 400 and not Dispute.objects.get(pk=d.pk).outcome
    response = act(body, d, "conclude", {"outcome": "failure", "note": "双方分歧较大",
                                         "guidance": "litigation"})
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.state == S.CLOSED and d.guidance == "litigation"


# --- documents and files -------------------------------------------------------------------------

def test_agreement_downloads_need_an_agreement_and_the_unmask_permission(m):
    d = _mediating(m, area=m.world.grid_a1)
    body = login(m.mediator_user)
    response = body.get(reverse("disputes:agreement", args=[d.pk, "docx"]))
    assert response.status_code == 302  # no agreement yet: back to the case with a message
    assert body.get(reverse("disputes:agreement", args=[d.pk, "xls"])).status_code == 404
    grid = login(m.world.personas["grid_worker"])
    assert grid.get(reverse("disputes:agreement", args=[d.pk, "docx"])).status_code == 403


def test_case_files_are_served_scoped_and_never_sniffed(m):
    d = _mediating(m)
    body = login(m.mediator_user)
    response = act(body, d, "upload", {"kind": "evidence",
                                       "files": [_upload("病历.pdf", pdf_bytes())]})
    assert response.status_code == 302
    stored = CaseFile.objects.get(dispute=d)
    response = body.get(reverse("disputes:file", args=[stored.pk]))
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    bad = act(body, d, "upload", {"kind": "evidence", "files": [_upload("x.exe", b"MZ\x90")]})
    assert bad.status_code == 400 and CaseFile.objects.count() == 1
    assert login(m.town_mediator_user).get(
        reverse("disputes:file", args=[stored.pk])).status_code == 404


# --- alerts --------------------------------------------------------------------------------------

def test_alerts_are_listed_and_handled(m):
    d = register(m, people_count=8)
    alert = DisputeAlert.objects.get(dispute=d, kind="group")
    client = login(m.dispatcher)
    page = client.get(reverse("disputes:alerts")).content.decode()
    assert d.number in page and 'data-testid="handle"' in page
    url = reverse("disputes:alert_handle", args=[alert.pk])
    assert client.post(url, {"note": ""}).status_code == 302
    alert.refresh_from_db()
    assert alert.state == "open"
    client.post(url, {"note": "已安排专人稳控", "next": d.get_absolute_url()})
    alert.refresh_from_db()
    assert alert.state == "handled" and alert.handled_note == "已安排专人稳控"
    assert d.number not in client.get(reverse("disputes:alerts")).content.decode()
    assert d.number in client.get(reverse("disputes:alerts"), {"state": "handled"}
                                  ).content.decode()
    # The mediator reads alerts but does not handle them.
    assert login(m.mediator_user).post(url, {"note": "x"}).status_code in (403, 404)


# --- the registry --------------------------------------------------------------------------------

def test_the_registry_of_bodies_and_mediators(m):
    from zhili.orgs.models import Organisation

    admin = login(m.world.personas["district_admin"])
    page = admin.get(reverse("disputes:bodies")).content.decode()
    assert "通州区医患纠纷人民调解委员会" in page and "金沙街道人民调解委员会" in page
    org = Organisation.objects.create(name="通州区交通事故纠纷调委会", kind="mediation",
                                      area=m.world.county_a, area_code=m.world.county_a.code)
    form = admin.get(reverse("disputes:body_create"))
    assert org.name in form.content.decode()
    assert "通州区医患纠纷人民调解委员会" not in form.content.decode()  # already a body
    response = admin.post(reverse("disputes:body_create"), {
        "org": org.pk, "kind": "professional", "type_codes": ["0503"], "capacity": "80",
        "accept_days": "3", "mediate_days": "30", "number_prefix": "通州交调",
        "is_active": "on"})
    body = MediationBody.objects.get(org=org)
    assert response.status_code == 302 and response.url == body.get_absolute_url()
    assert body.type_codes == ["0503"] and body.capacity == 80
    # Bad values: the form again with 400, nothing changed.
    response = admin.post(reverse("disputes:body_edit", args=[body.pk]), {
        "kind": "professional", "capacity": "0", "accept_days": "3", "mediate_days": "30"})
    assert response.status_code == 400
    assert MediationBody.objects.get(pk=body.pk).capacity == 80
    response = admin.post(reverse("disputes:mediator_create", args=[body.pk]), {
        "name": "周调解", "phone": "13900001111", "full_time": "on", "is_active": "on"})
    assert response.status_code == 302
    mediator = Mediator.objects.get(body=body)
    assert mediator.phone == "13900001111" and mediator.full_time
    page = admin.get(body.get_absolute_url()).content.decode()
    assert "周调解" in page and "13900001111" not in page and "139****1111" in page
    response = admin.post(reverse("disputes:mediator_edit", args=[mediator.pk]), {
        "name": "周调解", "speciality": "交通事故", "is_active": ""})
    assert response.status_code == 302
    mediator.refresh_from_db()
    assert not mediator.is_active and mediator.phone == "13900001111"
    # The body's open cases are one link away (for those who read cases).
    page = login(m.dispatcher).get(m.medical_body.get_absolute_url()).content.decode()
    assert f"{reverse('disputes:list')}?body={m.medical_body.pk}&amp;state=open" in page


def test_agreement_templates(m):
    from zhili.disputes.documents import DEFAULT_TEMPLATE

    admin = login(m.world.personas["district_admin"])
    body = m.medical_body
    response = admin.get(reverse("disputes:body_template_download", args=[body.pk]),
                         {"default": "1"})
    assert response.status_code == 200
    default = b"".join(response.streaming_content)
    assert default == DEFAULT_TEMPLATE.read_bytes()
    url = reverse("disputes:body_template", args=[body.pk])
    assert admin.get(url).status_code == 200
    response = admin.post(url, {"template": _upload("坏模板.docx", b"not a word file")})
    assert response.status_code == 400 and not MediationBody.objects.get(
        pk=body.pk).agreement_template
    assert 'class="invalid-feedback' in response.content.decode()
    response = admin.post(url, {"template": _upload("模板.docx", default)})
    assert response.status_code == 302
    assert MediationBody.objects.get(pk=body.pk).agreement_template


# --- the list ------------------------------------------------------------------------------------

def test_list_filters(m):
    medical = register(m)
    neighbour = register(m, type_code="0201", title="邻里漏水纠纷", people_count=6,
                         parties=_other_parties())
    services.route_dispute(actor=m.dispatcher, dispute=medical, body=m.medical_body)
    client = login(m.dispatcher)

    def numbers(**params):
        page = client.get(reverse("disputes:list"), params).content.decode()
        return {d.number for d in (medical, neighbour) if d.number in page}

    assert numbers() == {medical.number, neighbour.number}
    assert numbers(body=m.medical_body.pk) == {medical.number}
    assert numbers(state="registered") == {neighbour.number}
    assert numbers(type_group="02") == {neighbour.number}
    assert numbers(stat_class="medical") == {medical.number}
    assert numbers(group="on") == {neighbour.number}
    assert numbers(mine="on") == {neighbour.number}  # waiting for this centre to route it
    assert numbers(q="漏水") == {neighbour.number}
    assert numbers(q=medical.number) == {medical.number}
    assert numbers(area=m.world.town_a2.prefix) == set()
    assert numbers(overdue="on") == set()
    assert numbers(date_from=(TODAY() + dt.timedelta(days=1)).isoformat()) == set()
    mediator = login(m.mediator_user).get(reverse("disputes:list"), {"mine": "on"})
    assert medical.number in mediator.content.decode()


def test_list_pages_by_keyset(m, monkeypatch):
    monkeypatch.setattr("zhili.disputes.filters.PAGE_SIZE", 2)
    made = [_bare(m, n) for n in range(5)]  # newest last
    client = login(m.dispatcher)
    seen, url, pages = [], reverse("disputes:list"), 0
    params = {}
    while True:
        response = client.get(url, params)
        page = response.context["page"]
        seen += [row.pk for row in page.rows]
        pages += 1
        assert page.count == 5
        if not page.next_cursor:
            break
        params = {"after": page.next_cursor}
    assert seen == [d.pk for d in reversed(made)] and pages == 3
    back = client.get(url, {"before": response.context["page"].prev_cursor}).context["page"]
    assert [row.pk for row in back.rows] == [made[2].pk, made[1].pk]
    assert client.get(url, {"after": "junk"}).status_code == 200


def test_list_query_count_does_not_grow_with_rows(m):
    client = login(m.dispatcher)
    url = reverse("disputes:list")

    def count(params):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url, params).status_code == 200
        return len(ctx.captured_queries)

    for n in range(2):
        _bare(m, n, body=m.medical_body)
    count({})
    few, few_body = count({}), count({"body": m.medical_body.pk})
    for n in range(2, 30):
        _bare(m, n, body=m.town_body if n % 2 else m.medical_body,
              area=m.world.grid_a1 if n % 3 else m.world.village_a1)
    assert count({}) == few
    assert count({"body": m.medical_body.pk}) == few_body


# --- helpers -------------------------------------------------------------------------------------

def _form(response, key):
    """The form of action `key` as the case page shows it."""
    return next(form for action, form in response.context["actions"] if action.key == key)


def _other_parties():
    from zhili.disputes.services import PartyData

    return [PartyData(side="applicant", name="王五", id_number=ID_B),
            PartyData(side="respondent", name="赵六", kind="org", uscc=USCC_B)]


def _mediating(m, **overrides):
    d = register(m, **overrides)
    d = services.route_dispute(actor=m.dispatcher, dispute=d, body=m.medical_body)
    return services.accept_dispute(actor=m.mediator_user, dispute=d,
                                   mediators=[m.mediator, m.mediator2])


def _bare(m, n, *, body=None, area=None):
    """A case row as a bulk import would leave it (the list reads columns only)."""
    area = area or m.world.village_a1
    d = Dispute.objects.create(
        title=f"纠纷{n}", occurred_on=TODAY(), place="某处", area=area, area_code=area.code,
        type_code="0201", stat_class="neighbour", description="-", channel="walk_in",
        body=body, state="assigned" if body else "registered",
        registered_at=timezone.now() - dt.timedelta(hours=100 - n))
    d.number = f"JF{d.pk:010d}"
    d.save(update_fields=["number"])
    return d
