"""People registry at city scale: the performance targets of issue 4, measured.

Targets (from the issue), with 1,000,000 persons on PostgreSQL (200,000 on SQLite):

1. importing person rows from CSV and XLSX through the application's import path at no less
   than 25 % of the raw rate for the same rows in the same run. Raw: psycopg's `cursor.copy()`
   writing the already-parsed rows from Python, no validation (SQLite: `executemany` in one
   transaction). Server-side `COPY … FROM` a file is reported as the engine's ceiling;
2. exact search by ID number through the blind index: p99 < 10 ms;
3. the special-population coverage page for the whole city: < 300 ms.

Each database runs in its own subprocess (`python -m bench.people --child …`) against a
throwaway database (PostgreSQL: created and dropped by the parent; SQLite: a file in a
temporary data directory, with the project's SQLite settings): the real schema (`migrate`), the
demo city of Nantong without its demo events (`DemoBuilder(events=False)`), then persons
generated here. The parent only creates and drops the PostgreSQL database and writes the
report, so a crashed or killed child cannot leave the database behind.

Smaller runs for trying things out (figures are then not comparable with the targets):

    BENCH_PEOPLE_PG=20000 BENCH_PEOPLE_SQLITE=20000 BENCH_PEOPLE_LOOKUPS=300 \\
        .venv/bin/python -m bench.run people
"""

from __future__ import annotations

import csv
import datetime as dt
import gc
import json
import math
import os
import random
import signal
import stat
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from bench import Report, Skipped, throwaway_pg_url

TITLE = "People registry at city scale"

ROOT = Path(__file__).resolve().parent.parent
# Persons per database; smaller values make quick trial runs (0 skips that database).
SIZES = {
    "postgresql": int(os.environ.get("BENCH_PEOPLE_PG", 1_000_000)),
    "sqlite": int(os.environ.get("BENCH_PEOPLE_SQLITE", 200_000)),
}
FORMATS = [f for f in os.environ.get("BENCH_PEOPLE_FORMATS", "csv,xlsx").split(",") if f]
LOOKUPS = int(os.environ.get("BENCH_PEOPLE_LOOKUPS", 2000))  # timed searches per kind
SCALE = os.environ.get("BENCH_PEOPLE_CITY", "city")  # the demo city: "city" or "small"
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
WARMUP = 20
MISSING_SHARE = 0.1  # searches for a number nobody has
MANAGED_SHARE = 0.01  # persons under special management (about 1 % of a city)
VISIT_DAYS = {"strict": 15, "key": 30, "general": 90}  # the generated visit rhythm per level
COVERAGE_RUNS = 20
COVERAGE_BUDGET_S = 30  # ... or as many as fit in this many seconds (at least 3)
SEED = 20260411

# The targets (from the issue).
IMPORT_RATIO = 0.25
LOOKUP_P99_MS = 10
COVERAGE_MS = 300

# The import file: the template's Chinese headers (zhili/people/imports/columns.py).
HEADERS = ["所属网格或村(社区)", "公民身份号码", "姓名", "性别", "出生日期", "民族", "婚姻状况",
           "学历", "政治面貌", "职业", "联系方式", "户籍地", "户籍门(楼)详址", "现住门(楼)详址"]
FIELDS = ["area", "id_number", "name", "sex", "birth_date", "ethnicity", "marital_status",
          "education", "political_status", "occupation", "phone", "registered_place",
          "registered_address", "current_address"]


# --- Parent: one subprocess per database --------------------------------------------------------


def _run_child(engine: str, size: int) -> dict:
    database = throwaway_pg_url("zhili_bench_people") if engine == "postgresql" else nullcontext()
    with tempfile.TemporaryDirectory(prefix="zhili-bench-people-") as tmp, database as url:
        out = Path(tmp) / "result.json"
        env = {
            **os.environ,
            "ZHILI_DATA_DIR": str(Path(tmp) / "data"),
            "DJANGO_SETTINGS_MODULE": "zhili.config.settings",
            "ZHILI_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
            "BENCH_PEOPLE_TMP": tmp,
        }
        env.pop("ZHILI_DATABASE_URL", None)
        if url:
            env["ZHILI_DATABASE_URL"] = url
        log = Path(tmp) / "child.log"
        with log.open("wb") as stderr:
            child = subprocess.Popen(
                [sys.executable, "-m", "bench.people", "--child", engine, str(size), str(out)],
                cwd=ROOT, env=env, stderr=stderr,
            )
        try:
            code = child.wait()
        except BaseException:
            child.terminate()
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
            raise
        if code != 0:
            tail = log.read_text(errors="replace")[-3000:]
            raise RuntimeError(f"the {engine} benchmark process exited with status {code}:\n{tail}")
        return json.loads(out.read_text())


