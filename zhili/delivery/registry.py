"""Writes to the courier registry: companies, outlets and their staff.

Every function takes keyword arguments with an explicit `actor`, runs in one transaction,
checks permission and reach, validates to field-level messages (`ServiceError`), writes
personal data through `pii.assign()` and appends the audit row — with phones and ID numbers
masked: the audit log never holds them in clear.

A company and an outlet are profiles on top of an `orgs.Organisation` (kinds "courier" and
"outlet"), and the services keep the two in step: the organisation carries the name, the
area and the tree (an outlet's organisation sits under its company's), which is what scopes
the outlet's staff, devices and records for organisation-scoped users (outlet staff, the
company's API key). `data` holds the fields to set: all of them to create, the ones to change
to update (missing keys are left as they are).
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from zhili.areas.choices import AreaLevel
from zhili.core import audit, codes, pii
from zhili.core.pii import InvalidIdNumber, InvalidPhone, InvalidUscc
from zhili.core.scoping import get_scope, require, require_code_in_scope
from zhili.core.services import ServiceError, check_editable, field_error
from zhili.delivery import codetables
from zhili.delivery.choices import StaffDuty
from zhili.delivery.models import CourierCompany, CourierStaff, Outlet
from zhili.orgs.choices import OrgKind
from zhili.orgs.models import Organisation

COMPANY_FIELDS = ("name", "uscc", "area", "address", "brand", "licence_no",
                  "registration_type", "holding", "business_scope", "enterprise_type",
                  "person_in_charge", "phone")
OUTLET_FIELDS = ("company", "code", "name", "area", "licence_no", "address",
                 "person_in_charge", "phone", "lat", "lng")
STAFF_FIELDS = ("outlet", "name", "id_number", "phone", "duty", "background_checked_on",
                "trained_on")
ORG_FIELDS = ("name", "area", "address", "uscc")  # kept on the organisation, not the profile
TEXT_LIMITS = {"name": 200, "address": 200, "brand": 50, "licence_no": 40,
               "person_in_charge": 50}
STAFF_NAME_LIMIT = 50
# The company's own code, quoted by its feeds: letters, digits and - _ . / (no spaces, which
# would make "JS01" and "JS01 " two outlets).
OUTLET_CODE_RE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._/-]{0,39}")
MASKED = {"phone": pii.mask_phone, "id_number": pii.mask_id_number}


# --- small checks --------------------------------------------------------------------------------

def _text(value) -> str:
    return " ".join(str(value or "").split())


def _limit(errors: dict, name: str, value: str, limit: int) -> str:
    if len(value) > limit:
        errors.setdefault(name, []).append(_("At most %(n)d characters (this has %(count)d).")
                                           % {"n": limit, "count": len(value)})
    return value


def _phone(errors: dict, name: str, value) -> str:
    raw = _text(value)
    if not raw:
        return ""
    try:
        return pii.validate_phone(raw)
    except InvalidPhone as exc:
        errors.setdefault(name, []).append(exc.message)
        return raw


def _date(errors: dict, name: str, value) -> dt.date | None:
    """A past date from a date, or text as typed or imported ("2024-03-05", "2024/3/5",
    "2024年3月5日", an Excel date-time)."""
    from zhili.people.validation import BadValue, parse_date

    try:
        return parse_date(value)
    except BadValue as exc:
        errors.setdefault(name, []).append(str(exc))
        return None


def _coordinate(errors: dict, name: str, value, low: int, high: int) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        number = None
    if number is None or not number.is_finite() or not low <= number <= high:
        errors.setdefault(name, []).append(_("Enter a number from %(low)s to %(high)s.")
                                           % {"low": low, "high": high})
        return None
    return number.quantize(Decimal("0.000001"))


def _raise(errors: dict) -> None:
    if errors:
        raise ServiceError("invalid", field_messages=errors)


def _check_area(actor, area, *, min_level: int = AreaLevel.CITY) -> None:
    if area is None:
        raise field_error("area", _("Choose the area."))
    if area.level < min_level:
        raise field_error("area", _("Choose a smaller area: %(name)s is too large for this.")
                          % {"name": area.name})
    if not area.is_active:
        raise field_error("area", _("%(name)s is retired.") % {"name": area.name})
    require_code_in_scope(actor, area.code)


def _reach(actor, model, obj, action: str) -> None:
    """The actor may `action` this row and reaches it (by area, or by organisation)."""
    require(actor, model, action)
    if obj.pk is None or not model.objects.in_scope(actor).filter(pk=obj.pk).exists():
        raise ServiceError("out_of_scope", _("This record is outside your reach."), status=404)


def _masked(name: str, value):
    if name in MASKED:
        return MASKED[name](value) if value else value
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, dt.date | Decimal):
        return str(value)
    return value


def _changes(before: dict, after: dict) -> dict:
    return {name: [_masked(name, before.get(name)), _masked(name, value)]
            for name, value in after.items() if before.get(name) != value}


def _save_org(org: Organisation) -> None:
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError:
        raise field_error("name", _("%(area)s already has an organisation called %(name)s.")
                          % {"area": org.area.name, "name": org.name}) from None


def companies_for_outlets(actor):
    """The active companies whose outlets the actor may register: those in reach, and those
    registered at an area above the actor's (a city branch has outlets in every county, and
    the county's regulator registers the ones in the county)."""
    qs = CourierCompany.objects.filter(is_active=True)
    scope = get_scope(actor)
    if scope.unrestricted:
        return qs
    condition = Q(pk__in=CourierCompany.objects.in_scope(actor).values("pk"))
    position = getattr(actor, "active_position", None)
    if position is not None and position.area_id:
        above = [codes.pad(codes.prefix_of(position.area_code, rank))
                 for rank in range(position.area.level)]
        condition |= Q(area_code__in=above)
    return qs.filter(condition)


