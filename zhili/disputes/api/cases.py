"""Cases: the list (lean rows, keyset pages), intake, the detail with everything that happened,
and the agreement as Word or PDF."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status

from zhili.core import codes, pii
from zhili.core.api import RouteScope
from zhili.core.documents import attachment
from zhili.core.services import Conflict, field_error
from zhili.disputes import documents, services
from zhili.disputes.api.actions import available
from zhili.disputes.api.base import (
    ROW_COLUMNS,
    DisputeAlertOut,
    DisputeConfirmationOut,
    DisputeRow,
    alert_out,
    area_by_code,
    confirmation_out,
    decode_cursor,
    encode_cursor,
    pattern,
    request_fields,
    router,
    row_from_values,
    row_of,
    subtree_prefix,
)
from zhili.disputes.choices import OPEN_STATES, AgreementForm, Channel, DisputeState
from zhili.disputes.models import Agreement, Dispute
from zhili.events.models import Event

VIEW_ONE = RouteScope(Dispute, "view", lookup="pk")


# --- list ---------------------------------------------------------------------------------------

class DisputePage(Schema):
    items: list[DisputeRow]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page")


class DisputeListQuery(Schema):
    state: str | None = Field(None, pattern=pattern(DisputeState.values))
    open: bool | None = Field(None, description="true: every state but closed and rejected")
    channel: str | None = Field(None, pattern=pattern(Channel.values))
    type_code: str | None = Field(None, pattern=r"^\d{2,4}$",
                                  description="GB/T 31000 5.56 code or group (prefix)")
    body: int | None = Field(None, description="Mediation body id")
    area: str | None = Field(None, pattern=r"^\d{1,15}$",
                             description="Area code prefix (a full code: its subtree)")
    registered_from: dt.date | None = None
    registered_to: dt.date | None = Field(None, description="Inclusive")
    overdue: bool | None = None
    group: bool | None = Field(None, description="Group disputes (群体性) only, or none")
    limit: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(None, max_length=200)


def _day_start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


@router.get("", scope=RouteScope(Dispute, "view"), response=DisputePage,
            summary="Cases in reach, newest first (keyset pages)")
def list_disputes(request, query: Query[DisputeListQuery]):
    qs = Dispute.objects.restrict(request.auth)
    if query.state:
        qs = qs.filter(state=query.state)
    if query.open is not None:
        qs = qs.open() if query.open else qs.exclude(state__in=OPEN_STATES)
    if query.channel:
        qs = qs.filter(channel=query.channel)
    if query.type_code:
        qs = qs.filter(type_code__startswith=query.type_code)
    if query.body is not None:
        qs = qs.filter(body_id=query.body)
    if query.area:
        qs = qs.filter(codes.range_q("area_code", subtree_prefix(query.area)))
    if query.registered_from and query.registered_to and \
            query.registered_to < query.registered_from:
        raise field_error("registered_to", _("The end is before the start."))
    if query.registered_from:
        qs = qs.filter(registered_at__gte=_day_start(query.registered_from))
    if query.registered_to:
        qs = qs.filter(registered_at__lt=_day_start(query.registered_to + dt.timedelta(days=1)))
    if query.overdue is not None:
        qs = qs.filter(overdue=query.overdue)
    if query.group is not None:
        qs = qs.filter(is_group=query.group)
    if query.cursor:
        at, pk = decode_cursor(query.cursor)
        qs = qs.filter(registered_at__lte=at).exclude(registered_at=at, id__gte=pk)
    rows = list(qs.order_by("-registered_at", "-id").values(*ROW_COLUMNS)[: query.limit + 1])
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return {"items": [row_from_values(v) for v in rows],
            "next_cursor": encode_cursor(rows[-1]["registered_at"], rows[-1]["id"])
            if more else None}


# --- detail -------------------------------------------------------------------------------------

class DisputePartyOut(Schema):
    id: int
    side: str
    side_name: str
    kind: str
    is_main: bool
    name: str
    id_type: str
    id_number: str = Field(description="Masked; unmask with POST /api/v1/pii/unmask "
                           "(model disputes.party)")
    uscc: str
    sex: str
    ethnicity: str
    birth_date: dt.date | None
    party_class: str
    phone: str = Field(description="Masked")
    address: str = Field(description="Masked")
    representative: str
    person_id: int | None


class DisputeMediatorOut(Schema):
    id: int
    name: str
    phone: str = Field(description="Masked")
    full_time: bool
    speciality: str
    is_lead: bool


class DisputeSessionOut(Schema):
    id: int
    held_at: dt.datetime
    place: str
    participants: str
    record: str
    mediators: list[str]


class DisputeAgreementOut(Schema):
    id: int
    form: str
    number: str
    facts: str
    issues: str
    responsibilities: str
    terms: list[str]
    performance_method: str
    performance_place: str
    performance_due: dt.date
    place: str
    copies: int
    drafted_at: dt.datetime
    signatures: list[dict[str, Any]]
    effective_on: dt.date | None
    confirmation_deadline: dt.date | None = Field(
        description="Last day to apply for judicial confirmation (30 days after it took "
                    "effect)")
    fulfilment: str
    fulfilled_on: dt.date | None
    downloads: dict[str, str] = Field(description="docx and pdf, for a written agreement")


class DisputeFollowUpOut(Schema):
    id: int
    visited_on: dt.date
    method: str
    fulfilment: str
    satisfaction: str
    note: str
    by: str


class DisputeSupervisionOut(Schema):
    id: int
    message: str
    state: str
    deadline_at: dt.datetime | None
    overdue: bool
    answer: str
    answered_at: dt.datetime | None
    created_at: dt.datetime


class DisputeFileOut(Schema):
    id: int
    kind: str
    filename: str
    content_type: str
    size: int
    session_id: int | None
    created_at: dt.datetime
    url: str


class DisputeTimelineItem(Schema):
    action: str
    from_state: str
    to_state: str
    actor: str
    reason: str
    at: dt.datetime
    data: dict[str, Any]
    deadline_after: dt.datetime | None


class DisputeDetail(DisputeRow):
    description: str
    place: str
    lat: Decimal | None
    lng: Decimal | None
    scale: str
    stat_class: str
    amount: Decimal | None
    involved_units: str
    may_intensify: bool
    stability_risk: bool
    external_ref: str
    source_event_id: int | None
    owner_level: int
    proposed_body_id: int | None
    proposed_body_name: str | None
    lead_mediator_id: int | None
    method: str
    outcome: str
    outcome_note: str
    guidance: str
    satisfaction: str
    deadline_step: str
    routed_at: dt.datetime | None
    accepted_at: dt.datetime | None
    concluded_at: dt.datetime | None
    closed_at: dt.datetime | None
    follow_up_due: dt.date | None
    decline_count: int
    extension_count: int
    remediation_count: int
    parties: list[DisputePartyOut]
    mediators: list[DisputeMediatorOut]
    sessions: list[DisputeSessionOut]
    agreement: DisputeAgreementOut | None
    confirmations: list[DisputeConfirmationOut]
    follow_ups: list[DisputeFollowUpOut]
    alerts: list[DisputeAlertOut]
    supervisions: list[DisputeSupervisionOut]
    files: list[DisputeFileOut]
    transitions: list[DisputeTimelineItem]
    actions: list[str] = Field(description="Actions open to the caller now")


def party_out(p) -> dict:
    return {"id": p.pk, "side": p.side, "side_name": p.get_side_display(), "kind": p.kind,
            "is_main": p.is_main, "name": p.name, "id_type": p.id_type,
            "id_number": pii.mask_field(p, "id_number"), "uscc": p.uscc, "sex": p.sex,
            "ethnicity": p.ethnicity, "birth_date": p.birth_date, "party_class": p.party_class,
            "phone": pii.mask_field(p, "phone"), "address": pii.mask_field(p, "address"),
            "representative": p.representative, "person_id": p.person_id}


def agreement_out(a: Agreement) -> dict:
    downloads = {}
    if a.form == AgreementForm.WRITTEN:
        downloads = {fmt: reverse(f"api:dispute_agreement_{fmt}", args=[a.dispute_id])
                     for fmt in ("docx", "pdf")}
    return {"id": a.pk, "form": a.form, "number": a.number, "facts": a.facts,
            "issues": a.issues, "responsibilities": a.responsibilities, "terms": a.terms,
            "performance_method": a.performance_method,
            "performance_place": a.performance_place, "performance_due": a.performance_due,
            "place": a.place, "copies": a.copies, "drafted_at": a.drafted_at,
            "signatures": a.signatures, "effective_on": a.effective_on,
            "confirmation_deadline": a.confirmation_deadline, "fulfilment": a.fulfilment,
            "fulfilled_on": a.fulfilled_on, "downloads": downloads}


def detail_out(d: Dispute, user) -> dict:
    d = Dispute.objects.select_related("area", "body__org", "proposed_body__org").get(pk=d.pk)
    agreement = d.current_agreement()
    return {
        **row_of(d),
        **{name: getattr(d, name) for name in (
            "description", "place", "lat", "lng", "scale", "stat_class", "amount",
            "involved_units", "may_intensify", "stability_risk", "external_ref",
            "source_event_id", "owner_level", "proposed_body_id", "lead_mediator_id", "method",
            "outcome", "outcome_note", "guidance", "satisfaction", "deadline_step",
            "routed_at", "accepted_at", "concluded_at", "closed_at", "follow_up_due",
            "decline_count", "extension_count", "remediation_count")},
        "proposed_body_name": d.proposed_body.org.name if d.proposed_body_id else None,
        "parties": [party_out(p) for p in d.parties.all()],
        "mediators": [{"id": m.pk, "name": m.name, "phone": pii.mask_field(m, "phone"),
                       "full_time": m.full_time, "speciality": m.speciality,
                       "is_lead": m.pk == d.lead_mediator_id} for m in d.mediators.all()],
        "sessions": [{"id": s.pk, "held_at": s.held_at, "place": s.place,
                      "participants": s.participants, "record": s.record,
                      "mediators": [m.name for m in s.mediators.all()]}
                     for s in d.sessions.prefetch_related("mediators")],
        "agreement": agreement_out(agreement) if agreement else None,
        "confirmations": [confirmation_out(c) for c in d.confirmations.all()],
        "follow_ups": [{"id": f.pk, "visited_on": f.visited_on, "method": f.method,
                        "fulfilment": f.fulfilment, "satisfaction": f.satisfaction,
                        "note": f.note, "by": f.by.display_name if f.by_id else ""}
                       for f in d.follow_ups.select_related("by")],
        "alerts": [alert_out(a) for a in d.alerts.all()],
        "supervisions": [{"id": s.pk, "message": s.message, "state": s.state,
                          "deadline_at": s.deadline_at, "overdue": s.overdue,
                          "answer": s.answer, "answered_at": s.answered_at,
                          "created_at": s.created_at} for s in d.supervisions.all()],
        "files": [{"id": f.pk, "kind": f.kind, "filename": f.filename,
                   "content_type": f.content_type, "size": f.size, "session_id": f.session_id,
                   "created_at": f.created_at, "url": f.get_absolute_url()}
                  for f in d.files.all()],
        "transitions": [{"action": t.action, "from_state": t.from_state,
                         "to_state": t.to_state, "actor": t.actor_name, "reason": t.reason,
                         "at": t.created_at, "data": t.data or {},
                         "deadline_after": t.deadline_after}
                        for t in d.transitions.order_by("created_at", "id")],
        "actions": available(d, user),
    }


@router.get("/{int:pk}", scope=VIEW_ONE, response=DisputeDetail,
            summary="One case: parties (masked), mediators, sessions, agreement, "
                    "confirmations, follow-ups, alerts, timeline, my actions")
def dispute_detail(request, pk: int):
    return detail_out(request.scoped_object, request.auth)


# --- intake -------------------------------------------------------------------------------------

class DisputePartyIn(Schema):
    side: str = Field(description="applicant, respondent or third")
    name: str = Field("", max_length=80)
    kind: str = Field("person", description="person or org")
    id_type: str = Field("111", max_length=3, description="ID document type (111: resident ID)")
    id_number: str = Field("", max_length=40, description="Required for a person")
    uscc: str = Field("", max_length=30, description="Required for an organisation")
    sex: str = Field("", max_length=10)
    ethnicity: str = Field("", max_length=10)
    birth_date: dt.date | None = None
    party_class: str = Field("", max_length=4, description="GB/T 31000 5.57")
    phone: str = Field("", max_length=40)
    address: str = Field("", max_length=200)
    representative: str = Field("", max_length=80)
    is_main: bool = False


class DisputeIn(Schema):
    channel: str = Field("", description="walk_in, hotline, police, court, petition, proactive, "
                         "other (event when `event_id` is given)")
    event_id: int | None = Field(None, description="Register from this grid event (of a "
                                 "dispute category); its title, place, area and date are the "
                                 "defaults")
    title: str = Field("", max_length=200)
    occurred_on: dt.date | None = None
    place: str = Field("", max_length=200)
    area: str | None = Field(None, max_length=15, description="Area code where it happened")
    type_code: str = Field("", max_length=4, description="GB/T 31000 5.56")
    description: str = Field("", max_length=10000)
    parties: list[DisputePartyIn] = Field([], max_length=200)
    people_count: int | None = Field(None, ge=0)
    amount: Decimal | None = Field(None, description="Amount involved, yuan")
    involved_units: str = Field("", max_length=100)
    may_intensify: bool = False
    stability_risk: bool = False
    stat_class: str = Field("", max_length=12)
    scale: str = Field("", max_length=2, description="GB/T 31000 5.55 (default from the "
                       "number of people)")
    lat: Decimal | None = Field(None, ge=-90, le=90)
    lng: Decimal | None = Field(None, ge=-180, le=180)
    external_ref: str = Field("", max_length=64, description="Referral number of the sending "
                              "system (unique per channel)")
    client_uuid: uuid.UUID | None = Field(None, description="Makes a retried submission safe")


class DisputeIntakeOut(DisputeDetail):
    warnings: list[str] = Field(description="Risk alerts raised (group, repeated parties or "
                                "place, may intensify)")


def _replayed(user, client_uuid) -> Dispute | None:
    """The case an earlier submission with this client_uuid registered, if any."""
    if not client_uuid:
        return None
    existing = Dispute.objects.filter(client_uuid=client_uuid).first()
    if existing is not None and not Dispute.objects.in_scope(user).filter(
            pk=existing.pk).exists():
        raise Conflict("in_use", field_messages={"client_uuid": [
            _("This client_uuid was already used for another submission.")]})
    return existing


@router.post("", scope=RouteScope(Dispute, "add"), response={201: DisputeIntakeOut},
             summary="Register a dispute (any channel, or from a grid event)")
def register_dispute(request, payload: DisputeIn):
    user = request.auth
    existing = _replayed(user, payload.client_uuid)
    if existing is not None:
        return Status(201, {**detail_out(existing, user),
                            "warnings": [_("This dispute had already been registered.")]})
    data = payload.dict()
    parties = [services.PartyData(**p) for p in data.pop("parties")]
    event_id = data.pop("event_id")
    with request_fields({"event": "event_id"}):
        if event_id is not None:
            event = Event.objects.in_scope(user).filter(pk=event_id).first()
            if event is None:
                raise field_error("event_id", _("No such event within your reach."))
            data.pop("channel")
            # The event gives title, place, area, date and position unless they are sent.
            for name in ("title", "occurred_on", "place", "area", "description", "lat", "lng"):
                if data[name] in (None, ""):
                    data.pop(name)
            if "area" in data:
                data["area"] = area_by_code(data["area"])
            result = services.register_from_event(actor=user, event=event,
                                                  type_code=data.pop("type_code"),
                                                  parties=parties, **data)
        else:
            data["area"] = area_by_code(data["area"])
            result = services.register_dispute(actor=user, parties=parties, **data)
    return Status(201, {**detail_out(result.dispute, user),
                        "warnings": [str(w) for w in result.warnings]})


# --- the agreement as a document ----------------------------------------------------------------

def _download(request, fmt: str) -> HttpResponse:
    dispute = request.scoped_object
    agreement = dispute.current_agreement()
    if agreement is None or agreement.form != AgreementForm.WRITTEN:
        raise Conflict("no_agreement", _("This case has no written agreement."))
    content, filename, content_type = documents.download_agreement(
        actor=request.auth, dispute=dispute, fmt=fmt)
    return attachment(content, filename, content_type)  # ID numbers in clear: not cached


@router.get("/{int:pk}/agreement.docx", scope=VIEW_ONE, response={200: None},
            url_name="dispute_agreement_docx",
            summary="The mediation agreement as Word (audited; ID numbers in clear)")
def agreement_docx(request, pk: int):
    return _download(request, "docx")


@router.get("/{int:pk}/agreement.pdf", scope=VIEW_ONE, response={200: None},
            url_name="dispute_agreement_pdf",
            summary="The mediation agreement as PDF (audited; ID numbers in clear)")
def agreement_pdf(request, pk: int):
    return _download(request, "pdf")
