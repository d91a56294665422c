"""Writes to disputes: intake, routing, acceptance, mediation, conclusion, agreement, judicial
confirmation, follow-up, supervision and risk alerts.

Every state change runs `_move` (the workflow toolkit, DESIGN §3.3): lock the row (409 on a
stale version), check the actor may act here, fire the transition, restart the clock of the
next step, log the transition, tell whoever must act next, and mark the statistics stale —
all in one transaction. Refusals are `ServiceError`s naming the field.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.areas.models import Area
from zhili.core import audit, notify, pii, workflow
from zhili.core.scoping import ORG, get_scope, require, require_code_in_scope
from zhili.core.services import Conflict, ServiceError, field_error
from zhili.disputes import codetables, rules
from zhili.disputes.choices import (
    AGREED_OUTCOMES,
    STEP_OF_STATE,
    AgreementForm,
    AlertKind,
    AlertState,
    Channel,
    ConfirmationResult,
    DisputeState,
    FileKind,
    FollowUpMethod,
    Fulfilment,
    Guidance,
    Outcome,
    PartyKind,
    PartySide,
    Satisfaction,
    Step,
)
from zhili.disputes.models import (
    Agreement,
    CaseFile,
    Dispute,
    DisputeAlert,
    DisputeStatDirty,
    DisputeSupervision,
    DisputeTransition,
    FollowUp,
    JudicialConfirmation,
    MediationBody,
    MediationSession,
    Mediator,
    Party,
)

S = DisputeState
ROUTE, MEDIATE, SUPERVISE = "route", "mediate", "supervise"
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_EXTENSIONS = 2
MAX_EXTENSION_DAYS = 30
SUPERVISION_ANSWER_DAYS = 2
REPEAT_WINDOW_DAYS = 365
PLACE_WINDOW_DAYS = 90
PLACE_REPEAT_COUNT = 3  # this case and two others at the same place


@dataclass
class PartyData:
    """A party as typed or sent: a person (ID document required) or an organisation (USCC)."""

    side: str
    name: str
    kind: str = PartyKind.PERSON
    id_type: str = "111"
    id_number: str = ""
    uscc: str = ""
    sex: str = ""
    ethnicity: str = ""
    birth_date: object = None
    party_class: str = ""
    phone: str = ""
    address: str = ""
    representative: str = ""
    is_main: bool = False


@dataclass
class AgreementData:
    """The contents a 调解协议书 must carry (《人民调解法》第二十九条)."""

    facts: str
    issues: str
    terms: list[str]
    performance_method: str
    performance_due: object
    responsibilities: str = ""
    performance_place: str = ""
    place: str = ""
    copies: int | None = None
    form: str = AgreementForm.WRITTEN


@dataclass
class FileData:
    data: bytes
    filename: str
    kind: str = FileKind.EVIDENCE


@dataclass
class Registered:
    dispute: Dispute
    warnings: list[str] = field(default_factory=list)


# --- small checks -----------------------------------------------------------------------------

def _need(value, name: str = "reason", message=None) -> str:
    value = (value or "").strip() if isinstance(value, str) or value is None else value
    if not value:
        raise field_error(name, message or _("This field is required."))
    return value


def _date(value, name: str, *, past: bool | None = None) -> dt.date:
    if isinstance(value, dt.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, str):
        try:
            value = dt.date.fromisoformat(value.strip())
        except ValueError:
            raise field_error(name, _("Enter a date as YYYY-MM-DD.")) from None
    if not isinstance(value, dt.date):
        raise field_error(name, _("Enter a date as YYYY-MM-DD."))
    today = timezone.localdate()
    if past is True and value > today:
        raise field_error(name, _("This date lies in the future."))
    if past is False and value < today:
        raise field_error(name, _("This date has already passed."))
    return value


def _amount(value) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        raise field_error("amount", _("Enter an amount in yuan.")) from None
    if amount < 0 or amount >= Decimal("1e12"):
        raise field_error("amount", _("Enter an amount between 0 and 999,999,999,999."))
    return amount.quantize(Decimal("0.01"))


def _type(type_code: str) -> str:
    type_code = (type_code or "").strip()
    if type_code not in codetables.TYPES:
        raise field_error("type_code", _("Unknown dispute type “%(code)s” (GB/T 31000 table "
                                         "5.56).") % {"code": type_code})
    return type_code


def _clean_parties(parties: list[PartyData]) -> list[Party]:
    """Check every party; errors are reported as parties.<n>.<field>."""
    from zhili.people import validation

    errors: dict[str, list[str]] = {}
    cleaned: list[Party] = []
    for n, data in enumerate(parties):
        where = f"parties.{n}"

        def fail(name, message, where=where):
            errors.setdefault(f"{where}.{name}", []).append(str(message))

        if data.side not in PartySide.values:
            fail("side", _("Choose applicant, respondent or third party."))
        if data.kind not in PartyKind.values:
            fail("kind", _("Choose person or organisation."))
        name = (data.name or "").strip()
        if not name:
            fail("name", _("Give the party's name."))
        party = Party(side=data.side, kind=data.kind, name=name[:80], is_main=data.is_main,
                      representative=(data.representative or "").strip()[:80])
        if data.party_class:
            if data.party_class not in codetables.PARTY_CLASSES:
                fail("party_class", _("Unknown party class (table 5.57)."))
            party.party_class = data.party_class
        if data.kind == PartyKind.ORG:
            if not (data.uscc or "").strip():
                fail("uscc", _("Give the organisation's unified social credit code."))
            else:
                try:
                    party.uscc, _warnings = validation.validate_uscc(data.uscc)
                except validation.InvalidUscc as exc:
                    fail("uscc", exc.message)
            if data.phone:
                try:
                    pii.assign(party, "phone", validation.clean_phone(data.phone))
                except validation.BadValue as exc:
                    fail("phone", str(exc))
            if data.address:
                pii.assign(party, "address", str(data.address).strip()[:200])
        elif data.kind == PartyKind.PERSON:
            if not (data.id_number or "").strip():
                fail("id_number", _("A party needs an identity document number."))
            values, problems = validation.clean_person({
                "name": name or "-", "id_type": data.id_type or "111",
                "id_number": data.id_number, "sex": data.sex, "birth_date": data.birth_date,
                "ethnicity": data.ethnicity, "phone": data.phone,
                "current_address": data.address}, partial=False)
            for name_, messages in problems.items():
                for message in messages:
                    fail({"current_address": "address"}.get(name_, name_), message)
            if not problems:
                party.id_type = values.get("id_type", "111")
                pii.assign(party, "id_number", values.get("id_number") or None)
                party.sex = values.get("sex") or ""
                party.birth_date = values.get("birth_date")
                party.ethnicity = values.get("ethnicity") or ""
                pii.assign(party, "phone", values.get("phone") or None)
                pii.assign(party, "address", values.get("current_address") or None)
        cleaned.append(party)
    sides = {p.side for p in cleaned}
    if PartySide.APPLICANT not in sides or PartySide.RESPONDENT not in sides:
        errors.setdefault("parties", []).append(
            str(_("A dispute needs at least one applicant and one respondent.")))
    if errors:
        raise ServiceError("invalid", field_messages=errors)
    if not any(p.is_main for p in cleaned):
        cleaned[0].is_main = True
    return cleaned


def _link_people(parties: list[Party]) -> None:
    """Point each person party at the registry's person with the same ID number, if any."""
    from zhili.people.models import Person

    indexes = [p.id_number_bidx for p in parties if p.id_number_bidx]
    if not indexes:
        return
    found = dict(Person.objects.filter(id_number_bidx__in=indexes)
                 .values_list("id_number_bidx", "pk"))
    for party in parties:
        party.person_id = found.get(party.id_number_bidx)