# --- companies -----------------------------------------------------------------------------------

def _clean_company(data: dict, *, creating: bool) -> dict:
    errors: dict[str, list] = {}
    cleaned: dict = {}
    for name in ("name", "address", "brand", "licence_no", "person_in_charge"):
        if name in data:
            cleaned[name] = _limit(errors, name, _text(data[name]), TEXT_LIMITS[name])
    for name, message in (("name", _("Give the company's name.")),
                          ("brand", _("Give the service brand (e.g. 顺丰)."))):
        if (creating or name in data) and not cleaned.get(name) and name not in errors:
            errors.setdefault(name, []).append(message)
    if creating or "uscc" in data:
        raw = _text(data.get("uscc"))
        if not raw:
            errors.setdefault("uscc", []).append(_("Give the unified social credit code."))
        else:
            try:
                cleaned["uscc"] = pii.validate_uscc(raw)
            except InvalidUscc as exc:
                errors.setdefault("uscc", []).append(exc.message)
    if "area" in data:
        cleaned["area"] = data["area"]
    for name, table, label in (
            ("registration_type", codetables.REGISTRATION_TYPES, "GB/T 31000 5.51"),
            ("holding", codetables.HOLDINGS, "GB/T 31000 5.52"),
            ("enterprise_type", codetables.ENTERPRISE_TYPES, "GB/T 31000 5.54")):
        if name in data:
            value = _text(data[name])
            if value and value not in table:
                errors.setdefault(name, []).append(
                    _("%(value)s is not a code of table %(table)s.")
                    % {"value": value, "table": label})
            cleaned[name] = value
    if "business_scope" in data:
        raw = data["business_scope"] or []
        if isinstance(raw, str):
            raw = [part for part in re.split(r"[,，;；、\s]+", raw) if part]
        scope = sorted({_text(code) for code in raw})
        unknown = [code for code in scope if code not in codetables.BUSINESS_SCOPES]
        if unknown:
            errors.setdefault("business_scope", []).append(
                _("%(value)s is not a code of table %(table)s.")
                % {"value": ", ".join(unknown), "table": "GB/T 31000 5.53"})
        cleaned["business_scope"] = scope
    if "phone" in data:
        cleaned["phone"] = _phone(errors, "phone", data["phone"])
    _raise(errors)
    return cleaned


