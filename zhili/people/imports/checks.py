"""Checking import rows cheaply: the registry's own rules, without their per-row overhead.

`PersonChecker.check(data)` returns exactly what `validation.clean_person(data)` returns. For a
row that is fine (nearly all of a real file) it gets there on a fast path: every coded or dated
value is parsed once per distinct spelling and remembered, an ID number's check digit and
birth date are verified inline and its region code is looked up once per region (through
`pii.validate_id_number`, so the warning is the PII module's own). Anything unusual on the fast
path (a bad value, full-width digits, a 15-digit number, another document type …) sends the
row to `clean_person` itself, which produces the messages. The equivalence is a test
(tests/test_import_checks.py), so the registry's rules stay the only rules.

`AreaIndex` resolves the place column (a code, or names from any level down) against the
areas the importer reaches, loaded once per import.
"""

from __future__ import annotations

import datetime as dt
import re
from operator import mul

from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.areas.choices import AreaLevel
from zhili.areas.models import Area
from zhili.core import codes, pii
from zhili.core.scoping import get_scope
from zhili.people import codes as people_codes
from zhili.people import validation
from zhili.people.validation import WARNINGS, BadValue

_FAIL = object()
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_MOBILE = re.compile(r"1[3-9]\d{9}")
_CLEAN_TEXT = re.compile(r"\S+(?: \S+)*")  # already what validation.text() makes of it
_RESIDENT_TYPES = ("", people_codes.RESIDENT_ID, "112")
# Sex from the ID number, as clean_person derives it.
_SEX = {True: people_codes.SEX_FROM_ID["male"], False: people_codes.SEX_FROM_ID["female"]}


