"""衔接: propose, accept, dispute and arbitrate, withdraw — nobody lost in between."""

import pytest
from django.core.exceptions import PermissionDenied

from zhili.core.models import Notification
from zhili.core.services import ServiceError
from zhili.special import handovers, services
from zhili.special.models import Handover, Supervision

pytestmark = pytest.mark.django_db


def kinds(user):
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def visible(user, record) -> bool:
    return Supervision.objects.restrict(user).filter(pk=record.pk).exists()


def propose(sp, record, to=None, reason="已搬至兴东村居住"):
    return handovers.propose_handover(actor=sp.town, supervision=record,
                                      to_area=to or sp.world.village_a2.code, reason=reason)


def test_a_handover_to_an_area_that_does_not_exist_is_refused(sp):
    s = sp.intake()
    with pytest.raises(ServiceError) as exc:
        propose(sp, s, to="320612999999")
    assert "No area with code 320612999999 exists" in exc.value.field_messages["to_area"][0]
    with pytest.raises(ServiceError) as exc:
        propose(sp, s, to="32061x")
    assert "to_area" in exc.value.field_messages
    with pytest.raises(ServiceError) as exc:  # a county is not a place to hand over to
        propose(sp, s, to=sp.world.county_b.code)
    assert "town/street" in exc.value.field_messages["to_area"][0]
    with pytest.raises(ServiceError) as exc:
        propose(sp, s, to=sp.world.grid_a1.code)
    assert "already responsible" in exc.value.field_messages["to_area"][0]
    with pytest.raises(ServiceError) as exc:
        propose(sp, s, reason=" ")
    assert "reason" in exc.value.field_messages
    s.refresh_from_db()
    assert s.state == "active" and not Handover.objects.exists()


def test_accept_moves_the_record_and_keeps_the_history(sp):
    s = sp.intake()
    services.record_visit(actor=sp.grid_worker, supervision=s, method="home", findings="正常")
    h = propose(sp, s)
    s.refresh_from_db()
    assert s.state == "handing_over" and s.pending_area_code == sp.world.village_a2.code
    assert h.arbiter_area == sp.world.county_a and h.deadline_step == "answer"
    assert "special.handover" in kinds(sp.town2)
    # Both sides see it meanwhile; the sender stays responsible.
    assert visible(sp.town, s) and visible(sp.town2, s) and visible(sp.worker2, s)
    assert Handover.objects.restrict(sp.town2).filter(pk=h.pk).exists()
    with pytest.raises(ServiceError) as exc:
        services.record_visit(actor=sp.worker2, supervision=s, method="home", findings="x")
    assert exc.value.code == "not_responsible"
    services.record_visit(actor=sp.grid_worker, supervision=s, method="phone", findings="在途")
    with pytest.raises(ServiceError):  # the sender cannot answer its own proposal
        handovers.accept_handover(actor=sp.town, handover=h)
    with pytest.raises(ServiceError):  # a release waits for the handover
        services.release(actor=sp.town, supervision=s, reason="left")

    h = handovers.accept_handover(actor=sp.town2, handover=h, note="已对接")
    s.refresh_from_db()
    assert h.state == "accepted" and h.deadline_at is None
    assert s.state == "active" and s.area == sp.world.village_a2 and s.pending_area_code == ""
    assert not visible(sp.town, s) and visible(sp.town2, s)
    # Past visits stay with the area that made them; the history says where it moved.
    assert set(s.visits.values_list("area_code", flat=True)) == {sp.world.grid_a1.code}
    moved = s.transitions.get(action="handover_moved")
    assert moved.data["from"] == sp.world.grid_a1.code
    assert moved.data["to"] == sp.world.village_a2.code
    assert "special.handover_accepted" in kinds(sp.town)
    services.record_visit(actor=sp.worker2, supervision=s, method="home", findings="首次走访")


def test_dispute_goes_to_the_common_upper_level(sp):
    s = sp.intake()
    h = propose(sp, s)
    with pytest.raises(ServiceError):
        handovers.dispute_handover(actor=sp.town2, handover=h, reason="")
    h = handovers.dispute_handover(actor=sp.town2, handover=h, reason="该人员未在本村居住")
    assert h.state == "disputed" and h.deadline_step == "arbitrate"
    assert "special.handover_disputed" in kinds(sp.town) and \
        "special.handover_disputed" in kinds(sp.county)
    s.refresh_from_db()
    assert s.state == "handing_over" and visible(sp.town, s) and visible(sp.town2, s)
    # Only the level above both areas decides.
    with pytest.raises(ServiceError) as exc:
        handovers.arbitrate_handover(actor=sp.town, handover=h, assign=True, note="x")
    assert exc.value.status == 403
    assert handovers.available_actions(h, sp.county) == ["assign", "send_back", "withdraw"]
    h = handovers.arbitrate_handover(actor=sp.county, handover=h, assign=False,
                                     note="经核实仍居住在金沙")
    s.refresh_from_db()
    assert h.state == "returned" and s.state == "active" and s.area == sp.world.grid_a1
    assert not visible(sp.town2, s)

    h2 = propose(sp, s)
    handovers.dispute_handover(actor=sp.town2, handover=h2, reason="不认可")
    h2 = handovers.arbitrate_handover(actor=sp.county, handover=h2, assign=True,
                                      note="已实际居住兴东村")
    s.refresh_from_db()
    assert h2.state == "accepted" and s.area == sp.world.village_a2
    assert list(h2.transitions.values_list("action", flat=True)) == [
        "propose", "dispute", "assign"]


def test_withdraw_and_permissions(sp):
    s = sp.intake()
    with pytest.raises(PermissionDenied):
        handovers.propose_handover(actor=sp.grid_worker, supervision=s,
                                   to_area=sp.world.village_a2.code, reason="x")
    h = propose(sp, s)
    with pytest.raises(ServiceError):  # the receiving side cannot withdraw it
        handovers.withdraw_handover(actor=sp.town2, handover=h)
    h = handovers.withdraw_handover(actor=sp.town, handover=h, note="未搬走")
    s.refresh_from_db()
    assert h.state == "cancelled" and s.state == "active" and s.pending_area_code == ""
    with pytest.raises(ServiceError):  # settled: nothing more to answer
        handovers.accept_handover(actor=sp.town2, handover=h)