def run() -> Report:
    results, skipped = [], []
    for engine, size in SIZES.items():
        if size <= 0:
            skipped.append(f"{ENGINE_NAMES[engine]} skipped (size 0).")
            continue
        print(f"   {ENGINE_NAMES[engine]}: {size:,} persons", flush=True)
        try:
            results.append(_run_child(engine, size))
        except Skipped as exc:
            print(f"   {ENGINE_NAMES[engine]} skipped: {exc}", flush=True)
            skipped.append(f"{ENGINE_NAMES[engine]} skipped: {exc}.")
    if not results:
        raise RuntimeError("no database could be measured: " + " ".join(skipped))
    software = sorted({line for r in results for line in r["software"]})
    return Report(body=render(results, skipped), software=software)


# --- Child ------------------------------------------------------------------------------------


def say(message: str) -> None:
    from django.db import connection

    print(f"   {ENGINE_NAMES[connection.vendor]}: {message}", flush=True)


def child_main(engine: str, size: int, out: Path) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(os.environ.get("BENCH_PEOPLE_TMP") or tempfile.mkdtemp())
    result: dict = {"engine": engine, "size": size, "formats": FORMATS}
    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    from zhili.demo.builder import DemoBuilder

    DemoBuilder(scale=SCALE, events=False).build()
    result["setup_s"] = time.perf_counter() - clock
    say(f"schema and demo city in {result['setup_s']:.1f} s")
    result["software"] = software(connection)
    city = City.load()
    user = bench_user(city)
    clock = time.perf_counter()
    rows = generate(city, size)
    result["generate_s"] = time.perf_counter() - clock
    files = write_files(rows, work)
    result["files"] = {fmt: {"bytes": info["path"].stat().st_size, "write_s": info["write_s"]}
                       for fmt, info in files.items()}
    say(f"{size:,} rows generated; files written "
        + ", ".join(f"{fmt} {info['path'].stat().st_size / 2**20:.0f} MiB"
                    for fmt, info in files.items()))
    result["import"] = measure_import(city, rows, files, user, work)
    ids = [r[1] for r in rows]
    del rows
    gc.collect()
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("VACUUM ANALYZE")
        else:
            cur.execute("ANALYZE")
    result["lookup"] = measure_lookups(ids, user)
    del ids
    result["managed"] = manage(city)
    result["coverage"] = measure_coverage(user)
    out.write_text(json.dumps(result, indent=1, default=str))


def software(connection) -> list[str]:
    import django

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            def show(name: str) -> str:
                cur.execute(f"SHOW {name}")
                return cur.fetchone()[0]

            return [f"PostgreSQL {show('server_version')}: shared_buffers "
                    f"{show('shared_buffers')}, work_mem {show('work_mem')}, "
                    f"synchronous_commit {show('synchronous_commit')}; "
                    f"Django {django.get_version()}"]
    import sqlite3

    with connection.cursor() as cur:
        cur.execute("PRAGMA journal_mode")
        journal = cur.fetchone()[0]
        cur.execute("PRAGMA synchronous")
        synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cur.fetchone()[0]]
    return [f"SQLite {sqlite3.sqlite_version}: journal_mode {journal}, synchronous "
            f"{synchronous}; Django {django.get_version()}"]


# --- Data ---------------------------------------------------------------------------------------


