"""The disputes API: the whole loop, every refusal with the field named and nothing written,
optimistic locking, scoping, masked personal data, idempotent intake, the agreement documents,
an API-key client, and the cost of the list."""

import datetime as dt
import json
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from zhili.disputes.models import (
    Agreement,
    Dispute,
    DisputeAlert,
    JudicialConfirmation,
    MediationSession,
    Party,
)
from zhili.disputes.testing import ID_A, ID_B

pytestmark = pytest.mark.django_db

API = "/api/v1/disputes"


def today() -> dt.date:
    return timezone.localdate()


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post(client, url, data=None, **extra):
    return client.post(url, json.dumps(data if data is not None else {}),
                       content_type="application/json", **extra)


def applicant(**overrides):
    return {"side": "applicant", "name": "张三", "id_number": ID_A, "phone": "13812345678",
            "address": "金沙街道人民路1号", **overrides}


def respondent(**overrides):
    return {"side": "respondent", "kind": "org", "name": "南通市某某医院",
            "uscc": "91320612MA1P8BJ532", "representative": "院长 李四", **overrides}


def case(m, **overrides):
    data = {"channel": "walk_in", "title": "医疗费用赔偿纠纷",
            "occurred_on": (today() - dt.timedelta(days=3)).isoformat(),
            "place": "金沙街道某某医院", "area": m.world.village_a1.code, "type_code": "0502",
            "description": "患者术后感染，要求医院赔偿医疗费用。", "amount": "50000",
            "parties": [applicant(), respondent()]}
    data.update(overrides)
    return data


def agreement(**overrides):
    data = {"facts": "患者术后感染。", "issues": "医疗费用由谁承担。",
            "responsibilities": "医院负主要责任。",
            "terms": ["医院一次性赔偿张三人民币三万元。", "双方就此事再无其他争议。"],
            "performance_method": "银行转账", "performance_place": "金沙街道",
            "performance_due": (today() + dt.timedelta(days=10)).isoformat(),
            "place": "金沙街道调解室"}
    data.update(overrides)
    return data


def registered(m, client=None, **overrides) -> dict:
    response = post(client or signed_in(m.dispatcher), API, case(m, **overrides))
    assert response.status_code == 201, response.content
    return response.json()


def act(client, pk, action, data=None):
    return post(client, f"{API}/{pk}/actions/{action}", data)


def version(pk) -> int:
    return Dispute.objects.get(pk=pk).version


def mediating(m) -> tuple[int, Client]:
    """A case routed to the medical body and accepted there; (id, the mediator's client)."""
    dispatcher = signed_in(m.dispatcher)
    pk = registered(m, dispatcher)["id"]
    assert act(dispatcher, pk, "route", {"body_id": m.medical_body.pk,
                                         "version": version(pk)}).status_code == 200
    mediator = signed_in(m.mediator_user)
    response = act(mediator, pk, "accept", {"mediator_ids": [m.mediator.pk, m.mediator2.pk],
                                            "lead_id": m.mediator.pk, "version": version(pk)})
    assert response.status_code == 200, response.content
    return pk, mediator


def agreed(m) -> tuple[int, Client]:
    pk, mediator = mediating(m)
    response = act(mediator, pk, "conclude", {"outcome": "success", "agreement": agreement(),
                                              "version": version(pk)})
    assert response.status_code == 200, response.content
    return pk, mediator


SIGNATURES = [{"name": "张三"}, {"name": "南通市某某医院"}, {"name": "王调解"}]


# --- the loop ------------------------------------------------------------------------------------

