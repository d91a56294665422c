"""Ingestion of the companies' feeds (DESIGN §3.6): parse → check row by row → idempotent insert
on the natural key → the daily rollups updated in the same transaction.

A batch is one transaction. Killed half-way, nothing of it is kept, and the client's retry
(same Idempotency-Key) processes it again; killed after the commit but before the answer
reached the client, the retry finds the batch row and returns the first answer. Either way no
record is lost and none is counted twice: rollups count only the rows the insert actually
created (a record already stored, e.g. sent again in another batch, is a duplicate: accepted,
not counted again). `accepted + rejected == submitted`, always.

PostgreSQL: the rows are COPYed into a temporary stage table, then one statement inserts them
(ON CONFLICT DO NOTHING) and folds the created ones into the rollups. SQLite: the same steps
with executemany and a few statements.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from zhili.core import audit
from zhili.delivery import feeds
from zhili.delivery.choices import BatchState, FeedKind
from zhili.delivery.models import CourierCompany, IngestBatch, Outlet
from zhili.devices.choices import DeviceKind

MAX_ROWS = 100_000
RETRYABLE = ("40P01", "40001")  # deadlock detected, serialization failure
MAX_BYTES = 64 * 1024 * 1024
MAX_REPORTED = 1000

# Stage columns per kind (the table's own columns; flags computed on insert).
COLUMNS = {
    FeedKind.SHIPMENTS: (
        "company_id", "outlet_id", "area_code", "waybill", "day", "accepted_at", "sender",
        "sender_id_type", "sender_id_bidx", "real_name", "id_problem", "goods",
        "goods_category", "weight", "flagged", "flag_terms", "batch_id", "received_at"),
    FeedKind.INSPECTIONS: (
        "company_id", "outlet_id", "area_code", "waybill", "day", "inspected_at", "inspector",
        "result", "photo_ref", "source", "batch_id"),
    FeedKind.SCANS: (
        "company_id", "outlet_id", "area_code", "waybill", "day", "scanned_at", "machine",
        "alarm", "image_ref", "batch_id"),
}
TABLES = {FeedKind.SHIPMENTS: "delivery_shipment", FeedKind.INSPECTIONS: "delivery_inspection",
          FeedKind.SCANS: "delivery_xrayscan"}
TYPES = {
    "company_id": "bigint", "outlet_id": "bigint", "area_code": "varchar(15)",
    "waybill": "varchar(40)", "day": "date", "accepted_at": "timestamptz", "sender": "text",
    "sender_id_type": "varchar(3)", "sender_id_bidx": "bigint", "real_name": "boolean",
    "id_problem": "varchar(12)", "goods": "varchar(200)", "goods_category": "varchar(40)",
    "weight": "numeric(9,3)", "flagged": "boolean", "flag_terms": "varchar(200)",
    "batch_id": "bigint", "received_at": "timestamptz", "inspected_at": "timestamptz",
    "inspector": "varchar(50)", "result": "varchar(10)", "photo_ref": "varchar(200)",
    "source": "varchar(8)", "scanned_at": "timestamptz", "machine": "varchar(40)",
    "alarm": "boolean", "image_ref": "varchar(200)",
}
ROLLUP = ("parcels", "real_name", "inspected", "xrayed", "flagged", "inspections",
          "inspection_photos", "scans", "alarms")
KEYS = ("outlet_id", "company_id", "area_code", "day")
# The rollup tables: the period's table and its key column beside outlet_id.
PERIODS = {"day": ("delivery_outletday", "day"), "month": ("delivery_outletmonth", "month")}


@dataclass
class Written:
    created: int
    duplicates: int


def context_for(company: CourierCompany, batch_id: int | None = None) -> feeds.Context:
    outlets = {code: (pk, area) for code, pk, area in Outlet.objects.filter(
        company=company, is_active=True).values_list("code", "pk", "area_code")}
    from zhili.devices.models import Device

    machines = dict(Device.objects.filter(
        kind=DeviceKind.XRAY, org__courier_outlet__company=company,
        status__in=("online", "offline", "fault")).values_list("code",
                                                               "org__courier_outlet__id"))
    return feeds.Context(company_id=company.pk, outlets=outlets, machines=machines,
                         screen=feeds.Screen.current(), batch_id=batch_id)


# --- the batch ------------------------------------------------------------------------------------

def receive(*, actor, company: CourierCompany, kind: str, key: str, body: bytes,
            content_type: str) -> tuple[IngestBatch, bool]:
    """Process one pushed batch; returns (batch, replayed). Raises feeds.BatchError for a
    request that cannot be read at all (nothing is written then)."""
    if kind not in FeedKind.values:
        raise feeds.BatchError(_("Unknown feed."), status=404)
    key = (key or "").strip()
    if not key or len(key) > 80:
        raise feeds.BatchError(_("Send an Idempotency-Key header (1–80 characters) naming "
                                 "the batch, and the same key when you retry it."))
    if len(body) > MAX_BYTES:
        raise feeds.BatchError(_("A batch is at most 64 MB; split it."), status=413)
    digest = hashlib.sha256(body).hexdigest()
    previous = IngestBatch.objects.filter(company=company, kind=kind, key=key).first()
    if previous is not None:
        if previous.sha256 != digest:
            raise feeds.BatchError(_("Batch %(key)s was already received with other content; "
                                     "use a new key for new data.") % {"key": key}, status=409)
        return previous, True
    parsed = feeds.records(body, content_type)
    if len(parsed) > MAX_ROWS:
        raise feeds.BatchError(_("A batch has at most %(n)s records; split it.")
                               % {"n": f"{MAX_ROWS:,}"}, status=413)
    clock = time.perf_counter()
    for attempt in range(3):
        try:
            return _receive_once(actor, company, kind, key, digest, parsed, clock)
        except Exception as exc:
            # A deadlock or serialisation failure rolled the whole batch back: run it again.
            # (psycopg's own error when it came from the COPY cursor, Django's otherwise.)
            state = getattr(exc, "sqlstate", None) or getattr(exc.__cause__, "sqlstate", None)
            if attempt == 2 or state not in RETRYABLE or connection.in_atomic_block:
                raise
    raise AssertionError("unreachable")


def _receive_once(actor, company, kind, key, digest, parsed, clock):
    try:
        with transaction.atomic():
            batch = IngestBatch.objects.create(company=company, area_code=company.area_code,
                                               kind=kind, key=key, sha256=digest)
            ctx = context_for(company, batch.pk)
            rows = feeds.CHECKS[kind](parsed, ctx)
            written = write(kind, rows.good)
            batch.submitted = rows.submitted
            batch.created, batch.duplicates = written.created, written.duplicates
            batch.accepted = written.created + written.duplicates
            batch.rejected = rows.rejected
            batch.errors = (rows.errors + [dict(w, warning=True) for w in rows.warnings]
                            )[:MAX_REPORTED]
            batch.state = BatchState.DONE
            batch.seconds = time.perf_counter() - clock
            if batch.accepted + batch.rejected != batch.submitted:  # never: a bug, not data
                raise AssertionError("accepted + rejected != submitted")
            batch.save()
            audit.record(actor=actor, action=f"delivery.feed.{kind}", target=batch,
                         area_code=company.area_code,
                         changes={"submitted": batch.submitted, "created": batch.created,
                                  "duplicates": batch.duplicates, "rejected": batch.rejected})
    except IntegrityError:
        # The same batch arrived twice at once: the other request wrote it first.
        previous = IngestBatch.objects.filter(company=company, kind=kind, key=key).first()
        if previous is None:
            raise
        if previous.sha256 != digest:
            raise feeds.BatchError(_("Batch %(key)s was already received with other content; "
                                     "use a new key for new data.") % {"key": key},
                                   status=409) from None
        return previous, True
    return batch, False


def write(kind: str, rows: list[tuple]) -> Written:
    if not rows:
        return Written(0, 0)
    if connection.vendor == "postgresql":
        return _write_postgresql(kind, rows)
    return _write_sqlite(kind, rows)


# --- PostgreSQL -----------------------------------------------------------------------------------

def _stage(cursor, kind: str, rows: list[tuple]) -> str:
    name = f"delivery_stage_{kind}"
    columns = COLUMNS[kind]
    cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {name} ("
                   + ", ".join(f"{c} {TYPES[c]}" for c in columns) + ") ON COMMIT DELETE ROWS")
    cursor.execute(f"TRUNCATE {name}")  # an earlier write in the same transaction
    with cursor.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    return name


def _copy_new_parcels(cursor, rows: list[tuple]) -> Written | None:
    """The usual batch — parcels not stored yet, no inspection or scan records of the company
    in those days — COPYed straight into the table, its rollups added from the rows in hand.
    None when the staged path must decide (a resent record, records that complete parcels,
    or a concurrent batch that stored one of these keys first)."""
    import psycopg

    if _any_records(cursor, "delivery_inspection", rows) or \
            _any_records(cursor, "delivery_xrayscan", rows):
        return None
    # No look for stored keys first: a resent record is rare, and the unique key finds it
    # during the COPY at no extra cost (the savepoint is then rolled back).
    columns = (*COLUMNS[FeedKind.SHIPMENTS], "inspected", "xrayed")
    try:
        with transaction.atomic(), cursor.copy(
                f"COPY delivery_shipment ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row, False, False))
    except psycopg.errors.UniqueViolation:
        return None  # rolled back to the savepoint; the staged insert sorts it out
    sums: dict[tuple, list[int]] = {}
    for row in rows:  # (outlet, company, area, day) → parcels, real-name, flagged
        acc = sums.setdefault((row[1], row[0], row[2], row[4]), [0, 0, 0])
        acc[0] += 1
        acc[1] += row[9]
        acc[2] += row[14]
    # The per-day sums go to the server as one JSON document (the driver writes a JSON string
    # far faster than it writes arrays): one statement upserts both rollups.
    sums_json = json.dumps([(*key[:3], key[3].isoformat(), *acc) for key, acc in sums.items()])
    cursor.execute(
        "WITH d AS (SELECT (e->>0)::bigint AS outlet_id, (e->>1)::bigint AS company_id, "
        "e->>2 AS area_code, (e->>3)::date AS day, (e->>4)::int AS parcels, "
        "(e->>5)::int AS real_name, (e->>6)::int AS flagged "
        "FROM json_array_elements(%s::json) AS e), "
        + _rollup_ctes("d", parcels="sum(parcels)", real_name="sum(real_name)",
                       flagged="sum(flagged)") + " SELECT 1", [sums_json])
    return Written(len(rows), 0)


def _any_records(cursor, table: str, rows: list[tuple]) -> bool:
    """Whether the company has records in `table` within a day of the batch's days."""
    days = [row[4] for row in rows]
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE company_id = %s AND day "
                   "BETWEEN %s::date - 1 AND %s::date + 1)", [rows[0][0], min(days), max(days)])
    return cursor.fetchone()[0]