def _mark_dirty(dispute: Dispute) -> None:
    month = timezone.localtime(dispute.registered_at).date().replace(day=1)
    DisputeStatDirty.objects.get_or_create(month=month)


def _number(dispute: Dispute) -> str:
    return f"JF{timezone.localtime(dispute.registered_at):%Y%m%d}{dispute.pk:07d}"


# --- intake -----------------------------------------------------------------------------------

@transaction.atomic
def register_dispute(*, actor, channel: str, title: str, occurred_on, place: str,
                     area: Area | None, type_code: str, description: str,
                     parties: list[PartyData], people_count: int | None = None,
                     amount=None, involved_units: str = "", may_intensify: bool = False,
                     stability_risk: bool = False, stat_class: str = "", scale: str = "",
                     lat=None, lng=None, external_ref: str = "", source_event=None,
                     client_uuid=None, registered_at=None) -> Registered:
    """Take a dispute in once (一门进), from any channel; propose the body to route it to."""
    require(actor, Dispute, "add")
    existing = _replayed(actor, client_uuid)
    if existing is not None:
        return Registered(existing, [_("This dispute had already been registered.")])
    if channel not in Channel.values:
        raise field_error("channel", _("Unknown channel."))
    title = _need(title, "title", _("Name the dispute."))[:100]
    description = _need(description, "description", _("Describe the dispute."))
    place = _need(place, "place", _("Where did it happen?"))[:100]
    type_code = _type(type_code)
    occurred_on = _date(occurred_on, "occurred_on", past=True)
    if area is None:
        raise field_error("area", _("Choose the area where it happened."))
    if not area.is_active:
        raise field_error("area", _("%(name)s is retired.") % {"name": area.name})
    require_code_in_scope(actor, area.code)
    if stat_class and stat_class not in codetables.STAT_CLASSES:
        raise field_error("stat_class", _("Unknown statistics class."))
    if scale and scale not in codetables.SCALE:
        raise field_error("scale", _("Unknown scale (table 5.55)."))
    cleaned = _clean_parties(parties)
    if people_count in (None, ""):
        people_count = len(cleaned)
    try:
        people_count = int(people_count)
    except (TypeError, ValueError):
        raise field_error("people_count", _("Enter a whole number.")) from None
    if not len(cleaned) <= people_count <= 999_999:
        raise field_error("people_count", _("At least as many people as parties are "
                                            "involved."))
    now = timezone.now()
    dispute = Dispute(
        title=title, occurred_on=occurred_on, place=place, area=area, area_code=area.code,
        lat=lat, lng=lng, type_code=type_code,
        stat_class=stat_class or codetables.stat_class_of(type_code),
        scale=scale or rules.scale_of(people_count), people_count=people_count,
        is_group=people_count >= rules.group_threshold(), description=description,
        involved_units=(involved_units or "").strip()[:100], amount=_amount(amount),
        may_intensify=bool(may_intensify), stability_risk=bool(stability_risk),
        channel=channel, external_ref=(external_ref or "").strip()[:64],
        source_event=source_event, owner_level=min(3, max(area.level, 1)),
        registered_by=actor if actor is not None and not actor.is_service else None,
        registered_at=registered_at or now, client_uuid=client_uuid,
    )
    dispute.proposed_body = rules.propose(type_code, area)
    _start_step(dispute, now)
    try:
        with transaction.atomic():
            dispute.save()
    except IntegrityError:
        existing = _replayed(actor, client_uuid)  # the same request, sent twice at once
        if existing is not None:
            return Registered(existing, [_("This dispute had already been registered.")])
        raise field_error("external_ref", _("Referral %(ref)s was already registered.")
                          % {"ref": external_ref}) from None
    dispute.number = _number(dispute)
    Dispute.objects.filter(pk=dispute.pk).update(number=dispute.number)
    for party in cleaned:
        party.dispute = dispute
    _link_people(cleaned)
    Party.objects.bulk_create(cleaned)
    workflow.log(dispute, DisputeTransition, action="register", from_state="", actor=actor,
                 data={"channel": channel,
                       "proposed_body": dispute.proposed_body_id})
    audit.record(actor=actor, action="dispute.register", target=dispute,
                 area_code=dispute.area_code)
    warnings = [str(a.message) for a in check_risks(dispute, cleaned)]
    notify.notify(rules.dispatchers(dispute), kind="dispute.new", url=dispute.get_absolute_url(),
                  title=_("New dispute %(number)s: %(title)s")
                  % {"number": dispute.number, "title": dispute.title})
    _mark_dirty(dispute)
    return Registered(dispute, warnings)


