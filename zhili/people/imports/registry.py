"""Import of buildings, houses (with their rental details) and units from CSV or Excel.

These registers hold thousands of rows, not millions, so each row goes through the registry's
own service (`create_building`, `update_house`, …): the same checks, encryption, history and
audit as a form. A row matching a record already registered — a building by estate and name
in its area, a house by its number in its area, a unit by its unified social credit code — is
skipped or updated, as the user chose. The whole file runs in one transaction: a dry run and a
refused strict import roll it back, so the checks are the services' real checks.
"""

from __future__ import annotations

import time
from pathlib import Path

from django.db import transaction
from django.utils.translation import gettext as _

from zhili.areas.models import Area
from zhili.core import audit
from zhili.core.scoping import can, get_scope
from zhili.core.services import ServiceError
from zhili.people import services
from zhili.people.choices import UnitKind
from zhili.people.imports import columns as cols
from zhili.people.imports.checks import AreaIndex
from zhili.people.imports.persons import (
    MAX_KEPT,
    ON_DUPLICATE,
    SKIP,
    UPDATE,
    ImportResult,
    Issue,
    VisibleProgress,
    blank_row,
    check_headers,
    max_rows,
)
from zhili.people.imports.reader import FileProblem, column_letter, open_table
from zhili.people.models import Building, House, Person, Unit

MODELS = {"buildings": Building, "houses": House, "units": Unit}
ID_NUMBER_FIELDS = ("owner_id_number", "legal_rep_id_number")
UNIT_KINDS = {
    "enterprise": UnitKind.ENTERPRISE, "企业": UnitKind.ENTERPRISE,
    "非公企业": UnitKind.ENTERPRISE, "非公有制经济组织": UnitKind.ENTERPRISE,
    "social_org": UnitKind.SOCIAL_ORG, "社会组织": UnitKind.SOCIAL_ORG,
}


class _Refused(Exception):
    pass


def _unit_kind(raw) -> str | None:
    text = str(raw or "").strip()
    if not text:
        return None
    for value, label in UnitKind.choices:
        UNIT_KINDS.setdefault(str(label).lower(), value)
    return UNIT_KINDS.get(text) or UNIT_KINDS.get(text.lower())


def import_records(kind: str, *, actor, path_or_file, fmt: str | None = None,
                   dry_run: bool = False, on_duplicate: str = SKIP, strict: bool = True,
                   progress=None, filename: str | None = None) -> ImportResult:
    """Import buildings, houses or units (`kind`); the options mean what they mean for
    `import_persons`."""
    if kind not in MODELS:
        raise ValueError(kind)
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(on_duplicate)
    model = MODELS[kind]
    for action in ("add", "change") if on_duplicate == UPDATE else ("add",):
        if not can(actor, model, action):
            raise ServiceError("forbidden", _("Your position does not allow this import."),
                               status=403)
    if not can(actor, Person, "import"):
        raise ServiceError("forbidden", _("Your position does not allow imports."), status=403)
    started = time.perf_counter()
    name = filename or (Path(path_or_file).name if isinstance(path_or_file, str | Path)
                        else getattr(path_or_file, "name", "") or "")
    result = ImportResult(kind=kind, dry_run=dry_run, strict=strict, on_duplicate=on_duplicate,
                          filename=str(name))
    progress = VisibleProgress.wrap(progress, writing=True)  # dry runs roll back too
    run = _RecordRun(kind, actor, result, progress)
    try:
        with transaction.atomic():
            run.execute(path_or_file, fmt)
            if dry_run or (strict and result.rejected):
                raise _Refused
            result.written = bool(result.created or result.updated)
            run.audit()
    except _Refused:
        result.refused = bool(not dry_run and result.rejected)
        if not dry_run:
            run.audit()
    except FileProblem as exc:
        result.file_error = str(exc)
        if not dry_run:
            run.audit()
    finally:
        run.close()
        if isinstance(progress, VisibleProgress):
            progress.close()
    result.seconds = time.perf_counter() - started
    return result


