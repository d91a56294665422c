"""Writes to the area tree. Views, the API, the importer and the demo builder all call these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.areas.choices import AreaChangeKind, AreaLevel, AreaStatus
from zhili.areas.geo import clean_center, clean_polygon
from zhili.areas.models import Area, AreaChange, Rezoning
from zhili.core import audit, codes
from zhili.core.rezoning import rows_in_subtree
from zhili.core.scoping import get_scope, require, require_code_in_scope
from zhili.core.services import ServiceError, check_editable, field_error

EDITABLE_FIELDS = (
    "name", "urban_rural", "community_type", "polygon", "center_lng", "center_lat",
    "valid_from", "geometry_synthetic",
)


def _clean_name(name) -> str:
    name = (name or "").strip()
    if not name:
        raise field_error("name", _("Give the area a name."))
    if len(name) > 100:
        raise field_error("name", _("A name has at most 100 characters."))
    return name


def _check_code_free(code: str, field_name: str = "code") -> None:
    if Area.objects.filter(code=code).exists():
        existing = Area.objects.get(code=code)
        raise field_error(
            field_name,
            _("Code %(code)s is already used by %(name)s.") % {
                "code": codes.display(code, existing.level), "name": existing.name},
        )


def _clean_code(raw, *, level: int, parent: Area | None, field_name: str = "code") -> str:
    try:
        code = codes.normalize(raw)
        codes.check_child_code(
            code, rank=level,
            parent_code=parent.code if parent else None,
            parent_rank=parent.level if parent else None,
        )
    except codes.CodeError as exc:
        raise field_error(field_name, str(exc)) from None
    return code


def _clean_attributes(level: int, data: dict) -> dict:
    cleaned = dict(data)
    if "name" in cleaned:
        cleaned["name"] = _clean_name(cleaned["name"])
    if cleaned.get("community_type") and level != AreaLevel.VILLAGE:
        raise field_error(
            "community_type", _("Only a village or community has a community type.")
        )
    if "polygon" in cleaned:
        cleaned["polygon"] = clean_polygon(cleaned["polygon"])
    if "center_lng" in cleaned or "center_lat" in cleaned:
        cleaned["center_lng"], cleaned["center_lat"] = clean_center(
            cleaned.get("center_lng"), cleaned.get("center_lat")
        )
    for key in ("urban_rural", "community_type"):
        if key in cleaned and cleaned[key] is None:
            cleaned[key] = ""
    return cleaned


def next_free_code(parent: Area, *, start: int = 1) -> str:
    """The lowest unused code one level below `parent`, from the number `start` on."""
    level = parent.level + 1
    width = codes.LEVEL_BY_RANK[level].digits - len(parent.prefix)
    taken = {
        int(code[len(parent.prefix): len(parent.prefix) + width])
        for code in Area.objects.filter(codes.range_q("code", parent.prefix), level=level)
        .values_list("code", flat=True)
    }
    for number in [*range(start, 10**width), *range(1, start)]:
        if number not in taken:
            return codes.pad(parent.prefix + str(number).zfill(width))
    raise field_error("code", _("No free code is left under %(name)s.") % {"name": parent.name})


@transaction.atomic
def create_area(*, actor, parent: Area | None, name: str, code: str | None = None,
                urban_rural: str = "", community_type: str = "", polygon=None,
                center_lng=None, center_lat=None, valid_from: dt.date | None = None,
                geometry_synthetic: bool = False, level: int | None = None) -> Area:
    """Add an area under `parent` (a root area only for a system-wide administrator).

    A grid given no code gets the next free number under its village.
    """
    require(actor, Area, "add")
    if parent is None:
        if not get_scope(actor).unrestricted:
            raise field_error("parent", _("Only a system administrator can add a top-level area."))
        if level is None:
            raise field_error("level", _("Choose the level of a top-level area."))
    else:
        require_code_in_scope(actor, parent.code, field_name="parent")
        if not parent.is_active:
            raise field_error("parent", _("%(name)s is retired; no new areas can go under it.")
                              % {"name": parent.name})
        if parent.level >= AreaLevel.GRID:
            raise field_error("parent", _("A grid cannot have areas under it."))
        level = parent.level + 1
    if not code and parent is not None and level == AreaLevel.GRID:
        clean_code = next_free_code(parent)
    elif not code:
        raise field_error("code", _("Give the area its statistical division code."))
    else:
        clean_code = _clean_code(code, level=level, parent=parent)
    _check_code_free(clean_code)
    attrs = _clean_attributes(level, {
        "name": name, "urban_rural": urban_rural, "community_type": community_type,
        "polygon": polygon, "center_lng": center_lng, "center_lat": center_lat,
    })
    boundary = attrs.pop("polygon")
    area = Area(code=clean_code, level=level, parent=parent,
                valid_from=valid_from or timezone.localdate(),
                geometry_synthetic=geometry_synthetic, **attrs)
    area.set_polygon(boundary)
    try:
        with transaction.atomic():
            area.save()
    except IntegrityError:
        raise field_error("code", _("Code %(code)s was taken a moment ago; try again.")
                          % {"code": clean_code}) from None
    AreaChange.objects.create(area=area, kind=AreaChangeKind.CREATED, new_code=area.code,
                              effective_on=area.valid_from, actor=actor)
    audit.record(actor=actor, action="area.create", target=area,
                 changes={"code": area.code, "name": area.name, "level": area.level})
    return area


@transaction.atomic
def update_area(*, actor, area: Area, **data) -> Area:
    """Change an area's descriptive attributes (not its code or place in the tree)."""
    require(actor, Area, "change")
    require_code_in_scope(actor, area.code)
    check_editable(data, EDITABLE_FIELDS)
    area = Area.objects.select_for_update().get(pk=area.pk)
    before = audit.snapshot(area, data)
    for key, value in _clean_attributes(area.level, data).items():
        if key == "polygon":
            area.set_polygon(value)
        else:
            setattr(area, key, value)
    changes = audit.diff(area, before, data)
    if not changes:
        return area
    area.save()
    if "polygon" in changes:  # the audit row notes the change, not the coordinates
        changes["polygon"] = "changed"
    AreaChange.objects.create(area=area, kind=AreaChangeKind.UPDATED, actor=actor,
                              effective_on=timezone.localdate(), old_code=area.code,
                              new_code=area.code, note=", ".join(sorted(changes)))
    audit.record(actor=actor, action="area.update", target=area, changes=changes)
    return area


