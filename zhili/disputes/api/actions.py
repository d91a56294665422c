"""Moving a case: one route for every action (route, accept, session, conclude, sign …), and
judicial confirmation.

An action is checked in this order: known (404), the caller's permission for it (403), the
request body (422), the case's version and state (409), then the service (400 with the
request's field names, 409 if someone changed the case meanwhile).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pydantic
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed
from ninja import Body, Field, Schema, Status
from ninja.errors import ValidationError

from zhili.core.api import RouteScope
from zhili.core.scoping import can, require
from zhili.core.services import Conflict, ServiceError, field_error
from zhili.core.workflow import InvalidTransition
from zhili.disputes import services
from zhili.disputes.api.base import DisputeConfirmationOut, confirmation_out, request_fields, router
from zhili.disputes.choices import Outcome
from zhili.disputes.models import Dispute, MediationBody, Mediator

ROUTE, MEDIATE, SUPERVISE = services.ROUTE, services.MEDIATE, services.SUPERVISE


# --- request bodies -----------------------------------------------------------------------------

class DisputeActionIn(Schema):
    version: int | None = Field(None, description="The case's version as read (409 if stale)")


class DisputeReasonIn(DisputeActionIn):
    reason: str = Field(max_length=2000)


class DisputeRouteIn(DisputeActionIn):
    body_id: int = Field(description="Mediation body (see /disputes/proposals)")
    note: str = Field("", max_length=2000)


class DisputeAcceptIn(DisputeActionIn):
    mediator_ids: list[int] = Field([], max_length=20)
    lead_id: int | None = Field(None, description="One of mediator_ids (default: the first)")
    note: str = Field("", max_length=2000)


class DisputeSessionIn(DisputeActionIn):
    held_at: dt.datetime
    place: str = Field(max_length=100)
    participants: str = Field(max_length=300)
    record: str = Field(max_length=50000)
    mediator_ids: list[int] = Field([], max_length=20)


class DisputeExtendIn(DisputeActionIn):
    days: int
    reason: str = Field(max_length=2000)


class DisputeAgreementIn(Schema):
    form: str = Field("written", description="written or oral")
    facts: str = Field("", max_length=10000)
    issues: str = Field("", max_length=10000)
    responsibilities: str = Field("", max_length=10000)
    terms: list[str] = Field([], max_length=50)
    performance_method: str = Field("", max_length=200)
    performance_place: str = Field("", max_length=100)
    performance_due: dt.date | None = None
    place: str = Field("", max_length=100)
    copies: int | None = None


AGREEMENT_FIELDS_ORDER = tuple(DisputeAgreementIn.model_fields)
AGREEMENT_FIELDS = frozenset(AGREEMENT_FIELDS_ORDER)


class DisputeConcludeIn(DisputeActionIn):
    outcome: str = Field(description="success, partial, failure or withdrawn")
    note: str = Field("", max_length=5000)
    guidance: str = Field("", description="Where the parties were directed after a failure")
    agreement: DisputeAgreementIn | None = Field(None, description="Required for success or "
                                                 "partial")


class DisputeSignatureIn(Schema):
    name: str = Field(max_length=80)


class DisputeSignIn(DisputeActionIn):
    signatures: list[DisputeSignatureIn] = Field(max_length=100, description="Every party and a "
                                          "mediator of the case")
    signed_on: dt.date | None = None


class DisputeSuperviseIn(DisputeActionIn):
    message: str = Field(max_length=5000)


class DisputeFollowUpIn(DisputeActionIn):
    visited_on: dt.date
    method: str = Field(description="visit, phone or office")
    fulfilment: str = Field(description="performing, fulfilled or broken")
    satisfaction: str = ""
    note: str = Field("", max_length=5000)


# --- the actions --------------------------------------------------------------------------------

def _body(user, pk: int) -> MediationBody:
    body = MediationBody.objects.in_scope(user).select_related("org__area").filter(pk=pk).first()
    if body is None:
        raise field_error("body_id", _("No such mediation body within your reach."))
    return body


def _mediators(user, ids: list[int], name: str = "mediator_ids") -> list[Mediator]:
    found = {m.pk: m for m in Mediator.objects.in_scope(user).filter(pk__in=ids)}
    missing = [str(pk) for pk in ids if pk not in found]
    if missing:
        raise field_error(name, _("No such mediator within your reach: %(ids)s")
                          % {"ids": ", ".join(missing)})
    return [found[pk] for pk in dict.fromkeys(ids)]


def _aware(value: dt.datetime) -> dt.datetime:
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _route(user, d, x: DisputeRouteIn):
    return services.route_dispute(actor=user, dispute=d, body=_body(user, x.body_id),
                                  version=x.version, note=x.note)


def _reject(user, d, x: DisputeReasonIn):
    return services.reject_dispute(actor=user, dispute=d, reason=x.reason, version=x.version)


def _escalate(user, d, x: DisputeReasonIn):
    return services.escalate_dispute(actor=user, dispute=d, reason=x.reason, version=x.version)


def _decline(user, d, x: DisputeReasonIn):
    return services.decline_dispute(actor=user, dispute=d, reason=x.reason, version=x.version)


def _accept(user, d, x: DisputeAcceptIn):
    chosen = _mediators(user, x.mediator_ids)
    lead = None
    if x.lead_id is not None:
        lead = next((m for m in chosen if m.pk == x.lead_id), None)
        if lead is None:
            raise field_error("lead_id", _("The lead mediator must be one of the mediators."))
    return services.accept_dispute(actor=user, dispute=d, mediators=chosen, lead=lead,
                                   version=x.version, note=x.note)


def _session(user, d, x: DisputeSessionIn):
    return services.record_session(actor=user, dispute=d, held_at=_aware(x.held_at),
                                   place=x.place, participants=x.participants, record=x.record,
                                   mediators=_mediators(user, x.mediator_ids),
                                   version=x.version)


def _extend(user, d, x: DisputeExtendIn):
    return services.extend_mediation(actor=user, dispute=d, days=x.days, reason=x.reason,
                                     version=x.version)


def _conclude(user, d, x: DisputeConcludeIn):
    agreement = None
    if x.agreement is not None:
        agreement = services.AgreementData(**x.agreement.dict())
    return services.conclude_dispute(actor=user, dispute=d, outcome=x.outcome, note=x.note,
                                     guidance=x.guidance, agreement=agreement,
                                     version=x.version)


def _conclude_transitions(x: DisputeConcludeIn) -> tuple[str, ...]:
    if x.outcome in (Outcome.SUCCESS, Outcome.PARTIAL):
        return ("agree", "agree_orally")
    if x.outcome == Outcome.FAILURE:
        return ("fail",)
    if x.outcome == Outcome.WITHDRAWN:
        return ("withdraw",)
    return ()  # an unknown outcome: the service names the field


def _sign(user, d, x: DisputeSignIn):
    return services.sign_agreement(actor=user, dispute=d,
                                   signatures=[s.dict() for s in x.signatures],
                                   signed_on=x.signed_on, version=x.version)


def _remediate(user, d, x: DisputeReasonIn):
    return services.remediate_dispute(actor=user, dispute=d, reason=x.reason,
                                      version=x.version)


def _supervise(user, d, x: DisputeSuperviseIn):
    return services.supervise_dispute(actor=user, dispute=d, message=x.message)


def _follow_up(user, d, x: DisputeFollowUpIn):
    return services.record_follow_up(actor=user, dispute=d, visited_on=x.visited_on,
                                     method=x.method, fulfilment=x.fulfilment,
                                     satisfaction=x.satisfaction, note=x.note,
                                     version=x.version)


@dataclass(frozen=True)
class Action:
    kind: str  # the permission: route, mediate or supervise (`<kind>_dispute`)
    schema: type[Schema]
    # The FSM transitions the action may fire (any one of them must be possible now), or a
    # function of the request choosing them; () for an action that does not move the case.
    transitions: tuple[str, ...] | Callable[[Any], tuple[str, ...]]
    run: Callable[[Any, Dispute, Any], Any]
    renames: dict[str, str] | None = None  # service field → request field

    def transitions_for(self, data) -> tuple[str, ...]:
        return self.transitions(data) if callable(self.transitions) else self.transitions


ACTIONS: dict[str, Action] = {
    "route": Action(ROUTE, DisputeRouteIn, ("route",), _route, {"body": "body_id"}),
    "reject": Action(ROUTE, DisputeReasonIn, ("reject",), _reject),
    "escalate": Action(ROUTE, DisputeReasonIn, ("escalate",), _escalate),
    "decline": Action(MEDIATE, DisputeReasonIn, ("decline",), _decline),
    "accept": Action(MEDIATE, DisputeAcceptIn, ("accept",), _accept,
                     {"mediators": "mediator_ids", "lead": "lead_id"}),
    "session": Action(MEDIATE, DisputeSessionIn, ("record_session",), _session,
                      {"mediators": "mediator_ids"}),
    "extend": Action(MEDIATE, DisputeExtendIn, ("extend",), _extend),
    "conclude": Action(MEDIATE, DisputeConcludeIn, _conclude_transitions, _conclude),
    "sign": Action(MEDIATE, DisputeSignIn, ("sign",), _sign),
    "remediate": Action(MEDIATE, DisputeReasonIn, ("remediate",), _remediate),
    "supervise": Action(SUPERVISE, DisputeSuperviseIn, (), _supervise),
    "follow-up": Action(MEDIATE, DisputeFollowUpIn, ("follow_up", "close"), _follow_up),
}
ALL_TRANSITIONS = ("agree", "agree_orally", "fail", "withdraw")


def _state_allows(d: Dispute, transitions: tuple[str, ...]) -> bool:
    return any(can_proceed(getattr(d, name)) for name in transitions)


def available(d: Dispute, user) -> list[str]:
    """The actions the caller's role may take on the case in its current state."""
    names = []
    for name, action in ACTIONS.items():
        if not can(user, Dispute, action.kind):
            continue
        transitions = ALL_TRANSITIONS if callable(action.transitions) else action.transitions
        if (_state_allows(d, transitions) if transitions else d.is_open):
            names.append(name)
    return names


