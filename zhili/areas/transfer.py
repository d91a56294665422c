"""Import and export of the area tree as CSV (UTF-8/GB18030) or XLSX.

Import is all-or-nothing: every row is checked first (parent known, code extends it, level
right, inside the importer's reach), and a file with any bad row writes nothing and returns the
row-level errors. A dry run stops after the checks.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.areas import services
from zhili.areas.choices import AreaLevel, CommunityType, UrbanRural
from zhili.areas.models import Area
from zhili.core import audit, codes, tabular
from zhili.core.jobs import job_handler
from zhili.core.scoping import get_scope
from zhili.core.services import ServiceError

COLUMNS = ["code", "name", "level", "parent_code", "urban_rural", "community_type",
           "center_lng", "center_lat", "valid_from", "status"]
ALIASES = {
    "代码": "code", "区划代码": "code", "编码": "code", "名称": "name", "层级": "level",
    "级别": "level", "上级代码": "parent_code", "上级编码": "parent_code",
    "城乡分类": "urban_rural", "城乡分类代码": "urban_rural", "社区类型": "community_type",
    "中心经度": "center_lng", "经度": "center_lng", "中心纬度": "center_lat", "纬度": "center_lat",
    "启用日期": "valid_from", "状态": "status",
}
LEVEL_WORDS = {
    "province": 0, "省": 0, "city": 1, "市": 1, "county": 2, "县": 2, "区": 2, "县/区": 2,
    "town": 3, "镇": 3, "街道": 3, "乡": 3, "镇/街道": 3, "village": 4, "村": 4, "社区": 4,
    "村/社区": 4, "grid": 5, "网格": 5,
}
COMMUNITY_WORDS = {
    **{value: value for value in CommunityType.values},
    "新建住宅小区": "new_estate", "老旧小区": "old_estate", "拆迁安置小区": "resettlement",
    "外来人员集中居住区": "migrant", "其他": "other",
}
UPDATABLE = ("name", "urban_rural", "community_type", "center_lng", "center_lat")


@dataclass
class Plan:
    creates: list[dict] = field(default_factory=list)
    updates: list[tuple[Area, dict, int]] = field(default_factory=list)
    unchanged: int = 0
    errors: list[dict] = field(default_factory=list)

    def error(self, row: int, column: str, message: str) -> None:
        self.errors.append({"row": row, "column": column, "message": str(message)})


def _parse_level(raw: str) -> int | None:
    raw = raw.strip().lower()
    if raw.isdigit() and int(raw) in AreaLevel.values:
        return int(raw)
    return LEVEL_WORDS.get(raw)


def plan_import(table: tabular.Table, *, actor) -> Plan:
    """Check every row against the database and the rest of the file; write nothing."""
    plan = Plan()
    scope = get_scope(actor)
    parsed = []
    seen: dict[str, int] = {}
    for number, row in table.rows:
        try:
            code = codes.normalize(row.get("code", ""))
        except codes.CodeError as exc:
            plan.error(number, "code", exc)
            continue
        level = _parse_level(row.get("level", ""))
        if level is None:
            plan.error(number, "level", _("Unknown level %(v)r (use city, county, town, village "
                                          "or grid).") % {"v": row.get("level", "")})
            continue
        if code in seen:
            plan.error(number, "code", _("Code %(code)s already appears on row %(row)d.")
                       % {"code": codes.display(code, level), "row": seen[code]})
            continue
        seen[code] = number
        parent_raw = row.get("parent_code", "").strip()
        try:
            parent_code = codes.normalize(parent_raw) if parent_raw else None
        except codes.CodeError as exc:
            plan.error(number, "parent_code", exc)
            continue
        community = row.get("community_type", "").strip()
        if community and community not in COMMUNITY_WORDS:
            plan.error(number, "community_type", _("Unknown community type %(v)r.")
                       % {"v": community})
            continue
        urban_rural = row.get("urban_rural", "").strip()
        if urban_rural and urban_rural not in UrbanRural.values:
            plan.error(number, "urban_rural", _("Urban-rural class must be one of %(codes)s.")
                       % {"codes": ", ".join(UrbanRural.values)})
            continue
        parsed.append((number, {
            "code": code, "level": level, "parent_code": parent_code,
            "name": row.get("name", "").strip(), "urban_rural": urban_rural,
            "community_type": COMMUNITY_WORDS.get(community, ""),
            "center_lng": row.get("center_lng", "").strip() or None,
            "center_lat": row.get("center_lat", "").strip() or None,
        }))
    existing = {a.code: a for a in Area.objects.filter(code__in=[r["code"] for _, r in parsed])}
    parent_codes = {r["parent_code"] for _, r in parsed if r["parent_code"]}
    parents = {a.code: a for a in Area.objects.filter(code__in=parent_codes)}
    planned: dict[str, int] = {}  # code → level, for parents created earlier in the file
    for number, row in sorted(parsed, key=lambda item: item[1]["level"]):
        if not row["name"]:
            plan.error(number, "name", _("The name is empty."))
            continue
        current = existing.get(row["code"])
        if current is not None:
            _plan_update(plan, number, row, current, scope)
            continue
        parent_code = row["parent_code"]
        parent_level = parents[parent_code].level if parent_code in parents else \
            planned.get(parent_code)
        if parent_code is None or parent_level is None:
            plan.error(number, "parent_code", _("Parent %(code)s is neither in the system nor "
                                                "earlier in the file.") % {"code": parent_raw_of(
                                                    parent_code)})
            continue
        try:
            codes.check_child_code(row["code"], rank=row["level"], parent_code=parent_code,
                                   parent_rank=parent_level)
        except codes.CodeError as exc:
            plan.error(number, "code", exc)
            continue
        if not scope.covers_code(parent_code):
            plan.error(number, "parent_code", _("This area is outside your area of "
                                                "responsibility."))
            continue
        if row["community_type"] and row["level"] != AreaLevel.VILLAGE:
            plan.error(number, "community_type",
                       _("Only a village or community has a community type."))
            continue
        planned[row["code"]] = row["level"]
        plan.creates.append({**row, "_row": number})
    return plan


def parent_raw_of(code: str | None) -> str:
    return code.rstrip("0") if code else "—"


def _plan_update(plan: Plan, number: int, row: dict, current: Area, scope) -> None:
    if current.level != row["level"]:
        plan.error(number, "level", _("%(code)s exists as %(level)s; the level cannot change by "
                                      "import.") % {"code": current.short_code,
                                                    "level": current.get_level_display()})
        return
    if row["parent_code"] and current.parent and row["parent_code"] != current.parent.code:
        plan.error(number, "parent_code", _("%(code)s sits under %(parent)s; move areas with the "
                                            "recode action, not by import.")
                   % {"code": current.short_code, "parent": current.parent.short_code})
        return
    if not scope.covers_code(current.code):
        plan.error(number, "code", _("This area is outside your area of responsibility."))
        return
    changes = {}
    for key in UPDATABLE:
        new = row.get(key)
        old = getattr(current, key)
        if key.startswith("center_"):
            if new is None:
                continue
            old = None if old is None else str(old)
        if new not in (None, "") and str(new) != (str(old) if old is not None else ""):
            changes[key] = new
    if changes:
        plan.updates.append((current, changes, number))
    else:
        plan.unchanged += 1


def summary(plan: Plan, *, dry_run: bool) -> dict:
    return {
        "dry_run": dry_run, "created": len(plan.creates), "updated": len(plan.updates),
        "unchanged": plan.unchanged, "errors": plan.errors[:1000],
        "error_count": len(plan.errors),
    }


@transaction.atomic
def apply_plan(plan: Plan, *, actor, progress=None) -> None:
    """Write a checked plan; any refusal rolls the whole import back."""
    created: dict[str, Area] = {}
    for row in plan.creates:
        parent = created.get(row["parent_code"]) or Area.objects.get(code=row["parent_code"])
        try:
            created[row["code"]] = services.create_area(
                actor=actor, parent=parent, code=row["code"], name=row["name"],
                urban_rural=row["urban_rural"], community_type=row["community_type"],
                center_lng=row["center_lng"], center_lat=row["center_lat"],
            )
        except ServiceError as exc:
            raise ImportRefused(row["_row"], exc) from None
        if progress:
            progress.advance()
    for area, changes, number in plan.updates:
        try:
            services.update_area(actor=actor, area=area, **changes)
        except ServiceError as exc:
            raise ImportRefused(number, exc) from None
        if progress:
            progress.advance()


class ImportRefused(Exception):
    def __init__(self, row: int, exc: ServiceError):
        self.row, self.exc = row, exc
        self.message = _("Row %(row)d: %(msg)s") % {"row": row, "msg": exc.message}
        super().__init__(self.message)


@job_handler("areas.import")
def run_import(job, progress) -> dict:
    actor = job.created_by
    dry_run = bool(job.params.get("dry_run"))
    try:
        table = tabular.read_table(job.input_file.read(), job.input_file.name,
                                   required=["code", "name", "level"], aliases=ALIASES)
    except tabular.TableError as exc:
        return {"dry_run": dry_run, "file_error": str(exc), "errors": [], "error_count": 1}
    plan = plan_import(table, actor=actor)
    result = summary(plan, dry_run=dry_run)
    result["encoding"] = table.encoding
    if plan.errors or dry_run:
        if not dry_run:
            result["created"] = result["updated"] = 0
            result["refused"] = True
        return result
    progress.total(len(plan.creates) + len(plan.updates))
    try:
        apply_plan(plan, actor=actor, progress=progress)
    except ImportRefused as exc:
        return {**result, "created": 0, "updated": 0, "refused": True, "error_count": 1,
                "errors": [{"row": exc.row, "column": next(iter(exc.exc.field_messages), ""),
                            "message": exc.exc.message}]}
    audit.record(actor=actor, action="area.import", changes={
        "file": job.input_file.name, "created": result["created"],
        "updated": result["updated"]})
    return result


def export_rows(queryset):
    parent_codes = dict(Area.objects.filter(
        pk__in=queryset.exclude(parent=None).values("parent_id")).values_list("pk", "code"))
    for area in queryset.order_by("code").iterator(chunk_size=2000):
        yield [
            codes.display(area.code, area.level), area.name, AreaLevel(area.level).name.lower(),
            codes.display(parent_codes[area.parent_id], area.level - 1)
            if area.parent_id in parent_codes else "",
            area.urban_rural, area.community_type,
            "" if area.center_lng is None else str(area.center_lng),
            "" if area.center_lat is None else str(area.center_lat),
            area.valid_from.isoformat(), area.status,
        ]


def export_tree(*, actor, queryset, fmt: str) -> tuple[bytes, str, str]:
    """(content, filename, content type) of the areas in `queryset` (already restricted)."""
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    rows = export_rows(queryset)
    footer = _("Exported by %(user)s at %(time)s") % {"user": actor.username, "time": stamp}
    if fmt == "xlsx":
        content = tabular.write_xlsx(COLUMNS, rows, sheet="areas", footer=None)
        name, ctype = f"areas-{stamp}.xlsx", \
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        encoding = "gb18030" if fmt == "csv-gb18030" else "utf-8"
        content = tabular.write_csv(COLUMNS, rows, encoding=encoding)
        name, ctype = f"areas-{stamp}.csv", f"text/csv; charset={encoding}"
    audit.record(actor=actor, action="area.export", changes={"format": fmt,
                                                              "rows": queryset.count(),
                                                              "note": footer})
    return content, name, ctype
