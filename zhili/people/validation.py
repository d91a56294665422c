"""Pure validation of registry input: no database, no user, no side effects.

The same functions serve the forms, the API, the bulk importer and the services, so a value is
judged alike whichever way it came in. Each returns normalised values and, per field, a list of
messages a clerk can act on (translated when called).

Stable entry points (other modules call them; keep their signatures):
- `clean_person(data, *, partial=False, today=None) -> (cleaned, errors)`
- `validate_uscc(raw) -> (code, warnings)` raising `InvalidUscc`
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core import pii
from zhili.core.pii import InvalidIdNumber, InvalidPhone
from zhili.people import codes
from zhili.people.choices import HouseRelation

WARNINGS = "_warnings"

# --- single values -------------------------------------------------------------------------------


def text(value) -> str:
    """A typed or imported cell as a stripped string ("" for None; 3.0 from Excel → "3")."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return " ".join(str(value).split())


_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),  # YYYYMMDD, the standard's own format
)


class BadValue(ValueError):
    """A value that cannot be read; the message says why, for the field it came from."""


def parse_date(value, *, today: dt.date | None = None, past: bool = True) -> dt.date | None:
    """A date from a date object, ISO text, "2024/3/5", "2024年3月5日" or "20240305"."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        day = value
    else:
        raw = text(value)
        day = None
        for pattern in _DATE_PATTERNS:
            match = pattern.fullmatch(raw.split(" ")[0] if " " in raw else raw)
            if match:
                try:
                    day = dt.date(*(int(g) for g in match.groups()))
                except ValueError:
                    raise BadValue(_("%(value)s is not a possible date.") % {"value": raw}) \
                        from None
                break
        if day is None:
            raise BadValue(_("Write the date as YYYY-MM-DD (for example 1990-03-05)."))
    if day.year < 1900:
        raise BadValue(_("A date before 1900 is not plausible here."))
    if past and day > (today or timezone.localdate()):
        raise BadValue(_("This date is in the future."))
    return day


def parse_code(table: type[codes.CodeTable], value) -> str:
    """A code of `table` from a code or a name; "" for an empty value."""
    raw = text(value)
    if not raw:
        return ""
    code = table.parse(raw)
    if code is None:
        raise BadValue(_("%(value)s is not a code of %(table)s (%(standard)s).")
                       % {"value": raw, "table": table.title, "standard": table.standard})
    return code


_TRUE = {"1", "true", "yes", "y", "是", "有", "t", "on"}
_FALSE = {"0", "false", "no", "n", "否", "无", "f", "off"}


def parse_bool(value) -> bool | None:
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if not raw:
        return None
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise BadValue(_("Answer yes or no (是/否, 1/0)."))


def parse_int(value, *, low: int = 0, high: int = 10**9) -> int | None:
    raw = text(value)
    if not raw:
        return None
    try:
        number = int(Decimal(raw))
    except (InvalidOperation, ValueError):
        raise BadValue(_("Enter a whole number.")) from None
    if not low <= number <= high:
        raise BadValue(_("Enter a number from %(low)d to %(high)d.") % {"low": low, "high": high})
    return number


def parse_decimal(value, *, low, high, places: int = 2) -> Decimal | None:
    raw = text(value)
    if not raw:
        return None
    try:
        number = Decimal(raw)
    except InvalidOperation:
        raise BadValue(_("Enter a number.")) from None
    if not Decimal(str(low)) <= number <= Decimal(str(high)):
        raise BadValue(_("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high})
    return number.quantize(Decimal(1).scaleb(-places))


def parse_region(value) -> str:
    """A GB/T 2260 division code (6 digits); a longer statistical code is cut to its county."""
    raw = text(value)
    if not raw:
        return ""
    if not raw.isdigit() or len(raw) not in (6, 9, 12, 15):
        raise BadValue(_("Give the 6-digit administrative division code (e.g. 320612)."))
    return raw[:6]


def parse_text(value, *, max_length: int) -> str:
    raw = text(value)
    if len(raw) > max_length:
        raise BadValue(_("At most %(n)d characters (this has %(count)d).")
                       % {"n": max_length, "count": len(raw)})
    return raw


def clean_phone(value) -> str:
    """A mobile ("13812345678") or landline ("0513-85123456"); raises BadValue."""
    raw = text(value)
    if not raw:
        return ""
    try:
        return pii.validate_phone(raw)
    except InvalidPhone as exc:
        raise BadValue(exc.message) from None


def clean_document_number(id_type: str, value, *, today=None) -> tuple[str, pii.IdCheck | None]:
    """The number of an identity document: a resident ID is checked by GB 11643 (15 digits
    upgraded); other documents are 1–30 letters, digits and hyphens."""
    raw = text(value)
    if not raw:
        return "", None
    if id_type in ("", codes.RESIDENT_ID, "112"):
        try:
            check = pii.validate_id_number(raw, today=today)
        except InvalidIdNumber as exc:
            raise BadValue(exc.message) from None
        return check.number, check
    compact = raw.replace(" ", "").upper()
    if not re.fullmatch(r"[0-9A-Z\-()（）]{1,30}", compact):
        raise BadValue(_("A document number has at most 30 letters, digits and hyphens."))
    return compact, None


# --- USCC (GB 32100) -----------------------------------------------------------------------------

InvalidUscc = pii.InvalidUscc


def validate_uscc(raw) -> tuple[str, list[str]]:
    """Check a 统一社会信用代码 (GB 32100-2015): `(code, warnings)`, raising `InvalidUscc`.

    The check itself is `zhili.core.pii.validate_uscc` (MOD 31 check character); a wrong
    check character of the embedded organisation code is only a warning.
    """
    code = pii.validate_uscc(text(raw))
    return code, [str(w) for w in pii.uscc_warnings(code)]


# --- a person row ------------------------------------------------------------------------------

PERSON_TEXT_FIELDS = {  # field: max length (GB/T 31000 lengths)
    "name": 50, "former_name": 50, "occupation": 30, "workplace": 100, "occupation_class": 5,
    "registered_address": 200, "current_address": 200, "note": 2000,
}
PERSON_CODE_FIELDS = {
    "ethnicity": codes.Ethnicity, "marital_status": codes.MaritalStatus,
    "political_status": codes.PoliticalStatus, "education": codes.Education,
    "religion": codes.Religion,
}
PERSON_FIELDS = (
    "id_type", "id_number", "name", "former_name", "sex", "birth_date", "ethnicity",
    "native_place", "marital_status", "political_status", "education", "religion",
    "occupation_class", "occupation", "workplace", "phone", "registered_place",
    "registered_address", "current_address", "lat", "lng", "house_relation", "note",
)


def clean_person(data: dict, *, partial: bool = False,
                 today: dt.date | None = None) -> tuple[dict, dict[str, list[str]]]:
    """Check one person's common block (GB/T 31000 fields 1–19) as typed or imported.

    `data` maps field names (`PERSON_FIELDS`; other keys are ignored) to raw values: strings as
    typed or read from a spreadsheet cell, or already-typed values (dates, numbers). Code fields
    accept the code or the standard's name ("01" or "汉族"/"汉"; sex "1"/"男"; education "20"
    or "大学本科教育"). Returns `(cleaned, errors)`:

    - `cleaned`: the keys of `data` that were valid, normalised: `id_number` as 18 characters
      (a 15-digit number upgraded), `sex` and `birth_date` derived from a resident ID number when
      not given, `phone` as "13812345678" or "0513-85123456", codes as codes, dates as
      `datetime.date`, `lat`/`lng` as Decimal; plus `cleaned["_warnings"]`, a list of messages
      that do not stop the row (an ID number whose region code is unknown).
    - `errors`: `{field: [message, …]}` in the clerk's language, empty when the row is fine.

    With `partial=False` (a new person) the name is required; `partial=True` checks only the
    keys present (an update). The ID type defaults to the resident ID card ("111"). Nothing
    here reads the database: duplicates and the area are the caller's business (the services).
    """
    cleaned: dict = {}
    errors: dict[str, list[str]] = {}
    warnings: list[str] = []

    def fail(name: str, message) -> None:
        errors.setdefault(name, []).append(str(message))

    def attempt(name: str, parse):
        if name not in data:
            return
        try:
            cleaned[name] = parse(data[name])
        except BadValue as exc:
            fail(name, exc)

    for name, length in PERSON_TEXT_FIELDS.items():
        attempt(name, lambda v, n=length: parse_text(v, max_length=n))
    if (not partial or "name" in data) and not cleaned.get("name") and "name" not in errors:
        fail("name", _("Enter the name."))
    for name, table in PERSON_CODE_FIELDS.items():
        attempt(name, lambda v, t=table: parse_code(t, v))
    attempt("native_place", parse_region)
    attempt("registered_place", parse_region)
    attempt("phone", clean_phone)
    attempt("lat", lambda v: parse_decimal(v, low=-90, high=90, places=7))
    attempt("lng", lambda v: parse_decimal(v, low=-180, high=180, places=7))
    if "house_relation" in data:
        relation = text(data["house_relation"])
        if relation and relation not in HouseRelation.values:
            fail("house_relation", _("Choose how the person lives in the house."))
        else:
            cleaned["house_relation"] = relation

    id_type = codes.RESIDENT_ID
    if "id_type" in data or not partial:
        try:
            id_type = parse_code(codes.IdType, data.get("id_type")) or codes.RESIDENT_ID
        except BadValue as exc:
            fail("id_type", exc)
        cleaned["id_type"] = id_type
    check = None
    if "id_number" in data:
        try:
            cleaned["id_number"], check = clean_document_number(id_type, data["id_number"],
                                                                today=today)
        except BadValue as exc:
            fail("id_number", exc)
        if check is not None:
            warnings.extend(check.warnings)

    # Sex and birth date: read from the ID number; what was typed must agree with it.
    if "sex" in data or check is not None:
        try:
            sex = parse_code(codes.Sex, data.get("sex"))
        except BadValue as exc:
            fail("sex", exc)
            sex = None
        if check is not None and sex is not None:
            derived = codes.SEX_FROM_ID[check.sex]
            if sex and sex in ("1", "2") and sex != derived:
                fail("sex", _("The ID number says %(sex)s.") % {"sex": codes.Sex.label(derived)})
            elif not sex or sex in ("0", "9"):
                sex = derived
        if sex is not None:
            cleaned["sex"] = sex
    if "birth_date" in data or check is not None:
        try:
            born = parse_date(data.get("birth_date"), today=today)
        except BadValue as exc:
            fail("birth_date", exc)
            born = False
        if check is not None and born is not False:
            if born and born != check.birth_date:
                fail("birth_date", _("The ID number says %(date)s.")
                     % {"date": check.birth_date.isoformat()})
            born = check.birth_date
        if born is not False:
            cleaned["birth_date"] = born
    cleaned[WARNINGS] = [str(w) for w in warnings]
    return cleaned, errors
