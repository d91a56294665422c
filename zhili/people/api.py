"""The registry over the API: persons (with their residency facts), houses, buildings and units.

Personal data is masked in every response (`pii.mask_field`): unmasking is a separate,
audited act. Exact lookups go through the blind index: `?id_number=` or `?phone=` (the value
is never stored or logged in clear), `?q=` recognises an ID number or phone as well.
Writes call the same services as the pages, so errors are the same field-level messages.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _
from ninja import Body, Field, Query, Schema, Status

from zhili.areas.models import Area
from zhili.core import codes as area_codes
from zhili.core import pii
from zhili.core.api import RouteScope, ScopedRouter
from zhili.core.services import field_error
from zhili.people import services
from zhili.people.choices import ResidencyKind
from zhili.people.models import Building, House, Person, Residency, Unit

router = ScopedRouter(tags=["people"])


def masked(obj, name: str) -> str:
    return pii.mask_field(obj, name)


def _area(request, code: str | None, field_name: str = "area_code") -> Area | None:
    if not code:
        return None
    try:
        padded = area_codes.normalize(code)
    except area_codes.CodeError as exc:
        raise field_error(field_name, str(exc)) from None
    area = Area.objects.restrict(request.auth).filter(code=padded).first()
    if area is None:
        raise field_error(field_name, _("No such area within your reach."))
    return area


def _fk(request, model, pk: int | None, field_name: str):
    if pk is None:
        return None
    obj = model.objects.restrict(request.auth).filter(pk=pk).first()
    if obj is None:
        raise field_error(field_name, _("Not found within your reach."))
    return obj


class Page(Schema):
    has_more: bool


class ListQuery(Schema):
    q: str | None = Field(None, max_length=60, description="A name; or an ID number or phone "
                          "(matched exactly)")
    area: str | None = Field(None, pattern=r"^\d{1,15}$", description="Area code (subtree)")
    active: bool | None = Field(True, description="false: inactive only; omit for active")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


def _listed(qs, query: ListQuery):
    if query.area:
        qs = qs.filter(area_codes.range_q("area_code", query.area))
    if query.q:
        qs = qs.search(query.q)
    if query.active is not None:
        qs = qs.filter(is_active=query.active)
    rows = list(qs[query.offset: query.offset + query.limit + 1])
    return rows[: query.limit], len(rows) > query.limit


def _saved(saved) -> dict:
    return {"id": saved.obj.pk, "warnings": [str(w) for w in saved.warnings]}


class SavedOut(Schema):
    id: int
    warnings: list[str]


# --- persons ----------------------------------------------------------------------------------


class PersonRow(Schema):
    id: int
    name: str
    id_type: str
    id_number: str
    sex: str
    birth_date: dt.date | None
    phone: str
    area_code: str
    area_name: str
    house_id: int | None
    is_active: bool
    residencies: list[str]


def person_row(p: Person) -> dict:
    return {"id": p.pk, "name": p.name, "id_type": p.id_type,
            "id_number": masked(p, "id_number"), "sex": p.sex, "birth_date": p.birth_date,
            "phone": masked(p, "phone"), "area_code": p.area_code, "area_name": p.area.name,
            "house_id": p.house_id, "is_active": p.is_active,
            "residencies": [r.kind for r in p.residencies.all() if r.is_active]}


class PersonPage(Page):
    items: list[PersonRow]


class PersonQuery(ListQuery):
    id_number: str | None = Field(None, max_length=30, description="Exact (blind index)")
    phone: str | None = Field(None, max_length=30, description="Exact (blind index)")
    kind: str | None = Field(None, pattern="^(registered|floating|left_behind|foreign)$")


@router.get("/persons", scope=RouteScope(Person, "view"), response=PersonPage,
            summary="Persons in reach (masked); exact lookup by ID number or phone")
def list_persons(request, query: Query[PersonQuery]):
    qs = Person.objects.restrict(request.auth)
    if query.id_number:
        qs = qs.filter(pii.lookup_q(Person, "id_number", query.id_number))
    if query.phone:
        qs = qs.filter(pii.lookup_q(Person, "phone", query.phone))
    if query.kind:
        qs = qs.filter(residencies__kind=query.kind, residencies__is_active=True)
    if query.id_number or query.phone:
        query.active = None  # an exact lookup finds inactive records too
    rows, more = _listed(qs.prefetch_related("area", "residencies"), query)
    return {"items": [person_row(p) for p in rows], "has_more": more}


class ResidencyOut(Schema):
    id: int
    kind: str
    is_active: bool
    ended_on: dt.date | None
    fields: dict[str, Any]


def residency_out(r: Residency) -> dict:
    from zhili.people import details

    shown = {}
    for f in details.RESIDENCY[r.kind].fields:
        if f.column:
            kind = pii.field_kind(Residency, f.name)
            value = masked(r, f.name) if kind else getattr(r, f.name)
        else:
            value = "****" if r.details.get(f.name) not in (None, "") else None
        shown[f.name] = value
    return {"id": r.pk, "kind": r.kind, "is_active": r.is_active, "ended_on": r.ended_on,
            "fields": shown}


class PersonDetail(PersonRow):
    former_name: str
    ethnicity: str
    native_place: str
    marital_status: str
    political_status: str
    education: str
    religion: str
    occupation_class: str
    occupation: str
    workplace: str
    registered_place: str
    registered_address: str
    current_address: str
    house_relation: str
    inactive_reason: str
    inactive_on: dt.date | None
    lat: Decimal | None
    lng: Decimal | None
    residency_facts: list[ResidencyOut]


def person_detail(p: Person) -> dict:
    return {
        **person_row(p),
        **{name: getattr(p, name) for name in (
            "former_name", "ethnicity", "native_place", "marital_status", "political_status",
            "education", "religion", "occupation_class", "occupation", "workplace",
            "registered_place", "house_relation", "inactive_reason", "inactive_on", "lat",
            "lng")},
        "registered_address": masked(p, "registered_address"),
        "current_address": masked(p, "current_address"),
        "residency_facts": [residency_out(r) for r in p.residencies.all()],
    }


@router.get("/persons/{int:pk}", scope=RouteScope(Person, "view", lookup="pk"),
            response=PersonDetail, summary="One person (masked) with residency facts")
def get_person(request, pk: int):
    return person_detail(request.scoped_object)


class PersonIn(Schema):
    """The common block as typed (codes or the standard's names; see clean_person)."""

    area_code: str | None = Field(None, pattern=r"^\d{6,15}$")
    house_id: int | None = None
    take_over: bool = False
    name: str = Field(max_length=50)
    id_type: str | None = None
    id_number: str | None = Field(None, max_length=30)
    former_name: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    ethnicity: str | None = None
    native_place: str | None = None
    marital_status: str | None = None
    political_status: str | None = None
    education: str | None = None
    religion: str | None = None
    occupation_class: str | None = None
    occupation: str | None = None
    workplace: str | None = None
    phone: str | None = None
    registered_place: str | None = None
    registered_address: str | None = None
    current_address: str | None = None
    house_relation: str | None = None
    lat: Decimal | None = None
    lng: Decimal | None = None
    note: str | None = None


PLACEMENT = ("area_code", "house_id", "take_over")


@router.post("/persons", scope=RouteScope(Person, "add"), response={201: SavedOut},
             summary="Register a person")
def create_person(request, payload: PersonIn):
    data = payload.dict(exclude_unset=True)
    house = _fk(request, House, data.get("house_id"), "house_id")
    area = _area(request, data.get("area_code"))
    saved = services.create_person(
        actor=request.auth, area=area, house=house, take_over=data.get("take_over", False),
        data={k: v for k, v in data.items() if k not in PLACEMENT and v is not None})
    return Status(201, _saved(saved))


class PersonPatch(Schema):
    name: str | None = Field(None, max_length=50)
    house_id: int | None = None
    id_type: str | None = None
    id_number: str | None = None
    former_name: str | None = None
    sex: str | None = None
    birth_date: str | None = None
    ethnicity: str | None = None
    native_place: str | None = None
    marital_status: str | None = None
    political_status: str | None = None
    education: str | None = None
    religion: str | None = None
    occupation_class: str | None = None
    occupation: str | None = None
    workplace: str | None = None
    phone: str | None = None
    registered_place: str | None = None
    registered_address: str | None = None
    current_address: str | None = None
    house_relation: str | None = None
    lat: Decimal | None = None
    lng: Decimal | None = None
    note: str | None = None


@router.patch("/persons/{int:pk}", scope=RouteScope(Person, "change", lookup="pk"),
              response=SavedOut, summary="Change a person (only the fields sent)")
def update_person(request, pk: int, payload: PersonPatch):
    data = payload.dict(exclude_unset=True)
    kwargs = {}
    if "house_id" in data:
        kwargs["house"] = _fk(request, House, data.pop("house_id"), "house_id")
    data = {k: ("" if v is None else v) for k, v in data.items()}
    return _saved(services.update_person(actor=request.auth, person=request.scoped_object,
                                         data=data, **kwargs))


class MoveIn(Schema):
    area_code: str = Field(pattern=r"^\d{6,15}$")
    house_id: int | None = None
    current_address: str | None = Field(None, max_length=200)


@router.post("/persons/{int:pk}/move", scope=RouteScope(Person, "change", lookup="pk"),
             response=SavedOut, summary="The person now lives elsewhere (within reach)")
def move_person(request, pk: int, payload: MoveIn):
    area = _area(request, payload.area_code)
    house = _fk(request, House, payload.house_id, "house_id")
    person = services.move_person(actor=request.auth, person=request.scoped_object, area=area,
                                  house=house, current_address=payload.current_address)
    return {"id": person.pk, "warnings": []}


class DeactivateIn(Schema):
    reason: str
    on: dt.date | None = None
    note: str = Field("", max_length=500)


@router.post("/persons/{int:pk}/deactivate", scope=RouteScope(Person, "change", lookup="pk"),
             response=SavedOut, summary="Moved away, deceased or registered twice")
def deactivate_person(request, pk: int, payload: DeactivateIn):
    person = services.deactivate_person(actor=request.auth, person=request.scoped_object,
                                        reason=payload.reason, on=payload.on,
                                        note=payload.note)
    return {"id": person.pk, "warnings": []}


@router.put("/persons/{int:pk}/residencies/{slug:kind}",
            scope=RouteScope(Person, "view", lookup="pk", requires=((Residency, "add"),),
                             params=(("kind", "floating"),)),
            response=SavedOut, summary="Record or replace a residency fact of the person")
def put_residency(request, pk: int, kind: str, payload: Body[dict[str, Any]]):
    if kind not in ResidencyKind.values:
        raise field_error("kind", _("Choose registered, floating, left_behind or foreign."))
    return _saved(services.save_residency(actor=request.auth, person=request.scoped_object,
                                          kind=kind, data=payload))


# --- buildings --------------------------------------------------------------------------------


class BuildingOut(Schema):
    id: int
    estate: str
    name: str
    area_code: str
    address: str
    floors: int
    units: int
    households: int | None
    floor_area: Decimal | None
    leader_name: str
    leader_phone: str
    lat: Decimal | None
    lng: Decimal | None
    is_active: bool


def building_out(b: Building) -> dict:
    return {**{n: getattr(b, n) for n in (
        "estate", "name", "area_code", "address", "floors", "units", "households",
        "floor_area", "leader_name", "lat", "lng", "is_active")},
        "id": b.pk, "leader_phone": masked(b, "leader_phone")}


class BuildingPage(Page):
    items: list[BuildingOut]


@router.get("/buildings", scope=RouteScope(Building, "view"), response=BuildingPage,
            summary="Buildings in reach")
def list_buildings(request, query: Query[ListQuery]):
    rows, more = _listed(Building.objects.restrict(request.auth), query)
    return {"items": [building_out(b) for b in rows], "has_more": more}


@router.get("/buildings/{int:pk}", scope=RouteScope(Building, "view", lookup="pk"),
            response=BuildingOut, summary="One building")
def get_building(request, pk: int):
    return building_out(request.scoped_object)


class PlacedIn(Schema):
    area_code: str | None = Field(None, pattern=r"^\d{6,15}$")
    fields: dict[str, Any] = Field(default_factory=dict,
                                   description="The record's fields, as on the form")


@router.post("/buildings", scope=RouteScope(Building, "add"), response={201: SavedOut},
             summary="Register a building")
def create_building(request, payload: PlacedIn):
    saved = services.create_building(actor=request.auth, area=_area(request, payload.area_code),
                                     data=payload.fields)
    return Status(201, _saved(saved))


@router.patch("/buildings/{int:pk}", scope=RouteScope(Building, "change", lookup="pk"),
              response=SavedOut, summary="Change a building (only the fields sent)")
def update_building(request, pk: int, payload: Body[dict[str, Any]]):
    return _saved(services.update_building(actor=request.auth, building=request.scoped_object,
                                           data=payload))


# --- houses -----------------------------------------------------------------------------------


class HouseOut(Schema):
    id: int
    number: str
    address: str
    building_id: int | None
    area_code: str
    use: str
    floor_area: Decimal | None
    is_rental: bool
    owner_name: str
    owner_id_type: str
    owner_id_number: str
    owner_phone: str
    owner_address: str
    rental_use: str
    hazard: str
    tenants: list[int]
    is_active: bool


def house_out(h: House, tenants: list[int] | None = None) -> dict:
    return {**{n: getattr(h, n) for n in (
        "number", "building_id", "area_code", "use", "floor_area", "is_rental", "owner_name",
        "owner_id_type", "rental_use", "hazard", "is_active")},
        "id": h.pk, "address": masked(h, "address"),
        "owner_id_number": masked(h, "owner_id_number"), "owner_phone": masked(h, "owner_phone"),
        "owner_address": masked(h, "owner_address"), "tenants": tenants or []}


class HousePage(Page):
    items: list[HouseOut]


class HouseQuery(ListQuery):
    rental: bool | None = None
    owner_id_number: str | None = Field(None, max_length=30, description="Exact")


@router.get("/houses", scope=RouteScope(House, "view"), response=HousePage,
            summary="Houses in reach (rental houses with ?rental=true)")
def list_houses(request, query: Query[HouseQuery]):
    qs = House.objects.restrict(request.auth)
    if query.rental is not None:
        qs = qs.filter(is_rental=query.rental)
    if query.owner_id_number:
        qs = qs.filter(pii.lookup_q(House, "owner_id_number", query.owner_id_number))
    rows, more = _listed(qs, query)
    return {"items": [house_out(h) for h in rows], "has_more": more}


@router.get("/houses/{int:pk}", scope=RouteScope(House, "view", lookup="pk"),
            response=HouseOut, summary="One house with its tenants")
def get_house(request, pk: int):
    house = request.scoped_object
    tenants = list(Person.objects.restrict(request.auth).filter(
        house=house, house_relation="tenant", is_active=True).values_list("pk", flat=True))
    return house_out(house, tenants)


class HouseIn(PlacedIn):
    building_id: int | None = None


@router.post("/houses", scope=RouteScope(House, "add"), response={201: SavedOut},
             summary="Register a house (a rental one with its owner, use and hazards)")
def create_house(request, payload: HouseIn):
    building = _fk(request, Building, payload.building_id, "building_id")
    saved = services.create_house(actor=request.auth, area=_area(request, payload.area_code),
                                  building=building, data=payload.fields)
    return Status(201, _saved(saved))


@router.patch("/houses/{int:pk}", scope=RouteScope(House, "change", lookup="pk"),
              response=SavedOut, summary="Change a house (only the fields sent)")
def update_house(request, pk: int, payload: Body[dict[str, Any]]):
    return _saved(services.update_house(actor=request.auth, house=request.scoped_object,
                                        data=payload))


# --- units ------------------------------------------------------------------------------------


class UnitOut(Schema):
    id: int
    kind: str
    uscc: str
    name: str
    area_code: str
    address: str
    phone: str
    employees: int | None
    legal_rep_name: str
    legal_rep_id_number: str
    legal_rep_phone: str
    security_name: str
    security_phone: str
    category: str
    hazard: str
    attention: str
    has_party_org: bool
    details: dict[str, Any]
    is_active: bool


def unit_out(u: Unit) -> dict:
    return {**{n: getattr(u, n) for n in (
        "kind", "uscc", "name", "area_code", "address", "phone", "employees", "legal_rep_name",
        "security_name", "category", "hazard", "attention", "has_party_org", "details",
        "is_active")},
        "id": u.pk, "legal_rep_id_number": masked(u, "legal_rep_id_number"),
        "legal_rep_phone": masked(u, "legal_rep_phone"),
        "security_phone": masked(u, "security_phone")}


class UnitPage(Page):
    items: list[UnitOut]


class UnitQuery(ListQuery):
    kind: str | None = Field(None, pattern="^(enterprise|social_org)$")
    uscc: str | None = Field(None, max_length=18)


@router.get("/units", scope=RouteScope(Unit, "view"), response=UnitPage,
            summary="Enterprises and social organisations in reach")
def list_units(request, query: Query[UnitQuery]):
    qs = Unit.objects.restrict(request.auth)
    if query.kind:
        qs = qs.filter(kind=query.kind)
    if query.uscc:
        qs = qs.filter(uscc=query.uscc.strip().upper())
    rows, more = _listed(qs, query)
    return {"items": [unit_out(u) for u in rows], "has_more": more}


@router.get("/units/{int:pk}", scope=RouteScope(Unit, "view", lookup="pk"), response=UnitOut,
            summary="One unit")
def get_unit(request, pk: int):
    return unit_out(request.scoped_object)


class UnitIn(PlacedIn):
    kind: str = Field(pattern="^(enterprise|social_org)$",
                      description="enterprise (T23) or social_org (T24)")


@router.post("/units", scope=RouteScope(Unit, "add"), response={201: SavedOut},
             summary="Register a unit (validated credit code)")
def create_unit(request, payload: UnitIn):
    saved = services.create_unit(actor=request.auth, area=_area(request, payload.area_code),
                                 kind=payload.kind, data=payload.fields)
    return Status(201, _saved(saved))


@router.patch("/units/{int:pk}", scope=RouteScope(Unit, "change", lookup="pk"),
              response=SavedOut, summary="Change a unit (only the fields sent)")
def update_unit(request, pk: int, payload: Body[dict[str, Any]]):
    return _saved(services.update_unit(actor=request.auth, unit=request.scoped_object,
                                       data=payload))