class _RecordRun:
    def __init__(self, kind: str, actor, result: ImportResult, progress):
        self.kind_key = kind
        self.kind = cols.kinds()[kind]
        self.model = MODELS[kind]
        self.actor = actor
        self.result = result
        self.progress = progress
        self.scope = get_scope(actor)
        self.table = None
        self.areas_by_id: dict[int, Area] = {}
        self.seen: dict[tuple, int] = {}

    def close(self) -> None:
        if self.table is not None:
            self.table.close()

    def execute(self, source, fmt) -> None:
        result, kind = self.result, self.kind
        self.table = table = open_table(source, filename=result.filename, fmt=fmt,
                                        find_header=lambda c: cols.recognised(kind, c))
        result.encoding = table.encoding
        result.headers = list(table.headers)
        result.notices.extend(table.notices)
        match = cols.match_headers(kind, table.headers)
        check_headers(kind, match, table.header_row)
        self.fields = match.fields
        self.where = {f: (h, column_letter(i)) for i, (f, h) in
                      enumerate(zip(match.fields, table.headers, strict=True)) if f}
        self.areas = AreaIndex(self.actor)
        if self.progress is not None:
            self.progress.total(table.estimated_rows)
        limit = max_rows()
        for number, cells in table.rows:
            if blank_row(cells):
                continue
            result.submitted += 1
            if result.submitted > limit:
                raise FileProblem(_("The file has more than %(n)d rows: split it into several "
                                    "files.") % {"n": limit})
            self._row(number, cells, table.issues.get(number) or [])
            if self.progress is not None:
                self.progress.advance()

    def _row(self, number: int, cells: list, issues) -> None:
        values = {}
        for position, name in enumerate(self.fields):
            if name and position < len(cells) and cells[position] not in (None, ""):
                values[name] = cells[position]
        errors = []
        for issue in issues:
            name = self.fields[issue.col] if 0 <= issue.col < len(self.fields) else ""
            if issue.warning:
                self._issue_list(self.result.warnings, number, name or "", issue.message)
                self.result.warning_count += 1
            else:
                errors.append((name or "", issue.message))
        for name in ID_NUMBER_FIELDS:
            raw = values.get(name)
            if isinstance(raw, float) and raw >= 1e15:
                errors.append((name, _("Excel stored this ID number as a number and lost its "
                                       "last digits: format the column as text and type the "
                                       "number again.")))
        entry, message = self.areas.resolve(values.pop("area", ""))
        if message:
            errors.append(("area", message))
        if errors:
            return self._reject(number, cells, errors)
        area = self._area(entry[0])
        try:
            with transaction.atomic():
                outcome = getattr(self, f"_{self.kind_key}")(number, area, values)
        except ServiceError as exc:
            fields = exc.field_messages or {"": [exc.message]}
            return self._reject(number, cells, [(name if name != "__all__" else "", m)
                                                for name, ms in fields.items() for m in ms])
        if outcome == "created":
            self.result.created += 1
        elif outcome == "updated":
            self.result.updated += 1
        else:
            self.result.skipped += 1
        return None

    def _area(self, pk: int) -> Area:
        area = self.areas_by_id.get(pk)
        if area is None:
            area = self.areas_by_id[pk] = Area.objects.get(pk=pk)
        return area

    def _once(self, key: tuple, number: int, field: str) -> None:
        first = self.seen.get(key)
        if first is not None:
            raise ServiceError("duplicate", field_messages={field: [
                _("This record is already on row %(row)d of the file.") % {"row": first}]})
        self.seen[key] = number

    def _existing(self, obj, field: str):
        """What to do with a record already registered: skip it, update it, or refuse."""
        if obj is None:
            return None
        if not self.scope.covers_code(obj.area_code):
            raise ServiceError("duplicate", field_messages={field: [
                _("This record is already registered in another area.")]})
        return obj

    def _buildings(self, number: int, area: Area, values: dict) -> str:
        estate = str(values.get("estate", "")).strip()
        name = str(values.get("name", "")).strip()
        self._once(("building", area.code, estate, name), number, "name")
        existing = self._existing(Building.objects.filter(
            area_code=area.code, estate=estate, name=name).first() if estate and name else None,
            "name")
        if existing is not None:
            if self.result.on_duplicate == SKIP:
                return "skipped"
            services.update_building(actor=self.actor, building=existing, data=values)
            return "updated"
        services.create_building(actor=self.actor, area=area, data=values)
        return "created"

    def _houses(self, number: int, area: Area, values: dict) -> str:
        estate = str(values.pop("building_estate", "")).strip()
        building_name = str(values.pop("building_name", "")).strip()
        building = None
        if estate or building_name:
            building = Building.objects.in_scope(self.actor).filter(
                estate=estate, name=building_name, area_code=area.code).first()
            if building is None:
                raise ServiceError("invalid", field_messages={"building_name": [
                    _("No building %(estate)s %(name)s is registered in %(area)s: register "
                      "the building first (building import) or leave these columns empty.")
                    % {"estate": estate, "name": building_name, "area": area.name}]})
        number_text = str(values.get("number", "")).strip()
        self._once(("house", area.code, number_text), number, "number")
        existing = self._existing(House.objects.filter(
            area_code=area.code, number=number_text, is_active=True).first()
            if number_text else None, "number")
        if existing is not None:
            if self.result.on_duplicate == SKIP:
                return "skipped"
            options = {"building": building} if building is not None else {}
            services.update_house(actor=self.actor, house=existing, data=values, **options)
            return "updated"
        services.create_house(actor=self.actor, area=area, data=values, building=building)
        return "created"

    def _units(self, number: int, area: Area, values: dict) -> str:
        raw_kind = values.pop("kind", "")
        unit_kind = _unit_kind(raw_kind)
        if unit_kind is None:
            raise ServiceError("invalid", field_messages={"kind": [
                _("Write 企业 (non-public enterprise) or 社会组织 (social organisation).")]})
        uscc = "".join(str(values.get("uscc", "")).split()).upper()
        if uscc:
            self._once(("unit", uscc), number, "uscc")
        existing = self._existing(Unit.objects.filter(uscc=uscc).first() if uscc else None,
                                  "uscc")
        if existing is not None:
            if self.result.on_duplicate == SKIP:
                return "skipped"
            if existing.kind != unit_kind:
                raise ServiceError("invalid", field_messages={"kind": [
                    _("This credit code is registered as another kind of unit.")]})
            services.update_unit(actor=self.actor, unit=existing, data=values)
            return "updated"
        services.create_unit(actor=self.actor, area=area, kind=unit_kind, data=values)
        return "created"

    def _issue_list(self, target: list, number: int, name: str, message: str) -> None:
        header, letter = self.where.get(name, ("", ""))
        if not header:
            column = next((c for c in self.kind.columns if c.field == name), None)
            header = column.header() if column else name
        if len(target) < MAX_KEPT:
            target.append(Issue(number, name, header, letter, str(message)))

    def _reject(self, number: int, cells: list, errors) -> None:
        self.result.rejected += 1
        for name, message in errors:
            self._issue_list(self.result.errors, number, name, message)
        if len(self.result.bad_rows) < MAX_KEPT:
            self.result.bad_rows.append((number, list(cells)))

    def audit(self) -> None:
        result = self.result
        audit.record(actor=self.actor, action="people.import", changes={
            "kind": result.kind, "file": result.filename, "strict": result.strict,
            "on_duplicate": result.on_duplicate, "submitted": result.submitted,
            "created": result.created if result.written else 0,
            "updated": result.updated if result.written else 0,
            "skipped": result.skipped, "rejected": result.rejected,
            "refused": result.refused, "file_error": result.file_error[:200],
        })
