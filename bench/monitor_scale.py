"""Monitor at scale: 10,000 and 50,000 HTTP checks a minute against local targets.

    .venv/bin/python bench/monitor_scale.py [--checks 10000,50000] [--duration 300]
        [--stores sqlite,postgresql] [--loops asyncio]

The target is nginx (Debian), started here with its own configuration: one worker, no access
log, answering ``200 ok`` for every ``/c/<n>`` on ``--ports`` ports of 127.0.0.1 (so that the
checks look like many targets, not one socket pair). A generated catalog (services with 10 checks
each, 500 documents a file) declares N checks ``http://127.0.0.1:PORT/c/<n>`` with conditions
``[STATUS] == 200`` and ``[RESPONSE_TIME] < 1000``, interval 60 s, timeout 10 s.

Before each run the store is filled as a running monitor leaves it (``--prefill`` results per
check, default 110: the 100 retention keeps and 10 minutes of new ones, and every check's state).
The monitor then runs in its own process (this file with ``--runner``): the catalog is loaded
with ``infradex.catalog.load``, then ``infradex.monitor.service.Monitor`` runs it, as
``infradex monitor`` does, for ``--duration`` seconds, and prunes once halfway (it prunes every
10 minutes). The runner counts what the scheduler and the store did (start lags, runs started
against the slots that were due, skipped and overlapping, rows written per flush, write errors,
garbage-collector pauses, event-loop stalls); this process measures it from outside: CPU
(``utime + stime`` from ``/proc/<pid>/stat``) over the first interval (warm-up), over the rest
without the prune and averaged over the prune cycle, peak resident memory (``VmHWM``), nginx's
CPU, the CPU of the monitor's PostgreSQL backends, and the store's size.

Stores: SQLite (a file, WAL) and PostgreSQL (``INFRADEX_BENCH_POSTGRES``, in a schema of its
own, ``bench_monitor``, created and dropped here; nothing in ``public`` is touched).

Growth per day is reported twice: the raw write rate (what the store grew from the end of the
warm-up to just before the prune, per day), and the steady state after pruning: raw results are
kept to the latest 100 per check (failures 7 days), so once the results table is full only the
rollups grow, 24 hourly and 1 daily row per check and day (hourly kept 90 days, daily 2 years),
at the bytes per row measured after ``VACUUM``.

Results: tables on stdout (``--report FILE --markdown`` prints them again for
docs/benchmarks.md) and ``bench/results/monitor_scale.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import gc
import json
import math
import os
import platform
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from report_tables import print_table

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEFAULT_OUT = ROOT / "bench" / "results" / "monitor_scale.json"
POSTGRES = os.environ.get("INFRADEX_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "bench_monitor"
APPLICATION = "infradex-bench-monitor"  # PostgreSQL application_name of the monitor
TABLES = ("check_results", "check_rollups", "check_states", "state_changes")
INTERVAL = 60  # seconds, every check
PRUNE_EVERY = 600  # seconds: infradex.monitor.service.PRUNE_EVERY
CHECKS_PER_SERVICE = 10
DOCS_PER_FILE = 500
CLK_TCK = os.sysconf("SC_CLK_TCK")
#: the issue's targets
TARGET_LAG_P99_S, TARGET_CPU_CORES, TARGET_RSS_BYTES = 1.0, 0.5, 1 << 30


# ------------------------------------------------------------------------------ setup
def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def check_ids(checks: int) -> list[str]:
    """The ids the monitor gives the checks of :func:`write_catalog`'s catalog."""
    return [
        f"service:svc-{n // CHECKS_PER_SERVICE:05d}/c{n % CHECKS_PER_SERVICE}"
        for n in range(checks)
    ]


async def upgrade(database_url: str) -> None:
    from infradex.store.db import Database

    db = Database(database_url)
    try:
        await db.upgrade()
    finally:
        await db.close()


def write_catalog(directory: Path, checks: int, ports: list[int]) -> None:
    """Services of 10 checks each, 500 documents a file."""
    directory.mkdir(parents=True)
    services = math.ceil(checks / CHECKS_PER_SERVICE)
    documents: list[str] = []
    n = 0
    for s in range(services):
        lines = [
            "apiVersion: infradex/v1",
            "kind: Service",
            "metadata:",
            f"  name: svc-{s:05d}",
            "spec:",
            "  lifecycle: production",
            "  checks:",
        ]
        for c in range(min(CHECKS_PER_SERVICE, checks - n)):
            url = f"http://127.0.0.1:{ports[n % len(ports)]}/c/{n}"
            lines.append(
                f"    - {{name: c{c}, url: '{url}', interval: {INTERVAL}s, timeout: 10s, "
                "conditions: ['[STATUS] == 200', '[RESPONSE_TIME] < 1000']}"
            )
            n += 1
        documents.append("\n".join(lines) + "\n")
    for i in range(0, len(documents), DOCS_PER_FILE):
        part = documents[i : i + DOCS_PER_FILE]
        (directory / f"services-{i // DOCS_PER_FILE:03d}.yaml").write_text("---\n".join(part))


