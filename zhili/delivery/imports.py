"""Bulk import of outlets and of staff from Excel or CSV (UTF-8 or GB18030/GBK).

The registers are small (a city has hundreds of outlets and a few thousand couriers), so
every row goes through the registry's own services (`registry.save_outlet`, `save_staff`):
the same checks, encryption and audit as a form. The whole file runs in one transaction, each
row in a savepoint: a check (`dry_run`) and a refused all-or-nothing import roll everything
back, so a check runs the services' real checks and nothing is ever half-written.

- Headers: the template's Chinese headers, the English labels or the field names (spaces,
  full-width brackets, a trailing "*" or "(必填)" do not matter); a file missing a required
  column, or naming one twice, is refused whole with the columns it lacks or repeats.
- Rows: blank rows are skipped (line numbers stay those of the file); every other row is
  checked and its problems reported by line and column.
- Duplicates: an outlet is the same outlet by (company, outlet code), a staff member by the
  ID number (its blind index). A record already registered in reach is skipped or updated
  with the row's non-empty cells, as the user chose; one out of reach is a row error; the
  same key twice in a file is an error on the later row.
- The company of a row: the file's company chosen on upload, or a company column holding the
  credit code, the company's name or its brand.

Runs as the background job `delivery.import` (`start_import`); `import_file` is the same
work called directly (tests, the API).
"""

from __future__ import annotations

import io
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from zhili.areas.models import Area
from zhili.core import audit, codes, pii
from zhili.core.jobs import job_handler, save_output, start_job
from zhili.core.scoping import can
from zhili.core.services import ServiceError
from zhili.core.tabular import TableError, read_table
from zhili.delivery import registry
from zhili.delivery.choices import StaffDuty
from zhili.delivery.models import CourierCompany, CourierStaff, Outlet
from zhili.devices.models import Device

JOB_KIND = "delivery.import"
SKIP, UPDATE = "skip", "update"
ON_DUPLICATE = (SKIP, UPDATE)
MAX_ROWS = 50_000
SHOWN = 500  # problems kept in the job's result (the page); the error file has all of them
KEPT = 20_000  # problems and refused rows kept for the error file


@dataclass(frozen=True)
class Column:
    field: str
    label: str  # English msgid, translated when shown
    zh: str  # the template's header
    aliases: tuple[str, ...] = ()
    required: bool = False
    hint: str = ""  # English msgid

    def header_keys(self) -> set[str]:
        return {header_key(n) for n in (self.field, self.zh, self.label, _(self.label),
                                        *self.aliases)}


COMPANY = Column("company", gettext_noop("Company"), "所属企业",
                 ("快递企业", "企业名称", "企业", "统一社会信用代码", "企业统一社会信用代码",
                  "品牌"),
                 hint=gettext_noop("The company's unified social credit code, name or brand; "
                                   "may be left empty when a company is chosen on upload."))
