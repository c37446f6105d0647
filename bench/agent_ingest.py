"""Agent ingest: what the server pays to take in results from probe agents.

    .venv/bin/python bench/agent_ingest.py [--checks 33334] [--duration 120]

Issue 16's load: three agents (ams1, nyc1, sfo1), each running the same ~33,000 checks every
60 s, so the server receives ~100,000 results a minute. Everything runs on 127.0.0.1, as
children of this script, and stops at the end:

* **infradex**: ``infradex serve`` (monitor and alerting on, as a real server; its own
  monitor leaves checks with ``locations`` to the agents) on SQLite or PostgreSQL, with a
  catalog of ``--checks`` checks, each with ``locations: [ams1, nyc1, sfo1]`` and
  ``quorum: 2``. Three sender threads in this script stand for the agents: each posts its
  location's results in batches of 500 (``POST /api/agent/results``, as ``infradex agent``
  does), spread evenly over each minute. The state (``check_states``, ``location_states``)
  is written in the request's transaction, so a batch's answer time bounds the
  result-to-state latency.
* **peer: Prometheus** (Debian), the usual way to collect probe results: three exporters
  (HTTP servers in this script) each expose the same ``--checks`` series
  (``probe_success`` and ``probe_duration_seconds``, labels ``check`` and ``location``),
  scraped every 60 s, staggered, so it ingests twice as many samples a minute as infradex
  gets results.

Measured over ``--duration`` seconds after a warm-up minute: the server's CPU (user + system
from ``/proc/<pid>/stat``, in cores), its RSS, each batch's answer time (p50, p99) and the
results stored; for Prometheus its CPU and RSS over the same span. Results: a table on stdout
and JSON (``--out``).
"""

from __future__ import annotations

import argparse
import http.server
import json
import os
import platform
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

