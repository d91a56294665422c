"""What a warning, an overdue deadline and each escalation rung mean here (sweep hooks).

Visits: the visitors are warned before a visit is due; when it is overdue the visitors and the
town's governance centre are told; the ladder (`builtin.LADDERS`) then tells the centre, the
county centre, and reminds the visitors. Handovers: the side that must answer is warned; an
unanswered one goes to the common upper level, then the level above it.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import notify, workflow
from zhili.core.models import EscalationStep
from zhili.special import recipients
from zhili.special.choices import HandoverState
from zhili.special.models import Handover, HandoverTransition, Supervision, SupervisionTransition
from zhili.special.services import who

A = EscalationStep.Action


def _records(ids):
    return Supervision.objects.filter(pk__in=ids).select_related("person", "category")


def _due(supervision) -> str:
    return timezone.localtime(supervision.deadline_at).strftime("%m-%d")


def visit_warning(ids) -> None:
    for s in _records(ids):
        notify.notify(recipients.visitors(s), kind="special.visit_due", url=s.get_absolute_url(),
                      title=_("Visit due by %(date)s: %(who)s") % {"date": _due(s), "who": who(s)})


def visit_overdue(ids) -> None:
    rows = []
    for s in _records(ids):
        rows.append(SupervisionTransition(
            supervision=s, action="overdue", from_state=s.state, to_state=s.state,
            actor_name="system", deadline_before=s.deadline_at, deadline_after=s.deadline_at))
        notify.notify([*recipients.visitors(s), *recipients.centre(s.area_code)],
                      kind="special.visit_overdue", url=s.get_absolute_url(),
                      title=_("Visit overdue since %(date)s: %(who)s")
                      % {"date": _due(s), "who": who(s)})
    SupervisionTransition.objects.bulk_create(rows)


def visit_escalation(ids, step: EscalationStep) -> None:
    rows = []
    for s in _records(ids):
        rows.append(SupervisionTransition(
            supervision=s, action="escalation", from_state=s.state, to_state=s.state,
            actor_name="system", data={"level": step.level, "rung": step.action}))
        if step.action == A.NOTIFY_HOLDER:
            people = recipients.visitors(s)
        elif step.action == A.NOTIFY_SUPERVISOR:
            people = recipients.centre(s.area_code)
        else:
            people = recipients.centre(s.area_code, level_up=1)
        notify.notify(people, kind="special.visit_escalation", url=s.get_absolute_url(),
                      title=_("Still no visit (due %(date)s): %(who)s")
                      % {"date": _due(s), "who": who(s)})
    SupervisionTransition.objects.bulk_create(rows)


def _handovers(ids):
    return Handover.objects.filter(pk__in=ids).select_related(
        "supervision__person", "supervision__category", "to_area", "from_area", "arbiter_area")


def _answering(h: Handover, level_up: int = 0) -> list:
    """Who must act on the handover now (the receiving side of a pending one, the arbiters of
    a dispute), or `level_up` rungs above them."""
    if h.state == HandoverState.PENDING:
        if not level_up:
            return recipients.handover_side(h.to_area_code)
        level_up -= 1
    return recipients.arbiters(h.arbiter_area.code, level_up=level_up)


def handover_warning(ids) -> None:
    for h in _handovers(ids):
        notify.notify(_answering(h), kind="special.handover_due", url=h.get_absolute_url(),
                      title=_("Handover of %(who)s to answer by %(date)s")
                      % {"who": who(h.supervision), "date": _due(h)})


def handover_overdue(ids) -> None:
    for h in _handovers(ids):
        workflow.log(h, HandoverTransition, action="overdue", from_state=h.state, actor=None,
                     deadline_before=h.deadline_at)
        people = [*_answering(h), *recipients.handover_side(h.from_area_code),
                  *recipients.arbiters(h.arbiter_area.code)]
        notify.notify(people, kind="special.handover_overdue", url=h.get_absolute_url(),
                      title=_("Handover of %(who)s not answered in time")
                      % {"who": who(h.supervision)})


def handover_escalation(ids, step: EscalationStep) -> None:
    for h in _handovers(ids):
        workflow.log(h, HandoverTransition, action="escalation", from_state=h.state, actor=None,
                     data={"level": step.level, "rung": step.action})
        # A reminder goes to whoever must answer; any other rung one level above them (the
        # common upper level for a pending handover, the level above it for a dispute).
        level_up = 0 if step.action == A.NOTIFY_HOLDER else 1
        notify.notify(_answering(h, level_up), kind="special.handover_escalation",
                      url=h.get_absolute_url(),
                      title=_("Handover of %(who)s still waiting since %(date)s")
                      % {"who": who(h.supervision), "date": _due(h)})


def sweep_all(now=None) -> dict:
    return {"visits": workflow.sweep(Supervision, now),
            "handovers": workflow.sweep(Handover, now)}