COLUMNS = {
    "outlets": (
        COMPANY,
        Column("code", gettext_noop("Outlet code"), "网点编码", ("网点代码", "网点编号"),
               required=True, hint=gettext_noop("The company's own code for the outlet, as "
                                                "its data feeds quote it.")),
        Column("name", gettext_noop("Outlet name"), "网点名称", required=True),
        Column("area", gettext_noop("Area"), "所在区域",
               ("区划代码", "所属区域", "所在街道", "所属街道", "区域代码"), required=True,
               hint=gettext_noop("The town/street (or smaller area): its code, or its name "
                                 "(with the county before it, separated by /, if the name "
                                 "is not unique).")),
        Column("licence_no", gettext_noop("Licence or filing number"), "许可证号或备案号",
               ("许可证号", "备案号", "许可备案号")),
        Column("address", gettext_noop("Address"), "网点地址", ("地址", "详细地址")),
        Column("person_in_charge", gettext_noop("Person in charge"), "负责人",
               ("网点负责人",)),
        Column("phone", gettext_noop("Contact phone"), "联系电话", ("电话", "负责人电话")),
        Column("lat", gettext_noop("Latitude"), "纬度"),
        Column("lng", gettext_noop("Longitude"), "经度"),
    ),
    "staff": (
        COMPANY,
        Column("outlet", gettext_noop("Outlet code"), "网点编码", ("网点代码", "网点编号"),
               required=True),
        Column("name", gettext_noop("Name"), "姓名", required=True),
        Column("id_number", gettext_noop("ID number"), "公民身份号码",
               ("身份证号", "身份证号码", "证件号码"), required=True,
               hint=gettext_noop("18 characters; format the column as text in Excel.")),
        Column("phone", gettext_noop("Phone"), "联系电话", ("手机号", "手机号码", "电话")),
        Column("duty", gettext_noop("Duty"), "岗位", ("职责", "工作岗位"), required=True,
               hint=gettext_noop("收寄, 派送, 安检 or 负责人.")),
        Column("background_checked_on", gettext_noop("Background checked on"), "背景审查日期",
               ("背景审查时间",), hint=gettext_noop("YYYY-MM-DD")),
        Column("trained_on", gettext_noop("Trained on"), "培训日期", ("培训时间",),
               hint=gettext_noop("YYYY-MM-DD")),
    ),
    "devices": (
        COMPANY,
        Column("outlet", gettext_noop("Outlet code"), "网点编码", ("网点代码", "网点编号"),
               required=True),
        Column("kind", gettext_noop("Kind"), "设备类型", ("类型",), required=True,
               hint=gettext_noop("安检机 (X-ray machine), 摄像机, 录像机, 门禁 or 其他.")),
        Column("code", gettext_noop("Device code"), "设备编码", ("设备编号", "序列号",
                                                                 "国标编码"),
               required=True, hint=gettext_noop("Cameras, recorders and gates: the 20-digit "
                                                "GB/T 28181 code. X-ray machines: the maker's "
                                                "serial number, as the feeds quote it.")),
        Column("name", gettext_noop("Name"), "设备名称", ("名称",), required=True),
        Column("manufacturer", gettext_noop("Manufacturer"), "生产厂商", ("厂商", "品牌")),
        Column("model", gettext_noop("Model"), "设备型号", ("型号",)),
        Column("address", gettext_noop("Installed at"), "安装位置", ("安装地点",)),
        Column("installed_on", gettext_noop("Installed on"), "安装日期", ("安装时间",),
               hint=gettext_noop("YYYY-MM-DD")),
    ),
}
KIND_LABELS = {"outlets": gettext_noop("Outlets"), "staff": gettext_noop("Staff"),
               "devices": gettext_noop("Devices")}

MODELS = {"outlets": Outlet, "staff": CourierStaff, "devices": Device}
DUTY_WORDS = {
    StaffDuty.COLLECT: ("collect", "收寄", "收件", "揽收", "收派员", "收寄员"),
    StaffDuty.DELIVER: ("deliver", "派送", "投递", "派件", "派送员"),
    StaffDuty.SCREEN: ("screen", "安检", "安检员", "过机安检"),
    StaffDuty.MANAGER: ("manager", "负责人", "网点负责人"),
}
DEVICE_WORDS = {
    "xray": ("xray", "x光机", "x射线安检机", "安检机", "过机安检设备", "安检设备"),
    "camera": ("camera", "摄像机", "摄像头", "监控摄像机", "网络摄像机"),
    "nvr": ("nvr", "录像机", "硬盘录像机", "网络录像机"),
    "gate": ("gate", "门禁", "道闸", "闸机"),
    "other": ("other", "其他"),
}
_REQUIRED_MARKS = re.compile(r"(\*|＊|\(必填\)|（必填）|\(required\))$")