def _replayed(actor, client_uuid) -> Dispute | None:
    """The case a retried request (same client_uuid) already created; someone else's is a
    conflict, never shown."""
    if not client_uuid:
        return None
    existing = Dispute.objects.filter(client_uuid=client_uuid).first()
    if existing is not None and not Dispute.objects.in_scope(actor).filter(
            pk=existing.pk).exists():
        raise Conflict("client_uuid", _("This client_uuid was used for another request."))
    return existing


def register_from_event(*, actor, event, type_code: str, parties: list[PartyData],
                        **extra) -> Registered:
    """Turn a grid event of a dispute category into a case (the event keeps its own loop)."""
    from zhili.events.models import Event

    require(actor, Dispute, "add")
    existing = _replayed(actor, extra.get("client_uuid"))
    if existing is not None:
        return Registered(existing, [_("This dispute had already been registered.")])

    if not Event.objects.in_scope(actor).filter(pk=event.pk).exists():
        raise ServiceError("out_of_scope", _("This event is outside your area of "
                                             "responsibility."), status=404)
    category = event.category
    if not (category.code == "dispute" or (category.parent and
                                           category.parent.code == "dispute")):
        raise field_error("event", _("Only an event of a dispute category can become a "
                                     "dispute case."))
    if Dispute.objects.filter(source_event=event).exists():
        raise field_error("event", _("This event has already become dispute %(number)s.")
                          % {"number": Dispute.objects.get(source_event=event).number})
    values = {"title": event.title, "description": event.description or event.title,
              "place": event.address or event.area.name, "area": event.area,
              "occurred_on": timezone.localtime(event.reported_at).date(), "lat": event.lat,
              "lng": event.lng, **extra}
    return register_dispute(actor=actor, channel=Channel.EVENT, type_code=type_code,
                            parties=parties, source_event=event, **values)


# --- the clock and moves ----------------------------------------------------------------------

def _start_step(dispute: Dispute, now) -> None:
    step = STEP_OF_STATE.get(dispute.state)
    if step is None:
        workflow.clear_deadline(dispute)
        return
    if step == Step.FOLLOW_UP:
        due = dispute.follow_up_due or timezone.localdate(now)
        days = max(1, (due - timezone.localdate(now)).days + rules.FOLLOW_UP_GRACE_DAYS)
        workflow.set_deadline(dispute, step=step, start=now, amount=days, unit="days")
        return
    amount, unit = rules.time_limit(dispute, step)
    workflow.set_deadline(dispute, step=step, start=now, amount=float(amount), unit=unit)
    if step == Step.MEDIATE:
        dispute.resolve_by = timezone.localtime(dispute.deadline_at).date()


def _check_actor(actor, dispute: Dispute, kind: str) -> None:
    require(actor, Dispute, kind)
    if not Dispute.objects.in_scope(actor).filter(pk=dispute.pk).exists():
        raise ServiceError("out_of_scope", _("This dispute is outside your area of "
                                             "responsibility."), status=404)
    scope = get_scope(actor)
    if scope.unrestricted:
        return
    if kind == MEDIATE and scope.kind == ORG and (
            dispute.body_id is None or dispute.body.org_id not in scope.org_ids):
        raise ServiceError("forbidden", _("Only the body handling the case can do this."),
                           status=403)
    if kind == ROUTE:
        position = actor.active_position
        if position is not None and position.area.level > dispute.owner_level:
            raise ServiceError("forbidden", _("This case has been escalated; the upper "
                                              "level's centre routes it now."), status=403)


def _expect(dispute: Dispute, *states) -> None:
    """Refuse an action out of order (409) before looking at its input."""
    if dispute.state not in states:
        raise workflow.InvalidTransition(
            "invalid_transition", _("This cannot be done while the item is “%(state)s”.")
            % {"state": dispute.get_state_display()})


def _recount(body: MediationBody | None) -> None:
    if body is not None:
        MediationBody.objects.filter(pk=body.pk).update(open_cases=Dispute.objects.filter(
            body=body, state__in=(S.ASSIGNED, S.MEDIATING)).count())


def _move(*, actor, dispute: Dispute, action: str, kind: str, version: int | None = None,
          reason: str = "", apply: Callable[[Dispute], None] | None = None,
          restart_clock: bool = True, notify_next: bool = True, data: dict | None = None,
          ) -> Dispute:
    _check_actor(actor, dispute, kind)
    # No select_related here: PostgreSQL cannot lock the nullable side of an outer join.
    dispute = workflow.locked(Dispute, dispute.pk, expected_version=version)
    now = timezone.now()
    from_state, before, body = dispute.state, dispute.deadline_at, dispute.body
    workflow.fire(dispute, action)
    if apply is not None:
        apply(dispute)
    if restart_clock:
        _start_step(dispute, now)
    dispute.version += 1
    dispute.save()
    workflow.log(dispute, DisputeTransition, action=action, from_state=from_state, actor=actor,
                 reason=reason, deadline_before=before, data=data)
    if body is not None or dispute.body_id:
        _recount(body)
        if dispute.body_id and (body is None or dispute.body_id != body.pk):
            _recount(dispute.body)
    if notify_next and dispute.state != from_state:
        notify.notify(rules.holders(dispute), kind=f"dispute.{action}",
                      url=dispute.get_absolute_url(),
                      title=_("%(number)s needs you: %(state)s")
                      % {"number": dispute.number, "state": dispute.get_state_display()})
    _mark_dirty(dispute)
    return dispute


# --- routing (governance centre) --------------------------------------------------------------

def route_dispute(*, actor, dispute: Dispute, body: MediationBody, version=None,
                  note: str = "") -> Dispute:
    """Send the case to a body that serves its type and area; it accepts or declines."""
    _check_actor(actor, dispute, ROUTE)
    _expect(dispute, S.REGISTERED)
    if body is None:
        raise field_error("body", _("Choose the mediation body."))
    if not body.is_active:
        raise field_error("body", _("%(body)s is not active.") % {"body": body})
    if not body.serves(dispute.type_code, dispute.area_code):
        raise field_error("body", _("%(body)s does not take %(type)s disputes in %(area)s.")
                          % {"body": body, "type": dispute.type_display(),
                             "area": dispute.area.name})

    def apply(d):
        d.body = body
        d.routed_at = timezone.now()
        d.mediators.clear()
        d.lead_mediator = None

    with transaction.atomic():
        return _move(actor=actor, dispute=dispute, action="route", kind=ROUTE, version=version,
                     reason=note, apply=apply, data={"body": body.pk})


