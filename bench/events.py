"""Grid events at city scale: the performance targets of the events module, measured.

Targets (from the issue), with 1,000,000 events and about 5,000,000 transitions on PostgreSQL:

1. an inbox page (scoped, filtered, 50 rows): p99 < 50 ms;
2. the city statistics page: < 300 ms;
3. the per-minute deadline sweep over all open events: < 5 s;
4. reports through the API: at least 50 % of the throughput of a bare Django view writing the
   same rows with plain SQL in one transaction, same server, same run.

The same suite runs on SQLite at a tenth of the volume.

Each database runs in its own subprocess (`python -m bench.events --child …`) against a
throwaway database: the real schema (`migrate`), the demo city of Nantong without its demo events
(`DemoBuilder(events=False)`: areas, grids, organisations, the demo users), then a year of events
generated here and written at the database's native bulk speed (PostgreSQL COPY, SQLite
executemany), the statistics rollup rebuilt for every month, and the measurements through the
application's own code: `django.test.Client` for pages, `deadlines.sweep_all` for the sweep, and
gunicorn serving `bench.settings` (the application's settings plus one baseline view) for the
throughput. The parent process only creates and drops the PostgreSQL database and writes the
report, so a crashed or killed child cannot leave the database behind.

Smaller runs for trying things out (figures are then not comparable with the targets):

    BENCH_EVENTS_PG=50000 BENCH_EVENTS_SQLITE=20000 BENCH_EVENTS_REQUESTS=50 \\
        BENCH_EVENTS_SECONDS=4 .venv/bin/python -m bench.run events
"""

from __future__ import annotations

import gc
import http.client
import itertools
import json
import math
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench import Report, Skipped, throwaway_pg_url

TITLE = "Grid events at city scale"

ROOT = Path(__file__).resolve().parent.parent
# Events per database; smaller values make quick trial runs (0 skips that database).
SIZES = {
    "postgresql": int(os.environ.get("BENCH_EVENTS_PG", 1_000_000)),
    "sqlite": int(os.environ.get("BENCH_EVENTS_SQLITE", 100_000)),
}
ENGINE_NAMES = {"postgresql": "PostgreSQL", "sqlite": "SQLite"}
REQUESTS = int(os.environ.get("BENCH_EVENTS_REQUESTS", 200))  # timed requests per inbox case
INBOX_BUDGET_S = 20  # ... or as many as fit in this many seconds (at least 50): a slow list
WARMUP = 10  # untimed requests before each timed series
STATS_RUNS = 20
STATS_BUDGET_S = 20  # ... or as many as fit in this many seconds (at least 3): a slow page
THROUGHPUT_SECONDS = float(os.environ.get("BENCH_EVENTS_SECONDS", 15))  # per endpoint
CLIENTS = 8  # concurrent client threads (keep-alive connections) against gunicorn
CATCHUP_MINUTES = 60  # the deadline flags are left as a sweep an hour ago would have left them
SEED = 20260601  # fixed: every run generates the same year (relative to the time it runs)

# The targets (from the issue).
INBOX_P99_MS = 50
STATS_MS = 300
SWEEP_S = 5
THROUGHPUT_RATIO = 0.5


# --- Parent: one subprocess per database --------------------------------------------------------


def _run_child(engine: str, size: int) -> dict:
    # SQLite runs as deployed: without ZHILI_DATABASE_URL the settings put the file in
    # ZHILI_DATA_DIR (a temporary directory here) with the project's SQLite options (WAL,
    # IMMEDIATE transactions, busy timeout).
    database = throwaway_pg_url("zhili_bench_ev") if engine == "postgresql" else nullcontext()
    with tempfile.TemporaryDirectory(prefix="zhili-bench-ev-") as tmp, database as url:
        out = Path(tmp) / "result.json"
        env = {
            **os.environ,
            "ZHILI_DATA_DIR": str(Path(tmp) / "data"),
            "DJANGO_SETTINGS_MODULE": "zhili.config.settings",
            # No collectstatic into a throwaway directory: pages then link plain static names
            # (the manifest lookup they skip is one dictionary access).
            "ZHILI_STATICFILES_STORAGE": "django.contrib.staticfiles.storage.StaticFilesStorage",
        }
        env.pop("ZHILI_DATABASE_URL", None)
        if url:
            env["ZHILI_DATABASE_URL"] = url
        # Progress lines (stdout) go to the console; the application's log (stderr: a line per
        # notification the reports and the sweep send) to a file, shown if the child fails.
        log = Path(tmp) / "child.log"
        with log.open("wb") as stderr:
            child = subprocess.Popen(
                [sys.executable, "-m", "bench.events", "--child", engine, str(size), str(out)],
                cwd=ROOT, env=env, stderr=stderr,
            )
        try:
            code = child.wait()
        except BaseException:
            # Interrupted (Ctrl-C, or SIGTERM via bench/run.py): let the child stop its server
            # and close its connections before the database is dropped.
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
        print(f"   {ENGINE_NAMES[engine]}: {size:,} events", flush=True)
        try:
            results.append(_run_child(engine, size))
        except Skipped as exc:
            print(f"   {ENGINE_NAMES[engine]} skipped: {exc}", flush=True)
            skipped.append(f"{ENGINE_NAMES[engine]} skipped: {exc}.")
    if not results:
        raise RuntimeError("no database could be measured: " + " ".join(skipped))
    software = sorted({line for r in results for line in r["software"]})
    return Report(body=render(results, skipped), software=software)


# --- Child: set up one database and measure -----------------------------------------------------


def child_main(engine: str, size: int, out: Path) -> None:
    # Unwind on SIGTERM like on Ctrl-C, so the gunicorn server is stopped (finally blocks).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns when missing

    result: dict = {"engine": engine, "size": size}
    clock = time.perf_counter()
    call_command("migrate", verbosity=0)
    from zhili.demo.builder import DemoBuilder

    DemoBuilder(scale="city", events=False).build()
    result["setup_s"] = time.perf_counter() - clock
    say(f"schema and demo city in {result['setup_s']:.1f} s")
    result["software"] = software(connection)
    city = City.load()
    result["load"] = load(city, size)
    # What every server process does once the application is loaded (zhili/config/wsgi.py);
    # the generator's garbage goes now too, not in a collection during the timed requests.
    from zhili.config.heap import settle_heap

    settle_heap()
    result["inbox"] = measure_inbox(city)
    result["stats"] = measure_stats()
    result["sweep"] = measure_sweep(result["load"])
    result["throughput"] = measure_throughput(city)
    out.write_text(json.dumps(result, indent=1, default=str))


def say(message: str) -> None:
    from django.db import connection

    print(f"   {ENGINE_NAMES[connection.vendor]}: {message}", flush=True)


def software(connection) -> list[str]:
    import django

    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            def show(name: str) -> str:
                cur.execute(f"SHOW {name}")
                return cur.fetchone()[0]

            return [f"PostgreSQL {show('server_version')}: shared_buffers "
                    f"{show('shared_buffers')}, work_mem {show('work_mem')}, "
                    f"max_parallel_workers_per_gather {show('max_parallel_workers_per_gather')}, "
                    f"random_page_cost {show('random_page_cost')}; Django {django.get_version()}"]
    import sqlite3

    with connection.cursor() as cur:
        cur.execute("PRAGMA journal_mode")
        journal = cur.fetchone()[0]
        cur.execute("PRAGMA synchronous")
        synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[cur.fetchone()[0]]
    mode = connection.settings_dict["OPTIONS"].get("transaction_mode", "DEFERRED")
    return [f"SQLite {sqlite3.sqlite_version}: journal_mode {journal}, synchronous {synchronous}, "
            f"{mode} transactions (zhili.config.settings); Django {django.get_version()}"]


# --- Data: the city and a year of its events ----------------------------------------------------

# The county department leading each category group: the demo's routing (zhili/events/demo.py
# ROUTES), matched by the end of the department's name (police bureaus are named two ways).
LEAD_BY_GROUP = {"city": "城市管理局", "environment": "生态环境局",
                 "facilities": "住房和城乡建设局", "safety": "应急管理局", "order": "公安",
                 "dispute": "司法局", "service": "民政局"}
LEAD_BY_CATEGORY = {"labour-dispute": "人力资源和社会保障局"}
# Grid-worker reports solved on the spot (就地化解) close with two transitions; this share, with
# rejections and merges, brings the average to about five transitions per event, as the targets
# assume (a full life has seven or eight).
SPOT_SHARE = 0.78
REJECTED, MERGED = 0.03, 0.02
RETURNED, REWORKED, SLOW, EVALUATED = 0.05, 0.04, 0.12, 0.5
# An event still open long after it was reported is stuck in some step; the chance falls with
# age, so about 3 % of the year is open, most of it recent.
STUCK_STATES = [("reported", 5), ("accepted", 8), ("dispatched", 12), ("handling", 45),
                ("waiting", 10), ("returned", 5), ("handled", 10), ("verified", 5)]
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 4, 8, 12, 14, 13, 10, 8, 11, 13, 12, 11, 9, 7, 6, 5, 3, 2, 1]
SURNAMES = ["张", "王", "李", "陈", "刘", "周", "吴", "徐", "孙", "朱"]
EPOCH = datetime(1970, 1, 1)
HOUR = 3600.0