LOCATIONS = ("ams1", "nyc1", "sfo1")
BATCH = 500
PER_SERVICE = 10  # checks per service
POSTGRES = os.environ.get("INFRADEX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
TICKS = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_catalog(root: Path, checks: int) -> list[str]:
    """A provider, its data centers, and services of ``PER_SERVICE`` checks; returns the ids."""
    root.mkdir(parents=True)
    docs = [
        "apiVersion: infradex/v1\nkind: Provider\nmetadata: {name: cloud}\nspec: {type: iaas}\n"
    ]
    docs += [
        f"apiVersion: infradex/v1\nkind: Datacenter\nmetadata: {{name: {dc}}}\n"
        "spec: {provider: cloud}\n"
        for dc in LOCATIONS
    ]
    ids: list[str] = []
    services = (checks + PER_SERVICE - 1) // PER_SERVICE
    for s in range(services):
        lines = [
            "apiVersion: infradex/v1",
            "kind: Service",
            f"metadata: {{name: svc{s}}}",
            "spec:",
            "  checks:",
        ]
        for c in range(min(PER_SERVICE, checks - s * PER_SERVICE)):
            lines.append(
                f'    - {{name: c{c}, url: "http://127.0.0.1:9/{s}/{c}", interval: 60s, '
                "locations: [ams1, nyc1, sfo1], quorum: 2}"
            )
            ids.append(f"service:svc{s}/c{c}")
        docs.append("\n".join(lines) + "\n")
    (root / "catalog.yaml").write_text("---\n".join(docs))
    return ids


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def wait_ready(port: int, process: subprocess.Popen[bytes], seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                if json.load(r)["status"] == "ready":
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not become ready")


class Sender(threading.Thread):
    """One agent: its location's results, ``BATCH`` at a time, evenly over each minute."""

    def __init__(self, base: str, token: str, location: str, ids: list[str], stop_at: float):
        super().__init__(daemon=True)
        self.base, self.token, self.location, self.ids = base, token, location, ids
        self.stop_at = stop_at
        self.latencies: list[tuple[float, float]] = []  # (sent at, seconds)
        self.stored = 0
        self.refused = 0
        self.errors: list[str] = []

    def run(self) -> None:
        batches = [self.ids[i : i + BATCH] for i in range(0, len(self.ids), BATCH)]
        gap = 60.0 / len(batches)
        due = time.monotonic()
        n = 0
        while time.monotonic() < self.stop_at:
            ids = batches[n % len(batches)]
            n += 1
            now = datetime.now(UTC).isoformat()
            body = json.dumps(
                {
                    "location": self.location,
                    "dropped": 0,
                    "results": [
                        {
                            "check_id": check,
                            "observed_at": now,
                            "success": True,
                            "duration_ms": 12.5,
                            "message": "200 OK",
                            "observed": {"values": {"STATUS": 200}},
                        }
                        for check in ids
                    ],
                }
            ).encode()
            request = urllib.request.Request(
                f"{self.base}/api/agent/results",
                data=body,
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Content-Type": "application/json",
                },
            )
            sent = time.monotonic()
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    answer = json.load(response)
                self.latencies.append((sent, time.monotonic() - sent))
                self.stored += answer["stored"]
                self.refused += len(answer["refused"])
            except (OSError, urllib.error.HTTPError) as exc:
                self.errors.append(str(exc))
            due += gap
            time.sleep(max(0.0, due - time.monotonic()))


def create_token(env: dict[str, str], location: str) -> str:
    out = subprocess.run(
        [sys.executable, "-m", "infradex", "token", "create", "--name", f"agent-{location}",
         "--scope", "agent", "--location", location],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return out.stdout.strip().splitlines()[-1]


def run_infradex(
    store: str, work: Path, ids: list[str], catalog: Path, args: Any
) -> dict[str, Any]:
    env = {
        **os.environ,
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(work / f"data-{store}"),
        "INFRADEX_DATABASE_URL": "",
        "INFRADEX_MONITOR": "true",
        "INFRADEX_LOG_LEVEL": "WARNING",
    }
    pg_name = None
    admin = None
    if store == "postgresql":
        pg_name = f"{make_url(POSTGRES).database}_ingest_{secrets.token_hex(4)}"
        admin = create_engine(
            make_url(POSTGRES).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
        )
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{pg_name}"'))
        env["INFRADEX_DATABASE_URL"] = (
            make_url(POSTGRES).set(database=pg_name).render_as_string(hide_password=False)
        )
    tokens = {location: create_token(env, location) for location in LOCATIONS}
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "infradex", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_ready(port, server)
        start = time.monotonic()
        measure_from = start + args.warmup
        stop_at = measure_from + args.duration
        senders = [
            Sender(f"http://127.0.0.1:{port}", tokens[loc], loc, ids, stop_at) for loc in LOCATIONS
        ]
        for sender in senders:
            sender.start()
        time.sleep(max(0.0, measure_from - time.monotonic()))
        cpu_before = cpu_seconds(server.pid)
        wall_before = time.monotonic()
        for sender in senders:
            sender.join()
        cpu = cpu_seconds(server.pid) - cpu_before
        wall = time.monotonic() - wall_before
        rss = rss_mb(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()
        if admin is not None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
            admin.dispose()
    latencies = sorted(s for sender in senders for at, s in sender.latencies if at >= measure_from)
    results = sum(BATCH for sender in senders for at, _ in sender.latencies if at >= measure_from)
    return {
        "store": store,
        "cores": cpu / wall,
        "rss_mb": rss,
        "results_per_minute": results / wall * 60,
        "batch_p50_s": statistics.median(latencies) if latencies else None,
        "batch_p99_s": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        if latencies
        else None,
        "stored": sum(s.stored for s in senders),
        "refused": sum(s.refused for s in senders),
        "errors": [e for s in senders for e in s.errors][:5],
    }


class Exporter(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args: object) -> None:
        pass


def run_prometheus(work: Path, ids: list[str], args: Any) -> dict[str, Any]:
    if not Path(PROMETHEUS).exists():
        raise SystemExit("the peer needs Prometheus: apt-get install prometheus")
    servers = []
    for location in LOCATIONS:
        lines = [
            "# TYPE probe_success gauge",
            *(f'probe_success{{check="{c}",location="{location}"}} 1' for c in ids),
            "# TYPE probe_duration_seconds gauge",
            *(f'probe_duration_seconds{{check="{c}",location="{location}"}} 0.0125' for c in ids),
        ]
        handler = type(f"Exporter_{location}", (Exporter,), {"body": "\n".join(lines).encode()})
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
    config = work / "prometheus.yml"
    config.write_text(
        "global: {scrape_interval: 60s, scrape_timeout: 30s}\n"
        "scrape_configs:\n"
        + "".join(
            f"  - job_name: agent-{loc}\n"
            f"    static_configs: [{{targets: ['127.0.0.1:{s.server_address[1]}']}}]\n"
            for loc, s in zip(LOCATIONS, servers, strict=True)
        )
    )
    port = free_port()
    prometheus = subprocess.Popen(
        [PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={work / 'tsdb'}",
         f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(args.warmup)
        cpu_before, wall_before = cpu_seconds(prometheus.pid), time.monotonic()
        time.sleep(args.duration)
        cpu = cpu_seconds(prometheus.pid) - cpu_before
        wall = time.monotonic() - wall_before
        rss = rss_mb(prometheus.pid)
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v1/query?query=count(probe_success)", timeout=10
        ) as r:
            series = json.load(r)["data"]["result"]
    finally:
        prometheus.terminate()
        prometheus.wait(30)
        for server in servers:
            server.shutdown()
    return {
        "store": "prometheus tsdb",
        "cores": cpu / wall,
        "rss_mb": rss,
        "samples_per_minute": 2 * len(ids) * len(LOCATIONS),
        "series_seen": int(series[0]["value"][1]) if series else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=33_334)
    parser.add_argument("--duration", type=float, default=120.0)
    parser.add_argument("--warmup", type=float, default=60.0)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--no-peer", action="store_true")
    parser.add_argument("--out", type=Path, default=Path("bench/results/agent_ingest.json"))
    args = parser.parse_args()
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="infradex-ingest-") as tmp:
        work = Path(tmp)
        ids = write_catalog(work / "catalog", args.checks)
        for store in args.stores.split(","):
            print(
                f"infradex on {store}: {len(ids)} checks x {len(LOCATIONS)} agents ...", flush=True
            )
            runs.append(run_infradex(store, work, ids, work / "catalog", args))
            print(json.dumps(runs[-1]), flush=True)
        if not args.no_peer:
            print("peer: Prometheus ...", flush=True)
            runs.append(run_prometheus(work, ids, args))
            print(json.dumps(runs[-1]), flush=True)
    print(f"\n{'side':26} {'per minute':>12} {'cores':>7} {'RSS MB':>8} {'p50 s':>7} {'p99 s':>7}")
    for run in runs:
        per_minute = run.get("results_per_minute") or run.get("samples_per_minute")
        p50, p99 = (
            "-" if run.get(key) is None else f"{run[key]:.3f}"
            for key in ("batch_p50_s", "batch_p99_s")
        )
        side = f"infradex {run['store']}" if "stored" in run else "peer: Prometheus"
        print(
            f"{side:26} {per_minute:12,.0f} {run['cores']:7.3f} {run['rss_mb']:8.0f} "
            f"{p50:>7} {p99:>7}"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(
        json.dumps(
            {
                "machine": platform.platform(),
                "checks": len(ids),
                "duration": args.duration,
                "runs": runs,
            },
            indent=2,
        )
    )
    print(f"\nJSON: {args.out}")


if __name__ == "__main__":
    main()
