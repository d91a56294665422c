"""The demo builder fills the 一综多专 registry and lives a year of cases through, writing the rows
the services would have written."""

import pytest
from django.db import connection
from django.utils import timezone

from zhili.accounts.models import Position, Role, User
from zhili.areas.models import Area
from zhili.core import pii
from zhili.disputes.choices import AGREED_OUTCOMES, OPEN_STATES, AlertState
from zhili.disputes.choices import DisputeState as S
from zhili.disputes.demo import build_disputes
from zhili.disputes.models import (
    Agreement,
    Dispute,
    DisputeAlert,
    DisputeStat,
    DisputeTransition,
    MediationBody,
    Mediator,
    Party,
)
from zhili.orgs.models import Organisation
from zhili.people import validation

pytestmark = pytest.mark.django_db

COUNT = 300
MOVES = {  # action → (from states, to state), as the model's transitions allow
    "register": ({""}, S.REGISTERED), "route": ({S.REGISTERED}, S.ASSIGNED),
    "reject": ({S.REGISTERED}, S.REJECTED), "escalate": ({S.REGISTERED}, S.REGISTERED),
    "decline": ({S.ASSIGNED}, S.REGISTERED), "accept": ({S.ASSIGNED}, S.MEDIATING),
    "record_session": ({S.MEDIATING}, S.MEDIATING), "extend": ({S.MEDIATING}, S.MEDIATING),
    "agree": ({S.MEDIATING}, S.AGREED), "agree_orally": ({S.MEDIATING}, S.PERFORMING),
    "fail": ({S.MEDIATING}, S.CLOSED), "withdraw": ({S.MEDIATING}, S.CLOSED),
    "sign": ({S.AGREED}, S.PERFORMING), "follow_up": ({S.PERFORMING}, S.PERFORMING),
    "remediate": ({S.PERFORMING}, S.MEDIATING), "close": ({S.PERFORMING}, S.CLOSED),
}


@pytest.fixture
def demo(m):
    """The mediation world (two bodies with their mediators) plus the organisations the demo
    city has: other towns' committees, county and city professional bodies, a city centre."""
    world = m.world

    def org(name, place):
        return Organisation.objects.create(name=name, kind="mediation", area=place,
                                           area_code=place.code)

    xingdong = org("兴东街道人民调解委员会", world.town_a2)
    org("城东街道人民调解委员会", world.town_b1)
    for category in ("交通事故", "劳动人事争议", "物业纠纷", "消费纠纷", "征地拆迁"):
        org(f"通州区{category}人民调解委员会", world.county_a)
    org("南通市婚姻家庭人民调解委员会", world.city)
    org("南通市律师调解中心", world.city)
    user = User.objects.create_user(username="xd.mediator", password=world.PASSWORD,
                                    display_name="兴东街道调解员")
    Position.objects.create(user=user, role=Role.objects.get(code="mediator"),
                            area=world.town_a2, area_code=world.town_a2.code, org=xingdong)
    areas = {a.code: a for a in Area.objects.all()}
    created = build_disputes(scale="small", areas=areas, orgs={}, today=timezone.localdate(),
                             count=COUNT)
    return m, created, user, areas


def test_registry(demo):
    m, _created, user, _areas = demo
    assert MediationBody.objects.count() == Organisation.objects.filter(
        kind="mediation").count() == 11
    town = MediationBody.objects.get(org__name="兴东街道人民调解委员会")
    assert (town.kind, town.type_codes, town.capacity, town.number_prefix) == \
        ("committee", [], 40, "兴东调")
    traffic = MediationBody.objects.get(org__name="通州区交通事故人民调解委员会")
    assert (traffic.kind, traffic.type_codes, traffic.number_prefix) == \
        ("professional", ["0503"], "通州交调")
    demolition = MediationBody.objects.get(org__name__contains="征地拆迁")
    assert demolition.type_codes == ["1101", "1102", "1103"]
    assert MediationBody.objects.get(org__name="南通市婚姻家庭人民调解委员会").type_codes == ["01"]
    assert MediationBody.objects.get(org__name="南通市律师调解中心").kind == "comprehensive"
    # The bodies the world had keep their settings and mediators.
    m.medical_body.refresh_from_db()
    assert m.medical_body.type_codes == ["0502"] and m.medical_body.mediators.count() == 2
    for body in MediationBody.objects.exclude(pk__in=[m.medical_body.pk, m.town_body.pk]):
        assert 2 <= body.mediators.count() <= 6
        assert all(x.phone and validation.clean_phone(x.phone) for x in body.mediators.all())
    # The mediator account of 兴东 is one of its mediators.
    assert Mediator.objects.get(user=user).body == town
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM disputes_mediator WHERE user_id = %s", [user.pk])
        assert cursor.fetchone()[0].startswith("v1.")