def start_nginx(work: Path, ports: list[int]) -> subprocess.Popen[bytes]:
    work.mkdir(parents=True, exist_ok=True)
    listen = " ".join(f"listen 127.0.0.1:{port} backlog=4096;" for port in ports)
    conf = work / "nginx.conf"
    conf.write_text(f"""
daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx.log;
worker_rlimit_nofile 65536;
events {{ worker_connections 16384; }}
http {{
  access_log off; client_body_temp_path {work}/body; proxy_temp_path {work}/p;
  fastcgi_temp_path {work}/f; uwsgi_temp_path {work}/u; scgi_temp_path {work}/s;
  server {{
    {listen}
    location /c/ {{ default_type text/plain; return 200 "ok\\n"; }}
  }}
}}
""")
    process = subprocess.Popen(
        ["nginx", "-c", str(conf), "-p", str(work)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", ports[-1]), timeout=1):
                return process
        except OSError:
            if process.poll() is not None:
                raise RuntimeError(f"nginx exited: {(work / 'nginx.log').read_text()}") from None
            time.sleep(0.1)
    raise RuntimeError("nginx did not start listening in 10 s")


def psql(sql: str) -> str:
    return subprocess.run(
        ["psql", POSTGRES, "-qtAX", "-v", "ON_ERROR_STOP=1", "-c", sql],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def postgres_url(application: str) -> str:
    return f"{POSTGRES}?options=-csearch_path%3D{SCHEMA}&application_name={application}"


# ------------------------------------------------------------------------------ /proc
def cpu_seconds(pid: int, which: str = "both") -> float:
    """utime + stime of a process (all its threads), in seconds; or one of them."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    user, system = int(fields[11]), int(fields[12])
    return {"both": user + system, "user": user, "system": system}[which] / CLK_TCK


def memory(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident) in bytes."""
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = int(value.split()[0]) * 1024
    return found


def children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def system_busy() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine, for its load during a window."""
    fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]
    return float(sum(fields) - idle), float(sum(fields))


class Pids:
    """The processes whose CPU is measured: the monitor, nginx, and (on PostgreSQL) the
    server backends of the monitor's connections, found by their application_name."""

    def __init__(self, monitor: int, nginx: int, postgres: bool) -> None:
        self.monitor, self.nginx, self.postgres = monitor, nginx, postgres
        self.backends: dict[int, float] = {}  # pid → CPU seconds when last seen
        self._looked = 0.0

    def _backends(self) -> float:
        if time.monotonic() - self._looked > 10:
            self._looked = time.monotonic()
            for pid in psql(
                f"SELECT pid FROM pg_stat_activity WHERE application_name = '{APPLICATION}'"
            ).split():
                self.backends.setdefault(int(pid), 0.0)
        for pid in self.backends:
            with contextlib.suppress(OSError):  # gone: keep what it used
                self.backends[pid] = cpu_seconds(pid)
        return sum(self.backends.values())

    def sample(self) -> dict[str, Any]:
        nginx = [self.nginx, *children(self.nginx)]
        busy, total = system_busy()
        return {
            "t": time.time(),
            "monitor": cpu_seconds(self.monitor),
            "monitor_system": cpu_seconds(self.monitor, "system"),
            "nginx": sum(cpu_seconds(p) for p in nginx),
            "postgres": self._backends() if self.postgres else 0.0,
            "machine_busy": busy,
            "machine_total": total,
            **memory(self.monitor),
        }


def cores(a: dict[str, Any], b: dict[str, Any], key: str) -> float:
    return float((b[key] - a[key]) / (b["t"] - a["t"]))


# ------------------------------------------------------------------------------ store size
def store_size(store: str, database: Path | None) -> dict[str, int]:
    """Bytes on disk: SQLite's file + WAL, or the monitor tables with their indexes + TOAST."""
    if store == "sqlite":
        assert database is not None
        wal = Path(f"{database}-wal")
        # pages in use as the newest commit sees them (WAL included): the files alone lag
        # behind (the WAL is reused after each checkpoint) and keep freed pages
        with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
            pages, free, size = (
                db.execute(f"PRAGMA {pragma}").fetchone()[0]
                for pragma in ("page_count", "freelist_count", "page_size")
            )
        return {
            "total": (pages - free) * size,
            "file": database.stat().st_size,
            "wal": wal.stat().st_size if wal.exists() else 0,
        }
    sizes = {
        table: int(psql(f"SELECT pg_total_relation_size('{SCHEMA}.{table}')")) for table in TABLES
    }
    return {"total": sum(sizes.values()), **sizes}


def table_bytes(store: str, database: Path | None) -> dict[str, dict[str, int]]:
    """Per monitor table: rows, and bytes of the table with its indexes (after VACUUM)."""
    found: dict[str, dict[str, int]] = {}
    if store == "sqlite":
        assert database is not None
        with sqlite3.connect(database) as connection:
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.execute("VACUUM")
            pages = dict(
                connection.execute(
                    "SELECT coalesce(i.tbl_name, d.name), sum(d.pgsize) FROM dbstat d "
                    "LEFT JOIN sqlite_master i ON i.name = d.name GROUP BY 1"
                ).fetchall()
            )
            for table in TABLES:
                rows = connection.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                found[table] = {"rows": int(rows), "bytes": int(pages.get(table, 0))}
        return found
    for table in TABLES:
        psql(f"VACUUM FULL {SCHEMA}.{table}")
        rows = int(psql(f"SELECT count(*) FROM {SCHEMA}.{table}"))
        size = int(psql(f"SELECT pg_total_relation_size('{SCHEMA}.{table}')"))
        found[table] = {"rows": rows, "bytes": size}
    return found


# ------------------------------------------------------------------------------ one run
def run_one(
    args: argparse.Namespace,
    work: Path,
    catalog: Path,
    checks: int,
    store: str,
    loop: str,
    nginx: subprocess.Popen[bytes],
) -> dict[str, Any]:
    label = f"{checks}-{store}-{loop}"
    run_dir = work / label
    run_dir.mkdir()
    database: Path | None = None
    if store == "sqlite":
        database = run_dir / "monitor.db"
        url = f"sqlite:///{database}"
    else:
        psql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        psql(f"CREATE SCHEMA {SCHEMA}")
        url = postgres_url(APPLICATION)
    began = time.perf_counter()
    if args.prefill:  # here, so that the monitor's peak memory is its own
        asyncio.run(upgrade(url))
        prefill(url, check_ids(checks), args.prefill)
    prefill_s = time.perf_counter() - began
    config = {
        "catalog": str(catalog),
        "database_url": url,
        "stats": str(run_dir / "stats.json"),
        "ready": str(run_dir / "ready.json"),
        "final": str(run_dir / "final.json"),
        "loop": loop,
        "warmup": INTERVAL,
        "concurrency": args.concurrency,
        "profile": str(run_dir / "profile.pstats") if args.profile else None,
        "prune_at": args.duration / 2,
    }
    (run_dir / "config.json").write_text(json.dumps(config))
    stderr = (run_dir / "runner.log").open("wb")
    runner = subprocess.Popen(
        [PYTHON, str(Path(__file__).resolve()), "--runner", str(run_dir / "config.json")],
        stdout=stderr,
        stderr=stderr,
    )
    try:
        ready_path = Path(config["ready"])
        while not ready_path.exists():
            if runner.poll() is not None:
                raise RuntimeError(f"runner exited: {(run_dir / 'runner.log').read_text()}")
            time.sleep(0.2)
        ready = json.loads(ready_path.read_text()) | {"prefill_s": prefill_s}
        pids = Pids(runner.pid, nginx.pid, store == "postgresql")
        first = pids.sample()
        sizes = {"start": (first["t"], store_size(store, database))}
        before_prune = first["t"] + config["prune_at"] - 3  # the runner prunes once midway
        samples = [first]
        warm = None
        stop_at = first["t"] + args.duration
        next_print = first["t"] + 30
        while time.time() < stop_at:
            time.sleep(min(1.0, max(0.0, stop_at - time.time())))
            if runner.poll() is not None:
                raise RuntimeError(f"runner exited: {(run_dir / 'runner.log').read_text()}")
            sample = pids.sample()
            samples.append(sample)
            if warm is None and sample["t"] - first["t"] >= INTERVAL:
                warm = sample
                sizes["warm"] = (sample["t"], store_size(store, database))
            elif warm is not None and "before_prune" not in sizes and sample["t"] >= before_prune:
                sizes["before_prune"] = (sample["t"], store_size(store, database))
            if sample["t"] >= next_print:
                next_print += 30
                stats = _read_json(Path(config["stats"]))
                recent = cores(samples[max(0, len(samples) - 31)], sample, "monitor")
                print(
                    f"  {label}: {sample['t'] - first['t']:4.0f} s, monitor {recent:.2f}"
                    f" cores, RSS {sample['VmRSS'] / 2**20:.0f} MB, {stats}",
                    flush=True,
                )
        last = pids.sample()
        samples.append(last)
        sizes["end"] = (last["t"], store_size(store, database))
        runner.send_signal(signal.SIGTERM)
        runner.wait(timeout=600)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.wait()
        stderr.close()
    if runner.returncode != 0:
        raise RuntimeError(
            f"runner exited {runner.returncode}: {(run_dir / 'runner.log').read_text()}"
        )
    final = json.loads(Path(config["final"]).read_text())
    if config["profile"]:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(config["profile"], args.out.parent / f"monitor_scale-{label}.pstats")
    assert warm is not None, "--duration must be longer than one interval"
    compacted = table_bytes(store, database)
    if store == "postgresql":
        psql(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    return summarise(
        checks, store, loop, ready, final, first, warm, last, sizes, compacted, samples, run_dir
    )


def prune_cost(
    midway: dict[str, Any], warm: dict[str, Any], last: dict[str, Any], samples: list[Any]
) -> dict[str, Any]:
    """The monitor's CPU in the steady state without the prune, what the prune added, and the
    average over the monitor's 10-minute prune cycle."""
    if "end" not in midway or not warm["t"] < midway["start"] < midway["end"] < last["t"]:
        return {"cores": {}, "cpu_s": None}
    before = max((s for s in samples if s["t"] <= midway["start"]), key=lambda s: s["t"])
    after = min((s for s in samples if s["t"] >= midway["end"]), key=lambda s: s["t"])
    quiet_cpu = (before["monitor"] - warm["monitor"]) + (last["monitor"] - after["monitor"])
    quiet_s = (before["t"] - warm["t"]) + (last["t"] - after["t"])
    quiet = quiet_cpu / quiet_s
    extra = (after["monitor"] - before["monitor"]) - quiet * (after["t"] - before["t"])
    return {
        "cores": {
            "monitor_steady_without_prune": quiet,
            "monitor_prune_cycle": quiet + extra / PRUNE_EVERY,
        },
        "cpu_s": extra,
    }


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def summarise(
    checks: int,
    store: str,
    loop: str,
    ready: dict[str, Any],
    final: dict[str, Any],
    first: dict[str, Any],
    warm: dict[str, Any],
    last: dict[str, Any],
    sizes: dict[str, tuple[float, dict[str, int]]],
    compacted: dict[str, dict[str, int]],
    samples: list[dict[str, Any]],
    run_dir: Path,
) -> dict[str, Any]:
    # on disk, from the end of the warm-up to just before the prune (which frees pages)
    (t1, size1), (t2, size2) = sizes["warm"], sizes.get("before_prune", sizes["end"])
    raw_per_day = (size2["total"] - size1["total"]) / (t2 - t1) * 86_400
    steady_seconds = last["t"] - warm["t"]
    rollup = compacted["check_rollups"]
    results = compacted["check_results"]
    rollup_row = rollup["bytes"] / rollup["rows"] if rollup["rows"] else 0.0
    result_row = results["bytes"] / results["rows"] if results["rows"] else 0.0
    steady_per_day = checks * 25 * rollup_row  # 24 hourly + 1 daily rollup per check and day
    machine = (last["machine_busy"] - warm["machine_busy"]) / (
        last["machine_total"] - warm["machine_total"]
    )
    prune = prune_cost(final["prune"]["midway"], warm, last, samples)
    return {
        "checks": checks,
        "store": store,
        "loop": loop,
        "catalog_load_s": ready["catalog_load_s"],
        "prefill_s": ready["prefill_s"],
        "monitor_start_s": ready["monitor_start_s"],
        "duration_s": round(last["t"] - first["t"], 1),
        "steady_s": round(steady_seconds, 1),
        "lag": final["lag"],
        "runs": final["runs"],
        "writes": final["writes"],
        "cpu_cores": {
            "monitor_warmup": cores(first, warm, "monitor"),
            "monitor_steady": cores(warm, last, "monitor"),
            "monitor_steady_system": cores(warm, last, "monitor_system"),
            "nginx_steady": cores(warm, last, "nginx"),
            "postgres_steady": cores(warm, last, "postgres"),
            "machine_busy_share_steady": machine,
            **prune["cores"],
        },
        "memory": {
            "rss_peak_bytes": max(s["VmHWM"] for s in samples),
            "rss_end_bytes": last["VmRSS"],
        },
        "store_bytes": {label: size for label, (_, size) in sizes.items()},
        "growth": {
            "raw_bytes_per_day": raw_per_day,
            "raw_bytes_per_day_from_rows": checks * 86_400 / INTERVAL * result_row,
            "result_row_bytes": result_row,
            "rollup_row_bytes": rollup_row,
            "results_plateau_bytes": checks * 100 * result_row,
            "steady_bytes_per_day": steady_per_day,
        },
        "prune": {**final["prune"], "midway_cpu_s": prune["cpu_s"]},
        "gc": final["gc"],
        "gc_objects": final["gc_objects"],
        "loop_stalls": final["loop_stalls"],
        "tables_after_prune": compacted,
        "run_dir": str(run_dir),
    }


# ------------------------------------------------------------------------------ the runner
def runner(config_path: Path) -> int:
    """Run the monitor on the catalog; report counters every 10 s and everything at SIGTERM."""
    config = json.loads(config_path.read_text())
    if config["loop"] == "uvloop":
        import uvloop

        uvloop.install()
    return asyncio.run(_runner(config))


async def _runner(config: dict[str, Any]) -> int:
    import logging

    from infradex.catalog import load
    from infradex.monitor import history
    from infradex.monitor.scheduler import slot_offset
    from infradex.monitor.service import Monitor
    from infradex.store.db import Database

    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    collector = GcPauses()
    started = time.perf_counter()
    loaded = load(config["catalog"])
    if loaded.catalog is None:
        print(loaded.errors[:5], file=sys.stderr)
        return 1
    catalog_load_s = time.perf_counter() - started

    db = Database(config["database_url"])
    await db.upgrade()
    writes: dict[str, Any] = {
        "flushes": 0,
        "results": 0,
        "succeeded": 0,
        "states": 0,
        "rollups": 0,
        "changes": 0,
        "flush_seconds": [],
    }
    write_batch = history.write_batch

    async def timed_write(db: Database, batch: history.Batch) -> None:
        began = time.perf_counter()
        await write_batch(db, batch)
        writes["flush_seconds"].append(time.perf_counter() - began)
        writes["flushes"] += 1
        writes["results"] += len(batch.results)
        writes["succeeded"] += sum(1 for r in batch.results if r["success"])
        writes["states"] += len(batch.states)
        writes["rollups"] += len(batch.rollups)
        writes["changes"] += len(batch.changes)

    history.write_batch = timed_write  # type: ignore[assignment]

    monitor = Monitor(db, concurrency=config["concurrency"])
    scheduler = monitor.scheduler
    # every run's slot, to compare with the slots that fell in the run
    dues: list[float] = []
    run_check = scheduler._run

    async def counted(check: Any, due: float) -> None:
        dues.append(due)
        await run_check(check, due)

    scheduler._run = counted
    began = time.perf_counter()
    await monitor.start(loaded.catalog)
    start_wall = time.time()  # the first slots are the ones after this
    monitor_start_s = time.perf_counter() - began
    profiler = None
    if config["profile"]:
        import cProfile

        profiler = cProfile.Profile()
    Path(config["ready"]).write_text(
        json.dumps(
            {
                "catalog_load_s": catalog_load_s,
                "monitor_start_s": monitor_start_s,
                "checks": len(monitor.checks),
            }
        )
    )
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    stalls: list[float] = []

    async def watch_loop() -> None:
        """How late a 50 ms sleep wakes up: how long the event loop was kept busy."""
        while True:
            began = time.perf_counter()
            await asyncio.sleep(0.05)
            stalls.append(time.perf_counter() - began - 0.05)

    watcher = asyncio.create_task(watch_loop())
    pruned_midway: dict[str, Any] = {}

    async def prune_midway() -> None:
        """The monitor prunes every 10 minutes; do it once inside the measured window."""
        await asyncio.sleep(config["prune_at"])
        pruned_midway["start"] = time.time()
        pruned_midway["deleted"] = await monitor.prune()
        pruned_midway["end"] = time.time()
        pruned_midway["seconds"] = pruned_midway["end"] - pruned_midway["start"]

    pruner = asyncio.create_task(prune_midway())
    warm_lags: list[float] = []
    steady_lags: list[float] = []
    warm_until = start_wall + config["warmup"]
    profiling = False
    next_stats = time.monotonic() + 10
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=1.0)
        drained = list(scheduler.lags)
        scheduler.lags.clear()
        (warm_lags if time.time() < warm_until else steady_lags).extend(drained)
        if profiler is not None and not profiling and time.time() >= warm_until:
            profiler.enable()
            profiling = True
        if time.monotonic() >= next_stats:
            next_stats += 10
            stats = {**monitor.stats().to_json(), "lagP99": None}
            Path(config["stats"]).write_text(json.dumps(stats))
    stop_wall = time.time()
    watcher.cancel()
    pruner.cancel()
    tracked = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    objects = {
        "tracked": sum(tracked.values()),
        "frozen": gc.get_freeze_count(),
        "most": tracked.most_common(12),
    }
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(config["profile"])
    await monitor.stop()
    (steady_lags if steady_lags else warm_lags).extend(scheduler.lags)

    # the slots between the start and 10 s before the stop (later ones may not have started
    # yet when the stop came), against the runs of those slots that started
    until = stop_wall - 10
    expected = 0
    for check in monitor.checks.values():
        offset = slot_offset(check.id, check.interval)
        expected += math.floor((until - offset) / check.interval) - math.floor(
            (start_wall - offset) / check.interval
        )
    started_in_window = sum(1 for due in dues if start_wall < due <= until)
    stats = scheduler.stats
    prune_began = time.perf_counter()
    pruned = await monitor.prune()
    prune_s = time.perf_counter() - prune_began
    await db.close()
    flush_seconds = sorted(writes.pop("flush_seconds"))
    final = {
        "lag": {
            "all": _quantiles(warm_lags + steady_lags),
            "warmup": _quantiles(warm_lags),
            "steady": _quantiles(steady_lags),
        },
        "runs": {
            "expected": expected,
            "started": started_in_window,
            "started_all": stats.started,
            "finished": stats.finished,
            "skipped": stats.skipped,
            "overlapping": stats.overlapping,
        },
        "writes": {
            **writes,
            "write_errors": monitor.write_errors,
            "flush_s": _quantiles(flush_seconds),
        },
        "prune": {"seconds": prune_s, "deleted": pruned, "midway": pruned_midway},
        "gc": collector.report(),
        "loop_stalls": _quantiles(stalls),
        "gc_objects": objects,
    }
    Path(config["final"]).write_text(json.dumps(final))
    return 0


def _observed(url: str, ms: float) -> str:
    """A result's ``observed`` as the monitor stores it for these targets."""
    return json.dumps(
        {
            "values": {"STATUS": 200, "RESPONSE_TIME": ms, "CONNECTED": True, "IP": "127.0.0.1"},
            "phases": {"connect": 0.00031, "processing": 6e-06, "transfer": 2.5e-05, "total": ms},
            "details": {
                "http_version": "HTTP/1.1",
                "body_truncated": False,
                "body_bytes": 3,
                "final_url": url,
                "redirects": [],
            },
            "conditions": [
                {"condition": "[STATUS] == 200", "success": True, "actual": 200},
                {"condition": "[RESPONSE_TIME] < 1000", "success": True, "actual": ms},
            ],
        }
    )


def prefill(database_url: str, check_ids: list[str], per_check: int) -> None:
    """The store as a monitor that has run for a while leaves it: ``per_check`` results per
    check, one a minute, oldest first (retention keeps the latest 100), and each check up."""
    from sqlalchemy.engine import make_url

    now = datetime.now(UTC).replace(microsecond=0)
    began = now - timedelta(minutes=per_check)
    columns = (
        "check_id, location, started_at, duration_ms, success, status, error_kind, message, "
        "observed"
    )
    state_columns = (
        "check_id, state, hard_state, failures, successes, flapping, history, since, "
        "last_result_at, last_status, last_message, last_duration_ms, last_observed"
    )
    observed = _observed("http://127.0.0.1/c/0", 0.7)
    shown = json.loads(observed)
    last = json.dumps({"phases": shown["phases"], "values": shown["values"]})

    message = "all conditions hold"

    def results() -> Iterator[tuple[Any, ...]]:
        for minute in range(per_check):
            at = began + timedelta(minutes=minute)
            for check_id in check_ids:
                yield (check_id, "local", at, 0.7, True, "up", None, message, observed)

    def states() -> Iterator[tuple[Any, ...]]:
        for check_id in check_ids:
            yield (
                check_id, "up", "up", 0, per_check, False, "u" * 21, began, now, "up",
                message, 0.7, last,
            )  # fmt: skip

    if database_url.startswith("sqlite"):
        stamp = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime in SQLite
        with sqlite3.connect(str(make_url(database_url).database)) as connection:
            connection.executemany(
                f"INSERT INTO check_results ({columns}) VALUES (?,?,?,?,?,?,?,?,?)",
                ((*r[:2], r[2].strftime(stamp), *r[3:]) for r in results()),
            )
            connection.executemany(
                f"INSERT INTO check_states ({state_columns}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                ((*s[:7], s[7].strftime(stamp), s[8].strftime(stamp), *s[9:]) for s in states()),
            )
            connection.commit()
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    import psycopg

    with psycopg.connect(database_url) as c:  # libpq reads options= from the URL
        with c.cursor() as cursor:
            for table, names, rows in (
                ("check_results", columns, results()),
                ("check_states", state_columns, states()),
            ):
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        c.commit()
        c.autocommit = True
        c.execute("ANALYZE check_results")
        c.execute("ANALYZE check_states")


class GcPauses:
    """Collections of the cyclic garbage collector per generation: how many, how long."""

    def __init__(self) -> None:
        self.pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
        self._start = 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.pauses[info["generation"]].append(time.perf_counter() - self._start)

    def report(self) -> dict[str, dict[str, float]]:
        return {
            f"gen{g}": {"count": len(p), "total_s": sum(p), "max_s": max(p, default=0.0)}
            for g, p in self.pauses.items()
        }


def _quantiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"count": 0, "p50": None, "p99": None, "max": None}
    ordered = sorted(values)
    at = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))]  # noqa: E731
    return {"count": len(ordered), "p50": at(0.5), "p99": at(0.99), "max": ordered[-1]}


