"""Categories: administrators define local ones (the standard's "X" extensions) and tune the
built-in ones (visit frequency, extra local fields), never dropping a GB/T 31000 field."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from zhili.core import audit
from zhili.core.scoping import require
from zhili.core.services import ServiceError, field_error
from zhili.special.choices import HelperRole, ManagementLevel, RiskScale
from zhili.special.fields import parse_definitions
from zhili.special.models import VISIT_UNITS, SpecialCategory

CODE_RE = re.compile(r"^[a-z][a-z0-9-]{1,39}$")
EDITABLE = {"code", "name", "description", "risk_scale", "visit_days", "visit_unit",
            "team_roles", "field_definitions", "is_active", "sort", "gbt_table"}


def _visit_days(raw) -> dict[str, int]:
    if not isinstance(raw, dict):
        raise field_error("visit_days", _("Give the days between visits for every level."))
    days = {}
    for level, label in ManagementLevel.choices:
        value = raw.get(level)
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = 0
        if isinstance(value, bool) or not 1 <= number <= 366:
            raise field_error("visit_days", _("%(level)s: give a whole number of days from 1 "
                                              "to 366.") % {"level": label})
        days[level] = number
    return days


def _team_roles(raw) -> list[str]:
    roles = [str(r) for r in (raw or [])]
    unknown = [r for r in roles if r not in HelperRole.values]
    if unknown:
        raise field_error("team_roles", _("Unknown roles: %(roles)s.")
                          % {"roles": ", ".join(unknown)})
    return list(dict.fromkeys(roles))


@transaction.atomic
def save_category(*, actor, category: SpecialCategory | None, data: dict) -> SpecialCategory:
    """Create a local category or change one (built-in ones keep their code, scale and every
    GB/T 31000 field; local fields may be added to them)."""
    require(actor, SpecialCategory, "add" if category is None else "change")
    unknown = set(data) - EDITABLE
    if unknown:
        raise ServiceError("invalid", _("These fields cannot be changed here: %s")
                           % ", ".join(sorted(unknown)))
    instance = category or SpecialCategory()
    before = {k: getattr(instance, k) for k in EDITABLE} if category else {}
    problems: dict[str, list[str]] = {}

    def check(name, fn):
        if name in data:
            try:
                setattr(instance, name, fn(data[name]))
            except ServiceError as exc:
                problems.update(exc.field_messages)

    if instance.builtin:
        for locked in ("code", "risk_scale", "gbt_table"):
            if locked in data and data[locked] != getattr(instance, locked):
                problems[locked] = [_("A built-in category keeps its %(field)s.")
                                    % {"field": SpecialCategory._meta.get_field(locked)
                                       .verbose_name}]
    else:
        check("code", lambda v: _code(v, instance))
        check("gbt_table", lambda v: str(v or "").strip()[:4])
    check("name", lambda v: _text(v, "name", 60, required=True))
    check("description", lambda v: _text(v, "description", 300))
    if not instance.builtin:
        check("risk_scale", lambda v: v if v in RiskScale.values else _bad(
            "risk_scale", _("Choose a risk scale.")))
    check("visit_days", _visit_days)
    check("visit_unit", lambda v: v if v in dict(VISIT_UNITS) else _bad(
        "visit_unit", _("Choose days or working days.")))
    check("team_roles", _team_roles)
    check("field_definitions", lambda v: _definitions(v, instance))
    check("is_active", bool)
    check("sort", lambda v: max(0, min(int(v or 0), 32767)))
    if category is None:
        for required in ("code", "name", "visit_days"):
            if required not in data and required not in problems:
                problems[required] = [_("This field is required.")]
    if problems:
        raise ServiceError("invalid", field_messages=problems)
    instance.save()
    changes = {k: [before.get(k), getattr(instance, k)] for k in EDITABLE
               if before.get(k) != getattr(instance, k) and k != "field_definitions"}
    if category is None or before.get("field_definitions") != instance.field_definitions:
        changes["field_definitions"] = len(instance.field_definitions or [])
    audit.record(actor=actor, action="special.category." + ("create" if category is None
                                                            else "change"),
                 target=instance, area_code="", changes=changes)
    return instance


def _bad(name, message):
    raise field_error(name, message)


def _text(value, name: str, limit: int, required: bool = False) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise field_error(name, _("This field is required."))
    if len(text) > limit:
        raise field_error(name, _("At most %(n)d characters.") % {"n": limit})
    return text


def _code(value, instance) -> str:
    code = str(value or "").strip().lower()
    if not CODE_RE.match(code):
        raise field_error("code", _("Use 2–40 lower-case letters, digits and hyphens, starting "
                                    "with a letter."))
    if SpecialCategory.objects.exclude(pk=instance.pk).filter(code=code).exists():
        raise field_error("code", _("Another category has this code."))
    return code


def _definitions(value, instance) -> list[dict]:
    if isinstance(value, str):
        import json

        try:
            value = json.loads(value or "[]")
        except json.JSONDecodeError as exc:
            raise field_error("field_definitions", _("Not valid JSON: %(error)s")
                              % {"error": exc}) from None
    try:
        parse_definitions(value)
    except ServiceError as exc:
        raise ServiceError("invalid", field_messages={
            "field_definitions": exc.field_messages.get("fields", [exc.message])}) from None
    if instance.builtin:
        kept = {d["name"]: d for d in value}
        for old in instance.field_definitions or []:
            if "gbt" not in old:
                continue
            new = kept.get(old["name"])
            if new is None or any(new.get(k) != old.get(k)
                                  for k in ("type", "table", "gbt", "required")):
                raise field_error("field_definitions", _(
                    "“%(label)s” is a GB/T 31000 field of this category: it cannot be removed "
                    "or changed (add local fields beside it).") % {"label": old["label"]})
    return value
