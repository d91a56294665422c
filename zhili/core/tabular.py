"""Reading and writing tables (CSV in UTF-8 or GB18030, XLSX) for every import and export.

Chinese Excel saves CSV in GBK/GB18030, so a CSV that is not valid UTF-8 is decoded as
GB18030; anything that is neither is refused with a message saying so, never guessed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _

XLSX_MAGIC = b"PK\x03\x04"


class TableError(ValueError):
    """The file as a whole cannot be read (wrong type, encoding, size, missing columns)."""


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line/row number as the user sees it, values)
    encoding: str


def decode_csv_bytes(data: bytes) -> tuple[str, str]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise TableError(_("The file is neither UTF-8 nor GB18030 text; save it as CSV (UTF-8) or "
                       "as an Excel .xlsx file."))


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores codes typed as numbers as floats
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


def read_table(data: bytes, filename: str, *, required: Iterable[str] = (),
               aliases: dict[str, str] | None = None, max_rows: int = 200_000) -> Table:
    """Parse an uploaded CSV or XLSX into rows keyed by canonical column names.

    `aliases` maps other header spellings (e.g. Chinese headers) to canonical names.
    """
    limit = settings.ZHILI_MAX_UPLOAD_MB * 1024 * 1024
    if len(data) > limit:
        raise TableError(_("The file is %(size).1f MB; the limit is %(limit)d MB.")
                         % {"size": len(data) / 1048576, "limit": settings.ZHILI_MAX_UPLOAD_MB})
    if not data.strip():
        raise TableError(_("The file is empty."))
    name = (filename or "").lower()
    if data.startswith(XLSX_MAGIC) or name.endswith((".xlsx", ".xls")):
        raw_rows, encoding = _read_xlsx(data), "xlsx"
    else:
        text, encoding = decode_csv_bytes(data)
        raw_rows = list(csv.reader(io.StringIO(text)))
    if not raw_rows:
        raise TableError(_("The file is empty."))
    aliases = {k.strip().lower(): v for k, v in (aliases or {}).items()}
    headers = [aliases.get(_cell(h).lower(), _cell(h).lower()) for h in raw_rows[0]]
    missing = [col for col in required if col not in headers]
    if missing:
        raise TableError(_("Missing columns: %(cols)s. The first row must hold the column names.")
                         % {"cols": ", ".join(missing)})
    rows = []
    for number, raw in enumerate(raw_rows[1:], start=2):
        values = [_cell(v) for v in raw]
        if not any(values):
            continue
        rows.append((number, {h: (values[i] if i < len(values) else "")
                              for i, h in enumerate(headers) if h}))
        if len(rows) > max_rows:
            raise TableError(_("The file has more than %(n)d rows; split it.") % {"n": max_rows})
    return Table(headers=headers, rows=rows, encoding=encoding)


def _read_xlsx(data: bytes) -> list[list]:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        sheet = workbook.get_sheet_by_index(0)
        return sheet.to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises several types for broken files
        raise TableError(_("The Excel file cannot be read (%(err)s).")
                         % {"err": type(exc).__name__}) from None


def write_csv(headers: list[str], rows: Iterable[Iterable], *, encoding: str = "utf-8") -> bytes:
    """CSV bytes; UTF-8 gets a BOM so Excel on Windows opens it as UTF-8."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    writer.writerows(rows)
    text = buffer.getvalue()
    if encoding == "utf-8":
        return ("\ufeff" + text).encode("utf-8")
    return text.encode(encoding)


def write_xlsx(headers: list[str], rows: Iterable[Iterable], *, sheet: str = "data",
               footer: str | None = None) -> bytes:
    """XLSX bytes, written streaming (constant memory) with a frozen, bold header row."""
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True, "constant_memory": True,
                                            "strings_to_numbers": False})
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    text = workbook.add_format({"num_format": "@"})
    worksheet.freeze_panes(1, 0)
    for col, header in enumerate(headers):
        worksheet.write_string(0, col, header, bold)
    row_index = 0
    for row_index, row in enumerate(rows, start=1):
        for col, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, int | float) and not isinstance(value, bool):
                worksheet.write_number(row_index, col, value)
            else:
                # Codes are text: keep leading zeros and stop Excel turning them into 3.2E+14.
                worksheet.write_string(row_index, col, str(value), text)
    if footer:
        worksheet.write_string(row_index + 2, 0, footer)
    workbook.close()
    return buffer.getvalue()


def iter_chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
