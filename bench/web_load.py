"""Web load: throughput and latency of `infradex serve` on a 10,000-entity catalog.

    .venv/bin/python bench/web_load.py [--entities 10000] [--duration 10]

For the console pages at 10,000 checks (one check per service, ~52 % of the entities):
``--entities 19500``.

A synthetic catalog (``bench/synthetic_catalog.py``, fixed seed) is served by a real
``infradex serve`` process, once on SQLite and once on PostgreSQL. ``wrk`` (Debian) loads, one
at a time: the home page, a service page, the entity list API (50 services a page), the search
API and the search page. Each URL gets one warm-up request first (pages are rendered once per
loaded catalog, then cached). The console pages are loaded too: the home (status strip,
services with their health) and ``/board`` (every check, worst first, 500 a page). Before the
server starts, every check gets a stored state and 24 hourly rollups, as a separate
``infradex monitor`` would have written them (2 % down, 2 % flapping, 1 % in maintenance), so
those pages work on real states and uptimes.

The peer, in the same run: nginx (Debian) serving the same service page pre-built by
``infradex docs build`` as a static file, the fastest way to deliver that page on this machine.
The ratio says what the live server costs over a static site.

Results: a table on stdout and ``bench/results/web_load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from infradex.catalog import load
from infradex.monitor.reads import catalog_check_ids
from infradex.monitor.rollups import bucket_start
from infradex.runtime.heap import WARM_UP
from infradex.store import Database
from infradex.store.tables import check_rollups, check_states
from synthetic_catalog import write_catalog

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
POSTGRES = os.environ.get("INFRADEX_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
BENCH_DB = os.environ.get("INFRADEX_BENCH_DB", "infradex_bench")  # one per concurrent run

#: wrk prints one JSON line with the numbers we need (it has no p95 of its own)
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format(
    '{"requests": %d, "errors": %d, "seconds": %f, "p50_ms": %f, "p95_ms": %f, "p99_ms": %f}\\n',
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, latency:percentile(50) / 1e3, latency:percentile(95) / 1e3,
    latency:percentile(99) / 1e3))
end
"""

TARGETS = [
    ("home page", "/"),
    ("board", "/board"),
    ("board, down only", "/board?state=down"),
    ("service page", "/services/svc-00010"),
    ("entity list API", "/api/v1/entities?kind=service&limit=50&offset=2000"),
    ("search API", "/api/v1/search?q=svc-0001"),
    ("search page", "/search?q=svc-0001"),
]


def seed_monitor_rows(catalog: Path, database_url: str) -> int:
    """A stored state for every check and 24 hourly rollups each (deterministic); returns
    the number of checks."""
    loaded = load(catalog)
    assert loaded.catalog is not None, loaded.errors[:3]
    ids = catalog_check_ids(loaded.catalog)
    chance = random.Random(1)
    now = datetime.now(UTC)
    hour = bucket_start(now, "hour")
    states, rollups = [], []
    for check_id in ids:
        draw = chance.random()
        shown = (
            "down" if draw < 0.02 else "flapping" if draw < 0.04 else
            "maintenance" if draw < 0.05 else "up"
        )  # fmt: skip
        history = "".join("d" if shown == "down" or chance.random() < 0.03 else "u"
                          for _ in range(21))  # fmt: skip
        states.append({
            "check_id": check_id, "state": shown,
            "hard_state": "down" if shown == "down" else "up",
            "failures": 3 if shown == "down" else 0, "successes": 0,
            "flapping": shown == "flapping",
            "history": history, "since": now - timedelta(minutes=chance.randint(1, 600)),
            "last_result_at": now, "last_status": "up" if shown != "down" else "down",
            "last_message": "200 OK" if shown != "down" else "connection refused",
            "last_duration_ms": chance.uniform(20, 400), "last_observed": None,
        })  # fmt: skip
        for back in range(24):
            down = 60 if shown == "down" else chance.choice((0, 0, 0, 1))
            rollups.append({
                "check_id": check_id, "period": "hour", "bucket": hour - timedelta(hours=back),
                "up": 60 - down, "down": down, "unknown": 0, "maintenance": 0,
                "latency_count": 60, "latency_sum": 60 * 120.0, "latency_min": 40.0,
                "latency_max": 400.0, "latency_p95": 300.0, "latency_histogram": {},
            })  # fmt: skip

    async def write() -> None:
        db = Database(database_url)
        try:
            await db.upgrade()
            async with db.begin() as connection:
                await connection.execute(check_states.insert(), states)
                for start in range(0, len(rollups), 20_000):
                    await connection.execute(
                        check_rollups.insert(), rollups[start : start + 20_000]
                    )
        finally:
            await db.close()

    asyncio.run(write())
    return len(ids)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], seconds: float = 600) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


def settle(pid: int, limit: float = 30.0) -> None:
    """Wait until the server is idle (under 5 % of a core for a second, at most ``limit``
    seconds): what it does once after starting or after a page's first render (the status
    board's first derive, caches filled) belongs to neither URL's steady state."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - before < 0.05:
            return


def wrk(url: str, duration: int, connections: int, script: Path) -> dict[str, Any]:
    command = [
        "wrk",
        "-t1",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        url,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("{"))
    result: dict[str, Any] = json.loads(line)
    result["rps"] = result["requests"] / result["seconds"]
    return result


def cpu_seconds(pid: int) -> float:
    """CPU time (user and system) the process has used so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def psql(sql: str) -> None:
    subprocess.run(["psql", f"{POSTGRES}/postgres", "-qtAc", sql], check=True, capture_output=True)