def test_the_whole_loop_through_the_api(m):
    from zhili.core.documents import docx_text, pdf_text

    dispatcher = signed_in(m.dispatcher)
    created = post(dispatcher, API, case(m))
    assert created.status_code == 201, created.content
    body = created.json()
    pk = body["id"]
    assert body["state"] == "registered" and body["number"].startswith("JF")
    assert body["proposed_body_id"] == m.medical_body.pk and body["warnings"] == []
    assert {"route", "reject", "escalate", "supervise"} <= set(body["actions"])
    listed = dispatcher.get(API).json()
    assert [r["id"] for r in listed["items"]] == [pk] and listed["next_cursor"] is None
    proposals = dispatcher.get(f"{API}/proposals?type_code=0502&area="
                               f"{m.world.village_a1.code}").json()
    assert proposals[0]["body"]["id"] == m.medical_body.pk and proposals[0]["rank"] == 1

    routed = act(dispatcher, pk, "route", {"body_id": m.medical_body.pk,
                                           "version": body["version"]})
    assert routed.status_code == 200, routed.content
    assert routed.json()["state"] == "assigned" and routed.json()["body_id"] == m.medical_body.pk

    mediator = signed_in(m.mediator_user)
    assert [r["id"] for r in mediator.get(API).json()["items"]] == [pk]
    accepted = act(mediator, pk, "accept", {"mediator_ids": [m.mediator.pk, m.mediator2.pk],
                                            "lead_id": m.mediator.pk,
                                            "version": routed.json()["version"]})
    assert accepted.status_code == 200 and accepted.json()["state"] == "mediating"
    assert accepted.json()["resolve_by"] is not None
    held_at = (timezone.localtime() - dt.timedelta(hours=2)).replace(tzinfo=None)
    session = act(mediator, pk, "session", {"held_at": held_at.isoformat(), "place": "调解室",
                                            "participants": "张三、医院代表",
                                            "record": "第一次调解笔录"})
    assert session.status_code == 200, session.content
    assert MediationSession.objects.get(pk=session.json()["created_id"]).dispute_id == pk
    extended = act(mediator, pk, "extend", {"days": 10, "reason": "需要补充鉴定"})
    assert extended.status_code == 200, extended.content

    concluded = act(mediator, pk, "conclude", {"outcome": "success", "agreement": agreement(),
                                               "version": extended.json()["version"]})
    assert concluded.status_code == 200 and concluded.json()["state"] == "agreed"
    detail = mediator.get(f"{API}/{pk}").json()
    deal = detail["agreement"]
    assert deal["number"].startswith("通州医调〔") and deal["effective_on"] is None
    assert deal["downloads"]["docx"] == f"{API}/{pk}/agreement.docx"

    docx = mediator.get(deal["downloads"]["docx"])
    assert docx.status_code == 200 and docx["Content-Type"].startswith(
        "application/vnd.openxmlformats")
    assert "attachment" in docx["Content-Disposition"]
    text = docx_text(docx.content)
    assert "张三" in text and "南通市某某医院" in text and "医院一次性赔偿张三人民币三万元" in text
    pdf = mediator.get(f"{API}/{pk}/agreement.pdf")
    assert pdf.status_code == 200 and "张三" in pdf_text(pdf.content)

    signed = act(mediator, pk, "sign", {"signatures": SIGNATURES,
                                        "signed_on": today().isoformat()})
    assert signed.status_code == 200 and signed.json()["state"] == "performing"
    deal = mediator.get(f"{API}/{pk}").json()["agreement"]
    assert deal["effective_on"] == today().isoformat()
    assert deal["confirmation_deadline"] == (today() + dt.timedelta(days=30)).isoformat()

    applied = post(mediator, f"{API}/{pk}/confirmations", {"court": "通州区人民法院"})
    assert applied.status_code == 201 and applied.json()["result"] == "pending"
    ruled = post(mediator, f"{API}/{pk}/confirmations/{applied.json()['id']}/ruling",
                 {"result": "valid", "ruling_number": "(2026)苏0612民特1号"})
    assert ruled.status_code == 200 and ruled.json()["result"] == "valid"

    closed = act(mediator, pk, "follow-up", {"visited_on": today().isoformat(),
                                             "method": "phone", "fulfilment": "fulfilled",
                                             "satisfaction": "satisfied"})
    assert closed.status_code == 200 and closed.json()["state"] == "closed"
    detail = dispatcher.get(f"{API}/{pk}").json()
    assert detail["satisfaction"] == "satisfied" and detail["actions"] == []
    assert [t["action"] for t in detail["transitions"]] == [
        "register", "route", "accept", "record_session", "extend", "agree", "sign",
        "apply_confirmation", "ruling", "close"]
    assert [c["ruling_number"] for c in detail["confirmations"]] == ["(2026)苏0612民特1号"]
    assert detail["follow_ups"][0]["fulfilment"] == "fulfilled"
    assert [s["mediators"] for s in detail["sessions"]] == [["王调解"]]
    assert {x["name"]: x["is_lead"] for x in detail["mediators"]} == {"王调解": True,
                                                                     "李调解": False}