def naive_utc(ts: float) -> datetime:
    """Epoch seconds as a naive UTC datetime: what both loaders write (the PostgreSQL session
    runs in UTC, and Django stores naive UTC text on SQLite)."""
    return EPOCH + timedelta(seconds=ts)


@dataclass
class City:
    """What the generator needs of the demo city, read once from the database."""

    grids: list[tuple]  # (area id, code, west, south, east, north, village name)
    categories: list  # the EventCategory rows of the second level (parent selected)
    weights: list[int]
    leads: dict[tuple[str, int], int]  # (county prefix, category id) -> lead organisation id
    counties: dict[str, int]  # county prefix -> area id (issuer of supervision orders)

    @classmethod
    def load(cls) -> City:
        from zhili.areas.models import Area
        from zhili.events.demo import WEIGHTS
        from zhili.events.models import EventCategory
        from zhili.orgs.choices import OrgKind
        from zhili.orgs.models import Organisation

        villages = dict(Area.objects.filter(level=4).values_list("code", "name"))
        grids = [(pk, code, w, s, e, n, villages[code[:12].ljust(15, "0")])
                 for pk, code, w, s, e, n in Area.objects.filter(level=5).order_by("code")
                 .values_list("id", "code", "bbox_west", "bbox_south", "bbox_east", "bbox_north")]
        categories = [c for c in EventCategory.objects.filter(parent__isnull=False)
                      .select_related("parent").order_by("sort") if c.code in WEIGHTS]
        counties = dict(Area.objects.filter(level=2).values_list("code", "id"))
        departments = Organisation.objects.filter(kind=OrgKind.DEPARTMENT, area__level=2)
        leads = {}
        for county_code in counties:
            names = [(o.pk, o.name) for o in departments if o.area_code == county_code]
            for category in categories:
                ending = LEAD_BY_CATEGORY.get(category.code) or LEAD_BY_GROUP[category.parent.code]
                org = next(pk for pk, name in names if name.endswith(ending) or
                           (ending == "公安" and "公安" in name))
                leads[county_code[:6], category.pk] = org
        return cls(grids=grids, categories=categories,
                   weights=[WEIGHTS[c.code][0] for c in categories], leads=leads,
                   counties={code[:6]: pk for code, pk in counties.items()})


class Template:
    """A row of a table as a list in its column order, prefilled with the field defaults."""

    def __init__(self, model, *, with_pk: bool):
        fields = [f for f in model._meta.concrete_fields if with_pk or not f.primary_key]
        self.table = model._meta.db_table
        self.columns = [f.column for f in fields]
        self.index = {f.attname: i for i, f in enumerate(fields)}
        self.defaults = [self._plain(f.get_default()) for f in fields]

    @staticmethod
    def _plain(value):
        if isinstance(value, dict | list):
            return json.dumps(value)
        if isinstance(value, datetime) and value.tzinfo is not None:
            return value.astimezone(UTC).replace(tzinfo=None)
        return value

    def row(self, **values) -> list:
        row = list(self.defaults)
        index = self.index
        for name, value in values.items():
            row[index[name]] = value
        return row


@dataclass
class Order:
    """A supervision order (督办) an open event has earned by the time the flags were set."""

    event_id: int
    area_code: str
    county: str
    to_org_id: int | None
    issued_ts: float


@dataclass
class Counts:
    events: int = 0
    transitions: int = 0
    open: int = 0
    overdue: int = 0  # open and overdue when the flags were set
    ever_overdue: int = 0
    with_deadline: int = 0
    states: dict[str, int] = field(default_factory=dict)


