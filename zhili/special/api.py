"""Special populations over the API: categories, records (masked), intake, visits from phones
and other systems, risk and level changes, helper teams, lost contact, release, handovers and
the coverage figures. Every route declares its RouteScope; listing records needs
`special.view_supervision`, which people-registry roles do not have."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Schema, Status
from ninja.files import UploadedFile

from zhili.core import pii
from zhili.core.api import RouteScope, ScopedRouter
from zhili.core.services import field_error
from zhili.special import config_services, coverage, handovers, services
from zhili.special.choices import ACTION_LABELS
from zhili.special.fields import definitions_of
from zhili.special.filters import filter_records
from zhili.special.models import (
    Coverage,
    Handover,
    SpecialCategory,
    Supervision,
    Visit,
)

router = ScopedRouter(tags=["special"])
VIEW = RouteScope(Supervision, "view")
CHANGE = RouteScope(Supervision, "change", lookup="pk")
VISIT = RouteScope(Supervision, "view", lookup="pk", requires=((Visit, "add"),))


# --- categories ---------------------------------------------------------------------------------

class RiskLevelOut(Schema):
    code: str
    label: str


class CategoryOut(Schema):
    id: int
    code: str
    name: str
    builtin: bool
    gbt_table: str
    risk_scale: str
    risk_levels: list[RiskLevelOut]
    visit_days: dict[str, int]
    visit_unit: str
    team_roles: list[str]
    field_definitions: list[dict[str, Any]]
    is_active: bool


def category_out(c: SpecialCategory) -> dict:
    return {"id": c.pk, "code": c.code, "name": c.name, "builtin": c.builtin,
            "gbt_table": c.gbt_table, "risk_scale": c.risk_scale,
            "risk_levels": [{"code": k, "label": v} for k, v in c.risk_choices()],
            "visit_days": c.visit_days, "visit_unit": c.visit_unit,
            "team_roles": c.team_roles, "field_definitions": c.field_definitions,
            "is_active": c.is_active}


@router.get("/categories", scope=RouteScope(SpecialCategory, "view"),
            response=list[CategoryOut], summary="Categories with their fields and code tables")
def categories(request):
    return [category_out(c) for c in SpecialCategory.objects.restrict(request.auth)]


class CategoryIn(Schema):
    code: str | None = None
    name: str | None = None
    description: str | None = None
    gbt_table: str | None = None
    risk_scale: str | None = None
    visit_days: dict[str, int] | None = None
    visit_unit: str | None = None
    team_roles: list[str] | None = None
    field_definitions: list[dict[str, Any]] | None = None
    is_active: bool | None = None
    sort: int | None = None


@router.post("/categories", scope=RouteScope(SpecialCategory, "add"),
             response={201: CategoryOut}, summary="Define a local category")
def create_category(request, payload: CategoryIn):
    data = payload.dict(exclude_none=True)
    return Status(201, category_out(config_services.save_category(
        actor=request.auth, category=None, data=data)))


@router.patch("/categories/{int:pk}", scope=RouteScope(SpecialCategory, "change", lookup="pk"),
              response=CategoryOut, summary="Change a category")
def change_category(request, pk: int, payload: CategoryIn):
    return category_out(config_services.save_category(
        actor=request.auth, category=request.scoped_object,
        data=payload.dict(exclude_none=True)))


# --- records ------------------------------------------------------------------------------------

class RecordRow(Schema):
    id: int
    person_name: str = Field(description="Masked")
    id_number: str = Field(description="Masked")
    category: str
    category_name: str
    state: str
    level: str
    risk_level: str
    proposed_risk: str
    area_code: str
    area_name: str
    started_on: dt.date
    last_visit_at: dt.datetime | None
    next_visit_due: dt.datetime | None
    overdue: bool
    lost_contact: bool
    version: int


def row(s: Supervision) -> dict:
    return {"id": s.pk, "person_name": pii.mask_name(s.person.name),
            "id_number": pii.mask_id_number(s.person.id_number), "category": s.category.code,
            "category_name": s.category.name, "state": s.state, "level": s.level,
            "risk_level": s.risk_level, "proposed_risk": s.proposed_risk,
            "area_code": s.area_code, "area_name": s.area.name, "started_on": s.started_on,
            "last_visit_at": s.last_visit_at, "next_visit_due": s.deadline_at,
            "overdue": s.overdue, "lost_contact": s.lost_contact, "version": s.version}


class RecordPage(Schema):
    items: list[RecordRow]
    has_more: bool


class ListQuery(Schema):
    category: str | None = Field(None, description="Category code")
    level: str | None = None
    risk: str | None = None
    state: str | None = Field(None, description="Default: under management; `all` for every")
    area: str | None = Field(None, pattern=r"^\d{1,15}$")
    id_number: str | None = Field(None, description="Exact ID number (blind index)")
    overdue: bool = False
    lost_contact: bool = False
    handing_over: bool = False
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


@router.get("/records", scope=VIEW, response=RecordPage, summary="Persons under management")
def list_records(request, query: Query[ListQuery]):
    params = {k: v for k, v in query.dict().items()
              if v not in (None, False, "") and k not in ("limit", "offset", "category")}
    if query.category:
        category = SpecialCategory.objects.filter(code=query.category).first()
        if category is None:
            raise field_error("category", _("Unknown category %(code)s.")
                              % {"code": query.category})
        params["category"] = category.pk
    qs, form = filter_records(Supervision.objects.restrict(request.auth), params)
    if form.errors:
        raise services.ServiceError("invalid", field_messages={
            k: [str(m) for m in v] for k, v in form.errors.items()})
    qs = qs.order_by("-overdue", "deadline_at", "id").prefetch_related("person", "category",
                                                                        "area")
    rows = list(qs[query.offset: query.offset + query.limit + 1])
    return {"items": [row(s) for s in rows[: query.limit]], "has_more": len(rows) > query.limit}


class HelperIn(Schema):
    role: str
    name: str = Field(max_length=50)
    phone: str = ""
    id_number: str = ""
    address: str = Field("", max_length=200)
    relation: str = Field("", max_length=20)
    org: str = Field("", max_length=100)


class IntakeIn(Schema):
    id_number: str = Field(description="The person's ID number (found by its blind index)")
    category: str = Field(description="Category code")
    level: str
    risk_level: str
    details: dict[str, Any] = {}
    started_on: dt.date | None = None
    note: str = ""
    helpers: list[HelperIn] = []


@router.post("/records", scope=RouteScope(Supervision, "add"), response={201: RecordRow},
             summary="Put a person under management")
def intake(request, payload: IntakeIn):
    person = services.find_person(actor=request.auth, id_number=payload.id_number)
    category = SpecialCategory.objects.filter(code=payload.category).first()
    if category is None:
        raise field_error("category", _("Unknown category %(code)s.") % {"code": payload.category})
    record = services.put_under_management(
        actor=request.auth, person=person, category=category, level=payload.level,
        risk_level=payload.risk_level, details=payload.details, started_on=payload.started_on,
        note=payload.note, helpers=[services.Helper(**h.dict()) for h in payload.helpers])
    return Status(201, row(record))


class DetailValue(Schema):
    name: str
    label: str
    value: Any
    display: str
    gbt: int | None


class HelperOut(Schema):
    id: int
    role: str
    name: str
    phone: str = Field(description="Masked")
    relation: str
    org: str


class VisitOut(Schema):
    id: int
    visited_at: dt.datetime
    visitor: str
    method: str
    place: str
    lat: Decimal | None
    lng: Decimal | None
    contact_made: bool
    findings: str
    risk_proposed: str
    next_due_at: dt.datetime | None
    photos: list[str]


def visit_out(v: Visit) -> dict:
    return {"id": v.pk, "visited_at": v.visited_at, "visitor": v.visitor_name,
            "method": v.method, "place": v.place, "lat": v.lat, "lng": v.lng,
            "contact_made": v.contact_made, "findings": v.findings,
            "risk_proposed": v.risk_proposed, "next_due_at": v.next_due_at,
            "photos": [p.get_absolute_url() for p in v.photos.all()]}


class RiskChangeOut(Schema):
    from_level: str
    to_level: str
    reason: str
    by: str
    at: dt.datetime


class HandoverOut(Schema):
    id: int
    state: str
    from_area_code: str
    from_area: str
    to_area_code: str
    to_area: str
    arbiter_area: str
    reason: str
    answer_note: str
    decision_note: str
    proposed_at: dt.datetime
    answer_due: dt.datetime | None
    overdue: bool
    record_id: int
    actions: list[str]
    version: int


def handover_out(h: Handover, user) -> dict:
    return {"id": h.pk, "state": h.state, "from_area_code": h.from_area_code,
            "from_area": h.from_area.name, "to_area_code": h.to_area_code,
            "to_area": h.to_area.name, "arbiter_area": h.arbiter_area.name, "reason": h.reason,
            "answer_note": h.answer_note, "decision_note": h.decision_note,
            "proposed_at": h.proposed_at, "answer_due": h.deadline_at, "overdue": h.overdue,
            "record_id": h.supervision_id, "actions": handovers.available_actions(h, user),
            "version": h.version}


class TimelineItem(Schema):
    action: str
    label: str
    actor: str
    reason: str
    at: dt.datetime
    data: dict[str, Any]


class RecordDetail(RecordRow):
    details: list[DetailValue]
    helpers: list[HelperOut]
    missing_team_roles: list[str]
    visits: list[VisitOut]
    risk_changes: list[RiskChangeOut]
    handovers: list[HandoverOut]
    timeline: list[TimelineItem]
    released_on: dt.date | None
    release_reason: str


@router.get("/records/{int:pk}", scope=RouteScope(Supervision, "view", lookup="pk"),
            response=RecordDetail, summary="One record with its visits, risk changes, handovers")
def detail(request, pk: int):
    s = request.scoped_object
    helpers = list(s.helpers.filter(is_active=True))
    present = {h.role for h in helpers}
    return {
        **row(s),
        "details": [{"name": d.name, "label": d.label, "value": s.details.get(d.name),
                     "display": d.display(s.details.get(d.name)), "gbt": d.gbt}
                    for d in definitions_of(s.category) if d.name in (s.details or {})],
        "helpers": [{"id": h.pk, "role": h.role, "name": h.name,
                     "phone": pii.mask_phone(h.phone), "relation": h.relation, "org": h.org}
                    for h in helpers],
        "missing_team_roles": [r for r in s.category.team_roles or [] if r not in present],
        "visits": [visit_out(v) for v in s.visits.prefetch_related("photos")[:100]],
        "risk_changes": [{"from_level": r.from_level, "to_level": r.to_level,
                          "reason": r.reason, "by": r.actor_name, "at": r.created_at}
                         for r in s.risk_changes.all()],
        "handovers": [handover_out(h, request.auth) for h in s.handovers.select_related(
            "from_area", "to_area", "arbiter_area")],
        "timeline": [{"action": t.action, "label": str(ACTION_LABELS.get(t.action, t.action)),
                      "actor": t.actor_name, "reason": t.reason, "at": t.created_at,
                      "data": t.data} for t in s.transitions.order_by("created_at", "id")],
        "released_on": s.released_on, "release_reason": s.release_reason,
    }


def _fresh(pk: int) -> dict:
    return row(Supervision.objects.select_related("person", "category", "area").get(pk=pk))


class DetailsIn(Schema):
    details: dict[str, Any]
    note: str = ""
    version: int | None = None


@router.post("/records/{int:pk}/details", scope=CHANGE, response=RecordRow,
             summary="Replace the category fields")
def update_details(request, pk: int, payload: DetailsIn):
    services.update_details(actor=request.auth, supervision=request.scoped_object,
                            details=payload.details, note=payload.note, version=payload.version)
    return _fresh(pk)


class RiskIn(Schema):
    risk_level: str
    reason: str
    version: int | None = None


@router.post("/records/{int:pk}/risk", scope=CHANGE, response=RecordRow,
             summary="Change the risk level (with a reason)")
def change_risk(request, pk: int, payload: RiskIn):
    services.change_risk(actor=request.auth, supervision=request.scoped_object,
                         risk_level=payload.risk_level, reason=payload.reason,
                         version=payload.version)
    return _fresh(pk)


class LevelIn(Schema):
    level: str
    reason: str
    version: int | None = None


@router.post("/records/{int:pk}/level", scope=CHANGE, response=RecordRow,
             summary="Change the management level (the visit plan follows)")
def change_level(request, pk: int, payload: LevelIn):
    services.change_level(actor=request.auth, supervision=request.scoped_object,
                          level=payload.level, reason=payload.reason, version=payload.version)
    return _fresh(pk)


@router.post("/records/{int:pk}/helpers", scope=CHANGE, response={201: HelperOut},
             summary="Add a helper-team member")
def add_helper(request, pk: int, payload: HelperIn):
    h = services.add_helper(actor=request.auth, supervision=request.scoped_object,
                            helper=services.Helper(**payload.dict()))
    return Status(201, {"id": h.pk, "role": h.role, "name": h.name,
                        "phone": pii.mask_phone(h.phone), "relation": h.relation,
                        "org": h.org})


class ReasonIn(Schema):
    reason: str = ""


@router.post("/records/{int:pk}/helpers/{int:helper_id}/remove",
             scope=RouteScope(Supervision, "change", lookup="pk", params=(("helper_id", "1"),)),
             response=RecordRow, summary="A helper-team member leaves")
def remove_helper(request, pk: int, helper_id: int, payload: ReasonIn = None):
    services.remove_helper(actor=request.auth, supervision=request.scoped_object,
                           helper_id=helper_id, reason=payload.reason if payload else "")
    return _fresh(pk)


class VisitIn(Schema):
    method: str
    findings: str = Field(max_length=5000)
    visited_at: dt.datetime | None = None
    place: str = Field("", max_length=200)
    lat: Decimal | None = Field(None, ge=-90, le=90)
    lng: Decimal | None = Field(None, ge=-180, le=180)
    contact_made: bool = True
    risk_proposed: str = ""
    client_uuid: uuid.UUID | None = Field(None, description="Makes a retried submission safe")
    version: int | None = None


def _visit(request, payload: VisitIn, photos) -> dict:
    visit = services.record_visit(
        actor=request.auth, supervision=request.scoped_object, method=payload.method,
        findings=payload.findings, visited_at=payload.visited_at, place=payload.place,
        lat=payload.lat, lng=payload.lng, contact_made=payload.contact_made,
        risk_proposed=payload.risk_proposed, photos=photos, client_uuid=payload.client_uuid,
        version=payload.version)
    return visit_out(visit)


@router.post("/records/{int:pk}/visits", scope=VISIT, response={201: VisitOut},
             summary="Record a visit (JSON)")
def record_visit(request, pk: int, payload: VisitIn):
    return Status(201, _visit(request, payload, []))


@router.post("/records/{int:pk}/visits/upload", scope=VISIT, response={201: VisitOut},
             summary="Record a visit with photos (multipart)")
def record_visit_with_photos(request, pk: int, payload: Form[VisitIn],
                             photos: File[list[UploadedFile]] = None):
    files = [services.Photo(f.read(), f.name) for f in (photos or [])]
    return Status(201, _visit(request, payload, files))


class NoteIn(Schema):
    note: str = ""
    version: int | None = None


@router.post("/records/{int:pk}/lost-contact", scope=VISIT, response=RecordRow,
             summary="Report lost contact (失联): alerts the governance centre")
def lost_contact(request, pk: int, payload: NoteIn):
    services.mark_lost_contact(actor=request.auth, supervision=request.scoped_object,
                               note=payload.note, version=payload.version)
    return _fresh(pk)


class ReleaseIn(Schema):
    reason: str
    note: str = ""
    released_on: dt.date | None = None
    version: int | None = None


@router.post("/records/{int:pk}/release", scope=RouteScope(Supervision, "release", lookup="pk"),
             response=RecordRow, summary="Release from management (解除列管)")
def release(request, pk: int, payload: ReleaseIn):
    services.release(actor=request.auth, supervision=request.scoped_object,
                     reason=payload.reason, note=payload.note, released_on=payload.released_on,
                     version=payload.version)
    return _fresh(pk)


class ProposeIn(Schema):
    to_area_code: str = Field(description="Code of the town/street, village/community or grid")
    reason: str
    version: int | None = None


@router.post("/records/{int:pk}/handover",
             scope=RouteScope(Supervision, "handover", lookup="pk"),
             response={201: HandoverOut}, summary="Propose a handover to another area (衔接)")
def propose(request, pk: int, payload: ProposeIn):
    h = handovers.propose_handover(actor=request.auth, supervision=request.scoped_object,
                                   to_area=payload.to_area_code, reason=payload.reason,
                                   version=payload.version)
    return Status(201, handover_out(h, request.auth))


# --- handovers ----------------------------------------------------------------------------------

class HandoverQuery(Schema):
    open: bool = Field(True, description="Only pending or disputed ones")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class HandoverPage(Schema):
    items: list[HandoverOut]
    has_more: bool


@router.get("/handovers", scope=RouteScope(Handover, "view"), response=HandoverPage,
            summary="Handovers leaving or entering my area")
def list_handovers(request, query: Query[HandoverQuery]):
    qs = Handover.objects.restrict(request.auth).select_related("from_area", "to_area",
                                                                 "arbiter_area")
    if query.open:
        qs = qs.open()
    rows = list(qs[query.offset: query.offset + query.limit + 1])
    return {"items": [handover_out(h, request.auth) for h in rows[: query.limit]],
            "has_more": len(rows) > query.limit}


@router.get("/handovers/{int:pk}", scope=RouteScope(Handover, "view", lookup="pk"),
            response=HandoverOut, summary="One handover")
def handover_detail(request, pk: int):
    return handover_out(request.scoped_object, request.auth)


ACTIONS = ("accept", "dispute", "assign", "send_back", "withdraw")


@router.post("/handovers/{int:pk}/{slug:action}",
             scope=RouteScope(Handover, "view", lookup="pk", params=(("action", "accept"),),
                              requires=((Supervision, "handover"),)),
             response=HandoverOut,
             summary="Answer a handover: accept, dispute, assign, send_back, withdraw")
def handover_action(request, pk: int, action: str, payload: NoteIn = None):
    if action not in ACTIONS:
        raise Http404
    h, user = request.scoped_object, request.auth
    note = payload.note if payload else ""
    version = payload.version if payload else None
    if action == "accept":
        h = handovers.accept_handover(actor=user, handover=h, note=note, version=version)
    elif action == "dispute":
        h = handovers.dispute_handover(actor=user, handover=h, reason=note, version=version)
    elif action in ("assign", "send_back"):
        h = handovers.arbitrate_handover(actor=user, handover=h, assign=action == "assign",
                                         note=note, version=version)
    else:
        h = handovers.withdraw_handover(actor=user, handover=h, note=note, version=version)
    return handover_out(Handover.objects.select_related("from_area", "to_area",
                                                        "arbiter_area").get(pk=h.pk), user)


# --- coverage -----------------------------------------------------------------------------------

class CoverageQuery(Schema):
    area: str | None = Field(None, pattern=r"^\d{1,15}$",
                             description="Area code whose children are shown (default: mine)")
    start: dt.date | None = None
    end: dt.date | None = None


@router.get("/coverage", scope=RouteScope(Coverage, "view"), response=dict,
            summary="Coverage per area and category (counts only)")
def coverage_figures(request, query: Query[CoverageQuery]):
    today = timezone.localdate()
    start, end = query.start or today.replace(day=1), query.end or today
    if start > end:
        raise field_error("start", _("The start is after the end."))
    root = coverage.root(request.auth, query.area)
    if root is None:
        raise Http404
    f = coverage.figures(request.auth, root, start=start, end=end)
    return {
        "area": {"code": root.code, "name": root.name}, "start": start.isoformat(),
        "end": end.isoformat(), "as_of": f.as_of.isoformat(),
        "categories": [{"id": c.pk, "code": c.code, "name": c.name} for c in f.categories],
        "rows": [{"area_code": r.area.code, "area_name": r.area.name,
                  "total": r.total.as_dict(),
                  "by_category": {f.categories[i].code: r.cells[c.pk].as_dict()
                                  for i, c in enumerate(f.categories)}} for r in f.rows],
        "totals": {c.code: f.totals[c.pk].as_dict() for c in f.categories},
        "grand_total": f.grand.as_dict(),
    }