def test_failure_escalation_decline_reject_and_supervision(m):
    dispatcher = signed_in(m.dispatcher)
    pk = registered(m)["id"]
    supervised = act(dispatcher, pk, "supervise", {"message": "请尽快分派"})
    assert supervised.status_code == 200 and supervised.json()["created_id"]
    assert Dispute.objects.get(pk=pk).supervised
    assert act(dispatcher, pk, "route", {"body_id": m.medical_body.pk}).status_code == 200
    mediator = signed_in(m.mediator_user)
    declined = act(mediator, pk, "decline", {"reason": "超出受理能力"})
    assert declined.status_code == 200 and declined.json()["state"] == "registered"
    assert declined.json()["body_id"] is None
    escalated = act(dispatcher, pk, "escalate", {"reason": "涉及多部门"})
    assert escalated.status_code == 200 and Dispute.objects.get(pk=pk).owner_level == 2
    county = signed_in(m.county_dispatcher)
    rejected = act(county, pk, "reject", {"reason": "已起诉至法院"})
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"

    other, mediator = mediating(m)
    failed = act(mediator, other, "conclude", {"outcome": "failure", "note": "双方分歧较大",
                                               "guidance": "litigation"})
    assert failed.status_code == 200 and failed.json()["state"] == "closed"


def test_an_oral_agreement_broken_and_mediated_again(m):
    pk, mediator = mediating(m)
    oral = act(mediator, pk, "conclude", {"outcome": "success",
                                          "agreement": agreement(form="oral")})
    assert oral.json()["state"] == "performing"
    assert mediator.get(f"{API}/{pk}/agreement.docx").status_code == 409  # no document
    broken = act(mediator, pk, "follow-up", {"visited_on": today().isoformat(),
                                             "method": "visit", "fulfilment": "broken",
                                             "note": "医院未按期付款"})
    assert broken.status_code == 200
    assert DisputeAlert.objects.filter(dispute_id=pk, kind="escalating").exists()
    again = act(mediator, pk, "remediate", {"reason": "协议未履行，重新调解"})
    assert again.status_code == 200 and again.json()["state"] == "mediating"


def test_from_a_grid_event(m):
    from zhili.events.models import Event, EventCategory

    event = Event.objects.create(title="楼上漏水", description="楼上漏水到楼下",
                                 category=EventCategory.objects.get(code="neighbour-dispute"),
                                 channel="grid", area=m.world.grid_a1,
                                 area_code=m.world.grid_a1.code)
    dispatcher = signed_in(m.dispatcher)
    data = {"event_id": event.pk, "type_code": "0201",
            "parties": [applicant(), applicant(side="respondent", name="李四", id_number=ID_B,
                                               phone="", address="")]}
    response = post(dispatcher, API, data)
    assert response.status_code == 201, response.content
    assert response.json()["channel"] == "event" and response.json()["title"] == "楼上漏水"
    assert response.json()["source_event_id"] == event.pk
    again = post(dispatcher, API, data)
    assert again.status_code == 400 and "event_id" in again.json()["fields"]
    missing = post(dispatcher, API, {**data, "event_id": event.pk + 1000})
    assert missing.status_code == 400 and "event_id" in missing.json()["fields"]


# --- refusals ------------------------------------------------------------------------------------

FUTURE = (dt.date.today() + dt.timedelta(days=5)).isoformat()


