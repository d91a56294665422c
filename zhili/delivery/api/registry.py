"""The registry over the API: courier companies, outlets (and their devices) and staff.

Lists take filters and `limit`/`offset`; objects are created with POST, changed with PATCH
(only the fields sent), closed or reopened with POST `…/active`. Areas are named by code,
companies and outlets by id. Phones and ID numbers are masked in every response; a staff
member is found by exact ID number (`?id_number=`, the blind index), never by a fragment.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status

from zhili.areas.models import Area
from zhili.core import codes, pii
from zhili.core.api import RouteScope
from zhili.core.services import ServiceError, field_error
from zhili.delivery import registry
from zhili.delivery.api.base import router
from zhili.delivery.choices import StaffDuty
from zhili.delivery.models import CourierCompany, CourierStaff, Outlet
from zhili.devices.models import Device
from zhili.orgs.models import Organisation

RENAMES = {"area": "area_code", "company": "company_id", "outlet": "outlet_id",
           "org": "org_id"}


def _choice(values) -> str:
    return "^(" + "|".join(values) + ")$"


def _area(raw: str | None, name: str = "area_code") -> Area | None:
    if not raw:
        return None
    try:
        code = codes.normalize(raw)
    except codes.CodeError as exc:
        raise field_error(name, str(exc)) from None
    area = Area.objects.filter(code=code).first()
    if area is None:
        raise field_error(name, _("There is no area with code %(code)s.") % {"code": raw})
    return area


def _prefix(raw: str) -> str:
    """A 15-digit filter code stands for its area's subtree; anything shorter is a prefix."""
    if len(raw) == codes.CODE_WIDTH:
        area = Area.objects.filter(code=raw).first()
        if area is not None:
            return area.prefix
    return raw


def _call(fn, **kwargs):
    """Run a service, reporting its refusal under the request's field names."""
    try:
        return fn(**kwargs)
    except ServiceError as exc:
        exc.field_messages = {RENAMES.get(k, k): v for k, v in exc.field_messages.items()}
        raise


class RegistryActiveIn(Schema):
    active: bool


# --- companies -----------------------------------------------------------------------------------

class CompanyOut(Schema):
    id: int
    org_id: int
    name: str
    uscc: str
    brand: str
    area_code: str
    area_name: str
    address: str
    licence_no: str
    registration_type: str
    holding: str
    business_scope: list[str]
    enterprise_type: str
    person_in_charge: str
    phone: str = Field(description="Masked")
    is_active: bool


def company_out(c: CourierCompany) -> dict:
    return {"id": c.pk, "org_id": c.org_id, "name": c.org.name, "uscc": c.org.uscc,
            "brand": c.brand, "area_code": c.area_code, "area_name": c.org.area.name,
            "address": c.org.address, "licence_no": c.licence_no,
            "registration_type": c.registration_type, "holding": c.holding,
            "business_scope": list(c.business_scope or []),
            "enterprise_type": c.enterprise_type, "person_in_charge": c.person_in_charge,
            "phone": pii.mask_phone(c.phone), "is_active": c.is_active}


class CompanyPage(Schema):
    count: int
    items: list[CompanyOut]


class CompanyQuery(Schema):
    q: str | None = Field(None, max_length=100, description="Name or brand contains, or the "
                                                            "exact credit code")
    area: str | None = Field(None, pattern=r"^\d{1,15}$", description="Area code prefix")
    active: bool | None = Field(True, description="Omit (null) for open and closed")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get("/companies", scope=RouteScope(CourierCompany, "view"), response=CompanyPage,
            summary="Courier companies in my reach")
