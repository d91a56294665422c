"""Bulk import of persons: `import_persons()`, used by the import job, the API and the benchmark.

One pass over the file, in batches of `BATCH` rows: each row is checked (the registry's rules,
`checks.PersonChecker`), its place resolved (`checks.AreaIndex`, loaded once), its ID number
compared with the rows before it; then the batch's ID numbers are looked up in the registry in
one query on the blind index, and the batch is written in bulk (`writer.PersonWriter`).

What is written is decided by the user, never half-way:
- `dry_run=True` checks everything (the registry lookups included) and writes nothing;
- `strict=True` (the default) writes everything or nothing: one bad row and the whole import
  is rolled back (writing stops at the first bad row; checking goes on, so every bad row is
  reported at once);
- `strict=False` writes the good rows and reports the bad ones;
- a person already registered (same ID number) is skipped (`on_duplicate="skip"`) or updated
  with the non-empty cells of the row (`"update"`); a person registered elsewhere, out of the
  importer's reach, is not touched (an error says whom to ask), one who had moved away is
  taken over here, and one whose row names another place in reach is moved — those last two
  through the registry's services, so the modules that follow persons hear of it.

A file-wide problem (unreadable, wrong columns, too many rows) is `ImportResult.file_error`.
One audit record per import (not per row) says who imported what file with which outcome.
"""

from __future__ import annotations

import contextlib
import operator
import queue
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from zhili.core import audit, pii
from zhili.core.scoping import can, get_scope
from zhili.core.services import ServiceError
from zhili.people.choices import InactiveReason
from zhili.people.imports import columns as cols
from zhili.people.imports import parallel
from zhili.people.imports.checks import AreaIndex, PersonChecker
from zhili.people.imports.reader import FileProblem, column_letter, open_table
from zhili.people.imports.writer import PersonWriter
from zhili.people.models import Person
from zhili.people.validation import WARNINGS

SKIP, UPDATE = "skip", "update"
ON_DUPLICATE = (SKIP, UPDATE)
BATCH = 5000
MAX_KEPT = 100_000  # errors, warnings and bad rows kept for the error file
SHOWN = 1000  # errors kept in the job's result (the page); the file has all of them
# Prepare rows in a second thread while this one writes: on PostgreSQL the database works
# while Python does (measured: about 15 % faster); on SQLite the writes hold the interpreter, so
# a second thread only adds switching. None: decide by the database.
THREADED: bool | None = None


def threaded() -> bool:
    if THREADED is not None:
        return THREADED
    return connection.vendor == "postgresql"


def max_rows() -> int:
    return getattr(settings, "ZHILI_IMPORT_MAX_ROWS", 1_100_000)


@dataclass
class Issue:
    row: int
    field: str
    column: str  # the header as written in the file (or the template's, when absent)
    letter: str  # the spreadsheet column letter ("" when the file has no such column)
    message: str

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "column": self.column,
                "letter": self.letter, "message": self.message}


