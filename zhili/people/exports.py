"""Exports of the registry (persons, houses, units) to Excel or CSV, as background jobs.

An export is what its exporter may see and nothing more: the rows come from the model's scoped
queryset for the exporter's active position, narrowed by the list's filters; it needs
`people.export_person` (the registry's export permission, for every class). Personal data is
masked in every export — ID numbers, phone numbers, addresses and names of people, with the
PII module's masks (`pii.mask_field`); there is no unmasked export (unmasking is one record at
a time, with a purpose). Each file is watermarked with who exported it, when, and a trace id
(XLSX: a visible first row, the page header and footer, the document properties; CSV: a
comment line at the top), and the audit log gets one record ("people.export") with the count,
the filters (a searched ID number or phone masked) and the trace id, so a leaked file leads
back to its export.
"""

from __future__ import annotations

import csv
import io
import uuid

from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_noop as _  # column titles, translated when written

from zhili.areas.models import Area
from zhili.core import audit, codes
from zhili.core.jobs import job_handler, save_output, start_job
from zhili.core.pii import mask_id_number, mask_name, mask_phone
from zhili.core.pii.masking import mask_field
from zhili.core.scoping import can
from zhili.core.services import ServiceError
from zhili.people import codes as people_codes
from zhili.people.choices import ResidencyKind, UnitKind
from zhili.people.models import House, Person, Unit
from zhili.people.querysets import classify

JOB_KIND = "people.export"
FORMATS = ("xlsx", "csv", "csv-gb18030")
MODELS = {"persons": Person, "houses": House, "units": Unit}
TITLES = {"persons": _("Persons"), "houses": _("Houses"), "units": _("Units")}
FILTERS = ("q", "area", "kind", "status", "rental", "unit_kind")
# Plain columns naming a person, masked like a name.
PERSON_NAMES = {"owner_name", "legal_rep_name", "security_name", "leader_name"}


def _yes(value) -> str:
    return gettext("yes") if value else gettext("no")


def _date(value) -> str:
    return value.isoformat() if value else ""


def _code(table):
    return lambda value: table.label(value) if value else ""


def _masked(obj, name: str) -> str:
    if name in PERSON_NAMES:
        return mask_name(getattr(obj, name, "") or "")
    return mask_field(obj, name)


