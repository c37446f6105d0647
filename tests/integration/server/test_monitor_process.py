"""`infradex monitor` as a real process: runs a local catalog's checks into SQLite, takes up a
new check on SIGHUP without a restart, records each SIGHUP reload (accepted or refused) like a
server's, and stops cleanly on SIGTERM with its rows written."""

from __future__ import annotations

import http.server
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def target() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def catalog_text(target: str, names: list[str]) -> str:
    checks = "".join(
        f'    - {{name: {n}, url: "{target}/{n}", interval: 1s, timeout: 500ms}}\n' for n in names
    )
    head = "apiVersion: infradex/v1\nkind: Service\nmetadata: {name: web}\nspec:\n  checks:\n"
    return head + checks


def counts(database: Path) -> dict[str, int]:
    if not database.exists():
        return {}
    with sqlite3.connect(database) as connection:
        try:
            rows = connection.execute(
                "SELECT check_id, count(*) FROM check_results GROUP BY check_id"
            ).fetchall()
        except sqlite3.OperationalError:  # not migrated yet
            return {}
    return dict(rows)


def wait_for(condition, seconds: float = 15.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError("condition not met in time")


def loads(database: Path) -> list[tuple[str, bool, str]]:
    """Every recorded catalog load: its trigger, whether it was accepted, its diff."""
    with sqlite3.connect(database) as connection:
        rows = connection.execute(
            "SELECT trigger, accepted, diff FROM catalog_loads ORDER BY id"
        ).fetchall()
    return [(trigger, bool(accepted), diff) for trigger, accepted, diff in rows]


def test_monitor_process_reloads_on_sighup_and_stops_on_sigterm(
    tmp_path: Path, target: str
) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "web.yaml").write_text(catalog_text(target, ["a"]))
    database = tmp_path / "monitor.db"
    env = {
        **os.environ,
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(tmp_path / "data"),
        "INFRADEX_DATABASE_URL": f"sqlite:///{database}",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infradex", "monitor"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(lambda: counts(database).get("service:web/a", 0) >= 2)
        (catalog / "web.yaml").write_text(catalog_text(target, ["a", "b"]))
        process.send_signal(signal.SIGHUP)
        wait_for(lambda: counts(database).get("service:web/b", 0) >= 2)
        (catalog / "broken.yaml").write_text("kind: Nonsense\n")
        process.send_signal(signal.SIGHUP)  # refused: the process keeps its good catalog
        wait_for(lambda: len(loads(database)) == 3)
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, output.decode()
    assert b"monitoring 1 checks" in output
    with sqlite3.connect(database) as connection:
        states = dict(connection.execute("SELECT check_id, state FROM check_states").fetchall())
    assert states == {"service:web/a": "up", "service:web/b": "up"}
    recorded = loads(database)
    assert [(trigger, accepted) for trigger, accepted, _ in recorded] == [
        ("start", True),
        ("signal", True),
        ("signal", False),
    ]
    assert '"changed": ["service:web"]' in recorded[1][2]
