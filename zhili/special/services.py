"""Writes to special-population records: intake, details, level and risk, helper team, visits,
lost contact, release. Handovers are in `handovers.py`, categories in `config_services.py`.

Every function checks the actor (permission, and that the record's *responsible* area is in
reach: during a handover the receiving side sees the record but the sender stays responsible),
locks the record, writes, logs the transition, writes the audit row and notifies — in one
transaction. Person names never appear in notifications or audit rows unmasked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import audit, notify, pii, workflow
from zhili.core.scoping import get_scope, require, require_code_in_scope
from zhili.core.services import ServiceError, field_error
from zhili.people.models import Person
from zhili.special import recipients
from zhili.special.choices import (
    RISK_LEVELS,
    HelperRole,
    ManagementLevel,
    ReleaseReason,
    RiskScale,
    SupervisionState,
    VisitMethod,
)
from zhili.special.fields import clean_details, definitions_of
from zhili.special.models import (
    HelperMember,
    RiskChange,
    SpecialCategory,
    Supervision,
    SupervisionTransition,
    Visit,
    VisitPhoto,
)

S = SupervisionState
# Warn this many days (at most a fifth of the interval) before a visit is due.
WARN_DAYS = 3
CITY_BOX = (115.0, 28.0, 125.0, 36.0)  # a generous sanity box around the province
FUTURE_SKEW = dt.timedelta(minutes=10)  # phones' clocks run a little fast


@dataclass
class Photo:
    data: bytes
    filename: str


@dataclass
class Helper:
    role: str
    name: str
    phone: str = ""
    id_number: str = ""
    address: str = ""
    relation: str = ""
    org: str = ""
    user: object = None


# --- small helpers ------------------------------------------------------------------------------

def _need(text: str, field_name: str = "reason") -> str:
    text = (text or "").strip()
    if not text:
        raise field_error(field_name, _("Give a reason."))
    return text


def who(supervision: Supervision) -> str:
    """How a record is named in notifications and audit rows: masked name and category."""
    return f"{pii.mask_name(supervision.person.name)} · {supervision.category.name}"


def check_responsible(actor, supervision: Supervision, model, action: str) -> None:
    """The actor holds the permission and their reach covers the responsible area."""
    require(actor, model, action)
    if not Supervision.objects.in_scope(actor).filter(pk=supervision.pk).exists():
        raise ServiceError("out_of_scope", _("This record is outside your area of "
                                             "responsibility."), status=404)
    if not get_scope(actor).covers_code(supervision.area_code):
        raise ServiceError("not_responsible", _(
            "This person is being handed over to your area; until the handover is accepted "
            "the sending area remains responsible."), status=403)


def _open(supervision: Supervision) -> None:
    if supervision.state == S.RELEASED:
        raise ServiceError("not_under_management", _(
            "%(who)s is not under management (released on %(date)s).")
            % {"who": who(supervision), "date": supervision.released_on}, status=409)


def _locked(supervision: Supervision, version: int | None) -> Supervision:
    # No select_related: on PostgreSQL FOR UPDATE would lock the person and category rows too.
    return workflow.locked(Supervision, supervision.pk, expected_version=version)


def _log(supervision: Supervision, *, action: str, actor, from_state: str | None = None,
         reason: str = "", data: dict | None = None, deadline_before=None):
    return workflow.log(supervision, SupervisionTransition, action=action,
                        from_state=supervision.state if from_state is None else from_state,
                        actor=actor, reason=reason, data=data, deadline_before=deadline_before)


def _audit(actor, action: str, supervision: Supervision, changes: dict | None = None) -> None:
    audit.record(actor=actor, action=f"special.{action}", target=supervision,
                 area_code=supervision.area_code,
                 changes={"category": supervision.category.code, **(changes or {})})


def check_level(level: str) -> str:
    if level not in ManagementLevel.values:
        raise field_error("level", _("Choose a management level."))
    return level


def check_risk(category: SpecialCategory, risk_level, field_name: str = "risk_level") -> str:
    value = str(risk_level if risk_level is not None else "").strip()
    allowed = [k for k, _label in RISK_LEVELS[RiskScale(category.risk_scale)]]
    if value not in allowed:
        raise field_error(field_name, _("Choose one of the risk levels of this category: "
                                        "%(levels)s.") % {"levels": ", ".join(allowed)})
    return value


def plan_next_visit(supervision: Supervision, start: dt.datetime) -> None:
    """Start the visit clock: due after the level's interval (working-day calendar)."""
    amount = supervision.category.visit_interval(supervision.level)
    warn_fraction = max(0.5, 1 - min(WARN_DAYS, 0.2 * amount) / amount)
    workflow.set_deadline(supervision, step="visit", start=start, amount=amount,
                          unit=supervision.category.visit_unit, warn_fraction=warn_fraction)


