"""Writes to organisations."""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from stdnum.cn import uscc as uscc_check
from stdnum.exceptions import ValidationError as StdnumError

from zhili.core import audit
from zhili.core.scoping import require, require_code_in_scope
from zhili.core.services import ServiceError, check_editable, field_error
from zhili.orgs.choices import PARENT_KINDS, OrgKind
from zhili.orgs.models import Organisation

FIELDS = ("name", "short_name", "kind", "area", "parent", "uscc", "address", "phone")


def clean_uscc(raw: str) -> str:
    value = (raw or "").strip().upper().replace(" ", "")
    if not value:
        return ""
    try:
        return uscc_check.validate(value)
    except StdnumError:
        raise field_error(
            "uscc", _("%(code)s is not a valid unified social credit code (GB 32100: 18 "
                      "characters with a check character).") % {"code": value}
        ) from None


def _clean(data: dict, *, actor) -> dict:
    cleaned = dict(data)
    if "name" in cleaned:
        cleaned["name"] = (cleaned["name"] or "").strip()
        if not cleaned["name"]:
            raise field_error("name", _("Give the organisation a name."))
    if "kind" in cleaned and cleaned["kind"] not in OrgKind.values:
        raise field_error("kind", _("Unknown kind of organisation."))
    if "uscc" in cleaned:
        cleaned["uscc"] = clean_uscc(cleaned["uscc"])
    area = cleaned.get("area")
    if "area" in cleaned:
        if area is None:
            raise field_error("area", _("Choose the area the organisation belongs to."))
        if not area.is_active:
            raise field_error("area", _("%(name)s is retired.") % {"name": area.name})
        require_code_in_scope(actor, area.code)
    return cleaned


def _check_parent(org: Organisation) -> None:
    allowed = PARENT_KINDS.get(org.kind)
    if org.parent is None:
        if allowed:
            raise field_error("parent", _("A %(kind)s must belong to a parent organisation.")
                              % {"kind": org.get_kind_display()})
        return
    if allowed and org.parent.kind not in allowed:
        raise field_error("parent", _("A %(kind)s cannot sit under a %(parent)s.")
                          % {"kind": org.get_kind_display(),
                             "parent": org.parent.get_kind_display()})
    if org.pk and org.parent.pk in org.descendant_ids():
        raise field_error("parent", _("An organisation cannot sit under itself."))


def _save(org: Organisation) -> None:
    try:
        with transaction.atomic():
            org.save()
    except IntegrityError:
        raise field_error("name", _("%(area)s already has an organisation called %(name)s.")
                          % {"area": org.area.name, "name": org.name}) from None


@transaction.atomic
def create_organisation(*, actor, name: str, kind: str, area, parent=None, short_name: str = "",
                        uscc: str = "", address: str = "", phone: str = "") -> Organisation:
    require(actor, Organisation, "add")
    data = _clean({"name": name, "kind": kind, "area": area, "parent": parent,
                   "short_name": short_name, "uscc": uscc, "address": address, "phone": phone},
                  actor=actor)
    org = Organisation(**data, area_code=data["area"].code)
    _check_parent(org)
    _save(org)
    audit.record(actor=actor, action="org.create", target=org,
                 changes={"name": org.name, "kind": org.kind, "area": org.area_code})
    return org


@transaction.atomic
def update_organisation(*, actor, org: Organisation, **data) -> Organisation:
    """Change an organisation; moving it is refused if the new area is outside the actor's reach."""
    require(actor, Organisation, "change")
    require_code_in_scope(actor, org.area_code)
    check_editable(data, FIELDS)
    org = Organisation.objects.select_for_update().get(pk=org.pk)
    before = audit.snapshot(org, data)
    for key, value in _clean(data, actor=actor).items():
        setattr(org, key, value)
    org.area_code = org.area.code
    _check_parent(org)
    changes = audit.diff(org, before, data)
    if not changes:
        return org
    _save(org)
    audit.record(actor=actor, action="org.update", target=org,
                 changes={k: [str(v[0]), str(v[1])] for k, v in changes.items()})
    return org


@transaction.atomic
def set_organisation_active(*, actor, org: Organisation, active: bool) -> Organisation:
    require(actor, Organisation, "change")
    require_code_in_scope(actor, org.area_code)
    org = Organisation.objects.select_for_update().get(pk=org.pk)
    if org.is_active == active:
        return org
    if not active and org.children.filter(is_active=True).exists():
        raise ServiceError("in_use", _("Close the organisations under %(name)s first.")
                           % {"name": org.name})
    org.is_active = active
    org.save(update_fields=["is_active", "updated_at"])
    audit.record(actor=actor, action="org.activate" if active else "org.close", target=org)
    return org
