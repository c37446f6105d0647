"""Status page: the live Statuspage JSON and page against nginx serving the static export.

    .venv/bin/python bench/status_page.py [--components 1000] [--incidents 500] [--duration 10]

Issue 14's load, everything on 127.0.0.1, children of this script, stopped at the end:

* a catalog of ``--components`` status-page components (999 services in groups of 20, one
  check each, ~30 % fronted by a CDN that is a component too), every check with a stored
  state (2 % down, 2 % flapping, as a monitor writes them: ``bench/web_load.py``'s seeding)
  and a year of state changes behind it (about one outage a check every two months: the 90-day
  bars and the uptime history are counted from them),
  ``--incidents`` published public incidents over two years, three updates each, the last
  two unresolved, and two public maintenance windows;
* **infradex**: ``infradex serve`` on SQLite (no monitor: the states are stored), serving
  ``/api/v2/summary.json`` and ``/status`` from its pre-rendered bytes;
* **peer: nginx** (Debian, one worker, run as ``nobody``) serving what
  ``infradex status export`` wrote from the same store: the same documents as static files,
  the fastest way to serve them on this machine.

``wrk`` (Debian: 1 thread, ``--connections`` connections, ``--duration`` s per URL, after a
warm-up request) loads each URL in turn, both servers in the same run; the export is timed
as a whole command (``infradex status export DIR``: start-up, catalog load, derive, render,
write). Results: a table on stdout and ``bench/results/status_page.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
from infradex.store import Database
from infradex.store.tables import public_incident_updates, public_incidents
from web_load import WRK_SCRIPT, free_port, seed_monitor_rows, wait_ready

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
GROUP_SIZE = 20
#: label, path, whether the client asks for gzip
TARGETS = [
    ("summary.json", "/api/v2/summary.json", False),
    ("/status", "/status", False),
    ("summary.json, gzip", "/api/v2/summary.json", True),
    ("/status, gzip", "/status", True),
]
#: where nginx finds each target in the export
STATIC = {"/api/v2/summary.json": "/api/v2/summary.json", "/status": "/status/"}


def wrk(url: str, duration: int, connections: int, script: Path, gzipped: bool) -> dict[str, Any]:
    headers = ["-H", "Accept-Encoding: gzip"] if gzipped else []
    command = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--timeout", "10s",
               *headers, "-s", str(script), url]  # fmt: skip
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("{"))
    result: dict[str, Any] = json.loads(line)
    result["rps"] = result["requests"] / result["seconds"]
    return result


def precompress(site: Path) -> None:
    """``.gz`` next to the large files, as the server keeps them (nginx's gzip_static)."""
    for name in ("api/v2/summary.json", "status/index.html"):
        path = site / name
        path.with_name(path.name + ".gz").write_bytes(
            gzip.compress(path.read_bytes(), compresslevel=6, mtime=0)
        )


def write_catalog(root: Path, components: int) -> list[str]:
    """A CDN (a component) and ``components - 1`` services, each a component with a check;
    returns the services' refs."""
    root.mkdir(parents=True)
    soon = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0).isoformat()
    running = (datetime.now(UTC) - timedelta(minutes=30)).replace(microsecond=0).isoformat()
    docs = [
        "apiVersion: infradex/v1\nkind: Provider\nmetadata: {name: cdn, title: The CDN}\n"
        "spec:\n  type: cdn\n  statusPage: {name: Content Delivery Network, order: 1}\n"
        f'  maintenance:\n    - {{start: "{soon}", duration: 2h, public: true, '
        "publicName: Edge upgrade}\n"
    ]
    refs = []
    for number in range(components - 1):
        name = f"svc-{number:04d}"
        refs.append(f"service:{name}")
        fronted = "  frontedBy: [provider:cdn]\n" if number % 10 < 3 else ""
        window = (
            f'  maintenance:\n    - {{start: "{running}", duration: 2h, public: true}}\n'
            if number == 7
            else ""
        )
        docs.append(
            f"apiVersion: infradex/v1\nkind: Service\nmetadata: {{name: {name}, "
            f"title: Service {number}}}\nspec:\n{fronted}{window}"
            f'  checks: [{{name: home, url: "http://127.0.0.1:9/{name}"}}]\n'
            f"  status: {{group: Group {number // GROUP_SIZE:02d}, "
            f"description: The service number {number}, order: {number % GROUP_SIZE + 1}}}\n"
        )
    (root / "all.yaml").write_text("---\n".join(docs))
    return refs


