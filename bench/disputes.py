"""Disputes at city scale: the performance targets of issue 5, measured.

Targets (from the issue), with 300,000 disputes on PostgreSQL:

1. a mediation body's case list p99 < 50 ms;
2. the city statistics page < 300 ms;
3. generating a 调解协议书 < 1 s.

Each database runs in its own subprocess (`python -m bench.disputes --child …`) on a throwaway
database: the real schema (`migrate`), the demo city without module records
(`DemoBuilder(events=False)`), then the registry of mediation bodies and a year of cases from the
demo generator (`zhili.disputes.demo.build_disputes(count=…)`: parties with valid ID numbers,
realistic channels, types, states, agreements, confirmations, follow-ups and transitions), and
the monthly rollup. SQLite runs the same suite at a smaller size.

    BENCH_DISPUTES_PG=30000 BENCH_DISPUTES_SQLITE=10000 .venv/bin/python -m bench.run disputes
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

from bench import Report, Skipped, throwaway_pg_url
from bench.people import ms, software, summary_ms

TITLE = "Disputes at city scale"

ROOT = Path(__file__).resolve().parent.parent
SIZES = {
    "postgresql": int(os.environ.get("BENCH_DISPUTES_PG", 300_000)),
    "sqlite": int(os.environ.get("BENCH_DISPUTES_SQLITE", 100_000)),
}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
LIST_RUNS = int(os.environ.get("BENCH_DISPUTES_RUNS", 300))
STATS_RUNS = 20
DOC_RUNS = 10
WARMUP = 10
LIST_P99_MS = 50
STATS_MS = 300
DOC_S = 1.0


def _run_child(engine: str, size: int) -> dict:
    database = throwaway_pg_url("zhili_bench_disputes") if engine == "postgresql" \
        else nullcontext()
    with tempfile.TemporaryDirectory(prefix="zhili-bench-disputes-") as tmp, \
            database as url:
        out = Path(tmp) / "result.json"
        env = {**os.environ, "ZHILI_DATA_DIR": str(Path(tmp) / "data"),
               "DJANGO_SETTINGS_MODULE": "zhili.config.settings",
               "ZHILI_STATICFILES_STORAGE":
                   "django.contrib.staticfiles.storage.StaticFilesStorage"}
        env.pop("ZHILI_DATABASE_URL", None)
        if url:
            env["ZHILI_DATABASE_URL"] = url
        log = Path(tmp) / "child.log"
        with log.open("wb") as stderr:
            child = subprocess.Popen([sys.executable, "-m", "bench.disputes", "--child", engine,
                                      str(size), str(out)], cwd=ROOT, env=env, stderr=stderr)
        try:
            code = child.wait()
        except BaseException:
            child.terminate()
            child.wait(timeout=30)
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
        print(f"   {ENGINE_NAMES[engine]}: {size:,} disputes", flush=True)
        try:
            results.append(_run_child(engine, size))
        except Skipped as exc:
            skipped.append(f"{ENGINE_NAMES[engine]} skipped: {exc}.")
    if not results:
        raise RuntimeError("no database could be measured: " + " ".join(skipped))
    software_lines = sorted({line for r in results for line in r["software"]})
    return Report(body=render(results, skipped), software=software_lines)


# --- child ------------------------------------------------------------------------------------


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
    from django.utils import timezone

    from zhili.demo.builder import DemoBuilder
    from zhili.disputes import stats
    from zhili.disputes.demo import build_disputes

    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
    result: dict = {"engine": engine, "size": size}
    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    builder = DemoBuilder(scale="city", events=False)
    builder.build()
    areas = builder.build_areas()  # idempotent: the areas and organisations just built
    orgs = builder.build_orgs(areas)
    result["setup_s"] = time.perf_counter() - clock
    say(f"schema and demo city in {result['setup_s']:.0f} s")
    result["software"] = software(connection)
    clock = time.perf_counter()
    made = build_disputes(scale="city", areas=areas, orgs=orgs, today=timezone.localdate(),
                          count=size)
    result["generate_s"] = time.perf_counter() - clock
    result["made"] = made
    say(f"{made:,} disputes generated in {result['generate_s']:.0f} s")
    clock = time.perf_counter()
    stats.rebuild_all()
    result["rollup_s"] = time.perf_counter() - clock
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    # What every server process does once the application is loaded (zhili/config/wsgi.py).
    from zhili.config.heap import settle_heap

    settle_heap()
    result["lists"] = measure_lists()
    result["stats"] = measure_stats()
    result["documents"] = measure_documents()
    out.write_text(json.dumps(result, indent=1, default=str))


def _timed(client, url: str, runs: int) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(WARMUP):
        response = client.get(url)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    times = []
    for _ in range(runs):
        clock = time.perf_counter()
        client.get(url)
        times.append(time.perf_counter() - clock)
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    sql = sum(float(q["time"]) for q in captured.captured_queries) * 1000
    return {"url": url, "queries": len(captured), "sql_ms": sql, **summary_ms(times)}


def _mediator_of(body):
    """A user holding the mediator role at the body (created if the demo has none)."""
    from zhili.accounts.models import Position, Role, User

    position = Position.objects.filter(org=body.org, role__code="mediator").first()
    if position is not None:
        return position.user
    user = User.objects.create_user(username=f"bench.med.{body.pk}", password="x" * 16)
    Position.objects.create(user=user, role=Role.objects.get(code="mediator"),
                            area=body.org.area, area_code=body.org.area_code, org=body.org)
    return user


def measure_lists() -> list[dict]:
    """The busiest bodies' case lists as their own mediators, page and API."""
    from django.db.models import Count
    from django.test import Client

    from zhili.disputes.models import Dispute, MediationBody

    busiest = [row["body"] for row in Dispute.objects.exclude(body=None).values("body")
               .annotate(n=Count("id")).order_by("-n")[:3]]
    found = []
    for body in MediationBody.objects.filter(pk__in=busiest).select_related("org"):
        client = Client()
        client.force_login(_mediator_of(body))
        cases = Dispute.objects.filter(body=body).count()
        for label, url in ((f"{body.org.name}: case list page", f"/disputes/?body={body.pk}"),
                           (f"{body.org.name}: API list",
                            f"/api/v1/disputes?body={body.pk}&limit=50")):
            row = {"label": label, "cases": cases, **_timed(client, url, LIST_RUNS)}
            found.append(row)
            say(f"{label}: p99 {row['p99']:.1f} ms")
    return found