def header_key(text: str) -> str:
    """Headers compare without case, spaces, full-width forms and a "required" mark."""
    value = unicodedata.normalize("NFKC", str(text or "")).strip().lower()
    value = _REQUIRED_MARKS.sub("", value).strip()
    return "".join(value.split())


def kinds() -> tuple[str, ...]:
    return tuple(COLUMNS)


# --- the result ----------------------------------------------------------------------------------

@dataclass
class Issue:
    row: int
    field: str
    column: str
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "column": self.column,
                "message": self.message}


@dataclass
class ImportResult:
    kind: str
    dry_run: bool
    strict: bool
    on_duplicate: str
    filename: str = ""
    encoding: str = ""
    headers: list[str] = field(default_factory=list)
    submitted: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    written: bool = False
    refused: bool = False
    file_error: str = ""
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    bad_rows: list[tuple[int, list[str]]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self, limit: int = SHOWN) -> dict:
        return {
            "kind": self.kind, "dry_run": self.dry_run, "strict": self.strict,
            "on_duplicate": self.on_duplicate, "file": self.filename,
            "encoding": self.encoding, "submitted": self.submitted, "created": self.created,
            "updated": self.updated, "skipped": self.skipped, "rejected": self.rejected,
            "valid": self.created + self.updated + self.skipped, "written": self.written,
            "refused": self.refused, "file_error": self.file_error,
            "error_count": len(self.errors),
            "errors": [e.as_dict() for e in self.errors[:limit]],
            "warning_count": len(self.warnings),
            "warnings": [w.as_dict() for w in self.warnings[:limit]],
            "notices": self.notices, "seconds": round(self.seconds, 3),
        }


class _Rollback(Exception):
    """Raised inside the import's transaction: a check, or a refused strict import."""


class _RowError(Exception):
    def __init__(self, problems: list[tuple[str, str]]):
        self.problems = problems
        super().__init__(problems)


def _require(actor, kind: str, on_duplicate: str) -> None:
    model = MODELS[kind]
    for action in ("add", "change") if on_duplicate == UPDATE else ("add",):
        if not can(actor, model, action):
            raise ServiceError("forbidden", _("Your position does not allow this import."),
                               status=403)


# --- the run -------------------------------------------------------------------------------------

def import_file(kind: str, *, actor, data: bytes, filename: str, dry_run: bool = True,
                strict: bool = True, on_duplicate: str = SKIP,
                company: CourierCompany | None = None, progress=None) -> ImportResult:
    """Check (`dry_run`) or import a file of outlets or staff (`kind`); see the module
    docstring for what is matched and how."""
    if kind not in COLUMNS:
        raise ValueError(kind)
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(on_duplicate)
    _require(actor, kind, on_duplicate)
    started = time.perf_counter()
    result = ImportResult(kind=kind, dry_run=dry_run, strict=strict, on_duplicate=on_duplicate,
                          filename=Path(filename or "").name)
    run = _Run(kind, actor, result, company, progress)
    try:
        with transaction.atomic():
            run.execute(data)
            if dry_run or (strict and result.rejected):
                raise _Rollback
            result.written = bool(result.created or result.updated)
            run.audit()
    except _Rollback:
        result.refused = bool(not dry_run and result.rejected)
        if not dry_run:
            run.audit()
    except TableError as exc:
        result.file_error = str(exc)
    result.seconds = time.perf_counter() - started
    return result


