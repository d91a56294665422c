"""Streaming reads of an uploaded table: CSV (UTF-8 or GB18030/GBK, detected) or Excel.

Unlike `core.tabular.read_table`, rows are yielded one at a time, so a file of a million rows
never becomes a million dicts: CSV is decoded and parsed as it is read; an Excel sheet is held
by calamine in compact native memory and handed over row by row. What a spreadsheet adds to a
plain table is resolved here, with a message per cell a clerk can act on:

- a title row above the column names is skipped (the header row is found among the first rows);
- empty rows are skipped silently;
- cells merged down one column (a grid written once for ten people) give their value to every
  row they cover, with a warning; cells merged across columns are an error on their rows;
- formulas give their last computed value; a formula without one (never calculated, or an
  Excel error such as #REF!) is an error on its cell.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from xml.parsers import expat

from django.utils.translation import gettext as _

XLSX_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # legacy .xls
HEADER_SEARCH_ROWS = 10
CHUNK = 1 << 20


class FileProblem(ValueError):
    """The file as a whole cannot be imported; the message says why and what to do."""


@dataclass
class CellIssue:
    row: int
    col: int  # 0-based position in the row as yielded (header position)
    message: str
    warning: bool = False


@dataclass
class Table:
    """An opened file: the header row and an iterator over the data rows."""

    headers: list[str]
    header_row: int  # as the user numbers rows (1-based)
    rows: Iterator[tuple[int, list]]  # (row number as the user sees it, cell values)
    encoding: str  # "utf-8", "gb18030" or "xlsx"
    estimated_rows: int
    issues: dict[int, list[CellIssue]] = field(default_factory=dict)  # by row number
    notices: list[str] = field(default_factory=list)  # about the whole file
    _closers: list = field(default_factory=list)

    def close(self) -> None:
        for closer in self._closers:
            with contextlib.suppress(OSError):  # best-effort clean-up
                closer()
        self._closers.clear()


def column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell_ref(row: int, col: int) -> str:
    return f"{column_letter(col)}{row}"


# --- opening ---------------------------------------------------------------------------------


def _as_path(source, filename: str | None) -> tuple[Path, list]:
    """A path on disk for the source (a path, bytes, or a binary file object)."""
    if isinstance(source, str | os.PathLike):
        return Path(source), []
    suffix = Path(filename or getattr(source, "name", "") or "").suffix[:8]
    with tempfile.NamedTemporaryFile(prefix="zhili-import-", suffix=suffix,
                                     delete=False) as handle:
        if isinstance(source, bytes | bytearray | memoryview):
            handle.write(source)
        else:
            if hasattr(source, "seek"):
                with contextlib.suppress(OSError, ValueError):
                    source.seek(0)
            shutil.copyfileobj(source, handle, CHUNK)
    path = Path(handle.name)
    return path, [lambda: path.unlink(missing_ok=True)]


def open_table(source, *, filename: str | None = None, fmt: str | None = None,
               find_header=None) -> Table:
    """Open `source` (a path, bytes or a binary file) as CSV or Excel (`fmt` "csv"/"xlsx", or
    None to tell from the content). `find_header(cells) -> int` scores a row as the header row
    (how many cells name a known column)."""
    path, closers = _as_path(source, filename)
    try:
        if not path.exists() or path.stat().st_size == 0:
            raise FileProblem(_("The file is empty."))
        with path.open("rb") as handle:
            head = handle.read(8)
        if fmt not in (None, "", "csv", "xlsx", "xls"):
            raise FileProblem(_("Unknown format %(fmt)s: use CSV or Excel (.xlsx).")
                              % {"fmt": fmt})
        excel = head.startswith((XLSX_MAGIC, OLE_MAGIC)) if not fmt else fmt != "csv"
        table = _open_excel(path, find_header, xlsx=head.startswith(XLSX_MAGIC)) if excel \
            else _open_csv(path, find_header)
    except BaseException:
        for closer in closers:
            closer()
        raise
    table._closers.extend(closers)
    return table


def _pick_header(first_rows: list[tuple[int, list]], find_header) -> int:
    """The index in `first_rows` of the header row: the best-scoring of the first rows (ties
    go to the earliest), or the first row when nothing is recognised."""
    if not first_rows or find_header is None:
        return 0
    scores = [find_header(cells) for _number, cells in first_rows]
    best = max(scores)
    return scores.index(best) if best > 0 else 0


def _blank(cells) -> bool:
    for value in cells:
        if value is not None and value != "" and not (isinstance(value, str) and
                                                      not value.strip()):
            return False
    return True


# --- CSV -------------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """"utf-8" (with or without BOM) or "gb18030" (what Chinese Excel writes as "CSV"), read
    incrementally so a large file is not held in memory. Anything else is refused."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head:
        raise FileProblem(_("The file is UTF-16 text (Excel's \"Unicode text\"): save it as "
                            "\"CSV UTF-8\" or as an Excel workbook (.xlsx)."))
    for encoding in ("utf-8", "gb18030"):
        decoder = codecs.getincrementaldecoder(encoding)()
        try:
            with path.open("rb") as handle:
                while chunk := handle.read(CHUNK):
                    decoder.decode(chunk)
                decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            continue
        return encoding
    raise FileProblem(_("The file is neither UTF-8 nor GB18030/GBK text, nor an Excel file: "
                        "save it from Excel as \"CSV UTF-8\" or as an Excel workbook (.xlsx)."))