def _month_of(column: str) -> str:
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column})::date"
    return f"date({column}, 'start of month')"


def _rollup_one(source: str, period: str, counts: dict[str, str]) -> str:
    table, key = PERIODS[period]
    picked = "day" if period == "day" else _month_of("day")
    values = [counts.get(c, "0") for c in ROLLUP]
    updates = ", ".join(f"{c} = {table}.{c} + EXCLUDED.{c}" for c in ROLLUP if c in counts)
    # One row per (outlet, period) even if the source names two areas for an outlet (it moved
    # mid-month): ON CONFLICT may not touch a row twice. Upserted in (outlet, period) order,
    # the order every rollup write locks them in.
    return (f"INSERT INTO {table} ({', '.join(KEYS[:3])}, {key}, {', '.join(ROLLUP)}) "
            f"SELECT outlet_id, max(company_id), max(area_code), {picked}, {', '.join(values)} "
            f"FROM {source} WHERE TRUE GROUP BY outlet_id, {picked} ORDER BY outlet_id, "
            f"{picked} ON CONFLICT (outlet_id, {key}) DO UPDATE SET {updates}")


def _rollup_ctes(source: str, **counts: str) -> str:
    """The rollup upserts (ROLLUP column → expression over `source`, a CTE with outlet_id,
    company_id, area_code and day) as data-modifying CTEs of one PostgreSQL statement."""
    return ", ".join(f"up_{period} AS ({_rollup_one(source, period, counts)})"
                     for period in PERIODS)