def _parse(schema: type[Schema], payload: dict | None):
    try:
        return schema.model_validate(payload or {})
    except pydantic.ValidationError as exc:
        raise ValidationError([{"loc": e["loc"], "msg": e["msg"], "type": e["type"]}
                               for e in exc.errors()]) from None


def _check_current(d: Dispute, name: str, version: int | None, transitions) -> None:
    if version is not None and version != d.version:
        raise Conflict("stale", _("This case has changed since you read it (version "
                                  "%(current)s, you sent %(sent)s): reload it and try again.")
                       % {"current": d.version, "sent": version})
    if transitions and not _state_allows(d, transitions):
        raise InvalidTransition("invalid_transition", _(
            "“%(action)s” cannot be done while the case is “%(state)s”.")
            % {"action": name, "state": d.get_state_display()})


class DisputeActionOut(Schema):
    id: int
    number: str | None
    state: str
    state_name: str
    version: int
    body_id: int | None
    deadline_at: dt.datetime | None
    resolve_by: dt.date | None
    created_id: int | None = Field(None, description="The session, supervision order or "
                                   "follow-up recorded")


def _help() -> str:
    lines = ["Fields of each action (every one also takes `version`):", ""]
    for name, action in ACTIONS.items():
        fields = [f for f in action.schema.model_fields if f != "version"]
        lines.append(f"- `{name}` ({action.kind}_dispute): {', '.join(fields)}")
    lines += ["", "`agreement`: " + ", ".join(AGREEMENT_FIELDS_ORDER) + ".",
              "", "Out of order: 409 `invalid_transition`; stale version: 409 `stale`; unknown "
              "action: 404."]
    return "\n".join(lines)