class Year:
    """A year of events up to `now`, in reporting order, with their transitions.

    Each event lives the life the services would give it (report, accept, dispatch, sign,
    handle, verify, close, evaluate; some returned, reworked, slow, rejected, merged or solved on
    the spot), with the demo's step times; the steps that would lie after `now` are cut off, so
    recent events are open in the step they are in. Open events carry the running clock of that
    step, computed by the application's own time limits and working-day clock, and the deadline
    flags as the sweep would have left them at `flags_at`."""

    def __init__(self, city: City, size: int, now: datetime, flags_at: datetime):
        from zhili.core.models import EscalationStep
        from zhili.events.choices import OPEN_STATES, STEP_OF_STATE
        from zhili.events.demo import CHANNELS, PLACES, TEXTS
        from zhili.events.models import Event, EventTransition

        self.city, self.size = city, size
        self.now, self.flags_ts = now.timestamp(), flags_at.timestamp()
        self.rng = random.Random(SEED)
        self.events = Template(Event, with_pk=True)
        self.transitions = Template(EventTransition, with_pk=False)
        # Cumulative weights: random.choices then skips adding them up on every call.
        self.channels = [c.value for c, _ in CHANNELS]
        self.channel_weights = list(itertools.accumulate(w for _, w in CHANNELS))
        self.category_weights = list(itertools.accumulate(city.weights))
        self.stuck_states = [s for s, _ in STUCK_STATES]
        self.stuck_weights = list(itertools.accumulate(w for _, w in STUCK_STATES))
        self.report_data = {c: json.dumps({"channel": c, "warnings": []}) for c in self.channels}
        self.texts, self.places = TEXTS, PLACES
        self.ladder = list(EscalationStep.objects.filter(workflow="events.event")
                           .order_by("level").values_list("after_minutes", flat=True))
        self.open_states = {str(s) for s in OPEN_STATES}
        self.step_of_state = {str(s): str(step) for s, step in STEP_OF_STATE.items()}
        self.limits: dict[tuple[int, str], tuple] = {}
        self.counts = Counts()
        self.orders: list[Order] = []

    def moments(self) -> list[tuple[float, date]]:
        """Reporting times (epoch seconds) over the 365 days before now, with the local date of
        each: uniform over days, busy by day and quiet at night."""
        from django.utils import timezone

        rng, now = self.rng, self.now
        today = timezone.localdate(datetime.fromtimestamp(now, UTC))
        midnights = []
        for back in range(365):
            day = today - timedelta(days=back)
            midnight = timezone.make_aware(datetime.combine(day, datetime.min.time()))
            midnights.append((midnight.timestamp(), day))
        hours = list(range(24))
        out = []
        while len(out) < self.size:
            start, day = midnights[rng.randrange(365)]
            ts = start + rng.choices(hours, HOUR_WEIGHTS)[0] * HOUR + rng.random() * HOUR
            if ts < now:
                out.append((ts, day))
        out.sort()
        return out

    def limit(self, category, step: str) -> tuple:
        key = (category.pk, step)
        if key not in self.limits:
            from zhili.events import rules

            self.limits[key] = rules.time_limit(category, category.default_urgency, step)
        return self.limits[key]

    def chunks(self, size: int = 20_000) -> Iterator[tuple[list, list]]:
        """(event rows, transition rows) in batches of `size` events."""
        events, transitions = [], []
        for number, (ts, day) in enumerate(self.moments(), start=1):
            event, steps = self.event(number, ts, day)
            events.append(event)
            transitions.extend(steps)
            if len(events) == size:
                yield events, transitions
                events, transitions = [], []
        if events:
            yield events, transitions

    def life(self, start: float, channel: str, stuck: str | None) -> tuple[list, dict, dict]:
        """The steps [(action, from, to, epoch seconds)] of one event up to now (or up to the
        state it is stuck in), the seconds spent per step, and what else was decided."""
        rng, now = self.rng, self.now
        uniform = rng.uniform
        steps = [("report", "", "reported", start)]
        spent: dict[str, int] = {}
        facts: dict = {}
        at = start

        def go(action: str, src: str, dst: str, hours: float, step: str = "") -> bool:
            nonlocal at
            when = at + hours * HOUR
            if when > now:
                return False  # not yet happened: the event is still in `src`
            if step:
                spent[step] = spent.get(step, 0) + int(when - at)
            at = when
            steps.append((action, src, dst, when))
            return True

        if stuck is None:
            if channel == "grid" and rng.random() < SPOT_SHARE:
                facts["spot"] = go("solve_on_spot", "reported", "closed", uniform(0.05, 0.5))
                return steps, spent, facts
            draw = rng.random()
            if draw < REJECTED:
                go("reject", "reported", "rejected", uniform(0.1, 1), "accept")
                return steps, spent, facts
            if draw < REJECTED + MERGED:
                facts["merged"] = go("merge", "reported", "merged", uniform(0.1, 2), "accept")
                return steps, spent, facts
        if stuck == "reported" or not go("accept", "reported", "accepted", uniform(0.05, 0.6),
                                          "accept"):
            return steps, spent, facts
        if stuck == "accepted" or not go("dispatch", "accepted", "dispatched",
                                         uniform(0.2, 2.5), "dispatch"):
            return steps, spent, facts
        if stuck == "returned" or rng.random() < RETURNED:
            facts["returns"] = 1
            if not go("send_back", "dispatched", "returned", uniform(0.5, 3), "sign") or \
                    stuck == "returned" or \
                    not go("dispatch", "returned", "dispatched", uniform(0.2, 2), "arbitrate"):
                return steps, spent, facts
        if stuck == "dispatched" or not go("sign", "dispatched", "handling", uniform(0.2, 3),
                                           "sign"):
            return steps, spent, facts
        if stuck == "waiting":
            go("wait_for_citizen", "handling", "waiting", uniform(1, 24), "handle")
            return steps, spent, facts
        slow = rng.random() < SLOW
        facts["late"] = slow and rng.random() < 0.8
        if stuck == "handling" or not go("finish", "handling", "handled",
                                         uniform(3, 40) * (4 if slow else 1), "handle"):
            return steps, spent, facts
        if rng.random() < REWORKED:
            facts["reworks"] = 1
            if not go("verify_fail", "handled", "handling", uniform(2, 20), "verify") or \
                    not go("finish", "handling", "handled", uniform(4, 30), "handle"):
                return steps, spent, facts
        if stuck == "handled" or not go("verify_ok", "handled", "verified", uniform(1, 20),
                                        "verify"):
            return steps, spent, facts
        if stuck == "verified" or not go("close", "verified", "closed", uniform(0.1, 1.5),
                                         "close"):
            return steps, spent, facts
        if rng.random() < EVALUATED and go("evaluate", "closed", "closed", uniform(2, 48)):
            facts["satisfaction"] = rng.choices(["satisfied", "basically", "unsatisfied"],
                                                [80, 15, 5])[0]
        return steps, spent, facts

    def event(self, pk: int, ts: float, day: date) -> tuple[list, list]:
        rng, city, counts = self.rng, self.city, self.counts
        category = rng.choices(city.categories, cum_weights=self.category_weights)[0]
        channel = rng.choices(self.channels, cum_weights=self.channel_weights)[0]
        area_id, code, west, south, east, north, village = \
            city.grids[rng.randrange(len(city.grids))]
        place = rng.choice(self.places)
        text = rng.choice(self.texts[category.code]).format(p=place)
        age_days = (self.now - ts) / 86400
        stuck = None
        if rng.random() < 0.08 * math.exp(-age_days / 60) + 0.012:
            stuck = rng.choices(self.stuck_states, cum_weights=self.stuck_weights)[0]
        steps, spent, facts = self.life(ts, channel, stuck)
        state = steps[-1][2]
        when = {action: at for action, _src, _dst, at in steps}  # the last time of each action
        county = code[:6]
        lead = city.leads[county, category.pk] if "dispatch" in when else None
        values = {
            "id": pk, "number": f"SJ{day:%Y%m%d}{pk:07d}", "title": text[:40],
            "description": text, "category_id": category.pk, "category_confirmed": True,
            "urgency": category.default_urgency, "channel": channel, "state": state,
            "area_id": area_id, "area_code": code,
            "lat": round(rng.uniform(south, north), 6), "lng": round(rng.uniform(west, east), 6),
            "address": f"{village}{place}", "owner_level": category.handling_level,
            "reporter_name": rng.choice(SURNAMES) + rng.choice(["先生", "女士", "网格员"]),
            "solved_on_spot": bool(facts.get("spot")), "lead_org_id": lead,
            "duplicate_of_id": pk - 1 if facts.get("merged") and pk > 1 else None,
            "reported_at": naive_utc(ts), "updated_at": naive_utc(steps[-1][3]),
            "return_count": facts.get("returns", 0), "rework_count": facts.get("reworks", 0),
            "step_seconds": json.dumps(spent), "version": len(steps) - 1,
            "satisfaction": facts.get("satisfaction", ""),
        }
        for name, action in (("accepted_at", "accept"), ("dispatched_at", "dispatch"),
                             ("signed_at", "sign"), ("handled_at", "finish"),
                             ("verified_at", "verify_ok"), ("evaluated_at", "evaluate")):
            if action in when:
                values[name] = naive_utc(when[action])
        closed = when.get("close", when.get("solve_on_spot"))
        if closed is not None:
            values["closed_at"] = naive_utc(closed)
        extra = []  # system transitions: overdue marks and supervision orders
        ever_overdue = False
        if state in self.open_states:
            from zhili.workdays import clock

            counts.open += 1
            start = steps[-1][3]
            if state == "waiting":  # the clock of the handling step stopped with time left
                amount, unit = self.limit(category, "handle")
                values.update(deadline_step="handle", deadline_unit=unit,
                              step_started_at=naive_utc(when["sign"]),
                              paused_at=naive_utc(start),
                              paused_remaining=json.dumps(
                                  {"kind": clock.WORK if unit in clock.WORK_UNITS else
                                   clock.CALENDAR, "seconds": rng.uniform(HOUR, 20 * HOUR)}))
            else:
                step = self.step_of_state[state]
                amount, unit = self.limit(category, step)
                deadline = clock.deadline(datetime.fromtimestamp(start, UTC), amount,
                                          unit).timestamp()
                warn = start + (deadline - start) * 0.8  # as workflow.set_deadline
                overdue = deadline <= self.flags_ts
                level = sum(1 for after in self.ladder if deadline + after * 60 <= self.flags_ts) \
                    if overdue else 0
                counts.with_deadline += 1
                values.update(deadline_step=step, deadline_unit=unit,
                              step_started_at=naive_utc(start), deadline_at=naive_utc(deadline),
                              warn_at=naive_utc(warn), warned=overdue or warn <= self.flags_ts,
                              overdue=overdue, escalation_level=level)
                if overdue:
                    ever_overdue = True
                    counts.overdue += 1
                    extra.append(("overdue", state, deadline))
                    if level >= 2:  # the "supervise" rung has passed: its order exists
                        issued = deadline + self.ladder[1] * 60
                        to_org = lead if state in ("dispatched", "handling", "waiting") else None
                        self.orders.append(Order(pk, code, county, to_org, issued))
                        extra.append(("supervise", state, issued))
        elif facts.get("late"):
            # A slow handling step ran past its limit: the sweep logged it then.
            ever_overdue = True
            extra.append(("overdue", "handling",
                          when["sign"] + (when["finish"] - when["sign"]) * 0.7))
        values["ever_overdue"] = ever_overdue
        counts.ever_overdue += ever_overdue
        counts.states[state] = counts.states.get(state, 0) + 1
        counts.events += 1
        row = self.events.row(**values)
        logs = self.transitions
        channel_data = self.report_data[channel]
        out = [logs.row(action=action, from_state=src, to_state=dst, actor_name="demo",
                        created_at=naive_utc(at), event_id=pk,
                        data=channel_data if action == "report" else "{}")
               for action, src, dst, at in steps]
        for action, during, at in extra:
            out.append(logs.row(action=action, from_state=during, to_state=during,
                                actor_name="system", created_at=naive_utc(at), event_id=pk))
        counts.transitions += len(out)
        return row, out


# --- Loading ------------------------------------------------------------------------------------


