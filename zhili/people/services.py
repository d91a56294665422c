"""Writes to the registry: persons, residency facts, buildings, houses and units.

Every function takes keyword arguments with an explicit `actor`, runs in one transaction, checks
permission and reach (the area must be a village/community or a grid inside the actor's
subtree), validates through `validation`/`details` (field-level messages), writes encrypted
values with `pii.assign()` and appends the audit row — masked: the audit log never holds an ID
number, phone or address in clear. The change history (django-simple-history) is written by
the saves themselves, with the actor as its user.

Other modules hear of a person's move through the `person_moved` signal (sent inside the
transaction, so receivers write in it too).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.areas.choices import AreaLevel
from zhili.core import audit, codes, pii
from zhili.core.scoping import get_scope, require, require_code_in_scope
from zhili.core.services import ServiceError, check_editable, field_error
from zhili.people import details, validation
from zhili.people.choices import HouseRelation, InactiveReason, ResidencyKind, UnitKind
from zhili.people.codes import RESIDENT_ID
from zhili.people.models import Building, House, Person, Residency, Unit

# Sent as send(sender=Person, person=, old_area_code=, actor=) after a person changed area.
person_moved = Signal()

PERSON_ENCRYPTED = ("id_number", "phone", "registered_address", "current_address")
MASKS = {
    "id_number": pii.mask_id_number, "owner_id_number": pii.mask_id_number,
    "legal_rep_id_number": pii.mask_id_number, "related_id_number": pii.mask_id_number,
    "document_number": pii.mask_id_number,
    "phone": pii.mask_phone, "owner_phone": pii.mask_phone, "leader_phone": pii.mask_phone,
    "legal_rep_phone": pii.mask_phone, "security_phone": pii.mask_phone,
    "related_phone": pii.mask_phone,
    "registered_address": pii.mask_address, "current_address": pii.mask_address,
    "address": pii.mask_address, "owner_address": pii.mask_address,
}


@dataclass
class Saved:
    """What a create/update service returns: the row, and warnings that did not stop it."""

    obj: object
    warnings: list[str] = field(default_factory=list)


# --- shared checks ----------------------------------------------------------------------------


def masked_value(name: str, value):
    if name in MASKS:
        return MASKS[name](value) if value else value
    if name == "details":
        return sorted(value) if value else {}  # which items changed, never their content
    return value


def _changes(instance, before: dict, names) -> dict:
    """`{field: [old, new]}` for what changed, with personal data masked."""
    changes = audit.diff(instance, before, names)
    return {name: [masked_value(name, old), masked_value(name, new)]
            for name, (old, new) in changes.items()}


def _created(instance, names) -> dict:
    return {name: masked_value(name, getattr(instance, name)) for name in names
            if getattr(instance, name) not in (None, "", False)}


def check_area(actor, area, *, field_name: str = "area") -> None:
    """A registry row lives in a village/community or a grid the actor reaches."""
    if area is None:
        raise field_error(field_name, _("Choose the grid or village/community."))
    if area.level < AreaLevel.VILLAGE:
        raise field_error(field_name, _("Choose a grid or a village/community: %(name)s is a "
                                        "larger area.") % {"name": area.name})
    if not area.is_active:
        raise field_error(field_name, _("%(name)s is retired.") % {"name": area.name})
    require_code_in_scope(actor, area.code, field_name=field_name)


def _check_reach(actor, model, obj, action: str) -> None:
    require(actor, model, action)
    if not get_scope(actor).covers_code(obj.area_code):
        raise ServiceError("out_of_scope", _("This record is outside your area of "
                                             "responsibility."), status=404)


def _raise(errors: dict) -> None:
    if errors:
        raise ServiceError("invalid", field_messages=errors)


def _save(instance, actor) -> None:
    instance._history_user = actor if getattr(actor, "pk", None) else None
    instance.save()


def _encrypt_into(instance, values: dict, encrypted) -> None:
    for name, value in values.items():
        if name in encrypted:
            pii.assign(instance, name, value or None)
        else:
            setattr(instance, name, value)


def _related_area(area, other) -> bool:
    """Whether two areas nest (a house in a grid of the person's village, or the reverse)."""
    return codes.in_subtree(other.code, area.prefix) or codes.in_subtree(area.code, other.prefix)


# --- persons ----------------------------------------------------------------------------------


def _duplicate_error(actor, existing: Person) -> ServiceError:
    """Name the person already registered when the actor reaches them; otherwise say only that
    the number is registered elsewhere (nothing about who or where)."""
    if get_scope(actor).covers_code(existing.area_code):
        state = "" if existing.is_active else " " + _("(no longer active: %(reason)s)") % {
            "reason": existing.get_inactive_reason_display() or _("inactive")}
        message = _("This ID number is already registered: %(name)s, %(area)s, record "
                    "%(id)s%(state)s.") % {"name": existing.name, "area": existing.area.name,
                                           "id": existing.pk, "state": state}
    else:
        message = _("This ID number is already registered in another area. Ask that area to "
                    "record the move, or to mark the person as moved away.")
    error = field_error("id_number", message)
    error.code = "duplicate"
    error.existing_id = existing.pk if get_scope(actor).covers_code(existing.area_code) \
        else None
    return error


def find_by_id_number(number: str, *, exclude: int | None = None) -> Person | None:
    """The person registered with this ID number, anywhere (for the duplicate check)."""
    qs = Person.objects.filter(pii.lookup_q(Person, "id_number", number))
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.select_related("area").order_by("-is_active", "pk").first()


def _check_house(actor, house: House | None, area) -> None:
    if house is None:
        return
    if not get_scope(actor).covers_code(house.area_code):
        raise field_error("house", _("This house is outside your area of responsibility."))
    if area is not None and not _related_area(area, house.area):
        raise field_error("house", _("The house is in %(house)s, not in the person's area.")
                          % {"house": house.area.name})


@transaction.atomic
def create_person(*, actor, area, data: dict, house: House | None = None,
                  take_over: bool = False) -> Saved:
    """Register a person. `data` holds the common block as typed (see
    `validation.clean_person`). A person with the same ID number already in the registry is
    refused with a field error on `id_number` — except, with `take_over`, one who was marked
    as moved away: that record moves here, is made active again and updated with `data`."""
    require(actor, Person, "add")
    if area is None and house is not None:
        area = house.area
    check_area(actor, area)
    check_editable(data, validation.PERSON_FIELDS)
    cleaned, errors = validation.clean_person(data)
    _raise(errors)
    warnings = cleaned.pop(validation.WARNINGS)
    _check_house(actor, house, area)
    if cleaned.get("id_number"):
        existing = find_by_id_number(cleaned["id_number"])
        if existing is not None:
            if take_over and not existing.is_active and \
                    existing.inactive_reason == InactiveReason.MOVED_AWAY:
                return _take_over(actor, existing, area, house, cleaned, warnings)
            raise _duplicate_error(actor, existing)
    person = Person(area=area, area_code=area.code, house=house,
                    created_by=actor if getattr(actor, "pk", None) else None)
    _encrypt_into(person, cleaned, PERSON_ENCRYPTED)
    if house is not None and not person.house_relation:
        person.house_relation = HouseRelation.TENANT if house.is_rental else HouseRelation.OWNER
    _save(person, actor)
    audit.record(actor=actor, action="people.person.create", target=person,
                 changes=_created(person, ["id_number", "sex", "birth_date", "phone", "house_id"]))
    return Saved(person, warnings)


def _take_over(actor, person: Person, area, house, cleaned: dict, warnings) -> Saved:
    old_code = person.area_code
    person.area, person.area_code, person.house = area, area.code, house
    person.is_active, person.inactive_reason, person.inactive_on = True, "", None
    _encrypt_into(person, cleaned, PERSON_ENCRYPTED)
    _save(person, actor)
    Residency.objects.filter(person=person).update(area_code=area.code)
    audit.record(actor=actor, action="people.person.take_over", target=person,
                 changes={"area_code": [old_code, area.code]})
    person_moved.send(sender=Person, person=person, old_area_code=old_code, actor=actor)
    return Saved(person, [*warnings, _("The record of this person, who had moved away from "
                                       "another area, was moved here.")])


@transaction.atomic
def update_person(*, actor, person: Person, data: dict, house=...) -> Saved:
    """Change the common block (only the keys given). The area changes through `move_person`.
    `house` (a House or None) relinks the person; leave it out to keep the link."""
    _check_reach(actor, Person, person, "change")
    person = Person.objects.select_for_update().get(pk=person.pk)
    check_editable(data, validation.PERSON_FIELDS)
    checked = dict(data)
    # Sex and birth date are checked against the stored ID number when they alone change.
    if ("sex" in data or "birth_date" in data) and "id_number" not in data and person.id_number:
        checked["id_number"] = person.id_number
        checked.setdefault("id_type", person.id_type)
    if "id_number" in data and "id_type" not in data:
        checked["id_type"] = person.id_type
    cleaned, errors = validation.clean_person(checked, partial=True)
    _raise(errors)
    warnings = cleaned.pop(validation.WARNINGS) if "id_number" in data else []
    cleaned.pop(validation.WARNINGS, None)
    if "id_number" not in data:
        cleaned.pop("id_number", None)
    number = cleaned.get("id_number")
    if number and number != person.id_number:
        existing = find_by_id_number(number, exclude=person.pk)
        if existing is not None:
            raise _duplicate_error(actor, existing)
    names = [n for n in cleaned if n != "id_type" or "id_type" in data]
    if house is not ...:
        _check_house(actor, house, person.area)
        names.append("house_id")
    before = audit.snapshot(person, [*names, "house_relation"])
    _encrypt_into(person, {n: cleaned[n] for n in names if n in cleaned}, PERSON_ENCRYPTED)
    if house is not ...:
        person.house = house
        if house is None:
            person.house_relation = ""
    _save(person, actor)
    changes = _changes(person, before, [*names, "house_relation"])
    if changes:
        audit.record(actor=actor, action="people.person.update", target=person,
                     changes=changes)
    return Saved(person, warnings)


@transaction.atomic
def move_person(*, actor, person: Person, area, house: House | None = None,
                current_address: str | None = None) -> Person:
    """The person now lives in `area` (another grid or village/community in reach)."""
    _check_reach(actor, Person, person, "change")
    check_area(actor, area)
    _check_house(actor, house, area)
    person = Person.objects.select_for_update().get(pk=person.pk)
    if not person.is_active:
        raise ServiceError("inactive", _("This person is no longer active: make the record "
                                         "active again first."))
    if person.area_id == area.pk and person.house_id == (house.pk if house else None):
        raise field_error("area", _("The person already lives there."))
    old_code = person.area_code
    person.area, person.area_code, person.house = area, area.code, house
    if house is None:
        person.house_relation = ""
    if current_address is not None:
        value = validation.text(current_address)
        if len(value) > 200:
            raise field_error("current_address", _("At most 200 characters."))
        pii.assign(person, "current_address", value or None)
    _save(person, actor)
    Residency.objects.filter(person=person).update(area_code=area.code)
    audit.record(actor=actor, action="people.person.move", target=person,
                 changes={"area_code": [old_code, area.code],
                          "house_id": house.pk if house else None})
    person_moved.send(sender=Person, person=person, old_area_code=old_code, actor=actor)
    return person


@transaction.atomic
def deactivate_person(*, actor, person: Person, reason: str, on: dt.date | None = None,
                      note: str = "") -> Person:
    """Mark a person as moved away, deceased or registered twice (the record is kept)."""
    _check_reach(actor, Person, person, "change")
    if reason not in InactiveReason.values:
        raise field_error("reason", _("Choose why the person is no longer active."))
    today = timezone.localdate()
    on = on or today
    if on > today:
        raise field_error("on", _("This date is in the future."))
    person = Person.objects.select_for_update().get(pk=person.pk)
    if not person.is_active:
        raise ServiceError("inactive", _("This person is already marked as inactive."))
    person.is_active, person.inactive_reason, person.inactive_on = False, reason, on
    if note.strip():
        person.note = (person.note + "\n" if person.note else "") + note.strip()[:500]
    _save(person, actor)
    audit.record(actor=actor, action="people.person.deactivate", target=person,
                 changes={"reason": reason, "on": on})
    return person


@transaction.atomic
def reactivate_person(*, actor, person: Person) -> Person:
    _check_reach(actor, Person, person, "change")
    person = Person.objects.select_for_update().get(pk=person.pk)
    if person.is_active:
        raise ServiceError("active", _("This person is active already."))
    if person.id_number and find_by_id_number(person.id_number, exclude=person.pk) is not None \
            and Person.objects.filter(pii.lookup_q(Person, "id_number", person.id_number),
                                      is_active=True).exclude(pk=person.pk).exists():
        raise field_error("id_number", _("Another active record has this ID number."))
    person.is_active, person.inactive_reason, person.inactive_on = True, "", None
    _save(person, actor)
    audit.record(actor=actor, action="people.person.reactivate", target=person)
    return person


# --- residency facts --------------------------------------------------------------------------


@transaction.atomic
def save_residency(*, actor, person: Person, kind: str, data: dict,
                   partial: bool = False) -> Saved:
    """Record (or change) the person's residency fact of `kind` with that kind's fields
    (`details.RESIDENCY[kind]`). With `partial`, only the keys given change."""
    if kind not in ResidencyKind.values:
        raise field_error("kind", _("Choose registered, floating, left-behind or foreign."))
    _check_reach(actor, Person, person, "view")
    residency = Residency.objects.select_for_update().filter(person=person, kind=kind).first()
    require(actor, Residency, "change" if residency else "add")
    spec = details.RESIDENCY[kind]
    columns, extra, errors = details.clean(spec, data, partial=partial and residency is not None)
    related = columns.get("related_id_number")
    if related and person.id_number and related == person.id_number:
        errors.setdefault("related_id_number", []).append(
            _("This is the person's own ID number."))
    if kind == ResidencyKind.FOREIGN and columns.get("leaves_on") and \
            columns.get("registered_on") and columns["leaves_on"] < columns["registered_on"]:
        errors.setdefault("leaves_on", []).append(_("This is before the arrival."))
    _raise(errors)
    if residency is None:
        residency = Residency(person=person, kind=kind,
                              created_by=actor if getattr(actor, "pk", None) else None)
        before = {}
    else:
        before = audit.snapshot(residency, [*details.RESIDENCY_COLUMNS, "details", "is_active"])
    if not (partial and residency.pk):
        # A full save: fields of this kind that were left out are cleared.
        for name, empty in details.RESIDENCY_COLUMNS.items():
            if name in spec.names:
                columns.setdefault(name, empty)
    residency.area_code = person.area_code
    _encrypt_into(residency, columns, details.ENCRYPTED_RESIDENCY_COLUMNS)
    residency.details = {**residency.details, **extra} if partial and residency.pk else extra
    residency.is_active, residency.ended_on = True, None
    created = residency.pk is None
    _save(residency, actor)
    audit.record(actor=actor, action="people.residency." + ("create" if created else "update"),
                 target=residency, area_code=person.area_code,
                 changes={"kind": kind, **_changes(residency, before, [
                     *details.RESIDENCY_COLUMNS, "details", "is_active"])} if not created
                 else {"kind": kind})
    return Saved(residency)


@transaction.atomic
def end_residency(*, actor, residency: Residency, on: dt.date | None = None) -> Residency:
    """The fact no longer holds (the floating resident left, the child is no longer
    left-behind); it stays on record."""
    _check_reach(actor, Residency, residency, "change")
    today = timezone.localdate()
    on = on or today
    if on > today:
        raise field_error("on", _("This date is in the future."))
    residency = Residency.objects.select_for_update().get(pk=residency.pk)
    residency.is_active, residency.ended_on = False, on
    _save(residency, actor)
    audit.record(actor=actor, action="people.residency.end", target=residency,
                 changes={"kind": residency.kind, "on": on})
    return residency


# --- buildings and houses ---------------------------------------------------------------------


def _clean_spec(spec, data: dict, *, partial: bool) -> dict:
    columns, _extra, errors = details.clean(spec, data, partial=partial)
    _raise(errors)
    return columns


@transaction.atomic
def create_building(*, actor, area, data: dict) -> Saved:
    require(actor, Building, "add")
    check_area(actor, area)
    columns = _clean_spec(details.BUILDING, data, partial=False)
    building = Building(area=area, area_code=area.code,
                        created_by=actor if getattr(actor, "pk", None) else None)
    _encrypt_into(building, {k: v for k, v in columns.items() if v is not None},
                  details.BUILDING_ENCRYPTED)
    _save(building, actor)
    audit.record(actor=actor, action="people.building.create", target=building)
    return Saved(building)


@transaction.atomic
def update_building(*, actor, building: Building, data: dict) -> Saved:
    _check_reach(actor, Building, building, "change")
    columns = _clean_spec(details.BUILDING, data, partial=True)
    if "units" in columns and columns["units"] is None:
        columns["units"] = 1
    building = Building.objects.select_for_update().get(pk=building.pk)
    before = audit.snapshot(building, list(columns))
    _encrypt_into(building, columns, details.BUILDING_ENCRYPTED)
    _save(building, actor)
    changes = _changes(building, before, list(columns))
    if changes:
        audit.record(actor=actor, action="people.building.update", target=building,
                     changes=changes)
    return Saved(building)


def _document(type_field: str, number_field: str, columns: dict, current: dict,
              errors: dict) -> list[str]:
    """Check a document number against its type (a resident ID by GB 11643)."""
    warnings: list[str] = []
    if number_field not in columns and type_field not in columns:
        return warnings
    id_type = columns.get(type_field, current.get(type_field)) or RESIDENT_ID
    number = columns.get(number_field, current.get(number_field)) or ""
    try:
        value, check = validation.clean_document_number(id_type, number)
    except validation.BadValue as exc:
        errors.setdefault(number_field, []).append(str(exc))
        return warnings
    if number_field in columns:
        columns[number_field] = value
    if check is not None:
        warnings.extend(str(w) for w in check.warnings)
    return warnings


def _check_building(actor, building: Building | None, area) -> None:
    if building is None:
        return
    if not get_scope(actor).covers_code(building.area_code):
        raise field_error("building", _("This building is outside your area of "
                                        "responsibility."))
    if area is not None and not _related_area(area, building.area):
        raise field_error("building", _("The building is in %(area)s, not in this area.")
                          % {"area": building.area.name})


def _house_columns(data: dict, house: House | None) -> tuple[dict, list[str]]:
    partial = house is not None
    columns, _extra, errors = details.clean(details.HOUSE, data, partial=partial)
    current = {n: getattr(house, n) for n in ("owner_id_type", "owner_id_number")} \
        if house else {}
    warnings = _document("owner_id_type", "owner_id_number", columns, current, errors)
    is_rental = columns.get("is_rental", house.is_rental if house else False)
    if is_rental:
        for name in details.RENTAL_REQUIRED:
            value = columns[name] if name in columns else (getattr(house, name) if house
                                                           else None)
            if value in (None, "") and name not in errors:
                errors.setdefault(name, []).append(
                    _("A rental house needs this (GB/T 31000 T16)."))
    _raise(errors)
    if "is_rental" in columns and columns["is_rental"] is None:
        columns["is_rental"] = False
    return columns, warnings


@transaction.atomic
def create_house(*, actor, area, data: dict, building: Building | None = None) -> Saved:
    require(actor, House, "add")
    if area is None and building is not None:
        area = building.area
    check_area(actor, area)
    _check_building(actor, building, area)
    columns, warnings = _house_columns(data, None)
    house = House(area=area, area_code=area.code, building=building,
                  created_by=actor if getattr(actor, "pk", None) else None)
    _encrypt_into(house, columns, details.HOUSE_ENCRYPTED)
    if columns.get("owner_id_number") and not house.owner_id_type:
        house.owner_id_type = RESIDENT_ID
    _save(house, actor)
    audit.record(actor=actor, action="people.house.create", target=house,
                 changes=_created(house, ["number", "is_rental", "owner_id_number"]))
    return Saved(house, warnings)


@transaction.atomic
def update_house(*, actor, house: House, data: dict, building=...) -> Saved:
    _check_reach(actor, House, house, "change")
    house = House.objects.select_for_update().get(pk=house.pk)
    columns, warnings = _house_columns(data, house)
    names = list(columns)
    if building is not ...:
        _check_building(actor, building, house.area)
        names.append("building_id")
    before = audit.snapshot(house, names)
    _encrypt_into(house, columns, details.HOUSE_ENCRYPTED)
    if building is not ...:
        house.building = building
    _save(house, actor)
    changes = _changes(house, before, names)
    if changes:
        audit.record(actor=actor, action="people.house.update", target=house, changes=changes)
    return Saved(house, warnings)


# --- units ------------------------------------------------------------------------------------


def _unit_columns(kind: str, data: dict, unit: Unit | None) -> tuple[dict, dict, list[str]]:
    if kind not in UnitKind.values:
        raise field_error("kind", _("Choose an enterprise or a social organisation."))
    spec = details.merged(details.UNIT_COMMON, details.UNIT[kind])
    columns, extra, errors = details.clean(spec, data, partial=unit is not None)
    current = {n: getattr(unit, n) for n in ("legal_rep_id_type", "legal_rep_id_number")} \
        if unit else {}
    warnings = _document("legal_rep_id_type", "legal_rep_id_number", columns, current, errors)
    if columns.get("uscc"):  # valid by now (details.clean checked it): only the warnings
        warnings.extend(validation.validate_uscc(columns["uscc"])[1])
    _raise(errors)
    for name in ("is_hazardous_chemicals", "has_party_org"):
        if name in columns and columns[name] is None:
            columns[name] = False
    if "legal_rep_id_type" in columns and not columns["legal_rep_id_type"]:
        columns["legal_rep_id_type"] = RESIDENT_ID
    return columns, extra, warnings


def _uscc_taken(actor, code: str, exclude: int | None = None) -> None:
    qs = Unit.objects.filter(uscc=code)
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    existing = qs.first()
    if existing is None:
        return
    if get_scope(actor).covers_code(existing.area_code):
        message = _("This credit code is already registered: %(name)s, record %(id)s.") % {
            "name": existing.name, "id": existing.pk}
    else:
        message = _("This credit code is already registered in another area.")
    error = field_error("uscc", message)
    error.code = "duplicate"
    raise error


def _save_unit(unit: Unit, actor) -> None:
    try:
        with transaction.atomic():
            _save(unit, actor)
    except IntegrityError:  # a concurrent registration of the same code
        raise field_error("uscc", _("This credit code is already registered.")) from None


@transaction.atomic
def create_unit(*, actor, area, kind: str, data: dict) -> Saved:
    require(actor, Unit, "add")
    check_area(actor, area)
    columns, extra, warnings = _unit_columns(kind, data, None)
    _uscc_taken(actor, columns["uscc"])
    unit = Unit(kind=kind, area=area, area_code=area.code, details=extra,
                created_by=actor if getattr(actor, "pk", None) else None)
    _encrypt_into(unit, columns, details.UNIT_ENCRYPTED)
    _save_unit(unit, actor)
    audit.record(actor=actor, action="people.unit.create", target=unit,
                 changes=_created(unit, ["kind", "uscc", "name"]))
    return Saved(unit, warnings)


@transaction.atomic
def update_unit(*, actor, unit: Unit, data: dict) -> Saved:
    _check_reach(actor, Unit, unit, "change")
    unit = Unit.objects.select_for_update().get(pk=unit.pk)
    columns, extra, warnings = _unit_columns(unit.kind, data, unit)
    if columns.get("uscc") and columns["uscc"] != unit.uscc:
        _uscc_taken(actor, columns["uscc"], exclude=unit.pk)
    names = [*columns, "details"]
    before = audit.snapshot(unit, names)
    _encrypt_into(unit, columns, details.UNIT_ENCRYPTED)
    unit.details = {**unit.details, **extra}
    for item in details.UNIT[unit.kind].details:
        if item.name in data and item.name not in extra:
            unit.details.pop(item.name, None)  # cleared
    _save_unit(unit, actor)
    changes = _changes(unit, before, names)
    if changes:
        audit.record(actor=actor, action="people.unit.update", target=unit, changes=changes)
    return Saved(unit, warnings)


def set_active(*, actor, obj, active: bool) -> object:
    """Retire (or restore) a building, house or unit; persons use deactivate_person."""
    model = type(obj)
    if model not in (Building, House, Unit):
        raise TypeError(model)
    with transaction.atomic():
        _check_reach(actor, model, obj, "change")
        obj = model.objects.select_for_update().get(pk=obj.pk)
        if obj.is_active == active:
            return obj
        obj.is_active = active
        _save(obj, actor)
        audit.record(actor=actor, action=f"people.{model._meta.model_name}."
                     + ("restore" if active else "retire"), target=obj)
    return obj