class PersonChecker:
    """Checks person rows for one import (one language, one day)."""

    def __init__(self, *, today: dt.date | None = None, fast: bool = True):
        self.today = today or timezone.localdate()
        self.fast = fast
        self._codes: dict[tuple[str, object], object] = {}
        self._dates: dict[object, object] = {}
        self._id_dates: dict[str, object] = {}
        self._regions: dict[str, list[str]] = {}
        self.fast_rows = 0
        self.slow_rows = 0

    def check(self, data: dict) -> tuple[dict, dict[str, list[str]]]:
        if self.fast:
            cleaned = self._fast(data)
            if cleaned is not None:
                self.fast_rows += 1
                return cleaned, {}
        self.slow_rows += 1
        return validation.clean_person(data, today=self.today)

    # --- cached single values ----------------------------------------------------------------

    def _code(self, name: str, table, raw):
        key = (name, raw)
        value = self._codes.get(key)
        if value is None:
            try:
                value = validation.parse_code(table, raw)
            except BadValue:
                value = _FAIL
            except TypeError:  # an unhashable or odd cell: let the slow path say it
                return _FAIL
            self._codes[key] = value
        return value

    def _region(self, raw):
        key = ("region", raw)
        value = self._codes.get(key)
        if value is None:
            try:
                value = validation.parse_region(raw)
            except BadValue:
                value = _FAIL
            self._codes[key] = value
        return value

    def _date(self, raw):
        if raw is None or raw == "":
            return None
        if isinstance(raw, dt.datetime):
            raw = raw.date()
        if isinstance(raw, dt.date):
            if raw.year < 1900 or raw > self.today:
                return _FAIL
            return raw
        value = self._dates.get(raw)
        if value is None:
            try:
                value = validation.parse_date(raw, today=self.today)
            except BadValue:
                value = _FAIL
            self._dates[raw] = value
        return value

    def _id_birth(self, digits: str):
        value = self._id_dates.get(digits)
        if value is None:
            try:
                value = dt.date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
            except ValueError:
                value = _FAIL
            if value is not _FAIL and (value.year < 1900 or value > self.today):
                value = _FAIL
            self._id_dates[digits] = value
        return value

    def _region_warnings(self, number: str) -> list[str] | None:
        region = number[:6]
        warnings = self._regions.get(region)
        if warnings is None:
            try:
                warnings = [str(w) for w in pii.validate_id_number(number,
                                                                   today=self.today).warnings]
            except pii.InvalidIdNumber:
                return None
            self._regions[region] = warnings
        return warnings

    # --- the fast path -----------------------------------------------------------------------

    def _fast(self, data: dict) -> dict | None:  # noqa: C901 - one pass over the fields
        cleaned: dict = {}
        for name, length in validation.PERSON_TEXT_FIELDS.items():
            if name in data:
                raw = data[name]
                if raw is None or raw == "":
                    value = ""
                elif type(raw) is str and _CLEAN_TEXT.fullmatch(raw):
                    value = raw
                else:
                    value = validation.text(raw)
                if len(value) > length:
                    return None
                cleaned[name] = value
        if not cleaned.get("name"):
            return None
        known = self._codes
        for name, table in validation.PERSON_CODE_FIELDS.items():
            if name in data:
                raw = data[name]
                if raw is None or raw == "":
                    value = ""
                else:
                    value = known.get((name, raw)) if type(raw) is str else None
                    if value is None:
                        value = self._code(name, table, raw)
                if value is _FAIL:
                    return None
                cleaned[name] = value
        for name in ("native_place", "registered_place"):
            if name in data:
                raw = data[name]
                value = "" if raw is None or raw == "" else self._region(raw)
                if value is _FAIL:
                    return None
                cleaned[name] = value
        if "phone" in data:
            raw = data["phone"]
            if raw is None or raw == "":
                cleaned["phone"] = ""
            elif type(raw) is str and _MOBILE.fullmatch(raw):
                cleaned["phone"] = raw
            else:
                try:
                    cleaned["phone"] = validation.clean_phone(raw)
                except BadValue:
                    return None
        for name, low, high in (("lat", -90, 90), ("lng", -180, 180)):
            if name in data:
                try:
                    cleaned[name] = validation.parse_decimal(data[name], low=low, high=high,
                                                             places=7)
                except BadValue:
                    return None
        if "house_relation" in data:
            return None  # not an import column; the registry's check decides

        raw_type = data.get("id_type")
        id_type = "" if raw_type is None or raw_type == "" else \
            self._code("id_type", people_codes.IdType, raw_type)
        if id_type is _FAIL:
            return None
        id_type = id_type or people_codes.RESIDENT_ID
        cleaned["id_type"] = id_type
        born_from_id = sex_from_id = None
        warnings: list[str] = []
        if "id_number" in data:
            raw = data["id_number"]
            if raw is None or raw == "":
                cleaned["id_number"] = ""
            elif id_type not in _RESIDENT_TYPES:
                return None  # another document: rare, the registry's check handles it
            else:
                if type(raw) is not str or len(raw) != 18 or not raw.isascii() or \
                        not raw[:17].isdigit():
                    return None
                if _ID_CHECK[sum(map(mul, map(int, raw[:17]), _ID_WEIGHTS)) % 11] != raw[17]:
                    return None
                born_from_id = self._id_birth(raw[6:14])
                if born_from_id is _FAIL:
                    return None
                region = self._region_warnings(raw)
                if region is None:
                    return None
                warnings.extend(region)
                sex_from_id = _SEX[int(raw[16]) % 2 == 1]
                cleaned["id_number"] = raw

        if "sex" in data or sex_from_id is not None:
            raw = data.get("sex")
            sex = "" if raw is None or raw == "" else self._code("sex", people_codes.Sex, raw)
            if sex is _FAIL:
                return None
            if sex_from_id is not None:
                if sex in ("1", "2") and sex != sex_from_id:
                    return None
                if not sex or sex in ("0", "9"):
                    sex = sex_from_id
            cleaned["sex"] = sex
        if "birth_date" in data or born_from_id is not None:
            born = self._date(data.get("birth_date"))
            if born is _FAIL:
                return None
            if born_from_id is not None:
                if born and born != born_from_id:
                    return None
                born = born_from_id
            cleaned["birth_date"] = born
        cleaned[WARNINGS] = warnings
        return cleaned


# --- places ----------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"\s*[/／>＞\\|,，、]\s*|\s+")