def _move_subtree(area: Area, *, new_parent: Area, new_code: str, change: AreaChange) -> None:
    """Recode `area` and its descendants to `new_code`; queue the rewrite of live rows."""
    old_prefix = area.prefix
    new_prefix = codes.prefix_of(new_code, area.level)
    if old_prefix == new_prefix:
        return
    Area.objects.filter(codes.range_q("code", old_prefix)).update(
        code=Concat(Value(new_prefix), Substr("code", len(old_prefix) + 1))
    )
    Area.objects.filter(pk=area.pk).update(parent=new_parent)
    Rezoning.objects.create(change=change, old_prefix=old_prefix, new_prefix=new_prefix)


def _ensure_range_empty(prefix: str, field_name: str) -> None:
    if Area.objects.filter(codes.range_q("code", prefix)).exists():
        raise field_error(field_name, _("Code %(code)s is already in use.") % {"code": prefix})


def _schedule_rezoning() -> None:
    from zhili.areas.tasks import process_rezonings

    transaction.on_commit(lambda: process_rezonings.enqueue())


def _effective(on: dt.date | None) -> dt.date:
    return on or timezone.localdate()


@transaction.atomic
def recode_area(*, actor, area: Area, new_code: str, new_parent: Area | None = None,
                effective_on: dt.date | None = None, note: str = "") -> Area:
    """Give an area a new code (and possibly a new parent at the same level).

    Its descendants follow; live rows in every module are rewritten by a background job.
    """
    require(actor, Area, "merge")
    require_code_in_scope(actor, area.code)
    area = Area.objects.select_for_update().get(pk=area.pk)
    if not area.is_active:
        raise field_error("new_code", _("A retired area cannot be recoded."))
    parent = new_parent or area.parent
    if parent is None:
        raise field_error("new_code", _("The top-level area cannot be recoded here."))
    require_code_in_scope(actor, parent.code, field_name="new_parent")
    if parent.level != area.level - 1:
        raise field_error("new_parent", _("The new parent must be one level above the area."))
    code = _clean_code(new_code, level=area.level, parent=parent, field_name="new_code")
    if code == area.code:
        raise field_error("new_code", _("That is already the area's code."))
    _ensure_range_empty(codes.prefix_of(code, area.level), "new_code")
    old_code = area.code
    change = AreaChange.objects.create(
        area=area, kind=AreaChangeKind.MOVED if parent != area.parent else AreaChangeKind.RECODED,
        old_code=old_code, new_code=code, effective_on=_effective(effective_on), actor=actor,
        note=note, related=parent if parent != area.parent else None,
    )
    _move_subtree(area, new_parent=parent, new_code=code, change=change)
    area.refresh_from_db()
    audit.record(actor=actor, action="area.recode", target=area,
                 changes={"code": [old_code, area.code], "parent": parent.code})
    _schedule_rezoning()
    return area