class _Run:
    def __init__(self, kind: str, actor, result: ImportResult, company, progress):
        self.kind = kind
        self.actor = actor
        self.result = result
        self.default_company = company
        self.progress = progress
        self.columns = {c.field: c for c in COLUMNS[kind]}
        self.seen: dict[object, int] = {}
        self.areas: dict[str, Area | str] = {}

    # header and file ------------------------------------------------------------------------

    def execute(self, data: bytes) -> None:
        table = read_table(data, self.result.filename, max_rows=MAX_ROWS)
        self.result.encoding = table.encoding
        fields = self._match(table.headers)
        self.result.headers = list(table.headers)
        self._load_companies()
        if self.progress is not None:
            self.progress.total(len(table.rows))
        for number, raw in table.rows:
            cells = [raw.get(h, "") for h in table.headers]
            values = {fields[h]: v.strip() for h, v in raw.items()
                      if fields.get(h) and v and v.strip()}
            if not values and not any(c.strip() for c in cells):
                continue
            self.result.submitted += 1
            self._row(number, values, cells)
            if self.progress is not None:
                self.progress.advance()

    def _match(self, headers: list[str]) -> dict[str, str]:
        by_key = {}
        for column in COLUMNS[self.kind]:
            for key in column.header_keys():
                by_key.setdefault(key, column.field)
        fields: dict[str, str] = {}
        found: dict[str, str] = {}
        ignored = []
        for header in headers:
            name = by_key.get(header_key(header))
            if name is None:
                if header:
                    ignored.append(header)
                continue
            if name in found:
                raise TableError(_("The columns %(a)s and %(b)s both hold %(col)s: keep one.")
                                 % {"a": found[name], "b": header,
                                    "col": self._title(self.columns[name])})
            found[name] = header
            fields[header] = name
        missing = [self._title(c) for c in COLUMNS[self.kind] if c.required and
                   c.field not in found]
        if "company" not in found and self.default_company is None and self.kind == "outlets":
            missing.insert(0, self._title(self.columns["company"]))
        if missing:
            raise TableError(_("Missing columns: %(cols)s. The first row must hold the column "
                               "names of the template.") % {"cols": ", ".join(missing)})
        if ignored:
            self.result.notices.append(_("These columns are not part of the template and were "
                                         "ignored: %(cols)s.") % {"cols": ", ".join(ignored)})
        return fields

    @staticmethod
    def _title(column: Column) -> str:
        label = _(column.label)
        return column.zh if label == column.zh else f"{column.zh} ({label})"

    # lookups --------------------------------------------------------------------------------

    def _load_companies(self) -> None:
        self.by_uscc, self.by_name, self.by_brand = {}, {}, {}
        for company in registry.companies_for_outlets(self.actor).select_related("org"):
            self.by_uscc[company.org.uscc] = company
            self.by_name[header_key(company.org.name)] = company
            self.by_brand.setdefault(header_key(company.brand), []).append(company)

    def _company(self, raw: str | None) -> CourierCompany | None:
        default = self.default_company
        if not raw:
            return default
        text = "".join(unicodedata.normalize("NFKC", raw).split()).upper()
        found = self.by_uscc.get(text) or self.by_name.get(header_key(raw))
        if found is None:
            brand = self.by_brand.get(header_key(raw), [])
            if len(brand) > 1:
                raise _RowError([("company", _(
                    "Several companies have the brand %(brand)s: give the company's credit "
                    "code or full name.") % {"brand": raw})])
            found = brand[0] if brand else None
        if found is None:
            raise _RowError([("company", _(
                "No open company %(company)s within your reach: give its credit code, full "
                "name or brand as registered.") % {"company": raw})])
        if default is not None and found.pk != default.pk:
            raise _RowError([("company", _("This file is for %(company)s.")
                              % {"company": default.org.name})])
        return found

    def _area(self, raw: str) -> Area:
        known = self.areas.get(raw)
        if known is None:
            known = self.areas[raw] = self._find_area(raw)
        if isinstance(known, str):
            raise _RowError([("area", known)])
        return known

    def _find_area(self, raw: str) -> Area | str:
        text = "".join(unicodedata.normalize("NFKC", raw).split())
        if text.isdigit():
            try:
                code = codes.normalize(text)
            except codes.CodeError as exc:
                return str(exc)
            area = Area.objects.filter(code=code).first()
            return area or _("There is no area with code %(code)s.") % {"code": text}
        names = [part for part in re.split(r"[/／>＞]", text) if part]
        candidates = list(Area.objects.in_scope(self.actor).filter(name=names[-1] if names
                                                                   else text, level__gte=3))
        if len(names) > 1:
            candidates = [a for a in candidates if self._under(a, names[:-1])]
        if len(candidates) == 1:
            return candidates[0]
        if not candidates:
            return _("No area called %(name)s within your reach: give its code.") % {
                "name": raw}
        return _("Several areas are called %(name)s: give the code, or the county before it "
                 "(e.g. 通州区/金沙街道).") % {"name": raw}

    @staticmethod
    def _under(area: Area, names: list[str]) -> bool:
        above = [a.name for a in area.ancestors() if a.pk != area.pk]
        position = 0
        for name in above:
            if position < len(names) and name == names[position]:
                position += 1
        return position == len(names)

    def _outlet(self, company, code: str) -> Outlet:
        reachable = Outlet.objects.in_scope(self.actor).filter(code=code, is_active=True)
        if company is not None:
            reachable = reachable.filter(company=company)
        found = list(reachable.select_related("company__org")[:2])
        if len(found) == 1:
            return found[0]
        if found:
            raise _RowError([("company", _("Outlets of several companies have the code "
                                           "%(code)s: give the company.") % {"code": code})])
        raise _RowError([("outlet", _("No open outlet with code %(code)s within your reach.")
                          % {"code": code})])

    # rows -----------------------------------------------------------------------------------

    def _row(self, number: int, values: dict, cells: list[str]) -> None:
        problems = [(c.field, _("This column is required."))
                    for c in COLUMNS[self.kind] if c.required and not values.get(c.field)]
        if self.kind == "outlets" and not values.get("company") and \
                self.default_company is None:
            problems.insert(0, ("company", _("This column is required.")))
        if problems:
            return self._reject(number, cells, problems)
        try:
            with transaction.atomic():
                outcome = getattr(self, f"_{self.kind}_row")(number, values)
        except _RowError as exc:
            return self._reject(number, cells, exc.problems)
        except ServiceError as exc:
            fields = exc.field_messages or {"": [exc.message]}
            problems = [(name if name in self.columns else "", message)
                        for name, messages in fields.items() for message in messages]
            return self._reject(number, cells, problems)
        setattr(self.result, outcome, getattr(self.result, outcome) + 1)
        return None

    def _once(self, key, number: int, name: str) -> None:
        first = self.seen.get(key)
        if first is not None:
            raise _RowError([(name, _("This record is already on row %(row)d of the file.")
                              % {"row": first})])
        self.seen[key] = number

    def _outlets_row(self, number: int, values: dict) -> str:
        company = self._company(values.pop("company", None))
        code = registry.clean_outlet_code(values.get("code"))
        values["code"] = code
        self._once((company.pk, code), number, "code")
        if "area" in values:
            values["area"] = self._area(values["area"])
        existing = Outlet.objects.filter(company=company, code=code).first()
        if existing is not None:
            if not Outlet.objects.in_scope(self.actor).filter(pk=existing.pk).exists():
                raise _RowError([("code", _("This outlet is registered outside your reach."))])
            if self.result.on_duplicate == SKIP:
                return "skipped"
            values.pop("code")
            registry.save_outlet(actor=self.actor, outlet=existing, data=values)
            return "updated"
        registry.save_outlet(actor=self.actor, data={"company": company, **values})
        return "created"

    def _devices_row(self, number: int, values: dict) -> str:
        """A device at an outlet: it takes the outlet's organisation and area."""
        from zhili.devices import services as devices
        from zhili.people.validation import BadValue, parse_date

        company = self._company(values.pop("company", None))
        outlet = self._outlet(company, values.pop("outlet"))
        values["kind"] = self._device_kind(values["kind"])
        values["code"] = devices.clean_code(values["kind"], values["code"])
        if "installed_on" in values:
            try:
                values["installed_on"] = parse_date(values["installed_on"])
            except BadValue as exc:
                raise _RowError([("installed_on", str(exc))]) from None
        self._once(("device", values["code"].upper()), number, "code")
        existing = Device.objects.filter(code__iexact=values["code"]).first()
        values.update(org=outlet.org, area=outlet.area)
        if existing is not None:
            if not Device.objects.in_scope(self.actor).filter(pk=existing.pk).exists():
                raise _RowError([("code", _("This device is registered outside your "
                                            "reach."))])
            if self.result.on_duplicate == SKIP:
                return "skipped"
            devices.save_device(actor=self.actor, device=existing, data=values)
            return "updated"
        devices.save_device(actor=self.actor, data=values)
        return "created"

    def _device_kind(self, raw: str) -> str:
        key = header_key(raw)
        for value, words in DEVICE_WORDS.items():
            if key in {header_key(w) for w in words}:
                return value
        raise _RowError([("kind", _("Write 安检机, 摄像机, 录像机, 门禁 or 其他."))])

    def _staff_row(self, number: int, values: dict) -> str:
        company = self._company(values.pop("company", None))
        values["outlet"] = self._outlet(company, values["outlet"])
        values["duty"] = self._duty(values["duty"])
        raw_id = values["id_number"]
        try:
            number_18 = pii.validate_id_number(raw_id).number
        except pii.InvalidIdNumber as exc:
            message = exc.message
            if self.result.encoding == "xlsx" and re.fullmatch(r"\d{16,}", raw_id):
                message += " " + _("If Excel stored the number as a number, it lost its last "
                                   "digits: format the column as text and type it again.")
            raise _RowError([("id_number", message)]) from None
        self._once(pii.blind_index(number_18, "id_number"), number, "id_number")
        existing = registry.find_staff(number_18)
        if existing is not None:
            if not CourierStaff.objects.in_scope(self.actor).filter(pk=existing.pk).exists():
                raise _RowError([("id_number", _("This person is registered at an outlet "
                                                 "outside your reach."))])
            if self.result.on_duplicate == SKIP:
                return "skipped"
            values.pop("id_number")
            staff = registry.save_staff(actor=self.actor, staff=existing, data=values)
            self._warn(number, staff)
            return "updated"
        staff = registry.save_staff(actor=self.actor, data=values)
        self._warn(number, staff)
        return "created"

    def _duty(self, raw: str) -> str:
        key = header_key(raw)
        for value, words in DUTY_WORDS.items():
            if key in {header_key(w) for w in (*words, StaffDuty(value).label)}:
                return value
        raise _RowError([("duty", _("Write 收寄, 派送, 安检 or 负责人."))])

    def _warn(self, number: int, staff) -> None:
        for message in getattr(staff, "warnings", []):
            if len(self.result.warnings) < KEPT:
                self.result.warnings.append(Issue(number, "id_number",
                                                  self._title(self.columns["id_number"]),
                                                  str(message)))

    def _reject(self, number: int, cells: list[str], problems) -> None:
        self.result.rejected += 1
        for name, message in problems:
            column = self._title(self.columns[name]) if name in self.columns else ""
            if len(self.result.errors) < KEPT:
                self.result.errors.append(Issue(number, name, column, str(message)))
        if len(self.result.bad_rows) < KEPT:
            self.result.bad_rows.append((number, cells))

    def audit(self) -> None:
        r = self.result
        audit.record(actor=self.actor, action=f"delivery.import.{self.kind}", changes={
            "file": r.filename, "strict": r.strict, "on_duplicate": r.on_duplicate,
            "submitted": r.submitted, "created": r.created if r.written else 0,
            "updated": r.updated if r.written else 0, "skipped": r.skipped,
            "rejected": r.rejected, "refused": r.refused})