class AreaIndex:
    """The villages/communities and grids an importer reaches, by code and by name path."""

    AMBIGUOUS = object()

    def __init__(self, actor):
        self.scope = get_scope(actor)
        self.by_code: dict[str, tuple] = {}
        self.by_path: dict[str, object] = {}
        self._seen: dict[str, tuple] = {}
        # Every code of the tree (about 15,000 for a city), to say why a code is refused.
        self._all: dict[str, tuple[str, int]] | None = None
        if Area.objects.count() <= 200_000:
            self._all = {code: (name, level) for code, name, level in
                         Area.objects.values_list("code", "name", "level")}
        places = list(Area.objects.in_scope(actor).filter(level__gte=AreaLevel.VILLAGE)
                      .values_list("id", "code", "name", "level", "parent_id", "status"))
        # Names up the tree, also above the importer's reach (a path may start at the county).
        nodes = {pk: (name, parent) for pk, _c, name, _l, parent, _s in places}
        nodes.update({pk: (name, parent) for pk, name, parent in Area.objects.filter(
            level__lt=AreaLevel.VILLAGE).values_list("id", "name", "parent_id")})
        missing = {parent for _name, parent in nodes.values() if parent and parent not in nodes}
        while missing:
            found = {pk: (name, parent) for pk, name, parent in Area.objects.filter(
                pk__in=missing).values_list("id", "name", "parent_id")}
            nodes.update(found)
            missing = {parent for _name, parent in found.values()
                       if parent and parent not in nodes}
        for pk, code, name, level, parent, status in places:
            entry = (pk, code, name, level, status == "active")
            self.by_code[code] = entry
            names = [name]
            seen_ids = {pk}
            while parent is not None and parent in nodes and parent not in seen_ids:
                seen_ids.add(parent)
                parent_name, parent = nodes[parent]
                names.append(parent_name)
            names.reverse()
            for start in range(len(names)):
                tail = names[start:]
                for key in ("/".join(tail), "".join(tail)):
                    key = _path_key(key)
                    known = self.by_path.get(key)
                    if known is None:
                        self.by_path[key] = entry
                    elif known is not entry:
                        self.by_path[key] = self.AMBIGUOUS

    def resolve(self, raw) -> tuple[tuple | None, str | None]:
        """((id, code, name, level, active), None) or (None, message)."""
        if type(raw) is str:  # a file names few places, many times
            known = self._seen.get(raw)
            if known is None:
                known = self._seen[raw] = self._resolve(raw)
            return known
        return self._resolve(raw)

    def _resolve(self, raw) -> tuple[tuple | None, str | None]:
        text = validation.text(raw)
        if not text:
            return None, _("Give the grid or village/community (its code or its names).")
        if text.isdigit():
            try:
                code = codes.normalize(text)
            except codes.CodeError as exc:
                return None, str(exc)
            entry = self.by_code.get(code)
            if entry is None:
                return None, self._missing(code, text)
        else:
            entry = self.by_path.get(_path_key(text))
            if entry is self.AMBIGUOUS:
                return None, _("Several areas are called %(name)s: write the names from the "
                               "town down, e.g. 金沙街道/东市社区/第1网格, or the code.") % {
                    "name": text}
            if entry is None:
                return None, _("No grid or village/community called %(name)s within your area "
                               "of responsibility: check the names (from the town or county "
                               "down, separated by /) or give the code.") % {"name": text}
        pk, code, name, level, active = entry
        if level < AreaLevel.VILLAGE:  # pragma: no cover - only villages and grids are loaded
            return None, _("Choose a grid or a village/community: %(name)s is a larger area.") \
                % {"name": name}
        if not active:
            return None, _("%(name)s is retired.") % {"name": name}
        return entry, None

    def _missing(self, code: str, text: str) -> str:
        """Why a code is not one of the importer's villages or grids. Answered from the tree
        loaded up front: rows are checked in a thread that does not touch the database."""
        if self._all is None:
            return _("There is no grid or village/community with the code %(code)s within "
                     "your area of responsibility.") % {"code": text}
        area = self._all.get(code)
        if area is None:
            return _("There is no area with the code %(code)s.") % {"code": text}
        if area[1] < AreaLevel.VILLAGE:
            return _("Choose a grid or a village/community: %(name)s is a larger area.") % {
                "name": area[0]}
        return _("Area %(code)s is outside your area of responsibility.") % {"code": text}


def _path_key(text: str) -> str:
    parts = [p for p in _SEPARATORS.split(str(text).strip()) if p]
    return "/".join(parts) if len(parts) > 1 else "".join(parts)