def _retire(area: Area, *, actor, effective_on: dt.date, successor: Area | None,
            kind: str, note: str) -> None:
    area.status = AreaStatus.RETIRED
    area.valid_to = effective_on
    area.successor = successor
    area.save(update_fields=["status", "valid_to", "successor", "updated_at"])
    AreaChange.objects.create(area=area, kind=kind, old_code=area.code,
                              new_code=successor.code if successor else "", related=successor,
                              effective_on=effective_on, note=note, actor=actor)


@transaction.atomic
def retire_area(*, actor, area: Area, effective_on: dt.date | None = None, note: str = "") -> Area:
    """Retire an empty area. Refused while children or any module's rows still point at it."""
    require(actor, Area, "merge")
    require_code_in_scope(actor, area.code)
    area = Area.objects.select_for_update().get(pk=area.pk)
    if not area.is_active:
        raise ServiceError("invalid", _("%(name)s is already retired.") % {"name": area.name})
    if area.parent_id is None:
        raise ServiceError("invalid", _("The top-level area cannot be retired."))
    children = area.children.filter(status=AreaStatus.ACTIVE).count()
    if children:
        raise ServiceError(
            "in_use", _("%(name)s still has %(n)d active sub-areas: merge or retire them first.")
            % {"name": area.name, "n": children},
        )
    in_use = rows_in_subtree(area.prefix)
    if in_use:
        listing = ", ".join(f"{label} {count}" for label, count in in_use.items())
        raise ServiceError(
            "in_use", _("%(name)s is still in use (%(rows)s): move or close these first, or merge "
                        "the area into another one.") % {"name": area.name, "rows": listing},
        )
    _retire(area, actor=actor, effective_on=_effective(effective_on), successor=None,
            kind=AreaChangeKind.RETIRED, note=note)
    audit.record(actor=actor, action="area.retire", target=area, changes={"note": note})
    return area


def _free_code_like(parent: Area, wanted_code: str, reserved: set[str]) -> str:
    """`wanted_code` re-based under `parent` if free, else the next free one after it."""
    level = parent.level + 1
    width = codes.LEVEL_BY_RANK[level].digits - len(parent.prefix)
    own = int(wanted_code[codes.LEVEL_BY_RANK[level].digits - width: codes.LEVEL_BY_RANK[level]
                          .digits])
    for number in [*range(own, 10**width), *range(1, own)]:
        candidate = codes.pad(parent.prefix + str(number).zfill(width))
        if candidate not in reserved and not Area.objects.filter(
                codes.range_q("code", codes.prefix_of(candidate, level))).exists():
            return candidate
    raise field_error("target", _("No free code is left under %(name)s.") % {"name": parent.name})


@transaction.atomic
def merge_areas(*, actor, source: Area, target: Area, effective_on: dt.date | None = None,
                note: str = "") -> Area:
    """Merge `source` into `target` (same level): children move under the target (keeping their
    own digits where free), live rows follow, and the source is retired with the target as
    its successor."""
    require(actor, Area, "merge")
    require_code_in_scope(actor, source.code, field_name="source")
    require_code_in_scope(actor, target.code, field_name="target")
    source = Area.objects.select_for_update().get(pk=source.pk)
    target = Area.objects.select_for_update().get(pk=target.pk)
    if source.pk == target.pk:
        raise field_error("target", _("An area cannot be merged into itself."))
    if source.level != target.level:
        raise field_error("target", _("Only areas of the same level can be merged."))
    if not (source.is_active and target.is_active):
        raise field_error("target", _("Both areas must be active."))
    when = _effective(effective_on)
    change = AreaChange.objects.create(
        area=source, kind=AreaChangeKind.MERGED, old_code=source.code, new_code=target.code,
        related=target, effective_on=when, note=note, actor=actor,
    )
    reserved: set[str] = set()
    moved = []
    for child in source.children.filter(status=AreaStatus.ACTIVE).order_by("code"):
        new_code = _free_code_like(target, child.code, reserved)
        reserved.add(new_code)
        moved.append([child.code, new_code])
        _move_subtree(child, new_parent=target, new_code=new_code, change=change)
    # Rows attached to the source itself (not to a child) go to the target.
    Rezoning.objects.create(change=change, old_prefix=source.prefix, new_prefix=target.prefix,
                            old_area_id=source.pk, new_area_id=target.pk)
    source.refresh_from_db()
    _retire(source, actor=actor, effective_on=when, successor=target,
            kind=AreaChangeKind.MERGED, note=note)
    audit.record(actor=actor, action="area.merge", target=source,
                 changes={"into": target.code, "children": moved, "note": note})
    _schedule_rezoning()
    return target