def reject_dispute(*, actor, dispute: Dispute, reason: str, version=None) -> Dispute:
    """不予受理 (e.g. a party refuses mediation, or the case is already before a court)."""
    reason = _need(reason)

    def apply(d):
        d.closed_at = timezone.now()

    with transaction.atomic():
        return _move(actor=actor, dispute=dispute, action="reject", kind=ROUTE,
                     version=version, reason=reason, apply=apply)


def escalate_dispute(*, actor, dispute: Dispute, reason: str, version=None) -> Dispute:
    """Hand routing to the next level up (the case is beyond this level)."""
    reason = _need(reason)

    def apply(d):
        if d.owner_level <= 1:
            raise field_error("reason", _("The city level is the highest level."))
        d.owner_level -= 1
        d.body = None
        d.proposed_body = d.proposed_body or rules.propose(d.type_code, d.area)

    with transaction.atomic():
        dispute = _move(actor=actor, dispute=dispute, action="escalate", kind=ROUTE,
                        version=version, reason=reason, apply=apply, notify_next=False)
        notify.notify(rules.dispatchers(dispute), kind="dispute.escalated",
                      url=dispute.get_absolute_url(),
                      title=_("%(number)s was escalated to your level")
                      % {"number": dispute.number})
        return dispute


# --- the body ---------------------------------------------------------------------------------

def decline_dispute(*, actor, dispute: Dispute, reason: str, version=None) -> Dispute:
    """The body does not take it (not its type, over capacity …): back to the centre."""
    reason = _need(reason)

    def apply(d):
        d.decline_count += 1
        d.body = None
        d.proposed_body = None

    with transaction.atomic():
        return _move(actor=actor, dispute=dispute, action="decline", kind=MEDIATE,
                     version=version, reason=reason, apply=apply)


def _body_mediators(dispute: Dispute, mediators) -> list[Mediator]:
    chosen = list(mediators or [])
    if not chosen:
        raise field_error("mediators", _("Choose at least one mediator."))
    if any(m.body_id != dispute.body_id or not m.is_active for m in chosen):
        raise field_error("mediators", _("Choose active mediators of %(body)s.")
                          % {"body": dispute.body})
    return chosen


def accept_dispute(*, actor, dispute: Dispute, mediators, lead=None, version=None,
                   note: str = "") -> Dispute:
    """受理: the body takes the case and names its mediators (第十九条); the month starts."""
    _check_actor(actor, dispute, MEDIATE)
    _expect(dispute, S.ASSIGNED)
    chosen = _body_mediators(dispute, mediators)
    lead = lead or chosen[0]
    if lead not in chosen:
        raise field_error("lead", _("The lead mediator must be one of the mediators."))

    def apply(d):
        d.accepted_at = timezone.now()
        d.lead_mediator = lead

    with transaction.atomic():
        dispute = _move(actor=actor, dispute=dispute, action="accept", kind=MEDIATE,
                        version=version, reason=note, apply=apply, notify_next=False,
                        data={"mediators": [m.pk for m in chosen]})
        dispute.mediators.set(chosen)
        return dispute


def record_session(*, actor, dispute: Dispute, held_at, place: str, participants: str,
                   record: str, mediators=(), files: list[FileData] | None = None,
                   version=None) -> MediationSession:
    """A mediation session with its record (笔录) and any evidence brought to it."""
    _check_actor(actor, dispute, MEDIATE)
    _expect(dispute, S.MEDIATING)
    if not isinstance(held_at, dt.datetime):
        raise field_error("held_at", _("Enter the date and time of the session."))
    if held_at > timezone.now() + dt.timedelta(minutes=5):
        raise field_error("held_at", _("A session is recorded after it was held."))
    place = _need(place, "place")[:100]
    participants = _need(participants, "participants")[:300]
    record = _need(record, "record")
    chosen = list(mediators) if mediators else []
    if chosen:
        _body_mediators(dispute, chosen)
    with transaction.atomic():
        dispute = _move(actor=actor, dispute=dispute, action="record_session", kind=MEDIATE,
                        version=version, reason=place, restart_clock=False, notify_next=False)
        if dispute.accepted_at and held_at < dispute.accepted_at - dt.timedelta(days=1):
            raise field_error("held_at", _("The session is dated before the case was "
                                           "accepted."))
        session = MediationSession.objects.create(
            dispute=dispute, held_at=held_at, place=place, participants=participants,
            record=record, recorded_by=actor if actor and actor.pk else None)
        session.mediators.set(chosen or ([dispute.lead_mediator] if dispute.lead_mediator
                                         else []))
        for item in files or []:
            add_file(actor=actor, dispute=dispute, item=FileData(item.data, item.filename,
                                                                 FileKind.RECORD
                                                                 if item.kind == FileKind.RECORD
                                                                 else FileKind.EVIDENCE),
                     session=session)
        return session


def extend_mediation(*, actor, dispute: Dispute, days: int, reason: str,
                     version=None) -> Dispute:
    """More time to conclude, with a reason (at most twice, at most 30 days each)."""
    _check_actor(actor, dispute, MEDIATE)
    reason = _need(reason)
    try:
        days = int(days)
    except (TypeError, ValueError):
        raise field_error("days", _("Enter a whole number of days.")) from None
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise field_error("days", _("Extend by 1 to %(max)s days.") % {"max": MAX_EXTENSION_DAYS})

    def apply(d):
        if d.extension_count >= MAX_EXTENSIONS:
            raise field_error("days", _("This case has already been extended %(n)s times.")
                              % {"n": d.extension_count})
        d.extension_count += 1
        workflow.extend_deadline(d, amount=days, unit="days")
        d.resolve_by = timezone.localtime(d.deadline_at).date()

    with transaction.atomic():
        return _move(actor=actor, dispute=dispute, action="extend", kind=MEDIATE,
                     version=version, reason=reason, apply=apply, restart_clock=False,
                     notify_next=False, data={"days": days})


