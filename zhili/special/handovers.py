"""衔接: handing a person under management over to the area they moved to.

The responsible (sending) area proposes; the record becomes visible in the receiving area too
and the receiving side has HANDOVER_ANSWER_DAYS working days to answer. Accepting moves the
record (its history stays; past visits keep the area that made them). Disputing, with a reason,
sends the question back to the sender and up to the common upper level of both areas, which
assigns the person to the receiving area or sends them back. The sender may withdraw an open
handover. Until it is settled the sender stays responsible (visits, release), so nobody is lost
in between; unanswered handovers warn and escalate through the workflow sweep.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.areas.models import Area
from zhili.core import audit, codes, notify, workflow
from zhili.core.scoping import get_scope, require
from zhili.core.services import ServiceError, field_error
from zhili.special import recipients
from zhili.special.choices import HandoverState
from zhili.special.models import Handover, HandoverTransition, Supervision
from zhili.special.services import _locked, _log, _need, _open, check_responsible, who

HANDOVER_ANSWER_DAYS = 5  # working days for the receiving side to answer
ARBITRATION_DAYS = 5  # working days for the common upper level to decide a dispute
TARGET_LEVELS = (3, 4, 5)  # town/street, village/community, grid


def resolve_area(value) -> Area:
    """The target area from an Area, a primary key or a (possibly short) code."""
    if isinstance(value, Area):
        return value
    text = str(value or "").strip()
    if not text:
        raise field_error("to_area", _("Choose the area the person moved to."))
    try:
        code = codes.normalize(text)
    except codes.CodeError as exc:
        raise field_error("to_area", exc) from None
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise field_error("to_area", _("No area with code %(code)s exists.") % {"code": text})
    return area


def common_ancestor(a: str, b: str) -> Area:
    """The lowest area containing both codes (the level that arbitrates a dispute)."""
    for rank in range(min(recipients.rank_of(a), recipients.rank_of(b)), 0, -1):
        prefix = codes.prefix_of(a, rank)
        if prefix == codes.prefix_of(b, rank):
            area = Area.objects.filter(code=codes.pad(prefix)).first()
            if area is not None:
                return area
    # Different cities: the top of the sending side's tree decides.
    return Area.objects.filter(code=codes.pad(codes.prefix_of(a, 1))).first() or \
        Area.objects.get(code=a)


def _hlog(handover: Handover, *, action: str, actor, from_state: str, reason: str = "",
          deadline_before=None):
    return workflow.log(handover, HandoverTransition, action=action, from_state=from_state,
                        actor=actor, reason=reason, deadline_before=deadline_before)


def _audit(actor, action: str, handover: Handover, changes: dict | None = None) -> None:
    audit.record(actor=actor, action=f"special.handover.{action}", target=handover,
                 area_code=handover.from_area_code,
                 changes={"from": handover.from_area_code, "to": handover.to_area_code,
                          **(changes or {})})


def _locked_handover(handover: Handover, version: int | None) -> Handover:
    return workflow.locked(Handover, handover.pk, expected_version=version)


@transaction.atomic
def propose_handover(*, actor, supervision: Supervision, to_area, reason: str,
                     version: int | None = None) -> Handover:
    """The sending area proposes to hand the person over to the area they moved to."""
    check_responsible(actor, supervision, Supervision, "handover")
    target = resolve_area(to_area)
    if not target.is_active:
        raise field_error("to_area", _("%(name)s is retired.") % {"name": target.name})
    if target.level not in TARGET_LEVELS:
        raise field_error("to_area", _("Hand over to a town/street, a village/community or a "
                                       "grid, not to %(name)s.") % {"name": target.name})
    reason = _need(reason)
    supervision = _locked(supervision, version)
    _open(supervision)
    if target.code == supervision.area_code:
        raise field_error("to_area", _("%(name)s is already responsible for this person.")
                          % {"name": target.name})
    from_state = supervision.state
    workflow.fire(supervision, "start_handover")
    arbiter = common_ancestor(supervision.area_code, target.code)
    handover = Handover(supervision=supervision, from_area_id=supervision.area_id,
                        from_area_code=supervision.area_code, to_area=target,
                        to_area_code=target.code, arbiter_area=arbiter, reason=reason,
                        proposed_by=actor)
    workflow.set_deadline(handover, step="answer", start=timezone.now(),
                          amount=HANDOVER_ANSWER_DAYS, unit="work_days")
    handover.save()
    supervision.pending_area_code = target.code
    supervision.version += 1
    supervision.save()
    _hlog(handover, action="propose", actor=actor, from_state="", reason=reason)
    _log(supervision, action="handover_proposed", actor=actor, from_state=from_state,
         reason=reason, data={"handover": handover.pk, "to": target.code})
    _audit(actor, "propose", handover)
    notify.notify(recipients.handover_side(target.code), kind="special.handover",
                  url=handover.get_absolute_url(),
                  title=_("Handover to %(area)s: %(who)s — accept or dispute by %(date)s")
                  % {"area": target.name, "who": who(supervision),
                     "date": timezone.localtime(handover.deadline_at).strftime("%m-%d")})
    return handover


def _settle(handover: Handover, supervision: Supervision, *, actor, moved: bool,
            reason: str) -> None:
    """Close the record's side of a handover: move it (accepted) or leave it (not)."""
    from_state = supervision.state
    workflow.fire(supervision, "end_handover")
    supervision.pending_area_code = ""
    data = {"handover": handover.pk}
    if moved:
        supervision.area_id, supervision.area_code = handover.to_area_id, handover.to_area_code
        data.update({"from": handover.from_area_code, "to": handover.to_area_code})
    supervision.version += 1
    supervision.save()
    _log(supervision, action="handover_" + ("moved" if moved else handover.state),
         actor=actor, from_state=from_state, reason=reason, data=data)