# (header msgid, value of a row): the header is translated when the file is written.
PERSON_COLUMNS = (
    (_("Area"), lambda p: p.area.name),
    (_("Area code"), lambda p: codes.display(p.area_code, p.area.level)),
    (_("ID document type"), lambda p: people_codes.IdType.label(p.id_type)),
    (_("ID number"), lambda p: _masked(p, "id_number")),
    (_("Name"), lambda p: _masked(p, "name")),
    (_("Sex"), lambda p: people_codes.Sex.label(p.sex)),
    (_("Birth date"), lambda p: _date(p.birth_date)),
    (_("Ethnicity"), lambda p: people_codes.Ethnicity.label(p.ethnicity)),
    (_("Native place"), lambda p: p.native_place),
    (_("Marital status"), lambda p: people_codes.MaritalStatus.label(p.marital_status)),
    (_("Political status"), lambda p: people_codes.PoliticalStatus.label(p.political_status)),
    (_("Education"), lambda p: people_codes.Education.label(p.education)),
    (_("Religion"), lambda p: people_codes.Religion.label(p.religion)),
    (_("Occupation"), lambda p: p.occupation),
    (_("Workplace"), lambda p: p.workplace),
    (_("Contact phone"), lambda p: _masked(p, "phone")),
    (_("Registered place"), lambda p: p.registered_place),
    (_("Registered address"), lambda p: _masked(p, "registered_address")),
    (_("Current address"), lambda p: _masked(p, "current_address")),
    (_("Residency"), lambda p: " ".join(str(ResidencyKind(r.kind).label) for r in
                                     p.residencies.all() if r.is_active)),
    (_("Active"), lambda p: _yes(p.is_active)),
    (_("Registered on"), lambda p: timezone.localtime(p.created_at).strftime("%Y-%m-%d")),
)
HOUSE_COLUMNS = (
    (_("Area"), lambda h: h.area.name),
    (_("Area code"), lambda h: codes.display(h.area_code, h.area.level)),
    (_("House number"), lambda h: h.number),
    (_("Building"), lambda h: str(h.building) if h.building_id else ""),
    (_("Address"), lambda h: _masked(h, "address")),
    (_("Use"), lambda h: _code(people_codes.BuildingUse)(h.use)),
    (_("Floor area (m²)"), lambda h: "" if h.floor_area is None else str(h.floor_area)),
    (_("Rented out"), lambda h: _yes(h.is_rental)),
    (_("Owner"), lambda h: _masked(h, "owner_name")),
    (_("Owner's ID number"), lambda h: _masked(h, "owner_id_number")),
    (_("Owner's phone"), lambda h: _masked(h, "owner_phone")),
    (_("Owner's address"), lambda h: _masked(h, "owner_address")),
    (_("Rental use"), lambda h: _code(people_codes.RentalUse)(h.rental_use)),
    (_("Hazard"), lambda h: _code(people_codes.RentalHazard)(h.hazard)),
    (_("Active"), lambda h: _yes(h.is_active)),
)
UNIT_COLUMNS = (
    (_("Area"), lambda u: u.area.name),
    (_("Area code"), lambda u: codes.display(u.area_code, u.area.level)),
    (_("Unit kind"), lambda u: str(UnitKind(u.kind).label) if u.kind in UnitKind.values else ""),
    (_("Unified social credit code"), lambda u: u.uscc),
    (_("Name"), lambda u: u.name),
    (_("Address"), lambda u: u.address),
    (_("Phone"), lambda u: u.phone),
    (_("Employees"), lambda u: "" if u.employees is None else u.employees),
    (_("Legal representative"), lambda u: _masked(u, "legal_rep_name")),
    (_("Legal representative's ID number"), lambda u: _masked(u, "legal_rep_id_number")),
    (_("Legal representative's phone"), lambda u: _masked(u, "legal_rep_phone")),
    (_("Security officer"), lambda u: _masked(u, "security_name")),
    (_("Security officer's phone"), lambda u: _masked(u, "security_phone")),
    (_("Type"), lambda u: u.category_label() if hasattr(u, "category_label") else u.category),
    (_("Handles hazardous chemicals"), lambda u: _yes(u.is_hazardous_chemicals)),
    (_("Safety hazard"), lambda u: _code(people_codes.SafetyHazard)(u.hazard)),
    (_("Attention level"), lambda u: _code(people_codes.Attention)(u.attention)),
    (_("Has a CPC organisation"), lambda u: _yes(u.has_party_org)),
    (_("Active"), lambda u: _yes(u.is_active)),
)
COLUMNS = {"persons": PERSON_COLUMNS, "houses": HOUSE_COLUMNS, "units": UNIT_COLUMNS}


def clean_filters(kind: str | None, raw) -> dict:
    """The list filters an export keeps (the same names as the list pages' query string);
    `kind` None keeps the filters of every class."""
    filters = {}
    for name in FILTERS:
        value = (raw.get(name) if raw is not None else None) or ""
        value = str(value).strip()[:60]
        if value:
            filters[name] = value
    if kind is None:
        return filters
    if kind != "persons":
        filters.pop("kind", None)
    if kind != "houses":
        filters.pop("rental", None)
    if kind != "units":
        filters.pop("unit_kind", None)
    return filters


def masked_filters(filters: dict) -> dict:
    """Filters as the audit log may hold them: a searched ID number or phone masked."""
    shown = dict(filters)
    q = shown.get("q")
    if q:
        how = classify(q)
        if how == "id_number":
            shown["q"] = mask_id_number(q)
        elif how == "phone":
            shown["q"] = mask_phone(q)
    return shown


def export_queryset(kind: str, actor, filters: dict):
    """The rows an export holds: in the exporter's reach, narrowed by the filters."""
    model = MODELS[kind]
    queryset = model.objects.restrict(actor, "view")
    area_id = filters.get("area", "")
    if area_id.isdigit():
        area = Area.objects.in_scope(actor).filter(pk=area_id).first()
        queryset = queryset.subtree(area.prefix) if area is not None else queryset.none()
    if filters.get("q"):
        queryset = queryset.search(filters["q"])
    status = filters.get("status", "")
    if status == "inactive":
        queryset = queryset.filter(is_active=False)
    elif status != "all":
        queryset = queryset.filter(is_active=True)
    if kind == "persons":
        if filters.get("kind") in ResidencyKind.values:
            queryset = queryset.filter(residencies__kind=filters["kind"],
                                       residencies__is_active=True).distinct()
        queryset = queryset.select_related("area").prefetch_related("residencies")
    elif kind == "houses":
        if filters.get("rental") == "1":
            queryset = queryset.filter(is_rental=True)
        queryset = queryset.select_related("area", "building")
    else:
        if filters.get("unit_kind") in UnitKind.values:
            queryset = queryset.filter(kind=filters["unit_kind"])
        queryset = queryset.select_related("area")
    return queryset.order_by("area_code", "pk")