def fresh_store(store: str, sqlite_file: Path) -> str:
    """The URL of an empty store: the bench database recreated on PostgreSQL, or a file."""
    if store == "postgresql":
        psql(f"DROP DATABASE IF EXISTS {BENCH_DB}")
        psql(f"CREATE DATABASE {BENCH_DB}")
        return f"{POSTGRES}/{BENCH_DB}"
    return f"sqlite:///{sqlite_file}"


def serve(catalog: Path, data: Path, database_url: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(data),
        "INFRADEX_DATABASE_URL": database_url,
        "INFRADEX_MONITOR": "false",  # the synthetic catalog's checks aim at made-up hosts
    }
    process = subprocess.Popen(
        [PYTHON, "-m", "infradex", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/readyz", process)
    return process, url


def nginx(
    site: Path, work: Path, ready_path: str = "/services/svc-00010.html"
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(f"""
daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx.log;
events {{ worker_connections 1024; }}
http {{
  access_log off; sendfile on; client_body_temp_path {work}/body; proxy_temp_path {work}/p;
  fastcgi_temp_path {work}/f; uwsgi_temp_path {work}/u; scgi_temp_path {work}/s;
  types {{ text/html html; text/css css; }}
  server {{ listen 127.0.0.1:{port}; root {site}; }}
}}
""")
    process = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(work)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + ready_path, process, 30)
    return process, url


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entities", type=int, default=10_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per URL")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "web_load.json")
    args = parser.parse_args()
    console = Console()
    for tool in ("wrk", "nginx"):
        if shutil.which(tool) is None:
            console.print(f"{tool} is missing: apt-get install {tool}", style="red")
            return 2
    results: dict[str, Any] = {
        "entities": args.entities,
        "duration_s": args.duration,
        "connections": args.connections,
        "runs": {},
    }
    with tempfile.TemporaryDirectory(prefix="infradex-web-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's workers (user nobody) read the static site from here
        catalog = work / "catalog"
        write_catalog(catalog, args.entities)
        script = work / "report.lua"
        script.write_text(WRK_SCRIPT)
        console.print(f"catalog: {args.entities} entities; building the static peer site")
        subprocess.run(
            [
                PYTHON,
                "-m",
                "infradex",
                "--catalog",
                str(catalog),
                "docs",
                "build",
                str(work / "site"),
            ],
            check=True,
            capture_output=True,
        )
        peer, peer_url = nginx(work / "site", work)
        try:
            results["runs"]["nginx (static)"] = {
                "service page": wrk(
                    peer_url + "/services/svc-00010.html", args.duration, args.connections, script
                )
            }
        finally:
            peer.terminate()
            peer.wait()
        for store in args.stores.split(","):
            database_url = fresh_store(store, work / "bench.db")
            checks = seed_monitor_rows(catalog, database_url)
            results["checks"] = checks
            console.print(f"infradex serve on {store} ({checks} checks with stored states)")
            process, url = serve(catalog, work / f"data-{store}", database_url)
            # the steady state: the server freezes what its parts derived from the catalog
            # WARM_UP seconds after loading it (runtime/heap.py); before that, full garbage
            # collections pause it for 100-300 ms every few seconds at this size
            time.sleep(WARM_UP + 5)
            try:
                run: dict[str, Any] = {}
                for label, path in TARGETS:
                    started = time.perf_counter()
                    with urllib.request.urlopen(url + path, timeout=600) as response:
                        size = len(response.read())
                    first = time.perf_counter() - started
                    settle(process.pid)
                    used = cpu_seconds(process.pid)
                    run[label] = wrk(url + path, args.duration, args.connections, script)
                    # the server's own CPU per request: what the machine's other load cannot
                    # inflate (latency under 8 connections is mostly queueing for it)
                    used = cpu_seconds(process.pid) - used
                    run[label]["cpu_ms_per_request"] = used * 1000 / max(1, run[label]["requests"])
                    run[label]["first_request_s"] = first
                    run[label]["bytes"] = size  # the page's weight (uncompressed)
                    console.print(
                        f"  {label}: {run[label]['rps']:.0f} req/s, "
                        f"p95 {run[label]['p95_ms']:.1f} ms, "
                        f"{run[label]['cpu_ms_per_request']:.2f} ms CPU a request, {size} bytes"
                    )
                results["runs"][f"infradex ({store})"] = run
            finally:
                process.terminate()
                process.wait()
            if store == "postgresql":
                psql(f"DROP DATABASE IF EXISTS {BENCH_DB}")
    table = Table(title=f"web load, {args.entities} entities, {args.connections} connections")
    headings = ("server", "URL", "req/s", "p50 ms", "p95 ms", "p99 ms", "CPU ms", "kB", "errors")
    for heading in headings:
        table.add_column(heading, justify="right" if heading not in ("server", "URL") else "left")
    for server, run in results["runs"].items():
        for label, numbers in run.items():
            table.add_row(
                server,
                label,
                f"{numbers['rps']:.0f}",
                f"{numbers['p50_ms']:.1f}",
                f"{numbers['p95_ms']:.1f}",
                f"{numbers['p99_ms']:.1f}",
                f"{numbers['cpu_ms_per_request']:.2f}" if "cpu_ms_per_request" in numbers else "",
                f"{numbers['bytes'] / 1000:.0f}" if "bytes" in numbers else "",
                str(numbers["errors"]),
            )
    console.print(table)
    static = results["runs"]["nginx (static)"]["service page"]["rps"]
    for server, run in results["runs"].items():
        if server.startswith("infradex"):
            ratio = run["service page"]["rps"] / static
            console.print(f"{server}: service page at {ratio:.2f}x nginx's static throughput")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    console.print(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