# --- finding the person -------------------------------------------------------------------------

def find_person(*, actor, id_number: str) -> Person:
    """The person in the actor's reach with this ID number, found by its blind index."""
    text = (id_number or "").strip()
    if not text:
        raise field_error("id_number", _("Enter the person's ID number."))
    person = Person.objects.in_scope(actor).filter(
        pii.lookup_q(Person, "id_number", text)).first()
    if person is not None:
        return person
    try:
        pii.validate_id_number(text)
    except pii.PiiValueError as exc:
        raise field_error("id_number", exc.message) from None
    raise field_error("id_number", _("Nobody with this ID number is registered in your area. "
                                     "Register the person in the population registry first."))


# --- intake -------------------------------------------------------------------------------------

@transaction.atomic
def put_under_management(*, actor, person: Person | None, category: SpecialCategory | None,
                         level: str, risk_level: str, details: dict | None = None,
                         started_on: dt.date | None = None, note: str = "",
                         helpers: list[Helper] | None = None) -> Supervision:
    """列管: put a person under management in a category, planning the first visit."""
    require(actor, Supervision, "add")
    if person is None or not Person.objects.in_scope(actor).filter(pk=person.pk).exists():
        raise field_error("person", _("No such person within your reach."))
    if not person.is_active:
        raise field_error("person", _("This person is marked as moved away or deceased in the "
                                      "registry."))
    if category is None or not category.is_active:
        raise field_error("category", _("Choose an active category."))
    require_code_in_scope(actor, person.area_code, field_name="person")
    existing = Supervision.objects.open().filter(person=person, category=category).first()
    if existing is not None:
        raise _already(person, category, existing)
    problems: dict[str, list[str]] = {}
    for name, check in (("level", lambda: check_level(level)),
                        ("risk_level", lambda: check_risk(category, risk_level))):
        try:
            check()
        except ServiceError as exc:
            problems.update(exc.field_messages or {name: [exc.message]})
    try:
        cleaned = clean_details(definitions_of(category), details)
    except ServiceError as exc:
        problems.update(exc.field_messages)
        cleaned = {}
    today = timezone.localdate()
    started_on = started_on or today
    if started_on > today:
        problems["started_on"] = [_("This date is in the future.")]
    if problems:
        raise ServiceError("invalid", field_messages=problems)
    now = timezone.now()
    supervision = Supervision(person=person, category=category, level=level,
                              risk_level=str(risk_level), details=cleaned, area=person.area,
                              area_code=person.area_code, started_on=started_on,
                              note=(note or "").strip(), created_by=actor)
    plan_next_visit(supervision, now)
    try:
        with transaction.atomic():
            supervision.save()
    except IntegrityError:  # someone put the same person under management a moment ago
        existing = Supervision.objects.open().filter(person=person, category=category).first()
        raise _already(person, category, existing) from None
    RiskChange.objects.create(supervision=supervision, from_level="",
                              to_level=supervision.risk_level, reason=_("Put under management"),
                              actor=actor, actor_name=getattr(actor, "username", ""))
    for helper in helpers or []:
        _add_helper(supervision, helper)
    _log(supervision, action="intake", actor=actor, from_state="", reason=note,
         data={"level": level, "risk": supervision.risk_level})
    _audit(actor, "intake", supervision, {"level": level, "risk_level": supervision.risk_level})
    notify.notify(recipients.visitors(supervision), kind="special.intake",
                  url=supervision.get_absolute_url(),
                  title=_("%(who)s is now under management; first visit due %(date)s")
                  % {"who": who(supervision),
                     "date": timezone.localtime(supervision.deadline_at).strftime("%m-%d")})
    return supervision