def list_companies(request, query: Query[CompanyQuery]):
    qs = CourierCompany.objects.restrict(request.auth).select_related("org__area")
    if query.q:
        text = query.q.strip()
        qs = qs.filter(Q(org__name__icontains=text) | Q(brand__icontains=text)
                       | Q(org__uscc=text.upper()))
    if query.area:
        qs = qs.filter(codes.range_q("area_code", _prefix(query.area)))
    if query.active is not None:
        qs = qs.filter(is_active=query.active)
    qs = qs.order_by("brand", "id")
    return {"count": qs.count(),
            "items": [company_out(c) for c in qs[query.offset: query.offset + query.limit]]}


@router.get("/companies/{int:pk}", scope=RouteScope(CourierCompany, "view", lookup="pk"),
            response=CompanyOut, summary="One courier company")
def get_company(request, pk: int):
    return company_out(request.scoped_object)


class CompanyIn(Schema):
    org_id: int | None = Field(None, description="An existing courier organisation to give "
                                                 "the profile to")
    name: str | None = Field(None, max_length=200)
    uscc: str | None = Field(None, max_length=24)
    area_code: str | None = Field(None, pattern=r"^\d{4,15}$")
    address: str = Field("", max_length=200)
    brand: str = Field(max_length=50)
    licence_no: str = Field("", max_length=40)
    registration_type: str = Field("", max_length=3, description="GB/T 31000 5.51")
    holding: str = Field("", max_length=3, description="5.52")
    business_scope: list[str] = Field(default_factory=list, description="5.53 codes")
    enterprise_type: str = Field("", max_length=2, description="5.54")
    person_in_charge: str = Field("", max_length=50)
    phone: str = Field("", max_length=40)


class CompanyPatch(Schema):
    name: str | None = Field(None, max_length=200)
    uscc: str | None = Field(None, max_length=24)
    area_code: str | None = Field(None, pattern=r"^\d{4,15}$")
    address: str | None = Field(None, max_length=200)
    brand: str | None = Field(None, max_length=50)
    licence_no: str | None = Field(None, max_length=40)
    registration_type: str | None = Field(None, max_length=3)
    holding: str | None = Field(None, max_length=3)
    business_scope: list[str] | None = None
    enterprise_type: str | None = Field(None, max_length=2)
    person_in_charge: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=40)


def _company_data(data: dict) -> dict:
    if "area_code" in data:
        data["area"] = _area(data.pop("area_code"))
    return {k: v for k, v in data.items() if v is not None or k == "area"}


@router.post("/companies", scope=RouteScope(CourierCompany, "add"),
             response={201: CompanyOut}, summary="Register a courier company")
def create_company(request, payload: CompanyIn):
    data = payload.dict()
    org = None
    org_id = data.pop("org_id")
    if org_id is not None:
        org = Organisation.objects.in_scope(request.auth).filter(pk=org_id).first()
        if org is None:
            raise field_error("org_id", _("No such organisation within your reach."))
        data = {k: v for k, v in data.items() if v not in (None, "") or
                k not in ("name", "uscc", "area_code", "address")}
    data = _company_data(data)
    if org is not None and data.get("area") is None:
        data.pop("area", None)
    company = _call(registry.save_company, actor=request.auth, data=data, org=org)
    return Status(201, company_out(company))


@router.patch("/companies/{int:pk}", scope=RouteScope(CourierCompany, "change", lookup="pk"),
              response=CompanyOut, summary="Change a courier company (only the fields sent)")
def update_company(request, pk: int, payload: CompanyPatch):
    data = _company_data(payload.dict(exclude_unset=True))
    company = _call(registry.save_company, actor=request.auth, company=request.scoped_object,
                    data=data)
    return company_out(company)


@router.post("/companies/{int:pk}/active",
             scope=RouteScope(CourierCompany, "change", lookup="pk"), response=CompanyOut,
             summary="Close or reopen a courier company (after its outlets)")
def company_active(request, pk: int, payload: RegistryActiveIn):
    company = registry.set_active(actor=request.auth, obj=request.scoped_object,
                                  active=payload.active)
    return company_out(company)


# --- outlets -------------------------------------------------------------------------------------

