"""Failover: from losing the leading server to the escalation step the new leader sends.

    .venv/bin/python bench/failover.py [--rounds 20] [--lease 3s] [--restart-after 1]

Everything runs on 127.0.0.1, as children of this script, and stops at the end. Each round,
for each side (interleaved, so machine load hits both alike):

* a local HTTP target that always answers 503, an SMTP server (aiosmtpd, in this process)
  recording when each message arrives, and a catalog of one service checked every second
  (failureThreshold 2) with a two-step escalation policy: step 1 at once, step 2 after
  ``STEP_2_AFTER`` seconds;
* **infradex HA**: two ``infradex serve`` processes on one fresh PostgreSQL database
  (``INFRADEX_LEADER_LEASE``); after step 1 arrives, the leader (read from the ``leases``
  table) is killed with SIGKILL ``KILL_BEFORE`` seconds before step 2 is due;
* **peer: one server restarted**: what an organisation without a second server has: one
  ``infradex serve`` on SQLite, killed at the same moment and started again
  ``--restart-after`` seconds later (a service manager's restart delay; systemd's default
  ``RestartSec`` is 100 ms, 1 s is common).

Measured: **late** = when step 2 arrived − when it was due (the open incident's
``escalation_at`` in the store, read after step 1 arrives; the leader is killed
``KILL_BEFORE`` before that, so it cannot have queued step 2). Without a failure it is about
one alerter turn. Also: how many messages arrived in all (must be exactly 2: nothing sent
twice).

Results: a table on stdout and JSON (``--out``).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import platform
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

STEP_2_AFTER = 12.0  # seconds
KILL_BEFORE = 0.5  # seconds before step 2 is due (as the store has it): not yet queued
POSTGRES = os.environ.get("INFRADEX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")

CATALOG = """\
apiVersion: infradex/v1
kind: Person
metadata: {{name: sam}}
spec: {{email: sam@example.org, staff: true}}
---
apiVersion: infradex/v1
kind: Person
metadata: {{name: val}}
spec: {{email: val@example.org}}
---
apiVersion: infradex/v1
kind: Schedule
metadata: {{name: staff}}
spec:
  layers: [{{name: l, members: [person:sam], start: "2024-01-01"}}]
---
apiVersion: infradex/v1
kind: Schedule
metadata: {{name: volunteers}}
spec:
  layers: [{{name: l, members: [person:val], start: "2024-01-01"}}]
---
apiVersion: infradex/v1
kind: EscalationPolicy
metadata: {{name: p}}
spec:
  default: true
  steps:
    - {{after: 0s, notify: [schedule:staff]}}
    - {{after: {after}s, notify: [schedule:volunteers]}}
---
apiVersion: infradex/v1
kind: Service
metadata: {{name: solo}}
spec:
  checks:
    - {{name: home, url: "{url}", interval: 1s, timeout: 500ms, failureThreshold: 2}}
