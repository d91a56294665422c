"""Nothing lost, nothing counted twice: a real server process is killed (SIGKILL) in the middle of
a batch, or after committing it but before answering, and the client retries the same batch
with the same Idempotency-Key against a restarted server.

The servers are `runserver` processes on the test database: on SQLite a file copy of it (an
in-memory database cannot be shared with another process), on PostgreSQL (when
ZHILI_DATABASE_URL is set) the test database itself. Where to stop is decided by a launcher
that wraps ingestion inside the server process and then waits to be killed, so production code
carries no test hook.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from zhili.delivery.testing import ndjson, parcel

ROOT = Path(__file__).resolve().parents[3]
ROWS = 2000
LAUNCHER = r"""
import os, pathlib, sys, time

import django

django.setup()
from zhili.delivery import ingest

point, marker = os.environ.get("KILL_POINT", ""), pathlib.Path(os.environ["KILL_MARKER"])


def hold(note):
    marker.write_text(note)
    time.sleep(600)  # until killed


if point == "write":  # the batch's records and rollups are written, not yet committed
    real_write = ingest.write

    def write(kind, rows):
        written = real_write(kind, rows)
        hold(f"written {written.created}")
        return written

    ingest.write = write
elif point == "answer":  # committed, the answer not yet sent
    real_receive = ingest.receive

    def receive(**kwargs):
        result = real_receive(**kwargs)
        hold("committed")
        return result

    ingest.receive = receive

from django.core.management import call_command

call_command("runserver", sys.argv[1], use_reloader=False, skip_checks=True)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base: str
    marker: Path
    log: Path

    def fail(self, why: str):
        pytest.fail(f"{why}; server log:\n{self.log.read_text(errors='replace')[-3000:]}")

    def wait_ready(self, seconds: float = 30):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.fail("the server exited")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        self.fail("the server did not start")

    def wait_marker(self, seconds: float = 30) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.marker.exists() and self.marker.read_text():
                return self.marker.read_text()
            if self.process.poll() is not None:
                self.fail("the server exited before the kill point")
            time.sleep(0.02)
        self.fail("the server never reached the kill point")

    def kill(self):
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(10)