# --- templates and the error file ----------------------------------------------------------------

def write_template(kind: str) -> bytes:
    """The Excel template of `kind`: Chinese headers (required ones in red, each with a note),
    text-formatted columns (leading zeros and 18-digit ID numbers survive Excel), a notes
    sheet with an example row."""
    import xlsxwriter

    columns = COLUMNS[kind]
    examples = {**EXAMPLES, **KIND_EXAMPLES.get(kind, {})}
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    text = book.add_format({"num_format": "@"})
    head = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    required = book.add_format({"bold": True, "bg_color": "#FDE8E8", "font_color": "#B00020",
                                "border": 1})
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    sheet = book.add_worksheet(_(KIND_LABELS[kind])[:31])
    sheet.freeze_panes(1, 0)
    for col, column in enumerate(columns):
        sheet.write_string(0, col, column.zh, required if column.required else head)
        sheet.set_column(col, col, max(14, len(column.zh) * 3), text)
        note = " ".join(part for part in (_("Required.") if column.required else "",
                                          _(column.label),
                                          _(column.hint) if column.hint else "") if part)
        sheet.write_comment(0, col, note, {"x_scale": 2, "y_scale": 1.2})
        choices = {"duty": ["收寄", "派送", "安检", "负责人"],
                   "kind": ["安检机", "摄像机", "录像机", "门禁", "其他"]}.get(column.field)
        if choices:
            sheet.data_validation(1, col, 5000, col, {
                "validate": "list", "source": choices, "error_type": "information",
                "ignore_blank": True})
    notes = book.add_worksheet(_("Notes")[:31])
    notes.write_row(0, 0, [_("Column"), _("Required"), _("What to write"), _("Example")], bold)
    notes.set_column(0, 0, 28)
    notes.set_column(2, 2, 70, wrap)
    notes.set_column(3, 3, 30)
    for row, column in enumerate(columns, start=1):
        notes.write_row(row, 0, [f"{column.zh} ({_(column.label)})",
                                 _("yes") if column.required else "",
                                 _(column.hint) if column.hint else "",
                                 examples.get(column.field, "")])
    tail = len(columns) + 2
    for offset, line in enumerate((
            _("Keep the first row (the column names); optional columns may be left out and "
              "the order does not matter."),
            _("One record per row; empty rows are skipped. Do not merge cells."),
            _("A CSV file may be saved as UTF-8 or as GB18030/GBK (Excel's \"CSV\")."),
            _("Every upload is checked first: nothing is written until you have seen the "
              "problems and chosen to import."))):
        notes.write_string(tail + offset, 0, line)
    book.close()
    return buffer.getvalue()