def _already(person, category, existing) -> ServiceError:
    message = _("%(name)s is already under management as %(category)s (since %(date)s).") % {
        "name": pii.mask_name(person.name), "category": category.name,
        "date": existing.started_on if existing else "—"}
    return ServiceError("already_managed", field_messages={"category": [message]}, status=409)


# --- details, level, risk -----------------------------------------------------------------------

@transaction.atomic
def update_details(*, actor, supervision: Supervision, details: dict, note: str = "",
                   version: int | None = None) -> Supervision:
    """Replace the category fields (checked against the definitions)."""
    check_responsible(actor, supervision, Supervision, "change")
    supervision = _locked(supervision, version)
    _open(supervision)
    cleaned = clean_details(definitions_of(supervision.category), details)
    before = supervision.details or {}
    changed = sorted(k for k in set(before) | set(cleaned) if before.get(k) != cleaned.get(k))
    if not changed:
        return supervision
    supervision.details = cleaned
    supervision.version += 1
    supervision.save(update_fields=["details", "version", "updated_at"])
    # Only which fields changed: the values (offences, diagnoses) are sensitive.
    _log(supervision, action="details", actor=actor, reason=note, data={"fields": changed})
    _audit(actor, "details", supervision, {"fields": changed})
    return supervision


@transaction.atomic
def change_level(*, actor, supervision: Supervision, level: str, reason: str,
                 version: int | None = None) -> Supervision:
    """A new management level: the visit interval changes from the last visit on."""
    reason = _need(reason)
    check_responsible(actor, supervision, Supervision, "change")
    check_level(level)
    supervision = _locked(supervision, version)
    _open(supervision)
    if level == supervision.level:
        raise field_error("level", _("The record is already at this level."))
    before, deadline_before = supervision.level, supervision.deadline_at
    supervision.level = level
    plan_next_visit(supervision, supervision.last_visit_at or timezone.make_aware(
        dt.datetime.combine(supervision.started_on, dt.time(9))))
    supervision.version += 1
    supervision.save()
    _log(supervision, action="level", actor=actor, reason=reason,
         data={"from": before, "to": level}, deadline_before=deadline_before)
    _audit(actor, "level", supervision, {"level": [before, level]})
    return supervision


def _apply_risk(supervision: Supervision, *, actor, risk_level: str, reason: str,
                visit: Visit | None = None) -> RiskChange:
    change = RiskChange.objects.create(
        supervision=supervision, from_level=supervision.risk_level, to_level=risk_level,
        reason=reason, visit=visit, actor=actor, actor_name=getattr(actor, "username", ""))
    _log(supervision, action="risk", actor=actor, reason=reason,
         data={"from": supervision.risk_level, "to": risk_level})
    _audit(actor, "risk", supervision, {"risk_level": [supervision.risk_level, risk_level]})
    supervision.risk_level = risk_level
    supervision.proposed_risk = ""
    return change


@transaction.atomic
def change_risk(*, actor, supervision: Supervision, risk_level: str, reason: str,
                version: int | None = None) -> Supervision:
    """Change the risk level — only here, always with a reason, always logged."""
    reason = _need(reason)
    check_responsible(actor, supervision, Supervision, "change")
    supervision = _locked(supervision, version)
    _open(supervision)
    risk_level = check_risk(supervision.category, risk_level)
    if risk_level == supervision.risk_level:
        raise field_error("risk_level", _("The record is already at this risk level."))
    _apply_risk(supervision, actor=actor, risk_level=risk_level, reason=reason)
    supervision.version += 1
    supervision.save(update_fields=["risk_level", "proposed_risk", "version", "updated_at"])
    return supervision