def _uscc_taken(actor, code: str, org: Organisation | None) -> None:
    clash = CourierCompany.objects.filter(org__uscc=code)
    if org is not None and org.pk:
        clash = clash.exclude(org=org)
    other = clash.select_related("org").first()
    if other is None:
        return
    if CourierCompany.objects.in_scope(actor).filter(pk=other.pk).exists():
        message = _("This credit code is already registered: %(name)s.") % {
            "name": other.org.name}
    else:
        message = _("This credit code is already registered for a company outside your "
                    "reach.")
    error = field_error("uscc", message)
    error.code = "duplicate"
    raise error


def _company_org(actor, org: Organisation | None) -> Organisation | None:
    """An existing courier organisation to give a company profile to (optional)."""
    if org is None:
        return None
    if not Organisation.objects.in_scope(actor).filter(pk=org.pk).exists():
        raise field_error("org", _("This organisation is outside your reach."))
    if org.kind != OrgKind.COURIER_COMPANY:
        raise field_error("org", _("Choose an organisation of the kind courier company."))
    if CourierCompany.objects.filter(org=org).exists():
        raise field_error("org", _("%(name)s is already registered as a courier company.")
                          % {"name": org.name})
    return org


@transaction.atomic
def save_company(*, actor, company: CourierCompany | None = None, data: dict,
                 org: Organisation | None = None) -> CourierCompany:
    """Register a courier company (`company=None`), creating its organisation or giving an
    existing courier organisation (`org`) its profile; or change one.

    `data`: name, uscc, area, address (the organisation's), brand, licence_no,
    registration_type (5.51), holding (5.52), business_scope (list of 5.53 codes),
    enterprise_type (5.54), person_in_charge, phone.
    """
    check_editable(data, COMPANY_FIELDS)
    creating = company is None
    if creating:
        require(actor, CourierCompany, "add")
        org = _company_org(actor, org)
        if org is not None:  # the organisation's own facts stand unless given
            data = {"name": org.name, "area": org.area, "uscc": org.uscc,
                    "address": org.address, **data}
        cleaned = _clean_company(data, creating=True)
        company = CourierCompany()
        before: dict = {}
    else:
        _reach(actor, CourierCompany, company, "change")
        company = CourierCompany.objects.select_for_update().select_related("org").get(
            pk=company.pk)
        org = company.org
        cleaned = _clean_company(data, creating=False)
        before = {name: getattr(org if name in ORG_FIELDS else company, name)
                  for name in cleaned}
    area = cleaned.get("area", org.area if org is not None else None)
    if creating or "area" in cleaned:
        _check_area(actor, area)
    if "uscc" in cleaned:
        _uscc_taken(actor, cleaned["uscc"], org)
    if org is None:
        org = Organisation(kind=OrgKind.COURIER_COMPANY)
    else:
        require_code_in_scope(actor, org.area_code)  # a profile for an organisation in reach
    for name in ORG_FIELDS:
        if name in cleaned:
            setattr(org, name, cleaned[name])
    org.area_code = org.area.code
    _save_org(org)
    for name, value in cleaned.items():
        if name in ORG_FIELDS:
            continue
        if name == "phone":
            pii.assign(company, "phone", value or None)
        else:
            setattr(company, name, value)
    company.org = org
    company.area_code = org.area_code
    company.save()
    if creating:
        audit.record(actor=actor, action="delivery.company.create", target=company, changes={
            "org": org.pk, "uscc": org.uscc, "brand": company.brand, "area": org.area_code})
    else:
        changes = _changes(before, {name: cleaned[name] for name in before})
        if changes:
            audit.record(actor=actor, action="delivery.company.update", target=company,
                         changes=changes)
    return company


# --- outlets -------------------------------------------------------------------------------------