@pytest.fixture
def servers(live_db, tmp_path):
    """start(database_url, kill_point="") → a running Server; all are killed at the end."""
    started: list[Server] = []

    def start(database_url: str, kill_point: str = "") -> Server:
        n = len(started)
        log = tmp_path / f"server-{n}.log"
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "zhili.config.settings_test",
               "ZHILI_DATABASE_URL": database_url, "KILL_POINT": kill_point,
               "KILL_MARKER": str(tmp_path / f"marker-{n}"), "PYTHONUNBUFFERED": "1"}
        port = free_port()
        with open(log, "wb") as out:
            process = subprocess.Popen([sys.executable, "-c", LAUNCHER, f"127.0.0.1:{port}"],
                                       cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        server = Server(process, f"http://127.0.0.1:{port}", tmp_path / f"marker-{n}", log)
        started.append(server)
        server.wait_ready()
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.kill()


@pytest.fixture
def setup(sector, tmp_path):
    """The sector and its company's API key, committed, and the database URL the servers use."""
    from zhili.accounts.services import create_api_key

    _key, raw = create_api_key(actor=sector.world.personas["superuser"].user,
                               org=sector.world.courier, name="顺丰系统")
    if connection.vendor == "sqlite":
        path = tmp_path / "server.sqlite3"
        connection.ensure_connection()
        copy = sqlite3.connect(path)
        connection.connection.backup(copy)
        copy.close()
        url = f"sqlite:///{path}"
    else:
        db = connection.settings_dict
        netloc = quote(db["USER"] or "")
        if db["PASSWORD"]:
            netloc += ":" + quote(db["PASSWORD"])
        netloc += "@" + (db["HOST"] or "localhost") + (f":{db['PORT']}" if db["PORT"] else "")
        url = f"postgres://{netloc}/{db['NAME']}"
    return sector, raw, url


def counts(url: str) -> dict:
    sql = {"records": "SELECT count(*) FROM delivery_shipment",
           "parcels": "SELECT coalesce(sum(parcels), 0) FROM delivery_outletday",
           "batches": "SELECT count(*) FROM delivery_ingestbatch",
           "created": "SELECT coalesce(sum(created), 0) FROM delivery_ingestbatch"}
    if url.startswith("sqlite:"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
            return {name: db.execute(query).fetchone()[0] for name, query in sql.items()}
    with connection.cursor() as cursor:
        out = {}
        for name, query in sql.items():
            cursor.execute(query)
            out[name] = int(cursor.fetchone()[0])
        return out


def send(server: Server, key: str, body: bytes, idem: str):
    """(status, headers, answer); raises OSError when the connection breaks."""
    request = urllib.request.Request(
        f"{server.base}/api/v1/delivery/feeds/shipments", data=body, method="POST",
        headers={"X-API-Key": key, "Idempotency-Key": idem,
                 "Content-Type": "application/x-ndjson"})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, dict(answer.headers), json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), json.loads(exc.read() or b"{}")


def killed_while_sending(server: Server, key: str, body: bytes, idem: str) -> str:
    """Send in the background, SIGKILL the server at its kill point; the client must see the
    connection break (no answer). Returns what the server reached."""
    outcome: dict = {}

    def client():
        try:
            outcome["answer"] = send(server, key, body, idem)
        except OSError as exc:  # reset, refused, remote end closed
            outcome["error"] = exc

    thread = threading.Thread(target=client)
    thread.start()
    reached = server.wait_marker()
    server.kill()
    thread.join(30)
    assert "error" in outcome and "answer" not in outcome, outcome
    return reached


def batch_body() -> bytes:
    return ndjson([parcel(f"SF{n:010d}") for n in range(ROWS)])


def test_killed_in_the_middle_of_a_batch(setup, servers):
    sector, key, url = setup
    body = batch_body()
    reached = killed_while_sending(servers(url, "write"), key, body, "batch-1")
    assert reached == f"written {ROWS}"  # everything was written, nothing committed
    assert counts(url) == {"records": 0, "parcels": 0, "batches": 0, "created": 0}

    retry = servers(url)
    status, headers, answer = send(retry, key, body, "batch-1")
    assert status == 200, answer
    assert not answer["replayed"] and "Replayed" not in headers
    assert (answer["submitted"], answer["created"], answer["duplicates"]) == (ROWS, ROWS, 0)
    assert counts(url) == {"records": ROWS, "parcels": ROWS, "batches": 1, "created": ROWS}
    # The client never saw that answer either and retries once more: a replay.
    status, headers, answer = send(retry, key, body, "batch-1")
    assert status == 200 and answer["replayed"] and headers.get("Replayed") == "true"
    assert counts(url) == {"records": ROWS, "parcels": ROWS, "batches": 1, "created": ROWS}


def test_killed_after_the_commit_before_the_answer(setup, servers):
    sector, key, url = setup
    body = batch_body()
    assert killed_while_sending(servers(url, "answer"), key, body, "batch-1") == "committed"
    assert counts(url) == {"records": ROWS, "parcels": ROWS, "batches": 1, "created": ROWS}

    retry = servers(url)
    status, headers, answer = send(retry, key, body, "batch-1")
    assert status == 200 and answer["replayed"] and headers.get("Replayed") == "true"
    assert (answer["submitted"], answer["created"], answer["accepted"]) == (ROWS, ROWS, ROWS)
    # A client that also lost its key sends the batch under a new one: all duplicates.
    status, _headers, answer = send(retry, key, body, "batch-1-again")
    assert status == 200 and not answer["replayed"]
    assert (answer["created"], answer["duplicates"], answer["rejected"]) == (0, ROWS, 0)
    # Other content under the used key is refused, not merged.
    status, _headers, answer = send(retry, key, ndjson([parcel("SF9999999999")]), "batch-1")
    assert status == 409
    assert counts(url) == {"records": ROWS, "parcels": ROWS, "batches": 2, "created": ROWS}