class City:
    """The grids of the demo city (persons live in grids) and the names around them."""

    def __init__(self, grids, names, root):
        self.grids = grids  # [(area id, code)]
        self.names = names  # code → name, for every level
        self.root = root  # the city (level 1)

    @classmethod
    def load(cls) -> City:
        from zhili.areas.models import Area

        names = dict(Area.objects.values_list("code", "name"))
        grids = list(Area.objects.filter(level=5).order_by("code").values_list("id", "code"))
        return cls(grids, names, Area.objects.filter(level=1).order_by("code").first())

    def address(self, code: str, rng: random.Random) -> str:
        from zhili.core import codes

        parts = [self.names.get(codes.pad(code[:n]), "") for n in (6, 9, 12)]
        return "江苏省南通市" + "".join(parts) + f"{rng.randint(1, 300)}号{rng.randint(1, 30)}" \
            f"幢{rng.randint(1, 6)}0{rng.randint(1, 4)}室"


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力燕鹏宇浩凯"
OCCUPATIONS = ["工人", "农民", "教师", "职员", "个体经营", "退休", "学生", "司机", "医生", ""]


def generate(city: City, size: int) -> list[tuple[str, ...]]:
    """`size` persons as the cells of an import file (strings, in HEADERS order): valid and
    distinct ID numbers (GB 11643, Nantong region codes), names, codes from the tables, a
    mobile for most, and addresses down to the room."""
    from zhili.core.pii.validation import id_check_digit
    from zhili.people import codes

    rng = random.Random(SEED)
    regions = sorted({code[:6] for _pk, code in city.grids})
    tables = {name: table.codes() for name, table in (
        ("ethnicity", codes.Ethnicity), ("marital_status", codes.MaritalStatus),
        ("education", codes.Education), ("political_status", codes.PoliticalStatus))}
    start = dt.date(1940, 1, 1).toordinal()
    span = dt.date(2020, 12, 31).toordinal() - start
    seen: set[str] = set()
    rows = []
    while len(rows) < size:
        _pk, grid = city.grids[rng.randrange(len(city.grids))]
        born = dt.date.fromordinal(start + rng.randrange(span))
        body = f"{rng.choice(regions)}{born:%Y%m%d}{rng.randrange(1000):03d}"
        number = body + id_check_digit(body)
        if number in seen:
            continue
        seen.add(number)
        sex = "1" if int(body[16]) % 2 else "2"
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice(
            (1, 2, 2))))
        phone = f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" if rng.random() < 0.9 \
            else ""
        here = city.address(grid, rng)
        registered = here if rng.random() < 0.7 else city.address(
            city.grids[rng.randrange(len(city.grids))][1], rng)
        rows.append((
            grid, number, name, sex, born.isoformat(),
            "01" if rng.random() < 0.98 else rng.choice(tables["ethnicity"]),
            rng.choice(tables["marital_status"]), rng.choice(tables["education"]),
            rng.choice(tables["political_status"]), rng.choice(OCCUPATIONS), phone,
            number[:6], registered, here,
        ))
    return rows


def write_files(rows, work: Path) -> dict[str, dict]:
    """The import files a clerk would upload (not timed against the import)."""
    files = {}
    for fmt in FORMATS:
        path = work / f"persons.{fmt}"
        clock = time.perf_counter()
        if fmt == "csv":
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(HEADERS)
                writer.writerows(rows)
        elif fmt == "xlsx":
            import xlsxwriter

            # Every cell a string, as a template formatted as text keeps them (an ID number
            # typed as a number loses its last digits in Excel).
            book = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                                   "strings_to_numbers": False})
            sheet = book.add_worksheet("persons")
            sheet.write_row(0, 0, HEADERS)
            for n, row in enumerate(rows, start=1):
                sheet.write_row(n, 0, row)
            book.close()
        else:
            raise ValueError(f"unknown format {fmt!r}")
        files[fmt] = {"path": path, "write_s": time.perf_counter() - clock}
    return files


def bench_user(city: City):
    """A city-level official: registry, import and coverage permissions over the whole city."""
    from django.contrib.auth.models import Group, Permission

    from zhili.accounts.models import Position, Role, User

    wanted = ["people.view_person", "people.add_person", "people.change_person",
              "people.import_person", "special.view_coverage", "special.view_supervision",
              "special.view_visit"]
    group = Group.objects.create(name="bench-people")
    for perm in wanted:
        app_label, codename = perm.split(".")
        found = Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        group.permissions.add(*found)
    role = Role.objects.create(code="bench-people", name="Benchmark", group=group)
    user = User.objects.create_user(username="bench.people", password=None,
                                    display_name="Benchmark")
    Position.objects.create(user=user, role=role, area=city.root, area_code=city.root.code)
    return user


