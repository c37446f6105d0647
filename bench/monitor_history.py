"""History at scale: the uptime API and a service page with 10,000 checks and 90 days of
rollups, on SQLite and PostgreSQL; and the disk each kind of history row takes.

    .venv/bin/python bench/monitor_history.py [--checks 10000] [--days 90] [--duration 10]

A catalog of ``--checks`` checks (10 per service, aimed at 127.0.0.1, never run) is served by
a real ``infradex serve`` process with the monitor off; its store is filled beforehand with
what a monitor leaves after ``--days`` days at a 60 s interval: per check, the latest 100
results, one hourly rollup per hour and one daily rollup per day of the period, and the
check's state. ``wrk`` (Debian) then loads, one at a time, the uptime API of one check, one
check with its state changes, a week of hourly history, and a service page (its 10 checks,
each with uptime, 90 daily bars and a week-long latency chart).

The peer, in the same run: nginx serving the static version of the same service page (as
``bench/web_load.py`` does): the ratio says what live history costs over a static file.

The store's size after the fill gives bytes per row for each table, from which
``docs/monitor.md`` states the disk a deployment needs.

Results: a table on stdout and ``bench/results/monitor_history.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
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
from web_load import (
    BENCH_DB,
    PYTHON,
    ROOT,
    WRK_SCRIPT,
    fresh_store,
    nginx,
    psql,
    serve,
    wrk,
)

CHECKS_PER_SERVICE = 10
RESULTS_KEPT = 100
TABLES = ("check_results", "check_rollups", "check_states")


def write_catalog(root: Path, checks: int) -> list[str]:
    """Services svc-00000... with 10 checks each; returns the service names."""
    root.mkdir(parents=True, exist_ok=True)
    names = [f"svc-{n:05d}" for n in range(checks // CHECKS_PER_SERVICE)]
    for start in range(0, len(names), 500):
        documents = []
        for name in names[start : start + 500]:
            checks_yaml = "".join(
                f"    - {{name: c{i}, url: 'http://127.0.0.1:9/{name}/{i}', "
                "conditions: ['[STATUS] == 200']}\n"
                for i in range(CHECKS_PER_SERVICE)
            )
            documents.append(
                f"apiVersion: infradex/v1\nkind: Service\nmetadata: {{name: {name}}}\n"
                f"spec:\n  lifecycle: experimental\n  checks:\n{checks_yaml}"
            )
        (root / f"services-{start // 500:03d}.yaml").write_text("---\n".join(documents))
    return names


def rows_for(check_id: str, now: datetime, days: int, rng: random.Random) -> dict[str, list]:
    """What a monitor leaves for one check after ``days`` days at one result a minute."""
    hour0 = now.replace(minute=0, second=0, microsecond=0)
    day0 = now.replace(hour=0, minute=0, second=0, microsecond=0)
    histogram = json.dumps({"40": 30, "41": 25, "43": 5})
    hourly = []
    for h in range(days * 24):
        down = 1 if rng.random() < 0.02 else 0
        hourly.append(
            (check_id, "hour", hour0 - timedelta(hours=h), 60 - down, down, 0, 0, 60,
             60 * 22.0, 18.0, 31.0, histogram)
        )  # fmt: skip
    daily = []
    for d in range(days):
        down = rng.randint(0, 5)
        daily.append(
            (check_id, "day", day0 - timedelta(days=d), 1440 - down, down, 0, 0, 1440,
             1440 * 22.0, 15.0, 60.0, histogram)
        )  # fmt: skip
    observed = json.dumps(
        {
            "values": {"STATUS": 200, "RESPONSE_TIME": 21.4, "CONNECTED": True, "IP": "127.0.0.1"},
            "phases": {"connect": 0.0004, "processing": 0.02, "transfer": 0.0001, "total": 0.0214},
            "details": {"final_url": f"http://127.0.0.1:9/{check_id}", "http_version": "1.1"},
            "conditions": [{"condition": "[STATUS] == 200", "success": True, "actual": "200"}],
        }
    )
    results = [
        (check_id, "local", now - timedelta(minutes=m), 21.4, True, "up", None,
         "all conditions hold", observed)
        for m in range(RESULTS_KEPT)
    ]  # fmt: skip
    state = (check_id, "up", "up", 0, 120, False, "u" * 21, now - timedelta(days=3), now, "up",
             "all conditions hold", 21.4, json.dumps({"phases": {"total": 0.0214}}))  # fmt: skip
    return {"hourly": hourly, "daily": daily, "results": results, "state": [state]}


ROLLUP_COLUMNS = (
    "check_id, period, bucket, up, down, unknown, maintenance, latency_count, latency_sum, "
    "latency_min, latency_max, latency_histogram"
)
RESULT_COLUMNS = (
    "check_id, location, started_at, duration_ms, success, status, error_kind, message, observed"
)
STATE_COLUMNS = (
    "check_id, state, hard_state, failures, successes, flapping, history, since, "
    "last_result_at, last_status, last_message, last_duration_ms, last_observed"
)


def fill(store: str, url: str, check_ids: list[str], days: int, console: Console) -> None:
    """Bulk-load the history with the drivers' fastest paths (setup, not what is measured)."""
    now = datetime.now(UTC)
    rng = random.Random(1)
    started = time.perf_counter()
    if store == "sqlite":
        connection = sqlite3.connect(url.removeprefix("sqlite:///"))
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=OFF")

        def naive(row: tuple) -> tuple:  # the store keeps UTC without an offset on SQLite
            return tuple(
                v.replace(tzinfo=None).isoformat(sep=" ") if isinstance(v, datetime) else v
                for v in row
            )

        for n, check_id in enumerate(check_ids):
            rows = rows_for(check_id, now, days, rng)
            connection.executemany(
                f"INSERT INTO check_rollups ({ROLLUP_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                [naive(r) for r in rows["hourly"] + rows["daily"]],
            )
            connection.executemany(
                f"INSERT INTO check_results ({RESULT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?)",
                [naive(r) for r in rows["results"]],
            )
            connection.executemany(
                f"INSERT INTO check_states ({STATE_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                [naive(r) for r in rows["state"]],
            )
            if n % 1000 == 999:
                connection.commit()
                console.print(f"  {n + 1} checks filled ({time.perf_counter() - started:.0f} s)")
        connection.commit()
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.close()
    else:
        import psycopg

        with psycopg.connect(url) as connection, connection.cursor() as cursor:
            for n, check_id in enumerate(check_ids):
                rows = rows_for(check_id, now, days, rng)
                with cursor.copy(f"COPY check_rollups ({ROLLUP_COLUMNS}) FROM STDIN") as copy:
                    for row in rows["hourly"] + rows["daily"]:
                        copy.write_row(row)
                with cursor.copy(f"COPY check_results ({RESULT_COLUMNS}) FROM STDIN") as copy:
                    for row in rows["results"]:
                        copy.write_row(row)
                with cursor.copy(f"COPY check_states ({STATE_COLUMNS}) FROM STDIN") as copy:
                    for row in rows["state"]:
                        copy.write_row(row)
                if n % 1000 == 999:
                    connection.commit()
                    console.print(
                        f"  {n + 1} checks filled ({time.perf_counter() - started:.0f} s)"
                    )
            connection.commit()
        with psycopg.connect(url, autocommit=True) as connection:
            connection.execute("VACUUM ANALYZE")
    console.print(f"  filled in {time.perf_counter() - started:.0f} s")