class OutletOut(Schema):
    id: int
    org_id: int
    company_id: int
    company_name: str
    brand: str
    code: str
    name: str
    area_code: str
    area_name: str
    licence_no: str
    address: str
    person_in_charge: str
    phone: str = Field(description="Masked")
    lat: Decimal | None
    lng: Decimal | None
    is_active: bool
    created_at: dt.datetime


def outlet_out(o: Outlet) -> dict:
    return {"id": o.pk, "org_id": o.org_id, "company_id": o.company_id,
            "company_name": o.company.org.name, "brand": o.company.brand, "code": o.code,
            "name": o.org.name, "area_code": o.area_code, "area_name": o.area.name,
            "licence_no": o.licence_no, "address": o.address,
            "person_in_charge": o.person_in_charge, "phone": pii.mask_phone(o.phone),
            "lat": o.lat, "lng": o.lng, "is_active": o.is_active, "created_at": o.created_at}


OUTLET_RELATED = ("org", "area", "company__org")


class OutletPage(Schema):
    count: int
    items: list[OutletOut]


class OutletQuery(Schema):
    q: str | None = Field(None, max_length=100, description="Name contains, or exact code")
    company: int | None = Field(None, description="Company id")
    code: str | None = Field(None, max_length=40, description="The company's outlet code")
    area: str | None = Field(None, pattern=r"^\d{1,15}$", description="Area code prefix")
    active: bool | None = Field(True, description="Omit (null) for open and closed")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get("/outlets", scope=RouteScope(Outlet, "view"), response=OutletPage,
            summary="Courier outlets in my reach")
def list_outlets(request, query: Query[OutletQuery]):
    qs = Outlet.objects.restrict(request.auth).select_related(*OUTLET_RELATED)
    if query.q:
        text = query.q.strip()
        qs = qs.filter(Q(org__name__icontains=text) | Q(code__iexact=text))
    if query.company:
        qs = qs.filter(company_id=query.company)
    if query.code:
        qs = qs.filter(code=query.code)
    if query.area:
        qs = qs.filter(codes.range_q("area_code", _prefix(query.area)))
    if query.active is not None:
        qs = qs.filter(is_active=query.active)
    qs = qs.order_by("area_code", "code", "id")
    return {"count": qs.count(),
            "items": [outlet_out(o) for o in qs[query.offset: query.offset + query.limit]]}


@router.get("/outlets/{int:pk}", scope=RouteScope(Outlet, "view", lookup="pk"),
            response=OutletOut, summary="One courier outlet")
def get_outlet(request, pk: int):
    return outlet_out(request.scoped_object)


class OutletIn(Schema):
    company_id: int
    code: str = Field(max_length=60)
    name: str = Field(max_length=200)
    area_code: str = Field(pattern=r"^\d{6,15}$")
    licence_no: str = Field("", max_length=40)
    address: str = Field("", max_length=200)
    person_in_charge: str = Field("", max_length=50)
    phone: str = Field("", max_length=40)
    lat: Decimal | None = Field(None, ge=-90, le=90)
    lng: Decimal | None = Field(None, ge=-180, le=180)


class OutletPatch(Schema):
    code: str | None = Field(None, max_length=60)
    name: str | None = Field(None, max_length=200)
    area_code: str | None = Field(None, pattern=r"^\d{6,15}$")
    licence_no: str | None = Field(None, max_length=40)
    address: str | None = Field(None, max_length=200)
    person_in_charge: str | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=40)
    lat: Decimal | None = Field(None, ge=-90, le=90)
    lng: Decimal | None = Field(None, ge=-180, le=180)


@router.post("/outlets", scope=RouteScope(Outlet, "add"), response={201: OutletOut},
             summary="Register a courier outlet (its organisation is created under the "
                     "company's)")