def _clean_agreement(data: AgreementData) -> dict:
    errors: dict[str, list[str]] = {}

    def need(name, value, message):
        if not (value or "").strip():
            errors.setdefault(name, []).append(str(message))
        return (value or "").strip()

    values = {
        "form": data.form,
        "facts": need("facts", data.facts, _("State the main facts of the dispute.")),
        "issues": need("issues", data.issues, _("State the matters in dispute.")),
        "responsibilities": (data.responsibilities or "").strip(),
        "performance_method": need("performance_method", data.performance_method,
                                   _("State how the agreement is to be performed."))[:200],
        "performance_place": (data.performance_place or "").strip()[:100],
        "place": (data.place or "").strip()[:100],
    }
    if data.form not in AgreementForm.values:
        errors.setdefault("form", []).append(str(_("Choose written or oral.")))
    terms = [str(t).strip() for t in (data.terms or []) if str(t).strip()]
    if not terms:
        errors.setdefault("terms", []).append(str(_("State what the parties agreed.")))
    values["terms"] = terms
    try:
        values["performance_due"] = _date(data.performance_due, "performance_due", past=False)
    except ServiceError as exc:
        for name, messages in exc.field_messages.items():
            errors.setdefault(name, []).extend(messages)
    if data.copies is not None:
        try:
            values["copies"] = int(data.copies)
            if not 2 <= values["copies"] <= 20:
                raise ValueError
        except (TypeError, ValueError):
            errors.setdefault("copies", []).append(str(_("Between 2 and 20 copies.")))
    if errors:
        raise ServiceError("invalid", field_messages=errors)
    return values


def _agreement_number(dispute: Dispute) -> str:
    year = timezone.localdate().year
    prefix = dispute.body.number_prefix or dispute.body.org.short_name or "调"
    count = Agreement.objects.filter(dispute__body=dispute.body,
                                     drafted_at__year=year).count() + 1
    return f"{prefix}〔{year}〕第{count}号"


def conclude_dispute(*, actor, dispute: Dispute, outcome: str, note: str = "",
                     agreement: AgreementData | None = None, guidance: str = "",
                     version=None) -> Dispute:
    """The end of mediation: an agreement (written → to be signed; oral → in force at once,
    第三十条), or a failure with where the parties were directed (第二十六条), or withdrawal."""
    # Before routing, the centre records a withdrawal; afterwards the body does.
    kind = ROUTE if dispute.state == S.REGISTERED else MEDIATE
    _check_actor(actor, dispute, kind)
    if outcome == Outcome.WITHDRAWN:
        _expect(dispute, S.REGISTERED, S.ASSIGNED, S.MEDIATING)
    else:
        _expect(dispute, S.MEDIATING)
    if outcome not in Outcome.values:
        raise field_error("outcome", _("Choose the outcome."))
    values = None
    if outcome in AGREED_OUTCOMES:
        if agreement is None:
            raise field_error("agreement", _("A successful mediation ends in an agreement."))
        values = _clean_agreement(agreement)
        action = "agree" if values["form"] == AgreementForm.WRITTEN else "agree_orally"
    else:
        if outcome == Outcome.FAILURE and guidance not in Guidance.values:
            raise field_error("guidance", _("Record where the parties were directed "
                                            "(litigation, arbitration …)."))
        note = _need(note, "note", _("Record how it ended."))
        action = "fail" if outcome == Outcome.FAILURE else "withdraw"

    def apply(d):
        now = timezone.now()
        d.outcome = outcome
        d.outcome_note = (note or "").strip()
        d.concluded_at = now
        d.guidance = guidance if outcome == Outcome.FAILURE else ""
        if d.state == S.CLOSED:
            d.closed_at = now
        if action == "agree_orally":
            d.follow_up_due = values["performance_due"]

    with transaction.atomic():
        dispute = _move(actor=actor, dispute=dispute, action=action, kind=kind,
                        version=version, reason=note, apply=apply, data={"outcome": outcome})
        if values is not None:
            Agreement.objects.filter(dispute=dispute, is_current=True).update(is_current=False)
            oral = values["form"] == AgreementForm.ORAL
            Agreement.objects.create(
                dispute=dispute, area_code=dispute.area_code,
                number="" if oral else _agreement_number(dispute),
                effective_on=timezone.localdate() if oral else None,
                fulfilment=Fulfilment.PENDING, **values)
        return dispute


def update_agreement(*, actor, dispute: Dispute, data: AgreementData,
                     version=None) -> Agreement:
    """Correct the draft before it is signed."""
    values = _clean_agreement(data)
    _check_actor(actor, dispute, MEDIATE)
    with transaction.atomic():
        dispute = workflow.locked(Dispute, dispute.pk, expected_version=version)
        if dispute.state != S.AGREED:
            raise field_error("agreement", _("Only an unsigned agreement can be changed."))
        agreement = dispute.current_agreement()
        for name, value in values.items():
            setattr(agreement, name, value)
        agreement.save()
        dispute.version += 1
        dispute.save(update_fields=["version", "updated_at"])
        workflow.log(dispute, DisputeTransition, action="edit_agreement",
                     from_state=dispute.state, actor=actor)
        return agreement


def sign_agreement(*, actor, dispute: Dispute, signatures: list[dict], signed_on=None,
                   version=None) -> Dispute:
    """Record the signatures: every party and a mediator. The agreement takes effect that day
    and the 30 days for judicial confirmation start (第三十三条)."""
    _check_actor(actor, dispute, MEDIATE)
    _expect(dispute, S.AGREED)
    agreement = dispute.current_agreement()
    signed_on = _date(signed_on or timezone.localdate(), "signed_on", past=True)
    names = {str(s.get("name", "")).strip() for s in signatures or [] if s}
    parties = list(dispute.parties.values_list("name", flat=True))
    missing = [p for p in parties if p not in names]
    if missing:
        raise field_error("signatures", _("Not signed by: %(names)s")
                          % {"names": "、".join(missing)})
    mediator_names = set(dispute.mediators.values_list("name", flat=True))
    if not names & mediator_names:
        raise field_error("signatures", _("A mediator of the case must sign too."))

    def apply(d):
        agreement.signatures = [{"name": n, "role": "mediator" if n in mediator_names else
                                 "party"} for n in sorted(names)]
        agreement.effective_on = signed_on
        agreement.save(update_fields=["signatures", "effective_on"])
        d.follow_up_due = agreement.performance_due

    with transaction.atomic():
        if agreement is None:
            raise field_error("signatures", _("There is no agreement to sign."))
        return _move(actor=actor, dispute=dispute, action="sign", kind=MEDIATE,
                     version=version, apply=apply, data={"signed_on": signed_on.isoformat()})