def clean_outlet_code(raw) -> str:
    code = "".join(str(raw or "").split())
    if not code:
        raise field_error("code", _("Give the outlet code the company uses in its data."))
    if not OUTLET_CODE_RE.fullmatch(code):
        raise field_error("code", _("An outlet code has 1 to 40 letters, digits and . _ / - "
                                    "(starting with a letter or digit)."))
    return code


def _clean_outlet(data: dict, *, creating: bool) -> dict:
    errors: dict[str, list] = {}
    cleaned: dict = {}
    for name in ("name", "address", "licence_no", "person_in_charge"):
        if name in data:
            cleaned[name] = _limit(errors, name, _text(data[name]), TEXT_LIMITS[name])
    if (creating or "name" in data) and not cleaned.get("name") and "name" not in errors:
        errors.setdefault("name", []).append(_("Give the outlet's name."))
    if creating or "code" in data:
        try:
            cleaned["code"] = clean_outlet_code(data.get("code"))
        except ServiceError as exc:
            errors.setdefault("code", []).extend(exc.field_messages["code"])
    if "area" in data:
        cleaned["area"] = data["area"]
    if "company" in data:
        cleaned["company"] = data["company"]
    if "phone" in data:
        cleaned["phone"] = _phone(errors, "phone", data["phone"])
    if "lat" in data:
        cleaned["lat"] = _coordinate(errors, "lat", data["lat"], -90, 90)
    if "lng" in data:
        cleaned["lng"] = _coordinate(errors, "lng", data["lng"], -180, 180)
    _raise(errors)
    return cleaned


def _check_company(actor, company) -> None:
    if company is None:
        raise field_error("company", _("Choose the courier company."))
    if not companies_for_outlets(actor).filter(pk=company.pk).exists():
        raise field_error("company", _("This company is not registered, closed, or outside "
                                       "your reach."))


def _code_taken(company, code: str, outlet: Outlet | None) -> None:
    clash = Outlet.objects.filter(company=company, code=code)
    if outlet is not None and outlet.pk:
        clash = clash.exclude(pk=outlet.pk)
    other = clash.select_related("org").first()
    if other is not None:
        error = field_error("code", _("%(company)s already has an outlet with code %(code)s: "
                                      "%(name)s.") % {"company": company.org.name,
                                                      "code": code, "name": other.org.name})
        error.code = "duplicate"
        raise error


def _move_outlet_rows(outlet: Outlet) -> None:
    """An outlet that moves takes its staff (scoped by the outlet's area code) and its devices
    (whose area must match their organisation's) along; records stay where they were made."""
    from zhili.devices.models import Device

    CourierStaff.objects.filter(outlet=outlet).update(area_code=outlet.area_code)
    Device.objects.filter(org=outlet.org).update(area=outlet.area, area_code=outlet.area_code)


