"""A category's field definitions, and the checking of `Supervision.details` against them.

Definitions are JSON (see `builtin` for the shape) so that administrators can define local
categories without a migration. Two checks live here:

- `parse_definitions()` checks the definitions themselves (config page, API), with messages that
  name the field at fault;
- `clean_details()` checks a record's values, returning the normalised dict to store, or raising
  `ServiceError` with one message per field, keyed `details.<name>` (forms show them beside
  the field, the API returns them under `fields`).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.services import ServiceError
from zhili.special import codetables
from zhili.special.choices import FieldType

NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DEFAULT_MAX_LENGTH = 1024
TRUE = {"1", "true", "yes", "on", "y", "是", "有"}
FALSE = {"0", "false", "no", "off", "n", "否", "无"}
PREFIX = "details."


@dataclass(frozen=True)
class FieldDef:
    name: str
    label: str
    type: str
    required: bool = False
    table: str = ""
    choices: dict[str, str] = field(default_factory=dict)
    max_length: int = DEFAULT_MAX_LENGTH
    max: int | None = None
    past: bool = False
    not_before: str = ""
    gbt: int | None = None
    help: str = ""

    @property
    def key(self) -> str:
        return PREFIX + self.name

    def options(self) -> dict[str, str]:
        return codetables.options(self.table) if self.table else dict(self.choices)

    def display(self, value) -> str:
        """A stored value as people read it (codes become their names)."""
        if value is None or value == "" or value == []:
            return ""
        if self.type == FieldType.BOOL:
            return _("Yes") if value else _("No")
        if self.type in (FieldType.CHOICE, FieldType.MULTICHOICE):
            names = self.options()
            values = value if isinstance(value, list) else [value]
            return "、".join(names.get(v, v) for v in values)
        return str(value)


def _refuse(index: int, name: str, message) -> ServiceError:
    where = _("Field %(n)d (“%(name)s”)") % {"n": index + 1, "name": name or "?"}
    return ServiceError("invalid", field_messages={"fields": [f"{where}: {message}"]})


def parse_definitions(raw) -> list[FieldDef]:
    """Check a category's definitions; raises ServiceError keyed "fields"."""
    if not isinstance(raw, list):
        raise ServiceError("invalid", field_messages={"fields": [
            _("The field definitions must be a JSON list of objects.")]})
    defs: list[FieldDef] = []
    seen: set[str] = set()
    allowed = {"name", "label", "type", "required", "table", "choices", "max_length", "max",
               "past", "not_before", "gbt", "help"}
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _refuse(i, "", _("each field is an object with a name, label and type."))
        name = str(item.get("name") or "")
        unknown = set(item) - allowed
        if unknown:
            raise _refuse(i, name, _("unknown keys %(keys)s.")
                          % {"keys": ", ".join(sorted(unknown))})
        if not NAME_RE.match(name):
            raise _refuse(i, name, _("the name must start with a lower-case letter and use only "
                                     "a–z, 0–9 and _ (at most 40)."))
        if name in seen:
            raise _refuse(i, name, _("this name is used twice."))
        seen.add(name)
        label = str(item.get("label") or "").strip()
        if not label:
            raise _refuse(i, name, _("give a label."))
        kind = item.get("type")
        if kind not in FieldType.values:
            raise _refuse(i, name, _("unknown type %(type)r; use one of %(types)s.")
                          % {"type": kind, "types": ", ".join(FieldType.values)})
        table = str(item.get("table") or "")
        choices = item.get("choices") or {}
        if kind in (FieldType.CHOICE, FieldType.MULTICHOICE):
            if table and table not in codetables.TABLES:
                raise _refuse(i, name, _("unknown code table %(table)s.") % {"table": table})
            if not table and (not isinstance(choices, dict) or not choices or not all(
                    isinstance(k, str) and k.strip() and isinstance(v, str) and v.strip()
                    for k, v in choices.items())):
                raise _refuse(i, name, _("a code field needs a code table or a non-empty "
                                         "{code: label} object of choices."))
        elif table or choices:
            raise _refuse(i, name, _("only code fields take a table or choices."))
        max_length = item.get("max_length", DEFAULT_MAX_LENGTH)
        if not isinstance(max_length, int) or isinstance(max_length, bool) or \
                not 1 <= max_length <= 4000:
            raise _refuse(i, name, _("max_length must be a whole number from 1 to 4000."))
        maximum = item.get("max")
        if maximum is not None and (not isinstance(maximum, int) or isinstance(maximum, bool)):
            raise _refuse(i, name, _("max must be a whole number."))
        defs.append(FieldDef(
            name=name, label=label, type=kind, required=bool(item.get("required")),
            table=table, choices={str(k).strip(): str(v).strip() for k, v in choices.items()},
            max_length=max_length, max=maximum, past=bool(item.get("past")),
            not_before=str(item.get("not_before") or ""),
            gbt=item.get("gbt") if isinstance(item.get("gbt"), int) else None,
            help=str(item.get("help") or "")))
    dates = {d.name for d in defs if d.type == FieldType.DATE}
    for i, d in enumerate(defs):
        if d.not_before and (d.type != FieldType.DATE or d.not_before not in dates):
            raise _refuse(i, d.name, _("not_before must name another date field."))
    return defs