# ------------------------------------------------------------------------------ report
def _mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MB" if n < 2**30 * 10 else f"{n / 2**30:,.1f} GB"


def _cycle(cpu: dict[str, float]) -> float:
    """The monitor's cores averaged over its 10-minute prune cycle (the steady state's if the
    prune did not fall inside the run)."""
    return cpu.get("monitor_prune_cycle", cpu["monitor_steady"])


def _store(r: dict[str, Any]) -> str:
    return r["store"] + ("" if r["loop"] == "asyncio" else f" ({r['loop']})")


def main_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in results["runs"]:
        lag, runs, cpu, growth = r["lag"]["steady"], r["runs"], r["cpu_cores"], r["growth"]
        ms = lambda v: "-" if v is None else f"{v * 1000:,.0f}"  # noqa: E731
        quiet = cpu.get("monitor_steady_without_prune", cpu["monitor_steady"])
        rows.append(
            [
                f"{r['checks']:,}",
                _store(r),
                f"{r['duration_s']:.0f}",
                f"{ms(lag['p50'])} / {ms(lag['p99'])} / {ms(r['lag']['all']['max'])}",
                f"{runs['started']:,} / {runs['expected']:,}",
                f"{runs['skipped']} / {runs['overlapping']}",
                f"{cpu['monitor_warmup']:.2f} / {quiet:.2f} / {_cycle(cpu):.2f}",
                f"{cpu['nginx_steady']:.2f}"
                + (f" / {cpu['postgres_steady']:.2f}" if r["store"] == "postgresql" else ""),
                _mb(r["memory"]["rss_peak_bytes"]),
                f"{_mb(growth['raw_bytes_per_day'])} / {_mb(growth['steady_bytes_per_day'])}",
                str(r["writes"]["write_errors"]),
            ]
        )
    return rows