def start_export(*, actor, kind: str, fmt: str, filters: dict):
    if kind not in MODELS:
        raise ServiceError("invalid", field_messages={"kind": [gettext("Choose what to export.")]})
    if fmt not in FORMATS:
        raise ServiceError("invalid", field_messages={"format": [gettext("Choose Excel or CSV.")]})
    if not can(actor, Person, "export"):
        raise ServiceError("forbidden", gettext("Your position does not allow exports."),
                           status=403)
    filters = clean_filters(kind, filters)
    return start_job(actor=actor, kind=JOB_KIND, title=gettext("Export: %(what)s") % {
        "what": gettext(TITLES[kind])}, params={"kind": kind, "format": fmt, "filters": filters})


def watermark(actor, stamp, trace: str) -> str:
    name = getattr(actor, "display_name", "") or actor.get_full_name() or actor.username
    return gettext("Exported by %(name)s (%(username)s) at %(time)s · trace %(trace)s · "
                   "personal data masked · for official use only, do not forward.") % {
        "name": name, "username": actor.username, "time": stamp.strftime("%Y-%m-%d %H:%M:%S"),
        "trace": trace}


@job_handler(JOB_KIND)
def run_export(job, progress) -> dict:
    actor = job.created_by
    kind = job.params.get("kind", "persons")
    fmt = job.params.get("format", "xlsx")
    filters = job.params.get("filters") or {}
    if not can(actor, Person, "export"):
        raise ServiceError("forbidden", gettext("Your position does not allow exports."),
                           status=403)
    queryset = export_queryset(kind, actor, filters)
    total = queryset.count()
    progress.total(total)
    stamp = timezone.localtime()
    trace = uuid.uuid4().hex[:16]
    mark = watermark(actor, stamp, trace)
    columns = COLUMNS[kind]
    headers = [gettext(title) for title, _value in columns]

    def rows():
        for obj in queryset.iterator(chunk_size=2000):
            progress.advance()
            yield [value(obj) for _title, value in columns]

    if fmt == "xlsx":
        content = write_xlsx(headers, rows(), sheet=gettext(TITLES[kind]), mark=mark, trace=trace,
                             actor=actor)
        filename = f"{kind}-{stamp:%Y%m%d-%H%M}.xlsx"
    else:
        encoding = "gb18030" if fmt == "csv-gb18030" else "utf-8"
        content = write_csv(headers, rows(), mark=mark, encoding=encoding)
        filename = f"{kind}-{stamp:%Y%m%d-%H%M}.csv"
    save_output(job, filename, content)
    audit.record(actor=actor, action="people.export", changes={
        "kind": kind, "format": fmt, "count": total, "filters": masked_filters(filters),
        "trace": trace, "file": filename})
    return {"rows": total, "trace": trace, "kind": kind, "format": fmt}


def write_xlsx(headers, rows, *, sheet: str, mark: str, trace: str, actor) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True,
                                        "strings_to_numbers": False,
                                        "strings_to_formulas": False})
    book.set_properties({"title": sheet, "author": actor.username, "company": "Zhili",
                         "comments": mark, "keywords": f"zhili-trace:{trace}"})
    book.set_custom_property("zhili_trace", trace)
    book.set_custom_property("zhili_exported_by", actor.username)
    worksheet = book.add_worksheet(sheet[:31])
    # Header and footer print on every page; "&&" is a literal ampersand in them.
    printed = mark.replace("&", "&&")
    worksheet.set_header("&L&8" + printed[:240])
    worksheet.set_footer("&L&8" + printed[:200] + "&R&P / &N")
    warning = book.add_format({"bold": True, "font_color": "#B00020"})
    bold = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1})
    text = book.add_format({"num_format": "@"})
    worksheet.write_string(0, 0, mark, warning)
    for col, header in enumerate(headers):
        worksheet.write_string(1, col, header, bold)
        worksheet.set_column(col, col, 16)
    worksheet.freeze_panes(2, 0)
    for index, row in enumerate(rows, start=2):
        for col, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, int) and not isinstance(value, bool):
                worksheet.write_number(index, col, value)
            else:
                worksheet.write_string(index, col, str(value), text)
    book.close()
    return buffer.getvalue()


def write_csv(headers, rows, *, mark: str, encoding: str = "utf-8") -> bytes:
    buffer = io.StringIO()
    buffer.write("# " + mark.replace("\n", " ") + "\n")
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    text = buffer.getvalue()
    if encoding == "utf-8":
        return ("\ufeff" + text).encode("utf-8")
    return text.encode(encoding, errors="replace")
