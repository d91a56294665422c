"""Per-kind field definitions: which fields a residency fact (T12–T15) or a unit (T23/T24)
has, which are required, and how each is read.

A record keeps the fields that are searched or counted in real columns and the rest in a JSON
`details` column. Both are described here, once, so forms, the API, the importer and the
services agree: `clean(spec, data)` checks a dict against the spec of the record's kind.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from zhili.people import codes, validation
from zhili.people.choices import ResidencyKind, UnitKind
from zhili.people.validation import BadValue

TEXT, INT, DECIMAL, DATE, FUTURE_DATE, BOOL, CODE, PHONE, ID_NUMBER, USCC, REGION, COUNTRY = (
    "text", "int", "decimal", "date", "future_date", "bool", "code", "phone", "id_number",
    "uscc", "region", "country")
LAT, LNG = "lat", "lng"
# A document number whose format depends on a type field beside it (checked by the service).
DOCUMENT = "document"


@dataclass(frozen=True)
class Field:
    name: str
    label: object  # lazily translated
    kind: str = TEXT
    required: bool = False
    max_length: int = 100
    table: type[codes.CodeTable] | None = None
    column: bool = True  # False: kept in the JSON `details`


@dataclass(frozen=True)
class Spec:
    title: object
    fields: tuple[Field, ...]

    @property
    def columns(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.column)

    @property
    def details(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if not f.column)

    @property
    def names(self) -> set[str]:
        return {f.name for f in self.fields}


def parse(field: Field, value, *, today=None):
    """One value for `field`; raises BadValue with the message to show."""
    kind = field.kind
    if kind == TEXT:
        return validation.parse_text(value, max_length=field.max_length)
    if kind == INT:
        return validation.parse_int(value)
    if kind == DECIMAL:
        return validation.parse_decimal(value, low=0, high=10**8)
    if kind == DATE:
        return validation.parse_date(value, today=today)
    if kind == FUTURE_DATE:
        return validation.parse_date(value, today=today, past=False)
    if kind == BOOL:
        return validation.parse_bool(value)
    if kind == CODE:
        return validation.parse_code(field.table, value)
    if kind == PHONE:
        return validation.clean_phone(value)
    if kind == ID_NUMBER:
        number, _check = validation.clean_document_number(codes.RESIDENT_ID, value, today=today)
        return number
    if kind == REGION:
        return validation.parse_region(value)
    if kind == COUNTRY:
        raw = validation.text(value).upper()
        if raw and not (len(raw) == 3 and raw.isalpha()):
            raise BadValue(gettext("Give the three-letter country code of GB/T 2659 (e.g. KOR)."))
        return raw
    if kind == LAT:
        return validation.parse_decimal(value, low=-90, high=90, places=7)
    if kind == LNG:
        return validation.parse_decimal(value, low=-180, high=180, places=7)
    if kind == DOCUMENT:
        return validation.text(value).replace(" ", "").upper()
    if kind == USCC:
        raw = validation.text(value)
        if not raw:
            return ""
        try:
            return validation.validate_uscc(raw)[0]
        except validation.InvalidUscc as exc:
            raise BadValue(exc.message) from None
    raise ValueError(kind)


def _empty(value) -> bool:
    return value is None or value == ""


def clean(spec: Spec, data: dict, *, partial: bool = False,
          today=None) -> tuple[dict, dict, dict[str, list[str]]]:
    """Check `data` against `spec`: returns `(columns, details, errors)`.

    Keys outside the spec are refused (they belong to another kind). With `partial`, required
    fields are checked only when present. JSON details come back JSON-ready (dates as ISO text).
    """
    columns: dict = {}
    details: dict = {}
    errors: dict[str, list[str]] = {}
    for key in data:
        if key not in spec.names:
            errors.setdefault(key, []).append(
                gettext("This field does not apply to %(kind)s.") % {"kind": spec.title})
    for field in spec.fields:
        if field.name not in data:
            if field.required and not partial:
                errors.setdefault(field.name, []).append(gettext("This field is required."))
            continue
        try:
            value = parse(field, data[field.name], today=today)
        except BadValue as exc:
            errors.setdefault(field.name, []).append(str(exc))
            continue
        if field.required and _empty(value):
            errors.setdefault(field.name, []).append(gettext("This field is required."))
            continue
        if field.column:
            columns[field.name] = value
        elif not _empty(value):
            details[field.name] = _json_ready(value)
    return columns, details, errors


def _json_ready(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, bool | int | str):
        return value
    return str(value)  # Decimal


# --- residency facts (GB/T 31000 T12–T15, fields after the common block) ------------------------

RELATED = (
    Field("related_name", _("Name"), max_length=50),
    Field("related_id_number", _("ID number"), ID_NUMBER),
    Field("relation", _("Relationship"), CODE, table=codes.Relationship),
    Field("related_phone", _("Phone"), PHONE),
)


def _required(field: Field) -> Field:
    return Field(field.name, field.label, field.kind, True, field.max_length, field.table,
                 field.column)


RESIDENCY: dict[str, Spec] = {
    ResidencyKind.REGISTERED: Spec(ResidencyKind.REGISTERED.label, (
        Field("household_match", _("Living at the registered address"), CODE, True,
              table=codes.HouseholdMatch),
        Field("household_number", _("Household number"), TEXT, True, max_length=9,
              column=False),
        Field("related_name", _("Head of household"), max_length=50),
        Field("related_id_number", _("ID number of the head of household"), ID_NUMBER),
        Field("relation", _("Relationship to the head of household"), CODE, True,
              table=codes.Relationship),
        Field("related_phone", _("Phone of the head of household"), PHONE),
    )),
    ResidencyKind.FLOATING: Spec(ResidencyKind.FLOATING.label, (
        Field("inflow_reason", _("Reason for moving here"), CODE, True,
              table=codes.InflowReason),
        Field("permit_type", _("Residence permit type"), CODE, table=codes.PermitType),
        Field("document_number", _("Permit number"), TEXT, max_length=22),
        Field("registered_on", _("Registered on"), DATE),
        Field("document_expires_on", _("Permit expires on"), FUTURE_DATE),
        Field("residence_type", _("Type of residence"), CODE, True, table=codes.ResidenceType),
        Field("is_key_person", _("Needs attention"), BOOL),
    )),
    ResidencyKind.LEFT_BEHIND: Spec(ResidencyKind.LEFT_BEHIND.label, (
        Field("left_behind_type", _("Left-behind group"), CODE, True,
              table=codes.LeftBehindType),
        Field("health", _("Health"), CODE, table=codes.Health),
        Field("annual_income", _("Personal yearly income (yuan)"), INT, column=False),
        Field("household_match", _("Living at the registered address"), CODE, True,
              table=codes.HouseholdMatch),
        Field("related_name", _("Main family member"), TEXT, True, max_length=50),
        Field("related_id_number", _("ID number of the family member"), ID_NUMBER, True),
        Field("related_health", _("Health of the family member"), CODE, table=codes.Health,
              column=False),
        Field("relation", _("Relationship to the left-behind person"), CODE, True,
              table=codes.Relationship),
        Field("related_phone", _("Phone of the family member"), PHONE, True),
        Field("related_work_address", _("Where the family member works"), max_length=200,
              column=False),
        Field("family_income", _("Family yearly income (yuan)"), INT, column=False),
        Field("difficulties", _("Difficulties and requests"), max_length=1024, column=False),
        Field("assistance", _("Assistance given"), max_length=1024, column=False),
    )),
    ResidencyKind.FOREIGN: Spec(ResidencyKind.FOREIGN.label, (
        Field("foreign_surname", _("Surname (foreign script)"), TEXT, True, max_length=40,
              column=False),
        Field("foreign_given_name", _("Given name (foreign script)"), TEXT, True,
              max_length=40, column=False),
        Field("nationality", _("Nationality (GB/T 2659)"), COUNTRY, True),
        Field("document_type", _("Document type"), CODE, True, table=codes.IdType),
        Field("document_number", _("Document number"), TEXT, True, max_length=30),
        Field("document_expires_on", _("Document valid until"), FUTURE_DATE, True),
        Field("visit_purpose", _("Purpose of stay"), CODE, True, table=codes.VisitPurpose),
        Field("registered_on", _("Arrived on"), DATE, True),
        Field("leaves_on", _("Expected to leave on"), FUTURE_DATE, True),
        Field("is_key_person", _("Needs attention"), BOOL),
    )),
}

# Columns of Residency written from the specs (all kinds), with the empty value of each.
RESIDENCY_COLUMNS = {
    "household_match": "", "relation": "", "related_name": "", "related_id_number": None,
    "related_phone": None, "inflow_reason": "", "permit_type": "", "document_type": "",
    "document_number": None, "registered_on": None, "document_expires_on": None,
    "leaves_on": None, "residence_type": "", "is_key_person": False, "left_behind_type": "",
    "health": "", "nationality": "", "visit_purpose": "",
}
ENCRYPTED_RESIDENCY_COLUMNS = ("related_id_number", "related_phone", "document_number")


# --- units (T23 非公有制经济组织, T24 社会组织), fields beyond the common columns ---------------

PARTY_BLOCK = (
    Field("party_conditions", _("Could form a CPC organisation"), BOOL, column=False),
    Field("has_party_org", _("Has a CPC organisation"), BOOL),
    Field("party_members", _("CPC members"), INT, column=False),
    Field("has_union", _("Has a trade union"), BOOL, column=False),
    Field("union_members", _("Trade-union members"), INT, column=False),
    Field("has_youth_league", _("Has a Youth League organisation"), BOOL, column=False),
    Field("league_members", _("Youth League members"), INT, column=False),
    Field("has_women_federation", _("Has a women's federation"), BOOL, column=False),
    Field("women", _("Women employed"), INT, column=False),
)

UNIT: dict[str, Spec] = {
    UnitKind.ENTERPRISE: Spec(UnitKind.ENTERPRISE.label, (
        Field("category", _("Enterprise type"), CODE, True, table=codes.EnterpriseType),
        Field("is_hazardous_chemicals", _("Handles hazardous chemicals"), BOOL),
        Field("hazard", _("Safety hazard"), CODE, True, table=codes.SafetyHazard),
        *PARTY_BLOCK,
    )),
    UnitKind.SOCIAL_ORG: Spec(UnitKind.SOCIAL_ORG.label, (
        Field("category", _("Social organisation type"), CODE, True,
              table=codes.SocialOrgType),
        Field("registration_number", _("Registration certificate number"), TEXT, True,
              max_length=32, column=False),
        Field("registration_authority", _("Registration authority (division code)"), REGION,
              column=False),
        Field("approved_on", _("Approved on"), DATE, column=False),
        Field("is_operating", _("Operating normally"), BOOL, column=False),
        Field("office_address", _("Office address"), max_length=200, column=False),
        Field("funding_source", _("Source of funds"), max_length=100, column=False),
        Field("has_foreign_background", _("Has a foreign background"), BOOL, column=False),
        *PARTY_BLOCK,
    )),
}
UNIT_KIND_COLUMNS = {"category": "", "is_hazardous_chemicals": False, "hazard": "",
                     "has_party_org": False}


# --- places and the common columns of units ------------------------------------------------------

BUILDING = Spec(_("Building"), (
    Field("estate", _("Estate or unit"), TEXT, True, max_length=100),
    Field("name", _("Building"), TEXT, True, max_length=50),
    Field("address", _("Address"), max_length=200),
    Field("floor_area", _("Floor area (m²)"), DECIMAL),
    Field("floors", _("Floors"), INT, True),
    Field("units", _("Entrances (units)"), INT),
    Field("households", _("Households"), INT),
    Field("leader_name", _("Building leader"), max_length=50),
    Field("leader_phone", _("Building leader's phone"), PHONE),
    Field("lat", _("Latitude"), LAT),
    Field("lng", _("Longitude"), LNG),
    Field("note", _("Note"), max_length=2000),
))
BUILDING_ENCRYPTED = ("leader_phone",)

HOUSE = Spec(_("House"), (
    Field("number", _("House number"), TEXT, True, max_length=50),
    Field("address", _("Address"), TEXT, True, max_length=200),
    Field("use", _("Use"), CODE, table=codes.BuildingUse),
    Field("floor_area", _("Floor area (m²)"), DECIMAL),
    Field("is_rental", _("Rented out"), BOOL),
    Field("owner_name", _("Owner"), max_length=50),
    Field("owner_id_type", _("Owner's ID document type"), CODE, table=codes.IdType),
    Field("owner_id_number", _("Owner's ID number"), DOCUMENT),
    Field("owner_phone", _("Owner's phone"), PHONE),
    Field("owner_address", _("Owner's address"), max_length=200),
    Field("rental_use", _("Rental use"), CODE, table=codes.RentalUse),
    Field("hazard", _("Hazard"), CODE, table=codes.RentalHazard),
    Field("lat", _("Latitude"), LAT),
    Field("lng", _("Longitude"), LNG),
    Field("note", _("Note"), max_length=2000),
))
HOUSE_ENCRYPTED = ("address", "owner_id_number", "owner_phone", "owner_address")
# What GB/T 31000 T16 requires of a rental house.
RENTAL_REQUIRED = ("owner_name", "owner_id_number", "owner_phone", "owner_address",
                   "rental_use", "hazard")

UNIT_COMMON = Spec(_("Unit"), (
    Field("uscc", _("Unified social credit code"), USCC, True),
    Field("name", _("Name"), TEXT, True, max_length=200),
    Field("address", _("Address"), TEXT, True, max_length=200),
    Field("phone", _("Phone"), PHONE),
    Field("employees", _("Employees"), INT),
    Field("legal_rep_name", _("Legal representative"), TEXT, True, max_length=80),
    Field("legal_rep_id_type", _("Legal representative's ID document type"), CODE,
          table=codes.IdType),
    Field("legal_rep_id_number", _("Legal representative's ID number"), DOCUMENT),
    Field("legal_rep_phone", _("Legal representative's phone"), PHONE),
    Field("security_name", _("Security officer"), max_length=50),
    Field("security_phone", _("Security officer's phone"), PHONE),
    Field("attention", _("Attention level"), CODE, True, table=codes.Attention),
    Field("lat", _("Latitude"), LAT),
    Field("lng", _("Longitude"), LNG),
    Field("note", _("Note"), max_length=2000),
))
UNIT_ENCRYPTED = ("legal_rep_id_number", "legal_rep_phone", "security_phone")


def merged(*specs: Spec) -> Spec:
    return Spec(specs[-1].title, tuple(f for spec in specs for f in spec.fields))
