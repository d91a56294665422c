"""Writes to the device registry.

`save_device` creates (`device=None`) or changes a device; `set_status` marks it online,
offline, faulty or retired. Keyword-only arguments, an explicit actor, one transaction, the
audit row in it. What is checked, and why:

- the identifier: cameras, recorders and gates carry a GB/T 28181 code (20 digits, parsed by
  `codes.parse_gb28181`), and its type digits must say the same kind of device — a recorder's
  code typed into a camera would send the video platform to the wrong stream; X-ray machines
  (and other devices) are known by the maker's serial number, which the courier feeds quote
  for every scan. Codes are unique regardless of letter case;
- the place: the area must lie within the actor's reach and, for a device at an organisation,
  be the organisation's area or one inside it (a camera at an outlet is where the outlet is);
  the organisation itself must be one the actor reaches, so an outlet's staff cannot hang a
  device on someone else's outlet;
- a camera's recorder must be a recorder the actor reaches.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import audit, codes
from zhili.core.scoping import ORG, get_scope, require, require_code_in_scope
from zhili.core.services import ServiceError, check_editable, field_error
from zhili.devices.choices import GB28181_KINDS, DeviceKind, DeviceStatus
from zhili.devices.codes import InvalidDeviceCode, parse_gb28181
from zhili.devices.models import Device

FIELDS = ("kind", "code", "name", "org", "area", "parent", "manufacturer", "model", "address",
          "lat", "lng", "status", "installed_on")
TEXT_LIMITS = {"name": 100, "manufacturer": 60, "model": 60, "address": 200}
SERIAL_RE = re.compile(r"[0-9A-Za-z](?:[0-9A-Za-z-]{0,38}[0-9A-Za-z])?")
# GB/T 28181 type digits (11–13) that fit each kind identified by such a code.
KIND_TYPES = {
    DeviceKind.CAMERA: ("121", "122", "131", "132"),
    DeviceKind.NVR: ("111", "118", "130"),
    DeviceKind.GATE: ("123", "124", "141", "142", "143"),
}


def clean_code(kind: str, raw) -> str:
    """The device's identifier for its kind, normalised; raises a field error on `code`."""
    text = str(raw or "").strip()
    if not text:
        raise field_error("code", _("Give the device code."))
    if kind in GB28181_KINDS:
        try:
            parsed = parse_gb28181(text)  # typed in groups of digits: spaces are dropped
        except InvalidDeviceCode as exc:
            raise field_error("code", exc.message) from None
        allowed = KIND_TYPES.get(kind, ())
        if allowed and parsed["type"] not in allowed:
            raise field_error("code", _(
                "Digits 11–13 (%(type)s, %(name)s) say another kind of device; a %(kind)s has "
                "type %(allowed)s.") % {"type": parsed["type"], "name": parsed["type_name"],
                                        "kind": DeviceKind(kind).label,
                                        "allowed": ", ".join(allowed)})
        return parsed["code"]
    if not SERIAL_RE.fullmatch(text):
        raise field_error("code", _("A serial number has 1 to 40 letters, digits and hyphens "
                                    "(not at the start or end)."))
    return text


def _decimal(name: str, value, low: int, high: int):
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise field_error(name, _("Enter a number.")) from None
    if not number.is_finite() or not low <= number <= high:
        raise field_error(name, _("Enter a number from %(low)s to %(high)s.")
                          % {"low": low, "high": high})
    return number.quantize(Decimal("0.000001"))


def _clean(data: dict, device: Device | None, *, actor) -> dict:
    cleaned = dict(data)
    kind = cleaned.get("kind", device.kind if device else None)
    if kind not in DeviceKind.values:
        raise field_error("kind", _("Choose the kind of device."))
    for name, limit in TEXT_LIMITS.items():
        if name in cleaned:
            value = " ".join(str(cleaned[name] or "").split())
            if len(value) > limit:
                raise field_error(name, _("At most %(n)d characters.") % {"n": limit})
            cleaned[name] = value
    if "name" in cleaned and not cleaned["name"]:
        raise field_error("name", _("Give the device a name."))
    if "code" in cleaned or "kind" in cleaned:
        cleaned["code"] = clean_code(kind, cleaned.get("code", device.code if device else ""))
    if "status" in cleaned and cleaned["status"] not in DeviceStatus.values:
        raise field_error("status", _("Choose a status."))
    for name, low, high in (("lat", -90, 90), ("lng", -180, 180)):
        if name in cleaned:
            cleaned[name] = _decimal(name, cleaned[name], low, high)
    if "installed_on" in cleaned and cleaned["installed_on"] and \
            cleaned["installed_on"] > timezone.localdate():
        raise field_error("installed_on", _("This date is in the future."))
    return cleaned