MAIN_HEADINGS = [
    "checks",
    "store",
    "s",
    "start lag p50 / p99 / max, ms",
    "runs started / due",
    "skipped / overlapping",
    "monitor cores: warm-up / steady / with the prune",
    "nginx (/ PostgreSQL) cores",
    "RSS peak",
    "store growth per day: raw / after pruning",
    "write errors",
]


def store_rows(results: dict[str, Any]) -> list[list[str]]:
    rows = []
    for r in results["runs"]:
        prune, writes, gc2 = r["prune"], r["writes"], r["gc"]["gen2"]
        midway = prune.get("midway") or {}
        deleted = midway.get("deleted", {}).get("results")
        cpu = prune.get("midway_cpu_s")
        kept = r["tables_after_prune"]["check_results"]["rows"]
        rows.append(
            [
                f"{r['checks']:,}",
                _store(r),
                "-" if deleted is None else f"{deleted:,}",
                "-" if "seconds" not in midway else f"{midway['seconds']:.1f}",
                "-" if cpu is None else f"{cpu:.1f}",
                f"{kept:,} ({kept / r['checks']:.0f})",
                f"{writes['flush_s']['p50']:.2f} / {writes['flush_s']['max']:.2f}",
                f"{gc2['count']} / {gc2['max_s']:.2f}",
                f"{r['growth']['result_row_bytes']:.0f} / {r['growth']['rollup_row_bytes']:.0f}",
                _mb(r["growth"]["results_plateau_bytes"]),
            ]
        )
    return rows