# --- Import -------------------------------------------------------------------------------------


def app_import(user, path: Path, fmt: str) -> dict:
    """The application's import path (the one call to change if its entry point moves)."""
    from zhili.people.imports import import_persons

    result = import_persons(actor=user, path_or_file=path, fmt=fmt, on_duplicate="skip",
                            strict=True)
    out = result.as_dict(limit=5)
    out["fast_rows"] = getattr(result, "fast_rows", 0)
    return out


def person_table():
    """(table, columns, row builder) of people_person for the raw writers."""
    from django.utils import timezone

    from zhili.people.models import Person

    fields = [f for f in Person._meta.concrete_fields if not f.primary_key]
    now = timezone.now().astimezone(dt.UTC).replace(tzinfo=None)
    defaults = []
    for f in fields:
        value = f.get_default()
        if value is None and not f.null and f.get_internal_type() == "DateTimeField":
            value = now
        if isinstance(value, dict | list):
            value = json.dumps(value)
        defaults.append(value)
    index = {f.attname: i for i, f in enumerate(fields)}
    return Person._meta.db_table, [f.column for f in fields], defaults, index


def raw_rows(rows, city: City) -> list[list]:
    """The parsed cells as rows of the person table: no validation, no encryption, no blind
    index — only what a row needs to exist (its area)."""
    _table, _columns, defaults, index = person_table()
    area_ids = {code: pk for pk, code in city.grids}
    out = []
    for cells in rows:
        row = list(defaults)
        row[index["area_id"]] = area_ids[cells[0]]
        row[index["area_code"]] = cells[0]
        for name, value in zip(FIELDS[1:], cells[1:], strict=True):
            if name in index:
                row[index[name]] = value
        out.append(row)
    return out


def clear_persons() -> None:
    from django.db import connection

    from zhili.people.models import Person

    tables = [Person._meta.db_table]
    history = getattr(Person, "history", None)
    if history is not None:
        tables.append(history.model._meta.db_table)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in reversed(tables):
                cur.execute(f"DELETE FROM {table}")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def count_persons() -> int:
    from zhili.people.models import Person

    return Person.objects.count()


def measure_import(city: City, rows, files: dict, user, work: Path) -> list[dict]:
    from django.db import connection

    postgres = connection.vendor == "postgresql"
    table, columns, _defaults, _index = person_table()
    parsed = raw_rows(rows, city)
    cases = []

    def case(key: str, label: str, action) -> dict:
        clear_persons()
        gc.collect()
        say(f"import: {label}")
        clock = time.perf_counter()
        try:
            detail = action() or {}
        except Exception as exc:  # noqa: BLE001 - reported, the other cases still run
            # The first line only: a database's DETAIL line would quote the row.
            detail = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0][:200]}"}
        seconds = time.perf_counter() - clock
        written = count_persons()
        entry = {"key": key, "label": label, "seconds": seconds, "rows": written,
                 "rate": written / seconds if seconds else 0, **detail}
        cases.append(entry)
        say(f"   {written:,} rows in {seconds:.1f} s ({entry['rate']:,.0f} rows/s)"
            + (f" — {detail['error']}" if "error" in detail else ""))
        return entry

    if postgres:
        copy_sql = f"COPY {table} ({', '.join(columns)}) FROM STDIN"

        def raw_copy():
            connection.ensure_connection()
            raw = connection.connection
            with raw.cursor() as cur, raw.transaction():
                cur.execute("SET TimeZone = 'UTC'")
                with cur.copy(copy_sql) as copy:
                    for row in parsed:
                        copy.write_row(row)

        case("raw", "psycopg `cursor.copy()` of the parsed rows", raw_copy)
        server_file = _server_csv(parsed, work)

        def server_copy():
            with connection.cursor() as cur:
                cur.execute("SET TimeZone = 'UTC'")
                cur.execute(f"COPY {table} ({', '.join(columns)}) FROM %s "
                            "WITH (FORMAT csv, NULL '\\N')",
                            [str(server_file)])

        case("ceiling", "server-side `COPY … FROM` a file", server_copy)
    else:
        marks = ", ".join(["%s"] * len(columns))
        insert = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"

        def raw_insert():
            from django.db import transaction

            with transaction.atomic(), connection.cursor() as cur:
                cur.executemany(insert, parsed)

        case("raw", "`executemany` of the parsed rows, one transaction", raw_insert)
    parsed.clear()  # memory for the application runs
    for n, fmt in enumerate(FORMATS):
        entry = case(f"app_{fmt}", f"application import of the {fmt.upper()} file "
                     "(`import_persons`)", lambda fmt=fmt: app_import(user, files[fmt]["path"],
                                                                      fmt))
        last = n == len(FORMATS) - 1
        if last and entry["rows"] < len(rows):
            # The search and coverage need the persons as the application writes them.
            say("the import did not write every row: loading them with the bulk encrypting "
                "writer instead")
            clear_persons()
            entry["fallback_s"] = fallback_load(rows, city)
    return cases


