"""Writes to events: report, triage, dispatch, handling, verification, closure, evaluation.

Every action runs `_move`: lock the row (409 on a stale version), check the actor may act here,
fire the FSM transition, account the time spent in the step that ends, start the clock of the
next step, log the transition, notify whoever must act next, and mark the statistics stale —
all in one transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.areas.models import Area
from zhili.core import codes, notify, workflow
from zhili.core.scoping import ORG, get_scope, require, require_code_in_scope
from zhili.core.services import ServiceError, field_error
from zhili.events import rules
from zhili.events.choices import (
    STEP_OF_STATE,
    AssignmentRole,
    Channel,
    EventState,
    ExtensionState,
    PhotoStage,
    Satisfaction,
    SupervisionState,
    Urgency,
)
from zhili.events.models import (
    Event,
    EventAssignment,
    EventCategory,
    EventPerson,
    EventPhoto,
    EventTransition,
    ExtensionRequest,
    SupervisionOrder,
)
from zhili.workdays.clock import Unit

S = EventState
CITY_BOX = (115.0, 28.0, 125.0, 36.0)  # a generous sanity box around the province


@dataclass
class Person:
    name: str
    contact: str = ""
    note: str = ""


@dataclass
class Photo:
    data: bytes
    filename: str
    stage: str = PhotoStage.REPORT


@dataclass
class ReportResult:
    event: Event
    warnings: list[str] = field(default_factory=list)
    duplicates: list = field(default_factory=list)


# --- reporting ------------------------------------------------------------------------------

def _locate(*, area: Area | None, lat, lng) -> tuple[Area, list[str]]:
    from zhili.areas.queries import locate

    warnings: list[str] = []
    if lat is not None and lng is not None:
        lat_f, lng_f = float(lat), float(lng)
        west, south, east, north = CITY_BOX
        if not (west <= lng_f <= east and south <= lat_f <= north):
            raise field_error("lat", _("The location (%(lat)s, %(lng)s) is outside the city.")
                              % {"lat": lat, "lng": lng})
        found = locate(lng_f, lat_f)
        if area is None:
            if found is None:
                raise field_error("lat", _("The location is outside every grid of the city; "
                                           "choose the area by hand."))
            return found, warnings
        if found is None or not codes.in_subtree(found.code, area.prefix):
            warnings.append(_("The location lies outside %(area)s.") % {"area": area.name})
        return area, warnings
    if area is None:
        raise field_error("area", _("Give the location on the map or choose the area."))
    return area, warnings


def _number(event: Event) -> str:
    return f"SJ{timezone.localtime(event.reported_at):%Y%m%d}{event.pk:07d}"


@transaction.atomic
def report_event(*, actor, channel: str, category: EventCategory, title: str,
                 description: str = "", area: Area | None = None, lat=None, lng=None,
                 address: str = "", urgency: str = "", reporter_name: str = "",
                 reporter_contact: str = "", people: list[Person] | None = None,
                 photos: list[Photo] | None = None, solved_on_spot: bool = False,
                 client_uuid=None, external_id: str = "", reported_at=None,
                 check_duplicates: bool = False) -> ReportResult:
    """Register a report from any channel. Solved on the spot (就地化解) closes it at once, with
    evidence. A replayed offline report (same client_uuid) returns the first one."""
    if actor is not None:
        require(actor, Event, "add")
    if client_uuid:
        existing = Event.objects.filter(client_uuid=client_uuid).first()
        if existing is not None:
            return ReportResult(existing, [_("This report had already been received.")])
    if category is None or not category.is_active:
        raise field_error("category", _("Choose an active category."))
    title = (title or "").strip()[:120] or (description or "").strip()[:40]
    if not title:
        raise field_error("title", _("Describe the problem."))
    if urgency and urgency not in Urgency.values:
        raise field_error("urgency", _("Unknown urgency."))
    area, warnings = _locate(area=area, lat=lat, lng=lng)
    if not area.is_active:
        raise field_error("area", _("%(name)s is retired.") % {"name": area.name})
    if actor is not None and channel not in (Channel.PUBLIC, Channel.HOTLINE):
        require_code_in_scope(actor, area.code)
    if solved_on_spot and not photos:
        raise field_error("photos", _("A problem solved on the spot needs a photo as evidence."))
    now = timezone.now()
    event = Event(
        title=title, description=(description or "").strip(), category=category,
        urgency=urgency or category.default_urgency, channel=channel, area=area,
        area_code=area.code, lat=lat, lng=lng, address=(address or "").strip()[:200],
        owner_level=min(category.handling_level, max(area.level, 1)),
        reporter=actor if actor is not None and not actor.is_service else None,
        reporter_name=(reporter_name or getattr(actor, "display_name", "") or "")[:60],
        reporter_contact=reporter_contact or None, solved_on_spot=solved_on_spot,
        client_uuid=client_uuid, external_id=external_id or "",
        reported_at=reported_at or now,
        public_token=secrets.token_urlsafe(16) if channel == Channel.PUBLIC else None,
    )
    if solved_on_spot:
        workflow.fire(event, "solve_on_spot")
        event.closed_at = now
    else:
        _start_step(event, now)
    if external_id:  # a savepoint only where the insert can clash (an imported ticket)
        try:
            with transaction.atomic():
                event.save()
        except IntegrityError:
            raise field_error("external_id", _("Ticket %(id)s was already imported.")
                              % {"id": external_id}) from None
    else:
        event.save()
    # The number carries the primary key, known only after the insert.
    event.number = _number(event)
    Event.objects.filter(pk=event.pk).update(number=event.number)
    for person in people or []:
        if person.name.strip():
            EventPerson.objects.create(event=event, name=person.name.strip()[:60],
                                       contact=person.contact or None, note=person.note[:200])
    for photo in photos or []:
        add_photo(actor=actor, event=event, photo=photo, check=False)
    workflow.log(event, EventTransition, action="report", from_state="", actor=actor,
                 data={"channel": channel, "warnings": [str(w) for w in warnings]})
    if not solved_on_spot:
        # Telling the centre (and looking for duplicates) happens in the worker: devices
        # report in bursts, and the reporter need not wait for it. The task row is written in
        # this transaction (the task queue lives in this database): it exists if and only if
        # the report does, and costs no commit of its own.
        from zhili.events.tasks import announce_report

        announce_report.enqueue(event.pk)
    duplicates = []
    if check_duplicates and not solved_on_spot:
        from zhili.events.duplicates import find_duplicates

        duplicates = find_duplicates(event)
    return ReportResult(event, warnings, duplicates)


def announce_report(event: Event) -> None:
    """Tell the dispatching centre about a new report, flagging a possible duplicate."""
    from zhili.events.duplicates import find_duplicates

    title = _("New report %(number)s: %(title)s") % {"number": event.number,
                                                       "title": event.title}
    if find_duplicates(event):
        title += " " + _("(possible duplicate)")
    notify.notify(rules.dispatchers(event), kind="event.new", title=title,
                  url=event.get_absolute_url())


def add_photo(*, actor, event: Event, photo: Photo, check: bool = True) -> EventPhoto:
    """Store a checked, metadata-free copy; keep where and when it was taken."""
    from django.core.files.base import ContentFile

    from zhili.core.images import ImageRejected, process_image

    if check and not event.is_open:
        raise field_error("photos", _("Photos cannot be added to a finished event."))
    try:
        # 52 MP admits the 50 MP mode of current phones (8160 × 6144).
        image = process_image(photo.data, photo.filename, max_pixels=52_000_000)
    except ImageRejected as exc:
        raise field_error("photos", _("%(file)s: %(problem)s")
                          % {"file": photo.filename, "problem": exc}) from None
    stored = EventPhoto(event=event, stage=photo.stage, extension=image.extension,
                        content_type=image.content_type, size=len(image.content),
                        width=image.width, height=image.height, sha256=image.sha256,
                        gps_lat=round(Decimal(image.gps[0]), 6) if image.gps else None,
                        gps_lng=round(Decimal(image.gps[1]), 6) if image.gps else None,
                        taken_at=image.taken_at,
                        uploaded_by=actor if actor is not None and actor.pk else None)
    stored.file.save(f"photo.{image.extension}", ContentFile(image.content), save=False)
    stored.save()
    return stored


# --- the clock ------------------------------------------------------------------------------

def _start_step(event: Event, now) -> None:
    step = STEP_OF_STATE.get(event.state)
    if step is None:
        workflow.clear_deadline(event)
        return
    amount, unit = rules.time_limit(event.category, event.urgency, step)
    workflow.set_deadline(event, step=step, start=now, amount=float(amount), unit=unit)


def _account(event: Event, step: str, started, now) -> None:
    if step and started:
        spent = dict(event.step_seconds or {})
        spent[step] = int(spent.get(step, 0) + (now - started).total_seconds())
        event.step_seconds = spent


# --- who may act ----------------------------------------------------------------------------

DISPATCH, HANDLE, VERIFY, EVALUATE = "dispatch", "handle", "verify", "evaluate"


def _check_actor(actor, event: Event, kind: str) -> None:
    require(actor, Event, kind)
    scope = get_scope(actor)
    if not Event.objects.in_scope(actor).filter(pk=event.pk).exists():
        raise ServiceError("out_of_scope", _("This event is outside your area of "
                                             "responsibility."), status=404)
    if scope.unrestricted:
        return
    if kind == DISPATCH:
        position = actor.active_position
        if position is not None and position.area.level > event.owner_level:
            raise ServiceError("forbidden", _("This event has been escalated to a higher level; "
                                              "its centre handles it now."), status=403)
    if kind == HANDLE and scope.kind == ORG and event.lead_org_id not in scope.org_ids:
        raise ServiceError("forbidden", _("Only the lead organisation can do this."), status=403)


def _move(*, actor, event: Event, action: str, kind: str, version: int | None = None,
          reason: str = "", apply: Callable[[Event], None] | None = None,
          restart_clock: bool = True, notify_next: bool = True, data: dict | None = None,
          ) -> Event:
    _check_actor(actor, event, kind)
    event = workflow.locked(Event, event.pk, expected_version=version)
    now = timezone.now()
    from_state, before = event.state, event.deadline_at
    step, started = event.deadline_step, event.step_started_at
    workflow.fire(event, action)
    if apply is not None:
        apply(event)
    if restart_clock:
        _account(event, step, started, now)
        _start_step(event, now)
    event.version += 1
    event.save()
    position = getattr(actor, "active_position", None)
    workflow.log(event, EventTransition, action=action, from_state=from_state, actor=actor,
                 reason=reason, deadline_before=before, data=data,
                 org=position.org if position is not None else None)
    if notify_next and event.state != from_state:
        notify.notify(rules.holders(event), kind=f"event.{action}",
                      title=_("%(number)s needs you: %(state)s")
                      % {"number": event.number, "state": event.get_state_display()},
                      url=event.get_absolute_url())
    return event


def _need(reason: str, field_name: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise field_error(field_name, _("Give a reason."))
    return reason


# --- triage and dispatch (governance centre) --------------------------------------------------

def accept_event(*, actor, event: Event, version=None, category: EventCategory | None = None,
                 urgency: str = "", note: str = "") -> Event:
    """Accept the report, confirming (or correcting) its category — which trains the
    category suggestions."""
    def apply(e):
        if category is not None and category.pk != e.category_id:
            e.category = category
        if urgency:
            if urgency not in Urgency.values:
                raise field_error("urgency", _("Unknown urgency."))
            e.urgency = urgency
        e.category_confirmed = True
        e.accepted_at = timezone.now()

    with transaction.atomic():
        return _move(actor=actor, event=event, action="accept", kind=DISPATCH, version=version,
                     reason=note, apply=apply)


def reject_event(*, actor, event: Event, reason: str, version=None) -> Event:
    reason = _need(reason)
    with transaction.atomic():
        event = _move(actor=actor, event=event, action="reject", kind=DISPATCH,
                      version=version, reason=reason)
        _tell_reporter(event, _("Your report %(number)s was not accepted: %(reason)s")
                       % {"number": event.number, "reason": reason})
        return event


def escalate_event(*, actor, event: Event, reason: str, version=None) -> Event:
    """Hand the event to the next level up (beyond this level's power)."""
    reason = _need(reason)

    def apply(e):
        if e.owner_level <= 1:
            raise field_error("reason", _("The city level is the highest level."))
        e.owner_level -= 1

    with transaction.atomic():
        event = _move(actor=actor, event=event, action="escalate", kind=DISPATCH,
                      version=version, reason=reason, apply=apply, notify_next=False)
        notify.notify(rules.dispatchers(event), kind="event.escalated",
                      title=_("%(number)s was escalated to your level") % {"number": event.number},
                      url=event.get_absolute_url())
        return event


def dispatch_event(*, actor, event: Event, lead_org, assist_orgs=(), version=None,
                   note: str = "") -> Event:
    """Assign the lead organisation (主办) and any assisting ones (协办)."""
    from zhili.orgs.models import Organisation

    if lead_org is None:
        raise field_error("lead_org", _("Choose the lead organisation."))
    orgs = [lead_org, *assist_orgs]
    reachable = set(Organisation.objects.dispatchable(actor).filter(
        pk__in=[o.pk for o in orgs]).values_list("pk", flat=True))
    if lead_org.pk not in reachable:
        raise field_error("lead_org", _("No such organisation within your reach."))
    if any(o.pk not in reachable for o in assist_orgs):
        raise field_error("assist_orgs", _("No such organisation within your reach."))

    def apply(e):
        EventAssignment.objects.filter(event=e, is_active=True).update(is_active=False)
        e.lead_org = lead_org
        EventAssignment.objects.create(event=e, org=lead_org, role=AssignmentRole.LEAD)
        for org in assist_orgs:
            if org.pk != lead_org.pk:
                EventAssignment.objects.create(event=e, org=org, role=AssignmentRole.ASSIST)
        e.dispatched_at = timezone.now()

    with transaction.atomic():
        event = _move(actor=actor, event=event, action="dispatch", kind=DISPATCH,
                      version=version, reason=note, apply=apply,
                      data={"lead_org": lead_org.pk, "assist": [o.pk for o in assist_orgs]})
        if assist_orgs:
            notify.notify(rules._holders("events.handle_event",
                                         org_ids=[o.pk for o in assist_orgs]),
                          kind="event.assist", url=event.get_absolute_url(),
                          title=_("%(number)s: your organisation assists")
                          % {"number": event.number})
        return event


def merge_event(*, actor, event: Event, into: Event, version=None, note: str = "") -> Event:
    """Merge a duplicate into the original; the duplicate's reporter keeps being informed."""
    if into.pk == event.pk:
        raise field_error("into", _("A report cannot be merged into itself."))
    if not into.is_open and into.state != S.CLOSED:
        raise field_error("into", _("Merge into an open or closed report, not a rejected one."))
    if not Event.objects.in_scope(actor).filter(pk=into.pk).exists():
        raise field_error("into", _("No such event within your reach."))

    def apply(e):
        e.duplicate_of = into

    with transaction.atomic():
        event = _move(actor=actor, event=event, action="merge", kind=DISPATCH, version=version,
                      reason=note, apply=apply, data={"into": into.pk})
        _tell_reporter(event, _("Your report %(number)s is being handled together with "
                                "%(other)s.") % {"number": event.number, "other": into.number})
        return event


# --- handling (departments) ---------------------------------------------------------------------

def sign_event(*, actor, event: Event, version=None) -> Event:
    def apply(e):
        e.signed_at = timezone.now()

    with transaction.atomic():
        return _move(actor=actor, event=event, action="sign", kind=HANDLE, version=version,
                     apply=apply, notify_next=False)


def return_event(*, actor, event: Event, reason: str, version=None) -> Event:
    """"Not ours": back to the dispatching centre, which arbitrates. Never a dead end."""
    reason = _need(reason)

    def apply(e):
        e.return_count += 1

    with transaction.atomic():
        return _move(actor=actor, event=event, action="send_back", kind=HANDLE, version=version,
                     reason=reason, apply=apply)


def record_progress(*, actor, event: Event, note: str, photos: list[Photo] | None = None,
                    version=None) -> Event:
    note = _need(note, "note")
    with transaction.atomic():
        event = _move(actor=actor, event=event, action="progress", kind=HANDLE, version=version,
                      reason=note, restart_clock=False, notify_next=False)
        for photo in photos or []:
            add_photo(actor=actor, event=event, photo=Photo(photo.data, photo.filename,
                                                            PhotoStage.PROGRESS))
        return event


def wait_for_citizen(*, actor, event: Event, reason: str, version=None) -> Event:
    """Pause the clock while the citizen is needed (away, to provide documents …)."""
    reason = _need(reason)

    def apply(e):
        workflow.pause(e, timezone.now())

    with transaction.atomic():
        return _move(actor=actor, event=event, action="wait_for_citizen", kind=HANDLE,
                     version=version, reason=reason, apply=apply, restart_clock=False,
                     notify_next=False)


def resume_work(*, actor, event: Event, version=None, note: str = "") -> Event:
    def apply(e):
        workflow.resume(e, timezone.now())

    with transaction.atomic():
        return _move(actor=actor, event=event, action="resume_work", kind=HANDLE,
                     version=version, reason=note, apply=apply, restart_clock=False,
                     notify_next=False)


def finish_event(*, actor, event: Event, result: str, photos: list[Photo] | None = None,
                 version=None) -> Event:
    """Report the result with evidence; the grid worker verifies it on site next."""
    result = _need(result, "result")

    def apply(e):
        e.handled_at = timezone.now()

    with transaction.atomic():
        event = _move(actor=actor, event=event, action="finish", kind=HANDLE, version=version,
                      reason=result, apply=apply)
        for photo in photos or []:
            add_photo(actor=actor, event=event, photo=Photo(photo.data, photo.filename,
                                                            PhotoStage.RESULT))
        return event


def request_extension(*, actor, event: Event, amount, unit: str, reason: str) -> ExtensionRequest:
    reason = _need(reason)
    _check_actor(actor, event, HANDLE)
    if event.state != S.HANDLING:
        raise workflow.InvalidTransition("invalid_transition",
                                         _("An extension can be asked for while handling."))
    if unit not in Unit.values:
        raise field_error("unit", _("Unknown unit."))
    try:
        amount = Decimal(str(amount))
    except ArithmeticError:
        amount = Decimal(0)
    if amount <= 0 or amount > 1000:
        raise field_error("amount", _("Give a positive amount of extra time."))
    if event.extensions.filter(state=ExtensionState.PENDING).exists():
        raise field_error("amount", _("An extension request is already waiting for a decision."))
    with transaction.atomic():
        request = ExtensionRequest.objects.create(event=event, requested_by=actor, amount=amount,
                                                  unit=unit, reason=reason)
        workflow.log(event, EventTransition, action="request_extension",
                     from_state=event.state, actor=actor, reason=reason,
                     deadline_before=event.deadline_at,
                     data={"amount": str(amount), "unit": unit})
        notify.notify(rules.dispatchers(event), kind="event.extension",
                      title=_("%(number)s: extension requested") % {"number": event.number},
                      url=event.get_absolute_url())
        return request


def decide_extension(*, actor, request: ExtensionRequest, approve: bool,
                     note: str = "") -> ExtensionRequest:
    event = request.event
    _check_actor(actor, event, DISPATCH)
    with transaction.atomic():
        request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
        if request.state != ExtensionState.PENDING:
            raise workflow.InvalidTransition("invalid_transition",
                                             _("This request was already decided."))
        event = workflow.locked(Event, event.pk)
        before = event.deadline_at
        if approve:
            if event.state != S.HANDLING:
                raise workflow.InvalidTransition("invalid_transition",
                                                 _("The event is no longer being handled."))
            workflow.extend_deadline(event, amount=float(request.amount), unit=request.unit)
            event.extension_count += 1
            event.version += 1
            event.save()
        request.state = ExtensionState.APPROVED if approve else ExtensionState.REFUSED
        request.decided_by, request.decided_at = actor, timezone.now()
        request.decision_note = (note or "")[:500]
        request.save()
        workflow.log(event, EventTransition,
                     action="approve_extension" if approve else "refuse_extension",
                     from_state=event.state, actor=actor, reason=note, deadline_before=before)
        notify.notify([request.requested_by], kind="event.extension_decided",
                      title=_("%(number)s: extension %(decision)s")
                      % {"number": event.number,
                         "decision": _("approved") if approve else _("refused")},
                      url=event.get_absolute_url())
        return request


# --- verification, closure, evaluation -----------------------------------------------------------

def verify_event(*, actor, event: Event, passed: bool, note: str = "",
                 photos: list[Photo] | None = None, version=None) -> Event:
    """On-site check: passed → awaiting closure; failed → back to the handler for rework."""
    if not passed:
        note = _need(note, "note")

    def apply(e):
        if passed:
            e.verified_at = timezone.now()
        else:
            e.rework_count += 1

    with transaction.atomic():
        event = _move(actor=actor, event=event, action="verify_ok" if passed else "verify_fail",
                      kind=VERIFY, version=version, reason=note, apply=apply)
        for photo in photos or []:
            add_photo(actor=actor, event=event, photo=Photo(photo.data, photo.filename,
                                                            PhotoStage.VERIFY))
        return event


def close_event(*, actor, event: Event, note: str = "", version=None) -> Event:
    def apply(e):
        e.closed_at = timezone.now()
        SupervisionOrder.objects.filter(event=e).exclude(
            state=SupervisionState.CLOSED).update(state=SupervisionState.CLOSED,
                                                  deadline_at=None)

    with transaction.atomic():
        event = _move(actor=actor, event=event, action="close", kind=DISPATCH, version=version,
                      reason=note, apply=apply, notify_next=False)
        _tell_reporter(event, _("Your report %(number)s was dealt with and closed.")
                       % {"number": event.number})
        return event


def evaluate_event(*, actor, event: Event, satisfaction: str, note: str = "",
                   version=None) -> Event:
    """回访/评价: the reporter's rating. "Unsatisfied" reopens the event for rework."""
    if satisfaction not in Satisfaction.values:
        raise field_error("satisfaction", _("Choose a rating."))
    is_reporter = actor is not None and event.reporter_id == actor.pk
    kind = "view" if is_reporter else EVALUATE
    reopen = satisfaction == Satisfaction.UNSATISFIED

    def apply(e):
        e.satisfaction = satisfaction
        e.evaluation_note = (note or "")[:500]
        e.evaluated_at = timezone.now()

    with transaction.atomic():
        event = _move(actor=actor, event=event, action="evaluate", kind=kind, version=version,
                      reason=note, apply=apply, restart_clock=False, notify_next=False,
                      data={"satisfaction": satisfaction})
        if reopen and event.lead_org_id:
            def reopen_apply(e):
                e.reopen_count += 1
                e.closed_at = None

            event = _move(actor=actor, event=event, action="reopen", kind=kind,
                          reason=_("Reopened: the reporter was unsatisfied."),
                          apply=reopen_apply)
        elif reopen:  # solved on the spot: nobody to send it back to, so the centre decides
            notify.notify(rules.dispatchers(event), kind="event.unsatisfied",
                          title=_("%(number)s: the reporter is unsatisfied")
                          % {"number": event.number}, url=event.get_absolute_url())
        return event


def evaluate_by_token(*, token: str, satisfaction: str, note: str = "") -> Event:
    """A public reporter rates through their Open311 token (no account)."""
    event = Event.objects.filter(public_token=token).first()
    if event is None:
        raise ServiceError("not_found", _("Unknown token."), status=404)
    if event.state != S.CLOSED or event.evaluated_at:
        raise workflow.InvalidTransition("invalid_transition",
                                         _("This report cannot be rated now."))
    with transaction.atomic():
        locked = workflow.locked(Event, event.pk)
        workflow.fire(locked, "evaluate")
        locked.satisfaction, locked.evaluated_at = satisfaction, timezone.now()
        locked.evaluation_note = (note or "")[:500]
        locked.version += 1
        locked.save()
        workflow.log(locked, EventTransition, action="evaluate", from_state=S.CLOSED,
                     actor=None, reason=note, data={"satisfaction": satisfaction,
                                                     "via": "token"})
        return locked


def _tell_reporter(event: Event, message: str) -> None:
    """Tell the reporter — and the reporters of duplicates merged into this event."""
    users = [e.reporter for e in [event, *event.duplicates.select_related("reporter")]
             if e.reporter_id]
    notify.notify(users, kind="event.reporter", title=message, url=event.get_absolute_url())


# --- supervision (督办) ------------------------------------------------------------------------

def answer_supervision(*, actor, order: SupervisionOrder, answer: str) -> SupervisionOrder:
    answer = _need(answer, "answer")
    require(actor, Event, "supervise")
    scope = get_scope(actor)
    if not scope.unrestricted and order.to_org_id and scope.kind == ORG and \
            order.to_org_id not in scope.org_ids:
        raise ServiceError("forbidden", _("This order is addressed to another organisation."),
                           status=403)
    with transaction.atomic():
        order = workflow.locked(SupervisionOrder, order.pk)
        workflow.fire(order, "answer_order")
        order.answer, order.answered_by, order.answered_at = answer, actor, timezone.now()
        workflow.clear_deadline(order)
        order.version += 1
        order.save()
        workflow.log(order.event, EventTransition, action="answer_supervision",
                     from_state=order.event.state, actor=actor, reason=answer,
                     data={"order": order.pk})
        return order