@transaction.atomic
def save_outlet(*, actor, outlet: Outlet | None = None, data: dict) -> Outlet:
    """Register an outlet (`outlet=None`), creating its organisation under the company's, or
    change one (its organisation follows: name, area, address).

    `data`: company (on creation only), code (the company's own, unique per company), name,
    area (a town or smaller, in reach), licence_no, address, person_in_charge, phone, lat,
    lng.
    """
    check_editable(data, OUTLET_FIELDS)
    creating = outlet is None
    if creating:
        require(actor, Outlet, "add")
        cleaned = _clean_outlet(data, creating=True)
        company = cleaned.pop("company", None)
        _check_company(actor, company)
        outlet = Outlet(company=company)
        org = Organisation(kind=OrgKind.COURIER_OUTLET, parent=company.org)
        before: dict = {}
    else:
        _reach(actor, Outlet, outlet, "change")
        outlet = Outlet.objects.select_for_update().select_related("org", "company__org").get(
            pk=outlet.pk)
        if "company" in data and data["company"] != outlet.company:
            raise field_error("company", _("An outlet stays with its company: close it and "
                                           "register the new company's outlet instead."))
        cleaned = _clean_outlet({k: v for k, v in data.items() if k != "company"},
                                creating=False)
        company, org = outlet.company, outlet.org
        before = {name: getattr(org if name in ("name", "area", "address") else outlet, name)
                  for name in cleaned}
    if creating or "area" in cleaned:
        _check_area(actor, cleaned.get("area"), min_level=AreaLevel.TOWN)
    if "code" in cleaned:
        _code_taken(company, cleaned["code"], outlet)
    moved = not creating and "area" in cleaned and cleaned["area"].pk != org.area_id
    for name in ("name", "area", "address"):
        if name in cleaned:
            setattr(org, name, cleaned[name])
    org.area_code = org.area.code
    _save_org(org)
    for name, value in cleaned.items():
        if name in ("name", "address"):
            if name == "address":
                outlet.address = value  # also on the profile: the feeds' view of the outlet
            continue
        if name == "phone":
            pii.assign(outlet, "phone", value or None)
        else:
            setattr(outlet, name, value)
    outlet.org = org
    outlet.area = org.area
    outlet.area_code = org.area_code
    try:
        with transaction.atomic():
            outlet.save()
    except IntegrityError:  # the same code registered at the same moment
        raise field_error("code", _("This outlet code is already registered for the "
                                    "company.")) from None
    if moved:
        _move_outlet_rows(outlet)
    if creating:
        audit.record(actor=actor, action="delivery.outlet.create", target=outlet, changes={
            "company": company.pk, "code": outlet.code, "org": org.pk,
            "area": outlet.area_code})
    else:
        changes = _changes(before, {name: cleaned[name] for name in before})
        if changes:
            audit.record(actor=actor, action="delivery.outlet.update", target=outlet,
                         changes=changes)
    return outlet


# --- staff ---------------------------------------------------------------------------------------

def _clean_staff(data: dict, *, creating: bool) -> tuple[dict, list[str]]:
    errors: dict[str, list] = {}
    cleaned: dict = {}
    warnings: list[str] = []
    if "name" in data:
        cleaned["name"] = _limit(errors, "name", _text(data["name"]), STAFF_NAME_LIMIT)
    if (creating or "name" in data) and not cleaned.get("name") and "name" not in errors:
        errors.setdefault("name", []).append(_("Enter the name."))
    if creating or "id_number" in data:
        raw = _text(data.get("id_number"))
        if not raw:
            errors.setdefault("id_number", []).append(
                _("Give the ID number: couriers and screeners are registered by real name."))
        else:
            try:
                check = pii.validate_id_number(raw)
            except InvalidIdNumber as exc:
                errors.setdefault("id_number", []).append(exc.message)
            else:
                cleaned["id_number"] = check.number
                warnings.extend(str(w) for w in check.warnings)
    if "phone" in data:
        cleaned["phone"] = _phone(errors, "phone", data["phone"])
    if creating or "duty" in data:
        duty = _text(data.get("duty"))
        if duty not in StaffDuty.values:
            errors.setdefault("duty", []).append(_("Choose the duty."))
        cleaned["duty"] = duty
    for name in ("background_checked_on", "trained_on"):
        if name in data:
            cleaned[name] = _date(errors, name, data[name])
    if "outlet" in data:
        cleaned["outlet"] = data["outlet"]
    _raise(errors)
    return cleaned, warnings


def _check_outlet(actor, outlet) -> None:
    if outlet is None:
        raise field_error("outlet", _("Choose the outlet."))
    if not Outlet.objects.in_scope(actor).filter(pk=outlet.pk, is_active=True).exists():
        raise field_error("outlet", _("This outlet is closed or outside your reach."))


def find_staff(id_number: str, *, exclude: int | None = None) -> CourierStaff | None:
    """The active staff record holding this ID number (exact, by the blind index)."""
    qs = CourierStaff.objects.filter(pii.lookup_q(CourierStaff, "id_number", id_number),
                                     is_active=True)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.select_related("outlet__org").first()


