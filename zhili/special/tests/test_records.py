"""Intake, details, risk and level, helper team, visits, lost contact and release — through
the services, with the bad inputs of the issue."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.utils import timezone

from zhili.core.models import AuditLog, Notification
from zhili.core.services import Conflict, ServiceError
from zhili.special import services
from zhili.special.models import RiskChange, Supervision, Visit

from .conftest import CULT_DETAILS, MENTAL_DETAILS, id_number

pytestmark = pytest.mark.django_db


def kinds(user):
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_intake_plans_the_first_visit_and_tells_the_grid(sp):
    before = timezone.now()
    s = sp.intake()
    assert s.state == "active" and s.area == sp.world.grid_a1 and s.area_code == sp.zhang.area_code
    assert s.details["diagnosis"] == "01" and s.details["on_subsistence"] is False
    assert s.details["managers"] == ["01", "02"]
    # 严管 mental disorder patients are visited every 7 days (calendar days by default).
    assert s.deadline_step == "visit"
    assert dt.timedelta(days=7) <= s.deadline_at - before < dt.timedelta(days=7, minutes=5)
    assert s.warn_at < s.deadline_at
    assert RiskChange.objects.get(supervision=s).to_level == "3"
    assert s.transitions.filter(action="intake").exists()
    assert AuditLog.objects.filter(action="special.intake", target_id=str(s.pk)).exists()
    assert "special.intake" in kinds(sp.grid_worker)
    title = Notification.objects.get(user=sp.grid_worker, kind="special.intake").title
    assert "张**" in title and "张三丰" not in title  # names are masked in notifications


def test_a_person_already_under_management_in_the_category_is_refused(sp):
    first = sp.intake()
    with pytest.raises(ServiceError) as exc:
        sp.intake(level="key")
    assert exc.value.code == "already_managed" and exc.value.status == 409
    message = exc.value.field_messages["category"][0]
    assert "already under management" in message and sp.mental.name in message
    assert Supervision.objects.filter(person=sp.zhang).count() == 1
    # Another category is fine, and so is a new intake after release.
    sp.intake(category=sp.cult)
    services.release(actor=sp.town, supervision=first, reason="risk_cleared")
    again = sp.intake(level="general")
    assert again.pk != first.pk and Supervision.objects.open().filter(
        person=sp.zhang, category=sp.mental).count() == 1


def test_invalid_details_get_field_level_errors_and_nothing_is_written(sp):
    bad = {**MENTAL_DETAILS, "diagnosis": "42", "first_onset_on": "2999-01-01",
           "incident_count": "many", "colour": "blue"}
    bad.pop("treatment")
    with pytest.raises(ServiceError) as exc:
        sp.intake(details=bad, risk_level="high", level="loose")
    fields = exc.value.field_messages
    assert "Unknown code 42" in fields["details.diagnosis"][0]
    assert "future" in fields["details.first_onset_on"][0]
    assert "whole number" in fields["details.incident_count"][0]
    assert "required" in fields["details.treatment"][0]
    assert "colour" in fields["details"][0]
    assert "risk levels of this category" in fields["risk_level"][0]  # mental uses 0–5
    assert "level" in fields
    assert not Supervision.objects.exists() and not AuditLog.objects.filter(
        action="special.intake").exists()


def test_dates_that_cannot_precede_another(sp):
    details = {**CULT_DETAILS, "involved_since": "2020-05-01", "transformed_on": "2019-01-01"}
    with pytest.raises(ServiceError) as exc:
        sp.intake(category=sp.cult, details=details)
    assert "Cannot be before" in exc.value.field_messages["details.transformed_on"][0]


def test_find_person_by_id_number(sp):
    number = id_number("320612", "19800101", "123")
    assert services.find_person(actor=sp.town, id_number=number.lower()) == sp.zhang
    bad = number[:-1] + ("0" if number[-1] != "0" else "1")
    with pytest.raises(ServiceError) as exc:
        services.find_person(actor=sp.town, id_number=bad)
    assert "check" in exc.value.field_messages["id_number"][0].lower()
    with pytest.raises(ServiceError) as exc:  # valid, but not registered in reach
        services.find_person(actor=sp.town, id_number=id_number("320613", "19851212", "468"))
    assert "Nobody with this ID number" in exc.value.field_messages["id_number"][0]


def test_only_holders_of_the_permission_put_people_under_management(sp):
    with pytest.raises(PermissionDenied):
        sp.intake(actor=sp.grid_worker)
    with pytest.raises(ServiceError):  # the town centre cannot reach 崇川区's residents
        sp.intake(person=sp.far)


def test_visit_restarts_the_clock_and_proposes_a_risk_change(sp, jpeg_bytes):
    s = sp.intake()
    old_deadline = s.deadline_at
    visited = timezone.now() - dt.timedelta(hours=1)
    visit = services.record_visit(
        actor=sp.grid_worker, supervision=s, method="home", findings="按时服药，情绪稳定",
        visited_at=visited, place="家中", lat="32.07", lng="120.86", risk_proposed="2",
        photos=[services.Photo(jpeg_bytes(), "a.jpg")])
    s.refresh_from_db()
    assert s.last_visit_at == visited and s.deadline_at != old_deadline
    assert visit.next_due_at == s.deadline_at
    assert visit.photos.count() == 1 and visit.area_code == s.area_code
    # A grid worker only proposes; the centre confirms.
    assert s.risk_level == "3" and s.proposed_risk == "2"
    assert "special.risk_proposed" in kinds(sp.town)
    s = services.change_risk(actor=sp.town, supervision=s, risk_level="2",
                             reason="随访确认病情稳定")
    assert s.risk_level == "2" and s.proposed_risk == ""
    assert list(s.risk_changes.values_list("to_level", flat=True)) == ["3", "2"]
    # The centre's own visit applies its risk change at once, with the findings as reason.
    services.record_visit(actor=sp.town, supervision=s, method="phone",
                          findings="家属反映近期有打砸行为", risk_proposed="4")
    s.refresh_from_db()
    assert s.risk_level == "4"
    assert s.risk_changes.last().reason == "家属反映近期有打砸行为"


def test_visit_errors(sp):
    s = sp.intake()
    with pytest.raises(ServiceError) as exc:
        services.record_visit(actor=sp.grid_worker, supervision=s, method="telepathy",
                              findings="", visited_at=timezone.now() + dt.timedelta(days=1),
                              risk_proposed="9", lat="1", lng=None)
    fields = exc.value.field_messages
    assert {"method", "findings", "visited_at", "risk_proposed", "lat"} <= set(fields)
    assert not Visit.objects.exists()


def test_a_visit_for_someone_not_under_management_is_refused(sp):
    s = sp.intake()
    services.release(actor=sp.town, supervision=s, reason="deceased", note="病故")
    with pytest.raises(ServiceError) as exc:
        services.record_visit(actor=sp.grid_worker, supervision=s, method="home",
                              findings="上门")
    assert exc.value.code == "not_under_management" and exc.value.status == 409
    assert "not under management" in exc.value.message
    assert not Visit.objects.exists()


def test_an_unmet_visit_keeps_the_clock(sp):
    s = sp.intake()
    deadline = s.deadline_at
    services.record_visit(actor=sp.grid_worker, supervision=s, method="home",
                          findings="家中无人", contact_made=False)
    s.refresh_from_db()
    assert s.deadline_at == deadline and s.last_visit_at is None


def test_level_change_moves_the_next_visit(sp):
    s = sp.intake(level="strict")
    strict_due = s.deadline_at
    with pytest.raises(ServiceError):
        services.change_level(actor=sp.town, supervision=s, level="general", reason="")
    s = services.change_level(actor=sp.town, supervision=s, level="general",
                              reason="病情稳定一年")
    assert s.deadline_at > strict_due + dt.timedelta(days=20)
    with pytest.raises(ServiceError):
        services.change_risk(actor=sp.town, supervision=s, risk_level="3", reason="同级")


def test_stale_versions_are_refused(sp):
    s = sp.intake()
    services.change_risk(actor=sp.town, supervision=s, risk_level="2", reason="好转",
                         version=s.version)
    with pytest.raises(Conflict):
        services.change_risk(actor=sp.town, supervision=s, risk_level="1", reason="好转",
                             version=s.version)


def test_helper_team_phone_is_encrypted_and_validated(sp):
    s = sp.intake()
    with pytest.raises(ServiceError) as exc:
        services.add_helper(actor=sp.town, supervision=s, helper=services.Helper(
            role="guardian", name="张母", phone="12345"))
    assert "phone" in exc.value.field_messages
    member = services.add_helper(actor=sp.town, supervision=s, helper=services.Helper(
        role="guardian", name="张母", phone="139 0513 7788", relation="母亲",
        id_number=id_number("320612", "19550303", "222")))
    assert member.phone == "13905137788"
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone, id_number FROM special_helpermember")
        raw_phone, raw_id = cursor.fetchone()
    assert "13905137788" not in raw_phone and "19550303" not in raw_id
    services.remove_helper(actor=sp.town, supervision=s, helper_id=member.pk, reason="迁出")
    with pytest.raises(ServiceError):
        services.remove_helper(actor=sp.town, supervision=s, helper_id=member.pk)


def test_lost_contact_alerts_the_centre_and_a_visit_clears_it(sp):
    s = sp.intake()
    with pytest.raises(ServiceError):
        services.mark_lost_contact(actor=sp.grid_worker, supervision=s, note="")
    s = services.mark_lost_contact(actor=sp.grid_worker, supervision=s,
                                   note="连续三次上门未见，电话关机")
    assert s.lost_contact and s.lost_contact_since
    assert "special.lost_contact" in kinds(sp.town)
    assert "special.lost_contact" in kinds(sp.county)
    assert Supervision.objects.restrict(sp.town).filter(lost_contact=True).count() == 1
    services.record_visit(actor=sp.grid_worker, supervision=s, method="home",
                          findings="已返回家中")
    s.refresh_from_db()
    assert not s.lost_contact and s.transitions.filter(action="found").exists()


def test_release(sp):
    s = sp.intake()
    with pytest.raises(ServiceError) as exc:
        services.release(actor=sp.town, supervision=s, reason="other")
    assert "note" in exc.value.field_messages
    with pytest.raises(ServiceError):
        services.release(actor=sp.town, supervision=s, reason="term_ended",
                         released_on=s.started_on - dt.timedelta(days=1))
    with pytest.raises(PermissionDenied):
        services.release(actor=sp.grid_worker, supervision=s, reason="term_ended")
    s = services.release(actor=sp.town, supervision=s, reason="term_ended", note="期满")
    assert s.state == "released" and s.deadline_at is None and s.release_reason == "term_ended"
    assert s.transitions.filter(action="release").exists()
    with pytest.raises(ServiceError):  # once released, nothing more happens to it
        services.change_risk(actor=sp.town, supervision=s, risk_level="1", reason="x")
