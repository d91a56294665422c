"""The import as a background job, and the error file a clerk downloads to fix the rows.

Job kind `people.import`; params: `kind` ("persons", "buildings", "houses", "units"),
`dry_run`, `strict`, `on_duplicate`. The upload is the job's input file; the result is the
import's summary (`ImportResult.as_dict()`); when rows were refused the job's output file is
the error file: the refused rows as they were, with their problems, ready to be corrected and
uploaded again (its two extra columns are ignored on upload), and the list of problems.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path

from django.core.files import File
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from zhili.core.jobs import job_handler, save_output, start_job
from zhili.core.services import ServiceError
from zhili.people.imports import columns as cols
from zhili.people.imports.persons import ON_DUPLICATE, SKIP, ImportResult, import_persons

JOB_KIND = "people.import"


def start_import(*, actor, kind: str, upload_name: str, upload=None, data: bytes | None = None,
                 source_job=None, dry_run: bool = True, strict: bool = True,
                 on_duplicate: str = SKIP):
    """Queue a check (`dry_run`) or an import of an uploaded file (`upload`, a Django file,
    stored without being read into memory; or `data`), or of the file of an earlier job
    (`source_job`, e.g. the check the user just read)."""
    if kind not in cols.kinds():
        raise ServiceError("invalid", field_messages={"kind": [_("Choose what to import.")]})
    if on_duplicate not in ON_DUPLICATE:
        raise ServiceError("invalid", field_messages={"on_duplicate": [
            _("Choose whether to skip or update records already registered.")]})
    title = (_("Import check: %(file)s") if dry_run else _("Import: %(file)s")) % {
        "file": upload_name}
    name = Path(upload_name).name or "upload.csv"
    with transaction.atomic():  # the task is queued when the file is stored too
        job = start_job(actor=actor, kind=JOB_KIND, title=title[:200], params={
            "kind": kind, "dry_run": dry_run, "strict": strict, "on_duplicate": on_duplicate,
            "file": name, "source_job": source_job.pk if source_job is not None else None,
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
    kind = params.get("kind", "persons")
    options = {"dry_run": bool(params.get("dry_run", True)),
               "strict": bool(params.get("strict", True)),
               "on_duplicate": params.get("on_duplicate", SKIP)}
    name = params.get("file") or Path(job.input_file.name).name
    try:
        with _source(job) as source:
            if kind == "persons":
                result = import_persons(actor=job.created_by, path_or_file=source,
                                        filename=name, progress=progress, **options)
            else:
                from zhili.people.imports.registry import import_records

                result = import_records(kind, actor=job.created_by, path_or_file=source,
                                        filename=name, progress=progress, **options)
    except ServiceError as exc:
        return {"kind": kind, **options, "file_error": exc.message, "errors": [],
                "error_count": 0, "submitted": 0}
    summary = result.as_dict()
    if result.errors or result.file_error:
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        save_output(job, f"{Path(name).stem or 'import'}-errors-{stamp}.xlsx",
                    error_file(result))
    return summary


@contextlib.contextmanager
def _source(job):
    """The uploaded file: its path when the storage has one (read in place, however large),
    else an open file."""
    try:
        path = job.input_file.path
    except NotImplementedError:
        with job.input_file.open("rb") as handle:
            yield handle
        return
    yield path


def error_file(result: ImportResult) -> bytes:
    """An .xlsx: sheet 1 the refused rows (original columns, plus where they were and what is
    wrong), sheet 2 every problem by row and column."""
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False})
    bold = book.add_format({"bold": True})
    text = book.add_format({"num_format": "@"})
    wrap = book.add_format({"text_wrap": True, "font_color": "#B00020"})
    rows = book.add_worksheet(_("Rows to fix")[:31])
    problems_by_row: dict[int, list[str]] = {}
    for issue in result.errors:
        where = f"{issue.column} ({issue.letter})" if issue.letter else issue.column
        problems_by_row.setdefault(issue.row, []).append(f"{where}: {issue.message}")
    headers = [_(cols.ROW_COLUMN), _(cols.PROBLEM_COLUMN), *result.headers]
    rows.write_row(0, 0, headers, bold)
    rows.freeze_panes(1, 2)
    rows.set_column(1, 1, 60)
    for index, (number, cells) in enumerate(result.bad_rows, start=1):
        rows.write_number(index, 0, number)
        rows.write_string(index, 1, "\n".join(problems_by_row.get(number, [])), wrap)
        for col, value in enumerate(cells[:len(result.headers)], start=2):
            if value is None or value == "":
                continue
            if hasattr(value, "isoformat"):
                value = value.isoformat()
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            rows.write_string(index, col, str(value), text)
    listing = book.add_worksheet(_("Problems")[:31])
    listing.write_row(0, 0, [_("Row"), _("Column"), _("Problem")], bold)
    listing.set_column(2, 2, 90)
    line = 1
    if result.file_error:
        listing.write_row(line, 0, ["", "", result.file_error])
        line += 1
    for issue in result.errors:
        where = f"{issue.column} ({issue.letter})" if issue.letter else issue.column
        listing.write_row(line, 0, [issue.row, where, issue.message])
        line += 1
    if result.rejected > len(result.bad_rows):
        listing.write_string(line, 2, _("… and more: only the first %(n)d refused rows are "
                                        "listed.") % {"n": len(result.bad_rows)})
    book.close()
    return buffer.getvalue()
