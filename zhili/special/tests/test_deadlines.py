"""The sweep: warn before a visit is due, mark it overdue, climb the ladder; the same for
unanswered handovers."""

import datetime as dt

import pytest

from zhili.core.models import Notification
from zhili.special import handovers, services
from zhili.special.deadlines import sweep_all
from zhili.special.models import Supervision
from zhili.special.tasks import sweep_deadlines

pytestmark = pytest.mark.django_db


def kinds(user):
    return list(Notification.objects.filter(user=user).values_list("kind", flat=True))


def test_visit_warning_overdue_and_escalation(sp):
    s = sp.intake(level="general")  # mental, general: every 30 days
    deadline, version = s.deadline_at, s.version
    assert s.deadline_at - s.warn_at == dt.timedelta(days=3)  # warned three days before
    short = sp.intake(person=sp.li, level="strict")  # every 7 days: a fifth of it
    assert short.deadline_at - short.warn_at == dt.timedelta(days=7) / 5
    services.release(actor=sp.town, supervision=short, reason="mistake")

    assert sweep_all(s.warn_at - dt.timedelta(minutes=1))["visits"]["warned"] == 0
    counts = sweep_all(s.warn_at + dt.timedelta(minutes=1))["visits"]
    assert counts == {"warned": 1, "overdue": 0, "escalated": 0}
    assert "special.visit_due" in kinds(sp.grid_worker)
    assert sweep_all(s.warn_at + dt.timedelta(minutes=2))["visits"]["warned"] == 0  # once

    counts = sweep_all(deadline + dt.timedelta(minutes=1))["visits"]
    assert counts["overdue"] == 1 and counts["escalated"] == 1  # rung 1 fires at once
    s.refresh_from_db()
    assert s.overdue and s.ever_overdue and s.escalation_level == 1 and s.version == version
    assert s.transitions.filter(action="overdue").exists()
    assert "special.visit_overdue" in kinds(sp.grid_worker)
    assert "special.visit_overdue" in kinds(sp.town)  # the town centre
    assert "special.visit_escalation" in kinds(sp.town)
    assert "special.visit_escalation" not in kinds(sp.county)
    assert Supervision.objects.restrict(sp.town).overdue().count() == 1

    counts = sweep_all(deadline + dt.timedelta(days=3, minutes=1))["visits"]
    assert counts["escalated"] == 1
    assert "special.visit_escalation" in kinds(sp.county)  # rung 2: the county centre
    s.refresh_from_db()
    assert s.escalation_level == 2

    # A visit puts the record back on schedule.
    services.record_visit(actor=sp.grid_worker, supervision=s, method="home", findings="补访")
    s.refresh_from_db()
    assert not s.overdue and s.ever_overdue and s.escalation_level == 0
    assert s.deadline_at > deadline


def test_released_records_are_not_swept(sp):
    s = sp.intake()
    services.release(actor=sp.town, supervision=s, reason="term_ended")
    later = dt.datetime(2100, 1, 1, tzinfo=dt.UTC)
    assert sweep_all(later)["visits"] == {"warned": 0, "overdue": 0, "escalated": 0}


def test_an_unanswered_handover_escalates(sp):
    s = sp.intake()
    h = handovers.propose_handover(actor=sp.town, supervision=s,
                                   to_area=sp.world.village_a2.code, reason="搬迁")
    counts = sweep_all(h.warn_at + dt.timedelta(minutes=1))["handovers"]
    assert counts["warned"] == 1 and "special.handover_due" in kinds(sp.town2)
    counts = sweep_all(h.deadline_at + dt.timedelta(minutes=1))["handovers"]
    assert counts["overdue"] == 1 and counts["escalated"] == 1
    h.refresh_from_db()
    assert h.overdue and h.transitions.filter(action="overdue").exists()
    assert "special.handover_overdue" in kinds(sp.county)  # the common upper level
    assert "special.handover_escalation" in kinds(sp.town2)  # rung 1: remind the receiver
    sweep_all(h.deadline_at + dt.timedelta(days=1, minutes=1))
    h.refresh_from_db()
    assert h.escalation_level == 2
    assert kinds(sp.county).count("special.handover_escalation") == 1  # rung 2: upper level
    # Answering stops the clock.
    h = handovers.accept_handover(actor=sp.town2, handover=h)
    assert h.deadline_at is None and not h.overdue


def test_the_sweep_is_a_registered_cron_task(sp):
    from zhili.core.scheduler import registered

    assert "special-sweep" in [job.name for job in registered()]
    assert sweep_deadlines.call() == {"visits": {"warned": 0, "overdue": 0, "escalated": 0},
                                      "handovers": {"warned": 0, "overdue": 0, "escalated": 0}}