EXAMPLES = {
    "company": "91320600MA1XXXXXXX", "code": "JS01", "name": "顺丰金沙营业部",
    "area": "320612001", "licence_no": "苏A0001", "address": "南通市通州区金沙街道人民路1号",
    "person_in_charge": "王经理", "phone": "0513-85123456", "lat": "32.08", "lng": "121.07",
    "outlet": "JS01", "id_number": "320612199001011232", "duty": "收寄",
    "background_checked_on": "2024-03-05", "trained_on": "2024-03-10",
}
KIND_EXAMPLES = {"devices": {"kind": "安检机", "code": "XR-JS01-1", "name": "安检机1",
                             "manufacturer": "同方威视", "model": "CX6040",
                             "address": "收寄台旁", "installed_on": "2024-01-15"}}


def error_file(result: ImportResult) -> bytes:
    """An .xlsx: the refused rows as they were with what to fix (upload it again once
    corrected: its two extra columns are ignored), and every problem by row and column."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False})
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})
    wrap = book.add_format({"text_wrap": True, "font_color": "#B00020"})
    rows = book.add_worksheet(_("Rows to fix")[:31])
    by_row: dict[int, list[str]] = {}
    for issue in result.errors:
        where = f"{issue.column}: " if issue.column else ""
        by_row.setdefault(issue.row, []).append(where + issue.message)
    rows.write_row(0, 0, [_("Row"), _("Problem"), *result.headers], bold)
    rows.set_column(1, 1, 60)
    for index, (number, cells) in enumerate(result.bad_rows, start=1):
        rows.write_number(index, 0, number)
        rows.write_string(index, 1, "\n".join(by_row.get(number, [])), wrap)
        for col, value in enumerate(cells, start=2):
            if value:
                rows.write_string(index, col, str(value), text)
    listing = book.add_worksheet(_("Problems")[:31])
    listing.write_row(0, 0, [_("Row"), _("Column"), _("Problem")], bold)
    listing.set_column(2, 2, 90)
    line = 1
    if result.file_error:
        listing.write_row(line, 0, ["", "", result.file_error])
        line += 1
    for issue in result.errors:
        listing.write_row(line, 0, [issue.row, issue.column, issue.message])
        line += 1
    book.close()
    return buffer.getvalue()


# --- the job -------------------------------------------------------------------------------------

def start_import(*, actor, kind: str, upload_name: str, upload=None, data: bytes | None = None,
                 source_job=None, dry_run: bool = True, strict: bool = True,
                 on_duplicate: str = SKIP, company: CourierCompany | None = None):
    """Queue a check (`dry_run`) or an import of an uploaded file (`upload`, a Django file;
    or `data`), or of the file of an earlier check (`source_job`)."""
    if kind not in COLUMNS:
        raise ServiceError("invalid", field_messages={"kind": [_("Choose what to import.")]})
    if on_duplicate not in ON_DUPLICATE:
        raise ServiceError("invalid", field_messages={"on_duplicate": [
            _("Choose whether to skip or update records already registered.")]})
    _require(actor, kind, on_duplicate)
    if company is not None and not registry.companies_for_outlets(actor).filter(
            pk=company.pk).exists():
        raise ServiceError("invalid", field_messages={"company": [
            _("This company is not registered, closed, or outside your reach.")]})
    title = (_("Import check: %(file)s") if dry_run else _("Import: %(file)s")) % {
        "file": upload_name}
    name = Path(upload_name).name or "upload.csv"
    with transaction.atomic():  # the task is queued when the file is stored too
        job = start_job(actor=actor, kind=JOB_KIND, title=title[:200], params={
            "kind": kind, "dry_run": dry_run, "strict": strict, "on_duplicate": on_duplicate,
            "company": company.pk if company is not None else None, "file": name,
            "source_job": source_job.pk if source_job is not None else None,
        }, input_name=name, input_data=data)
        if upload is not None:
            job.input_file.save(name, upload, save=False)
        elif source_job is not None:
            with source_job.input_file.open("rb") as handle:
                job.input_file.save(name, File(handle), save=False)
        if upload is not None or source_job is not None:
            job.save(update_fields=["input_file"])
    return job


@job_handler(JOB_KIND)
def run_import(job, progress) -> dict:
    params = job.params
    kind = params.get("kind", "outlets")
    options = {"dry_run": bool(params.get("dry_run", True)),
               "strict": bool(params.get("strict", True)),
               "on_duplicate": params.get("on_duplicate", SKIP)}
    actor = job.created_by
    company = None
    if params.get("company"):
        company = registry.companies_for_outlets(actor).filter(pk=params["company"]).first()
    name = params.get("file") or Path(job.input_file.name).name
    with job.input_file.open("rb") as handle:
        data = handle.read()
    try:
        result = import_file(kind, actor=actor, data=data, filename=name, company=company,
                             progress=progress, **options)
    except ServiceError as exc:
        return {"kind": kind, **options, "file_error": exc.message, "errors": [],
                "error_count": 0, "submitted": 0}
    if result.errors or result.file_error:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        save_output(job, f"{Path(name).stem or 'import'}-errors-{stamp}.xlsx",
                    error_file(result))
    return result.as_dict()


def max_upload_mb() -> int:
    return int(getattr(settings, "ZHILI_IMPORT_MAX_MB", settings.ZHILI_MAX_UPLOAD_MB))
