"""What a warning, an overdue step and each escalation rung mean for disputes (sweep hooks)."""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import notify, workflow
from zhili.core.models import EscalationStep
from zhili.disputes import rules
from zhili.disputes.choices import AlertKind, Step
from zhili.disputes.models import Dispute, DisputeSupervision, DisputeTransition


def _cases(ids):
    return Dispute.objects.filter(pk__in=ids).select_related("area", "body", "body__org")


def warn(ids) -> None:
    for dispute in _cases(ids):
        notify.notify(rules.holders(dispute), kind="dispute.warning",
                      url=dispute.get_absolute_url(),
                      title=_("%(number)s is due at %(time)s")
                      % {"number": dispute.number, "time": timezone.localtime(
                          dispute.deadline_at).strftime("%m-%d %H:%M")})


def mark_overdue(ids) -> None:
    from zhili.disputes.services import raise_alert

    rows = []
    for dispute in _cases(ids):
        rows.append(DisputeTransition(dispute=dispute, action="overdue",
                                      from_state=dispute.state, to_state=dispute.state,
                                      actor_name="system", deadline_before=dispute.deadline_at,
                                      deadline_after=dispute.deadline_at,
                                      data={"step": dispute.deadline_step}))
        notify.notify(rules.holders(dispute), kind="dispute.overdue",
                      url=dispute.get_absolute_url(),
                      title=_("%(number)s is overdue") % {"number": dispute.number})
        raise_alert(dispute, AlertKind.OVERDUE,
                    _("%(number)s is overdue: %(step)s")
                    % {"number": dispute.number,
                       "step": Step(dispute.deadline_step).label if dispute.deadline_step
                       in Step.values else dispute.deadline_step})
    DisputeTransition.objects.bulk_create(rows)


def escalate(ids, step: EscalationStep, now=None) -> None:
    """One rung: remind, tell the routing centre (or the level above it), or its 督办."""
    from zhili.disputes.services import SUPERVISION_ANSWER_DAYS

    for dispute in _cases(ids):
        DisputeTransition.objects.create(dispute=dispute, action="escalation",
                                         from_state=dispute.state, to_state=dispute.state,
                                         actor_name="system",
                                         data={"level": step.level, "rung": step.action})
        if step.action == EscalationStep.Action.NOTIFY_HOLDER:
            notify.notify(rules.holders(dispute), kind="dispute.reminder",
                          url=dispute.get_absolute_url(),
                          title=_("Reminder: %(number)s is overdue")
                          % {"number": dispute.number})
        elif step.action == EscalationStep.Action.NOTIFY_SUPERVISOR:
            notify.notify(rules.supervisors(dispute), kind="dispute.supervisor",
                          url=dispute.get_absolute_url(),
                          title=_("%(number)s is overdue with %(who)s")
                          % {"number": dispute.number,
                             "who": dispute.body or _("the governance centre")})
        else:
            order = DisputeSupervision(
                dispute=dispute, area_code=dispute.area_code,
                message=_("%(number)s is overdue. Deal with it at once and answer this "
                          "order.") % {"number": dispute.number})
            workflow.set_deadline(order, step="answer", start=now or timezone.now(),
                                  amount=SUPERVISION_ANSWER_DAYS, unit="work_days")
            order.save()
            Dispute.objects.filter(pk=dispute.pk).update(supervised=True)
            notify.notify([*rules.holders(dispute), *rules.supervisors(dispute)],
                          kind="dispute.supervision", url=dispute.get_absolute_url(),
                          title=_("督办: %(number)s") % {"number": dispute.number})


def sweep_all(now=None) -> dict:
    return {"disputes": workflow.sweep(Dispute, now),
            "supervisions": workflow.sweep(DisputeSupervision, now)}