def _count_lines(path: Path) -> int:
    lines = 0
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            lines += chunk.count(b"\n")
    return lines


def _open_csv(path: Path, find_header) -> Table:
    encoding = detect_encoding(path)
    text = path.open("r", encoding="utf-8-sig" if encoding == "utf-8" else encoding,
                     newline="")
    try:
        # Excel writes commas; a tab-separated export has tabs and no comma in its first line.
        line = text.readline()
        text.seek(0)
        delimiter = "\t" if "\t" in line and "," not in line else ","
        reader = csv.reader(text, delimiter=delimiter)

        def numbered_rows():
            number = 0
            try:
                for number, cells in enumerate(reader, start=1):
                    yield number, cells
            except csv.Error as exc:
                raise FileProblem(_("Row %(row)d of the file cannot be read as CSV (%(err)s): "
                                    "save it again from Excel.") % {"row": number + 1,
                                                                     "err": exc}) from None

        numbered = numbered_rows()
        first: list[tuple[int, list]] = []
        for number, cells in numbered:
            if not _blank(cells):
                first.append((number, cells))
            if len(first) >= HEADER_SEARCH_ROWS:
                break
        if not first:
            raise FileProblem(_("The file has no rows."))
        at = _pick_header(first, find_header)
        header_number, headers = first[at]
        pending = first[at + 1:]

        def rows():
            yield from pending
            yield from numbered

        table = Table(headers=[h.strip() for h in headers], header_row=header_number,
                      rows=rows(), encoding=encoding,
                      estimated_rows=max(0, _count_lines(path) - header_number))
    except BaseException:
        text.close()
        raise
    table._closers.append(text.close)
    if at:
        table.notices.append(_("Rows above row %(row)d were taken as a title and skipped.")
                             % {"row": header_number})
    return table


# --- Excel -----------------------------------------------------------------------------------

_FORMULA_RE = re.compile(rb"<(?:\w+:)?f[\s/>]")


def _first_sheet_part(archive: zipfile.ZipFile) -> str | None:
    """The zip member holding the first worksheet (the one calamine reads as index 0)."""
    try:
        workbook = archive.read("xl/workbook.xml")
        rels = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    first = re.search(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"", workbook) or \
        re.search(rb"<(?:\w+:)?sheet\b[^>]*?\bid=\"([^\"]+)\"", workbook)
    if not first:
        return None
    rid = first.group(1)
    for match in re.finditer(rb"<Relationship\b[^>]*>", rels):
        tag = match.group(0)
        if re.search(rb"\bId=\"" + re.escape(rid) + rb"\"", tag):
            target = re.search(rb"\bTarget=\"([^\"]+)\"", tag)
            if target:
                name = target.group(1).decode("utf-8")
                return name.lstrip("/") if name.startswith("/") else "xl/" + name
    return None