def apply_for_confirmation(*, actor, dispute: Dispute, court: str, applied_on=None,
                           ) -> JudicialConfirmation:
    """The parties' joint application to a court, within 30 days of the agreement taking
    effect."""
    _check_actor(actor, dispute, MEDIATE)
    court = _need(court, "court", _("Name the court."))[:100]
    applied_on = _date(applied_on or timezone.localdate(), "applied_on", past=True)
    agreement = dispute.current_agreement()
    if agreement is None or agreement.effective_on is None:
        raise field_error("applied_on", _("Only an agreement in force can be confirmed."))
    if agreement.form != AgreementForm.WRITTEN:
        raise field_error("applied_on", _("Judicial confirmation needs a written agreement."))
    if applied_on < agreement.effective_on:
        raise field_error("applied_on", _("The application predates the agreement."))
    if applied_on > agreement.confirmation_deadline:
        raise field_error("applied_on", _("Judicial confirmation must be applied for within 30 "
                                          "days of the agreement taking effect (by %(date)s).")
                          % {"date": agreement.confirmation_deadline.isoformat()})
    if dispute.confirmations.filter(result=ConfirmationResult.PENDING).exists():
        raise field_error("court", _("An application is already before a court."))
    with transaction.atomic():
        confirmation = JudicialConfirmation.objects.create(
            dispute=dispute, court=court, applied_on=applied_on,
            recorded_by=actor if actor and actor.pk else None)
        workflow.log(dispute, DisputeTransition, action="apply_confirmation",
                     from_state=dispute.state, actor=actor, reason=court)
        _mark_dirty(dispute)
        return confirmation


def record_ruling(*, actor, confirmation: JudicialConfirmation, result: str, ruled_on=None,
                  ruling_number: str = "", note: str = "") -> JudicialConfirmation:
    dispute = confirmation.dispute
    _check_actor(actor, dispute, MEDIATE)
    if result not in (ConfirmationResult.VALID, ConfirmationResult.INVALID,
                      ConfirmationResult.WITHDRAWN):
        raise field_error("result", _("Choose the court's result."))
    if confirmation.result != ConfirmationResult.PENDING:
        raise field_error("result", _("The court's result has already been recorded."))
    ruled_on = _date(ruled_on or timezone.localdate(), "ruled_on", past=True)
    if ruled_on < confirmation.applied_on:
        raise field_error("ruled_on", _("The ruling predates the application."))
    with transaction.atomic():
        confirmation.result = result
        confirmation.ruled_on = ruled_on
        confirmation.ruling_number = (ruling_number or "").strip()[:60]
        confirmation.note = (note or "").strip()[:300]
        confirmation.save()
        workflow.log(dispute, DisputeTransition, action="ruling", from_state=dispute.state,
                     actor=actor, reason=confirmation.get_result_display(),
                     data={"result": result})
        _mark_dirty(dispute)
        return confirmation


def record_follow_up(*, actor, dispute: Dispute, visited_on, method: str, fulfilment: str,
                     satisfaction: str = "", note: str = "", version=None) -> FollowUp:
    """回访 while the agreement is performed: fulfilled closes the case; broken raises an alert
    and the body can mediate again."""
    _check_actor(actor, dispute, MEDIATE)
    _expect(dispute, S.PERFORMING)
    visited_on = _date(visited_on, "visited_on", past=True)
    if method not in FollowUpMethod.values:
        raise field_error("method", _("Choose how the follow-up was made."))
    if fulfilment not in (Fulfilment.PERFORMING, Fulfilment.FULFILLED, Fulfilment.BROKEN):
        raise field_error("fulfilment", _("Choose how the agreement is being kept."))
    if satisfaction and satisfaction not in Satisfaction.values:
        raise field_error("satisfaction", _("Unknown satisfaction."))
    note = (note or "").strip()
    if fulfilment == Fulfilment.BROKEN and not note:
        raise field_error("note", _("Say how the agreement was broken."))
    box: dict = {}

    def apply(d):
        agreement = d.current_agreement()
        agreement.fulfilment = fulfilment
        if fulfilment == Fulfilment.FULFILLED:
            agreement.fulfilled_on = visited_on
        agreement.save(update_fields=["fulfilment", "fulfilled_on"])
        if satisfaction:
            d.satisfaction = satisfaction
        if fulfilment == Fulfilment.FULFILLED:
            d.closed_at = timezone.now()
            d.follow_up_due = None
        elif fulfilment == Fulfilment.PERFORMING:
            d.follow_up_due = max(agreement.performance_due, visited_on + dt.timedelta(
                days=rules.FOLLOW_UP_EVERY_DAYS))
        box["visit"] = FollowUp(dispute=d, visited_on=visited_on, method=method,
                                fulfilment=fulfilment, satisfaction=satisfaction, note=note,
                                by=actor if actor and actor.pk else None)

    with transaction.atomic():
        action = "close" if fulfilment == Fulfilment.FULFILLED else "follow_up"
        dispute = _move(actor=actor, dispute=dispute, action=action, kind=MEDIATE,
                        version=version, reason=note, apply=apply, notify_next=False,
                        data={"fulfilment": fulfilment})
        box["visit"].save()
        if fulfilment == Fulfilment.BROKEN:
            raise_alert(dispute, AlertKind.ESCALATING,
                        _("The agreement of %(number)s was broken: %(note)s")
                        % {"number": dispute.number, "note": note})
        return box["visit"]


