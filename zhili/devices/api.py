"""Devices over the API (`/api/v1/devices`): list with filters, one device, register, change.

Places are named by code (`area_code`) and organisations by id; the service judges reach."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _
from ninja import Field, Query, Schema, Status

from zhili.areas.models import Area
from zhili.core import codes
from zhili.core.api import RouteScope, ScopedRouter
from zhili.core.services import ServiceError, field_error
from zhili.devices import filters, services
from zhili.devices.choices import DeviceKind, DeviceStatus
from zhili.devices.models import Device
from zhili.orgs.models import Organisation

router = ScopedRouter(tags=["devices"])


class DeviceOut(Schema):
    id: int
    kind: str
    kind_name: str
    code: str
    name: str
    org_id: int | None
    org_name: str | None
    area_code: str
    area_name: str
    parent_id: int | None
    manufacturer: str
    model: str
    address: str
    lat: Decimal | None
    lng: Decimal | None
    status: str
    status_name: str
    last_seen_at: dt.datetime | None
    installed_on: dt.date | None


def device_out(d: Device) -> dict:
    return {"id": d.pk, "kind": d.kind, "kind_name": d.get_kind_display(), "code": d.code,
            "name": d.name, "org_id": d.org_id, "org_name": d.org.name if d.org_id else None,
            "area_code": d.area_code, "area_name": d.area.name, "parent_id": d.parent_id,
            "manufacturer": d.manufacturer, "model": d.model, "address": d.address,
            "lat": d.lat, "lng": d.lng, "status": d.status,
            "status_name": d.get_status_display(), "last_seen_at": d.last_seen_at,
            "installed_on": d.installed_on}


class DevicePage(Schema):
    count: int
    items: list[DeviceOut]


def _choice(values) -> str:
    return "^(" + "|".join(values) + ")$"


class DeviceQuery(Schema):
    q: str | None = Field(None, max_length=60, description="Name or code contains")
    kind: str | None = Field(None, pattern=_choice(DeviceKind.values))
    status: str | None = Field(None, pattern=_choice(DeviceStatus.values))
    area: str | None = Field(None, pattern=r"^\d{1,15}$", description="Area code prefix")
    org: int | None = Field(None, description="Organisation id")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0)


@router.get("", scope=RouteScope(Device, "view"), response=DevicePage,
            summary="Devices in my reach")
def list_devices(request, query: Query[DeviceQuery]):
    qs = filters.apply(Device.objects.restrict(request.auth), query.dict()).select_related(
        "org", "area").order_by("area_code", "kind", "code")
    page = qs[query.offset: query.offset + query.limit]
    return {"count": qs.count(), "items": [device_out(d) for d in page]}


@router.get("/{int:pk}", scope=RouteScope(Device, "view", lookup="pk"), response=DeviceOut,
            summary="One device")
def get_device(request, pk: int):
    return device_out(request.scoped_object)


class DeviceIn(Schema):
    kind: str = Field(pattern=_choice(DeviceKind.values))
    code: str = Field(max_length=60)
    name: str = Field(max_length=100)
    org_id: int | None = None
    area_code: str | None = Field(None, pattern=r"^\d{6,15}$",
                                  description="Omit for the organisation's area")
    parent_id: int | None = Field(None, description="A camera's recorder (NVR)")
    manufacturer: str = Field("", max_length=60)
    model: str = Field("", max_length=60)
    address: str = Field("", max_length=200)
    lat: Decimal | None = Field(None, ge=-90, le=90)
    lng: Decimal | None = Field(None, ge=-180, le=180)
    status: str = Field(DeviceStatus.ONLINE, pattern=_choice(DeviceStatus.values))
    installed_on: dt.date | None = None


class DevicePatch(Schema):
    kind: str | None = Field(None, pattern=_choice(DeviceKind.values))
    code: str | None = Field(None, max_length=60)
    name: str | None = Field(None, max_length=100)
    org_id: int | None = None
    area_code: str | None = Field(None, pattern=r"^\d{6,15}$")
    parent_id: int | None = None
    manufacturer: str | None = Field(None, max_length=60)
    model: str | None = Field(None, max_length=60)
    address: str | None = Field(None, max_length=200)
    lat: Decimal | None = Field(None, ge=-90, le=90)
    lng: Decimal | None = Field(None, ge=-180, le=180)
    status: str | None = Field(None, pattern=_choice(DeviceStatus.values))
    installed_on: dt.date | None = None


RENAMES = {"org": "org_id", "area": "area_code", "parent": "parent_id"}


def _resolve(request, data: dict) -> dict:
    """Ids and codes of the request → the rows the service takes. An id out of reach reads as
    unknown; whether a place fits the device is the service's judgement (see `_call`)."""
    if "org_id" in data:
        org_id = data.pop("org_id")
        org = None
        if org_id is not None:
            org = Organisation.objects.in_scope(request.auth).filter(pk=org_id).first()
            if org is None:
                raise field_error("org_id", _("No such organisation within your reach."))
        data["org"] = org
    if "area_code" in data:
        raw = data.pop("area_code")
        area = None
        if raw:
            area = Area.objects.filter(code=codes.pad(raw)).first()
            if area is None:
                raise field_error("area_code", _("There is no area with code %(code)s.")
                                  % {"code": raw})
        data["area"] = area
    if "parent_id" in data:
        parent_id = data.pop("parent_id")
        parent = None
        if parent_id is not None:
            parent = Device.objects.in_scope(request.auth).filter(pk=parent_id).first()
            if parent is None:
                raise field_error("parent_id", _("No such recorder within your reach."))
        data["parent"] = parent
    return data


def _call(fn, **kwargs):
    try:
        return fn(**kwargs)
    except ServiceError as exc:
        exc.field_messages = {RENAMES.get(k, k): v for k, v in exc.field_messages.items()}
        raise


@router.post("", scope=RouteScope(Device, "add"), response={201: DeviceOut},
             summary="Register a device")
def create_device(request, payload: DeviceIn):
    data = _resolve(request, payload.dict())
    device = _call(services.save_device, actor=request.auth, data=data)
    return Status(201, device_out(device))


@router.patch("/{int:pk}", scope=RouteScope(Device, "change", lookup="pk"),
              response=DeviceOut, summary="Change a device (only the fields sent)")
def update_device(request, pk: int, payload: DevicePatch):
    data = _resolve(request, payload.dict(exclude_unset=True))
    device = _call(services.save_device, actor=request.auth, device=request.scoped_object,
                   data=data)
    return device_out(device)
