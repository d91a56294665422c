"""Subtree queries: the index range of `codes.range_q` against `LIKE 'prefix%'`.

Every scoped row carries an indexed 15-character area code, and the rows of a subtree are read
as one B-tree range, `area_code >= p AND area_code < next_prefix(p)` (zhili/core/codes.py). This
benchmark checks that choice on a city-scale table, on SQLite and PostgreSQL, for a subtree at
each level of the tree. For each it times COUNT(*) and the first 50 rows in area-code order with

(a) the range predicate, with the bounds computed by the project's own `codes.next_prefix`;
(b) `LIKE 'p%'`, spelled exactly as Django renders `area_code__startswith=p` on that backend;
(c) no filter at all: what counting / reading the whole table costs on this engine and machine.
    Subtree figures are also given as ratios against (c), which carry over between machines
    better than milliseconds do.

It deliberately bypasses the Django models (plain sqlite3 and psycopg on throwaway databases), so
that it needs no migrations and finishes in well under a minute. The table mirrors what Django
creates for a scoped model: `area_code` is `CharField(max_length=15, db_index=True)`, i.e.
varchar(15) with a plain B-tree index.
"""

from __future__ import annotations

import csv
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bench import PG_CONNINFO, Report, Skipped, throwaway_pg
from zhili.core import codes

TITLE = "Subtree queries"

ROOT = Path(__file__).resolve().parent.parent
DIVISIONS = ROOT / "zhili" / "demo" / "data" / "nantong-divisions.csv"

ROWS = int(os.environ.get("BENCH_SUBTREE_ROWS", 1_000_000))  # smaller values: quick trial runs
GRIDS_PER_VILLAGE = 6
SEED = 20250601  # fixed: every run measures the same table
REPEAT = 7  # timed runs per query, after one untimed warm-up; the median is reported
FIRST = 50  # rows of the "first page" query


@dataclass(frozen=True)
class Subtree:
    level: str
    prefix: str  # significant digits, as codes.range_q receives them
    note: str = ""


# One subtree per level along one path, plus a county at the other end of the code order: a
# LIKE that walks the index in order finds 320612 (the smallest county code) at once, 320685
# only after most of the index.
CITY = Subtree("city", "3206")
COUNTY = Subtree("county", "320612", "smallest county code")  # its plans are recorded
GRID = Subtree("grid", "320612001201003")
SUBTREES = (
    CITY,
    COUNTY,
    Subtree("town", "320612001"),
    Subtree("village", "320612001201"),
    GRID,
    Subtree("county", "320685", "largest county code"),
)

COLUMNS = "id, area_code, status, created_at, payload"
OPS = {
    "count": "SELECT COUNT(*) FROM bench_row{where}",
    "first": f"SELECT {COLUMNS} FROM bench_row{{where}} ORDER BY area_code LIMIT {FIRST}",
}
OP_TITLES = {"count": "COUNT(*)", "first": f"first {FIRST} rows ORDER BY area_code"}


# --- Data -------------------------------------------------------------------------------------


def load_grids() -> list[str]:
    """The padded codes of the generated grids: village code + 001…006."""
    with DIVISIONS.open(newline="", encoding="utf-8") as f:
        villages = [row["code"] for row in csv.DictReader(f) if row["level"] == "village"]
    return [f"{v}{n:03d}" for v in villages for n in range(1, GRIDS_PER_VILLAGE + 1)]


def generate_rows(grids: list[str]) -> list[tuple]:
    """ROWS scoped rows spread uniformly at random over the grids, in creation (id) order.

    Rows arrive in time order from all over the city, so id order is unrelated to area-code
    order: a subtree's rows are scattered over the table, as they would be in production.
    """
    rng = random.Random(SEED)
    start = datetime(2025, 1, 1)
    rows = []
    for i in range(1, ROWS + 1):
        code = grids[rng.randrange(len(grids))]
        status = rng.randrange(6)
        created = (start + timedelta(seconds=30 * i)).isoformat(sep=" ")
        rows.append((i, code, status, created, f"case {i:08d} in {code} status {status}"))
    return rows