def _check_receiving(actor, handover: Handover) -> None:
    require(actor, Supervision, "handover")
    if not get_scope(actor).covers_code(handover.to_area_code):
        raise ServiceError("forbidden", _("Only the receiving area can answer this handover."),
                           status=403)


@transaction.atomic
def accept_handover(*, actor, handover: Handover, note: str = "",
                    version: int | None = None) -> Handover:
    """The receiving area takes the person over: the record moves there."""
    _check_receiving(actor, handover)
    handover = _locked_handover(handover, version)
    supervision = _locked(handover.supervision, None)
    from_state, before = handover.state, handover.deadline_at
    workflow.fire(handover, "accept")
    handover.answered_by, handover.answered_at = actor, timezone.now()
    handover.answer_note = (note or "").strip()
    workflow.clear_deadline(handover)
    handover.version += 1
    handover.save()
    _settle(handover, supervision, actor=actor, moved=True, reason=handover.answer_note)
    _hlog(handover, action="accept", actor=actor, from_state=from_state, reason=note,
          deadline_before=before)
    _audit(actor, "accept", handover)
    notify.notify([*recipients.handover_side(handover.from_area_code),
                   *recipients.visitors(supervision)],
                  kind="special.handover_accepted", url=supervision.get_absolute_url(),
                  title=_("%(area)s accepted the handover of %(who)s")
                  % {"area": handover.to_area.name, "who": who(supervision)})
    return handover


@transaction.atomic
def dispute_handover(*, actor, handover: Handover, reason: str,
                     version: int | None = None) -> Handover:
    """The receiving area refuses, with a reason: back to the sender and up to the common
    upper level, which decides within ARBITRATION_DAYS working days."""
    reason = _need(reason)
    _check_receiving(actor, handover)
    handover = _locked_handover(handover, version)
    from_state, before = handover.state, handover.deadline_at
    workflow.fire(handover, "dispute")
    handover.answered_by, handover.answered_at, handover.answer_note = actor, timezone.now(), \
        reason
    workflow.set_deadline(handover, step="arbitrate", start=timezone.now(),
                          amount=ARBITRATION_DAYS, unit="work_days")
    handover.version += 1
    handover.save()
    _hlog(handover, action="dispute", actor=actor, from_state=from_state, reason=reason,
          deadline_before=before)
    _log(handover.supervision, action="handover_disputed", actor=actor, reason=reason,
         data={"handover": handover.pk})
    _audit(actor, "dispute", handover)
    notify.notify([*recipients.handover_side(handover.from_area_code),
                   *recipients.arbiters(handover.arbiter_area.code)],
                  kind="special.handover_disputed", url=handover.get_absolute_url(),
                  title=_("%(area)s disputes the handover of %(who)s: %(reason)s")
                  % {"area": handover.to_area.name, "who": who(handover.supervision),
                     "reason": reason[:80]})
    return handover