@pytest.mark.parametrize("change,status,field", [
    ({"type_code": "9999"}, 400, "type_code"),
    ({"parties": [applicant(id_number=""), respondent()]}, 400, "parties.0.id_number"),
    ({"parties": [applicant(id_number="320612199001011238"), respondent()]}, 400,
     "parties.0.id_number"),
    ({"parties": [applicant(), respondent(uscc="")]}, 400, "parties.1.uscc"),
    ({"parties": [applicant()]}, 400, "parties"),
    ({"parties": [applicant(birth_date="1990-13-01"), respondent()]}, 422,
     "parties.0.birth_date"),
    ({"occurred_on": "2026-02-30"}, 422, "occurred_on"),
    ({"occurred_on": FUTURE}, 400, "occurred_on"),
    ({"occurred_on": None}, 400, "occurred_on"),
    ({"area": "320613001001000"}, 400, "area"),  # 城东社区: outside the town
    ({"area": "999999"}, 400, "area"),
    ({"area": "32x6"}, 400, "area"),
    ({"description": " "}, 400, "description"),
    ({"amount": "很多"}, 422, "amount"),
    ({"channel": "fax"}, 400, "channel"),
    ({"lat": 91}, 422, "lat"),
    ({"event_id": 999999}, 400, "event_id"),
])
def test_bad_intake_names_the_field_and_writes_nothing(m, change, status, field):
    response = post(signed_in(m.dispatcher), API, case(m, **change))
    assert response.status_code == status, response.content
    body = response.json()
    assert field in body["fields"], body
    assert body["message"] and body["code"] in ("invalid", "out_of_scope")
    assert not Dispute.objects.exists() and not Party.objects.exists()


def test_bad_actions_name_the_field_and_write_nothing(m):
    pk, mediator = mediating(m)
    before = version(pk)
    other_body = act(mediator, pk, "accept", {"mediator_ids": [m.town_mediator.pk]})
    assert other_body.status_code == 409  # already accepted: out of order
    cases = [
        ("session", {"place": "调解室", "participants": "张三", "record": "笔录"}, 422,
         "held_at"),
        ("session", {"held_at": (timezone.now() + dt.timedelta(days=1)).isoformat(),
                     "place": "调解室", "participants": "张三", "record": "笔录"}, 400,
         "held_at"),
        ("session", {"held_at": timezone.now().isoformat(), "place": "调解室",
                     "participants": "张三", "record": "笔录",
                     "mediator_ids": [m.town_mediator.pk]}, 400, "mediator_ids"),
        ("extend", {"days": 99, "reason": "x"}, 400, "days"),
        ("extend", {"days": "many", "reason": "x"}, 422, "days"),
        ("conclude", {"outcome": "success"}, 400, "agreement"),
        ("conclude", {"outcome": "success", "agreement": {"facts": ""}}, 400,
         "agreement.facts"),
        ("conclude", {"outcome": "success",
                      "agreement": agreement(performance_due="2020-01-01")}, 400,
         "agreement.performance_due"),
        ("conclude", {"outcome": "failure", "note": "分歧"}, 400, "guidance"),
        ("conclude", {"outcome": "maybe"}, 400, "outcome"),
    ]
    for action, data, status, field in cases:
        response = act(mediator, pk, action, data)
        assert response.status_code == status, (action, data, response.content)
        assert field in response.json()["fields"], (action, response.json())
    empty = act(mediator, pk, "conclude", {"outcome": "success", "agreement": {}}).json()
    assert {"agreement.facts", "agreement.issues", "agreement.terms",
            "agreement.performance_method", "agreement.performance_due"} <= set(empty["fields"])
    assert version(pk) == before
    assert not Agreement.objects.exists() and not MediationSession.objects.exists()
    assert Dispute.objects.get(pk=pk).state == "mediating"


