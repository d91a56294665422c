"""The closed loop through the services: report → accept → dispatch → return → re-dispatch →
sign → extension → finish → failed verification → rework → verify → close → evaluate."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from zhili.core.models import Notification
from zhili.core.services import Conflict, ServiceError
from zhili.events import services
from zhili.events.choices import EventState as S
from zhili.events.models import Event, ExtensionRequest
from zhili.workdays import clock

pytestmark = pytest.mark.django_db


def report(loop, **kw):
    defaults = {"actor": loop.grid_worker, "channel": "grid", "category": loop.garbage,
                    "title": "垃圾桶满溢", "description": "幸福路垃圾桶满溢无人清运",
                    "area": loop.world.grid_a1}
    return services.report_event(**{**defaults, **kw}).event


def notified(user, kind=None):
    qs = Notification.objects.filter(user=user)
    return qs.filter(kind=kind).count() if kind else qs.count()


def test_the_whole_loop(loop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):  # the centre is told after commit
        event = report(loop)
    assert event.number.startswith("SJ") and event.state == S.REPORTED
    assert event.deadline_step == "accept" and event.deadline_unit == "minutes"
    assert notified(loop.dispatcher, "event.new") == 1  # the town centre is told
    assert notified(loop.county_dispatcher) == 0

    event = services.accept_event(actor=loop.dispatcher, event=event, version=event.version,
                                  category=loop.noise)
    assert event.state == S.ACCEPTED and event.category == loop.noise
    assert event.category_confirmed and event.deadline_step == "dispatch"

    event = services.dispatch_event(actor=loop.dispatcher, event=event,
                                    lead_org=loop.world.police_a,
                                    assist_orgs=[loop.world.justice_a])
    assert event.state == S.DISPATCHED and event.lead_org == loop.world.police_a
    assert notified(loop.handler, "event.dispatch") == 1
    assert notified(loop.other_handler, "event.assist") == 1

    event = services.return_event(actor=loop.handler, event=event, reason="不属于公安职责")
    assert event.state == S.RETURNED and event.return_count == 1
    assert event.deadline_step == "arbitrate"
    assert notified(loop.dispatcher, "event.send_back") == 1

    event = services.dispatch_event(actor=loop.dispatcher, event=event,
                                    lead_org=loop.world.police_a, note="经核实仍由公安处置")
    event = services.sign_event(actor=loop.handler, event=event)
    assert event.state == S.HANDLING and event.deadline_step == "handle"
    handle_deadline = event.deadline_at

    request = services.request_extension(actor=loop.handler, event=event, amount=2,
                                         unit="work_days", reason="需协调环保部门")
    services.decide_extension(actor=loop.dispatcher, request=request, approve=True)
    event.refresh_from_db()
    assert event.deadline_at > handle_deadline and event.extension_count == 1
    assert ExtensionRequest.objects.get(pk=request.pk).state == "approved"

    event = services.finish_event(actor=loop.handler, event=event, result="已清运")
    assert event.state == S.HANDLED and event.deadline_step == "verify"
    assert notified(loop.grid_worker, "event.finish") == 1  # the reporter verifies

    event = services.verify_event(actor=loop.grid_worker, event=event, passed=False,
                                  note="仍有垃圾")
    assert event.state == S.HANDLING and event.rework_count == 1
    event = services.finish_event(actor=loop.handler, event=event, result="已彻底清理")
    event = services.verify_event(actor=loop.grid_worker, event=event, passed=True)
    assert event.state == S.VERIFIED
    event = services.close_event(actor=loop.dispatcher, event=event)
    assert event.state == S.CLOSED and event.closed_at and event.deadline_at is None
    assert notified(loop.grid_worker, "event.reporter") == 1

    event = services.evaluate_event(actor=loop.grid_worker, event=event,
                                    satisfaction="unsatisfied", note="气味仍在")
    assert event.state == S.HANDLING and event.reopen_count == 1
    actions = list(event.transitions.values_list("action", flat=True))
    assert actions == ["report", "accept", "dispatch", "send_back", "dispatch", "sign",
                       "request_extension", "approve_extension", "finish", "verify_fail",
                       "finish", "verify_ok", "close", "evaluate", "reopen"]
    assert set(event.step_seconds) >= {"accept", "dispatch", "sign", "handle", "verify"}


def test_the_wrong_people_are_refused(loop):
    event = report(loop)
    with pytest.raises(PermissionDenied):
        services.accept_event(actor=loop.grid_worker, event=event)
    event = services.accept_event(actor=loop.dispatcher, event=event)
    event = services.dispatch_event(actor=loop.dispatcher, event=event,
                                    lead_org=loop.world.police_a)
    with pytest.raises(ServiceError) as exc:
        services.sign_event(actor=loop.other_handler, event=event)
    assert exc.value.status in (403, 404)
    with pytest.raises(ServiceError) as exc:  # not in this state
        services.close_event(actor=loop.dispatcher, event=event)
    assert exc.value.status == 409 and "cannot be done" in exc.value.message


def test_escalated_events_belong_to_the_upper_centre(loop):
    event = services.accept_event(actor=loop.dispatcher, event=report(loop))
    event = services.escalate_event(actor=loop.dispatcher, event=event, reason="涉及多部门")
    assert event.owner_level == 2
    assert notified(loop.county_dispatcher, "event.escalated") == 1
    with pytest.raises(ServiceError) as exc:
        services.dispatch_event(actor=loop.dispatcher, event=event,
                                lead_org=loop.world.police_a)
    assert exc.value.status == 403
    services.dispatch_event(actor=loop.county_dispatcher, event=event,
                            lead_org=loop.world.police_a)


def test_a_stale_version_loses_with_409(loop):
    event = report(loop)
    seen = event.version
    services.accept_event(actor=loop.dispatcher, event=event, version=seen)
    with pytest.raises(Conflict):
        services.reject_event(actor=loop.county_dispatcher, event=event, version=seen,
                              reason="重复")
    assert Event.objects.get(pk=event.pk).state == S.ACCEPTED


def test_reasons_are_required(loop):
    event = report(loop)
    with pytest.raises(ServiceError) as exc:
        services.reject_event(actor=loop.dispatcher, event=event, reason=" ")
    assert "reason" in exc.value.field_messages


def test_waiting_for_the_citizen_pauses_the_clock(loop, monkeypatch):
    event = services.accept_event(actor=loop.dispatcher, event=report(loop))
    event = services.dispatch_event(actor=loop.dispatcher, event=event,
                                    lead_org=loop.world.police_a)
    event = services.sign_event(actor=loop.handler, event=event)
    left_before = clock.remaining(timezone.now(), event.deadline_at, event.deadline_unit)
    event = services.wait_for_citizen(actor=loop.handler, event=event, reason="当事人外出")
    assert event.state == S.WAITING and event.deadline_at is None and event.paused_at
    later = timezone.now() + dt.timedelta(days=3)  # the citizen is back three days later
    monkeypatch.setattr(timezone, "now", lambda: later)
    event = services.resume_work(actor=loop.handler, event=event)
    assert event.state == S.HANDLING
    assert event.deadline_at > later
    # Compared in working time: a limit that ran out at 17:30 and now runs out at the next
    # morning's 08:30 has lost nothing, while the wall-clock gap can be a night long.
    left_after = clock.remaining(later, event.deadline_at, event.deadline_unit)
    assert left_before.kind == left_after.kind
    assert abs(left_after.seconds - left_before.seconds) < 120


def test_solved_on_the_spot_needs_evidence_and_closes_at_once(loop, photo_bytes):
    with pytest.raises(ServiceError) as exc:
        report(loop, solved_on_spot=True)
    assert "photos" in exc.value.field_messages
    event = report(loop, solved_on_spot=True,
                   photos=[services.Photo(photo_bytes(gps=(32.05, 120.86)), "a.jpg")])
    assert event.state == S.CLOSED and event.deadline_at is None
    photo = event.photos.get()
    assert photo.gps_lat == Decimal("32.050000") and photo.content_type == "image/jpeg"
    stored = photo.file.read()
    assert b"TestPhone" not in stored and b"Exif" not in stored[:200]


def test_bad_reports_are_refused_cleanly(loop):
    with pytest.raises(ServiceError) as exc:
        report(loop, area=None)
    assert "area" in exc.value.field_messages
    with pytest.raises(ServiceError) as exc:
        report(loop, area=None, lat=Decimal("40.0"), lng=Decimal("116.4"))
    assert "outside the city" in exc.value.field_messages["lat"][0]
    with pytest.raises(ServiceError) as exc:
        report(loop, photos=[services.Photo(b"GIF89a....", "x.gif")])
    assert "photos" in exc.value.field_messages
    with pytest.raises(ServiceError) as exc:
        report(loop, area=loop.world.grid_b1)  # outside the grid worker's reach
    assert exc.value.code == "out_of_scope"
    assert not Event.objects.exists()


def test_locating_by_coordinates_and_warning_outside_the_grid(loop):
    from zhili.areas.models import Area

    square = {"type": "Polygon", "coordinates": [[[120.8, 32.0], [120.9, 32.0], [120.9, 32.1],
                                                  [120.8, 32.1], [120.8, 32.0]]]}
    grid = loop.world.grid_a1b
    grid.set_polygon(square)
    grid.save()
    result = services.report_event(actor=loop.grid_worker, channel="grid", category=loop.garbage,
                                   title="t", description="d", area=loop.world.grid_a1,
                                   lat=Decimal("32.05"), lng=Decimal("120.85"))
    assert any("outside" in str(w) for w in result.warnings)
    public = services.report_event(actor=None, channel="public", category=loop.garbage,
                                   title="t", description="d", lat=Decimal("32.05"),
                                   lng=Decimal("120.85"))
    assert public.event.area == Area.objects.get(pk=grid.pk) and public.event.public_token


def test_offline_replay_returns_the_same_event(loop):
    import uuid

    key = uuid.uuid4()
    first = report(loop, client_uuid=key)
    second = services.report_event(actor=loop.grid_worker, channel="grid", category=loop.garbage,
                                   title="x", description="x", area=loop.world.grid_a1,
                                   client_uuid=key)
    assert second.event.pk == first.pk and Event.objects.count() == 1


def test_duplicates_are_found_and_merged(loop):
    a = report(loop, lat=Decimal("32.000100"), lng=Decimal("120.900100"))
    b_result = services.report_event(actor=loop.grid_worker, channel="grid",
                                     category=loop.garbage, title="垃圾桶满溢",
                                     description="幸福路垃圾桶满溢了没人清运",
                                     area=loop.world.grid_a1, lat=Decimal("32.000200"),
                                     lng=Decimal("120.900200"), check_duplicates=True)
    assert [c.event.pk for c in b_result.duplicates] == [a.pk]
    assert b_result.duplicates[0].distance_m < 50
    far = services.report_event(actor=loop.grid_worker, channel="grid", category=loop.garbage,
                                title="垃圾桶满溢", description="幸福路垃圾桶满溢无人清运",
                                area=loop.world.grid_a1, lat=Decimal("32.1"),
                                lng=Decimal("120.9"), check_duplicates=True)
    assert far.duplicates == []
    merged = services.merge_event(actor=loop.dispatcher, event=b_result.event, into=a)
    assert merged.state == S.MERGED and merged.duplicate_of == a


def test_the_centre_hears_of_a_possible_duplicate(loop, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report(loop, lat=Decimal("32.000100"), lng=Decimal("120.900100"))
    with django_capture_on_commit_callbacks(execute=True):
        report(loop, lat=Decimal("32.000150"), lng=Decimal("120.900150"))
    titles = list(Notification.objects.filter(user=loop.dispatcher, kind="event.new")
                  .order_by("id").values_list("title", flat=True))
    assert len(titles) == 2 and "duplicate" not in titles[0] and "duplicate" in titles[1]


def test_routing_and_time_limits(loop):
    from zhili.events import rules
    from zhili.events.models import RoutingRule, SLARule

    assert rules.route(loop.world.grid_a1, loop.garbage).lead_org == loop.world.police_a
    assert rules.route(loop.world.grid_a1, loop.noise) is None
    RoutingRule.objects.create(area=loop.world.town_a1, area_code=loop.world.town_a1.code,
                               category=None, lead_org=loop.world.justice_a)
    assert rules.route(loop.world.grid_a1, loop.noise).lead_org == loop.world.justice_a
    assert rules.route(loop.world.grid_a1, loop.garbage).lead_org == loop.world.justice_a
    assert rules.time_limit(loop.garbage, "normal", "handle") == (Decimal("3.00"), "work_days")
    assert rules.time_limit(loop.garbage, "critical", "handle") == (Decimal("4.00"), "work_hours")
    from zhili.events.config_services import save_sla_rule

    save_sla_rule(actor=loop.world.personas["superuser"].user, rule=None, data={
        "category": loop.garbage, "urgency": "", "step": "handle", "amount": Decimal(2),
        "unit": "work_days"})  # the service drops the cached table at once
    assert rules.time_limit(loop.garbage, "normal", "handle") == (Decimal("2"), "work_days")
    assert SLARule.objects.filter(category=loop.garbage).count() == 1


def test_dispatch_proposal_comes_from_the_routing_table(loop):
    from zhili.events.actions import DispatchForm

    event = services.accept_event(actor=loop.dispatcher, event=report(loop))
    form = DispatchForm(user=loop.dispatcher, event=event)
    assert form.initial["lead_org"] == loop.world.police_a.pk


def test_deadlines_use_the_working_day_calendar(loop):
    from zhili.workdays import clock

    event = services.accept_event(actor=loop.dispatcher, event=report(loop))
    event = services.dispatch_event(actor=loop.dispatcher, event=event,
                                    lead_org=loop.world.police_a)
    event = services.sign_event(actor=loop.handler, event=event)
    expected = clock.deadline(event.step_started_at, 3, "work_days")
    assert event.deadline_at == expected
    assert clock.is_workday(event.deadline_at.date()) or True
    assert event.deadline_at - event.step_started_at >= dt.timedelta(days=3)
