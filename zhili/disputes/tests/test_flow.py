"""The mediation loop through the services: intake → route → accept → sessions → agreement →
signature → judicial confirmation → follow-up, and every refusal on the way."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from zhili.core import pii
from zhili.core.services import Conflict, ServiceError
from zhili.disputes import rules, services
from zhili.disputes.choices import AlertKind, Fulfilment
from zhili.disputes.choices import DisputeState as S
from zhili.disputes.models import Agreement, Dispute, DisputeAlert, DisputeTransition, Party
from zhili.disputes.testing import ID_A, ID_B, parties, register

pytestmark = pytest.mark.django_db

TODAY = dt.date.today


def agreement(**overrides):
    values = {"facts": "患者术后感染。", "issues": "医疗费用由谁承担。",
              "responsibilities": "医院负主要责任。",
              "terms": ["医院一次性赔偿张三人民币三万元。", "双方就此事再无其他争议。"],
              "performance_method": "银行转账", "performance_place": "金沙街道",
              "performance_due": TODAY() + dt.timedelta(days=10), "place": "金沙街道调解室"}
    values.update(overrides)
    return services.AgreementData(**values)


def mediated(m):
    d = register(m)
    d = services.route_dispute(actor=m.dispatcher, dispute=d, body=m.medical_body)
    return services.accept_dispute(actor=m.mediator_user, dispute=d,
                                   mediators=[m.mediator, m.mediator2])


def test_intake_encrypts_parties_and_proposes_the_professional_body(m):
    d = register(m)
    assert d.state == S.REGISTERED and d.number.startswith("JF")
    assert d.proposed_body == m.medical_body  # 0502 beats the town's every-type committee
    assert d.stat_class == "medical" and d.scale == "01" and not d.is_group
    assert d.deadline_step == "route" and d.deadline_at is not None
    person = Party.objects.get(dispute=d, kind="person")
    assert person.id_number == ID_A and person.is_main
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM disputes_party WHERE id = %s", [person.pk])
        raw_id, raw_phone = cursor.fetchone()
    assert ID_A not in raw_id and "13812345678" not in raw_phone
    assert Party.objects.filter(pii.lookup_q(Party, "id_number", ID_A)).count() == 1


def test_neighbour_dispute_goes_to_the_town_committee(m):
    found = rules.candidates("0201", m.world.village_a1)
    assert [c.body for c in found] == [m.town_body]


def test_the_whole_loop(m):
    d = mediated(m)
    assert d.state == S.MEDIATING and d.lead_mediator == m.mediator
    assert d.resolve_by == timezone.localtime(d.deadline_at).date()
    m.medical_body.refresh_from_db()
    assert m.medical_body.open_cases == 1
    for day in (2, 1):
        services.record_session(actor=m.mediator_user, dispute=d,
                                held_at=timezone.now() - dt.timedelta(hours=day),
                                place="调解室", participants="张三、医院代表",
                                record=f"第{day}次调解笔录")
    assert d.sessions.count() == 2
    d = services.conclude_dispute(actor=m.mediator_user, dispute=d, outcome="success",
                                  agreement=agreement())
    assert d.state == S.AGREED and d.deadline_step == "sign"
    deal = d.current_agreement()
    assert deal.number.startswith("通州医调〔") and deal.effective_on is None
    with pytest.raises(ServiceError) as exc:
        services.sign_agreement(actor=m.mediator_user, dispute=d,
                                signatures=[{"name": "张三"}, {"name": "王调解"}])
    assert "南通市某某医院" in exc.value.field_messages["signatures"][0]
    d = services.sign_agreement(actor=m.mediator_user, dispute=d, signatures=[
        {"name": "张三"}, {"name": "南通市某某医院"}, {"name": "王调解"}])
    assert d.state == S.PERFORMING and d.current_agreement().effective_on == TODAY()
    confirmation = services.apply_for_confirmation(actor=m.mediator_user, dispute=d,
                                                   court="通州区人民法院")
    services.record_ruling(actor=m.mediator_user, confirmation=confirmation, result="valid",
                           ruling_number="(2026)苏0612民特1号")
    services.record_follow_up(actor=m.mediator_user, dispute=d, visited_on=TODAY(),
                              method="phone", fulfilment="fulfilled", satisfaction="satisfied")
    d.refresh_from_db()
    assert d.state == S.CLOSED and d.satisfaction == "satisfied" and d.deadline_at is None
    assert d.current_agreement().fulfilment == Fulfilment.FULFILLED
    m.medical_body.refresh_from_db()
    assert m.medical_body.open_cases == 0
    actions = list(DisputeTransition.objects.filter(dispute=d).values_list("action", flat=True))
    assert actions == ["register", "route", "accept", "record_session", "record_session",
                       "agree", "sign", "apply_confirmation", "ruling", "close"]


def test_a_body_that_does_not_serve_the_type_is_refused(m):
    d = register(m, type_code="0201", title="邻里漏水纠纷")
    with pytest.raises(ServiceError) as exc:
        services.route_dispute(actor=m.dispatcher, dispute=d, body=m.medical_body)
    assert "body" in exc.value.field_messages
    assert Dispute.objects.get(pk=d.pk).state == S.REGISTERED


def test_decline_goes_back_to_the_centre(m):
    d = services.route_dispute(actor=m.dispatcher, dispute=register(m), body=m.medical_body)
    d = services.decline_dispute(actor=m.mediator_user, dispute=d, reason="超出受理能力")
    assert d.state == S.REGISTERED and d.body is None and d.decline_count == 1


def test_another_body_cannot_act(m):
    d = services.route_dispute(actor=m.dispatcher, dispute=register(m), body=m.medical_body)
    with pytest.raises(ServiceError) as exc:
        services.accept_dispute(actor=m.town_mediator_user, dispute=d,
                                mediators=[m.town_mediator])
    assert exc.value.status in (403, 404)


def test_a_stale_version_loses_with_409(m):
    d = register(m)
    seen = d.version
    services.route_dispute(actor=m.dispatcher, dispute=d, body=m.medical_body, version=seen)
    with pytest.raises(Conflict):
        services.reject_dispute(actor=m.dispatcher, dispute=d, reason="当事人拒绝调解",
                                version=seen)


def test_transitions_out_of_order_are_refused(m):
    d = register(m)
    admin = m.world.personas["superuser"].user
    with pytest.raises(Conflict) as exc:
        services.conclude_dispute(actor=admin, dispute=d, outcome="failure",
                                  guidance="litigation", note="x")
    assert exc.value.code == "invalid_transition"
    with pytest.raises(ServiceError):
        services.sign_agreement(actor=admin, dispute=d, signatures=[{"name": "张三"}])
    with pytest.raises(PermissionDenied):  # a dispatcher does not mediate
        services.accept_dispute(actor=m.dispatcher, dispute=d, mediators=[m.mediator])
    assert Dispute.objects.get(pk=d.pk).state == S.REGISTERED


@pytest.mark.parametrize("change,field", [
    ({"type_code": "9999"}, "type_code"),
    ({"area": None}, "area"),
    ({"occurred_on": TODAY() + dt.timedelta(days=2)}, "occurred_on"),
    ({"description": " "}, "description"),
    ({"amount": "很多"}, "amount"),
    ({"parties": parties(id_number="320612199001011238")}, "parties.0.id_number"),
    ({"parties": parties(id_number="")}, "parties.0.id_number"),
    ({"parties": parties()[:1]}, "parties"),
])
def test_bad_intake_names_the_field_and_writes_nothing(m, change, field):
    with pytest.raises(ServiceError) as exc:
        register(m, **change)
    assert field in exc.value.field_messages, exc.value.field_messages
    assert not Dispute.objects.exists() and not Party.objects.exists()


def test_an_agreement_without_its_required_contents_is_refused(m):
    d = mediated(m)
    with pytest.raises(ServiceError) as exc:
        services.conclude_dispute(actor=m.mediator_user, dispute=d, outcome="success",
                                  agreement=agreement(facts="", terms=[],
                                                      performance_method=""))
    assert {"facts", "terms", "performance_method"} <= set(exc.value.field_messages)
    assert not Agreement.objects.exists()
    assert Dispute.objects.get(pk=d.pk).state == S.MEDIATING


def test_confirmation_after_thirty_days_is_refused(m):
    d = mediated(m)
    d = services.conclude_dispute(actor=m.mediator_user, dispute=d, outcome="success",
                                  agreement=agreement())
    d = services.sign_agreement(actor=m.mediator_user, dispute=d,
                                signed_on=TODAY() - dt.timedelta(days=31),
                                signatures=[{"name": "张三"}, {"name": "南通市某某医院"},
                                            {"name": "李调解"}])
    with pytest.raises(ServiceError) as exc:
        services.apply_for_confirmation(actor=m.mediator_user, dispute=d, court="通州区人民法院")
    assert "30" in exc.value.field_messages["applied_on"][0]


def test_failure_needs_guidance_and_closes(m):
    d = mediated(m)
    with pytest.raises(ServiceError) as exc:
        services.conclude_dispute(actor=m.mediator_user, dispute=d, outcome="failure",
                                  note="双方分歧较大")
    assert "guidance" in exc.value.field_messages
    d = services.conclude_dispute(actor=m.mediator_user, dispute=d, outcome="failure",
                                  note="双方分歧较大", guidance="litigation")
    assert d.state == S.CLOSED and d.guidance == "litigation"


def test_a_broken_agreement_is_mediated_again(m):
    d = mediated(m)
    d = services.conclude_dispute(actor=m.mediator_user, dispute=d, outcome="success",
                                  agreement=agreement(form="oral"))
    assert d.state == S.PERFORMING  # an oral agreement is in force at once
    services.record_follow_up(actor=m.mediator_user, dispute=d, visited_on=TODAY(),
                              method="visit", fulfilment="broken", note="医院未按期付款")
    assert DisputeAlert.objects.filter(dispute=d, kind=AlertKind.ESCALATING).exists()
    d = services.remediate_dispute(actor=m.mediator_user, dispute=Dispute.objects.get(pk=d.pk),
                                   reason="协议未履行，重新调解")
    assert d.state == S.MEDIATING and d.remediation_count == 1
    d = services.conclude_dispute(actor=m.mediator_user, dispute=d, outcome="success",
                                  agreement=agreement())
    assert Agreement.objects.filter(dispute=d).count() == 2
    assert d.current_agreement().form == "written"


def test_group_and_repeat_alerts(m):
    first = register(m, people_count=8)
    assert first.is_group and first.scale == "02"
    assert DisputeAlert.objects.filter(dispute=first, kind=AlertKind.GROUP).exists()
    second = register(m, title="再次纠纷")
    alert = DisputeAlert.objects.get(dispute=second, kind=AlertKind.REPEAT_PARTIES)
    assert alert.related == [first.pk]
    register(m, title="第三次", parties=parties(id_number=ID_B))
    assert DisputeAlert.objects.filter(kind=AlertKind.REPEAT_PLACE).count() == 1


def test_escalation_and_the_sweep(m):
    d = register(m)
    d = services.escalate_dispute(actor=m.dispatcher, dispute=d, reason="涉及多部门")
    assert d.owner_level == 2
    with pytest.raises(ServiceError):  # the town no longer routes it
        services.route_dispute(actor=m.dispatcher, dispute=d, body=m.medical_body)
    d = services.route_dispute(actor=m.county_dispatcher, dispute=d, body=m.medical_body)
    from zhili.disputes.deadlines import sweep_all

    counts = sweep_all(now=d.deadline_at + dt.timedelta(days=2))
    assert counts["disputes"]["overdue"] == 1 and counts["disputes"]["escalated"] == 2
    d.refresh_from_db()
    assert d.overdue and d.supervised
    assert DisputeAlert.objects.filter(dispute=d, kind=AlertKind.OVERDUE).exists()
    order = d.supervisions.get()
    services.answer_supervision(actor=m.mediator_user, order=order, answer="已联系双方，明日调解")
    order.refresh_from_db()
    assert order.state == "answered"


def test_from_a_grid_event(m):
    from zhili.events.models import Event, EventCategory
    from zhili.events.seed import seed

    category = EventCategory.objects.get(code="neighbour-dispute")
    event = Event.objects.create(title="楼上漏水", description="楼上漏水到楼下", category=category,
                                 channel="grid", area=m.world.grid_a1,
                                 area_code=m.world.grid_a1.code)
    d = services.register_from_event(actor=m.dispatcher, event=event, type_code="0201",
                                     parties=parties())
    assert d.dispute.source_event == event and d.dispute.channel == "event"
    with pytest.raises(ServiceError):
        services.register_from_event(actor=m.dispatcher, event=event, type_code="0201",
                                     parties=parties())
    other = Event.objects.create(title="垃圾", category=EventCategory.objects.get(code="garbage"),
                                 channel="grid", area=m.world.grid_a1,
                                 area_code=m.world.grid_a1.code)
    with pytest.raises(ServiceError) as exc:
        services.register_from_event(actor=m.dispatcher, event=other, type_code="0201",
                                     parties=parties())
    assert "event" in exc.value.field_messages
    assert seed


def test_the_agreement_documents_carry_the_parties_and_are_audited(m):
    from zhili.core.documents import docx_text, pdf_text
    from zhili.core.models import AuditLog
    from zhili.disputes.documents import download_agreement

    d = services.conclude_dispute(actor=m.mediator_user, dispute=mediated(m), outcome="success",
                                  agreement=agreement())
    content, name, kind = download_agreement(actor=m.mediator_user, dispute=d, fmt="docx")
    text = docx_text(content)
    assert "张三" in text and "南通市某某医院" in text and ID_A in text
    assert "医院一次性赔偿张三人民币三万元" in text and name.endswith(".docx")
    pdf, _name, kind = download_agreement(actor=m.mediator_user, dispute=d, fmt="pdf")
    assert kind == "application/pdf" and "张三" in pdf_text(pdf)
    assert AuditLog.objects.filter(action="dispute.agreement.download").count() == 2


def test_the_centre_records_a_withdrawal_before_routing(m):
    d = services.conclude_dispute(actor=m.dispatcher, dispute=register(m), outcome="withdrawn",
                                  note="申请人撤回")
    assert d.state == S.CLOSED and d.outcome == "withdrawn"