def seed_incidents(database_url: str, refs: list[str], count: int) -> None:
    """``count`` published incidents, one every ~35 hours back from now, three updates each;
    the newest two unresolved."""
    now = datetime.now(UTC)
    steps = ("investigating", "identified", "resolved")

    async def write() -> None:
        db = Database(database_url)
        try:
            await db.upgrade()
            async with db.begin(writes=True) as connection:
                for number in range(count):
                    at = now - timedelta(hours=35 * number + 3)  # its last update in the past
                    affected = [refs[(number * 7 + k) % len(refs)] for k in range(3)]
                    done = number >= 2
                    result = await connection.execute(
                        public_incidents.insert().values(
                            name=f"Problems with Service {number}",
                            status="resolved" if done else "identified",
                            impact=("minor", "major", "critical")[number % 3],
                            components=affected,
                            created_at=at,
                            updated_at=at + timedelta(hours=2),
                            published_at=at,
                            published_by="user:bench",
                            resolved_at=at + timedelta(hours=2) if done else None,
                        )
                    )
                    key = result.inserted_primary_key
                    assert key is not None
                    updates = steps if done else steps[:2]
                    await connection.execute(
                        public_incident_updates.insert(),
                        [
                            {
                                "public_incident_id": int(key[0]),
                                "status": step,
                                "body": f"{step.capitalize()}: we are looking at service "
                                f"{number}; more words people wrote about it.",
                                "components": {r: "partial_outage" for r in affected},
                                "created_at": at + timedelta(hours=index),
                                "created_by": "user:bench",
                            }
                            for index, step in enumerate(updates)
                        ],
                    )
        finally:
            await db.close()

    asyncio.run(write())


def seed_state_history(catalog_dir: Path, database_url: str, days: int = 365) -> int:
    """A year of state changes, as a monitor writes them: every check up since ``days``
    ago, about one outage a check every two months (5 minutes to 3 hours, one in four
    only flapping), then the check's stored state (``seed_monitor_rows``'s) since its
    ``since``; deterministic. Returns the number of changes."""
    import random

    from infradex.catalog import load
    from infradex.monitor.reads import catalog_check_ids
    from infradex.store.tables import check_states, state_changes

    loaded = load(catalog_dir)
    assert loaded.catalog is not None
    chance = random.Random(2)
    now = datetime.now(UTC)
    start = now - timedelta(days=days)

    async def write() -> int:
        db = Database(database_url)
        try:
            async with db.begin(writes=True) as connection:
                stored = {
                    row.check_id: (row.state, row.since)
                    for row in await connection.execute(check_states.select())
                }
                rows = []
                for check_id in catalog_check_ids(loaded.catalog):
                    rows.append({"check_id": check_id, "at": start, "from_state": "pending",
                                 "to_state": "up", "reason": "seeded"})  # fmt: skip
                    state, since = stored.get(check_id, ("up", now))
                    at = start
                    while True:
                        at += timedelta(days=chance.expovariate(1 / 60))
                        length = timedelta(minutes=chance.uniform(5, 180))
                        if at + length >= since:
                            break
                        bad = "flapping" if chance.random() < 0.25 else "down"
                        rows.append({"check_id": check_id, "at": at, "from_state": "up",
                                     "to_state": bad, "reason": "seeded"})  # fmt: skip
                        rows.append({"check_id": check_id, "at": at + length,
                                     "from_state": bad, "to_state": "up",
                                     "reason": "seeded"})  # fmt: skip
                    if state != "up":
                        rows.append({"check_id": check_id, "at": since, "from_state": "up",
                                     "to_state": state, "reason": "seeded"})  # fmt: skip
                await connection.execute(state_changes.insert(), rows)
                return len(rows)
        finally:
            await db.close()

    return asyncio.run(write())


def environment(catalog: Path, data: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(data),
        "INFRADEX_DATABASE_URL": database_url,
        "INFRADEX_MONITOR": "false",  # the states are stored; the checks aim nowhere
        "INFRADEX_STATUS_STALE_AFTER": "1d",  # the seeded states count as current
        "PYTHONPATH": str(ROOT / "src"),
    }