STORE_HEADINGS = [
    "checks",
    "store",
    "prune: results deleted",
    "prune s",
    "prune CPU s",
    "results kept (per check)",
    "flush p50 / max s",
    "full GCs / longest s",
    "bytes per result / rollup row",
    "results table when full",
]


def report(results: dict[str, Any], markdown: bool) -> None:
    print_table(
        "monitor at scale (lag percentiles: steady state; max: whole run)",
        MAIN_HEADINGS,
        main_rows(results),
        markdown,
    )
    print_table("store, prune and pauses", STORE_HEADINGS, store_rows(results), markdown, 220)
    if not markdown:
        for r in results["runs"]:
            print(f"{r['checks']:,} {_store(r)}: " + "; ".join(verdict(r)))


def verdict(r: dict[str, Any]) -> list[str]:
    lag = r["lag"]["steady"]["p99"]
    runs = r["runs"]
    missed = runs["expected"] - runs["started"]
    return [
        f"lag p99 {'met' if lag is not None and lag < TARGET_LAG_P99_S else 'MISSED'}",
        "no missed runs "
        + (
            "met"
            if runs["skipped"] == 0 and runs["overlapping"] == 0 and missed == 0
            else f"MISSED ({missed} not started)"
        ),
        f"CPU {'met' if _cycle(r['cpu_cores']) < TARGET_CPU_CORES else 'MISSED'}",
        f"RSS {'met' if r['memory']['rss_peak_bytes'] < TARGET_RSS_BYTES else 'MISSED'}",
        f"write errors {r['writes']['write_errors']}",
        f"failed results {r['writes']['results'] - r['writes']['succeeded']}",
    ]