def measure_stats() -> dict:
    from django.test import Client

    from zhili.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username="city.leader"))
    row = _timed(client, "/disputes/stats/", STATS_RUNS)
    say(f"statistics page: median {row['p50']:.0f} ms")
    return row


def measure_documents() -> dict:
    from zhili.accounts.models import User
    from zhili.disputes.documents import download_agreement
    from zhili.disputes.models import Agreement

    admin = User.objects.get(username="admin")
    agreements = list(Agreement.objects.filter(form="written", is_current=True)
                      .select_related("dispute")[:DOC_RUNS + 1])
    result = {}
    for fmt in ("docx", "pdf"):
        clock = time.perf_counter()
        download_agreement(actor=admin, dispute=agreements[0].dispute, fmt=fmt)
        first = time.perf_counter() - clock
        times = []
        for agreement in agreements[1:]:
            clock = time.perf_counter()
            content, _name, _type = download_agreement(actor=admin, dispute=agreement.dispute,
                                                       fmt=fmt)
            times.append(time.perf_counter() - clock)
        result[fmt] = {"first_s": first, "bytes": len(content), **summary_ms(times)}
        say(f"agreement {fmt}: first {first:.2f} s, median {result[fmt]['p50']:.0f} ms")
    return result


# --- report -----------------------------------------------------------------------------------


def verdict(ok: bool, text: str) -> str:
    return f"{text} {'**PASS**' if ok else '**MISS**'}"


def title(r: dict) -> str:
    return f"{ENGINE_NAMES[r['engine']]}, {r['made']:,} disputes"