def test_routing_refusals(m):
    dispatcher = signed_in(m.dispatcher)
    pk = registered(m, type_code="0201", title="邻里漏水纠纷")["id"]
    wrong = act(dispatcher, pk, "route", {"body_id": m.medical_body.pk})
    assert wrong.status_code == 400 and "body_id" in wrong.json()["fields"]
    unknown = act(dispatcher, pk, "route", {"body_id": 999999})
    assert unknown.status_code == 400 and "body_id" in unknown.json()["fields"]
    shapeless = act(dispatcher, pk, "route", {"body_id": "the medical one"})
    assert shapeless.status_code == 422 and "body_id" in shapeless.json()["fields"]
    missing = act(dispatcher, pk, "reject", {"reason": "  "})
    assert missing.status_code == 400 and "reason" in missing.json()["fields"]
    assert Dispute.objects.get(pk=pk).state == "registered" and version(pk) == 0


def test_signatures_and_confirmation_refusals(m):
    pk, mediator = agreed(m)
    unsigned = act(mediator, pk, "sign", {"signatures": [{"name": "张三"}, {"name": "王调解"}]})
    assert unsigned.status_code == 400 and "南通市某某医院" in unsigned.json()["fields"][
        "signatures"][0]
    early = post(mediator, f"{API}/{pk}/confirmations", {"court": "通州区人民法院"})
    assert early.status_code == 400 and "applied_on" in early.json()["fields"]
    assert act(mediator, pk, "sign", {"signatures": SIGNATURES}).status_code == 200
    no_court = post(mediator, f"{API}/{pk}/confirmations", {"court": " "})
    assert no_court.status_code == 400 and "court" in no_court.json()["fields"]
    late = post(mediator, f"{API}/{pk}/confirmations",
                {"court": "通州区人民法院", "applied_on": FUTURE})
    assert late.status_code == 400 and "applied_on" in late.json()["fields"]
    assert not JudicialConfirmation.objects.exists()
    applied = post(mediator, f"{API}/{pk}/confirmations", {"court": "通州区人民法院"}).json()
    other, _client = mediating(m)
    elsewhere = post(mediator, f"{API}/{other}/confirmations/{applied['id']}/ruling",
                     {"result": "valid"})
    assert elsewhere.status_code == 404
    bad = post(mediator, f"{API}/{pk}/confirmations/{applied['id']}/ruling", {"result": "ok"})
    assert bad.status_code == 400 and "result" in bad.json()["fields"]
    assert JudicialConfirmation.objects.get().result == "pending"


def test_a_stale_version_and_out_of_order_transitions_are_409(m):
    dispatcher = signed_in(m.dispatcher)
    pk = registered(m)["id"]
    seen = version(pk)
    assert act(dispatcher, pk, "route", {"body_id": m.medical_body.pk,
                                         "version": seen}).status_code == 200
    stale = act(dispatcher, pk, "reject", {"reason": "当事人拒绝调解", "version": seen})
    assert stale.status_code == 409 and stale.json()["code"] == "stale"
    out_of_order = act(dispatcher, pk, "reject", {"reason": "当事人拒绝调解"})
    assert out_of_order.status_code == 409
    assert out_of_order.json()["code"] == "invalid_transition"
    assert "reject" in out_of_order.json()["message"]
    mediator = signed_in(m.mediator_user)
    sign = act(mediator, pk, "sign", {"signatures": SIGNATURES})
    assert sign.status_code == 409 and sign.json()["code"] == "invalid_transition"
    assert act(mediator, pk, "teleport", {}).status_code == 404
    assert Dispute.objects.get(pk=pk).state == "assigned"