def _rollups_sqlite(cursor, source: str, **counts: str) -> None:
    for period in PERIODS:
        cursor.execute(_rollup_one(source, period, counts))


def _write_postgresql(kind: str, rows: list[tuple]) -> Written:
    table, columns = TABLES[kind], COLUMNS[kind]
    cols = ", ".join(columns)
    picked = ", ".join(f"s.{c}" for c in columns)
    with connection.cursor() as outer:
        cursor = outer.cursor  # psycopg's own cursor: COPY
        if kind == FeedKind.SHIPMENTS:
            written = _copy_new_parcels(cursor, rows)
            if written is not None:
                return written
        stage = _stage(cursor, kind, rows)
        if kind == FeedKind.SHIPMENTS:
            # Inspected and screened on the day it was taken in, or a day either side: the
            # day bounds let each probe touch one partition, not all of them; and no probes
            # at all where the company has no such records in the batch's days.
            probes = []
            for other, alias in (("delivery_inspection", "i"), ("delivery_xrayscan", "x")):
                if _any_records(cursor, other, rows):
                    probes.append(f"EXISTS (SELECT 1 FROM {other} {alias} WHERE "
                                  f"{alias}.waybill = s.waybill AND {alias}.company_id = "
                                  f"s.company_id AND {alias}.day BETWEEN s.day - 1 AND "
                                  "s.day + 1)")
                else:
                    probes.append("FALSE")
            sql = (
                f"WITH ins AS (INSERT INTO {table} ({cols}, inspected, xrayed) "
                f"SELECT {picked}, {probes[0]}, {probes[1]} "
                f"FROM {stage} s ON CONFLICT (company_id, waybill, day) DO NOTHING "
                "RETURNING outlet_id, company_id, area_code, day, real_name, inspected, xrayed, "
                "flagged), "
                + _rollup_ctes(
                    "ins", parcels="count(*)",
                    real_name="count(*) FILTER (WHERE real_name)",
                    inspected="count(*) FILTER (WHERE inspected)",
                    xrayed="count(*) FILTER (WHERE xrayed)",
                    flagged="count(*) FILTER (WHERE flagged)")
                + " SELECT count(*) FROM ins")
        else:
            flag = "inspected" if kind == FeedKind.INSPECTIONS else "xrayed"
            # The record's own counts (inspections and those with a photo; scans and those
            # that alarmed) and the parcels it completes, in one upsert: two upserts of the
            # same rollup row in one statement are refused.
            first, second = ("inspections", "inspection_photos") \
                if kind == FeedKind.INSPECTIONS else ("scans", "alarms")
            marker = "photo_ref <> ''" if kind == FeedKind.INSPECTIONS else "alarm"
            key = "company_id, waybill, day" if kind == FeedKind.INSPECTIONS else \
                "company_id, waybill, day, scanned_at"
            sql = (
                f"WITH ins AS (INSERT INTO {table} ({cols}) SELECT {picked} FROM {stage} s "
                f"ON CONFLICT ({key}) DO NOTHING "
                f"RETURNING company_id, outlet_id, area_code, day, waybill, {marker} AS marked), "
                # The parcels these records complete: counted once, on the parcel's own day.
                f"upd AS (UPDATE delivery_shipment p SET {flag} = TRUE FROM "
                "(SELECT DISTINCT company_id, waybill, day FROM ins) n "
                f"WHERE p.waybill = n.waybill AND p.company_id = n.company_id AND NOT p.{flag} "
                "AND p.day BETWEEN n.day - 1 AND n.day + 1 "
                "RETURNING p.outlet_id, p.company_id, p.area_code, p.day), "
                "parts AS (SELECT outlet_id, company_id, area_code, day, 1 AS a, "
                "CASE WHEN marked THEN 1 ELSE 0 END AS b, 0 AS c FROM ins UNION ALL "
                "SELECT outlet_id, company_id, area_code, day, 0, 0, 1 FROM upd), "
                + _rollup_ctes("parts", **{first: "sum(a)", second: "sum(b)", flag: "sum(c)"})
                + " SELECT count(*) FROM ins")
        cursor.execute(sql)
        created = cursor.fetchone()[0]
    return Written(created, len(rows) - created)


