"""Masked display (脱敏), the default wherever personal data is shown.

Every function accepts None or junk and returns a string (empty for None), and never shows a
short or malformed value in full: when too little would stay hidden, all of it is masked.
"""

from __future__ import annotations

import re

from zhili.core.pii.validation import MOBILE_RE, normalise_phone

MASK = "*"

# Address rule: keep the administrative divisions down to the town/street level (province,
# prefecture city, county/district, 乡镇/街道) and mask everything after it (road, house
# number, building, room). Each level is optional and matched lazily in order, so "镇江市"
# is a city, not a town. When no division is recognised, keep at most the first 6 characters,
# never more than a third of the text and nothing from the first digit on.
_ADDRESS_RE = re.compile(
    r"(?P<province>.{2,8}?(?:省|自治区|特别行政区))?"
    r"(?P<city>.{2,9}?(?:市|自治州|地区|盟))?"
    r"(?P<county>.{1,9}?(?:区|县|市|旗))?"
    r"(?P<town>.{1,12}?(?:街道|镇|乡|苏木))?"
)
ADDRESS_FALLBACK_KEEP = 6
ADDRESS_MASK = MASK * 4


def _keep_ends(text: str, head: int, tail: int, min_hidden: int = 4) -> str:
    hidden = len(text) - head - tail
    if hidden < min_hidden:
        return MASK * len(text)
    return text[:head] + MASK * hidden + (text[-tail:] if tail else "")


def mask_id_number(value: str | None) -> str:
    """"320602199001011234" → "3206**********1234": region prefix and last 4 visible."""
    if not value:
        return ""
    return _keep_ends("".join(value.split()), 4, 4)


def mask_phone(value: str | None) -> str:
    """"13812345678" → "138****5678"; "0513-85123456" → "0513-****3456"."""
    if not value:
        return ""
    digits = normalise_phone(value)
    if MOBILE_RE.fullmatch(digits):
        return digits[:3] + MASK * 4 + digits[-4:]
    if digits.startswith("0") and len(digits) >= 10:
        split = 3 if digits[1] in "12" else 4
        return digits[:split] + "-" + _keep_ends(digits[split:], 0, 4, min_hidden=3)
    return _keep_ends("".join(value.split()), 0, 4)


def mask_name(value: str | None) -> str:
    """"张三丰" → "张**": the first character (the family name, usually) stays."""
    text = (value or "").strip()
    if len(text) <= 1:
        return MASK * len(text)
    return text[0] + MASK * (len(text) - 1)


def mask_address(value: str | None) -> str:
    """"江苏省南通市崇川区和平桥街道工农路123号" → "江苏省南通市崇川区和平桥街道****"."""
    text = "".join((value or "").split())
    if not text:
        return ""
    match = _ADDRESS_RE.match(text)
    keep = match.end() if match else 0
    if not keep:
        head = text[:min(ADDRESS_FALLBACK_KEEP, len(text) // 3)]
        keep = len(re.split(r"[0-9]", head, maxsplit=1)[0])  # never part of a house number
    return text[:keep] + (ADDRESS_MASK if keep < len(text) else "")


def mask_value(value, kind: str | None) -> str:
    """Mask `value` by the kind of personal data it is (an `EncryptedTextField` kind, or "name").

    Kinds without a rule of their own (contact details typed freely, JSON documents) hide
    everything: showing part of a value of unknown shape could show all of it.
    """
    if value is None or value == "" or value == {}:
        return ""
    if kind == "id_number":
        return mask_id_number(str(value))
    if kind in ("phone", "contact"):
        return mask_phone(str(value))
    if kind == "address":
        return mask_address(str(value))
    if kind == "name":
        return mask_name(str(value))
    return MASK * 4


# Plain (unencrypted) columns that still identify a person, masked like a name on display.
NAME_FIELDS = frozenset({"name", "former_name"})


def field_kind(model, field_name: str) -> str | None:
    """The masking kind of `model.field_name`: the encrypted field's kind, "name" for a
    person's name columns, None for anything shown as it is."""
    from zhili.core.pii.fields import EncryptedTextField

    try:
        field = model._meta.get_field(field_name)
    except Exception:  # noqa: BLE001 - FieldDoesNotExist, or not a model at all
        return None
    if isinstance(field, EncryptedTextField):
        return field.kind
    if field_name in NAME_FIELDS and getattr(field, "get_internal_type", lambda: "")() in (
            "CharField", "TextField"):
        return "name"
    return None


def mask_field(obj, field_name: str) -> str:
    """`obj.field_name` as shown to someone without an unmask grant. A path through a
    relation ("person.id_number") is followed."""
    *path, last = field_name.split(".")
    for part in path:
        obj = getattr(obj, part, None)
        if obj is None:
            return ""
    value = getattr(obj, last, None)
    kind = field_kind(type(obj), last)
    if kind is None:
        return "" if value is None else str(value)
    return mask_value(value, kind)