# --- Engines ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    key: str
    label: str
    predicate: Callable[[str], tuple[str, list]]  # prefix -> (SQL condition, parameters)
    setup: Callable[[], None] | None = None  # run once before this variant is measured


class Engine:
    """A database under test: how to run a query, show its plan and classify that plan."""

    name = ""
    placeholder = ""

    def query(self, sql: str, params: list) -> list[tuple]:
        raise NotImplementedError

    def plan(self, sql: str, params: list) -> list[str]:
        raise NotImplementedError

    def access(self, plan: list[str]) -> str:
        """How the plan reaches the rows: 'index range', 'index, no range' (walked in order, or
        read whole as a covering index; a LIMIT may stop the walk early) or 'table scan'."""
        raise NotImplementedError

    def range_predicate(self, prefix: str) -> tuple[str, list]:
        # The same condition codes.range_q builds: bounds are digit strings, never sentinels.
        ph = self.placeholder
        upper = codes.next_prefix(prefix)
        if upper is None:
            return f"area_code >= {ph}", [prefix]
        return f"area_code >= {ph} AND area_code < {ph}", [prefix, upper]

    def variants(self) -> list[Variant]:
        raise NotImplementedError


class SQLiteEngine(Engine):
    name = "SQLite"
    placeholder = "?"

    def __init__(self, path: Path):
        self.con = sqlite3.connect(path, isolation_level=None)
        # The project's connection settings (zhili/config/settings.py); cache_size is left at
        # its default there, so it is here too.
        self.con.execute("PRAGMA journal_mode=WAL")
        self.con.execute("PRAGMA synchronous=NORMAL")

    def load(self, rows: list[tuple]) -> None:
        con = self.con
        con.execute(
            "CREATE TABLE bench_row (id integer NOT NULL PRIMARY KEY AUTOINCREMENT, "
            "area_code varchar(15) NOT NULL, status smallint unsigned NOT NULL, "
            "created_at datetime NOT NULL, payload text NOT NULL)"
        )
        con.execute("BEGIN")
        con.executemany("INSERT INTO bench_row VALUES (?, ?, ?, ?, ?)", rows)
        con.execute("COMMIT")
        # Indexing after the load is faster than before; the index is then denser than one grown
        # by inserts, which flatters all variants alike.
        con.execute('CREATE INDEX "bench_row_area_code" ON "bench_row" ("area_code")')
        # Fold the load out of the WAL, so reads do not go through a 100 MB write-ahead log.
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # Write the dirty pages out now rather than while the queries are being timed.
        os.sync()
        # No ANALYZE: Django never runs it, so the planner works without statistics, as in the app.

    def query(self, sql: str, params: list) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def plan(self, sql: str, params: list) -> list[str]:
        return [row[3] for row in self.con.execute("EXPLAIN QUERY PLAN " + sql, params)]

    def access(self, plan: list[str]) -> str:
        text = " ".join(plan)
        if "SEARCH" in text and "INDEX" in text:
            return "index range"
        if "INDEX" in text:
            return "index, no range"
        return "table scan"

    def variants(self) -> list[Variant]:
        return [
            Variant("range", "range", self.range_predicate),
            # Django's SQLite backend: "startswith": "LIKE %s ESCAPE '\\'", pattern bound as a
            # parameter. SQLite's LIKE is case-insensitive, so a BINARY index cannot serve it.
            Variant("like", "LIKE", lambda p: ("area_code LIKE ? ESCAPE '\\'", [p + "%"])),
        ]

    def close(self) -> None:
        self.con.close()