@dataclass
class SplitPart:
    name: str
    code: str
    child_ids: list[int] = field(default_factory=list)


@transaction.atomic
def split_area(*, actor, source: Area, parts: list[SplitPart],
               effective_on: dt.date | None = None, note: str = "") -> list[Area]:
    """Split `source` into new sibling areas, each taking the listed children.

    Rows attached to the source itself go to the first part; the source is retired.
    """
    require(actor, Area, "merge")
    require_code_in_scope(actor, source.code, field_name="source")
    source = Area.objects.select_for_update().get(pk=source.pk)
    if not source.is_active or source.parent is None:
        raise ServiceError("invalid", _("Only an active area below the top level can be split."))
    if len(parts) < 2:
        raise field_error("parts", _("A split needs at least two new areas."))
    children = {c.pk: c for c in source.children.filter(status=AreaStatus.ACTIVE)}
    assigned = [pk for part in parts for pk in part.child_ids]
    if sorted(assigned) != sorted(children) or len(assigned) != len(set(assigned)):
        raise field_error("parts", _("Every sub-area of %(name)s must go to exactly one new area.")
                          % {"name": source.name})
    when = _effective(effective_on)
    change = AreaChange.objects.create(area=source, kind=AreaChangeKind.SPLIT,
                                       old_code=source.code, effective_on=when, note=note,
                                       actor=actor)
    created = []
    for index, part in enumerate(parts):
        try:
            new_area = create_area(
                actor=actor, parent=source.parent, name=part.name, code=part.code,
                urban_rural=source.urban_rural, community_type=source.community_type,
                valid_from=when,
            )
        except ServiceError as exc:
            raise ServiceError(exc.code, field_messages={
                f"parts.{index}.{k}": v for k, v in exc.field_messages.items()}) from None
        created.append(new_area)
        reserved: set[str] = set()
        for pk in part.child_ids:
            child = children[pk]
            new_code = _free_code_like(new_area, child.code, reserved)
            reserved.add(new_code)
            _move_subtree(child, new_parent=new_area, new_code=new_code, change=change)
    Rezoning.objects.create(change=change, old_prefix=source.prefix,
                            new_prefix=created[0].prefix, old_area_id=source.pk,
                            new_area_id=created[0].pk)
    source.refresh_from_db()
    _retire(source, actor=actor, effective_on=when, successor=created[0],
            kind=AreaChangeKind.SPLIT, note=note)
    audit.record(actor=actor, action="area.split", target=source,
                 changes={"into": [a.code for a in created], "note": note})
    _schedule_rezoning()
    return created


def process_pending_rezonings() -> int:
    """Rewrite live rows for every pending re-zoning, oldest first. Safe to re-run."""
    from zhili.core.rezoning import repoint_area_fk, rewrite_prefix

    done = 0
    for item in Rezoning.objects.filter(status=Rezoning.Status.PENDING).order_by("id"):
        try:
            moved = rewrite_prefix(item.old_prefix, item.new_prefix)
            if item.old_area_id and item.new_area_id:
                with transaction.atomic():
                    repoint_area_fk(item.old_area_id, item.new_area_id)
        except Exception as exc:  # keep the failure visible on the record, then re-raise
            Rezoning.objects.filter(pk=item.pk).update(status=Rezoning.Status.FAILED,
                                                       error=repr(exc)[:2000])
            raise
        Rezoning.objects.filter(pk=item.pk).update(
            status=Rezoning.Status.DONE, rows_moved=item.rows_moved + moved,
            finished_at=timezone.now(),
        )
        done += 1
    return done