def _has_formulas(archive: zipfile.ZipFile, part: str) -> bool:
    tail = b""
    with archive.open(part) as handle:
        while chunk := handle.read(CHUNK):
            if _FORMULA_RE.search(tail + chunk):
                return True
            tail = chunk[-16:]
    return False


def _ref_to_cell(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    col = 0
    for char in letters:
        col = col * 26 + (ord(char) - 64)
    return int(ref[len(letters):]) - 1, col - 1


def formula_cells(path: Path) -> dict[tuple[int, int], str | None]:
    """{(row, col) 0-based: None when the formula has a usable computed value, else the reason}
    for every formula cell of the first sheet of an .xlsx (empty when there is none)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return {}
    with archive:
        part = _first_sheet_part(archive)
        if part is None or part not in archive.namelist() or not _has_formulas(archive, part):
            return {}
        found: dict[tuple[int, int], str | None] = {}
        state = {"ref": None, "type": "", "formula": False, "value": False, "in_v": False,
                 "text": []}

        def local(name: str) -> str:
            return name.rsplit(":", 1)[-1]

        def start(name, attrs):
            tag = local(name)
            if tag == "c":
                state.update(ref=attrs.get("r"), type=attrs.get("t", ""), formula=False,
                             value=False, text=[])
            elif tag == "f":
                state["formula"] = True
            elif tag == "v":
                state["in_v"] = True

        def end(name):
            tag = local(name)
            if tag == "v":
                state["in_v"] = False
                state["value"] = bool("".join(state["text"]).strip())
            elif tag == "c" and state["formula"] and state["ref"]:
                if state["type"] == "e":
                    reason = "error:" + "".join(state["text"]).strip()
                elif not state["value"]:
                    reason = "empty"
                else:
                    reason = None
                found[_ref_to_cell(state["ref"])] = reason

        def chars(data):
            if state["in_v"]:
                state["text"].append(data)

        parser = expat.ParserCreate(namespace_separator=None)
        parser.StartElementHandler, parser.EndElementHandler = start, end
        parser.CharacterDataHandler = chars
        parser.buffer_text = True
        with archive.open(part) as handle:
            parser.ParseFile(handle)
        return found


def _open_excel(path: Path, find_header, *, xlsx: bool) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
    except Exception as exc:  # calamine raises several types for broken files
        raise FileProblem(_("The Excel file cannot be read (%(err)s): save it again from "
                            "Excel as .xlsx.") % {"err": type(exc).__name__}) from None
    if sheet.start is None:
        raise FileProblem(_("The first sheet of the workbook is empty: the data must be on "
                            "the first sheet."))
    col0 = sheet.start[1]
    try:
        merged = list(sheet.merged_cell_ranges or [])
    except Exception:  # only .xlsx carries merge information
        merged = []
    formulas = formula_cells(path) if xlsx else {}
    iterator = iter(sheet.iter_rows())

    first: list[tuple[int, list]] = []
    for index, cells in enumerate(iterator):
        if not _blank(cells):
            first.append((index, list(cells)))
        if len(first) >= HEADER_SEARCH_ROWS:
            break
    if not first:
        raise FileProblem(_("The first sheet of the workbook is empty: the data must be on "
                            "the first sheet."))
    at = _pick_header(first, find_header)
    header_index, headers = first[at]
    header_number = header_index + 1
    table = Table(headers=[_header_text(h) for h in headers], header_row=header_number,
                  rows=iter(()), encoding="xlsx",
                  estimated_rows=max(0, (sheet.end[0] if sheet.end else 0) - header_index))
    width = len(headers)

    # Merged cells: in the header row an error for the file; across columns an error for each
    # row they cover; down one column the top value is copied to every row below it.
    fill: list[tuple[int, int, int]] = []  # (first row, last row, column), 0-based
    for (r0, c0), (r1, c1) in merged:
        if r1 < header_index:
            continue  # a title above the table
        ref = f"{_cell_ref(r0 + 1, c0)}:{_cell_ref(r1 + 1, c1)}"
        if r0 <= header_index:
            if c1 > c0:
                raise FileProblem(_("The column names in row %(row)d are merged cells (%(ref)s):"
                                    " give every column its own name in its own cell.")
                                  % {"row": header_number, "ref": ref})
            continue
        if c1 > c0:
            for row in range(r0, r1 + 1):
                _add(table, row + 1, c0 - col0, _(
                    "Cells %(ref)s are merged across columns: unmerge them and put each value "
                    "in its own column.") % {"ref": ref})
        elif r1 > r0:
            fill.append((r0, r1, c0 - col0))
            _add(table, r0 + 1, c0 - col0, _(
                "Cells %(ref)s are merged: the value was used for rows %(first)d–%(last)d.")
                % {"ref": ref, "first": r0 + 1, "last": r1 + 1}, warning=True)
    for (row, col), reason in formulas.items():
        if row <= header_index or reason is None:
            continue
        if reason.startswith("error:"):
            message = _("Cell %(ref)s is a formula whose result is an error (%(err)s): fix the "
                        "formula or type the value.") % {"ref": _cell_ref(row + 1, col),
                                                         "err": reason[6:] or "#"}
        else:
            message = _("Cell %(ref)s is a formula without a saved result: open the file in "
                        "Excel and save it again, or paste the values only.") % {
                "ref": _cell_ref(row + 1, col)}
        _add(table, row + 1, col - col0, message)
    computed = sum(1 for (row, _col), reason in formulas.items()
                   if reason is None and row > header_index)
    if computed:
        table.notices.append(_("%(n)d cells hold formulas: their computed values were used.")
                             % {"n": computed})
    if at:
        table.notices.append(_("Rows above row %(row)d were taken as a title and skipped.")
                             % {"row": header_number})

    pending = first[at + 1:]
    fill.sort()

    def rows():
        active: list[tuple[int, int, object]] = []  # (last row, column, value)
        queue = list(fill)

        def emit(index, cells):
            nonlocal active
            cells = list(cells[:width]) + [""] * (width - len(cells))
            while queue and queue[0][0] <= index:
                r0, r1, col = queue.pop(0)
                if r0 == index and 0 <= col < width:  # a merge whose top row was blank
                    active.append((r1, col, cells[col]))  # fills nothing

            if active:
                active = [a for a in active if a[0] >= index]
                for _last, col, value in active:
                    if cells[col] in ("", None):
                        cells[col] = value
            return cells

        for index, cells in pending:
            yield index + 1, emit(index, cells)
        for index, cells in enumerate(iterator, start=(pending[-1][0] if pending
                                                       else header_index) + 1):
            yield index + 1, emit(index, cells)

    table.rows = rows()
    table._closers.append(getattr(workbook, "close", lambda: None))
    return table


def _header_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _add(table: Table, row: int, col: int, message: str, *, warning: bool = False) -> None:
    table.issues.setdefault(row, []).append(CellIssue(row, col, str(message), warning))


def read_all(source, **kwargs) -> tuple[list[str], list[tuple[int, list]]]:
    """Headers and every row (tests, small files)."""
    table = open_table(source, **kwargs)
    try:
        return table.headers, list(table.rows)
    finally:
        table.close()


def sniff_bytes(data: bytes) -> str:
    """"xlsx" or "csv" for an upload's first bytes."""
    return "xlsx" if data[:4] in (XLSX_MAGIC, OLE_MAGIC) else "csv"


__all__ = ["CellIssue", "FileProblem", "Table", "column_letter", "detect_encoding",
           "formula_cells", "open_table", "read_all", "sniff_bytes"]