# ------------------------------------------------------------------------------ main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--checks", default="10000,50000")
    parser.add_argument("--duration", type=int, default=300, help="seconds per run (> 60)")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--loops", default="asyncio", help="asyncio, uvloop or both")
    parser.add_argument("--ports", type=int, default=4, help="nginx ports the checks spread over")
    parser.add_argument("--concurrency", type=int, default=1000)
    parser.add_argument("--profile", action="store_true", help="cProfile the steady state")
    parser.add_argument(
        "--prefill",
        type=int,
        default=110,
        help="results per check in the store before the run (0: none); the default is the "
        "table just before a prune: the 100 kept and 10 minutes of new ones",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--report", type=Path, help="print the table of an earlier run")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    parser.add_argument("--runner", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.runner:
        return runner(args.runner)
    if args.report:
        report(json.loads(args.report.read_text()), args.markdown)
        return 0
    if shutil.which("nginx") is None:
        print("nginx is missing: apt-get install nginx", file=sys.stderr)
        return 2
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "interval_s": INTERVAL,
        "duration_s": args.duration,
        "runs": [],
    }
    work = Path(tempfile.mkdtemp(prefix="infradex-monitor-scale-"))
    work.chmod(0o755)
    ports = free_ports(args.ports)
    nginx = start_nginx(work / "nginx", ports)
    try:
        for checks in [int(c) for c in args.checks.split(",")]:
            catalog = work / f"catalog-{checks}"
            write_catalog(catalog, checks, ports)
            for store in args.stores.split(","):
                for loop in args.loops.split(","):
                    print(f"{checks} checks on {store} ({loop}), {args.duration} s", flush=True)
                    result = run_one(args, work, catalog, checks, store, loop, nginx)
                    results["runs"].append(result)
                    print("  " + "; ".join(verdict(result)), flush=True)
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    args.out.write_text(json.dumps(results, indent=2))
    finally:
        nginx.terminate()
        nginx.wait()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    report(results, markdown=False)
    print(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
