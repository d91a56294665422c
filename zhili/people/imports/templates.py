"""The downloadable Excel templates, one per importable class.

Sheet 1 holds the column names (in the user's language; Chinese when the catalogue has no
translation yet) with required columns in red, each with a note saying what to write, and the
columns typed as text so Excel keeps leading zeros and all 18 characters of an ID number.
Coded columns offer a drop-down of the standard's names. The notes sheet explains every column
with an example; the code sheet lists the code tables (code, standard name, label).
"""

from __future__ import annotations

import io

from django.utils import translation
from django.utils.translation import gettext as _

from zhili.people.imports import columns as cols

DATA_ROWS = 20_000  # rows prepared (text format, drop-downs) below the header
EXAMPLES = {
    "area": "320612001001001", "id_type": "居民身份证", "id_number": "320612199003051238",
    "name": "张三", "sex": "男", "birth_date": "1990-03-05", "ethnicity": "汉族",
    "native_place": "320612", "marital_status": "已婚", "political_status": "群众",
    "education": "大学本科教育", "religion": "无宗教信仰", "occupation": "教师",
    "workplace": "南通市某小学", "phone": "13812345678", "registered_place": "320612",
    "registered_address": "江苏省南通市通州区金沙街道东市路12号",
    "current_address": "江苏省南通市通州区金沙街道东市路12号", "lng": "120.9876543",
    "lat": "32.0123456", "estate": "东市花园", "floors": "18", "units": "2",
    "households": "72", "leader_name": "李四", "leader_phone": "13912345678",
    "number": "3-2-501", "address": "江苏省南通市通州区金沙街道东市路12号3幢2单元501室",
    "is_rental": "是", "owner_name": "王五", "owner_id_number": "320612198001011235",
    "owner_phone": "13712345678", "rental_use": "住房", "hazard": "无", "kind": "企业",
    "uscc": "91320612MA1XXXXXX0", "employees": "35", "legal_rep_name": "赵六",
    "attention": "低", "category": "内资企业", "floor_area": "89.5", "use": "住宅",
}


def header_text(column: cols.Column) -> str:
    """The column's name: in Chinese the standard's wording (GB/T 31000, what clerks know and
    what other systems export), in any other language the translated label."""
    language = translation.get_language() or ""
    if language.startswith("zh") and column.zh:
        return column.zh
    return column.header()


def write_template(kind_key: str) -> bytes:
    import xlsxwriter

    kind = cols.kinds()[kind_key]
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    text = book.add_format({"num_format": "@"})
    head = book.add_format({"bold": True, "bg_color": "#E8EEF7", "border": 1,
                            "num_format": "@"})
    required = book.add_format({"bold": True, "bg_color": "#FDE8E8", "font_color": "#B00020",
                                "border": 1, "num_format": "@"})
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})

    data = book.add_worksheet(kind.sheet)
    notes = book.add_worksheet(_("Notes")[:31])
    code_sheet = book.add_worksheet(_("Code tables")[:31])

    # Code tables first: the drop-downs of the data sheet point at them.
    tables = []
    for column in kind.columns:
        if column.table is not None and column.table not in tables:
            tables.append(column.table)
    ranges = {}
    for index, table in enumerate(tables):
        base = index * 4
        code_sheet.write_string(0, base, f"{table.title} ({table.standard})", bold)
        code_sheet.write_row(1, base, [_("Code"), _("Standard name"), _("Label")], bold)
        for row, code in enumerate(table.codes(), start=2):
            code_sheet.write_string(row, base, code, text)
            code_sheet.write_string(row, base + 1, table.standard_name(code))
            code_sheet.write_string(row, base + 2, table.label(code))
        last = 2 + len(table.codes())
        letter = _letter(base + 1)
        ranges[table] = f"='{code_sheet.name}'!${letter}$3:${letter}${last}"
        code_sheet.set_column(base, base + 2, 16)

    data.freeze_panes(1, 0)
    for col, column in enumerate(kind.columns):
        label = header_text(column)
        data.write_string(0, col, label, required if column.required else head)
        data.set_column(col, col, max(12, min(40, len(label) * 2 + 4)), text)
        hint = _hint(column)
        if hint or column.required:
            note = (_("Required.") + " " if column.required else "") + hint
            data.write_comment(0, col, note, {"x_scale": 2, "y_scale": 1.5})
        if column.table is not None:
            data.data_validation(1, col, DATA_ROWS, col, {
                "validate": "list", "source": ranges[column.table],
                "error_type": "information", "ignore_blank": True,
                "input_title": label[:32],
                "input_message": _("Pick from the list, or type a code.")[:255],
            })

    notes.write_row(0, 0, [_("Column"), _("Required"), _("What to write"), _("Example")],
                    bold)
    notes.set_column(0, 0, 26)
    notes.set_column(1, 1, 10)
    notes.set_column(2, 2, 80, wrap)
    notes.set_column(3, 3, 40)
    for row, column in enumerate(kind.columns, start=1):
        names = header_text(column)
        if column.zh and column.zh != names:
            names = f"{names} ({column.zh})"
        notes.write_row(row, 0, [names, _("yes") if column.required else "",
                                 _hint(column), EXAMPLES.get(column.field, "")])
    tail = len(kind.columns) + 2
    for offset, line in enumerate(_general_notes()):
        notes.write_string(tail + offset, 0, line)
    book.close()
    return buffer.getvalue()


def _hint(column: cols.Column) -> str:
    if column.table is not None:
        return _("A code or name from the table %(table)s (%(standard)s) on the code sheet.") % {
            "table": column.table.title, "standard": column.table.standard}
    return _(column.hint) if column.hint else ""


def _general_notes() -> list[str]:
    return [
        _("Keep the first row (the column names); columns may be left out unless required, "
          "and their order does not matter."),
        _("One record per row; empty rows are skipped. Do not merge cells."),
        _("Formulas are read as their last computed value: save the file in Excel before "
          "uploading it."),
        _("A CSV file may be saved as UTF-8 or as GB18030/GBK (Excel's \"CSV\")."),
        _("Every upload is checked first: nothing is written until you have seen the problems "
          "and chosen to import."),
    ]


def _letter(index: int) -> str:
    from zhili.people.imports.reader import column_letter

    return column_letter(index)