def definitions_of(category) -> list[FieldDef]:
    """The category's definitions (already checked when they were saved)."""
    return parse_definitions(category.field_definitions or [])


# --- values -------------------------------------------------------------------------------------

def _empty(value) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or value == []


def _clean_one(d: FieldDef, value, today: dt.date):
    """The normalised value, or raise ValueError with the message for the user."""
    if d.type == FieldType.TEXT:
        text = str(value).strip()
        if len(text) > d.max_length:
            raise ValueError(_("At most %(n)d characters (this has %(len)d).")
                             % {"n": d.max_length, "len": len(text)})
        return text
    if d.type == FieldType.DATE:
        if isinstance(value, dt.datetime):
            value = value.date()
        if not isinstance(value, dt.date):
            try:
                value = dt.date.fromisoformat(str(value).strip())
            except ValueError:
                raise ValueError(_("Give a date as YYYY-MM-DD.")) from None
        if value.year < 1900:
            raise ValueError(_("This date is too early."))
        if d.past and value > today:
            raise ValueError(_("This date is in the future."))
        return value.isoformat()
    if d.type == FieldType.BOOL:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in TRUE:
            return True
        if text in FALSE:
            return False
        raise ValueError(_("Answer yes or no."))
    if d.type == FieldType.INT:
        if isinstance(value, bool):
            raise ValueError(_("Give a whole number."))
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError(_("Give a whole number.")) from None
        if number < 0:
            raise ValueError(_("The number cannot be negative."))
        if d.max is not None and number > d.max:
            raise ValueError(_("At most %(n)d.") % {"n": d.max})
        return number
    options = d.options()
    if d.type == FieldType.CHOICE:
        code = str(value).strip()
        if code not in options:
            raise ValueError(_("Unknown code %(code)s; choose one of the listed values.")
                             % {"code": code})
        return code
    values = value if isinstance(value, list | tuple) else \
        [v for v in re.split(r"[,，、\s]+", str(value)) if v]
    picked = []
    for item in values:
        code = str(item).strip()
        if code not in options:
            raise ValueError(_("Unknown code %(code)s; choose among the listed values.")
                             % {"code": code})
        if code not in picked:
            picked.append(code)
    return [c for c in options if c in picked]  # in the table's order


def clean_details(defs: list[FieldDef], data: dict | None, *, today: dt.date | None = None,
                  ) -> dict:
    """Check every value against its definition; the dict to store (empty values dropped).

    Raises ServiceError with all problems at once, keyed `details.<name>`."""
    today = today or timezone.localdate()
    if data is not None and not isinstance(data, dict):
        raise ServiceError("invalid", field_messages={"details": [_("Details must be an object.")]})
    data = dict(data or {})
    by_name = {d.name: d for d in defs}
    problems: dict[str, list[str]] = {}
    unknown = sorted(set(data) - set(by_name))
    if unknown:
        problems["details"] = [_("Unknown fields for this category: %(names)s.")
                               % {"names": ", ".join(unknown)}]
    cleaned: dict = {}
    for d in defs:
        value = data.get(d.name)
        if _empty(value):
            if d.required:
                problems[d.key] = [_("%(label)s is required.") % {"label": d.label}]
            continue
        try:
            cleaned[d.name] = _clean_one(d, value, today)
        except ValueError as exc:
            problems[d.key] = [str(exc)]
    for d in defs:
        if d.not_before and d.name in cleaned and d.not_before in cleaned and \
                cleaned[d.name] < cleaned[d.not_before]:
            problems.setdefault(d.key, []).append(
                _("Cannot be before %(other)s.") % {"other": by_name[d.not_before].label})
    if problems:
        raise ServiceError("invalid_details", field_messages=problems)
    return cleaned


def display_rows(defs: list[FieldDef], details: dict) -> list[tuple[str, str, int | None]]:
    """[(label, shown value, GB/T field number)] for a detail page, in definition order."""
    return [(d.label, d.display(details.get(d.name)), d.gbt) for d in defs
            if not _empty(details.get(d.name))]
