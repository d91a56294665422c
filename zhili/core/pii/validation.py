"""What ID numbers, phone numbers and addresses look like: normalisation and validation.

Normalisation feeds the blind index, so two spellings of one value must normalise alike
("138 1234 5678" and "+86 138-1234-5678"); validation is for services accepting user input.
"""

from __future__ import annotations

import functools
import operator
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime

from django.utils import timezone
from django.utils.translation import gettext as _

ID_NUMBER = "id_number"
PHONE = "phone"
ADDRESS = "address"

# GB 11643-1999: ISO 7064 MOD 11-2 over the first 17 digits.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"
MOBILE_RE = re.compile(r"1[3-9]\d{9}")
# Local subscriber numbers never start with 0 (trunk prefix) or 1 (service numbers).
LANDLINE_LOCAL_RE = re.compile(r"[2-9]\d{6,7}")
_PHONE_CHARS_RE = re.compile(r"\+?[0-9()\- ]+")


class PiiValueError(ValueError):
    """A value a user typed is not acceptable: `code` is stable, `message` translated."""

    def __init__(self, code: str, message: str):
        self.code = code
        self.message = str(message)
        super().__init__(self.message)


class InvalidIdNumber(PiiValueError):
    pass


class InvalidPhone(PiiValueError):
    pass


@dataclass(frozen=True)
class IdCheck:
    number: str  # 18 characters, check character upper case
    birth_date: date
    sex: str  # "male" or "female" (odd or even 17th digit)
    region_code: str  # the first 6 digits: the registering county when the number was issued
    warnings: list[str] = field(default_factory=list)
    legacy: bool = False  # given as a 15-digit first-generation number and converted


def _nfkc(text: str) -> str:
    # Chinese input methods readily produce full-width digits and letters ("１３８", "Ｘ").
    return unicodedata.normalize("NFKC", text)


def id_check_digit(first17: str) -> str:
    if len(first17) != 17:
        raise ValueError("the check digit is computed over 17 digits")
    return ID_CHECK_CHARS[sum(map(operator.mul, map(int, first17), ID_WEIGHTS)) % 11]


def _upgrade_legacy(number15: str) -> str:
    # First-generation cards (before 1999) had 15 digits: no century, no check digit; all of
    # their holders were born in the 1900s.
    body = number15[:6] + "19" + number15[6:]
    return body + id_check_digit(body)


def normalise_id_number(text: str) -> str:
    compact = "".join(_nfkc(text).split()).upper()
    if len(compact) == 15 and compact.isascii() and compact.isdigit():
        return _upgrade_legacy(compact)
    return compact


def normalise_phone(text: str) -> str:
    """Digits only, without the +86 / 0086 country code; landlines keep their leading 0."""
    text = _nfkc(text).strip()
    digits = re.sub(r"[^0-9]", "", text)
    if digits.startswith("0086"):
        rest = digits[4:]
    elif digits.startswith("86") and (text.startswith("+") or (
            len(digits) == 13 and MOBILE_RE.fullmatch(digits[2:]))):
        rest = digits[2:]
    else:
        return digits
    if MOBILE_RE.fullmatch(rest) or rest.startswith("0"):
        return rest
    # "+86 513 8512 3456": the international form drops the area code's trunk 0.
    return "0" + rest


def normalise(value: str, kind: str) -> str:
    """The form the blind index is computed over; any other kind is whitespace-collapsed."""
    if kind == ID_NUMBER:
        return normalise_id_number(value)
    if kind == PHONE:
        return normalise_phone(value)
    return " ".join(_nfkc(value).split())


@functools.lru_cache(maxsize=16384)  # a city's numbers share a few hundred region codes
def _known_region(code: str) -> bool:
    from stdnum import numdb

    # python-stdnum's table of division codes past and present; a code that has ever existed
    # is fine (a number keeps the code of the county that issued it after re-zoning).
    return any("county" in props for _part, props in numdb.get("cn/loc").info(code))


