"""Monthly partitions of the record tables on PostgreSQL (parcels, inspections, scans).

A city takes in 1–2 million parcels a day: a year is several hundred million rows. Partitions
by month on `day` keep each index a month deep (a waybill lookup probes a few small indexes),
let the rollup rebuild of a month scan only that month, and let old months be detached or
dropped whole when their retention ends. SQLite keeps plain tables.

`ensure_partitions()` creates the months from `back` months ago to `ahead` months ahead; a
daily task calls it, and a DEFAULT partition catches anything outside (a record more than a
year old is refused by the feed checks anyway).
"""

from __future__ import annotations

import datetime as dt

from django.db import connection

TABLES = ("delivery_shipment", "delivery_inspection", "delivery_xrayscan")


def _month(day: dt.date, shift: int) -> dt.date:
    index = day.year * 12 + day.month - 1 + shift
    return dt.date(index // 12, index % 12 + 1, 1)


def is_partitioned(cursor, table: str) -> bool:
    cursor.execute("SELECT 1 FROM pg_partitioned_table p JOIN pg_class c ON c.oid = p.partrelid "
                   "WHERE c.relname = %s", [table])
    return cursor.fetchone() is not None


def ensure_partitions(*, back: int = 14, ahead: int = 3, today: dt.date | None = None) -> int:
    """Create missing monthly partitions; returns how many were created."""
    if connection.vendor != "postgresql":
        return 0
    from django.utils import timezone

    today = today or timezone.localdate()
    created = 0
    with connection.cursor() as cursor:
        for table in TABLES:
            if not is_partitioned(cursor, table):
                continue
            for shift in range(-back, ahead + 1):
                start = _month(today, shift)
                name = f"{table}_{start:%Y%m}"
                cursor.execute("SELECT to_regclass(%s)", [name])
                if cursor.fetchone()[0] is not None:
                    continue
                cursor.execute(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM "
                               f"('{start.isoformat()}') TO ('{_month(start, 1).isoformat()}')")
                created += 1
    return created


def partition(schema_editor, table: str, unique: tuple[str, str]) -> None:
    """Turn a freshly created plain table into one partitioned by month on `day`, with the
    same columns, defaults, identity, unique constraint and indexes (the primary key becomes
    (id, day): a partitioned table's keys must contain the partition column)."""
    cursor = schema_editor.connection.cursor()
    cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s",
                   [table])
    indexes = [(name, definition) for name, definition in cursor.fetchall()
               if "UNIQUE" not in definition]
    unique_name, unique_columns = unique
    plain = f"{table}_plain"
    cursor.execute(f"ALTER TABLE {table} RENAME TO {plain}")
    cursor.execute(f"ALTER TABLE {plain} RENAME CONSTRAINT {unique_name} TO {unique_name}_plain")
    cursor.execute(f"ALTER TABLE {plain} RENAME CONSTRAINT {table}_pkey TO {table}_pkey_plain")
    for name, _definition in indexes:
        cursor.execute(f"ALTER INDEX {name} RENAME TO {name}_plain")
    cursor.execute(f"CREATE TABLE {table} (LIKE {plain} INCLUDING DEFAULTS INCLUDING IDENTITY "
                   f"INCLUDING CONSTRAINTS) PARTITION BY RANGE (day)")
    cursor.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (id, day)")
    cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {unique_name} UNIQUE ({unique_columns})")
    cursor.execute(f"DROP TABLE {plain}")
    for _name, definition in indexes:  # read before the renames: the original names
        cursor.execute(definition)
    cursor.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