def test_cases_parties_and_states(demo):
    _m, created, _user, _areas = demo
    assert created == Dispute.objects.count() == COUNT
    states = set(Dispute.objects.values_list("state", flat=True))
    assert S.CLOSED in states and len(states & set(OPEN_STATES)) >= 3, states
    closed = Dispute.objects.filter(state=S.CLOSED, outcome__in=["success", "partial",
                                                                  "failure"])
    success = closed.filter(outcome__in=AGREED_OUTCOMES).count()
    assert 0.75 <= success / closed.count() <= 0.98
    assert len(set(Dispute.objects.values_list("number", flat=True))) == COUNT
    assert Dispute.objects.filter(is_group=True, people_count__gte=5).exists()
    assert set(Dispute.objects.values_list("channel", flat=True)) >= {"walk_in", "proactive"}
    persons = list(Party.objects.filter(kind="person"))
    assert persons and all(validation.validate_uscc(p.uscc)[0] == p.uscc
                           for p in Party.objects.filter(kind="org"))
    for party in persons:
        assert pii.validate_id_number(party.id_number).number == party.id_number
        assert party.id_number_bidx
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM disputes_party WHERE kind = 'person'")
        rows = cursor.fetchall()
    assert all(raw_id.startswith("v1.") and raw_phone.startswith("v1.")
               for raw_id, raw_phone in rows)
    assert not any(p.id_number in raw for p in persons[:20] for raw, _ in rows)
    # Some people come back in another case (the repeated-parties alert has something to find).
    repeated = Party.objects.exclude(id_number_bidx="").values("id_number_bidx").distinct()
    assert repeated.count() < len(persons)
    # Open cases run a clock; closed ones none. Bodies count their open cases.
    assert not Dispute.objects.filter(state__in=OPEN_STATES, deadline_at=None).exists()
    assert not Dispute.objects.filter(state=S.CLOSED).exclude(deadline_at=None).exists()
    for body in MediationBody.objects.all():
        assert body.open_cases == body.cases.filter(state__in=[S.ASSIGNED, S.MEDIATING]).count()


def test_agreements_only_on_agreed_cases(demo):
    current = Agreement.objects.filter(is_current=True).select_related("dispute")
    assert current.exists()
    for agreement in current:
        d = agreement.dispute
        if d.remediation_count and agreement.fulfilment == "broken":
            # Broken, mediated again: it stays the case's agreement unless a new one is made.
            assert d.outcome not in AGREED_OUTCOMES
            continue
        assert d.outcome in AGREED_OUTCOMES and d.state in (S.AGREED, S.PERFORMING, S.CLOSED)
        assert agreement.terms and agreement.facts and agreement.performance_due
        if agreement.form == "written":
            assert agreement.number.startswith(d.body.number_prefix + "〔")
            assert (agreement.effective_on is None) == (d.state == S.AGREED)
    assert not Dispute.objects.filter(outcome__in=AGREED_OUTCOMES).exclude(
        agreements__is_current=True).exists()
    for d in Dispute.objects.filter(state=S.CLOSED, outcome="failure"):
        assert d.guidance and d.outcome_note
    assert Agreement.objects.filter(form="oral").exists()


def test_transitions_follow_the_state_machine(demo):
    logs: dict[int, list] = {}
    for t in DisputeTransition.objects.order_by("created_at", "id"):
        logs.setdefault(t.dispute_id, []).append(t)
    for d in Dispute.objects.all():
        rows = logs[d.pk]
        assert rows[0].action == "register" and rows[0].created_at == d.registered_at
        state = ""
        for row in rows:
            assert row.from_state == state, (d.number, [r.action for r in rows])
            if row.action in MOVES:
                sources, target = MOVES[row.action]
                assert state in sources and row.to_state == target, (d.number, row.action)
            else:  # notes and the sweep's rows do not move the case
                assert row.to_state == state
            state = row.to_state
        assert state == d.state, d.number
        actions = [r.action for r in rows]
        if d.state == S.CLOSED and d.outcome in AGREED_OUTCOMES:
            moves = [a for a in actions if a in ("register", "route", "accept", "agree",
                                                 "agree_orally", "sign", "close")]
            if "decline" in actions:  # routed again after the first body declined it
                moves.remove("route")
            assert moves[:3] == ["register", "route", "accept"] and moves[-1] == "close"
            assert moves[-2] in ("agree_orally", "sign")
        if d.ever_overdue:
            assert "overdue" in actions


def test_alerts_statistics_and_idempotence(demo):
    _m, _created, _user, areas = demo
    open_alerts = DisputeAlert.objects.filter(state=AlertState.OPEN)
    assert open_alerts.exists()
    assert open_alerts.filter(dispute__state__in=OPEN_STATES).count() == open_alerts.count()
    assert DisputeStat.objects.filter(dim="area").exists()
    before = (Dispute.objects.count(), DisputeTransition.objects.count(),
              MediationBody.objects.count(), Mediator.objects.count())
    assert build_disputes(scale="small", areas=areas, orgs={}, today=timezone.localdate()) == 0
    assert (Dispute.objects.count(), DisputeTransition.objects.count(),
            MediationBody.objects.count(), Mediator.objects.count()) == before