def validate_id_number(raw: str | None, *, today: date | None = None) -> IdCheck:
    """Check a resident ID number (GB 11643) and read what it says about its holder.

    Raises `InvalidIdNumber` (code "length", "characters", "birth_date", "future_birth_date"
    or "check_digit"). An unknown region code is only a warning: the division table cannot be
    complete for every number ever issued.
    """
    text = "".join(_nfkc(raw or "").split()).upper()
    if not re.fullmatch(r"[0-9X]*", text):
        raise InvalidIdNumber("characters", _(
            "An ID number may contain only digits and, as its last character, the letter X."))
    if len(text) not in (15, 18):
        raise InvalidIdNumber("length", _(
            "An ID number has 18 characters (or 15 digits on a first-generation card); this "
            "one has %(count)d.") % {"count": len(text)})
    body = text if len(text) == 15 else text[:17]
    if "X" in body:
        raise InvalidIdNumber("characters", _(
            "An ID number may contain only digits and, as its last character, the letter X."))
    legacy = len(text) == 15
    number = _upgrade_legacy(text) if legacy else text
    shown = f"{number[6:10]}-{number[10:12]}-{number[12:14]}"
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        born = None
    if born is None or born.year < 1900:
        raise InvalidIdNumber("birth_date", _(
            "The birth date in this ID number (%(date)s) is not a possible date.")
            % {"date": shown})
    # The default time zone, not timezone.localdate(): this runs for every row of a bulk
    # import, and looking up the request's active zone costs more than the whole check.
    if born > (today or datetime.now(timezone.get_default_timezone()).date()):
        raise InvalidIdNumber("future_birth_date", _(
            "The birth date in this ID number (%(date)s) is in the future.") % {"date": shown})
    if number[17] != id_check_digit(number[:17]):
        raise InvalidIdNumber("check_digit", _(
            "The last character of this ID number does not match the others: check it for a "
            "typing mistake."))
    warnings = []
    region = number[:6]
    if not _known_region(region):
        warnings.append(_("The region code %(code)s at the start of this ID number is not a "
                          "known administrative division: check the number.")
                        % {"code": region})
    sex = "male" if int(number[16]) % 2 else "female"
    return IdCheck(number=number, birth_date=born, sex=sex, region_code=region,
                   warnings=warnings, legacy=legacy)


def validate_phone(raw: str | None) -> str:
    """A mainland mobile ("13812345678") or landline with area code ("0513-85123456").

    Spaces, hyphens, brackets and a +86 / 0086 prefix are accepted on input. Raises
    `InvalidPhone` (code "characters" or "format").
    """
    text = _nfkc(raw or "").strip()
    if text and not _PHONE_CHARS_RE.fullmatch(text):
        raise InvalidPhone("characters", _(
            "A phone number may contain only digits, spaces, hyphens, brackets and a leading "
            "+."))
    digits = normalise_phone(text)
    if text.startswith("+") and not re.sub(r"[^0-9]", "", text).startswith("86"):
        digits = ""  # another country's number: not one of these formats
    if MOBILE_RE.fullmatch(digits):
        return digits
    if digits.startswith("0") and len(digits) > 4:
        # Area codes 010 and 02x have three digits, all others four (0513 Nantong).
        split = 3 if digits[1] in "12" else 4
        area, local = digits[:split], digits[split:]
        if LANDLINE_LOCAL_RE.fullmatch(local):
            return f"{area}-{local}"
    raise InvalidPhone("format", _(
        "Enter a mobile number (11 digits starting with 1) or a landline number with its area "
        "code, e.g. 0513-85123456."))


# --- 统一社会信用代码 (GB 32100-2015) -------------------------------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 symbols: no I, O, S, V, Z
# Weight of position i is 3^(i-1) mod 31: 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28.
USCC_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)  # GB 11714 organisation code, positions 9–16
_ORG_VALUES = {c: i for i, c in enumerate("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")}


class InvalidUscc(PiiValueError):
    """Not a unified social credit code: `code` is "length", "characters" or "check_digit"."""


def uscc_check_char(first17: str) -> str:
    """The 18th character of a credit code whose first 17 are `first17` (MOD 31)."""
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def org_code_check_char(first8: str) -> str:
    """The check character of the embedded organisation code (GB 11714, MOD 11)."""
    remainder = 11 - sum(_ORG_VALUES[c] * w for c, w in zip(first8, _ORG_WEIGHTS,
                                                               strict=True)) % 11
    return {10: "X", 11: "0"}.get(remainder, str(remainder))


def validate_uscc(raw: str | None) -> str:
    """Check a 统一社会信用代码 and return it compact and upper-cased.

    18 characters over the 31-symbol set; positions 3–8 a division code (digits); the last
    character the MOD 31 check of the first 17. Raises `InvalidUscc`. The check character of
    the embedded organisation code (positions 9–17) is not enforced here: registries hold
    codes whose inner check was never enforced; `uscc_warnings` reports it.
    """
    value = "".join(_nfkc(raw or "").split()).upper()
    if len(value) != 18:
        raise InvalidUscc("length", _(
            "A unified social credit code has 18 characters; this one has %(count)d.")
            % {"count": len(value)})
    if any(c not in USCC_ALPHABET for c in value) or not value[2:8].isdigit():
        raise InvalidUscc("characters", _(
            "A unified social credit code uses digits and the capital letters other than I, O, "
            "S, V and Z, with the division code (digits) in positions 3 to 8."))
    if value[17] != uscc_check_char(value[:17]):
        raise InvalidUscc("check_digit", _(
            "The last character of this unified social credit code does not match the others: "
            "check it for a typing mistake."))
    return value


def uscc_warnings(code: str) -> list[str]:
    """Doubts about a valid credit code that do not justify refusing it."""
    body = code[8:16]
    if all(c in _ORG_VALUES for c in body) and org_code_check_char(body) != code[16]:
        return [_("The organisation code inside this credit code (%(code)s) has a wrong check "
                  "character.") % {"code": code[8:17]}]
    return []