def serve(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [PYTHON, "-m", "infradex", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/readyz", process)
    return process, url


def nginx(site: Path, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """nginx as ``nobody`` (not root): the static copy, with the types a bucket sets."""
    port = free_port()
    conf = work / "nginx.conf"
    conf.write_text(f"""
daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx.log;
events {{ worker_connections 1024; }}
http {{
  access_log off; sendfile on; client_body_temp_path {work}/body; proxy_temp_path {work}/p;
  fastcgi_temp_path {work}/f; uwsgi_temp_path {work}/u; scgi_temp_path {work}/s;
  types {{ text/html html; text/css css; application/json json;
          application/atom+xml atom; application/rss+xml rss; }}
  gzip_static on;
  server {{ listen 127.0.0.1:{port}; root {site}; try_files $uri $uri/index.html =404; }}
}}
""")
    subprocess.run(["chown", "-R", "nobody", str(work)], check=True)
    process = subprocess.Popen(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         "nginx", "-c", str(conf), "-p", str(work)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/api/v2/status.json", process, 30)
    return process, url


def export(env: dict[str, str], site: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "-m", "infradex", "status", "export", str(site)],
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def export_in_process(catalog_dir: Path, database_url: str, site: Path) -> dict[str, float]:
    """The export's own work, without the command's start-up: the catalog's load, then
    derive, render and write (what the CLI runs after its imports)."""
    from infradex.catalog import load
    from infradex.statuspage.board import StatusBoard
    from infradex.statuspage.export import write_export
    from infradex.statuspage.v2 import PageInfo

    started = time.perf_counter()
    loaded = load(catalog_dir)
    assert loaded.catalog is not None
    catalog = loaded.catalog
    loaded_at = time.perf_counter()

    async def render() -> None:
        db = Database(database_url)
        try:
            board = StatusBoard(
                db, lambda: (catalog, datetime.now(UTC)),
                PageInfo("abcdefabcdef", "Bench", "https://status.example.org"),
                stale_after=timedelta(days=1), uptime=True, monitored=False, compress=False,
            )  # fmt: skip
            write_export(await board.current(), site)
        finally:
            await db.close()

    asyncio.run(render())
    done = time.perf_counter()
    return {"catalog_load": loaded_at - started, "derive_render_write": done - loaded_at}


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--components", type=int, default=1000)
    parser.add_argument("--incidents", type=int, default=500)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per URL")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "status_page.json")
    args = parser.parse_args()
    for tool in ("wrk", "nginx", "setpriv"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing: apt-get install wrk nginx util-linux", file=sys.stderr)
            return 2
    console = Console()
    results: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load": os.getloadavg(),
        },
        "components": args.components,
        "incidents": args.incidents,
        "duration": args.duration,
        "connections": args.connections,
        "runs": {},
    }
    with tempfile.TemporaryDirectory(prefix="infradex-status-bench-") as temporary:
        work = Path(temporary)
        work.chmod(0o755)
        script = work / "report.lua"
        script.write_text(WRK_SCRIPT)
        catalog = work / "catalog"
        refs = write_catalog(catalog, args.components)
        database_url = f"sqlite:///{work / 'store.db'}"
        checks = seed_monitor_rows(catalog, database_url)
        changes = seed_state_history(catalog, database_url)
        seed_incidents(database_url, refs, args.incidents)
        env = environment(catalog, work / "data", database_url)
        console.print(f"{args.components} components, {checks} checks, {changes} state changes "
                      f"over a year, {args.incidents} incidents")  # fmt: skip

        site = work / "site"
        results["export_seconds"] = [export(env, site) for _ in range(3)]
        results["export_in_process"] = [
            export_in_process(catalog, database_url, work / f"site-{n}") for n in range(3)
        ]
        files = {"/api/v2/summary.json": "api/v2/summary.json", "/status": "status/index.html"}
        precompress(site)
        results["bytes"] = {path: (site / name).stat().st_size for path, name in files.items()}
        results["gzip_bytes"] = {
            path: (site / (name + ".gz")).stat().st_size for path, name in files.items()
        }
        results["export_files"] = sum(1 for p in site.rglob("*") if p.is_file())
        inside = min(results["export_in_process"], key=lambda r: sum(r.values()))
        console.print(f"export: {min(results['export_seconds']):.2f} s as a command "
                      f"({results['export_files']} files); in process: catalog load "
                      f"{inside['catalog_load']:.2f} s, derive + render + write "
                      f"{inside['derive_render_write']:.2f} s")  # fmt: skip

        server, live = serve(env)
        peer_dir = work / "nginx"
        peer_dir.mkdir()
        peer, static = nginx(site, peer_dir)
        try:
            for label, path, gzipped in TARGETS:
                for name, base, shown in (
                    ("infradex (live)", live, path),
                    ("nginx (static export)", static, STATIC[path]),
                ):
                    with urllib_open(base + shown) as body:
                        assert body, (name, shown)
                    run = wrk(base + shown, args.duration, args.connections, script, gzipped)
                    results["runs"].setdefault(name, {})[label] = run
                    console.print(f"{name} {label}: {run['rps']:,.0f} req/s, "
                                  f"p95 {run['p95_ms']:.1f} ms")  # fmt: skip
        finally:
            stop(peer)
            stop(server)

    table = Table("server", "URL", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors")
    for server_name, runs in results["runs"].items():
        for label, run in runs.items():
            numbers = [f"{run[k]:.1f}" for k in ("p50_ms", "p95_ms", "p99_ms")]
            table.add_row(server_name, label, f"{run['rps']:,.0f}", *numbers, str(run["errors"]))
    console.print(table)
    for label, _, _ in TARGETS:
        ratio = (results["runs"]["infradex (live)"][label]["rps"]
                 / results["runs"]["nginx (static export)"][label]["rps"])  # fmt: skip
        results.setdefault("ratios", {})[label] = ratio
        console.print(f"{label}: live at {ratio:.2f}x nginx's requests per second")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"results: {args.out}")
    return 0


def urllib_open(url: str) -> Any:
    import urllib.request

    return urllib.request.urlopen(url, timeout=120)


if __name__ == "__main__":
    sys.exit(main())
