"""The per-minute sweep: warn before the deadline, mark overdue, climb the ladder."""

import datetime as dt

import pytest
from django.utils import timezone

from zhili.core import workflow
from zhili.core.models import Notification
from zhili.events import services
from zhili.events.deadlines import sweep_all
from zhili.events.models import Event, SupervisionOrder

pytestmark = pytest.mark.django_db


def handling(loop):
    event = services.report_event(actor=loop.grid_worker, channel="grid", category=loop.garbage,
                                  title="t", description="d", area=loop.world.grid_a1).event
    event = services.accept_event(actor=loop.dispatcher, event=event)
    event = services.dispatch_event(actor=loop.dispatcher, event=event,
                                    lead_org=loop.world.police_a)
    return services.sign_event(actor=loop.handler, event=event)


def kinds(user):
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_warning_overdue_and_the_ladder(loop):
    event = handling(loop)
    start, deadline = event.step_started_at, event.deadline_at
    version = event.version
    just_before = event.warn_at + dt.timedelta(seconds=1)
    assert sweep_all(just_before)["events"] == {"warned": 1, "overdue": 0, "escalated": 0}
    assert "event.warning" in kinds(loop.handler)
    assert sweep_all(just_before)["events"]["warned"] == 0  # once only

    late = deadline + dt.timedelta(minutes=1)
    counts = sweep_all(late)["events"]
    assert counts["overdue"] == 1 and counts["escalated"] == 1  # rung 1 fires at 0 minutes
    event.refresh_from_db()
    assert event.overdue and event.ever_overdue and event.escalation_level == 1
    assert event.version == version  # the sweep never makes a user's action stale
    assert "event.supervisor" in kinds(loop.dispatcher)  # the handler's supervisor

    counts = sweep_all(deadline + dt.timedelta(hours=5))["events"]
    assert counts["escalated"] == 1
    order = SupervisionOrder.objects.get(event=event)
    assert order.issuer_area == loop.world.county_a  # the level above the town centre
    assert order.to_org == loop.world.police_a and order.deadline_at > deadline
    assert "event.supervision" in kinds(loop.handler)

    # The order must itself be answered in time; if not, it goes further up.
    assert sweep_all(order.deadline_at + dt.timedelta(minutes=1))["supervisions"]["overdue"] == 1
    order = services.answer_supervision(actor=loop.handler, order=order, answer="已加派人手")
    assert order.state == "answered" and order.deadline_at is None
    assert event.transitions.filter(action="answer_supervision").exists()
    assert start  # the clock started when it was signed


def test_a_transition_resets_the_flags(loop):
    event = handling(loop)
    sweep_all(event.deadline_at + dt.timedelta(minutes=1))
    event.refresh_from_db()
    event = services.finish_event(actor=loop.handler, event=event, result="done")
    assert not event.overdue and event.ever_overdue and event.escalation_level == 0
    assert event.deadline_step == "verify"


def test_paused_events_are_not_swept(loop):
    event = handling(loop)
    services.wait_for_citizen(actor=loop.handler, event=event, reason="外出")
    counts = sweep_all(timezone.now() + dt.timedelta(days=30))["events"]
    assert counts == {"warned": 0, "overdue": 0, "escalated": 0}


def test_sweep_claims_in_batches(loop):
    events = [handling(loop) for _ in range(3)]
    later = max(e.deadline_at for e in events) + dt.timedelta(minutes=1)
    assert workflow.sweep(Event, later, batch=2)["overdue"] == 3