# --- helper team --------------------------------------------------------------------------------

def _add_helper(supervision: Supervision, helper: Helper) -> HelperMember:
    problems: dict[str, list[str]] = {}
    if helper.role not in HelperRole.values:
        problems["role"] = [_("Choose a role.")]
    name = (helper.name or "").strip()
    if not name:
        problems["name"] = [_("Give the name.")]
    phone = id_number = ""
    if (helper.phone or "").strip():
        try:
            phone = pii.validate_phone(helper.phone)
        except pii.PiiValueError as exc:
            problems["phone"] = [exc.message]
    if (helper.id_number or "").strip():
        try:
            id_number = pii.validate_id_number(helper.id_number).number
        except pii.PiiValueError as exc:
            problems["id_number"] = [exc.message]
    if problems:
        raise ServiceError("invalid", field_messages=problems)
    member = HelperMember(supervision=supervision, role=helper.role, name=name[:50],
                          relation=(helper.relation or "").strip()[:20],
                          org=(helper.org or "").strip()[:100], user=helper.user)
    pii.assign(member, "phone", phone or None)
    pii.assign(member, "id_number", id_number or None)
    pii.assign(member, "address", (helper.address or "").strip() or None)
    member.save()
    return member


@transaction.atomic
def add_helper(*, actor, supervision: Supervision, helper: Helper) -> HelperMember:
    """Add a member to the helper team (帮扶小组)."""
    check_responsible(actor, supervision, Supervision, "change")
    supervision = _locked(supervision, None)
    _open(supervision)
    member = _add_helper(supervision, helper)
    _log(supervision, action="helper_added", actor=actor,
         data={"role": member.role, "helper": member.pk})
    _audit(actor, "helper_added", supervision, {"role": member.role})
    return member


@transaction.atomic
def remove_helper(*, actor, supervision: Supervision, helper_id, reason: str = "") -> HelperMember:
    """A member leaves the team (kept in the history, no longer active)."""
    check_responsible(actor, supervision, Supervision, "change")
    supervision = _locked(supervision, None)
    member = supervision.helpers.filter(pk=helper_id if str(helper_id).isdigit() else 0,
                                        is_active=True).first()
    if member is None:
        raise field_error("helper", _("No such member in this record's helper team."))
    member.is_active, member.ended_at = False, timezone.now()
    member.save(update_fields=["is_active", "ended_at"])
    _log(supervision, action="helper_removed", actor=actor, reason=reason,
         data={"role": member.role, "helper": member.pk})
    _audit(actor, "helper_removed", supervision, {"role": member.role})
    return member


# --- visits -------------------------------------------------------------------------------------

def _coordinates(lat, lng) -> tuple[Decimal | None, Decimal | None]:
    if lat in (None, "") and lng in (None, ""):
        return None, None
    if lat in (None, "") or lng in (None, ""):
        raise field_error("lat", _("Give both latitude and longitude, or neither."))
    try:
        lat_d, lng_d = Decimal(str(lat)), Decimal(str(lng))
    except InvalidOperation:
        raise field_error("lat", _("The position is not a pair of numbers.")) from None
    west, south, east, north = CITY_BOX
    if not (west <= float(lng_d) <= east and south <= float(lat_d) <= north):
        raise field_error("lat", _("The position (%(lat)s, %(lng)s) is outside the city.")
                          % {"lat": lat, "lng": lng})
    return round(lat_d, 6), round(lng_d, 6)