@router.post("/{int:pk}/actions/{slug:action}",
             scope=RouteScope(Dispute, "view", lookup="pk", params=(("action", "reject"),),
                              example_requires=((Dispute, "route"),)),
             response=DisputeActionOut, summary="Act on a case: " + ", ".join(ACTIONS),
             description=_help())
def act(request, pk: int, action: str, payload: Body[dict[str, Any]] = None):
    spec = ACTIONS.get(action)
    if spec is None:
        raise ServiceError("not_found", _("Unknown action “%(action)s”.") % {"action": action},
                           status=404)
    user, dispute = request.auth, request.scoped_object
    require(user, Dispute, spec.kind)
    data = _parse(spec.schema, payload)
    _check_current(dispute, action, data.version, spec.transitions_for(data))
    with request_fields(spec.renames, prefix="agreement.",
                        nested=AGREEMENT_FIELDS if action == "conclude" else frozenset()):
        result = spec.run(user, dispute, data)
    d = Dispute.objects.get(pk=pk)
    return {"id": d.pk, "number": d.number, "state": d.state,
            "state_name": d.get_state_display(), "version": d.version, "body_id": d.body_id,
            "deadline_at": d.deadline_at, "resolve_by": d.resolve_by,
            "created_id": None if isinstance(result, Dispute) else result.pk}


# --- judicial confirmation ----------------------------------------------------------------------

class DisputeConfirmationIn(Schema):
    court: str = Field(max_length=100)
    applied_on: dt.date | None = Field(None, description="Default: today")


class DisputeRulingIn(Schema):
    result: str = Field(description="valid, invalid or withdrawn")
    ruled_on: dt.date | None = Field(None, description="Default: today")
    ruling_number: str = Field("", max_length=60)
    note: str = Field("", max_length=300)


MEDIATE_ONE = RouteScope(Dispute, "mediate", lookup="pk")


@router.post("/{int:pk}/confirmations", scope=MEDIATE_ONE, response={201: DisputeConfirmationOut},
             summary="Apply to a court for judicial confirmation (司法确认) of the agreement")
def apply_for_confirmation(request, pk: int, payload: DisputeConfirmationIn):
    c = services.apply_for_confirmation(actor=request.auth, dispute=request.scoped_object,
                                        court=payload.court, applied_on=payload.applied_on)
    return Status(201, confirmation_out(c))


@router.post("/{int:pk}/confirmations/{int:confirmation_id}/ruling",
             scope=RouteScope(Dispute, "mediate", lookup="pk",
                              params=(("confirmation_id", "1"),)),
             response=DisputeConfirmationOut, summary="Record the court's ruling on an application")
def record_ruling(request, pk: int, confirmation_id: int, payload: DisputeRulingIn):
    confirmation = request.scoped_object.confirmations.filter(pk=confirmation_id).first()
    if confirmation is None:
        raise ServiceError("not_found", _("This case has no such application."), status=404)
    c = services.record_ruling(actor=request.auth, confirmation=confirmation,
                               result=payload.result, ruled_on=payload.ruled_on,
                               ruling_number=payload.ruling_number, note=payload.note)
    return confirmation_out(c)
