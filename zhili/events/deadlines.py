"""What a warning, an overdue step and each escalation rung mean for events (sweep hooks)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.areas.models import Area
from zhili.core import codes, notify, workflow
from zhili.core.models import EscalationStep
from zhili.events import rules
from zhili.events.choices import EventState
from zhili.events.models import Event, EventTransition, SupervisionOrder

SUPERVISION_ANSWER_DAYS = 1


def _events(ids):
    return Event.objects.filter(pk__in=ids).select_related("area", "category", "lead_org")


def warn(ids) -> None:
    for event in _events(ids):
        notify.notify(rules.holders(event), kind="event.warning", url=event.get_absolute_url(),
                      title=_("%(number)s is due at %(time)s")
                      % {"number": event.number,
                         "time": timezone.localtime(event.deadline_at).strftime("%m-%d %H:%M")})


def mark_overdue(ids) -> None:
    rows = []
    for event in _events(ids):
        rows.append(EventTransition(event=event, action="overdue", from_state=event.state,
                                    to_state=event.state, actor_name="system",
                                    deadline_before=event.deadline_at,
                                    deadline_after=event.deadline_at,
                                    data={"step": event.deadline_step}))
        notify.notify(rules.holders(event), kind="event.overdue", url=event.get_absolute_url(),
                      title=_("%(number)s is overdue") % {"number": event.number})
    EventTransition.objects.bulk_create(rows)


def escalate(ids, step: EscalationStep, now=None) -> None:
    """One rung of the ladder: remind, tell the supervisor, or the upper level's 督办."""
    for event in _events(ids):
        EventTransition.objects.create(event=event, action="escalation", from_state=event.state,
                                       to_state=event.state, actor_name="system",
                                       data={"level": step.level, "rung": step.action})
        if step.action == EscalationStep.Action.NOTIFY_HOLDER:
            notify.notify(rules.holders(event), kind="event.reminder",
                          url=event.get_absolute_url(),
                          title=_("Reminder: %(number)s is overdue") % {"number": event.number})
        elif step.action == EscalationStep.Action.NOTIFY_SUPERVISOR:
            notify.notify(rules.supervisors(event), kind="event.supervisor",
                          url=event.get_absolute_url(),
                          title=_("%(number)s is overdue with %(who)s")
                          % {"number": event.number,
                             "who": event.lead_org or _("the governance centre")})
        else:
            issue_supervision(event, level=step.level, now=now)


def issue_supervision(event: Event, *, level: int, issued_by=None, message: str = "",
                      now=None) -> SupervisionOrder:
    """The level above the dispatching centre orders the holder to act, with its own deadline."""
    centre = rules.centre_area(event)
    upper_level = max(1, centre.level - 1)
    issuer = Area.objects.get(code=codes.pad(codes.prefix_of(event.area_code, upper_level)))
    order = SupervisionOrder(
        event=event, area_code=event.area_code, level=level, issuer_area=issuer,
        issued_by=issued_by, to_org=event.lead_org if event.state in (
            EventState.DISPATCHED, EventState.HANDLING, EventState.WAITING) else None,
        message=message or _("%(number)s is overdue. Deal with it at once and answer this "
                             "order.") % {"number": event.number},
    )
    workflow.set_deadline(order, step="answer", start=now or timezone.now(),
                          amount=SUPERVISION_ANSWER_DAYS, unit="work_days")
    order.save()
    EventTransition.objects.create(event=event, action="supervise", from_state=event.state,
                                   to_state=event.state, actor=issued_by,
                                   actor_name=getattr(issued_by, "username", "system"),
                                   reason=order.message, data={"order": order.pk,
                                                               "issuer": issuer.code})
    notify.notify([*rules.holders(event), *rules.supervisors(event)],
                  kind="event.supervision", url=order.get_absolute_url(),
                  title=_("督办: %(number)s from %(issuer)s")
                  % {"number": event.number, "issuer": issuer.name})
    return order


def supervision_overdue(ids) -> None:
    """An unanswered supervision order goes one level further up."""
    for order in SupervisionOrder.objects.filter(pk__in=ids).select_related("event", "event__area",
                                                                             "issuer_area"):
        event = order.event
        notify.notify(rules.dispatchers(event, level_up=2) or rules.supervisors(event),
                      kind="event.supervision_overdue", url=order.get_absolute_url(),
                      title=_("督办 for %(number)s was not answered in time")
                      % {"number": event.number})


def sweep_all(now=None) -> dict:
    return {
        "events": workflow.sweep(Event, now),
        "supervisions": workflow.sweep(SupervisionOrder, now),
    }
