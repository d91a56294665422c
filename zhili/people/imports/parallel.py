"""Checking and encrypting rows of a large import in worker processes.

Python runs one thread at a time, and checking plus encrypting a row costs several times what
the database spends writing it, so on a machine with more than one core a large import hands
rows, a few thousand at a time, to forked worker processes: they run the same
`_Run.examine()` (pure: the registry's checks, the area lookup, `pii.encrypt` and
`pii.blind_index`, no database) and send back the encrypted rows, while this process reads the
file, keeps the order, refuses repeated ID numbers and writes. The database keeps a core of its
own, so workers are used from three cores up; on two, the preparing thread of `persons` is as
fast and costs less CPU (measured: the same rate, 15 % less CPU in all).

Workers are forked from the importing process, so they share its loaded state (the area index,
the keys) and never open a database connection; the inherited one is left untouched (a worker
exits without closing anything). Used on PostgreSQL only, for files of at least `MIN_ROWS`
rows, when the process has no other threads (forking a threaded process is unsafe);
`ZHILI_IMPORT_PROCESSES` sets the number of workers (0 turns this off).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections import deque

from django.conf import settings
from django.db import connection
from django.utils.translation import gettext as _

from zhili.people.imports.reader import FileProblem

MIN_ROWS = 20_000
CHUNK = 2_000
MAX_WORKERS = 4

_RUN = None  # the import being run: inherited by the forked workers


def workers_for(estimated_rows: int) -> int:
    """How many worker processes to use for a file of about `estimated_rows` rows (0: none)."""
    configured = getattr(settings, "ZHILI_IMPORT_PROCESSES", None)
    if configured is not None:
        count = int(configured)
    elif connection.vendor != "postgresql" or estimated_rows < MIN_ROWS:
        count = 0
    else:
        # One core stays with the database. With two cores in all, workers and the database
        # fight over the second one and a preparing thread does as well (measured), so
        # workers start at three cores.
        count = min((os.cpu_count() or 1) - 1, MAX_WORKERS)
    if count < 2 or "fork" not in multiprocessing.get_all_start_methods() or \
            threading.active_count() > 1:
        return 0
    return count


def _examine(chunk: list) -> tuple[list, int]:
    """In a worker: examine a chunk of rows; returns the outcomes and the fast-path count."""
    from zhili.people.imports.persons import SKIP

    run = _RUN
    before = run.checker.fast_rows
    slim = run.result.on_duplicate == SKIP
    out = []
    for number, cells, issues in chunk:
        pending, errors, warnings = run.examine(number, cells, issues)
        if pending is None:
            out.append((None, errors, warnings))
            continue
        # Plain tuples travel back cheaply; a skip-or-create import needs no cleaned values.
        cleaned = {"id_number": pending.id_number} if slim else pending.cleaned
        out.append(((cleaned, pending.given, pending.area, pending.bidx, pending.row,
                     pending.id_number), errors, warnings))
    return out, run.checker.fast_rows - before


def run_parallel(run, table, workers: int) -> None:
    """Read `table`, examine its rows in `workers` processes, admit and write them here."""
    from zhili.people.imports.persons import BATCH, Pending, blank_row, max_rows

    global _RUN
    _RUN = run
    context = multiprocessing.get_context("fork")
    pool = context.Pool(workers)
    window: deque = deque()
    state = {"batch": [], "handled": 0, "fast": 0}

    def collect() -> None:
        chunk, outcome = window.popleft()
        results, fast = outcome.get()
        state["fast"] += fast
        for (number, cells, _issues), (found, errors, warnings) in zip(chunk, results,
                                                                        strict=True):
            pending = None if found is None else Pending(number, cells, *found)
            admitted = run._admit(number, cells, pending, errors, warnings)
            if admitted is not None:
                state["batch"].append(admitted)
        state["handled"] += len(chunk)
        if state["handled"] >= BATCH:
            flush()

    def flush() -> None:
        run._flush(state["batch"], run.prepared_rejects)
        if run.progress is not None:
            run.progress.advance(state["handled"])
        state["batch"], state["handled"] = [], 0

    try:
        limit = max_rows()
        issues = table.issues
        chunk: list = []
        for number, cells in table.rows:
            if blank_row(cells):
                continue
            run.result.submitted += 1
            if run.result.submitted > limit:
                raise FileProblem(_("The file has more than %(n)d rows: split it into several "
                                    "files.") % {"n": limit})
            chunk.append((number, cells, issues.get(number)))
            if len(chunk) >= CHUNK:
                window.append((chunk, pool.apply_async(_examine, (chunk,))))
                chunk = []
                if len(window) >= 2 * workers:
                    collect()
        if chunk:
            window.append((chunk, pool.apply_async(_examine, (chunk,))))
        while window:
            collect()
        flush()
        pool.close()
    finally:
        pool.terminate()
        pool.join()
        _RUN = None
    run.checker.fast_rows += state["fast"]
