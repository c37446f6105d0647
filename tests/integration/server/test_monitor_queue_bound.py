"""The monitor's queue of unwritten rows while the store refuses writes: it stays at its
bound, the oldest rows are dropped and counted in /metrics, the rest are written when the
store is back, and a SIGTERM during an outage keeps trying to write them before exiting.

The store fails for real: ``check_results`` is renamed away (every insert fails, as on a
store that refuses writes) and renamed back (the store is back). Both stores in-process; the
SIGTERM test runs ``infradex monitor`` as a process on SQLite."""

from __future__ import annotations

import http.server
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from infradex.monitor.checks import CheckDef, CheckResult
from infradex.monitor.service import Monitor
from infradex.probes.base import Observation, ProbeRequest
from infradex.store import Database
from infradex.store.db import async_url
from infradex.store.tables import check_results, check_rollups, check_states, state_changes
from infradex.web.monitoring import _ChecksCollector

CHECK = CheckDef(
    id="service:queue/home",
    owner="service:queue",
    name="home",
    request=ProbeRequest("http://127.0.0.1:9/", timeout=5),
    interval=60,
    conditions=(),
    failure_threshold=3,
    success_threshold=2,
)
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[Database]:
    """A store whose tables the test can take away from another connection; this test's rows
    are deleted afterwards."""
    db = Database(database_url)
    await db.upgrade()
    yield db
    await db.close()
    engine = create_async_engine(async_url(database_url))
    async with engine.begin() as connection:
        for table in (check_results, check_states, state_changes, check_rollups):
            await connection.execute(delete(table).where(table.c.check_id == CHECK.id))
    await engine.dispose()


async def _rename(db: Database, old: str, new: str) -> None:
    async with db.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def _written(db: Database) -> list[datetime]:
    async with db.begin() as connection:
        rows = await connection.execute(
            select(check_results.c.started_at)
            .where(check_results.c.check_id == CHECK.id)
            .order_by(check_results.c.started_at)
        )
        return [r.started_at.replace(tzinfo=UTC) for r in rows]


def _metrics(monitor: Monitor) -> dict[str, float]:
    registry = CollectorRegistry()
    registry.register(_ChecksCollector([CHECK], monitor.states, monitor.stats()))
    found = {}
    for line in generate_latest(registry).decode().splitlines():
        if line.startswith("infradex_monitor_"):
            name, value = line.split(" ")
            found[name] = float(value)
    return found


async def test_the_queue_stays_at_its_bound_and_is_written_when_the_store_is_back(
    store: Database,
) -> None:
    monitor = Monitor(store, queue_max=5)
    await _rename(store, "check_results", "away")
    try:
        for minute in range(12):
            monitor.record(
                CHECK, CheckResult(CHECK.id, Observation()), T0 + timedelta(minutes=minute)
            )
            await monitor.flush()  # refused: the rows stay queued
            assert monitor.stats().queued <= 5 + 1  # results, and the one state change
    finally:
        await _rename(store, "away", "check_results")
    assert monitor.write_errors == 12
    assert monitor.dropped == 7
    metrics = _metrics(monitor)
    assert metrics["infradex_monitor_dropped_rows_total"] == 7.0
    assert metrics["infradex_monitor_queued_rows"] == 6.0
    await monitor.flush()  # the store is back
    # the newest five are written; the state came through whole
    assert await _written(store) == [T0 + timedelta(minutes=m) for m in range(7, 12)]
    assert monitor.stats().queued == 0
    async with store.begin() as connection:
        total = (
            await connection.execute(
                select(check_rollups.c.up).where(
                    check_rollups.c.check_id == CHECK.id, check_rollups.c.period == "hour"
                )
            )
        ).all()
    assert sum(r.up for r in total) == 12  # the rollups counted every result, dropped or not


class Counting(http.server.BaseHTTPRequestHandler):
    requests = 0

    def do_GET(self) -> None:
        type(self).requests += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def counting_target() -> Iterator[str]:
    Counting.requests = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Counting)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def _rows(database: Path) -> int:
    with sqlite3.connect(database, timeout=10) as connection:
        try:
            return int(connection.execute("SELECT count(*) FROM check_results").fetchone()[0])
        except sqlite3.OperationalError:  # not migrated yet, or renamed away
            return 0


def test_sigterm_during_an_outage_writes_the_queue_once_the_store_is_back(
    tmp_path: Path, counting_target: str
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "web.yaml").write_text(
        "apiVersion: infradex/v1\nkind: Service\nmetadata: {name: web}\nspec:\n  checks:\n"
        f'    - {{name: a, url: "{counting_target}/a", interval: 1s, timeout: 500ms}}\n'
    )
    database = tmp_path / "monitor.db"
    env = {
        **os.environ,
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(tmp_path / "data"),
        "INFRADEX_DATABASE_URL": f"sqlite:///{database}",
        "INFRADEX_ALERTING": "false",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infradex", "monitor"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while _rows(database) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        with sqlite3.connect(database, timeout=10) as connection:
            connection.execute("ALTER TABLE check_results RENAME TO away")
        time.sleep(3.5)  # about three results queued, each flush refused
        process.send_signal(signal.SIGTERM)
        time.sleep(1.0)  # the store comes back while the monitor is stopping
        with sqlite3.connect(database, timeout=10) as connection:
            connection.execute("ALTER TABLE away RENAME TO check_results")
        output, _ = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output.decode()
    # every check run the target saw is a row (a run cut short by the stop may be missing)
    assert _rows(database) >= Counting.requests - 1, (_rows(database), Counting.requests)
