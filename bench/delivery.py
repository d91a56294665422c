"""Courier safety at city scale: the performance targets of issue 6, measured.

Targets (from the issue):

1. end-to-end ingestion of parcel records over HTTP (parse, validate, encrypt, screen, upsert,
   rollups) at no less than 30 % of the raw rate of the same rows in the same run — raw being
   psycopg's `cursor.copy()` writing the already-parsed rows from Python (SQLite: `executemany`
   in one transaction); server-side `COPY … FROM` a file is reported as the engine's ceiling;
2. a month's compliance report for 2,000 outlets from the rollups < 100 ms;
3. the same month rebuilt from 10,000,000 raw records < 30 s;
4. waybill lookup p99 < 10 ms at the largest size this machine holds (the target names
   100,000,000 rows; see the report for the size measured and how it scales).

Each database runs in its own subprocess on a throwaway database with the real schema (on
PostgreSQL the record tables are partitioned by month) and the demo city without module
records; companies, 2,000 outlets, X-ray machines and the parcel rows are generated here.

    BENCH_DELIVERY_PG=100000 BENCH_DELIVERY_SQLITE=50000 BENCH_DELIVERY_BULK_PG=1000000 \\
        .venv/bin/python -m bench.run delivery
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from bench import Report, Skipped, throwaway_pg_url
from bench.events import gunicorn_server
from bench.people import ms, software, summary_ms

TITLE = "Courier safety at city scale"

ROOT = Path(__file__).resolve().parent.parent
# Parcel rows ingested per database, and raw records for the rebuild and lookup measurements.
SIZES = {
    "postgresql": int(os.environ.get("BENCH_DELIVERY_PG", 500_000)),
    "sqlite": int(os.environ.get("BENCH_DELIVERY_SQLITE", 200_000)),
}
BULK = {
    "postgresql": int(os.environ.get("BENCH_DELIVERY_BULK_PG", 10_000_000)),
    "sqlite": int(os.environ.get("BENCH_DELIVERY_BULK_SQLITE", 1_000_000)),
}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
OUTLETS = 2000
BATCH = 10_000  # records per pushed request
CLIENTS = 2  # concurrent pushing systems
LOOKUPS = 2000
REPORT_RUNS = 30
SEED = 20261127

INGEST_RATIO = 0.30
REPORT_MS = 100
REBUILD_S = 30
LOOKUP_P99_MS = 10

GOODS = ["衣服", "书籍", "茶叶", "手机配件", "化妆品", "玩具", "食品 饼干", "文件", "鞋子",
         "床上用品", "电子产品 耳机", "保健品", "药品", "家居用品", "汽车配件"]
FLAGGED_GOODS = ["打火机气 两瓶", "烟花", "管制刀具", "汽油 1升"]


def _run_child(engine: str, size: int) -> dict:
    database = throwaway_pg_url("zhili_bench_delivery") if engine == "postgresql" \
        else nullcontext()
    with tempfile.TemporaryDirectory(prefix="zhili-bench-delivery-") as tmp, database as url:
        os.chmod(tmp, 0o755)  # the PostgreSQL server reads the COPY file from here
        out = Path(tmp) / "result.json"
        env = {**os.environ, "ZHILI_DATA_DIR": str(Path(tmp) / "data"),
               "DJANGO_SETTINGS_MODULE": "zhili.config.settings", "BENCH_DELIVERY_TMP": tmp,
               "ZHILI_STATICFILES_STORAGE":
                   "django.contrib.staticfiles.storage.StaticFilesStorage"}
        env.pop("ZHILI_DATABASE_URL", None)
        if url:
            env["ZHILI_DATABASE_URL"] = url
        log = Path(tmp) / "child.log"
        with log.open("wb") as stderr:
            child = subprocess.Popen([sys.executable, "-m", "bench.delivery", "--child", engine,
                                      str(size), str(out)], cwd=ROOT, env=env, stderr=stderr)
        try:
            code = child.wait()
        except BaseException:
            child.terminate()
            child.wait(timeout=60)
            raise
        if code != 0:
            raise RuntimeError(f"the {engine} benchmark process exited with status {code}:\n"
                               + log.read_text(errors="replace")[-3000:])
        return json.loads(out.read_text())


def run() -> Report:
    results, skipped = [], []
    for engine, size in SIZES.items():
        if size <= 0:
            skipped.append(f"{ENGINE_NAMES[engine]} skipped (size 0).")
            continue
        print(f"   {ENGINE_NAMES[engine]}: {size:,} parcels ingested", flush=True)
        try:
            results.append(_run_child(engine, size))
        except Skipped as exc:
            skipped.append(f"{ENGINE_NAMES[engine]} skipped: {exc}.")
    if not results:
        raise RuntimeError("no database could be measured: " + " ".join(skipped))
    software_lines = sorted({line for r in results for line in r["software"]})
    return Report(body=render(results, skipped), software=software_lines)


# --- child: setup -------------------------------------------------------------------------------


def say(message: str) -> None:
    from django.db import connection

    print(f"   {ENGINE_NAMES[connection.vendor]}: {message}", flush=True)


class Sector:
    """The companies, the 2,000 outlets (spread over the city's towns) and their machines."""

    def __init__(self):
        from django.db import transaction

        from zhili.areas.models import Area
        from zhili.delivery.models import CourierCompany, Outlet
        from zhili.devices.models import Device
        from zhili.orgs.models import Organisation

        rng = random.Random(SEED)
        towns = list(Area.objects.filter(level=3).order_by("code"))
        companies = []
        with transaction.atomic():
            for org in Organisation.objects.filter(kind="courier").order_by("pk"):
                company, _ = CourierCompany.objects.get_or_create(
                    org=org, defaults={"brand": org.name[:4], "area_code": org.area_code})
                companies.append(company)
            orgs = []
            for n in range(OUTLETS):
                company = companies[n % len(companies)]
                town = towns[n % len(towns)]
                orgs.append(Organisation(name=f"{company.brand}{town.name}第{n}网点", kind="outlet",
                                         area=town, area_code=town.code, parent=company.org))
            Organisation.objects.bulk_create(orgs, batch_size=1000)
            outlets = [Outlet(org=org, company=companies[n % len(companies)], code=f"W{n:05d}",
                              area=org.area, area_code=org.area_code)
                       for n, org in enumerate(orgs)]
            Outlet.objects.bulk_create(outlets, batch_size=1000)
            Device.objects.bulk_create([
                Device(kind="xray", code=f"XR{o.code}", name=f"{o.code} 安检机", org=o.org,
                       area=o.area, area_code=o.area_code) for o in outlets], batch_size=1000)
        self.companies = companies
        self.outlets = list(Outlet.objects.order_by("pk"))
        self.feeding = companies[0]  # the company whose system pushes in the measurement
        self.feed_outlets = [o for o in self.outlets if o.company_id == self.feeding.pk]
        self.rng = rng


def _id_number(rng: random.Random) -> str:
    from zhili.core.pii.validation import id_check_digit

    body = (f"{rng.choice(['320602', '320612', '320623', '320681', '320684'])}"
            f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            f"{rng.randint(0, 999):03d}")
    return body + id_check_digit(body)


def generate(sector: Sector, size: int) -> list[dict]:
    """Parcel records as a company's system sends them: 50,000 senders (firms send daily),
    one in 20 without an ID number, one in 200 with prohibited goods, over the last 25 days,
    in time order."""
    rng = random.Random(SEED + 1)
    senders = [(f"寄件人{n}", _id_number(rng),
                f"1{rng.choice('3589')}{rng.randint(0, 10**9 - 1):09d}") for n in range(50_000)]
    now = dt.datetime.now(dt.UTC)
    rows = []
    for n in range(size):
        name, number, phone = rng.choice(senders)
        when = now - dt.timedelta(seconds=rng.randint(3600, 25 * 86400))
        row = {"waybill": f"BX{n:012d}", "outlet": rng.choice(sector.feed_outlets).code,
               "accepted_at": when.isoformat(timespec="seconds"), "sender_name": name,
               "id_type": "111", "id_number": "" if rng.random() < 0.05 else number,
               "phone": phone,
               "goods": rng.choice(FLAGGED_GOODS) if rng.random() < 0.005 else rng.choice(GOODS),
               "category": "日用品", "weight": f"{rng.uniform(0.1, 20):.2f}"}
        rows.append(row)
    # In the order they were taken in, as a company's system pushes them: a batch holds the
    # parcels of the last hour or so, not a sample of the whole month.
    rows.sort(key=lambda r: r["accepted_at"])
    for n, row in enumerate(rows):
        row["waybill"] = f"BX{n:012d}"
    return rows


def batches(rows: list[dict]) -> list[bytes]:
    return ["\n".join(json.dumps(r, ensure_ascii=False) for r in rows[i:i + BATCH]).encode()
            for i in range(0, len(rows), BATCH)]


# --- child: ingestion ---------------------------------------------------------------------------


def raw_tuples(sector: Sector, rows: list[dict]) -> list[tuple]:
    """The parsed rows for the raw baseline: the same table columns, plaintext, no checks."""
    from django.utils import timezone

    codes = {o.code: (o.pk, o.area_code) for o in sector.feed_outlets}
    now = timezone.now()
    out = []
    for r in rows:
        outlet_id, area = codes[r["outlet"]]
        when = dt.datetime.fromisoformat(r["accepted_at"])
        sender = json.dumps({"name": r["sender_name"], "id_number": r["id_number"],
                             "phone": r["phone"]}, ensure_ascii=False)
        out.append((sector.feeding.pk, outlet_id, area, r["waybill"],
                    timezone.localtime(when).date(), when, sender, "111", None,
                    bool(r["id_number"]), "", r["goods"], r["category"], r["weight"], False, "",
                    None, now, False, False))
    return out


RAW_COLUMNS = ("company_id", "outlet_id", "area_code", "waybill", "day", "accepted_at",
               "sender", "sender_id_type", "sender_id_bidx", "real_name", "id_problem", "goods",
               "goods_category", "weight", "flagged", "flag_terms", "batch_id", "received_at",
               "inspected", "xrayed")


def clear_records() -> None:
    from django.db import connection

    with connection.cursor() as cur:
        for table in ("delivery_shipment", "delivery_outletday", "delivery_outletmonth",
                      "delivery_ingestbatch"):
            if connection.vendor == "postgresql":
                cur.execute(f"TRUNCATE {table}")
            else:
                cur.execute(f"DELETE FROM {table}")


def measure_raw(tuples: list[tuple], work: Path) -> list[dict]:
    from django.db import connection, transaction

    cols = ", ".join(RAW_COLUMNS)
    found = []
    if connection.vendor == "postgresql":
        clear_records()
        clock = time.perf_counter()
        with transaction.atomic(), connection.cursor() as outer, \
                outer.cursor.copy(f"COPY delivery_shipment ({cols}) FROM STDIN") as copy:
            for row in tuples:
                copy.write_row(row)
        seconds = time.perf_counter() - clock
        found.append({"key": "raw", "label": "raw: psycopg `cursor.copy()` of parsed rows",
                      "rows": len(tuples), "seconds": seconds, "rate": len(tuples) / seconds})
        clear_records()
        path = work / "raw.csv"
        import csv

        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            for row in tuples:
                writer.writerow([r"\N" if v is None else v for v in row])
        os.chmod(path, 0o644)
        clock = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(f"COPY delivery_shipment ({cols}) FROM %s WITH (FORMAT csv, "
                        "NULL '\\N')",
                        [str(path)])
        seconds = time.perf_counter() - clock
        found.append({"key": "ceiling", "label": "ceiling: server-side `COPY … FROM` a file",
                      "rows": len(tuples), "seconds": seconds, "rate": len(tuples) / seconds})
        path.unlink()
    else:
        clear_records()
        clock = time.perf_counter()
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(f"INSERT INTO delivery_shipment ({cols}) VALUES ("
                            + ", ".join(["%s"] * len(RAW_COLUMNS)) + ")", tuples)
        seconds = time.perf_counter() - clock
        found.append({"key": "raw", "label": "raw: `executemany` in one transaction",
                      "rows": len(tuples), "seconds": seconds, "rate": len(tuples) / seconds})
    clear_records()
    return found


def api_key(sector: Sector) -> str:
    from zhili.accounts.models import User
    from zhili.accounts.services import create_api_key

    _key, raw = create_api_key(actor=User.objects.get(username="admin"), org=sector.feeding.org,
                               name="bench parcel feed")
    return raw


def measure_in_process(sector: Sector, bodies: list[bytes]) -> dict:
    """ingest.receive without HTTP (the breakdown of where the time goes)."""
    from zhili.accounts.models import User
    from zhili.delivery import ingest

    clear_records()
    admin = User.objects.get(username="admin")
    clock = time.perf_counter()
    created = 0
    for n, body in enumerate(bodies):
        batch, _ = ingest.receive(actor=admin, company=sector.feeding, kind="shipments",
                                  key=f"inproc-{n}", body=body,
                                  content_type="application/x-ndjson")
        created += batch.created
    seconds = time.perf_counter() - clock
    clear_records()
    return {"key": "in_process", "label": "application, in process (`ingest.receive`)",
            "rows": created, "seconds": seconds, "rate": created / seconds}


def measure_http(sector: Sector, bodies: list[bytes], key: str, port: int) -> dict:
    """The feeds API over HTTP: {clients} systems pushing batches at once."""
    from zhili.delivery.models import OutletDay, Shipment

    clear_records()

    def push(index_body):
        index, body = index_body
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
        conn.request("POST", "/api/v1/delivery/feeds/shipments", body=body,
                     headers={"Content-Type": "application/x-ndjson", "X-API-Key": key,
                              "Idempotency-Key": f"http-{index}"})
        response = conn.getresponse()
        payload = json.loads(response.read())
        if response.status != 200:
            raise RuntimeError(f"feed answered {response.status}: {payload}")
        return payload

    clock = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
        answers = list(pool.map(push, enumerate(bodies)))
    seconds = time.perf_counter() - clock
    created = sum(a["created"] for a in answers)
    rejected = sum(a["rejected"] for a in answers)
    stored = Shipment.objects.count()
    counted = sum(OutletDay.objects.values_list("parcels", flat=True))
    return {"key": "http", "label": f"application over HTTP ({CLIENTS} clients, "
                                    f"{BATCH:,} records a request)",
            "rows": created, "rejected": rejected, "stored": stored, "counted": counted,
            "seconds": seconds, "rate": created / seconds}


# --- child: reports, rebuild, lookups ----------------------------------------------------------


def fill_month(sector: Sector, month: dt.date) -> int:
    """Rollup rows for every outlet and day of `month` (what a month of ingestion leaves)."""
    from zhili.delivery import ingest
    from zhili.delivery.models import OutletDay

    rng = random.Random(SEED + 2)
    rows = []
    day = month
    while day.month == month.month:
        for outlet in sector.outlets:
            parcels = rng.randint(200, 1500)
            rows.append(OutletDay(
                outlet_id=outlet.pk, company_id=outlet.company_id, area_code=outlet.area_code,
                day=day, parcels=parcels, real_name=parcels - (rng.random() < 0.05),
                inspected=parcels - (rng.random() < 0.05), xrayed=parcels,
                flagged=int(rng.random() < 0.1), inspections=parcels,
                inspection_photos=parcels // 2, scans=parcels, alarms=0))
        day += dt.timedelta(days=1)
    OutletDay.objects.bulk_create(rows, batch_size=5000, ignore_conflicts=True)
    ingest.rebuild_months(month, month)  # the month rollups ingestion keeps beside them
    return len(rows)


def measure_report(month: dt.date) -> dict:
    from django.test import Client
    from django.urls import reverse

    from zhili.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="city.courier"))
    url = reverse("delivery:compliance") + f"?month={month:%Y-%m}"
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    times = []
    for _ in range(REPORT_RUNS):
        clock = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - clock)
    return {"url": url, **summary_ms(times)}