class PostgresEngine(Engine):
    name = "PostgreSQL"
    placeholder = "%s"

    def __init__(self, con):
        self.con = con

    def load(self, rows: list[tuple]) -> None:
        con = self.con
        con.execute(
            "CREATE TABLE bench_row (id bigint NOT NULL PRIMARY KEY, "
            "area_code varchar(15) NOT NULL, status smallint NOT NULL, "
            "created_at timestamp with time zone NOT NULL, payload text NOT NULL)"
        )
        with con.transaction(), con.cursor() as cur:
            cur.execute("SET LOCAL TimeZone = 'UTC'")
            with cur.copy(f"COPY bench_row ({COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        # The plain B-tree the task asks for. Django would add a second, varchar_pattern_ops
        # index ("_like") for a db_index CharField; that one is measured as its own variant.
        con.execute('CREATE INDEX "bench_row_area_code" ON "bench_row" ("area_code")')
        # What autovacuum would have done by the time anyone queries: planner statistics, and
        # the visibility map that lets COUNT(*) be answered from the index alone.
        con.execute("VACUUM ANALYZE bench_row")
        self.settle()

    def add_like_index(self) -> None:
        con = self.con
        con.execute(
            'CREATE INDEX "bench_row_area_code_like" ON "bench_row" '
            '("area_code" varchar_pattern_ops)'
        )
        con.execute("VACUUM ANALYZE bench_row")
        self.settle()

    def settle(self) -> None:
        """Write the load's dirty buffers out now: a checkpoint running while queries are timed
        made the scans of a trial run vary threefold."""
        from psycopg import errors

        # Only a superuser (or pg_checkpoint) may; without it the figures are just noisier.
        with suppress(errors.InsufficientPrivilege):
            self.con.execute("CHECKPOINT")

    def settings(self) -> list[str]:
        def show(name: str) -> str:
            return self.con.execute(f"SHOW {name}").fetchone()[0]

        collation = self.con.execute(
            "SELECT datcollate FROM pg_database WHERE datname = current_database()"
        ).fetchone()[0]
        return [
            f"PostgreSQL {show('server_version')}: database collation {collation}, "
            f"shared_buffers {show('shared_buffers')}, "
            f"max_parallel_workers_per_gather {show('max_parallel_workers_per_gather')}"
        ]

    def query(self, sql: str, params: list) -> list[tuple]:
        return self.con.execute(sql, params).fetchall()

    def plan(self, sql: str, params: list) -> list[str]:
        rows = self.con.execute("EXPLAIN (COSTS OFF) " + sql, params).fetchall()
        return [row[0].strip() for row in rows]

    def access(self, plan: list[str]) -> str:
        text = " ".join(plan)
        if "Index Cond" in text:
            return "index range"
        if "Index" in text:
            return "index, no range"
        return "table scan"

    def variants(self) -> list[Variant]:
        # Django's PostgreSQL backend renders startswith as `"area_code"::text LIKE %s`
        # (lookup_cast), with the value interpolated client-side (ClientCursor), as here.
        def like(prefix: str) -> tuple[str, list]:
            return "area_code::text LIKE %s", [prefix + "%"]

        return [
            Variant("range", "range", self.range_predicate),
            Variant("like", "LIKE", like),
            Variant("like_ops", "LIKE + `_like` index", like, setup=self.add_like_index),
        ]

    def close(self) -> None:
        self.con.close()


# --- Measurement ------------------------------------------------------------------------------


def median_ms(run: Callable[[], object]) -> float:
    """Median wall time of REPEAT runs, in ms, after one untimed warm-up run.

    Timed from the client, driver round trip included: the cost the application sees. The
    warm-up means every figure is a hot-cache figure.
    """
    run()
    times = []
    for _ in range(REPEAT):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


@dataclass
class Results:
    engine: str
    variants: list[Variant]
    baseline: dict[str, float]  # op -> ms, no filter
    timings: dict[tuple[str, str, str], float]  # (variant, op, prefix) -> ms
    counts: dict[str, int]  # prefix -> rows in the subtree
    # (variant or "none", op) -> (access, plan); for COUNTY, and the unfiltered baseline
    plans: dict[tuple[str, str], tuple[str, list[str]]]


def measure(engine: Engine) -> Results:
    def sql(op: str, condition: str | None) -> str:
        return OPS[op].format(where=f" WHERE {condition}" if condition else "")

    baseline = {op: median_ms(lambda op=op: engine.query(sql(op, None), [])) for op in OPS}
    results = Results(engine.name, engine.variants(), baseline, {}, {}, {})
    for op in OPS:
        plan = engine.plan(sql(op, None), [])
        results.plans["none", op] = (engine.access(plan), plan)
    for variant in results.variants:
        if variant.setup is not None:
            variant.setup()
        print(f"   {engine.name}: {variant.label}", flush=True)
        for subtree in SUBTREES:
            condition, params = variant.predicate(subtree.prefix)
            for op in OPS:
                query = sql(op, condition)
                rows = engine.query(query, params)
                check(results, variant, subtree, op, rows)
                results.timings[variant.key, op, subtree.prefix] = median_ms(
                    lambda q=query, p=params: engine.query(q, p)
                )
                if subtree == COUNTY:
                    plan = engine.plan(query, params)
                    results.plans[variant.key, op] = (engine.access(plan), plan)
    return results


def check(results: Results, variant: Variant, subtree: Subtree, op: str, rows: list) -> None:
    """Every variant must return the same rows, or the timings compare different work."""
    if op == "count":
        count = rows[0][0]
        expected = results.counts.setdefault(subtree.prefix, count)
        assert count == expected, f"{variant.label} counts {count} rows, range {expected}"
    else:
        assert len(rows) == min(FIRST, results.counts[subtree.prefix])
        assert all(row[1].startswith(subtree.prefix) for row in rows), variant.label


# --- Report -----------------------------------------------------------------------------------


def ms(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    if value >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def ratio(value: float) -> str:
    return f"{value:,.0f}×" if value >= 10 else f"{value:.2f}×"


def label(subtree: Subtree, *, note: bool = True) -> str:
    extra = f" ({subtree.note})" if note and subtree.note else ""
    return f"{subtree.level} `{subtree.prefix}`{extra}"


def table(results: Results, op: str) -> str:
    """One row per subtree: range ms and ratio to no filter; each LIKE variant vs the range."""
    others = [v for v in results.variants if v.key != "range"]
    base = "full count" if op == "count" else "unfiltered"
    head = ["Subtree", "Rows", "range ms", f"range ÷ {base}"]
    for v in others:
        head += [f"{v.label} ms", f"{v.label} ÷ range"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    cells = ["no filter (engine limit)", f"{ROWS:,}", ms(results.baseline[op]), "1.00×"]
    lines.append("| " + " | ".join(cells + ["", ""] * len(others)) + " |")
    for subtree in SUBTREES:
        range_ms = results.timings["range", op, subtree.prefix]
        cells = [
            label(subtree),
            f"{results.counts[subtree.prefix]:,}",
            ms(range_ms),
            ratio(range_ms / results.baseline[op]),
        ]
        for v in others:
            like_ms = results.timings[v.key, op, subtree.prefix]
            cells += [ms(like_ms), ratio(like_ms / range_ms)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plans(results: Results) -> str:
    head = "| Query | Access | Plan |\n|---|---|---|"
    lines = [head]
    labels = {"none": "no filter"} | {v.key: v.label for v in results.variants}
    for key, name in labels.items():
        for op in OPS:
            access, plan = results.plans[key, op]
            shown = " ↳ ".join(line.replace("|", "\\|") for line in plan)
            lines.append(f"| {OP_TITLES[op]}, {name} | {access} | `{shown}` |")
    return "\n".join(lines)


def summary(results: Results) -> list[str]:
    """Interpretation bullets computed from this run's figures, so they stay true on rerun."""
    t, base, counts, name = results.timings, results.baseline, results.counts, results.engine
    county, city, grid = COUNTY.prefix, CITY.prefix, GRID.prefix

    def access(variant: str) -> str:
        return results.plans[variant, "count"][0]

    def worst(variant: str, against: Callable[[str], float]) -> tuple[float, Subtree]:
        at = max(SUBTREES, key=lambda s: t[variant, "first", s.prefix] / against(s.prefix))
        return t[variant, "first", at.prefix] / against(at.prefix), at

    c_range, c_like = t["range", "count", county], t["like", "count", county]
    out = [
        f"{name}, COUNT of county `{county}` ({counts[county] / ROWS:.0%} of the rows): range "
        f"{ms(c_range)} ms ({access('range')}), {ratio(c_range / base['count'])} the full count "
        f"and {ratio(c_range / t['range', 'count', city])} the city-wide range count; LIKE "
        f"{ms(c_like)} ms ({access('like')}), {ratio(c_like / c_range)} the range."
    ]
    g_range, g_like = t["range", "count", grid], t["like", "count", grid]
    out.append(
        f"{name}, COUNT of grid `{grid}` ({counts[grid]} rows): range {ms(g_range)} ms, LIKE "
        f"{ms(g_like)} ms ({ratio(g_like / g_range)} the range)."
    )
    r_worst, r_at = worst("range", lambda _prefix: base["first"])
    l_worst, l_at = worst("like", lambda prefix: t["range", "first", prefix])
    out.append(
        f"{name}, first {FIRST} rows: the range costs at most {ratio(r_worst)} the unfiltered "
        f"first page at any level (worst: {label(r_at, note=False)}); LIKE up to "
        f"{ratio(l_worst)} the range (worst: {label(l_at, note=False)})."
    )
    if "like_ops" in {v.key for v in results.variants}:
        o_count = t["like_ops", "count", county]
        o_worst, o_at = worst("like_ops", lambda prefix: t["range", "first", prefix])
        out.append(
            f"{name} with Django's extra `varchar_pattern_ops` index: the LIKE count of county "
            f"`{county}` becomes {access('like_ops')}, {ms(o_count)} ms "
            f"({ratio(o_count / c_range)} the range); the LIKE first page still costs up to "
            f"{ratio(o_worst)} the range (worst: {label(o_at, note=False)}; plan for county "
            f"`{county}`: {results.plans['like_ops', 'first'][0]})."
        )
    return out


def render(all_results: list[Results], skipped: list[str]) -> str:
    parts = [
        "### Setup",
        "",
        f"One table `bench_row` (id, area_code varchar(15) with a plain B-tree index, status "
        f"smallint, created_at, payload text of about 40 characters) holding {ROWS:,} rows, spread "
        f"uniformly at random (seed {SEED}) over {GRIDS_PER_VILLAGE} generated grids per village "
        f"of `zhili/demo/data/nantong-divisions.csv` (1 city, 8 counties, 136 towns, 2,005 "
        f"villages). Rows are in creation order, so a subtree's rows are scattered over the "
        f"table. SQLite runs in a temporary file with the project's pragmas (WAL, "
        f"synchronous=NORMAL, default cache, no ANALYZE); PostgreSQL in a database created for "
        f"the run and dropped after it (COPY, then index, then VACUUM ANALYZE as autovacuum "
        f"would). Each figure is the median of {REPEAT} runs after a warm-up (hot cache), timed "
        f"from Python, driver round trip included. Ratios compare figures of the same run.",
        "",
        "Predicates, as Django renders them on each backend: range = `area_code >= p AND "
        "area_code < next_prefix(p)` (`codes.range_q`); LIKE = `startswith`, i.e. "
        "`area_code LIKE 'p%' ESCAPE '\\'` on SQLite and `area_code::text LIKE 'p%'` on "
        "PostgreSQL. *LIKE + `_like` index* repeats the PostgreSQL LIKE after adding the "
        "`varchar_pattern_ops` index that Django's schema editor creates next to the plain one "
        "for a `CharField(db_index=True)`.",
    ]
    for note in skipped:
        parts += ["", f"**{note}**"]
    for results in all_results:
        parts += ["", f"### {results.engine}", ""]
        for op in OPS:
            parts += [f"{OP_TITLES[op]}:", "", table(results, op), ""]
        parts += [f"Plans for county `{COUNTY.prefix}` (and without a filter):", "", plans(results)]
    parts += ["", "### Interpretation", ""]
    for results in all_results:
        parts += [f"- {line}" for line in summary(results)]
    parts += ["", INTERPRETATION.strip()]
    return "\n".join(parts)


# Why the figures look the way they do; the measured claims are in the bullets computed above.
INTERPRETATION = """
The range reads exactly the subtree's index entries, so its COUNT scales with the subtree's
share of the rows, and its first page costs about what the unfiltered first page costs at every
level (within a few tenths of a millisecond). That is the behaviour `ScopedQuerySet` relies on,
and it is the same on both engines.

SQLite answers a COUNT(*) without WHERE by adding up the cell counts of the B-tree pages (a
special case), so there the full count is cheaper than any filtered count, even one covering every
row (the city); the city-wide range count is the fairer yardstick for a walk over index entries.

SQLite's LIKE is case-insensitive, so a BINARY index can never serve it as a range: a LIKE COUNT
reads the whole index whatever the subtree, and a LIKE first page walks the index in order from
its start until it has 50 matches (to its end if the subtree has fewer) — cheap for the smallest
code, a near-full walk for the largest.

PostgreSQL turns `LIKE 'p%'` into an index range only when the index compares bytes: a
`varchar_pattern_ops`/`text_pattern_ops` index, or the `C` (`POSIX`) collation; a libc `C.UTF-8`
database does not qualify. Otherwise a LIKE COUNT reads the whole index or table, and a LIKE
first page walks the plain index in order or scans the table and sorts. Even with the pattern
index, `ORDER BY area_code LIMIT n` may make the planner walk the plain index in order instead,
as it expects the matches to be spread evenly through it, which they never are for a subtree.
The range needs neither the second index nor a particular collation; `__startswith` on
`area_code` does not belong in scoping code.
"""


# --- Driver -----------------------------------------------------------------------------------


def run_sqlite(rows: list[tuple]) -> Results:
    with tempfile.TemporaryDirectory(prefix="zhili-bench-") as tmp:
        engine = SQLiteEngine(Path(tmp) / "bench.sqlite3")
        try:
            clock = time.perf_counter()
            engine.load(rows)
            print(f"   SQLite: loaded in {time.perf_counter() - clock:.1f} s", flush=True)
            return measure(engine)
        finally:
            engine.close()


@contextmanager
def postgres() -> Iterator[PostgresEngine]:
    """A PostgreSQL engine on a fresh database, dropped however the benchmark ends."""
    import psycopg

    with throwaway_pg("zhili_bench") as name:
        # ClientCursor interpolates parameters client-side, as Django's backend does by
        # default, so the planner sees literal prefixes and never a generic plan.
        con = psycopg.connect(
            PG_CONNINFO, dbname=name, autocommit=True, cursor_factory=psycopg.ClientCursor
        )
        try:
            yield PostgresEngine(con)
        finally:
            con.close()


def run() -> Report:
    clock = time.perf_counter()
    rows = generate_rows(load_grids())
    print(f"   generated {len(rows):,} rows in {time.perf_counter() - clock:.1f} s", flush=True)
    software = [f"SQLite {sqlite3.sqlite_version} (Python sqlite3 module)"]
    all_results, skipped = [run_sqlite(rows)], []
    try:
        with postgres() as engine:
            software += engine.settings()
            clock = time.perf_counter()
            engine.load(rows)
            print(f"   PostgreSQL: loaded in {time.perf_counter() - clock:.1f} s", flush=True)
            all_results.append(measure(engine))
    except Skipped as exc:
        print(f"   PostgreSQL skipped: {exc}", flush=True)
        skipped.append(f"PostgreSQL skipped: {exc}.")
        software.append("PostgreSQL: not measured")
    return Report(body=render(all_results, skipped), software=software)