def sizes(store: str, url: str, work: Path) -> dict[str, Any]:
    """Bytes and rows per table (with indexes)."""
    found: dict[str, Any] = {}
    if store == "sqlite":
        path = url.removeprefix("sqlite:///")
        connection = sqlite3.connect(path)
        for table in TABLES:
            rows = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            size = connection.execute(
                "SELECT sum(pgsize) FROM dbstat WHERE name = ? OR name IN "
                "(SELECT name FROM sqlite_master WHERE tbl_name = ? AND type = 'index')",
                (table, table),
            ).fetchone()[0]
            found[table] = {"rows": rows, "bytes": size}
        connection.close()
        found["file_bytes"] = Path(path).stat().st_size
    else:
        import psycopg

        with psycopg.connect(url) as connection:
            for table in TABLES:
                rows = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                size = connection.execute("SELECT pg_total_relation_size(%s)", (table,)).fetchone()[
                    0
                ]
                found[table] = {"rows": rows, "bytes": size}
    for table in TABLES:
        found[table]["bytes_per_row"] = found[table]["bytes"] / max(found[table]["rows"], 1)
    return found


def targets(service: str) -> list[tuple[str, str]]:
    check = f"/api/v1/checks/service:{service}/c3"
    return [
        ("uptime API", f"{check}/uptime"),
        ("check API", check),
        ("hourly history API (7 d)", f"{check}/history?period=hour&days=7"),
        ("service page (10 checks)", f"/services/{service}"),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", type=int, default=10_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--duration", type=int, default=10, help="seconds of load per URL")
    parser.add_argument(
        "--connections",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 8],
        help="wrk connections, comma-separated (default 1,8: latency alone, then under load)",
    )
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "bench" / "results" / "monitor_history.json"
    )
    args = parser.parse_args()
    console = Console()
    results: dict[str, Any] = {
        "checks": args.checks,
        "days": args.days,
        "duration_s": args.duration,
        "connections": args.connections,
        "runs": {},
        "sizes": {},
    }
    with tempfile.TemporaryDirectory(prefix="infradex-history-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        catalog = work / "catalog"
        services = write_catalog(catalog, args.checks)
        check_ids = [f"service:{s}/c{i}" for s in services for i in range(CHECKS_PER_SERVICE)]
        service = services[len(services) // 2]
        script = work / "report.lua"
        script.write_text(WRK_SCRIPT)
        subprocess.run(
            [PYTHON, "-m", "infradex", "--catalog", str(catalog), "docs", "build",
             str(work / "site")],
            check=True, capture_output=True,
        )  # fmt: skip
        peer, peer_url = nginx(work / "site", work, f"/services/{service}.html")
        try:
            results["runs"]["nginx (static)"] = {
                f"service page (10 checks), {connections} conn": wrk(
                    f"{peer_url}/services/{service}.html", args.duration, connections, script
                )
                for connections in args.connections
            }
        finally:
            peer.terminate()
            peer.wait()
        for store in args.stores.split(","):
            database_url = fresh_store(store, work / "history.db")
            subprocess.run(
                [PYTHON, "-m", "infradex", "--catalog", str(catalog), "db", "upgrade"],
                check=True, capture_output=True,
                env={**os.environ, "INFRADEX_DATABASE_URL": database_url},
            )  # fmt: skip
            console.print(f"filling {store}: {args.checks} checks x {args.days} days")
            fill(store, database_url, check_ids, args.days, console)
            results["sizes"][store] = sizes(store, database_url, work)
            process, url = serve(catalog, work / f"data-{store}", database_url)
            try:
                run: dict[str, Any] = {}
                for label, path in targets(service):
                    with urllib.request.urlopen(url + path, timeout=600) as response:
                        body = response.read()
                    if label.startswith("service page"):
                        assert b'id="health"' in body and b"<svg" in body, "no health section"
                    for connections in args.connections:
                        name = f"{label}, {connections} conn"
                        run[name] = wrk(url + path, args.duration, connections, script)
                        console.print(
                            f"  {name}: {run[name]['rps']:.0f} req/s, "
                            f"p95 {run[name]['p95_ms']:.1f} ms"
                        )
                results["runs"][f"infradex ({store})"] = run
            finally:
                process.terminate()
                process.wait()
            if store == "postgresql":
                psql(f"DROP DATABASE IF EXISTS {BENCH_DB}")
    table = Table(title=f"history: {args.checks} checks, {args.days} days of rollups")
    for heading in ("server", "URL", "req/s", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(heading, justify="left" if heading in ("server", "URL") else "right")
    for server, run in results["runs"].items():
        for label, numbers in run.items():
            table.add_row(
                server, label, f"{numbers['rps']:.0f}", f"{numbers['p50_ms']:.1f}",
                f"{numbers['p95_ms']:.1f}", f"{numbers['p99_ms']:.1f}", str(numbers["errors"]),
            )  # fmt: skip
    console.print(table)
    sizes_table = Table(title="store size per table")
    for heading in ("store", "table", "rows", "MB", "bytes/row"):
        sizes_table.add_column(heading)
    for store, found in results["sizes"].items():
        for name in TABLES:
            sizes_table.add_row(
                store, name, f"{found[name]['rows']:,}", f"{found[name]['bytes'] / 1e6:.0f}",
                f"{found[name]['bytes_per_row']:.0f}",
            )  # fmt: skip
    console.print(sizes_table)
    most = max(args.connections)
    page = f"service page (10 checks), {most} conn"
    static = results["runs"]["nginx (static)"][page]["rps"]
    for server, run in results["runs"].items():
        if server.startswith("infradex"):
            ratio = run[page]["rps"] / static
            console.print(f"{server}: service page at {ratio:.3f}x nginx's static throughput")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    console.print(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