# --- SQLite ---------------------------------------------------------------------------------------

def _write_sqlite(kind: str, rows: list[tuple]) -> Written:
    table, columns = TABLES[kind], COLUMNS[kind]
    # Times as the ORM stores them (naive UTC text): the driver's own adapter would keep the
    # sender's offset, and text comparisons in ORM filters would then order them wrongly.
    adapt = connection.ops.adapt_datetimefield_value
    rows = [tuple(adapt(v) if isinstance(v, dt.datetime) else v for v in row) for row in rows]
    cols = ", ".join(columns)
    stage = f"temp.delivery_stage_{kind}"
    key = ("company_id", "waybill", "day") + (("scanned_at",) if kind == FeedKind.SCANS
                                              else ())
    match = " AND ".join(f"t.{c} = g.{c}" for c in key)
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS delivery_stage_{kind} ("
                       + ", ".join(columns) + ", inspected, xrayed)")
        # The parcels a batch of inspections or scans completes are found by waybill.
        cursor.execute(f"CREATE INDEX IF NOT EXISTS temp.delivery_stage_{kind}_waybill "
                       f"ON delivery_stage_{kind} (waybill, company_id)")
        cursor.execute(f"DELETE FROM {stage}")
        cursor.executemany(f"INSERT INTO {stage} ({cols}) VALUES ("
                           + ", ".join(["%s"] * len(columns)) + ")", rows)
        # Records already stored (sent before in another batch) are duplicates.
        cursor.execute(f"DELETE FROM {stage} AS g WHERE EXISTS (SELECT 1 FROM {table} t "
                       f"WHERE {match})")
        cursor.execute(f"SELECT count(*) FROM {stage}")
        created = cursor.fetchone()[0]
        if kind == FeedKind.SHIPMENTS:
            near = "BETWEEN date({0}.day, '-1 day') AND date({0}.day, '+1 day')"
            cursor.execute(
                f"UPDATE {stage} SET "
                "inspected = EXISTS (SELECT 1 FROM delivery_inspection i WHERE "
                f"i.waybill = {stage}.waybill AND i.company_id = {stage}.company_id "
                f"AND i.day {near.format(stage)}), "
                "xrayed = EXISTS (SELECT 1 FROM delivery_xrayscan x WHERE "
                f"x.waybill = {stage}.waybill AND x.company_id = {stage}.company_id "
                f"AND x.day {near.format(stage)})")
            _rollups_sqlite(cursor, stage, parcels="count(*)", real_name="sum(real_name)",
                            inspected="sum(inspected)", xrayed="sum(xrayed)",
                            flagged="sum(flagged)")
            cursor.execute(f"INSERT INTO {table} ({cols}, inspected, xrayed) "
                           f"SELECT {cols}, inspected, xrayed FROM {stage}")
        else:
            flag = "inspected" if kind == FeedKind.INSPECTIONS else "xrayed"
            counts = {"inspections": "count(*)",
                      "inspection_photos": "sum(photo_ref <> '')"} \
                if kind == FeedKind.INSPECTIONS else {"scans": "count(*)",
                                                      "alarms": "sum(alarm)"}
            _rollups_sqlite(cursor, stage, **counts)
            completed = (f"FROM delivery_shipment p WHERE NOT p.{flag} AND EXISTS (SELECT 1 "
                         f"FROM {stage} g WHERE g.waybill = p.waybill AND "
                         "g.company_id = p.company_id AND p.day BETWEEN date(g.day, '-1 day') "
                         "AND date(g.day, '+1 day'))")
            _rollups_sqlite(cursor, f"(SELECT p.outlet_id, p.company_id, p.area_code, p.day "
                                    f"{completed})", **{flag: "count(*)"})
            cursor.execute(f"UPDATE delivery_shipment SET {flag} = 1 WHERE id IN "
                           f"(SELECT p.id {completed})")
            cursor.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage}")
        cursor.execute(f"DELETE FROM {stage}")
    return Written(created, len(rows) - created)