@contextmanager
def timed(into: dict, key: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    into[key] = time.perf_counter() - start


@contextmanager
def _pg_bare(tables: list[str]) -> Iterator[None]:
    """Drop the secondary indexes, unique and foreign-key constraints of `tables`, and put the
    same definitions back afterwards: building an index once is far cheaper than maintaining it
    row by row, and a deferred foreign key would queue one trigger event per copied row."""
    from django.db import connection

    with connection.cursor() as cur:
        constraints, indexes = [], []
        for table in tables:
            cur.execute("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                        "WHERE conrelid = %s::regclass AND contype IN ('f', 'u')", [table])
            constraints += [(table, name, definition) for name, definition in cur.fetchall()]
            cur.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND "
                        "indexname NOT IN (SELECT conname FROM pg_constraint "
                        "WHERE conrelid = %s::regclass)", [table, table])
            indexes += cur.fetchall()
        for table, name, _definition in constraints:
            cur.execute(f'ALTER TABLE "{table}" DROP CONSTRAINT "{name}"')
        for name, _definition in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cur:
        cur.execute("SET maintenance_work_mem = '256MB'")  # this session's index builds only
        for _name, definition in indexes:
            cur.execute(definition)
        # Unique constraints first: the foreign keys of other tables may need their indexes.
        for table, name, definition in sorted(constraints, key=lambda c: c[2].startswith("FOR")):
            cur.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" {definition}')
        cur.execute("RESET maintenance_work_mem")


@contextmanager
def _sqlite_bare(tables: list[str]) -> Iterator[None]:
    """SQLite: the same for the explicit indexes (unique ones are part of the table)."""
    from django.db import connection

    with connection.cursor() as cur:
        marks = ", ".join(["%s"] * len(tables))
        cur.execute(f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                    f"tbl_name IN ({marks}) AND sql IS NOT NULL", tables)
        indexes = cur.fetchall()
        for name, _sql in indexes:
            cur.execute(f'DROP INDEX "{name}"')
    yield
    with connection.cursor() as cur:
        for _name, sql in indexes:
            cur.execute(sql)


def _write_postgres(year: Year) -> None:
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection  # the psycopg connection, in autocommit like Django's
    events, logs = year.events, year.transitions
    copy_events = f"COPY {events.table} ({', '.join(events.columns)}) FROM STDIN"
    copy_logs = f"COPY {logs.table} ({', '.join(logs.columns)}) FROM STDIN"
    with raw.cursor() as cur:
        cur.execute("SET TimeZone = 'UTC'")  # naive datetimes are UTC (Django sets it too)
        for event_rows, log_rows in year.chunks():
            with raw.transaction():
                with cur.copy(copy_events) as copy:
                    for row in event_rows:
                        copy.write_row(row)
                with cur.copy(copy_logs) as copy:
                    for row in log_rows:
                        copy.write_row(row)


def _write_sqlite(year: Year) -> None:
    from django.db import connection, transaction

    events, logs = year.events, year.transitions

    def insert(template: Template) -> str:
        marks = ", ".join(["%s"] * len(template.columns))
        return f"INSERT INTO {template.table} ({', '.join(template.columns)}) VALUES ({marks})"

    insert_events, insert_logs = insert(events), insert(logs)
    for event_rows, log_rows in year.chunks():
        with transaction.atomic(), connection.cursor() as cur:
            cur.executemany(insert_events, event_rows)
            cur.executemany(insert_logs, log_rows)


def _supervision_orders(year: Year) -> None:
    """The orders of the events whose "supervise" rung had passed, with their own one-day
    clocks and flags as of `flags_at` (bulk, as the demo builds them)."""
    from zhili.core import workflow
    from zhili.events.models import SupervisionOrder

    orders = []
    flags_at = year.flags_ts
    for o in year.orders:
        issued = datetime.fromtimestamp(o.issued_ts, UTC)
        order = SupervisionOrder(event_id=o.event_id, area_code=o.area_code, level=2,
                                 issuer_area_id=year.city.counties[o.county], to_org_id=o.to_org_id,
                                 message="督办: 事件已超期，请立即处置并回复。", created_at=issued)
        workflow.set_deadline(order, step="answer", start=issued, amount=1, unit="work_days")
        order.overdue = order.deadline_at.timestamp() <= flags_at
        order.warned = order.overdue or order.warn_at.timestamp() <= flags_at
        order.ever_overdue = order.overdue
        orders.append(order)
    SupervisionOrder.objects.bulk_create(orders, batch_size=2000)


def working_morning(moment: datetime) -> datetime:
    """The last working-day 10:30 (local) at or before `moment`: where the generated year ends.

    Most time limits count working hours, so their deadlines fall in office hours; a year
    ending at the run's own time would give the sweep a night's or a weekend's (nothing) or a
    morning's work depending on when the benchmark runs. Ending it on a working morning makes
    the sweep meet an ordinary busy hour every time."""
    from django.utils import timezone

    from zhili.workdays import clock

    day = timezone.localdate(moment)
    while True:
        candidate = timezone.make_aware(datetime.combine(day, datetime.min.time())) + \
            timedelta(hours=10, minutes=30)
        if candidate <= moment and clock.is_workday(day):
            return candidate
        day -= timedelta(days=1)


def load(city: City, size: int) -> dict:
    """Generate and write the year, then what a live database would have: planner statistics
    and the statistics rollup of every month. Returns counts and timings."""
    from django.core.management.color import no_style
    from django.db import connection
    from django.utils import timezone

    from zhili.events.models import Event, EventStat, EventTransition, RollupState
    from zhili.events.stats import ROLLUP, rebuild_month

    now = working_morning(timezone.now())
    flags_at = now - timedelta(minutes=CATCHUP_MINUTES)
    year = Year(city, size, now, flags_at)
    timings: dict[str, float] = {}
    postgres = connection.vendor == "postgresql"
    tables = [Event._meta.db_table, EventTransition._meta.db_table]
    with timed(timings, "write_s"):
        with (_pg_bare if postgres else _sqlite_bare)(tables):
            say(f"writing {size:,} events and their transitions")
            with timed(timings, "rows_s"):
                (_write_postgres if postgres else _write_sqlite)(year)
            say(f"rows written in {timings['rows_s']:.0f} s; building indexes and constraints")
        _supervision_orders(year)
        with connection.cursor() as cur:
            # Explicit ids were written: move the id sequences past them.
            for sql in connection.ops.sequence_reset_sql(no_style(), [Event, EventTransition]):
                cur.execute(sql)
    timings["indexes_s"] = timings["write_s"] - timings["rows_s"]
    with timed(timings, "analyze_s"), connection.cursor() as cur:
        if postgres:
            # What autovacuum would have done by the time anyone reads: planner statistics and
            # the visibility map (index-only scans).
            cur.execute("VACUUM ANALYZE")
        else:
            cur.execute("ANALYZE")
            cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    say(f"indexes {timings['indexes_s']:.0f} s, analyze {timings['analyze_s']:.0f} s; "
        f"rebuilding the statistics rollup")
    months = sorted({m.replace(day=1) for m in Event.objects.dates("reported_at", "month")})
    with timed(timings, "rollup_s"):
        for month in months:
            rebuild_month(month)
        RollupState.objects.update_or_create(name=ROLLUP, defaults={"refreshed_at": now})
    if postgres:
        with connection.cursor() as cur:
            cur.execute(f"VACUUM ANALYZE {EventStat._meta.db_table}")
    counts = year.counts
    say(f"rollup of {len(months)} months in {timings['rollup_s']:.0f} s")
    return {
        **timings, "now": now.isoformat(), "flags_at": flags_at.isoformat(),
        "events": counts.events, "transitions": counts.transitions, "open": counts.open,
        "overdue": counts.overdue, "ever_overdue": counts.ever_overdue,
        "with_deadline": counts.with_deadline, "states": counts.states,
        "supervision_orders": len(year.orders), "rollup_months": len(months),
        "rollup_rows": EventStat.objects.count(),
    }


# --- Measurements ---------------------------------------------------------------------------------


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile: the smallest value with at least `share` of the values at or
    below it (p99 of 200 values is the second largest)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def summary_ms(times: list[float]) -> dict:
    ms = [t * 1000 for t in times]
    return {"n": len(ms), "p50": percentile(ms, 0.5), "p95": percentile(ms, 0.95),
            "p99": percentile(ms, 0.99), "max": max(ms)}


@contextmanager
def recorded_queries() -> Iterator[list[tuple[str, object, float]]]:
    """(sql, params, seconds) of every query run in the block, timed to the microsecond (the
    test framework's CaptureQueriesContext rounds to whole milliseconds)."""
    from django.db import connection

    queries: list[tuple[str, object, float]] = []

    def wrapper(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append((sql, params, time.perf_counter() - start))

    with connection.execute_wrapper(wrapper):
        yield queries


def _slowest_query(queries: list[tuple[str, object, float]]) -> dict:
    """The slowest query of a request, and its plan (PostgreSQL: as executed, with ANALYZE)."""
    from django.db import connection

    selects = [q for q in queries if q[0].lstrip().upper().startswith("SELECT")]
    if not selects:
        return {}
    sql, params, seconds = max(selects, key=lambda q: q[2])
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            shown = cur.mogrify(sql, params)  # the statement as sent (client-side binding)
            cur.execute("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + sql, params)
            plan = [row[0] for row in cur.fetchall()]
        else:
            shown = connection.ops.last_executed_query(cur, sql, params)
            cur.execute("EXPLAIN QUERY PLAN " + sql, params)
            plan = [row[-1] for row in cur.fetchall()]
    return {"ms": seconds * 1000, "sql": shown, "plan": plan}


@dataclass
class Case:
    key: str
    user: str
    url: str
    label: str
    count: Callable[[], int] | None = None  # the number of rows in the whole list


class FullCollections:
    """Times the full (generation 2) garbage collections while installed: such a pause lands in
    whichever request is running, and is most of what separates a list's p99 from its p95."""

    def __init__(self):
        self.pauses: list[tuple[float, float]] = []
        self._started = 0.0

    def __call__(self, phase: str, info: dict) -> None:
        if info["generation"] != 2:
            return
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((self._started, time.perf_counter()))

    def __enter__(self) -> FullCollections:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc) -> None:
        gc.callbacks.remove(self)

    def within(self, start: float, end: float) -> float:
        """Seconds of full collection between `start` and `end`."""
        return sum(b - a for a, b in self.pauses if a >= start and b <= end)


def _timed_requests(client, url: str, runs: int, budget_s: float = math.inf,
                    minimum: int = 3, spans: list | None = None) -> list[float]:
    """Wall times of up to `runs` GETs (fewer once `budget_s` is spent, but at least
    `minimum`); `spans` receives each request's (start, end)."""
    times = []
    stop = time.perf_counter() + budget_s
    for _ in range(runs):
        if len(times) >= minimum and time.perf_counter() > stop:
            break
        start = time.perf_counter()
        response = client.get(url)
        end = time.perf_counter()
        times.append(end - start)
        if spans is not None:
            spans.append((start, end))
        assert response.status_code == 200, (url, response.status_code)
    return times


def _client(username: str):
    from django.test import Client

    from zhili.accounts.models import User

    client = Client()
    client.force_login(User.objects.get(username=username))
    return client


def _profile(client, url: str, *, inbox: bool = False) -> dict:
    """Queries of one request: how many, their total time, the slowest with its plan."""
    with recorded_queries() as queries:
        response = client.get(url)
    body = response.content
    out = {"queries": len(queries), "sql_ms": sum(q[2] for q in queries) * 1000,
           "slowest": _slowest_query(queries)}
    if inbox:  # every inbox row links to its event's page, and nothing else on the page does
        out["rows_on_page"] = len(json.loads(body)["items"]) if url.startswith("/api/") else \
            len(re.findall(rb'href="/events/\d+/"', body))
    return out


def inbox_cases(city: City) -> list[Case]:
    from django.utils import timezone

    from zhili.accounts.models import User
    from zhili.events.filters import EventFilter
    from zhili.events.models import Event, EventCategory

    garbage = EventCategory.objects.get(code="garbage").pk
    today = timezone.localdate()
    month_ago = today - timedelta(days=30)

    def counter(username: str, params: dict) -> Callable[[], int]:
        def count() -> int:
            user = User.objects.get(username=username)
            return EventFilter(params).apply(Event.objects.restrict(user), user).count()

        return count

    grid = next(code for _pk, code, *_rest in city.grids if code.startswith("320612001"))
    cases = [
        ("frame", "town.dispatcher", f"/events/?box=all&area={grid}&q=nothing-matches",
         {"box": "all", "area": grid, "q": "nothing-matches"},
         "baseline: the page with an empty list (one grid, no match)"),
        ("town-todo", "town.dispatcher", "/events/?box=todo", {"box": "todo"},
         "town dispatcher, to-do box"),
        ("town-all", "town.dispatcher", "/events/?box=all", {"box": "all"},
         "town dispatcher, all events"),
        ("county-overdue", "county.dispatcher",
         f"/events/?box=all&category={garbage}&overdue=on",
         {"box": "all", "category": garbage, "overdue": "on"},
         "county dispatcher, one category, overdue only"),
        ("county-month", "county.dispatcher",
         f"/events/?box=all&category={garbage}&date_from={month_ago}&date_to={today}",
         {"box": "all", "category": garbage, "date_from": month_ago, "date_to": today},
         "county dispatcher, one category, last 30 days"),
        ("city-search", "city.leader", "/events/?box=all&q=幸福路", {"box": "all", "q": "幸福路"},
         "city leader, all events, text search (a street name)"),
        ("api-county", "county.dispatcher", "/api/v1/events?box=all&limit=50", {"box": "all"},
         "API list, county dispatcher, all events, limit 50"),
    ]
    return [Case(key, user, url, label, counter(user, params))
            for key, user, url, params, label in cases]


def measure_inbox(city: City) -> list[dict]:
    out = []
    for case in inbox_cases(city):
        client = _client(case.user)
        _timed_requests(client, case.url, WARMUP)
        spans: list[tuple[float, float]] = []
        with FullCollections() as collections:
            times = _timed_requests(client, case.url, REQUESTS, INBOX_BUDGET_S, minimum=50,
                                    spans=spans)
        paused = [collections.within(a, b) for a, b in spans]
        result = {"key": case.key, "user": case.user, "url": case.url, "label": case.label,
                  "list_rows": case.count(), **summary_ms(times),
                  "gc_pauses_ms": [p * 1000 for p in paused if p],
                  # The same series without the requests a full collection landed in.
                  "p99_without_gc": summary_ms([t for t, p in zip(times, paused, strict=True)
                                                if not p])["p99"],
                  **_profile(client, case.url, inbox=True)}
        say(f"inbox {case.key}: p50 {result['p50']:.1f} ms, p99 {result['p99']:.1f} ms, "
            f"{result['queries']} queries, {result['list_rows']:,} rows in the list")
        out.append(result)
    return out


def measure_stats() -> list[dict]:
    from django.utils import timezone

    today = timezone.localdate()
    start = today - timedelta(days=365)
    out = []
    for key, url in (("page", f"/events/stats/?start={start}&end={today}"),
                     ("api", f"/api/v1/events/stats?start={start}&end={today}")):
        client = _client("city.leader")
        _timed_requests(client, url, 1)
        times = _timed_requests(client, url, STATS_RUNS, STATS_BUDGET_S)
        result = {"key": key, "url": url, **summary_ms(times), **_profile(client, url)}
        say(f"statistics {key}: p50 {result['p50']:.0f} ms, p99 {result['p99']:.0f} ms, "
            f"{result['queries']} queries")
        out.append(result)
    return out


@contextmanager
def count_queries() -> Iterator[list[int]]:
    """Count the queries run (cheaper than capturing them, so timings stay undisturbed)."""
    from django.db import connection

    counter = [0]

    def wrapper(execute, sql, params, many, context):
        counter[0] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield counter


def measure_sweep(loaded: dict) -> list[dict]:
    """Three sweeps: the minute after the flags were set (a normal minute), then the year's
    end (an hour of catching up, as after a scheduler outage), then the same moment again
    (nothing left to do: the steady per-minute cost of looking)."""
    from zhili.events.deadlines import sweep_all
    from zhili.events.models import Event, SupervisionOrder

    flags_at = datetime.fromisoformat(loaded["flags_at"])
    now = datetime.fromisoformat(loaded["now"])
    runs = [("minute", "the next minute", flags_at + timedelta(minutes=1)),
            ("catchup", f"catching up {CATCHUP_MINUTES - 1} minutes", now),
            ("idle", "nothing to do", now)]
    out = []
    running = Event.objects.filter(deadline_at__isnull=False).count()
    orders = SupervisionOrder.objects.filter(deadline_at__isnull=False).count()
    for key, label, moment in runs:
        with count_queries() as queries:
            start = time.perf_counter()
            counts = sweep_all(moment)
            seconds = time.perf_counter() - start
        result = {"key": key, "label": label, "seconds": seconds, "queries": queries[0],
                  "events": counts["events"], "supervisions": counts["supervisions"],
                  "running_clocks": running, "order_clocks": orders}
        say(f"sweep {key}: {seconds:.2f} s, {queries[0]} queries, {counts}")
        out.append(result)
    return out


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gunicorn_server(log: Path) -> Iterator[int]:
    """gunicorn serving bench.settings on a free local port; stopped however the block ends."""
    port = _free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "--workers", "2",
               "--worker-class", "gthread", "--threads", "4", "--bind", f"127.0.0.1:{port}",
               "--keep-alive", "30", "--log-level", "warning", "zhili.config.wsgi:application"]
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings"}
    with log.open("wb") as output:
        server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output,
                                  stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None:
                    raise RuntimeError(f"gunicorn exited: {log.read_text()[-2000:]}")
                try:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    conn.request("GET", "/healthz")
                    if conn.getresponse().status == 200:
                        break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            yield port
        finally:
            server.terminate()  # graceful: the workers finish their requests and exit
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@dataclass
class Load:
    """What a series of POSTs to one endpoint achieved."""

    requests: int = 0  # answered
    broken: int = 0  # no answer: connection refused, reset or timed out
    statuses: dict[int, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # the first few, for the report
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, other: Load) -> None:
        self.requests += other.requests
        self.broken += other.broken
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n
        self.errors += other.errors[: max(0, 5 - len(self.errors))]
        self.latencies += other.latencies
        self.seconds += other.seconds


def drive(port: int, path: str, headers: dict, bodies: list[bytes], seconds: float,
          offset: int) -> Load:
    """CLIENTS threads, each on one keep-alive connection, POST bodies in turn for `seconds`.
    A request started before the end is waited for and counted."""
    load = Load()
    lock = threading.Lock()
    stop = time.perf_counter() + seconds

    def client(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine = Load()
        n = offset + index * 100_003  # each thread walks the bodies from its own place
        while time.perf_counter() < stop:
            body = bodies[n % len(bodies)]
            n += 1
            start = time.perf_counter()
            try:
                conn.request("POST", path, body, headers)
                response = conn.getresponse()
                content = response.read()
            except (OSError, http.client.HTTPException) as exc:
                mine.broken += 1
                mine.errors.append(f"{type(exc).__name__}: {exc}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            mine.latencies.append(time.perf_counter() - start)
            mine.requests += 1
            mine.statuses[response.status] = mine.statuses.get(response.status, 0) + 1
            if response.status != 201:
                mine.errors.append(f"HTTP {response.status}: {content[:300]!r}")
        conn.close()
        with lock:
            load.add(mine)

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.seconds = time.perf_counter() - started
    return load


def _profile_report(path: str, headers: dict, bodies: list[bytes]) -> dict:
    """One report at a time in this process (Django test client, whole middleware stack): its
    latency alone, and the queries it runs. What the server's throughput is made of.

    Also a report refused for an unknown category: what reaches the service at all costs
    (authentication, scope, body validation, one lookup, the error response)."""
    from django.test import Client
    from django.test.utils import override_settings

    client = Client()
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()
             if k != "Content-Type"}

    def post(body: bytes, expected: int = 201) -> None:
        response = client.post(path, body, content_type="application/json", **extra)
        assert response.status_code == expected, \
            (path, response.status_code, response.content[:300])

    def per_request(bodies: list[bytes], expected: int = 201) -> float:
        for body in bodies[:10]:  # warm up
            post(body, expected)
        start = time.perf_counter()
        for body in bodies[10:]:
            post(body, expected)
        return (time.perf_counter() - start) / (len(bodies) - 10) * 1000

    with override_settings(ROOT_URLCONF="bench.urls"):
        one = per_request(bodies[-60:-1])
        with recorded_queries() as queries:
            post(bodies[-1])
        out = {"ms": one, "queries": len(queries), "sql_ms": sum(q[2] for q in queries) * 1000}
        if "X-API-Key" in headers:
            refused = json.dumps({"category": "no-such-category", "description": "x",
                                  "area_code": json.loads(bodies[0])["area_code"]}).encode()
            out["refused_ms"] = per_request([refused] * 50, expected=400)
    return out


def measure_throughput(city: City) -> dict:
    """Reports through the API against the bare view, same server, alternating rounds."""
    from django.conf import settings
    from django.db import connections

    from zhili.accounts.models import User
    from zhili.accounts.services import create_api_key
    from zhili.events.demo import PLACES, TEXTS
    from zhili.events.models import Event
    from zhili.orgs.models import Organisation

    # A device feed of the county city-management bureau (通州区城市管理局), reporting in
    # grids of its county.
    county = "320612"
    org = Organisation.objects.get(area_code=county.ljust(15, "0"), name__endswith="城市管理局")
    _key, raw_key = create_api_key(actor=User.objects.get(username="admin"), org=org,
                                   name="bench sensor feed")
    rng = random.Random(SEED)
    grids = [code for _pk, code, *_rest in city.grids if code.startswith(county)]
    bodies = []
    for _ in range(2000):
        category = rng.choice([c for c in city.categories if c.is_public])
        text = rng.choice(TEXTS[category.code]).format(p=rng.choice(PLACES))
        bodies.append(json.dumps({"category": category.code, "description": text,
                                  "area_code": rng.choice(grids)}, ensure_ascii=False).encode())
    endpoints = {
        "bare": ("/bench/bare-report", {"Content-Type": "application/json"}),
        "api": ("/api/v1/events", {"Content-Type": "application/json", "X-API-Key": raw_key}),
    }
    profiles = {name: _profile_report(path, headers, bodies)
                for name, (path, headers) in endpoints.items()}
    before = Event.objects.count()
    connections.close_all()  # the server has its own; SQLite writers must not wait for ours
    loads = {name: Load() for name in endpoints}
    warmed = 0
    with gunicorn_server(Path(settings.DATA_DIR) / "gunicorn.log") as port:
        for name, (path, headers) in endpoints.items():  # warm up: imports, connections, caches
            warm = drive(port, path, headers, bodies, 2, offset=0)
            if warm.statuses.get(201, 0) == 0:
                raise RuntimeError(f"{name}: no report accepted while warming up: {warm.errors}")
            warmed += warm.statuses[201]
        # Alternating halves, so that a drift (autovacuum, a growing table) hits both alike.
        for half in range(2):
            for name, (path, headers) in (endpoints.items() if half == 0 else
                                          reversed(endpoints.items())):
                loads[name].add(drive(port, path, headers, bodies, THROUGHPUT_SECONDS / 2,
                                      offset=1000 * (half + 1)))
    written = Event.objects.count() - before
    out = {}
    for name, total in loads.items():
        ok = total.statuses.get(201, 0)
        out[name] = {"requests": total.requests + total.broken, "created": ok,
                     "failed": total.requests + total.broken - ok,
                     "statuses": {str(k): v for k, v in total.statuses.items()},
                     "errors": total.errors[:5], "seconds": total.seconds,
                     "rps": ok / total.seconds if total.seconds else 0.0,
                     **({k: v for k, v in summary_ms(total.latencies).items() if k != "n"}
                        if total.latencies else {})}
        say(f"throughput {name}: {out[name]['rps']:.0f} reports/s, "
            f"{out[name]['failed']} failed")
    for name, profile in profiles.items():
        out[name]["in_process"] = profile
    out["ratio"] = out["api"]["rps"] / out["bare"]["rps"] if out["bare"]["rps"] else 0.0
    # Every 201 must be a new event row (the warm-up's included), and nothing else must be.
    out["rows_written"] = written
    out["rows_expected"] = warmed + sum(out[name]["created"] for name in endpoints)
    out["clients"] = CLIENTS
    return out



# --- Report ---------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "**PASS**" if ok else "**MISS**"


def ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def secs(value: float) -> str:
    return f"{value:,.0f} s" if value >= 100 else f"{value:.1f} s" if value >= 1 \
        else f"{value * 1000:.0f} ms"


def title(r: dict) -> str:
    return f"{ENGINE_NAMES[r['engine']]}, {r['size']:,} events"


def lists(r: dict) -> list[dict]:
    """The inbox lists the target applies to (not the empty-page baseline)."""
    return [case for case in r["inbox"] if case["key"] != "frame"]


def worst_inbox(r: dict) -> dict:
    return max(lists(r), key=lambda case: case["p99"])


def sweep_run(r: dict, key: str) -> dict:
    return next(run for run in r["sweep"] if run["key"] == key)


def stats_page(r: dict) -> dict:
    return next(run for run in r["stats"] if run["key"] == "page")


def per_minute_sweep(r: dict) -> float:
    return max(sweep_run(r, "minute")["seconds"], sweep_run(r, "idle")["seconds"])


def targets(results: list[dict]) -> str:
    head = ["Target"] + [title(r) for r in results]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]

    def row(label: str, cell: Callable[[dict], str]) -> None:
        lines.append("| " + " | ".join([label] + [cell(r) for r in results]) + " |")

    def inbox(r: dict) -> str:
        case = worst_inbox(r)
        return (f"{ms(case['p99'])} ms, worst of {len(lists(r))} lists "
                f"({case['key']}) {verdict(case['p99'] < INBOX_P99_MS)}")

    def stats(r: dict) -> str:
        page = stats_page(r)
        return (f"median {ms(page['p50'])} ms, slowest {ms(page['max'])} ms "
                f"{verdict(page['p50'] < STATS_MS)}")

    def sweep(r: dict) -> str:
        catchup = sweep_run(r, "catchup")["seconds"]
        return (f"{secs(per_minute_sweep(r))} {verdict(per_minute_sweep(r) < SWEEP_S)}; "
                f"an hour's catch-up {secs(catchup)} {verdict(catchup < SWEEP_S)}")

    def throughput(r: dict) -> str:
        t = r["throughput"]
        failed = t["api"]["failed"] + t["bare"]["failed"]
        ok = t["ratio"] >= THROUGHPUT_RATIO and failed == 0 and \
            t["rows_written"] == t["rows_expected"]
        note = "" if failed == 0 else f", {failed} failed requests"
        return (f"{t['ratio']:.0%} ({t['api']['rps']:.0f} vs {t['bare']['rps']:.0f} "
                f"reports/s{note}) {verdict(ok)}")

    row(f"1. Inbox page, p99 < {INBOX_P99_MS} ms", inbox)
    row(f"2. City statistics page < {STATS_MS} ms", stats)
    row(f"3. Per-minute deadline sweep < {SWEEP_S} s", sweep)
    row(f"4. API reports ≥ {THROUGHPUT_RATIO:.0%} of the bare view's throughput", throughput)
    return "\n".join(lines)


def data_table(r: dict) -> str:
    d = r["load"]
    states = ", ".join(f"{state} {n:,}" for state, n in
                       sorted(d["states"].items(), key=lambda kv: -kv[1]))
    rows = [
        ("Events / transitions", f"{d['events']:,} / {d['transitions']:,} "
                                 f"({d['transitions'] / d['events']:.2f} per event)"),
        ("States", states),
        ("Open", f"{d['open']:,} ({d['open'] / d['events']:.1%}); {d['with_deadline']:,} with a "
                 f"running clock, {d['overdue']:,} of them overdue; "
                 f"{d['supervision_orders']:,} supervision orders"),
        ("Ever overdue", f"{d['ever_overdue']:,} ({d['ever_overdue'] / d['events']:.1%})"),
        ("Schema and demo city (migrate, DemoBuilder)", secs(r["setup_s"])),
        ("Writing the rows (generation included)", secs(d["rows_s"])),
        ("Indexes and constraints, sequences, supervision orders", secs(d["indexes_s"])),
        ("VACUUM ANALYZE" if r["engine"] == "postgresql" else "ANALYZE", secs(d["analyze_s"])),
        ("Statistics rollup, every month (`stats.rebuild_month`)",
         f"{secs(d['rollup_s'])} for {d['rollup_months']} months "
         f"({d['rollup_s'] / d['rollup_months']:.1f} s a month); "
         f"{d['rollup_rows']:,} rollup rows"),
    ]
    return "| What | |\n|---|---|\n" + "\n".join(f"| {a} | {b} |" for a, b in rows)


def inbox_table(r: dict) -> str:
    lines = ["| List | User | URL | Rows in list | Queries (SQL ms) | Slowest query ms | n | "
             "p50 ms | p95 ms | p99 ms | Full GCs in them, ms | p99 without those, ms | |",
             "|" + "---|" * 13]
    for c in r["inbox"]:
        pauses = ", ".join(ms(p) for p in c["gc_pauses_ms"]) or "none"
        lines.append(
            f"| {c['label']} | `{c['user']}` | `{c['url']}` | {c['list_rows']:,} | "
            f"{c['queries']} ({ms(c['sql_ms'])}) | {ms(c['slowest'].get('ms', 0))} | {c['n']} | "
            f"{ms(c['p50'])} | {ms(c['p95'])} | {ms(c['p99'])} | {pauses} | "
            f"{ms(c['p99_without_gc'])} | "
            f"{'baseline' if c['key'] == 'frame' else verdict(c['p99'] < INBOX_P99_MS)} |")
    return "\n".join(lines)


def stats_table(r: dict) -> str:
    lines = ["| Request | Runs | Queries (SQL ms) | p50 ms | p99 ms (slowest) |",
             "|---|---|---|---|---|"]
    for c in r["stats"]:
        lines.append(f"| `{c['url']}` | {c['n']} | {c['queries']} ({ms(c['sql_ms'])}) | "
                     f"{ms(c['p50'])} | {ms(c['p99'])} |")
    return "\n".join(lines)


def sweep_table(r: dict) -> str:
    lines = ["| Sweep | Events warned / overdue / escalated | Orders warned / overdue | "
             "Queries | Time |", "|---|---|---|---|---|"]
    for s in r["sweep"]:
        e, o = s["events"], s["supervisions"]
        lines.append(f"| {s['label']} | {e['warned']:,} / {e['overdue']:,} / {e['escalated']:,} "
                     f"| {o['warned']:,} / {o['overdue']:,} | {s['queries']:,} | "
                     f"{secs(s['seconds'])} |")
    return "\n".join(lines)


def throughput_table(r: dict) -> str:
    t = r["throughput"]
    lines = ["| Endpoint | Requests | 201 | Failed | Reports/s | p50 ms | p99 ms | "
             "One at a time, in process: ms (queries, SQL ms) |", "|" + "---|" * 8]
    for key, label in (("bare", "`POST /bench/bare-report` (plain SQL)"),
                       ("api", "`POST /api/v1/events` (X-API-Key)")):
        e = t[key]
        one = e["in_process"]
        lines.append(f"| {label} | {e['requests']:,} | {e['created']:,} | {e['failed']:,} | "
                     f"{e['rps']:.0f} | {ms(e.get('p50', 0))} | {ms(e.get('p99', 0))} | "
                     f"{ms(one['ms'])} ({one['queries']}, {ms(one['sql_ms'])}) |")
    errors = t["api"]["errors"] + t["bare"]["errors"]
    tail = ["", f"API ÷ bare: **{t['ratio']:.0%}**. Rows written: {t['rows_written']:,} "
                 f"(expected {t['rows_expected']:,}, the warm-up's included)."]
    if errors:
        tail.append("First errors: " + "; ".join(f"`{e[:160]}`" for e in errors[:3]))
    return "\n".join(lines + tail)


def plans(r: dict) -> list[str]:
    """The plan of the slowest query of each inbox list that missed its target with a query
    worth a look (a quarter of its median or more)."""
    out = []
    for c in r["inbox"]:
        if c["p99"] < INBOX_P99_MS or not c["slowest"] or c["slowest"]["ms"] < c["p50"] / 4:
            continue
        out += ["", f"Slowest query of *{c['label']}* ({ms(c['slowest']['ms'])} ms):", "",
                "```", c["slowest"]["sql"][:1500], "", *c["slowest"]["plan"][:40], "```"]
    return out


def render(results: list[dict], skipped: list[str]) -> str:
    parts = ["### Setup", "", SETUP.strip().format(
        requests=REQUESTS, warmup=WARMUP, inbox_budget=INBOX_BUDGET_S, stats_runs=STATS_RUNS,
        stats_budget=STATS_BUDGET_S, seconds=THROUGHPUT_SECONDS, clients=CLIENTS,
        catchup=CATCHUP_MINUTES), ""]
    for note in skipped:
        parts += [f"**{note}**", ""]
    parts += ["### Results against the targets", "", targets(results)]
    for r in results:
        parts += ["", f"### {title(r)}", "", "Data set and load:", "", data_table(r), "",
                  "Inbox lists (timed in process; n = timed requests):", "",
                  inbox_table(r), "", "Statistics (city leader, the last 365 days):", "",
                  stats_table(r), "", "Deadline sweep (`deadlines.sweep_all`):", "",
                  sweep_table(r), "",
                  f"Report throughput ({r['throughput']['clients']} client threads, "
                  f"{THROUGHPUT_SECONDS:.0f} s per endpoint):", "", throughput_table(r)]
        parts += plans(r)
    parts += ["", "### Interpretation", ""]
    for r in results:
        parts += [f"- {line}" for line in findings(r)]
    parts += ["", INTERPRETATION.strip()]
    return "\n".join(parts)


def findings(r: dict) -> list[str]:
    """Interpretation bullets computed from this run's figures, so they stay true on rerun."""
    name = ENGINE_NAMES[r["engine"]]
    frame = next(c for c in r["inbox"] if c["key"] == "frame")
    worst = worst_inbox(r)
    rendering = [c["p50"] - c["sql_ms"] for c in lists(r)]
    out = [
        f"{name}, inbox: the page around an empty list costs {ms(frame['p50'])} ms (median) "
        f"before any list query; with 50 rows the lists spend {ms(min(rendering))}–"
        f"{ms(max(rendering))} ms outside SQL (middleware, scope, filter form, rendering). The "
        f"worst p99 is {ms(worst['p99'])} ms ({worst['label']}); its slowest query took "
        f"{ms(worst['slowest'].get('ms', 0))} ms."
    ]
    pauses = [p for c in lists(r) for p in c["gc_pauses_ms"]]
    timed = sum(c["n"] for c in lists(r))
    if pauses:
        clean = max(lists(r), key=lambda c: c["p99_without_gc"])
        out.append(
            f"{name}, inbox: a full garbage collection landed in {len(pauses)} of the {timed:,} "
            f"timed list requests, pausing it {ms(min(pauses))}–{ms(max(pauses))} ms. Without "
            f"those requests the worst p99 is {ms(clean['p99_without_gc'])} ms "
            f"({clean['label']}).")
    page, d = stats_page(r), r["load"]
    out.append(
        f"{name}, statistics: {d['rollup_rows']:,} rollup rows for {d['events']:,} events "
        f"({d['rollup_rows'] / d['events']:.0%}); the year's page spends {ms(page['sql_ms'])} ms "
        f"of its {ms(page['p50'])} ms in {page['queries']} queries. Rebuilding one month of the "
        f"rollup costs {d['rollup_s'] / d['rollup_months']:.1f} s.")
    catchup, idle = sweep_run(r, "catchup"), sweep_run(r, "idle")
    due = sum(catchup["events"].values()) + sum(catchup["supervisions"].values())
    out.append(
        f"{name}, sweep: with nothing due it costs {secs(idle['seconds'])} ({idle['queries']} "
        f"queries) over {idle['running_clocks']:,} running event clocks and "
        f"{idle['order_clocks']:,} supervision-order clocks; catching up an hour of a working "
        f"morning ({due:,} flags and rungs) took {secs(catchup['seconds'])} in "
        f"{catchup['queries']:,} queries.")
    t = r["throughput"]
    api, bare = t["api"]["in_process"], t["bare"]["in_process"]
    out.append(
        f"{name}, reports: one API report alone takes {ms(api['ms'])} ms in {api['queries']} "
        f"queries ({ms(api['sql_ms'])} ms of SQL), the bare view {ms(bare['ms'])} ms in "
        f"{bare['queries']} ({ms(bare['sql_ms'])} ms); a report the API refuses for an "
        f"unknown category (key, scope, validation, one lookup) already takes "
        f"{ms(api['refused_ms'])} ms. Under load the API reached {t['ratio']:.0%} of the bare "
        f"view's reports per second.")
    return out


SETUP = """
Each database is measured in its own process on a throwaway database (PostgreSQL: created for
the run and dropped after it; SQLite: a temporary file with the project's settings): the real
schema (`migrate`), the demo city of Nantong without its demo events (`DemoBuilder(scale="city",
events=False)`: 1 city, 8 counties, 136 towns, 2,005 villages, about 12,000 grids, the county
departments and the demo users), then a year of events generated by this module and written in
bulk (PostgreSQL `COPY`, SQLite `executemany`, indexes built afterwards). The year ends at the
last working-day 10:30 before the run, so that the sweep meets a working morning's deadlines
whenever the benchmark runs (most limits count working hours). The events are spread over its
365 days with a day-time profile, over every grid of the city, with the demo's category and
channel mix. Each lives the life the services give it, with the demo's
step times: most grid-worker reports are solved on the spot, some are rejected or merged, the
rest are accepted, dispatched to the county department that handles their category (the lead
organisation), signed for, handled, verified, closed and often evaluated; some are sent back,
reworked or slow. Steps that would lie after the year's end are cut off, and a share of older
events stays stuck in some step, so about 3 % are open. Open events carry the running clock of
their step from the application's own time limits and working-day calendar, with the deadline
flags, escalation rungs and supervision orders a sweep would have left {catchup} minutes before
the year's end. No event assignments, photos or people are written: no measured page reads
them. Then `VACUUM ANALYZE` (PostgreSQL) or `ANALYZE` (SQLite), and the statistics rollup is
rebuilt for every month with `zhili.events.stats.rebuild_month`, timed: what a full catch-up
costs (in service only the months whose events changed are rebuilt, every two minutes).

1. Inbox: `django.test.Client` in the measuring process, signed in (`force_login`) as the demo
   users, through the whole middleware stack and template (session, position, scope, filter
   form, pagination); {warmup} untimed requests, then {requests} timed ones per list (or as
   many as fit in {inbox_budget} s, at least 50).
2. Statistics: `/events/stats/` and the statistics API for the last 365 days as `city.leader`,
   {stats_runs} timed runs (or as many as fit in {stats_budget} s, at least 3) after an untimed
   one. The target is judged on the median (it names no percentile); the slowest run is shown.
3. Sweep: `deadlines.sweep_all(t)` for the minute after the flags were last set (a normal
   minute), then for the year's end (the rest of the hour: catching up, as after a scheduler
   outage), then once more with nothing left to do (what every minute costs at rest). The
   per-minute figure judged is the larger of the first and the last.
4. Throughput: gunicorn (2 workers, gthread, 4 threads each) serving `bench.settings` (the
   application's settings plus `bench/urls.py`) on 127.0.0.1, driven by {clients} Python client
   threads on keep-alive connections posting the same JSON bodies to both endpoints: the report
   API with an API key of a county department (a device client: `api_client` role) and a bare
   Django view that inserts the event, its number and its "report" transition with plain SQL in
   one transaction. {seconds:.0f} s per endpoint, in two alternating halves, after a 2 s
   warm-up each. The clients run on the same 2 cores as the server and the database, so both
   figures include the same client cost.
"""

INTERPRETATION = """
**Inbox.** Four query problems showed at a million events; they are fixed in `zhili/events`
(views, API, and migration `0003_event_list_indexes`), and the figures above are with the fixes:

- The lists joined category, area and lead organisation (`select_related`) to every row in
  reach before sorting, and the planner then hashed the whole area table (about 12,000 grids,
  boundaries included) for every page. They are now fetched for the page's rows only
  (`prefetch_related`: three primary-key lookups).
- "All" lists are newest first and no index gave that order, so every row in reach was read and
  sorted. `event_reported_at_id` (reported_at, id) is walked backwards and stops at the 50th row
  in scope.
- The pagination ran an exact `COUNT(*)` of everything in reach. `InboxPaginator` counts up to
  1,000 rows, unordered so that any plan may stop there, and shows "1000+".
- Filters: "overdue only" reads the partial index `event_overdue_area` (area code and category
  of the overdue rows only), and the category index now ends with the area code, so that a
  category-and-period list checks the scope's subtree inside the index.

What remains is mostly not SQL, as the queries column shows: the page frame (session, position
and scope, navigation, notification count, the filter form and its selects) and 50 rendered rows
cost tens of milliseconds of Python on this machine. Full garbage collections used to land in
about one request in a hundred and pause it for longer than the request itself; every server
process now loads what the first request would and freezes that heap (`zhili/config/heap.py`,
called by `zhili/config/wsgi.py`), and this benchmark does the same before measuring, so a
full collection walks only what requests allocate (the GC columns show what is left).

The text search is the exception: `UPPER(column) LIKE '%…%'` over four columns cannot use a
B-tree. A frequent term is found quickly by walking the newest-first index, and a search now
counts only four pages' worth of matches (a "200+" label) instead of a thousand; a rare term
still reads every row in reach, for the page and again for the count. Trigram indexes
(PostgreSQL `pg_trgm`, GIN; 2-character Chinese terms, the commonest, are below a trigram's
length) or SQLite FTS5 would serve it; that is not done.

**Statistics.** The rollup is monthly and narrow: rows per village (totals, the trend and the
area breakdown), per town × category, town × channel and town × lead organisation, and per
town × step (events through the step and the seconds they spent there), so a year of a million
events is a few tens of thousands of rows and the city's page sums small index ranges in the
database, step times included. Rebuilding a month is grouped SQL over the month's events (one
index range) plus one pass over their step-time JSON.

**Sweep.** The claims read the partial deadline index, so an idle minute is a few index range
reads over the running clocks; the cost grows with the flags due, each of which sends its
notifications and writes its transition.

**Report API.** The bare view runs two lookups and three writes in one transaction. The API
validates the body, checks the category (cached) and the area in the key's scope, writes the
event, its number, its transition and the task that tells the dispatching centre (in the same
transaction: the task queue is in this database) — one insert more than the bare view. What no
longer happens per request: resolving the key's service user, position, organisation subtree
and role permissions (cached per process for 30 s, `accounts.services._key_principal`; a
revocation is immediate in the revoking process and within 30 s in the others), the duplicate
search and the notifications (the worker does them), and a second commit for the task.

**SQLite configuration.** SQLite is measured as deployed, with the project's options (WAL,
IMMEDIATE transactions, busy timeout; `zhili/config/settings.py` applies them to the default
file and to `sqlite://` URLs alike — without them concurrent writers fail at once with
"database is locked", as most of the bare view's requests did in an early trial run of this
benchmark). This benchmark runs
`ANALYZE` after loading, which the application never does on SQLite; without statistics SQLite
chooses some plans differently (in a trial run "overdue only" with a category read the whole
category through its foreign-key index instead of `event_overdue_area`), so a SQLite deployment
should run `PRAGMA optimize` now and then.
"""


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        child_main(sys.argv[2], int(sys.argv[3]), Path(sys.argv[4]))
    else:
        print("Run through bench/run.py: .venv/bin/python -m bench.run events")
        sys.exit(2)