def _server_csv(parsed, work: Path) -> Path:
    """The parsed rows as a CSV file the database server can read (world-readable directory:
    the server runs as another user)."""
    folder = Path(tempfile.mkdtemp(prefix="zhili-bench-copy-", dir="/tmp"))
    folder.chmod(stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    path = folder / "persons.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        for row in parsed:
            writer.writerow(["\\N" if v is None else ("t" if v is True else "f" if v is False
                                                     else v) for v in row])
    path.chmod(stat.S_IRUSR | stat.S_IWUSR | stat.S_IRGRP | stat.S_IROTH)
    _cleanup.append(folder)
    return path


_cleanup: list[Path] = []


def fallback_load(rows, city: City) -> float:
    """Persons encrypted and indexed as `pii.assign` would, written with bulk_create: used only
    when the application's import could not load the data set."""
    from zhili.core import pii
    from zhili.people.models import Person

    area_ids = {code: pk for pk, code in city.grids}
    clock = time.perf_counter()
    batch = []
    for cells in rows:
        person = Person(area_id=area_ids[cells[0]], area_code=cells[0], name=cells[2],
                        sex=cells[3], birth_date=dt.date.fromisoformat(cells[4]))
        pii.assign(person, "id_number", cells[1])
        pii.assign(person, "phone", cells[10])
        person.registered_address, person.current_address = cells[12], cells[13]
        batch.append(person)
        if len(batch) >= 5000:
            Person.objects.bulk_create(batch)
            batch = []
    Person.objects.bulk_create(batch)
    return time.perf_counter() - clock


# --- Search -------------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary_ms(times: list[float]) -> dict:
    ms = [t * 1000 for t in times]
    return {"n": len(ms), "p50": percentile(ms, 0.5), "p95": percentile(ms, 0.95),
            "p99": percentile(ms, 0.99), "max": max(ms)}


def measure_lookups(ids: list[str], user) -> list[dict]:
    """Exact searches by ID number: the blind-index query as the registry runs it (scoped to
    the user, the row decrypted), and the API request around it."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from zhili.core import pii
    from zhili.core.scoping import forget_scope
    from zhili.people.models import Person

    rng = random.Random(SEED + 1)
    present = [rng.choice(ids) for _ in range(LOOKUPS + WARMUP)]
    missing = []
    while len(missing) < len(present):
        body = f"320602{rng.randrange(1950, 2000)}0101{rng.randrange(1000):03d}"
        from zhili.core.pii.validation import id_check_digit

        number = body + id_check_digit(body)
        if number not in ids:  # a list scan, but only for a tenth of the lookups
            missing.append(number)
    queries = [m if rng.random() < MISSING_SHARE else p for p, m in zip(present, missing,
                                                                        strict=True)]
    out = []

    forget_scope(user)
    Person.objects.restrict(user, "view").exists()  # the scope, resolved once per request

    def query(number):
        rows = list(Person.objects.restrict(user, "view")
                    .filter(pii.lookup_q(Person, "id_number", number))[:2])
        return rows[0].id_number if rows else None

    times, found = [], 0
    for n, number in enumerate(queries):
        clock = time.perf_counter()
        value = query(number)
        elapsed = time.perf_counter() - clock
        if n >= WARMUP:
            times.append(elapsed)
            found += value == number
    with CaptureQueriesContext(connection) as captured:
        query(queries[-1])
    out.append({"key": "query", "label": "`Person.objects.restrict(user).filter(lookup_q(…))`",
                "found": found, "queries": len(captured), **summary_ms(times)})
    say(f"search (query): p99 {out[-1]['p99']:.2f} ms")

    client = Client()
    client.force_login(user)
    times = []
    for n, number in enumerate(queries):
        clock = time.perf_counter()
        response = client.get("/api/v1/people/persons", {"id_number": number})
        elapsed = time.perf_counter() - clock
        if response.status_code != 200:
            raise RuntimeError(f"search API answered {response.status_code}: "
                               f"{response.content[:300]!r}")
        if n >= WARMUP:
            times.append(elapsed)
    with CaptureQueriesContext(connection) as captured:
        client.get("/api/v1/people/persons", {"id_number": queries[-1]})
    out.append({"key": "api", "label": "`GET /api/v1/people/persons?id_number=…` (session)",
                "queries": len(captured), **summary_ms(times)})
    say(f"search (API): p99 {out[-1]['p99']:.2f} ms")
    return out


# --- Coverage -----------------------------------------------------------------------------------


def manage(city: City) -> dict:
    """Put about MANAGED_SHARE of the persons under management, spread over the categories,
    with a year of visits at their level's rhythm, written in bulk (the services' per-record
    cost is not what the coverage page measures)."""
    from django.utils import timezone

    from zhili.people.models import Person
    from zhili.special.models import SpecialCategory, Supervision, Visit

    rng = random.Random(SEED + 2)
    now = timezone.now()
    categories = list(SpecialCategory.objects.filter(is_active=True).order_by("sort", "code"))
    if not categories:
        raise RuntimeError("no special-population categories are seeded")
    everyone = list(Person.objects.values_list("id", "area_id", "area_code"))
    people = rng.sample(everyone, max(1, int(len(everyone) * MANAGED_SHARE)))
    del everyone
    clock = time.perf_counter()
    levels = list(VISIT_DAYS)
    supervisions = []
    for person_id, area_id, area_code in people:
        category = rng.choice(categories)
        level = rng.choice(levels)
        risks = [key for key, _label in category.risk_choices()] or ["0"]
        started = now - dt.timedelta(days=rng.randrange(30, 1500))
        last = now - dt.timedelta(days=rng.randrange(0, VISIT_DAYS[level] + 20))
        due = last + dt.timedelta(days=VISIT_DAYS[level])
        supervisions.append(Supervision(
            person_id=person_id, category=category, level=level, risk_level=rng.choice(risks),
            area_id=area_id, area_code=area_code, started_on=started.date(),
            last_visit_at=last, deadline_step="visit", deadline_unit="days",
            step_started_at=last, deadline_at=due, warn_at=due - dt.timedelta(days=3),
            overdue=due <= now, warned=due - dt.timedelta(days=3) <= now,
            lost_contact=rng.random() < 0.005, created_at=started))
    Supervision.objects.bulk_create(supervisions, batch_size=2000)
    visits, batch = 0, []
    for s in Supervision.objects.only("id", "category_id", "area_code", "level",
                                      "last_visit_at").iterator(chunk_size=5000):
        moment = s.last_visit_at
        while moment > now - dt.timedelta(days=365):
            batch.append(Visit(supervision_id=s.pk, category_id=s.category_id,
                               area_code=s.area_code, visited_at=moment,
                               method=rng.choice(("home", "home", "phone")),
                               findings="情况稳定，按时服药，家属配合。", created_at=moment))
            moment -= dt.timedelta(days=VISIT_DAYS[s.level] * rng.uniform(0.8, 1.2))
            if len(batch) >= 5000:
                Visit.objects.bulk_create(batch)
                visits += len(batch)
                batch = []
    Visit.objects.bulk_create(batch)
    visits += len(batch)
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    seconds = time.perf_counter() - clock
    say(f"{len(supervisions):,} persons under management, {visits:,} visits in {seconds:.0f} s")
    return {"supervisions": len(supervisions), "visits": visits, "seconds": seconds,
            "categories": len(categories)}


def measure_coverage(user) -> dict:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    url = reverse("special:coverage")
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    times, deadline = [], time.perf_counter() + COVERAGE_BUDGET_S
    while len(times) < COVERAGE_RUNS and (len(times) < 3 or time.perf_counter() < deadline):
        clock = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - clock)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    sql_ms = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    result = {"url": url, "queries": len(captured), "sql_ms": sql_ms, **summary_ms(times)}
    say(f"coverage: median {result['p50']:.0f} ms")
    return result


# --- Report -------------------------------------------------------------------------------------


def ms(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.0f}"


def import_table(r: dict) -> str:
    raw = next((c for c in r["import"] if c["key"] == "raw"), None)
    lines = ["| Path | Rows written | Seconds | Rows/s | ÷ raw |", "|---|---|---|---|---|"]
    for c in r["import"]:
        ratio = f"{c['rate'] / raw['rate']:.0%}" if raw and raw["rate"] else "–"
        note = f" ({c['error']})" if c.get("error") else ""
        if c.get("rejected"):
            note += f" ({c['rejected']:,} rows rejected)"
        if c.get("fast_rows"):
            note += f" ({c['fast_rows']:,} rows through its bulk path)"
        if c.get("fallback_s"):
            note += (f" (incomplete: the data set for the searches was then written by the "
                     f"bulk encrypting writer in {c['fallback_s']:.0f} s)")
        lines.append(f"| {c['label']}{note} | {c['rows']:,} | {c['seconds']:.1f} | "
                     f"{c['rate']:,.0f} | {ratio} |")
    return "\n".join(lines)


def lookup_table(r: dict) -> str:
    lines = ["| Search | n | Queries | p50 ms | p95 ms | p99 ms | max ms |",
             "|---|---|---|---|---|---|---|"]
    for c in r["lookup"]:
        lines.append(f"| {c['label']} | {c['n']:,} | {c['queries']} | {ms(c['p50'])} | "
                     f"{ms(c['p95'])} | {ms(c['p99'])} | {ms(c['max'])} |")
    return "\n".join(lines)


def targets(results: list[dict]) -> str:
    lines = ["| Target | " + " | ".join(title(r) for r in results) + " |",
             "|---|" + "---|" * len(results)]

    def verdict(ok: bool, text: str) -> str:
        return f"{text} {'**PASS**' if ok else '**MISS**'}"

    for fmt in FORMATS:
        cells = []
        for r in results:
            raw = next((c for c in r["import"] if c["key"] == "raw"), None)
            app = next((c for c in r["import"] if c["key"] == f"app_{fmt}"), None)
            if not raw or not app or not raw["rate"]:
                cells.append("–")
                continue
            ratio = app["rate"] / raw["rate"]
            complete = app["rows"] == r["size"]
            cells.append(verdict(ratio >= IMPORT_RATIO and complete,
                                 f"{ratio:.0%} of raw" + ("" if complete else
                                                          " (incomplete)")))
        lines.append(f"| Import {fmt.upper()} ≥ {IMPORT_RATIO:.0%} of raw | "
                     + " | ".join(cells) + " |")
    cells = []
    for r in results:
        query = next(c for c in r["lookup"] if c["key"] == "query")
        cells.append(verdict(query["p99"] < LOOKUP_P99_MS, f"{ms(query['p99'])} ms"))
    lines.append(f"| Search by ID number p99 < {LOOKUP_P99_MS} ms | " + " | ".join(cells) + " |")
    cells = [verdict(r["coverage"]["p50"] < COVERAGE_MS, f"{ms(r['coverage']['p50'])} ms "
                     f"(slowest {ms(r['coverage']['max'])})") for r in results]
    lines.append(f"| Coverage page, whole city < {COVERAGE_MS} ms | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def title(r: dict) -> str:
    return f"{ENGINE_NAMES[r['engine']]}, {r['size']:,} persons"


def render(results: list[dict], skipped: list[str]) -> str:
    parts = ["### Setup", "", SETUP.strip().format(
        lookups=LOOKUPS, warmup=WARMUP, missing=MISSING_SHARE, managed=MANAGED_SHARE,
        runs=COVERAGE_RUNS, budget=COVERAGE_BUDGET_S, scale=SCALE), ""]
    for note in skipped:
        parts += [f"**{note}**", ""]
    parts += ["### Results against the targets", "", targets(results)]
    for r in results:
        files = ", ".join(f"{fmt.upper()} {info['bytes'] / 2**20:.0f} MiB (written in "
                          f"{info['write_s']:.0f} s)" for fmt, info in r["files"].items())
        m, c = r["managed"], r["coverage"]
        parts += ["", f"### {title(r)}", "",
                  f"Files: {files}. Schema and demo city: {r['setup_s']:.0f} s.", "",
                  "Import (each path into an empty person table, indexes in place):", "",
                  import_table(r), "", "Exact search by ID number (a tenth of the numbers "
                  "searched belong to nobody):", "", lookup_table(r), "",
                  f"Coverage page `{c['url']}` for the whole city as a city-level official "
                  f"({m['supervisions']:,} persons under management in {m['categories']} "
                  f"categories, {m['visits']:,} visits): median {ms(c['p50'])} ms, p99 "
                  f"{ms(c['p99'])} ms over {c['n']} runs, {c['queries']} queries "
                  f"({ms(c['sql_ms'])} ms of SQL)."]
        problems = [f"`{x['label']}`: {x['errors'][0]['message']}" for x in r["import"]
                    if x.get("errors")]
        if problems:
            parts += ["", "First import errors: " + "; ".join(problems[:3])]
    return "\n".join(parts)


SETUP = """
Each database is measured in its own process on a throwaway database: the real schema
(`migrate`) and the demo city of Nantong without events (`DemoBuilder(scale="{scale}",
events=False)`). Persons are generated here: valid, distinct ID numbers (GB 11643 check
character, Nantong region codes, birth dates 1940–2020), names, sex, ethnicity, marital status,
education and political status from the code tables, a mobile number for nine in ten, and
registered and current addresses down to the room, spread over every grid of the city. They are
written as the import files a clerk uploads (the template's Chinese headers; CSV in UTF-8, and
XLSX), not timed.