def create_outlet(request, payload: OutletIn):
    data = payload.dict()
    company = registry.companies_for_outlets(request.auth).filter(
        pk=data.pop("company_id")).first()
    if company is None:
        raise field_error("company_id", _("No such open company within your reach."))
    data.update(company=company, area=_area(data.pop("area_code")))
    outlet = _call(registry.save_outlet, actor=request.auth, data=data)
    return Status(201, outlet_out(Outlet.objects.select_related(*OUTLET_RELATED)
                                  .get(pk=outlet.pk)))


@router.patch("/outlets/{int:pk}", scope=RouteScope(Outlet, "change", lookup="pk"),
              response=OutletOut, summary="Change a courier outlet (only the fields sent)")
def update_outlet(request, pk: int, payload: OutletPatch):
    data = payload.dict(exclude_unset=True)
    if "area_code" in data:
        data["area"] = _area(data.pop("area_code"))
    outlet = _call(registry.save_outlet, actor=request.auth, outlet=request.scoped_object,
                   data=data)
    return outlet_out(Outlet.objects.select_related(*OUTLET_RELATED).get(pk=outlet.pk))


@router.post("/outlets/{int:pk}/active", scope=RouteScope(Outlet, "change", lookup="pk"),
             response=OutletOut, summary="Close or reopen a courier outlet")
def outlet_active(request, pk: int, payload: RegistryActiveIn):
    outlet = registry.set_active(actor=request.auth, obj=request.scoped_object,
                                 active=payload.active)
    return outlet_out(Outlet.objects.select_related(*OUTLET_RELATED).get(pk=outlet.pk))


class OutletDeviceOut(Schema):
    id: int
    kind: str
    kind_name: str
    code: str
    name: str
    status: str
    status_name: str
    last_seen_at: dt.datetime | None


@router.get("/outlets/{int:pk}/devices",
            scope=RouteScope(Outlet, "view", lookup="pk", requires=((Device, "view"),)),
            response=list[OutletDeviceOut], summary="The devices at an outlet (X-ray machines, "
                                                    "cameras)")
def outlet_devices(request, pk: int):
    devices = Device.objects.restrict(request.auth).filter(
        org_id=request.scoped_object.org_id).order_by("kind", "code")
    return [{"id": d.pk, "kind": d.kind, "kind_name": d.get_kind_display(), "code": d.code,
             "name": d.name, "status": d.status, "status_name": d.get_status_display(),
             "last_seen_at": d.last_seen_at} for d in devices]


# --- staff ---------------------------------------------------------------------------------------

class StaffOut(Schema):
    id: int
    outlet_id: int
    outlet_code: str
    outlet_name: str
    name: str
    id_number: str = Field(description="Masked")
    phone: str = Field(description="Masked")
    duty: str
    duty_name: str
    background_checked_on: dt.date | None
    trained_on: dt.date | None
    is_active: bool


def staff_out(s: CourierStaff) -> dict:
    return {"id": s.pk, "outlet_id": s.outlet_id, "outlet_code": s.outlet.code,
            "outlet_name": s.outlet.org.name, "name": s.name,
            "id_number": pii.mask_id_number(s.id_number), "phone": pii.mask_phone(s.phone),
            "duty": s.duty, "duty_name": s.get_duty_display(),
            "background_checked_on": s.background_checked_on, "trained_on": s.trained_on,
            "is_active": s.is_active}


class StaffCreated(StaffOut):
    warnings: list[str] = Field(description="Findings that did not stop the registration")


class StaffPage(Schema):
    count: int
    items: list[StaffOut]


class StaffQuery(Schema):
    outlet: int | None = Field(None, description="Outlet id")
    company: int | None = Field(None, description="Company id")
    q: str | None = Field(None, max_length=50, description="Name contains")
    id_number: str | None = Field(None, max_length=30, description="Exact ID number")
    duty: str | None = Field(None, pattern=_choice(StaffDuty.values))
    missing: str | None = Field(None, pattern="^(background|training)$",
                                description="Without a background check, or training")
    active: bool | None = Field(True, description="Omit (null) for current and former staff")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get("/staff", scope=RouteScope(CourierStaff, "view"), response=StaffPage,
            summary="Courier staff in my reach")