@dataclass
class ImportResult:
    """What an import did (or, for a dry run or a refused strict import, would do).

    `created + updated + skipped + rejected == submitted` (non-empty data rows). `written` is
    True only when rows were committed."""

    kind: str = "persons"
    dry_run: bool = False
    strict: bool = True
    on_duplicate: str = SKIP
    filename: str = ""
    encoding: str = ""
    submitted: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejected: int = 0
    refused: bool = False
    written: bool = False
    file_error: str = ""
    headers: list[str] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    warning_count: int = 0
    notices: list[str] = field(default_factory=list)
    bad_rows: list[tuple[int, list]] = field(default_factory=list)
    seconds: float = 0.0
    fast_rows: int = 0

    @property
    def error_count(self) -> int:
        return self.rejected + (1 if self.file_error else 0)

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.refused

    def as_dict(self, limit: int = SHOWN) -> dict:
        """JSON for the job's result (the page and the API)."""
        return {
            "kind": self.kind, "dry_run": self.dry_run, "strict": self.strict,
            "on_duplicate": self.on_duplicate, "file": self.filename,
            "encoding": self.encoding, "submitted": self.submitted, "created": self.created,
            "updated": self.updated, "skipped": self.skipped, "rejected": self.rejected,
            "valid": self.created + self.updated + self.skipped,
            "refused": self.refused, "written": self.written, "file_error": self.file_error,
            "error_count": len(self.errors), "errors": [e.as_dict() for e in
                                                         self.errors[:limit]],
            "warning_count": self.warning_count,
            "warnings": [w.as_dict() for w in self.warnings[:limit // 5]],
            "notices": self.notices, "seconds": round(self.seconds, 3),
        }


_DONE = object()


class _Refused(Exception):
    """Raised inside the import's transaction to roll a strict import back."""


@dataclass(slots=True)
class Pending:
    number: int
    cells: list
    cleaned: dict
    given: set
    area: tuple  # (id, code, name, level, active)
    bidx: str
    row: list | str  # the new person, encrypted: `PersonWriter.row` or `.row_text`
    id_number: str


class VisibleProgress:
    """A job's progress written where the user can see it during a long transaction.

    An import writes in one transaction (all or nothing), so the job row's progress, updated
    through the same connection, would stay invisible until the end. On PostgreSQL the updates
    go through a second, autocommitting connection instead. (SQLite has one writer at a time:
    there the bar moves while the file is checked, and jumps when the write commits.)"""

    def __init__(self, progress):
        self.progress = progress
        self.job = progress.job
        self._side = None
        self._last = 0.0

    @classmethod
    def wrap(cls, progress, *, writing: bool):
        if progress is None or not writing or connection.vendor != "postgresql" or \
                not hasattr(progress, "job"):
            return progress
        return cls(progress)

    def _write(self, **values) -> None:
        from django.db import connections

        from zhili.core.models import Job

        if self._side is None:
            self._side = connections.create_connection("default")
        quote = self._side.ops.quote_name
        sets = ", ".join(f"{quote(name)} = %s" for name in values)
        with self._side.cursor() as cursor:
            cursor.execute(f"UPDATE {quote(Job._meta.db_table)} SET {sets} WHERE id = %s",
                           [*values.values(), self.job.pk])

    def total(self, n: int) -> None:
        self.job.progress_total = n
        self._write(progress_total=n)

    def advance(self, n: int = 1) -> None:
        self.job.progress_done += n
        now = time.monotonic()
        if now - self._last > 0.5:
            self._last = now
            self._write(progress_done=self.job.progress_done)

    def close(self) -> None:
        if self._side is not None:
            self._side.close()
            self._side = None


def check_permission(actor, *, on_duplicate: str) -> None:
    needed = [("import", _("Your position does not allow importing persons.")),
              ("add", _("Your position does not allow registering persons."))]
    if on_duplicate == UPDATE:
        needed.append(("change", _("Your position does not allow changing persons: import "
                                   "with \"skip\" for persons already registered.")))
    for action, message in needed:
        if not can(actor, Person, action):
            raise ServiceError("forbidden", message, status=403)


def import_persons(*, actor, path_or_file, fmt: str | None = None, dry_run: bool = False,
                   on_duplicate: str = SKIP, strict: bool = True, progress=None,
                   filename: str | None = None) -> ImportResult:
    """Import persons from a CSV (UTF-8 or GB18030) or Excel file, as `actor`.

    `path_or_file`: a path, bytes or a binary file object; `fmt`: "csv", "xlsx" or None (tell
    from the content); `on_duplicate`: "skip" or "update" for ID numbers already registered;
    `strict`: all or nothing; `progress`: an object with `total(n)` and `advance(n)` (the job's
    `Progress`), or None. Raises `ServiceError` (403) when the actor may not import; every
    other problem is reported in the returned `ImportResult`.
    """
    if on_duplicate not in ON_DUPLICATE:
        raise ValueError(f"on_duplicate must be one of {ON_DUPLICATE}, not {on_duplicate!r}")
    check_permission(actor, on_duplicate=on_duplicate)
    started = time.perf_counter()
    name = filename or (Path(path_or_file).name if isinstance(path_or_file, str | Path)
                        else getattr(path_or_file, "name", "") or "")
    result = ImportResult(dry_run=dry_run, strict=strict, on_duplicate=on_duplicate,
                          filename=str(name))
    progress = VisibleProgress.wrap(progress, writing=not dry_run)
    run = _Run(actor, result, progress)
    try:
        if dry_run:
            run.execute(path_or_file, fmt)
        else:
            try:
                with transaction.atomic():
                    run.execute(path_or_file, fmt)
                    if result.rejected and strict:
                        raise _Refused
                    result.written = bool(result.created or result.updated)
                    run.audit()
            except _Refused:
                result.refused = True
                result.written = False
                run.audit()
    except FileProblem as exc:
        result.file_error = str(exc)
        result.written = False
        if not dry_run:
            run.audit()
    finally:
        run.close()
        if isinstance(progress, VisibleProgress):
            progress.close()
    result.seconds = time.perf_counter() - started
    return result


class _Run:
    """One import. Two threads share the work so that the database and Python work at once:
    a preparer thread reads, checks and encrypts rows (pure Python, no database), the calling
    thread — which holds the connection and the transaction — looks batches up in the registry
    and writes them. While the database ingests one batch the next is being prepared."""

    def __init__(self, actor, result: ImportResult, progress):
        self.actor = actor
        self.result = result
        self.progress = progress
        self.kind = cols.kinds()["persons"]
        self.table = None
        self.now = timezone.now()
        self.scope = get_scope(actor)
        self.seen: dict[str, int] = {}
        self.prepared_rejects = 0  # counted by the preparer thread
        self.written_rejects = 0  # counted by the writing thread
        self.lock = threading.Lock()  # guards the shared issue lists

    def close(self) -> None:
        if self.table is not None:
            self.table.close()

    # --- the pass over the file ---------------------------------------------------------------

    def execute(self, source, fmt) -> None:
        result = self.result
        kind = self.kind
        self.table = table = open_table(
            source, filename=result.filename, fmt=fmt,
            find_header=lambda cells: cols.recognised(kind, cells))
        result.encoding = table.encoding
        result.headers = list(table.headers)
        result.notices.extend(table.notices)
        match = cols.match_headers(kind, table.headers)
        check_headers(kind, match, table.header_row)
        self.positions = [(i, f) for i, f in enumerate(match.fields) if f and f != "area"]
        self.names = [f for _i, f in self.positions]
        self.width = len(match.fields)
        getter = operator.itemgetter(*[i for i, _f in self.positions])
        self.pick = getter if len(self.positions) > 1 else (lambda cells: (getter(cells),))
        self.area_position = match.fields.index("area")
        self.where = {f: (h, column_letter(i)) for i, (f, h) in
                      enumerate(zip(match.fields, table.headers, strict=True)) if f}
        self.checker = PersonChecker()
        self.areas = AreaIndex(self.actor)
        self.writer = PersonWriter(actor=self.actor, now=self.now)
        if self.progress is not None:
            self.progress.total(table.estimated_rows)
        workers = parallel.workers_for(table.estimated_rows)
        if workers:
            parallel.run_parallel(self, table, workers)
        elif threaded():
            self._pipeline()
        else:
            for batch, rejected_before, handled in self._batches(table):
                self._flush(batch, rejected_before)
                if self.progress is not None:
                    self.progress.advance(handled)
        result.rejected = self.prepared_rejects + self.written_rejects
        result.errors.sort(key=lambda issue: issue.row)
        result.bad_rows.sort(key=lambda row: row[0])
        result.warnings.sort(key=lambda issue: issue.row)
        result.fast_rows = self.checker.fast_rows

    def _batches(self, table):
        """Check and encrypt the rows; yield them in batches of `BATCH` rows read."""
        limit = max_rows()
        issues = table.issues
        batch: list[Pending] = []
        handled = 0
        for number, cells in table.rows:
            if blank_row(cells):
                continue
            self.result.submitted += 1
            handled += 1
            if self.result.submitted > limit:
                raise FileProblem(_("The file has more than %(n)d rows: split it into several "
                                    "files.") % {"n": limit})
            pending = self._check_row(number, cells, issues.get(number))
            if pending is not None:
                batch.append(pending)
            if handled >= BATCH:
                yield batch, self.prepared_rejects, handled
                batch, handled = [], 0
        yield batch, self.prepared_rejects, handled

    def _pipeline(self) -> None:
        """`_batches` in a preparer thread, the writes here (the thread with the connection
        and the transaction), with a few batches in between."""
        batches: queue.Queue = queue.Queue(maxsize=4)
        stop = threading.Event()
        language = translation.get_language()

        def put(item) -> bool:
            while not stop.is_set():
                try:
                    batches.put(item, timeout=0.2)
                    return True
                except queue.Full:
                    continue
            return False

        def prepare():
            if language:
                translation.activate(language)
            try:
                for item in self._batches(self.table):
                    if not put(item):
                        return
                put(_DONE)
            except BaseException as exc:  # handed to the writing thread, which raises it
                put(exc)

        preparer = threading.Thread(target=prepare, name="people-import-prepare", daemon=True)
        preparer.start()
        try:
            while True:
                item = batches.get()
                if item is _DONE:
                    break
                if isinstance(item, BaseException):
                    raise item
                batch, rejected_before, handled = item
                self._flush(batch, rejected_before)
                if self.progress is not None:
                    self.progress.advance(handled)
        finally:
            stop.set()
            while preparer.is_alive():
                with contextlib.suppress(queue.Empty):
                    batches.get(timeout=0.05)
            preparer.join()

    def _check_row(self, number: int, cells: list, cell_issues) -> Pending | None:
        return self._admit(number, cells, *self.examine(number, cells, cell_issues))

    def examine(self, number: int, cells: list, cell_issues):
        """Check and encrypt one row, without side effects (it may run in another process):
        `(pending or None, errors, warnings)`, both lists of (field, message)."""
        errors: list[tuple[str, str]] = []
        warnings: list[tuple[str, str]] = []
        width = len(cells)
        if width >= self.width:
            data = dict(zip(self.names, self.pick(cells), strict=True))
        else:
            data = {name: cells[position] if position < width else ""
                    for position, name in self.positions}
        if cell_issues:
            for issue in cell_issues:
                target = warnings if issue.warning else errors
                target.append((self._field_at(issue.col), issue.message))
        raw_id = data.get("id_number")
        if type(raw_id) is not str and isinstance(raw_id, int | float) and \
                not isinstance(raw_id, bool):
            if raw_id >= 1e15 or raw_id != int(raw_id):
                errors.append(("id_number", _(
                    "Excel stored this ID number as a number and lost its last digits: format "
                    "the column as text and type the number again.")))
                del data["id_number"]
            else:
                data["id_number"] = str(int(raw_id))
        cleaned, problems = self.checker.check(data)
        if problems:
            said = {name for name, _message in errors}  # a cell's own problem says it best
            for name, messages in problems.items():
                if name not in said:
                    errors.extend((name, message) for message in messages)
        if not cleaned.get("id_number") and "id_number" in data and "id_number" not in problems:
            errors.append(("id_number", _("Enter the ID number: it tells whether the person is "
                                          "registered already.")))
        area, message = self.areas.resolve(cells[self.area_position]
                                           if self.area_position < width else "")
        if message:
            errors.append(("area", message))
        if errors:
            return None, errors, warnings
        warnings.extend(("id_number", message) for message in cleaned.pop(WARNINGS, ()))
        id_number = cleaned["id_number"]
        given = {name for name, value in data.items() if value not in (None, "")} \
            if self.result.on_duplicate == UPDATE else set()
        bidx = pii.blind_index(id_number, pii.ID_NUMBER)
        # Encrypted now, before the registry is asked whether it knows the person (then the
        # row is skipped or updated instead): most rows of an import are new.
        build = self.writer.row_text if self.writer.vendor == "postgresql" else self.writer.row
        row = build(cleaned, area_id=area[0], area_code=area[1], id_bidx=bidx)
        return Pending(number, cells, cleaned, given, area, bidx, row, id_number), [], warnings

    def _admit(self, number: int, cells: list, pending: Pending | None, errors,
               warnings) -> Pending | None:
        """Record what `examine` found; refuse an ID number already on an earlier row."""
        for name, message in warnings:
            self._warn(number, name, message)
        if pending is None:
            self._reject(number, cells, errors)
            return None
        first = self.seen.get(pending.id_number)
        if first is not None:
            self._reject(number, cells, [("id_number", _(
                "This ID number is already on row %(row)d of the file.") % {"row": first})])
            return None
        self.seen[pending.id_number] = number
        return pending

    # --- a batch against the registry -----------------------------------------------------------

    def _flush(self, batch: list[Pending], rejected_before: int) -> None:
        result = self.result
        existing = self.writer.lookup([p.bidx for p in batch]) if batch else {}
        new, updates, slow = [], [], []
        for pending in batch:
            hit = existing.get(pending.bidx)
            if hit is None:
                new.append(pending)
                continue
            pk, area_code, active, reason = hit
            if result.on_duplicate == SKIP:
                result.skipped += 1
            elif not active and reason == InactiveReason.MOVED_AWAY:
                slow.append((pending, pk, "take_over"))
            elif not active:
                self._reject(pending.number, pending.cells, [("id_number", _(
                    "This ID number belongs to a person marked as no longer active (%(reason)s):"
                    " check the number, or make the record active again on its page first.")
                    % {"reason": InactiveReason(reason).label if reason in
                       InactiveReason.values else reason})], writer=True)
            elif not self.scope.covers_code(area_code):
                self._reject(pending.number, pending.cells, [("id_number", _(
                    "This ID number is already registered in another area. Ask that area to "
                    "record the move, or to mark the person as moved away."))], writer=True)
            elif area_code != pending.area[1]:
                slow.append((pending, pk, "move"))
            else:
                updates.append((pending, pk))
        writing = not result.dry_run and not (
            result.strict and (rejected_before or self.written_rejects))
        if writing:
            self.writer.insert([p.row for p in new])
            self.writer.update([(pk, _changed(p)) for p, pk in updates])
        result.created += len(new)
        result.updated += len(updates)
        for pending, pk, how in slow:
            if not writing:
                result.updated += 1
                continue
            try:
                self._through_services(pending, pk, how)
            except ServiceError as exc:
                fields = exc.field_messages or {"": [exc.message]}
                self._reject(pending.number, pending.cells,
                             [(name, m) for name, ms in fields.items() for m in ms],
                             writer=True)
            else:
                result.updated += 1

    def _through_services(self, pending: Pending, pk: int, how: str) -> None:
        from zhili.areas.models import Area
        from zhili.people import services, validation

        area = Area.objects.get(pk=pending.area[0])
        data = {name: pending.cleaned.get(name, "") for name in pending.given
                if name in validation.PERSON_FIELDS}
        with transaction.atomic():
            if how == "take_over":
                data.setdefault("id_number", pending.cleaned["id_number"])
                services.create_person(actor=self.actor, area=area, data=data, take_over=True)
                return
            person = Person.objects.get(pk=pk)
            data.pop("id_number", None)
            data.pop("id_type", None)
            if data:
                services.update_person(actor=self.actor, person=person, data=_raw(data))
                person.refresh_from_db()
            services.move_person(actor=self.actor, person=person, area=area)

    # --- bookkeeping ----------------------------------------------------------------------------

    def _field_at(self, position: int) -> str:
        for index, name in self.positions:
            if index == position:
                return name
        return "area" if position == self.area_position else ""

    def _issue(self, number: int, name: str, message: str) -> Issue:
        header, letter = self.where.get(name, ("", ""))
        if not header:
            column = next((c for c in self.kind.columns if c.field == name), None)
            header = column.header() if column else name
        return Issue(number, name, header, letter, str(message))

    def _reject(self, number: int, cells: list, errors: list[tuple[str, str]], *,
                writer: bool = False) -> None:
        result = self.result
        issues = [self._issue(number, name, message) for name, message in errors]
        with self.lock:
            if writer:
                self.written_rejects += 1
            else:
                self.prepared_rejects += 1
            if len(result.errors) < MAX_KEPT:
                result.errors.extend(issues)
            if len(result.bad_rows) < MAX_KEPT:
                result.bad_rows.append((number, list(cells)))

    def _warn(self, number: int, name: str, message: str) -> None:
        result = self.result
        issue = self._issue(number, name, message)
        with self.lock:
            result.warning_count += 1
            if len(result.warnings) < MAX_KEPT:
                result.warnings.append(issue)

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


def _changed(pending: Pending) -> dict:
    """The cleaned values of the cells the row gave (an update never clears a value)."""
    return {name: pending.cleaned[name] for name in pending.given if name in pending.cleaned}


def _raw(data: dict) -> dict:
    """Cleaned values as the services take them (they check again)."""
    return {name: value.isoformat() if hasattr(value, "isoformat") else value
            for name, value in data.items()}


def blank_row(cells) -> bool:
    for value in cells:
        if value is not None and value != "" and not (isinstance(value, str)
                                                      and not value.strip()):
            return False
    return True


def check_headers(kind: cols.Kind, match: cols.HeaderMatch, header_row: int) -> None:
    problems = []
    if match.missing:
        problems.append(_("Missing columns: %(cols)s.") % {
            "cols": ", ".join(f"{c.zh} ({c.header()})" if c.zh != c.header() else c.zh
                              for c in match.missing)})
    if match.unknown:
        problems.append(_("Unknown columns: %(cols)s.") % {"cols": ", ".join(match.unknown)})
    if match.repeated:
        problems.append(_("Columns given twice: %(cols)s.") % {
            "cols": ", ".join(match.repeated)})
    if problems:
        problems.append(_("Row %(row)d was read as the column names; use the column names of "
                          "the template (download it from the import page).")
                        % {"row": header_row})
        raise FileProblem(" ".join(problems))