def test_scope_and_permissions(m):
    world = m.world
    pk = registered(m, area=world.grid_a1.code)["id"]
    # In reach without the permission: 403, before the body is even read.
    worker = signed_in(world.personas["grid_worker"].user)
    assert worker.get(f"{API}/{pk}").status_code == 200
    assert act(worker, pk, "route", {"body_id": m.medical_body.pk}).status_code == 403
    assert act(worker, pk, "route", {}).status_code == 403
    assert post(worker, f"{API}/{pk}/confirmations", {"court": "x"}).status_code == 403
    # Out of reach: 404, like a missing case.
    sibling = signed_in(world.personas["sibling_admin"].user)
    assert sibling.get(f"{API}/{pk}").status_code == 404
    assert act(sibling, pk, "reject", {"reason": "x"}).status_code == 404
    assert sibling.get(f"{API}/{pk}/agreement.docx").status_code == 404
    other_body = signed_in(m.town_mediator_user)
    act(signed_in(m.dispatcher), pk, "route", {"body_id": m.medical_body.pk})
    assert other_body.get(f"{API}/{pk}").status_code == 404
    assert act(other_body, pk, "accept", {"mediator_ids": [m.town_mediator.pk]}
               ).status_code == 404
    assert other_body.get(API).json()["items"] == []
    # A dispatcher does not mediate.
    assert act(signed_in(m.dispatcher), pk, "accept",
               {"mediator_ids": [m.mediator.pk]}).status_code == 403
    assert Client().get(API).status_code == 401


def test_personal_data_is_masked_and_unmasked_only_on_request(m):
    dispatcher = signed_in(m.dispatcher)
    created = post(dispatcher, API, case(m))
    pk = created.json()["id"]
    responses = [created, dispatcher.get(API), dispatcher.get(f"{API}/{pk}")]
    for response in responses:
        text = response.content.decode()
        assert ID_A not in text and "13812345678" not in text and "人民路1号" not in text
    person = next(p for p in responses[2].json()["parties"] if p["kind"] == "person")
    assert person["id_number"] == "3206**********1232" and person["phone"] == "138****5678"
    assert person["address"] == "金沙街道****" and person["name"] == "张三"
    unmasked = post(dispatcher, "/api/v1/pii/unmask", {
        "model": "disputes.party", "id": person["id"], "fields": ["id_number", "phone"],
        "purpose": "联系当事人核实身份"})
    assert unmasked.status_code == 200, unmasked.content
    assert unmasked.json()["values"] == {"id_number": ID_A, "phone": "13812345678"}
    worker = signed_in(m.world.personas["grid_worker"].user)  # no unmask permission
    assert post(worker, "/api/v1/pii/unmask", {
        "model": "disputes.party", "id": person["id"], "fields": ["id_number"],
        "purpose": "联系当事人核实身份"}).status_code in (403, 404)


def test_client_uuid_makes_intake_idempotent(m):
    dispatcher = signed_in(m.dispatcher)
    key = str(uuid.uuid4())
    first = post(dispatcher, API, case(m, client_uuid=key))
    again = post(dispatcher, API, case(m, client_uuid=key))
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["warnings"]
    assert Dispute.objects.count() == 1 and Party.objects.count() == 2
    # The same key from someone who cannot see that case is a conflict, not a leak.
    sibling_dispatcher = _dispatcher_at(m.world.town_a2)
    response = post(signed_in(sibling_dispatcher), API,
                    case(m, client_uuid=key, area=m.world.village_a2.code))
    assert response.status_code == 409 and "client_uuid" in response.json()["fields"]
    assert str(first.json()["id"]) not in response.content.decode()


def _dispatcher_at(place):
    from zhili.accounts.models import Position, Role, User

    user = User.objects.create_user(username=f"d-{place.pk}", password="x")
    Position.objects.create(user=user, role=Role.objects.get(code="dispatcher"), area=place,
                            area_code=place.code)
    return user


def test_an_api_key_client(m):
    """A hotline (12345) system holding a dispatcher key of the town's centre."""
    from zhili.accounts.models import Role
    from zhili.accounts.services import create_api_key

    superuser = m.world.personas["superuser"].user
    _key, raw = create_api_key(actor=superuser, org=m.world.centre_a1, name="12345 热线",
                               role=Role.objects.get(code="dispatcher"))
    client = Client()
    response = post(client, API, case(m, channel="hotline", external_ref="12345-0001"),
                    HTTP_X_API_KEY=raw)
    assert response.status_code == 201, response.content
    dispute = Dispute.objects.get(pk=response.json()["id"])
    assert dispute.channel == "hotline" and dispute.registered_by is None
    again = post(client, API, case(m, channel="hotline", external_ref="12345-0001"),
                 HTTP_X_API_KEY=raw)
    assert again.status_code == 400 and "external_ref" in again.json()["fields"]
    listed = client.get(f"{API}?channel=hotline", HTTP_X_API_KEY=raw).json()
    assert [r["id"] for r in listed["items"]] == [dispute.pk]
    _key, plain = create_api_key(actor=superuser, org=m.world.centre_a1, name="设备")
    assert post(client, API, case(m), HTTP_X_API_KEY=plain).status_code == 403
    assert client.get(API, HTTP_X_API_KEY="zk_nope").status_code == 401