@transaction.atomic
def arbitrate_handover(*, actor, handover: Handover, assign: bool, note: str,
                       version: int | None = None) -> Handover:
    """The common upper level decides a dispute: the receiving area takes the person (assign)
    or the sending area keeps them."""
    note = _need(note, "note")
    require(actor, Supervision, "handover")
    scope = get_scope(actor)
    if not (scope.covers_code(handover.from_area_code) and
            scope.covers_code(handover.to_area_code)):
        raise ServiceError("forbidden", _("Only the level above both areas (%(area)s) can "
                                          "decide this dispute.")
                           % {"area": handover.arbiter_area.name}, status=403)
    handover = _locked_handover(handover, version)
    supervision = _locked(handover.supervision, None)
    from_state, before = handover.state, handover.deadline_at
    workflow.fire(handover, "assign" if assign else "send_back")
    handover.decided_by, handover.decided_at, handover.decision_note = actor, timezone.now(), \
        note
    workflow.clear_deadline(handover)
    handover.version += 1
    handover.save()
    _settle(handover, supervision, actor=actor, moved=assign, reason=note)
    _hlog(handover, action="assign" if assign else "send_back", actor=actor,
          from_state=from_state, reason=note, deadline_before=before)
    _audit(actor, "assign" if assign else "send_back", handover)
    notify.notify([*recipients.handover_side(handover.from_area_code),
                   *recipients.handover_side(handover.to_area_code)],
                  kind="special.handover_decided", url=handover.get_absolute_url(),
                  title=(_("%(who)s is assigned to %(area)s") if assign else
                         _("%(who)s stays with %(area)s"))
                  % {"who": who(supervision),
                     "area": (handover.to_area if assign else handover.from_area).name})
    return handover


@transaction.atomic
def withdraw_handover(*, actor, handover: Handover, note: str = "",
                      version: int | None = None) -> Handover:
    """The sending area takes its proposal back (the person did not move after all)."""
    check_responsible(actor, handover.supervision, Supervision, "handover")
    handover = _locked_handover(handover, version)
    supervision = _locked(handover.supervision, None)
    from_state, before = handover.state, handover.deadline_at
    workflow.fire(handover, "withdraw")
    workflow.clear_deadline(handover)
    handover.version += 1
    handover.save()
    _settle(handover, supervision, actor=actor, moved=False, reason=note)
    _hlog(handover, action="withdraw", actor=actor, from_state=from_state, reason=note,
          deadline_before=before)
    _audit(actor, "withdraw", handover)
    notify.notify(recipients.handover_side(handover.to_area_code), kind="special.handover",
                  url=handover.get_absolute_url(),
                  title=_("The handover of %(who)s was withdrawn") % {"who": who(supervision)})
    return handover


def available_actions(handover: Handover, user) -> list[str]:
    """Which of accept / dispute / assign / send_back / withdraw the user may take now."""
    scope = get_scope(user)
    if not handover.is_open or not scope.can("special.handover_supervision"):
        return []
    found = []
    if handover.state == HandoverState.PENDING and scope.covers_code(handover.to_area_code):
        found += ["accept", "dispute"]
    if handover.state == HandoverState.DISPUTED and scope.covers_code(
            handover.from_area_code) and scope.covers_code(handover.to_area_code):
        found += ["assign", "send_back"]
    if scope.covers_code(handover.from_area_code):
        found.append("withdraw")
    return found