def _store_photo(visit: Visit, photo: Photo) -> VisitPhoto:
    from django.core.files.base import ContentFile

    from zhili.core.images import ImageRejected, process_image

    try:
        image = process_image(photo.data, photo.filename, max_pixels=52_000_000)
    except ImageRejected as exc:
        raise field_error("photos", _("%(file)s: %(problem)s")
                          % {"file": photo.filename, "problem": exc}) from None
    stored = VisitPhoto(visit=visit, extension=image.extension, content_type=image.content_type,
                        size=len(image.content), width=image.width, height=image.height,
                        sha256=image.sha256,
                        gps_lat=round(Decimal(image.gps[0]), 6) if image.gps else None,
                        gps_lng=round(Decimal(image.gps[1]), 6) if image.gps else None,
                        taken_at=image.taken_at)
    stored.file.save(f"photo.{image.extension}", ContentFile(image.content), save=False)
    stored.save()
    return stored


@transaction.atomic
def record_visit(*, actor, supervision: Supervision, method: str, findings: str,
                 visited_at: dt.datetime | None = None, place: str = "", lat=None, lng=None,
                 contact_made: bool = True, risk_proposed: str = "",
                 photos: list[Photo] | None = None, client_uuid=None,
                 version: int | None = None) -> Visit:
    """走访: record a visit. Meeting the person restarts the visit clock and clears a lost
    contact; a proposed risk change is applied at once by someone who may change records, and
    otherwise waits for the centre to confirm it."""
    if client_uuid:
        replay = Visit.objects.filter(client_uuid=client_uuid).first()
        if replay is not None:
            return replay
    check_responsible(actor, supervision, Visit, "add")
    supervision = _locked(supervision, version)
    _open(supervision)
    problems: dict[str, list[str]] = {}
    now = timezone.now()
    visited_at = visited_at or now
    if visited_at > now + FUTURE_SKEW:
        problems["visited_at"] = [_("This time is in the future.")]
    elif timezone.localtime(visited_at).date() < supervision.started_on:
        problems["visited_at"] = [_("This is before the person was put under management "
                                    "(%(date)s).") % {"date": supervision.started_on}]
    if method not in VisitMethod.values:
        problems["method"] = [_("Choose how the visit was made.")]
    findings = (findings or "").strip()
    if not findings:
        problems["findings"] = [_("Describe what you found.")]
    risk_proposed = str(risk_proposed or "").strip()
    if risk_proposed:
        try:
            check_risk(supervision.category, risk_proposed, "risk_proposed")
        except ServiceError as exc:
            problems.update(exc.field_messages)
    try:
        lat, lng = _coordinates(lat, lng)
    except ServiceError as exc:
        problems.update(exc.field_messages)
    if problems:
        raise ServiceError("invalid", field_messages=problems)
    visit = Visit(
        supervision=supervision, category_id=supervision.category_id,
        area_code=supervision.area_code, visitor=actor if getattr(actor, "pk", None) else None,
        visitor_name=getattr(actor, "display_name", "") or getattr(actor, "username", ""),
        visited_at=visited_at, method=method, place=(place or "").strip()[:200], lat=lat, lng=lng,
        contact_made=contact_made, findings=findings,
        risk_proposed=risk_proposed if risk_proposed != supervision.risk_level else "",
        client_uuid=client_uuid)
    try:
        with transaction.atomic():
            visit.save()
    except IntegrityError:  # the same offline submission arrived twice at once
        return Visit.objects.get(client_uuid=client_uuid)
    for photo in photos or []:
        _store_photo(visit, photo)
    deadline_before = supervision.deadline_at
    if contact_made and (supervision.last_visit_at is None or
                         visited_at >= supervision.last_visit_at):
        supervision.last_visit_at = visited_at
        plan_next_visit(supervision, visited_at)
    if contact_made and supervision.lost_contact:
        supervision.lost_contact, supervision.lost_contact_since = False, None
        _log(supervision, action="found", actor=actor, reason=findings, data={"visit": visit.pk})
        notify.notify(recipients.centre(supervision.area_code), kind="special.found",
                      url=supervision.get_absolute_url(),
                      title=_("%(who)s has been found again") % {"who": who(supervision)})
    if visit.risk_proposed:
        if get_scope(actor).can("special.change_supervision"):
            _apply_risk(supervision, actor=actor, risk_level=visit.risk_proposed,
                        reason=findings, visit=visit)
        else:
            supervision.proposed_risk = visit.risk_proposed
            notify.notify(recipients.centre(supervision.area_code), kind="special.risk_proposed",
                          url=supervision.get_absolute_url(),
                          title=_("%(who)s: a visit proposes risk level %(level)s")
                          % {"who": who(supervision), "level": visit.risk_proposed})
    supervision.version += 1
    supervision.save()
    visit.next_due_at = supervision.deadline_at
    visit.save(update_fields=["next_due_at"])
    _log(supervision, action="visit", actor=actor, reason=findings[:500],
         deadline_before=deadline_before,
         data={"visit": visit.pk, "method": method, "contact_made": contact_made})
    _audit(actor, "visit", supervision, {"visit": visit.pk, "method": method})
    return visit