"""


class Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class Inbox:
    def __init__(self) -> None:
        self.arrivals: list[tuple[float, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.arrivals.append((time.monotonic(), envelope.rcpt_tos[0]))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.02)
    raise RuntimeError(f"waited {seconds} s for {what}")


def serve(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "infradex", "serve", "--port", str(free_port())],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


class PgDatabase:
    """A fresh PostgreSQL database for one round."""

    def __init__(self) -> None:
        self.name = f"{make_url(POSTGRES).database}_failover_{secrets.token_hex(4)}"
        self.admin = create_engine(
            make_url(POSTGRES).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        with self.admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))
        self.url = make_url(POSTGRES).set(database=self.name).render_as_string(hide_password=False)

    def leader_pid(self) -> int | None:
        engine = create_engine(make_url(self.url).set(drivername="postgresql+psycopg"))
        try:
            with engine.connect() as connection:
                row = connection.execute(
                    text("SELECT holder FROM leases WHERE name = 'alerter' AND expires_at > now()")
                ).first()
        finally:
            engine.dispose()
        return None if row is None else int(str(row[0]).split(":")[1])

    def drop(self) -> None:
        with self.admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self.admin.dispose()


def one_round(
    side: str, work: Path, target: str, lease: str, restart_after: float
) -> dict[str, Any]:
    inbox, smtp_port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    catalog = work / "catalog"
    catalog.mkdir(parents=True)
    (catalog / "org.yaml").write_text(CATALOG.format(url=target, after=int(STEP_2_AFTER)))
    env = {
        **os.environ,
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(work / "data"),
        "INFRADEX_DATABASE_URL": "",
        "INFRADEX_MONITOR": "true",
        "INFRADEX_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "INFRADEX_MAIL_FROM": "infradex@example.org",
        "INFRADEX_LEADER_LEASE": lease,
    }
    database = PgDatabase() if side == "ha" else None
    processes: list[subprocess.Popen[bytes]] = []
    try:
        if database is not None:
            env["INFRADEX_DATABASE_URL"] = database.url
            processes.append(serve(env))
            time.sleep(3)  # the first migrates the store
            processes.append(serve(env))
        else:
            processes.append(serve(env))
        wait_for(lambda: len(inbox.arrivals) >= 1, 60, "step 1")
        due = due_in_monotonic(env["INFRADEX_DATABASE_URL"] or sqlite_url(work / "data"))
        time.sleep(max(0.0, due - KILL_BEFORE - time.monotonic()))
        if database is not None:
            pid = database.leader_pid()
            victim = next(p for p in processes if p.pid == pid)
        else:
            victim = processes[0]
        killed_at = time.monotonic()
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        if database is None:
            time.sleep(restart_after)
            processes.append(serve(env))
        wait_for(lambda: len(inbox.arrivals) >= 2, STEP_2_AFTER + 60, "step 2")
        time.sleep(3)  # a message sent twice would arrive now
        return {
            "side": side,
            "late": inbox.arrivals[1][0] - due,
            "after_kill": inbox.arrivals[1][0] - killed_at,
            "messages": len(inbox.arrivals),
        }
    finally:
        stop(*processes)
        controller.stop()
        if database is not None:
            database.drop()


def sqlite_url(data_dir: Path) -> str:
    (store,) = data_dir.glob("*.db")
    return f"sqlite:///{store}"


def due_in_monotonic(url: str) -> float:
    """When step 2 is due, as the store says (the incident's ``escalation_at``), on this
    process's monotonic clock."""
    engine = create_engine(
        make_url(url).set(drivername="postgresql+psycopg") if url.startswith("postgres") else url
    )
    try:
        for _ in range(100):
            with engine.connect() as connection:
                at = connection.execute(
                    text("SELECT escalation_at FROM incidents WHERE status = 'open'")
                ).scalar()
            if at is not None:
                break
            time.sleep(0.05)
        else:
            raise RuntimeError("no open incident with a next step in the store")
    finally:
        engine.dispose()
    if isinstance(at, str):  # SQLite keeps ISO text
        at = datetime.fromisoformat(at)
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return time.monotonic() + (at - datetime.now(UTC)).total_seconds()


def summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": statistics.median(ordered),
        "p90": ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))],
        "min": ordered[0],
        "max": ordered[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--lease", default="3s", help="INFRADEX_LEADER_LEASE for the HA side")
    parser.add_argument("--restart-after", type=float, default=1.0)
    parser.add_argument("--out", type=Path, default=Path("bench/results/failover.json"))
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    target = f"http://127.0.0.1:{server.server_address[1]}/"
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="infradex-failover-") as tmp:
        for n in range(args.rounds):
            for side in ("ha", "restart"):
                result = one_round(
                    side, Path(tmp) / f"{side}-{n}", target, args.lease, args.restart_after
                )
                runs.append(result)
                print(
                    f"round {n + 1}/{args.rounds} {side:8} late {result['late']:6.2f} s, "
                    f"{result['messages']} messages",
                    flush=True,
                )
    server.shutdown()
    report: dict[str, Any] = {
        "machine": platform.platform(),
        "python": platform.python_version(),
        "rounds": args.rounds,
        "lease": args.lease,
        "restart_after": args.restart_after,
        "step_2_after": STEP_2_AFTER,
        "kill_before": KILL_BEFORE,
        "runs": runs,
    }
    print(f"\n{'side':28} {'median':>8} {'p90':>8} {'min':>8} {'max':>8}  messages")
    for side, label in (
        ("ha", "infradex, 2 servers (PG)"),
        ("restart", "peer: 1 server restarted"),
    ):
        lates = [r["late"] for r in runs if r["side"] == side]
        stats = summary(lates)
        report[side] = stats
        counts = sorted({r["messages"] for r in runs if r["side"] == side})
        print(
            f"{label:28} {stats['median']:8.2f} {stats['p90']:8.2f} {stats['min']:8.2f} "
            f"{stats['max']:8.2f}  {counts}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2))
    print(f"\nJSON: {args.out}")


if __name__ == "__main__":
    main()