1. Import: the same rows through each path, each into an empty person table with its indexes in
   place. *Raw* writes the already-parsed rows from Python with no validation, encryption or
   blind index: PostgreSQL `cursor.copy()` (psycopg, one transaction), SQLite `executemany` in
   one transaction; the rows are built before the clock starts. *Ceiling* (PostgreSQL only): the
   server reading the same rows from a CSV file with `COPY … FROM`. *Application*: the
   registry's import (`zhili.people.imports.import_persons`, as a clerk's upload job runs it:
   strict, duplicates skipped) reading the file: parsing, header matching, validation of every
   cell (GB 11643, code tables, areas), encryption, blind indexes, duplicate matching by ID
   number, writing and the audit row all count.
2. Search: {lookups} exact searches by ID number after {warmup} untimed ones ({missing:.0%} of
   them for numbers nobody has), as a city-level official: the registry's query
   (`restrict(user)` + `pii.lookup_q`: normalise, HMAC, one index lookup, the row decrypted;
   the user's scope resolved once, as a request does before any query),
   and the API request around it (`django.test.Client`, whole middleware stack).
3. Coverage: {managed:.0%} of the persons put under management (bulk: the six categories,
   the three management levels, risk levels, due dates), with a year of visits at 15, 30 or 90
   days by level; then `/special/coverage/` as the same official, {runs} timed runs (or as
   many as fit in {budget} s, at least 3) after an untimed one. The target is judged on the
   median.
"""


def main() -> None:
    try:
        child_main(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    finally:
        import shutil

        for folder in _cleanup:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        main()
    else:
        print("Run through bench/run.py: .venv/bin/python -m bench.run people")
        sys.exit(2)