# --- lists ----------------------------------------------------------------------------------------

def _bulk(m, n, *, start=None, **extra):
    start = start or timezone.now() - dt.timedelta(days=1)
    made = []
    for i in range(n):
        d = Dispute.objects.create(
            title=f"纠纷{i}", occurred_on=today(), place="某地", area=m.world.village_a1,
            area_code=m.world.village_a1.code, type_code=extra.get("type_code", "0201"),
            stat_class="neighbour", description="x", channel="walk_in",
            registered_at=start - dt.timedelta(minutes=i),
            **{k: v for k, v in extra.items() if k != "type_code"})
        made.append(d)
    return made


def test_list_filters_and_keyset_pages(m):
    dispatcher = signed_in(m.dispatcher)
    now = timezone.now()
    neighbours = _bulk(m, 4, start=now - dt.timedelta(hours=1))
    same_time = _bulk(m, 1, start=now - dt.timedelta(hours=1))  # ties with neighbours[0]
    medical = _bulk(m, 2, start=now - dt.timedelta(days=10), type_code="0502",
                    body=m.medical_body, state="assigned", overdue=True, is_group=True)
    expected = sorted(neighbours + same_time + medical,
                      key=lambda d: (d.registered_at, d.pk), reverse=True)
    seen, cursor = [], None
    for _page in range(10):
        url = f"{API}?limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = dispatcher.get(url).json()
        seen += [r["id"] for r in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [d.pk for d in expected]

    def ids(query):
        response = dispatcher.get(f"{API}?{query}")
        assert response.status_code == 200, response.content
        return {r["id"] for r in response.json()["items"]}

    assert ids("type_code=05") == {d.pk for d in medical}
    assert ids(f"body={m.medical_body.pk}") == {d.pk for d in medical}
    assert ids("state=assigned&overdue=true&group=true") == {d.pk for d in medical}
    assert ids("overdue=false") == {d.pk for d in neighbours + same_time}
    since = (timezone.localdate(now) - dt.timedelta(days=1)).isoformat()
    assert ids(f"registered_from={since}") == {d.pk for d in neighbours + same_time}
    until = (timezone.localdate(now) - dt.timedelta(days=5)).isoformat()
    assert ids(f"registered_to={until}") == {d.pk for d in medical}
    assert ids(f"area={m.world.town_a1.code}") == {d.pk for d in expected}
    assert ids("area=320613") == set()
    assert ids("open=false") == set()
    for query, status, field in [("state=lost", 422, "state"), ("cursor=%%%", 400, "cursor"),
                                 ("cursor=bm9wZQ", 400, "cursor"),
                                 (f"registered_from={since}&registered_to={until}", 400,
                                  "registered_to"),
                                 ("limit=1000", 422, "limit")]:
        response = dispatcher.get(f"{API}?{query}")
        assert response.status_code == status and field in response.json()["fields"], query


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["dispatcher", "mediator_user"])
def test_the_list_costs_the_same_for_3_rows_and_for_30(m, who):
    client = signed_in(getattr(m, who))
    url = f"{API}?limit=50&body={m.medical_body.pk}"
    _bulk(m, 3, body=m.medical_body, state="assigned")
    _count(client, API)  # warm-up: session and content-type caches
    few = _count(client, url)
    _bulk(m, 27, body=m.medical_body, state="mediating")
    many = _count(client, url)
    assert len(client.get(url).json()["items"]) == 30
    assert many == few, f"{few} queries for 3 rows, {many} for 30"
    with CaptureQueriesContext(connection) as ctx:
        client.get(url)
    lists = [q["sql"] for q in ctx.captured_queries if '"disputes_dispute"' in q["sql"]]
    assert len(lists) == 1, lists