# --- lost contact and release -------------------------------------------------------------------

@transaction.atomic
def mark_lost_contact(*, actor, supervision: Supervision, note: str,
                      version: int | None = None) -> Supervision:
    """失联: the person cannot be found. The governance centre is alerted at once (and the
    county's); the next visit that meets the person clears it."""
    note = _need(note, "note")
    check_responsible(actor, supervision, Visit, "add")
    supervision = _locked(supervision, version)
    _open(supervision)
    if supervision.lost_contact:
        raise field_error("note", _("This person is already marked as out of contact."))
    supervision.lost_contact, supervision.lost_contact_since = True, timezone.now()
    supervision.version += 1
    supervision.save(update_fields=["lost_contact", "lost_contact_since", "version",
                                    "updated_at"])
    _log(supervision, action="lost_contact", actor=actor, reason=note)
    _audit(actor, "lost_contact", supervision)
    notify.notify([*recipients.centre(supervision.area_code),
                   *recipients.centre(supervision.area_code, level_up=1),
                   *recipients.visitors(supervision)],
                  kind="special.lost_contact", url=supervision.get_absolute_url(),
                  title=_("Lost contact: %(who)s") % {"who": who(supervision)}, body=note)
    return supervision


@transaction.atomic
def release(*, actor, supervision: Supervision, reason: str, note: str = "",
            released_on: dt.date | None = None, version: int | None = None) -> Supervision:
    """解除列管: end management, with the reason. The record and its history stay."""
    check_responsible(actor, supervision, Supervision, "release")
    supervision = _locked(supervision, version)
    _open(supervision)
    if supervision.state == S.HANDING_OVER:
        raise ServiceError("handover_open", _("A handover of this person is open: withdraw it "
                                              "or wait for the answer first."), status=409)
    if reason not in ReleaseReason.values:
        raise field_error("reason", _("Choose the reason for the release."))
    note = (note or "").strip()
    if reason == ReleaseReason.OTHER and not note:
        raise field_error("note", _("Explain the release."))
    today = timezone.localdate()
    released_on = released_on or today
    if released_on > today:
        raise field_error("released_on", _("This date is in the future."))
    if released_on < supervision.started_on:
        raise field_error("released_on", _("This is before the person was put under "
                                           "management (%(date)s).")
                          % {"date": supervision.started_on})
    from_state, deadline_before = supervision.state, supervision.deadline_at
    workflow.fire(supervision, "release")
    supervision.released_on, supervision.release_reason = released_on, reason
    supervision.release_note = note
    supervision.lost_contact, supervision.lost_contact_since = False, None
    supervision.proposed_risk = ""
    workflow.clear_deadline(supervision)
    supervision.version += 1
    supervision.save()
    _log(supervision, action="release", actor=actor, from_state=from_state, reason=note,
         data={"reason": reason}, deadline_before=deadline_before)
    _audit(actor, "release", supervision, {"reason": reason})
    notify.notify(recipients.visitors(supervision), kind="special.released",
                  url=supervision.get_absolute_url(),
                  title=_("%(who)s was released from management") % {"who": who(supervision)})
    return supervision