def _check_place(actor, device: Device) -> None:
    from zhili.orgs.models import Organisation

    area = device.area if device.area_id else None
    org = device.org
    scope = get_scope(actor)
    if org is None and scope.kind == ORG and not scope.unrestricted:
        # Organisation staff reach devices through their organisation only: one placed
        # beside it would vanish from their own lists.
        raise field_error("org", _("Choose your organisation (or one under it)."))
    if org is not None:
        if not Organisation.objects.in_scope(actor).filter(pk=org.pk).exists():
            raise field_error("org", _("This organisation is outside your reach."))
        if not org.is_active:
            raise field_error("org", _("%(name)s is closed.") % {"name": org.name})
        if area is None:
            device.area = area = org.area
        elif not codes.in_subtree(area.code, org.area.prefix):
            raise field_error("area", _("A device at %(org)s is in its area, %(area)s, or an "
                                        "area inside it.") % {"org": org.name,
                                                              "area": org.area.name})
    if area is None:
        raise field_error("area", _("Choose the area the device is in."))
    if not area.is_active:
        raise field_error("area", _("%(name)s is retired.") % {"name": area.name})
    require_code_in_scope(actor, area.code)
    device.area_code = area.code
    parent = device.parent
    if parent is not None:
        if device.kind != DeviceKind.CAMERA:
            raise field_error("parent", _("Only a camera is a channel of a recorder."))
        if parent.kind != DeviceKind.NVR or (device.pk and parent.pk == device.pk):
            raise field_error("parent", _("Choose a video recorder (NVR)."))
        if not Device.objects.in_scope(actor).filter(pk=parent.pk).exists():
            raise field_error("parent", _("This recorder is outside your reach."))


def _code_taken(actor, device: Device) -> None:
    clash = Device.objects.filter(code__iexact=device.code)
    if device.pk:
        clash = clash.exclude(pk=device.pk)
    other = clash.first()
    if other is None:
        return
    if Device.objects.in_scope(actor).filter(pk=other.pk).exists():
        message = _("This code is already registered: %(name)s.") % {"name": other.name}
    else:
        message = _("This code is already registered elsewhere.")
    error = field_error("code", message)
    error.code = "duplicate"
    raise error


def _save(device: Device) -> None:
    try:
        with transaction.atomic():
            device.save()
    except IntegrityError:  # registered at the same moment by someone else
        raise field_error("code", _("This code is already registered elsewhere.")) from None


def _reach(actor, device: Device, action: str) -> None:
    require(actor, Device, action)
    if not Device.objects.in_scope(actor).filter(pk=device.pk).exists():
        raise ServiceError("out_of_scope", _("This device is outside your reach."), status=404)


def _shown(name: str, value):
    if name in ("org", "area", "parent"):
        return getattr(value, "pk", None)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value) if isinstance(value, Decimal) else value


@transaction.atomic
def save_device(*, actor, device: Device | None = None, data: dict) -> Device:
    """Register a device (`device=None`) or change one with the keys present in `data`
    (`FIELDS`): kind, code, name, org, area, parent (a camera's recorder), manufacturer,
    model, address, lat, lng, status, installed_on."""
    check_editable(data, FIELDS)
    if device is None:
        require(actor, Device, "add")
        data = {"status": DeviceStatus.ONLINE, **data}
        cleaned = _clean(data, None, actor=actor)
        if "name" not in cleaned:
            raise field_error("name", _("Give the device a name."))
        target = Device()
        before = {}
    else:
        _reach(actor, device, "change")
        target = Device.objects.select_for_update().get(pk=device.pk)
        cleaned = _clean(data, target, actor=actor)
        before = audit.snapshot(target, FIELDS)
    for name, value in cleaned.items():
        setattr(target, name, value)
    _check_place(actor, target)
    _code_taken(actor, target)
    if device is None:
        _save(target)
        audit.record(actor=actor, action="devices.create", target=target, changes={
            "kind": target.kind, "code": target.code, "org": target.org_id,
            "area": target.area_code})
        return target
    changes = {name: [_shown(name, old), _shown(name, getattr(target, name))]
               for name, (old, _new) in audit.diff(target, before, FIELDS).items()}
    if changes:
        _save(target)
        audit.record(actor=actor, action="devices.update", target=target, changes=changes)
    return target


@transaction.atomic
def set_status(*, actor, device: Device, status: str) -> Device:
    """Mark a device online, offline, faulty or retired (retired devices stay on record: scans
    and video links point at them)."""
    _reach(actor, device, "change")
    if status not in DeviceStatus.values:
        raise field_error("status", _("Choose a status."))
    device = Device.objects.select_for_update().get(pk=device.pk)
    if device.status == status:
        return device
    old = device.status
    device.status = status
    device.save(update_fields=["status", "updated_at"])
    audit.record(actor=actor, action="devices.status", target=device,
                 changes={"status": [old, status]})
    return device