# --- bodies, proposals, alerts -------------------------------------------------------------------

def test_bodies_and_proposals(m):
    dispatcher = signed_in(m.dispatcher)
    bodies = dispatcher.get(f"{API}/bodies").json()["items"]
    by_id = {b["id"]: b for b in bodies}
    assert set(by_id) == {m.town_body.pk, m.medical_body.pk}  # the county's body serves the town
    assert by_id[m.medical_body.pk]["mediators"] == 2
    assert by_id[m.medical_body.pk]["type_codes"] == ["0502"]
    only = dispatcher.get(f"{API}/bodies?type_code=0201").json()["items"]
    assert [b["id"] for b in only] == [m.town_body.pk]
    m.mediator.phone = "13900001111"
    m.mediator.save()
    detail = dispatcher.get(f"{API}/bodies/{m.medical_body.pk}").json()
    assert {x["name"] for x in detail["active_mediators"]} == {"王调解", "李调解"}
    assert "13900001111" not in json.dumps(detail)
    assert signed_in(m.town_mediator_user).get(
        f"{API}/bodies/{m.medical_body.pk}").status_code == 404

    ranked = dispatcher.get(f"{API}/proposals?type_code=0201&area="
                            f"{m.world.village_a1.code}").json()
    assert [p["body"]["id"] for p in ranked] == [m.town_body.pk]
    assert ranked[0]["reason"]
    unknown = dispatcher.get(f"{API}/proposals?type_code=9999&area={m.world.village_a1.code}")
    assert unknown.status_code == 400 and "type_code" in unknown.json()["fields"]
    outside = dispatcher.get(f"{API}/proposals?type_code=0201&area={m.world.village_b1.code}")
    assert outside.status_code == 400 and "area" in outside.json()["fields"]


def test_alerts_listed_and_handled(m):
    dispatcher = signed_in(m.dispatcher)
    created = registered(m, people_count=8)
    assert created["is_group"] and created["warnings"]
    alerts = dispatcher.get(f"{API}/alerts").json()["items"]
    assert [a["kind"] for a in alerts] == ["group"]
    assert alerts[0]["dispute_number"] == created["number"]
    alert_id = alerts[0]["id"]
    mediator = signed_in(m.mediator_user)  # not their body's case (yet); no routing permission
    assert mediator.get(f"{API}/alerts").json()["items"] == []
    assert post(mediator, f"{API}/alerts/{alert_id}/handle", {"note": "x"}).status_code in (
        403, 404)
    empty = post(dispatcher, f"{API}/alerts/{alert_id}/handle", {"note": " "})
    assert empty.status_code == 400 and "note" in empty.json()["fields"]
    handled = post(dispatcher, f"{API}/alerts/{alert_id}/handle", {"note": "已约谈双方"})
    assert handled.status_code == 200 and handled.json()["state"] == "handled"
    assert dispatcher.get(f"{API}/alerts").json()["items"] == []
    assert len(dispatcher.get(f"{API}/alerts?state=all").json()["items"]) == 1
    twice = post(dispatcher, f"{API}/alerts/{alert_id}/handle", {"note": "再次处理"})
    assert twice.status_code == 400
    assert signed_in(m.world.personas["sibling_admin"].user).post(
        f"{API}/alerts/{alert_id}/handle", "{}", content_type="application/json"
    ).status_code in (403, 404)


def test_openapi_describes_the_disputes_api(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in ("/api/v1/disputes", "/api/v1/disputes/{pk}",
                 "/api/v1/disputes/{pk}/actions/{action}", "/api/v1/disputes/bodies",
                 "/api/v1/disputes/{pk}/confirmations/{confirmation_id}/ruling",
                 "/api/v1/disputes/{pk}/agreement.docx", "/api/v1/disputes/alerts"):
        assert path in paths, path
    assert "DisputeDetail" in schema["components"]["schemas"]