def _id_taken(actor, id_number: str, staff: CourierStaff | None) -> None:
    other = find_staff(id_number, exclude=staff.pk if staff is not None else None)
    if other is None:
        return
    if CourierStaff.objects.in_scope(actor).filter(pk=other.pk).exists():
        message = _("This person is already registered at %(outlet)s: move that record "
                    "instead.") % {"outlet": other.outlet.org.name}
    else:
        message = _("This person is already registered at an outlet outside your reach.")
    error = field_error("id_number", message)
    error.code = "duplicate"
    raise error


@transaction.atomic
def save_staff(*, actor, staff: CourierStaff | None = None, data: dict) -> CourierStaff:
    """Register a courier or screener (`staff=None`) or change one; moving to another outlet
    is a change of `outlet` (both in reach). One active record per ID number.

    `data`: outlet, name, id_number (GB 11643, stored encrypted with a blind index), phone,
    duty, background_checked_on, trained_on. The warnings of the ID check (an unknown region
    code) are on `staff.warnings`.
    """
    check_editable(data, STAFF_FIELDS)
    creating = staff is None
    if creating:
        require(actor, CourierStaff, "add")
        cleaned, warnings = _clean_staff(data, creating=True)
        staff = CourierStaff()
        before: dict = {}
    else:
        _reach(actor, CourierStaff, staff, "change")
        staff = CourierStaff.objects.select_for_update().get(pk=staff.pk)
        cleaned, warnings = _clean_staff(data, creating=False)
        before = {name: getattr(staff, name) for name in cleaned}
    if creating or ("outlet" in cleaned and cleaned["outlet"] != staff.outlet):
        _check_outlet(actor, cleaned.get("outlet"))
    if "id_number" in cleaned and (staff.is_active or creating):
        _id_taken(actor, cleaned["id_number"], staff)
    for name, value in cleaned.items():
        if name in ("id_number", "phone"):
            pii.assign(staff, name, value or None)
        else:
            setattr(staff, name, value)
    staff.area_code = staff.outlet.area_code
    staff.save()
    staff.warnings = warnings
    if creating:
        audit.record(actor=actor, action="delivery.staff.create", target=staff, changes={
            "outlet": staff.outlet_id, "duty": staff.duty,
            "id_number": pii.mask_id_number(staff.id_number)})
    else:
        changes = _changes(before, {name: cleaned[name] for name in before})
        if changes:
            audit.record(actor=actor, action="delivery.staff.update", target=staff,
                         changes=changes)
    return staff


# --- closing and reopening -----------------------------------------------------------------------

@transaction.atomic
def set_active(*, actor, obj, active: bool):
    """Close (or reopen) a company, an outlet or a staff record. Records stay: the feeds'
    history and the supervision point at them. A company closes after its outlets; an
    outlet reopens only under an open company; a staff record reopens only if its ID number
    is not active elsewhere."""
    model = type(obj)
    if model not in (CourierCompany, Outlet, CourierStaff):
        raise TypeError(model)
    _reach(actor, model, obj, "change")
    obj = model.objects.select_for_update().get(pk=obj.pk)
    if obj.is_active == active:
        return obj
    name = model._meta.model_name
    if model is CourierCompany:
        if not active and obj.outlets.filter(is_active=True).exists():
            raise ServiceError("in_use", _("Close the company's outlets first."))
        _set_org_active(obj.org, active)
    elif model is Outlet:
        if active and not obj.company.is_active:
            raise ServiceError("invalid", _("Reopen the company first."))
        _set_org_active(obj.org, active)
    elif active:
        if not obj.outlet.is_active:
            raise ServiceError("invalid", _("Reopen the outlet first."))
        if obj.id_number:
            _id_taken(actor, obj.id_number, obj)
    obj.is_active = active
    obj.save(update_fields=["is_active"])
    audit.record(actor=actor, action=f"delivery.{name}." + ("reopen" if active else "close"),
                 target=obj)
    return obj


def _set_org_active(org: Organisation, active: bool) -> None:
    if org.is_active != active:
        org.is_active = active
        org.save(update_fields=["is_active", "updated_at"])


def deactivate(*, actor, obj):
    """Close a company (after its outlets), an outlet, or a staff record (left the job)."""
    return set_active(actor=actor, obj=obj, active=False)