def render(results: list[dict], skipped: list[str]) -> str:
    lines = ["### Setup", "", SETUP.strip().format(runs=LIST_RUNS, warmup=WARMUP,
                                                    stats=STATS_RUNS, docs=DOC_RUNS), ""]
    lines += [f"**{note}**" for note in skipped]
    lines += ["### Results against the targets", "",
              "| Target | " + " | ".join(title(r) for r in results) + " |",
              "|---|" + "---|" * len(results)]
    worst = [max(r["lists"], key=lambda x: x["p99"]) for r in results]
    lines.append(f"| 1. A body's case list p99 < {LIST_P99_MS} ms | " + " | ".join(
        verdict(w["p99"] < LIST_P99_MS, f"{ms(w['p99'])} ms, worst of {len(r['lists'])}")
        for w, r in zip(worst, results, strict=True)) + " |")
    lines.append(f"| 2. City statistics page < {STATS_MS} ms | " + " | ".join(
        verdict(r["stats"]["p50"] < STATS_MS, f"median {ms(r['stats']['p50'])} ms, slowest "
                f"{ms(r['stats']['max'])}") for r in results) + " |")
    lines.append(f"| 3. A 调解协议书 < {DOC_S:.0f} s | " + " | ".join(
        verdict(max(r["documents"][f]["max"] for f in ("docx", "pdf")) < DOC_S * 1000,
                f"docx {ms(r['documents']['docx']['p50'])} ms, pdf "
                f"{ms(r['documents']['pdf']['p50'])} ms (slowest "
                f"{ms(max(r['documents'][f]['max'] for f in ('docx', 'pdf')))} ms; first pdf "
                f"in a fresh process {r['documents']['pdf']['first_s']:.2f} s)")
        for r in results) + " |")
    for r in results:
        lines += ["", f"### {title(r)}", "",
                  f"Schema and demo city {r['setup_s']:.0f} s; cases generated in "
                  f"{r['generate_s']:.0f} s; monthly rollup rebuilt in {r['rollup_s']:.1f} s.",
                  "", "| List | Cases of the body | Queries (SQL ms) | p50 ms | p95 ms | p99 ms "
                  "| max ms |", "|---|---|---|---|---|---|---|"]
        for x in r["lists"]:
            lines.append(f"| {x['label']} (`{x['url']}`) | {x['cases']:,} | {x['queries']} "
                         f"({ms(x['sql_ms'])}) | {ms(x['p50'])} | {ms(x['p95'])} | "
                         f"{ms(x['p99'])} | {ms(x['max'])} |")
        s = r["stats"]
        lines += ["", f"Statistics page `{s['url']}` as the city leader (12 months, whole "
                  f"city): median {ms(s['p50'])} ms, p99 {ms(s['p99'])} ms over {s['n']} runs, "
                  f"{s['queries']} queries ({ms(s['sql_ms'])} ms of SQL)."]
    return "\n".join(lines)


SETUP = """
Each database is measured in its own process on a throwaway database (PostgreSQL: created and
dropped by the run; SQLite: a temporary file with the project's settings): the real schema, the
demo city of Nantong with its organisations and users (`DemoBuilder(scale="city",
events=False)`), then the registry of mediation bodies and a year of cases from the demo
generator, and the monthly statistics rollup.

1. Case lists: the three busiest bodies, each as one of its own mediators (organisation scope):
   the list page `/disputes/?body=<id>` and the API list, {warmup} untimed then {runs} timed
   requests each through `django.test.Client` (whole middleware stack and template rendering).
2. Statistics: `/disputes/stats/` (last 12 months, whole city) as the city leader, {stats} runs
   after {warmup} untimed; judged on the median.
3. Documents: the 调解协议书 of {docs} agreements as Word and as PDF
   (`zhili.disputes.documents.download_agreement`: context, rendering, audit row); the first
   document of each format is timed apart (a fresh process loads WeasyPrint and the fonts).
"""


def main() -> None:
    child_main(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        main()
    else:
        print("Run through bench/run.py: .venv/bin/python -m bench.run disputes")
        sys.exit(2)