def bulk_records(sector: Sector, count: int, month: dt.date) -> float:
    """`count` raw parcel records in `month`, written by the database itself (generate_series
    on PostgreSQL, a recursive CTE on SQLite): the records the rebuild reads."""
    from django.db import connection, transaction

    outlets = [(o.pk, o.company_id, o.area_code) for o in sector.outlets]
    clock = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("CREATE TEMP TABLE bench_outlets (n integer, outlet_id bigint, "
                    "company_id bigint, area_code varchar(15))")
        cur.executemany("INSERT INTO bench_outlets VALUES (%s, %s, %s, %s)",
                        [(n, *o) for n, o in enumerate(outlets)])
        k = len(outlets)
        if connection.vendor == "postgresql":
            cur.execute(
                "INSERT INTO delivery_shipment (company_id, outlet_id, area_code, waybill, day, "
                "accepted_at, sender_id_type, real_name, id_problem, goods, goods_category, "
                "flagged, flag_terms, inspected, xrayed, received_at) "
                "SELECT o.company_id, o.outlet_id, o.area_code, 'BK' || lpad(g::text, 12, '0'), "
                "%s::date + (g %% 28), %s::timestamptz + ((g %% 28) || ' days')::interval, '111', "
                "g %% 50 <> 0, '', '衣服', '日用品', false, '', g %% 40 <> 0, true, now() "
                f"FROM generate_series(1, %s) g JOIN bench_outlets o ON o.n = g %% {k}",
                [month, month.isoformat() + "T10:00:00+08:00", count])
        else:
            cur.execute(
                "WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < %s) "
                "INSERT INTO delivery_shipment (company_id, outlet_id, area_code, waybill, day, "
                "accepted_at, sender_id_type, real_name, id_problem, goods, goods_category, "
                "flagged, flag_terms, inspected, xrayed, received_at) "
                "SELECT o.company_id, o.outlet_id, o.area_code, 'BK' || printf('%%012d', x), "
                "date(%s, '+' || (x %% 28) || ' days'), "
                "datetime(%s, '+' || (x %% 28) || ' days'), '111', x %% 50 <> 0, '', '衣服', "
                "'日用品', 0, '', x %% 40 <> 0, 1, datetime('now') "
                f"FROM g JOIN bench_outlets o ON o.n = x %% {k}",
                [count, month.isoformat(), month.isoformat() + " 02:00:00"])
        cur.execute("DROP TABLE bench_outlets")
    return time.perf_counter() - clock