def remediate_dispute(*, actor, dispute: Dispute, reason: str, version=None) -> Dispute:
    """The agreement was broken (or ruled invalid): mediate again, with a new month."""
    reason = _need(reason)

    def apply(d):
        d.remediation_count += 1
        d.outcome = ""
        d.concluded_at = None
        d.follow_up_due = None

    with transaction.atomic():
        return _move(actor=actor, dispute=dispute, action="remediate", kind=MEDIATE,
                     version=version, reason=reason, apply=apply, notify_next=False)


# --- files ------------------------------------------------------------------------------------

_SIGNATURES = {
    b"%PDF-": ("pdf", "application/pdf"),
    b"\x89PNG\r\n\x1a\n": ("png", "image/png"),
    b"\xff\xd8\xff": ("jpg", "image/jpeg"),
    b"PK\x03\x04": ("docx", "application/vnd.openxmlformats-officedocument."
                            "wordprocessingml.document"),
}


def add_file(*, actor, dispute: Dispute, item: FileData, session=None) -> CaseFile:
    """File a PDF, image or Word document in the case archive (type read from the content)."""
    from django.core.files.base import ContentFile

    _check_actor(actor, dispute, MEDIATE)
    if item.kind not in FileKind.values:
        raise field_error("files", _("Unknown kind of file."))
    if not item.data:
        raise field_error("files", _("%(file)s is empty.") % {"file": item.filename})
    if len(item.data) > MAX_FILE_BYTES:
        raise field_error("files", _("%(file)s is larger than 20 MB.") % {"file": item.filename})
    kind = next((v for sig, v in _SIGNATURES.items() if item.data.startswith(sig)), None)
    if kind is None:
        raise field_error("files", _("%(file)s is not a PDF, JPEG, PNG or Word (.docx) file.")
                          % {"file": item.filename})
    extension, content_type = kind
    if extension in ("png", "jpg"):
        from zhili.core.images import ImageRejected, process_image

        try:  # images are re-encoded without their metadata (location, device)
            image = process_image(item.data, item.filename, max_pixels=52_000_000)
        except ImageRejected as exc:
            raise field_error("files", _("%(file)s: %(problem)s")
                              % {"file": item.filename, "problem": exc}) from None
        data, extension, content_type = image.content, image.extension, image.content_type
    else:
        data = item.data
    stored = CaseFile(dispute=dispute, session=session, kind=item.kind,
                      filename=(item.filename or f"file.{extension}")[:200],
                      extension=extension, content_type=content_type, size=len(data),
                      sha256=hashlib.sha256(data).hexdigest(),
                      uploaded_by=actor if actor and actor.pk else None)
    stored.file.save(f"file.{extension}", ContentFile(data), save=False)
    stored.save()
    return stored


# --- supervision and risk ---------------------------------------------------------------------

def supervise_dispute(*, actor, dispute: Dispute, message: str) -> DisputeSupervision:
    """督办: an upper level orders the body (or centre) to act, with an answer due."""
    _check_actor(actor, dispute, SUPERVISE)
    message = _need(message, "message")
    if not dispute.is_open:
        raise field_error("message", _("The case is already closed."))
    with transaction.atomic():
        order = DisputeSupervision(dispute=dispute, area_code=dispute.area_code,
                                   issued_by=actor if actor and actor.pk else None,
                                   message=message)
        workflow.set_deadline(order, step="answer", start=timezone.now(),
                              amount=SUPERVISION_ANSWER_DAYS, unit="work_days")
        order.save()
        Dispute.objects.filter(pk=dispute.pk).update(supervised=True,
                                                     updated_at=timezone.now())
        workflow.log(dispute, DisputeTransition, action="supervise", from_state=dispute.state,
                     actor=actor, reason=message, data={"order": order.pk})
        notify.notify(rules.holders(dispute), kind="dispute.supervision",
                      url=dispute.get_absolute_url(),
                      title=_("督办: %(number)s") % {"number": dispute.number})
        return order


def answer_supervision(*, actor, order: DisputeSupervision, answer: str) -> DisputeSupervision:
    dispute = order.dispute
    _check_actor(actor, dispute, MEDIATE if dispute.body_id else ROUTE)
    answer = _need(answer, "answer")
    with transaction.atomic():
        order = workflow.locked(DisputeSupervision, order.pk)
        workflow.fire(order, "answer_order")
        order.answer = answer
        order.answered_by = actor if actor and actor.pk else None
        order.answered_at = timezone.now()
        workflow.clear_deadline(order)
        order.save()
        workflow.log(dispute, DisputeTransition, action="answer_supervision",
                     from_state=dispute.state, actor=actor, reason=answer,
                     data={"order": order.pk})
        if order.issued_by_id:
            notify.notify([order.issued_by], kind="dispute.supervision_answered",
                          url=dispute.get_absolute_url(),
                          title=_("督办 of %(number)s answered") % {"number": dispute.number})
        return order


def raise_alert(dispute: Dispute, kind: str, message, related=()) -> DisputeAlert | None:
    """One open alert per case and kind; the centre is told once."""
    if DisputeAlert.objects.filter(dispute=dispute, kind=kind,
                                   state=AlertState.OPEN).exists():
        return None
    try:
        with transaction.atomic():
            alert = DisputeAlert.objects.create(dispute=dispute, area_code=dispute.area_code,
                                                kind=kind, message=str(message)[:300],
                                                related=list(related))
    except IntegrityError:  # raised concurrently by another writer
        return None
    notify.notify(rules.dispatchers(dispute), kind="dispute.alert",
                  url=dispute.get_absolute_url(), title=str(message)[:200])
    return alert


