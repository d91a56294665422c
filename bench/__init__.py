"""Benchmarks of Zhili's design choices, run with `make bench` (see bench/run.py).

Each benchmark is a module of this package whose name does not start with an underscore. It
exposes `TITLE` (the heading of its section in docs/benchmarks.md) and `run() -> Report`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class Report:
    """What a benchmark hands back to bench/run.py."""

    body: str  # Markdown; use ### and deeper headings only, ## belongs to bench/run.py
    software: list[str] = field(default_factory=list)  # versions/settings of what was measured


class Skipped(Exception):
    """A database cannot be measured here; the reason goes into the report."""


# The server the PostgreSQL measurements create their throwaway databases on.
PG_CONNINFO = os.environ.get(
    "BENCH_PG_CONNINFO", "host=127.0.0.1 port=5432 user=postgres dbname=postgres"
)


@contextmanager
def throwaway_pg(prefix: str) -> Iterator[str]:
    """The name of a fresh PostgreSQL database, dropped however the benchmark ends (also
    when it is killed: WITH (FORCE) ends the sessions still using it)."""
    try:
        import psycopg
        from psycopg import sql
    except ImportError as exc:
        raise Skipped(f"psycopg is not installed ({exc})") from None
    try:
        admin = psycopg.connect(PG_CONNINFO, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        raise Skipped(f"cannot connect ({str(exc).strip().splitlines()[0]})") from None
    name = f"{prefix}_{os.getpid()}"
    try:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield name
        finally:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
    finally:
        admin.close()


@contextmanager
def throwaway_pg_url(prefix: str) -> Iterator[str]:
    """`throwaway_pg` as a URL for ZHILI_DATABASE_URL (what the application's settings read)."""
    import psycopg

    info = psycopg.conninfo.conninfo_to_dict(PG_CONNINFO)
    with throwaway_pg(prefix) as name:
        user = info.get("user", "postgres")
        host, port = info.get("host", "127.0.0.1"), info.get("port", 5432)
        password = f":{info['password']}" if info.get("password") else ""
        yield f"postgres://{user}{password}@{host}:{port}/{name}"