def list_staff(request, query: Query[StaffQuery]):
    qs = CourierStaff.objects.restrict(request.auth).select_related("outlet__org")
    if query.outlet:
        qs = qs.filter(outlet_id=query.outlet)
    if query.company:
        qs = qs.filter(outlet__company_id=query.company)
    if query.q:
        qs = qs.filter(name__icontains=query.q.strip())
    if query.id_number:
        qs = qs.filter(pii.lookup_q(CourierStaff, "id_number", query.id_number))
    if query.duty:
        qs = qs.filter(duty=query.duty)
    if query.missing == "background":
        qs = qs.filter(background_checked_on__isnull=True)
    elif query.missing == "training":
        qs = qs.filter(trained_on__isnull=True)
    if query.active is not None:
        qs = qs.filter(is_active=query.active)
    qs = qs.order_by("outlet_id", "name", "id")
    return {"count": qs.count(),
            "items": [staff_out(s) for s in qs[query.offset: query.offset + query.limit]]}


@router.get("/staff/{int:pk}", scope=RouteScope(CourierStaff, "view", lookup="pk"),
            response=StaffOut, summary="One staff member")
def get_staff(request, pk: int):
    return staff_out(request.scoped_object)


class StaffIn(Schema):
    outlet_id: int
    name: str = Field(max_length=50)
    id_number: str = Field(max_length=30)
    phone: str = Field("", max_length=40)
    duty: str = Field(pattern=_choice(StaffDuty.values))
    background_checked_on: dt.date | None = None
    trained_on: dt.date | None = None


class StaffPatch(Schema):
    outlet_id: int | None = None
    name: str | None = Field(None, max_length=50)
    id_number: str | None = Field(None, max_length=30)
    phone: str | None = Field(None, max_length=40)
    duty: str | None = Field(None, pattern=_choice(StaffDuty.values))
    background_checked_on: dt.date | None = None
    trained_on: dt.date | None = None


def _staff_data(request, data: dict) -> dict:
    if "outlet_id" in data:
        outlet_id = data.pop("outlet_id")
        outlet = Outlet.objects.in_scope(request.auth).filter(pk=outlet_id).first() \
            if outlet_id is not None else None
        if outlet is None:
            raise field_error("outlet_id", _("No such outlet within your reach."))
        data["outlet"] = outlet
    return data


@router.post("/staff", scope=RouteScope(CourierStaff, "add"), response={201: StaffCreated},
             summary="Register a courier or screener (one active record per ID number)")
def create_staff(request, payload: StaffIn):
    data = _staff_data(request, payload.dict())
    staff = _call(registry.save_staff, actor=request.auth, data=data)
    return Status(201, {**staff_out(staff), "warnings": staff.warnings})


@router.patch("/staff/{int:pk}", scope=RouteScope(CourierStaff, "change", lookup="pk"),
              response=StaffOut, summary="Change a staff member (only the fields sent)")
def update_staff(request, pk: int, payload: StaffPatch):
    data = _staff_data(request, payload.dict(exclude_unset=True))
    staff = _call(registry.save_staff, actor=request.auth, staff=request.scoped_object,
                  data=data)
    return staff_out(staff)


@router.post("/staff/{int:pk}/active", scope=RouteScope(CourierStaff, "change", lookup="pk"),
             response=StaffOut, summary="A staff member left (or came back)")
def staff_active(request, pk: int, payload: RegistryActiveIn):
    staff = registry.set_active(actor=request.auth, obj=request.scoped_object,
                                active=payload.active)
    return staff_out(CourierStaff.objects.select_related("outlet__org").get(pk=staff.pk))
