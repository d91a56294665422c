"""The columns of the registry's import templates, and how an uploaded header row maps to them.

One `Column` per field: the English label (a msgid, translated when a template is written) and
the Chinese header of GB/T 31000 (accepted on upload whatever the UI language, so a template
downloaded in English and one from a Chinese office both import). The mapping from header to
field is stable: a header matches a column by its field name, its Chinese header, its English
label, the label in the current language or one of its aliases, after `header_key()` (spaces,
full-width brackets, a trailing "*" or "(必填)" do not matter).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _

from zhili.people import codes, details


@dataclass(frozen=True)
class Column:
    field: str
    label: object  # English msgid (or a lazy translation of one), translated when shown
    zh: str  # the Chinese header (GB/T 31000 wording where the standard has one)
    aliases: tuple[str, ...] = ()
    required: bool = False
    table: type[codes.CodeTable] | None = None
    hint: str = ""  # English msgid: what to write, for the notes sheet

    def header(self) -> str:
        """The header written into a template in the current language."""
        return gettext(self.label) if isinstance(self.label, str) else str(self.label)

    def english(self) -> str:
        with translation.override("en"):
            return self.header()

    def header_keys(self) -> set[str]:
        """Every header naming this column: its field name, the Chinese header, and its label
        in each of the site's languages (a template downloaded in one language uploads in
        any other), and the aliases."""
        names = [self.field, self.zh, self.english(), self.header(), *self.aliases]
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                names.append(self.header())
        return {header_key(name) for name in names if name}


@dataclass(frozen=True)
class Kind:
    """One importable class of records."""

    key: str  # "persons", "buildings", "houses", "units"
    title: str  # English msgid
    sheet: str  # the data sheet's name in a template
    columns: tuple[Column, ...]

    def by_key(self) -> dict[str, Column]:
        lookup: dict[str, Column] = {}
        for column in self.columns:
            for key in column.header_keys():
                lookup.setdefault(key, column)
        return lookup


_REQUIRED_MARK = re.compile(r"(\*|＊|\((必填|必须|required)\))$", re.IGNORECASE)


def header_key(text) -> str:
    """A header reduced to what identifies it: NFKC (full-width brackets and letters become
    ASCII), no spaces, lower case, without a required-mark."""
    value = unicodedata.normalize("NFKC", str(text or "")).strip()
    value = "".join(value.split()).lower()
    previous = None
    while previous != value:
        previous, value = value, _REQUIRED_MARK.sub("", value)
    return value


AREA_HINT = _("The grid or village/community: its code (e.g. 320612001001001) or its names "
              "from the county down, separated by / (e.g. 通州区/金沙街道/东市社区/第1网格).")
DATE_HINT = _("YYYY-MM-DD, e.g. 1985-03-05 (taken from the ID number when empty).")
REGION_HINT = _("The 6-digit administrative division code (GB/T 2260), e.g. 320612.")
BOOL_HINT = _("是 or 否 (1 or 0).")
DECIMAL_HINT = _("A number, e.g. 120.5.")
INT_HINT = _("A whole number.")


def _code_hint(table) -> str:
    return _("A code or name from the table %(table)s on the notes sheet.")


AREA = Column("area", _("Grid or village/community"), "所属网格或村(社区)",
              ("所属网格", "网格", "所属区域", "区域", "区域代码", "网格编码", "村(社区)",
               "社区", "area_code", "现住地网格"), required=True, hint=AREA_HINT)

PERSON_COLUMNS = (
    AREA,
    Column("id_type", _("ID document type"), "证件代码", ("证件类型", "证件种类"),
           table=codes.IdType, hint=_("Empty for the resident ID card (居民身份证).")),
    Column("id_number", _("ID number"), "公民身份号码",
           ("身份证号", "身份证号码", "证件号码", "身份证", "公民身份证号码"), required=True,
           hint=_("18 characters (15-digit first-generation numbers are converted). Format "
                  "the column as text in Excel, or the last digits are lost.")),
    Column("name", _("Name"), "姓名", required=True),
    Column("former_name", _("Former name"), "曾用名"),
    Column("sex", _("Sex"), "性别", table=codes.Sex,
           hint=_("男 or 女; taken from the ID number when empty.")),
    Column("birth_date", _("Birth date"), "出生日期", ("出生年月日",), hint=DATE_HINT),
    Column("ethnicity", _("Ethnicity"), "民族", table=codes.Ethnicity),
    Column("native_place", _("Native place"), "籍贯", hint=REGION_HINT),
    Column("marital_status", _("Marital status"), "婚姻状况", table=codes.MaritalStatus),
    Column("political_status", _("Political status"), "政治面貌",
           table=codes.PoliticalStatus),
    Column("education", _("Education"), "学历", ("文化程度",), table=codes.Education),
    Column("religion", _("Religion"), "宗教信仰", table=codes.Religion),
    Column("occupation_class", _("Occupation class"), "职业类别",
           hint=_("The GB/T 6565 code, up to 5 characters.")),
    Column("occupation", _("Occupation"), "职业"),
    Column("workplace", _("Workplace"), "服务处所", ("工作单位",)),
    Column("phone", _("Contact phone"), "联系方式",
           ("联系电话", "手机号码", "手机号", "电话", "手机"),
           hint=_("A mobile number (11 digits) or a landline with its area code, e.g. "
                  "0513-85123456.")),
    Column("registered_place", _("Registered place"), "户籍地", hint=REGION_HINT),
    Column("registered_address", _("Registered address"), "户籍门(楼)详址",
           ("户籍地址", "户籍详址", "户籍地详址")),
    Column("current_address", _("Current address"), "现住门(楼)详址",
           ("现住址", "现住地址", "现住详址", "现住地详址", "居住地址")),
    Column("lng", _("Longitude"), "经度", hint=DECIMAL_HINT),
    Column("lat", _("Latitude"), "纬度", hint=DECIMAL_HINT),
    Column("note", _("Note"), "备注"),
)

# Chinese headers of the building, house and unit fields (the fields themselves, their labels
# and types come from `details`, the registry's own description of each form).
_ZH = {
    "estate": ("小区(单位)名称", ("小区名称", "小区")),
    "building_name": ("楼栋名称", ("楼栋", "楼号")),
    "address": ("地址", ("详细地址",)),
    "floor_area": ("建筑面积", ("建筑面积(m²)", "面积")),
    "floors": ("层数", ()),
    "units": ("单元数", ()),
    "households": ("楼栋户数", ("户数",)),
    "leader_name": ("楼栋长姓名", ("楼栋长",)),
    "leader_phone": ("楼栋长联系方式", ("楼栋长电话", "楼栋长手机号码")),
    "lat": ("纬度", ()),
    "lng": ("经度", ()),
    "note": ("备注", ()),
    "number": ("房屋编号", ("门牌号", "房号")),
    "house_address": ("房屋地址", ("地址",)),
    "use": ("建筑用途", ("房屋用途",)),
    "is_rental": ("是否出租", ("出租房",)),
    "owner_name": ("房主姓名", ("产权人", "房主")),
    "owner_id_type": ("房主证件代码", ("房主证件类型",)),
    "owner_id_number": ("房主证件号码", ("房主身份证号", "房主公民身份号码")),
    "owner_phone": ("房主联系方式", ("房主电话",)),
    "owner_address": ("房主现居详址", ("房主地址",)),
    "rental_use": ("出租用途", ()),
    "hazard": ("隐患类型", ("安全隐患类型",)),
    "kind": ("单位类别", ("类别",)),
    "uscc": ("统一社会信用代码", ("工商执照注册号", "信用代码")),
    "unit_name": ("单位名称", ("企业名称", "社会组织名称", "名称")),
    "unit_address": ("单位地址", ("企业地址", "住所", "地址")),
    "phone": ("联系方式", ("企业联系方式", "联系电话")),
    "employees": ("员工数", ("企业员工数", "从业人员数")),
    "legal_rep_name": ("法定代表人姓名", ("法定代表人", "负责人姓名")),
    "legal_rep_id_type": ("法定代表人证件代码", ("负责人证件代码",)),
    "legal_rep_id_number": ("法定代表人证件号码", ("负责人证件号码",)),
    "legal_rep_phone": ("法定代表人联系方式", ("负责人联系方式",)),
    "security_name": ("治保负责人姓名", ()),
    "security_phone": ("治保负责人联系方式", ()),
    "attention": ("关注程度", ()),
    "category": ("类型", ("企业类别", "社会组织类型")),
    "is_hazardous_chemicals": ("是否危化企业", ()),
    "unit_hazard": ("安全隐患类型", ("隐患类型",)),
    "party_conditions": ("是否具备建立中共党组织条件", ()),
    "has_party_org": ("是否有中共党组织", ()),
    "party_members": ("中共党员数量", ()),
    "has_union": ("是否有工会", ()),
    "union_members": ("工会会员数量", ()),
    "has_youth_league": ("是否有共青团组织", ()),
    "league_members": ("共青团团员数量", ()),
    "has_women_federation": ("是否有妇联组织", ()),
    "women": ("妇女数量", ()),
    "registration_number": ("登记证号", ()),
    "registration_authority": ("登记管理机关代码", ()),
    "approved_on": ("批准日期", ()),
    "is_operating": ("状态", ("是否正常运营",)),
    "office_address": ("办公地址", ()),
    "funding_source": ("资金来源", ()),
    "has_foreign_background": ("是否有境外背景", ()),
}

_HINTS = {
    details.DATE: _("YYYY-MM-DD, e.g. 2020-03-05."),
    details.FUTURE_DATE: _("YYYY-MM-DD, e.g. 2030-03-05."),
    details.BOOL: BOOL_HINT,
    details.DECIMAL: DECIMAL_HINT,
    details.INT: INT_HINT,
    details.REGION: REGION_HINT,
    details.USCC: _("18 characters (GB 32100)."),
    details.PHONE: _("A mobile number (11 digits) or a landline with its area code."),
}


def _from_spec(spec: details.Spec, *, zh_keys: dict[str, str] | None = None,
               skip: tuple[str, ...] = ()) -> tuple[Column, ...]:
    """Columns for a `details.Spec` (buildings, houses, units): the registry owns the fields."""
    columns = []
    for field in spec.fields:
        if field.name in skip:
            continue
        zh, aliases = _ZH.get((zh_keys or {}).get(field.name, field.name), ("", ()))
        hint = _code_hint(field.table) if field.table else _HINTS.get(field.kind, "")
        column = Column(field.name, field.label, zh, aliases, required=field.required,
                        table=field.table, hint=hint)
        if not zh:  # a field added to the registry later: its English label until then
            column = Column(field.name, field.label, column.english(), aliases,
                            required=field.required, table=field.table, hint=hint)
        columns.append(column)
    return tuple(columns)


def _unit_columns() -> tuple[Column, ...]:
    seen: dict[str, Column] = {}
    common = _from_spec(details.UNIT_COMMON, zh_keys={"name": "unit_name",
                                                      "address": "unit_address"})
    for column in common:
        seen[column.field] = column
    for spec in details.UNIT.values():
        for column in _from_spec(spec, zh_keys={"hazard": "unit_hazard"}):
            if column.field in seen:
                continue
            # Required only for its own kind: the registry's check says so per row.
            seen[column.field] = Column(column.field, column.label, column.zh, column.aliases,
                                        table=column.table, hint=column.hint)
    category = seen.pop("category", None)
    kind = Column("kind", _("Unit kind"), "单位类别", ("类别", "单位类型"), required=True,
                  hint=_("企业 (non-public enterprise) or 社会组织 (social organisation)."))
    if category is not None:
        category = Column("category", _("Type"), "类型", ("企业类别", "社会组织类型"),
                          required=True,
                          hint=_("Enterprise: table 5.44; social organisation: table 5.47 "
                                 "(codes or names)."))
    return (AREA, kind, *((category,) if category else ()), *seen.values())


def _building_columns() -> tuple[Column, ...]:
    return (AREA, *_from_spec(details.BUILDING, zh_keys={"name": "building_name"}))


def _house_columns() -> tuple[Column, ...]:
    building = (
        Column("building_estate", _("Estate of the building"), "所属小区",
               hint=_("With the building name: links the house to a building already "
                      "registered in the same area (optional).")),
        Column("building_name", _("Building"), "所属楼栋"),
    )
    return (AREA, *_from_spec(details.HOUSE, zh_keys={"address": "house_address"}), *building)


KINDS: dict[str, Kind] = {}


def kinds() -> dict[str, Kind]:
    """The importable classes (built on first use: `details` may be extended at start-up)."""
    if not KINDS:
        KINDS.update({
            "persons": Kind("persons", _("Persons"), "人员", PERSON_COLUMNS),
            "buildings": Kind("buildings", _("Buildings"), "楼栋", _building_columns()),
            "houses": Kind("houses", _("Houses and rentals"), "房屋", _house_columns()),
            "units": Kind("units", _("Units"), "单位", _unit_columns()),
        })
    return KINDS


# Columns the error file adds in front of the rows to fix: ignored when it is uploaded again.
ROW_COLUMN = _("Row in the original file")
PROBLEM_COLUMN = _("Problems")
IGNORED = ("原行号", "错误说明", ROW_COLUMN, PROBLEM_COLUMN)


def _ignored() -> set[str]:
    keys = {header_key(h) for h in IGNORED}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            keys |= {header_key(gettext(h)) for h in IGNORED}
    return keys


@dataclass
class HeaderMatch:
    fields: list[str | None]  # per column position: the field it holds (None: ignored)
    missing: list[Column]
    unknown: list[str]  # header texts that match nothing
    repeated: list[str]  # header texts naming a field already given


def match_headers(kind: Kind, headers: list) -> HeaderMatch:
    lookup = kind.by_key()
    ignored = _ignored()
    fields: list[str | None] = []
    unknown, repeated, seen = [], [], set()
    for raw in headers:
        text = "" if raw is None else str(raw).strip()
        if not text or header_key(text) in ignored:
            fields.append(None)
            continue
        column = lookup.get(header_key(text))
        if column is None:
            unknown.append(text)
            fields.append(None)
        elif column.field in seen:
            repeated.append(text)
            fields.append(None)
        else:
            seen.add(column.field)
            fields.append(column.field)
    missing = [c for c in kind.columns if c.required and c.field not in seen]
    return HeaderMatch(fields, missing, unknown, repeated)


def recognised(kind: Kind, headers: list) -> int:
    """How many cells of a row name a column (finds the header row below a title row)."""
    lookup = kind.by_key()
    return sum(1 for raw in headers if raw not in (None, "") and header_key(raw) in lookup)