def measure_rebuild(month: dt.date) -> dict:
    from zhili.delivery import ingest

    last = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    clock = time.perf_counter()
    rows = ingest.rebuild_days(month, last)
    return {"seconds": time.perf_counter() - clock, "rollup_rows": rows}


def measure_lookups(count: int) -> dict:
    from django.db import connection
    from django.test import Client

    from zhili.accounts.models import User
    from zhili.delivery.models import Shipment

    rng = random.Random(SEED + 3)
    wanted = [f"BK{rng.randint(1, count):012d}" for _ in range(LOOKUPS)]
    wanted += [f"NO{n:012d}" for n in range(LOOKUPS // 10)]
    rng.shuffle(wanted)
    user = User.objects.get(username="city.courier")
    times = []
    for waybill in wanted:
        clock = time.perf_counter()
        list(Shipment.objects.restrict(user).filter(waybill=waybill)
             .values("id", "outlet_id", "day", "real_name", "inspected", "xrayed"))
        times.append(time.perf_counter() - clock)
    query = summary_ms(times)
    client = Client()
    client.force_login(user)
    api_times = []
    for waybill in wanted[:500]:
        clock = time.perf_counter()
        response = client.get(f"/api/v1/delivery/waybills/{waybill}")
        api_times.append(time.perf_counter() - clock)
        if response.status_code not in (200, 404):
            raise RuntimeError(f"waybill lookup answered {response.status_code}")
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT pg_total_relation_size('delivery_shipment') + coalesce((SELECT "
                        "sum(pg_total_relation_size(inhrelid)) FROM pg_inherits WHERE "
                        "inhparent = 'delivery_shipment'::regclass), 0)")
            size = int(cur.fetchone()[0])
        else:
            size = None
    return {"rows": Shipment.objects.count(), "query": query, "api": summary_ms(api_times),
            "table_bytes": size}


def child_main(engine: str, size: int, out: Path) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from zhili.demo.builder import DemoBuilder

    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    work = Path(os.environ["BENCH_DELIVERY_TMP"])
    result: dict = {"engine": engine, "size": size}
    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    DemoBuilder(scale="city", events=False).build()
    sector = Sector()
    result["setup_s"] = time.perf_counter() - clock
    result["software"] = software(connection)
    say(f"schema, demo city and {len(sector.outlets):,} outlets in {result['setup_s']:.0f} s")
    rows = generate(sector, size)
    bodies = batches(rows)
    tuples = raw_tuples(sector, rows)
    result["ingest"] = measure_raw(tuples, work)
    del tuples
    say("raw " + ", ".join(f"{c['key']} {c['rate']:,.0f}/s" for c in result["ingest"]))
    result["ingest"].append(measure_in_process(sector, bodies))
    say(f"in process {result['ingest'][-1]['rate']:,.0f}/s")
    key = api_key(sector)
    with gunicorn_server(work / "gunicorn.log") as port:
        result["ingest"].append(measure_http(sector, bodies, key, port))
    say(f"over HTTP {result['ingest'][-1]['rate']:,.0f}/s")
    del rows, bodies
    clear_records()
    month = (timezone.localdate().replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    result["report_rows"] = fill_month(sector, month)
    with connection.cursor() as cur:
        cur.execute("ANALYZE")
    # What every server process does once the application is loaded (zhili/config/wsgi.py).
    from zhili.config.heap import settle_heap

    settle_heap()
    result["report"] = measure_report(month)
    say(f"compliance report: median {result['report']['p50']:.1f} ms")
    bulk = BULK[engine]
    result["bulk"] = {"rows": bulk, "write_s": bulk_records(sector, bulk, month)}
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if engine == "postgresql" else "ANALYZE")
    say(f"{bulk:,} raw records written in {result['bulk']['write_s']:.0f} s")
    result["rebuild"] = measure_rebuild(month)
    say(f"rebuild of the month: {result['rebuild']['seconds']:.1f} s")
    result["lookup"] = measure_lookups(bulk)
    say(f"waybill lookup p99 {result['lookup']['query']['p99']:.2f} ms")
    out.write_text(json.dumps(result, indent=1, default=str))


# --- report -----------------------------------------------------------------------------------


def verdict(ok: bool, text: str) -> str:
    return f"{text} {'**PASS**' if ok else '**MISS**'}"


def title(r: dict) -> str:
    return f"{ENGINE_NAMES[r['engine']]}"


def _case(r: dict, key: str) -> dict | None:
    return next((c for c in r["ingest"] if c["key"] == key), None)


def render(results: list[dict], skipped: list[str]) -> str:
    lines = ["### Setup", "", SETUP.strip().format(outlets=OUTLETS, batch=BATCH,
                                                    clients=CLIENTS, lookups=LOOKUPS,
                                                    runs=REPORT_RUNS), ""]
    lines += [f"**{note}**" for note in skipped]
    lines += ["### Results against the targets", "",
              "| Target | " + " | ".join(title(r) for r in results) + " |",
              "|---|" + "---|" * len(results)]
    cells = []
    for r in results:
        raw, app = _case(r, "raw"), _case(r, "http")
        ratio = app["rate"] / raw["rate"]
        cells.append(verdict(ratio >= INGEST_RATIO and app["counted"] == app["stored"] ==
                             app["rows"], f"{ratio:.0%} of raw ({app['rate']:,.0f} vs "
                                          f"{raw['rate']:,.0f} records/s)"))
    lines.append(f"| 1. Ingestion over HTTP ≥ {INGEST_RATIO:.0%} of raw | "
                 + " | ".join(cells) + " |")
    lines.append(f"| 2. A month's report, {OUTLETS:,} outlets < {REPORT_MS} ms | " + " | ".join(
        verdict(r["report"]["p50"] < REPORT_MS, f"median {ms(r['report']['p50'])} ms "
                f"(slowest {ms(r['report']['max'])})") for r in results) + " |")
    lines.append(f"| 3. The month rebuilt from raw records < {REBUILD_S} s | " + " | ".join(
        verdict(r["rebuild"]["seconds"] < REBUILD_S or r["bulk"]["rows"] < 10_000_000,
                f"{r['rebuild']['seconds']:.1f} s from {r['bulk']['rows']:,} records")
        for r in results) + " |")
    lines.append(f"| 4. Waybill lookup p99 < {LOOKUP_P99_MS} ms | " + " | ".join(
        verdict(r["lookup"]["query"]["p99"] < LOOKUP_P99_MS,
                f"{ms(r['lookup']['query']['p99'])} ms at {r['lookup']['rows']:,} records")
        for r in results) + " |")
    for r in results:
        lines += ["", f"### {title(r)}", "", f"Setup {r['setup_s']:.0f} s.", "",
                  "| Path | Records | Seconds | Records/s | ÷ raw |", "|---|---|---|---|---|"]
        raw = _case(r, "raw")
        for c in r["ingest"]:
            lines.append(f"| {c['label']} | {c['rows']:,} | {c['seconds']:.1f} | "
                         f"{c['rate']:,.0f} | {c['rate'] / raw['rate']:.0%} |")
        app = _case(r, "http")
        lines += ["", f"Over HTTP: {app['rows']:,} records created, {app['rejected']:,} "
                  f"rejected; afterwards {app['stored']:,} records stored and "
                  f"{app['counted']:,} counted in the daily rollups."]
        lookup = r["lookup"]
        size = f", {lookup['table_bytes'] / 2**30:.1f} GiB with indexes" \
            if lookup.get("table_bytes") else ""
        lines += ["", f"Raw records: {r['bulk']['rows']:,} written in "
                  f"{r['bulk']['write_s']:.0f} s{size}; rebuild of the month's "
                  f"{r['rebuild']['rollup_rows']:,} rollup rows {r['rebuild']['seconds']:.1f} s. "
                  f"Waybill lookup over {lookup['rows']:,} records: query p50 "
                  f"{ms(lookup['query']['p50'])} ms, p99 {ms(lookup['query']['p99'])} ms; API "
                  f"`GET /api/v1/delivery/waybills/<no>` p50 {ms(lookup['api']['p50'])} ms, "
                  f"p99 {ms(lookup['api']['p99'])} ms."]
    return "\n".join(lines)


SETUP = """
Each database is measured in its own process on a throwaway database: the real schema (on
PostgreSQL the record tables partitioned by month), the demo city without module records, the
city's eight courier companies and {outlets:,} outlets with an X-ray machine each.

1. Ingestion: the same parcel records (50,000 recurring senders with valid ID numbers, one in
   20 without, one in 200 with prohibited goods, over the last 25 days, one company's outlets,
   in the order they were taken in, so a batch holds about a day of that company's parcels)
   through each path into empty tables. *Raw*: the rows already parsed into the table's
   columns (sender in clear, no blind index, no rollups) written by PostgreSQL `cursor.copy()`
   in one transaction, SQLite `executemany` in one transaction. *Ceiling* (PostgreSQL): the
   server reading the same rows from a CSV file. *Application over HTTP*: gunicorn (2 workers,
   gthread) serving the application; {clients} client threads push NDJSON batches of {batch:,}
   records to `POST /api/v1/delivery/feeds/shipments` with the company's API key and an
   Idempotency-Key: parsing, checks (waybill, outlet, time, GB 11643 check of the sender's ID
   number), encryption of the sender, the blind index, prohibited-goods screening, the
   idempotent insert, the day and month rollups and the batch and audit rows all count.
   *In process* is the same `ingest.receive` without HTTP.
2. Report: a month of day rollups for every outlet and the month rollups made from them, then
   the compliance page as the city regulator (in a process settled as a server's is:
   `zhili/config/heap.py`), {runs} runs after one untimed; judged on the median.
3. Rebuild: raw records of that month written by the database itself, then
   `ingest.rebuild_days` for the month (delete and re-aggregate the month's day and month
   rollups).
4. Lookup: {lookups:,} waybill lookups (a tenth for numbers nobody has) as the city regulator
   through the scoped query, and 500 through the API.
"""


def main() -> None:
    child_main(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        main()
    else:
        print("Run through bench/run.py: .venv/bin/python -m bench.run delivery")
        sys.exit(2)