def check_risks(dispute: Dispute, parties: list[Party] | None = None) -> list[DisputeAlert]:
    """Group disputes, the same parties again within a year, the same place again within 90
    days, and cases flagged as likely to intensify raise alerts to the centre."""
    raised = []
    parties = parties if parties is not None else list(dispute.parties.all())

    def add(kind, message, related=()):
        alert = raise_alert(dispute, kind, message, related)
        if alert is not None:
            raised.append(alert)

    if dispute.is_group:
        add(AlertKind.GROUP, _("%(number)s is a group dispute (%(n)s people).")
            % {"number": dispute.number, "n": dispute.people_count})
    if dispute.may_intensify or dispute.stability_risk:
        add(AlertKind.ESCALATING, _("%(number)s may intensify or affect stability.")
            % {"number": dispute.number})
    since = dispute.registered_at - dt.timedelta(days=REPEAT_WINDOW_DAYS)
    keys = [p.id_number_bidx for p in parties if p.id_number_bidx]
    usccs = [p.uscc for p in parties if p.uscc]
    if keys or usccs:
        from django.db.models import Q

        match = Q(id_number_bidx__in=keys) if keys else Q(pk__in=[])
        if usccs:
            match |= Q(uscc__in=usccs)
        earlier = sorted(set(Party.objects.filter(match, dispute__registered_at__gte=since)
                             .exclude(dispute=dispute).values_list("dispute_id", flat=True)))
        if earlier:
            add(AlertKind.REPEAT_PARTIES,
                _("The parties of %(number)s were in %(n)s other dispute(s) within a year.")
                % {"number": dispute.number, "n": len(earlier)}, earlier[:20])
    place_since = dispute.registered_at - dt.timedelta(days=PLACE_WINDOW_DAYS)
    same_place = list(Dispute.objects.filter(area_code=dispute.area_code, place=dispute.place,
                                             registered_at__gte=place_since)
                      .exclude(pk=dispute.pk).values_list("pk", flat=True)[:20])
    if len(same_place) + 1 >= PLACE_REPEAT_COUNT:
        add(AlertKind.REPEAT_PLACE,
            _("%(n)s disputes at %(place)s within 90 days.")
            % {"n": len(same_place) + 1, "place": dispute.place}, same_place)
    return raised


def handle_alert(*, actor, alert: DisputeAlert, note: str) -> DisputeAlert:
    _check_actor(actor, alert.dispute, ROUTE)
    note = _need(note, "note")
    if alert.state != AlertState.OPEN:
        raise field_error("note", _("This alert has already been handled."))
    alert.state = AlertState.HANDLED
    alert.handled_by = actor
    alert.handled_note = note[:300]
    alert.save(update_fields=["state", "handled_by", "handled_note"])
    return alert


# --- the registry of bodies -------------------------------------------------------------------

def save_body(*, actor, org, kind: str, type_codes: list[str], capacity: int = 50,
              accept_days: int = 3, mediate_days: int = 30, number_prefix: str = "",
              phone: str = "", is_active: bool = True, body: MediationBody | None = None,
              ) -> MediationBody:
    """Create or change a body of the registry (one per mediation organisation)."""
    from zhili.disputes.choices import BodyKind

    require(actor, MediationBody, "change" if body else "add")
    require_code_in_scope(actor, org.area_code, field_name="org")
    if org.kind != "mediation":
        raise field_error("org", _("Choose an organisation of the kind “mediation body”."))
    if kind not in BodyKind.values:
        raise field_error("kind", _("Choose the kind of body."))
    codes_ = []
    for code in type_codes or []:
        code = str(code).strip()
        if code and code not in codetables.TYPES:
            raise field_error("type_codes", _("Unknown dispute type “%(code)s”.")
                              % {"code": code})
        if code:
            codes_.append(code)
    for name, value, low, high in (("capacity", capacity, 1, 100000),
                                   ("accept_days", accept_days, 1, 30),
                                   ("mediate_days", mediate_days, 1, 90)):
        try:
            if not low <= int(value) <= high:
                raise ValueError
        except (TypeError, ValueError):
            raise field_error(name, _("Enter a number from %(low)s to %(high)s.")
                              % {"low": low, "high": high}) from None
    body = body or MediationBody(org=org)
    if body.pk is None and MediationBody.objects.filter(org=org).exists():
        raise field_error("org", _("%(org)s is already in the registry.") % {"org": org})
    body.org, body.kind, body.type_codes = org, kind, sorted(set(codes_))
    body.area_code = org.area_code
    body.capacity, body.accept_days = int(capacity), int(accept_days)
    body.mediate_days = int(mediate_days)
    body.number_prefix = (number_prefix or "").strip()[:20]
    body.phone = (phone or "").strip()[:40]
    body.is_active = bool(is_active)
    with transaction.atomic():
        body.save()
        audit.record(actor=actor, action="dispute.body.save", target=body,
                     area_code=body.area_code)
    return body


def set_agreement_template(*, actor, body: MediationBody, data: bytes,
                           filename: str) -> MediationBody:
    """A body's own Word template for its agreements, checked before it is kept."""
    from django.core.files.base import ContentFile

    from zhili.core.documents import validate_docx_template
    from zhili.disputes.documents import TEMPLATE_VARIABLES

    require(actor, MediationBody, "change")
    problems = validate_docx_template(data, allowed=TEMPLATE_VARIABLES)
    if problems:
        raise ServiceError("invalid", field_messages={"template": problems})
    body.agreement_template.save(f"body{body.pk}.docx", ContentFile(data), save=True)
    audit.record(actor=actor, action="dispute.body.template", target=body,
                 area_code=body.area_code, changes={"filename": filename[:100]})
    return body


def save_mediator(*, actor, body: MediationBody, name: str, phone: str = "", user=None,
                  full_time: bool = False, speciality: str = "", is_active: bool = True,
                  mediator: Mediator | None = None) -> Mediator:
    from zhili.people import validation

    require(actor, Mediator, "change" if mediator else "add")
    if not MediationBody.objects.in_scope(actor).filter(pk=body.pk).exists():
        raise field_error("body", _("No such body within your reach."))
    name = _need(name, "name")[:50]
    mediator = mediator or Mediator(body=body)
    mediator.body, mediator.area_code, mediator.name = body, body.area_code, name
    mediator.user, mediator.full_time = user, bool(full_time)
    mediator.speciality = (speciality or "").strip()[:100]
    mediator.is_active = bool(is_active)
    if phone:
        try:
            pii.assign(mediator, "phone", validation.clean_phone(phone))
        except validation.BadValue as exc:
            raise field_error("phone", str(exc)) from None
    with transaction.atomic():
        mediator.save()
    return mediator