# --- rebuilding the rollups ---------------------------------------------------------------

def rebuild_days(first, last) -> int:
    """Recompute the rollups of [first, last] from the records (after a repair, or to check
    that ingestion kept them right). Returns the number of rollup rows written."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM delivery_outletday WHERE day >= %s AND day <= %s",
                       [first, last])
        true = "TRUE" if connection.vendor == "postgresql" else "1"
        cursor.execute(
            f"INSERT INTO delivery_outletday ({', '.join(KEYS)}, {', '.join(ROLLUP)}) "
            f"SELECT {', '.join(KEYS)}, sum(parcels), sum(real_name), sum(inspected), "
            "sum(xrayed), sum(flagged), sum(inspections), sum(inspection_photos), sum(scans), "
            "sum(alarms) FROM ("
            "SELECT outlet_id, company_id, area_code, day, count(*) AS parcels, "
            f"sum(CASE WHEN real_name = {true} THEN 1 ELSE 0 END) AS real_name, "
            f"sum(CASE WHEN inspected = {true} THEN 1 ELSE 0 END) AS inspected, "
            f"sum(CASE WHEN xrayed = {true} THEN 1 ELSE 0 END) AS xrayed, "
            f"sum(CASE WHEN flagged = {true} THEN 1 ELSE 0 END) AS flagged, "
            "0 AS inspections, 0 AS inspection_photos, 0 AS scans, 0 AS alarms "
            "FROM delivery_shipment WHERE day >= %s AND day <= %s "
            "GROUP BY outlet_id, company_id, area_code, day "
            "UNION ALL SELECT outlet_id, company_id, area_code, day, 0, 0, 0, 0, 0, count(*), "
            "sum(CASE WHEN photo_ref <> '' THEN 1 ELSE 0 END), 0, 0 "
            "FROM delivery_inspection WHERE day >= %s AND day <= %s "
            "GROUP BY outlet_id, company_id, area_code, day "
            "UNION ALL SELECT outlet_id, company_id, area_code, day, 0, 0, 0, 0, 0, 0, 0, "
            f"count(*), sum(CASE WHEN alarm = {true} THEN 1 ELSE 0 END) "
            "FROM delivery_xrayscan WHERE day >= %s AND day <= %s "
            "GROUP BY outlet_id, company_id, area_code, day) AS parts "
            f"GROUP BY {', '.join(KEYS)}", [first, last] * 3)
        written = cursor.rowcount
        rebuild_months(first, last)
        return written


def rebuild_months(first, last) -> None:
    """Recompute the month rollups of the months [first, last] touches from the day rollups."""
    start = first.replace(day=1)
    end = (last.replace(day=1) + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
    month = _month_of("day")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM delivery_outletmonth WHERE month >= %s AND month <= %s",
                       [start, end])
        cursor.execute(
            f"INSERT INTO delivery_outletmonth ({', '.join(KEYS[:3])}, month, "
            f"{', '.join(ROLLUP)}) SELECT outlet_id, max(company_id), max(area_code), {month}, "
            + ", ".join(f"sum({c})" for c in ROLLUP)
            + f" FROM delivery_outletday WHERE day >= %s AND day <= %s "
            f"GROUP BY outlet_id, {month}", [start, end])


def reconcile_days(first, last) -> int:
    """Set the inspected / X-rayed flags of parcels whose records arrived in a batch that
    committed at the same moment as the parcel's own (neither transaction could see the
    other's rows), then rebuild those days' rollups from the records. Returns the number of
    parcels corrected."""
    true = "TRUE" if connection.vendor == "postgresql" else "1"
    near = ("BETWEEN {0}.day - 1 AND {0}.day + 1" if connection.vendor == "postgresql"
            else "BETWEEN date({0}.day, '-1 day') AND date({0}.day, '+1 day')")
    corrected = 0
    with transaction.atomic(), connection.cursor() as cursor:
        for flag, table in (("inspected", "delivery_inspection"),
                            ("xrayed", "delivery_xrayscan")):
            cursor.execute(
                f"UPDATE delivery_shipment SET {flag} = {true} WHERE day >= %s AND day <= %s "
                f"AND NOT {flag} AND EXISTS (SELECT 1 FROM {table} r WHERE "
                "r.waybill = delivery_shipment.waybill AND "
                "r.company_id = delivery_shipment.company_id AND r.day "
                + near.format("delivery_shipment") + ")", [first, last])
            corrected += cursor.rowcount
        if corrected:
            rebuild_days(first, last)
    return corrected
