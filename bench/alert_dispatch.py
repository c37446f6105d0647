"""Alert dispatch: escalate 1,000 (then 10,000) due incidents and deliver their pages by email.

    .venv/bin/python bench/alert_dispatch.py [--incidents 1000,10000] [--stores sqlite,postgresql]

For each store and each number N, in a fresh store (SQLite: a file, WAL; PostgreSQL: a schema of
its own, ``bench_alerting``, created and dropped here, nothing in ``public`` is touched):

1. **Incidents.** A generated catalog of N services with one check each, 8 people with an email
   address, a weekly schedule rotating through them and an EscalationPolicy with
   ``default: true`` (step 1 after 0m: the schedule; step 2 after 15m: a lead, not yet due).
   N open incidents, one per service with its failing check as the root member, are written
   with ``infradex.alerting.records.save`` and the policy snapshot the alerter takes
   (``PolicySnapshot.of(catalog, policy_for(…))``), so each one's escalation is due.
2. **Escalation turn.** ``Alerter.turn()`` once, with a fixed clock, reading check states
   and maintenance from the store (as ``tests/integration/server/alerting_harness.py``'s Rig): every
   incident escalates in its own transaction (its step resolved through the schedule, two
   one-click links, the page rendered and queued as one outbox row, the timeline event).
3. **Dispatch.** A ``Dispatcher`` with the server's notifiers (``notifiers_for``; email to
   ``INFRADEX_SMTP_URL`` = the local mail server) runs ``run_once`` until the outbox is empty:
   claim up to 100 due rows, send them (up to 20 at a time, each through smtplib in a worker
   thread, one connection per message), record each outcome and its timeline event. The
   claim, send and record phases are timed separately.
4. **Peers**, the same N rendered messages (read back from the outbox and formatted by
   infradex's own ``build_email``) sent with Python's smtplib, one connection per message,
   nothing recorded: in a plain loop, and from as many threads as the dispatcher's sends get
   (asyncio's default executor: min(32, CPUs + 4)). The ratio is what claiming and recording
   cost on top of the transport.

The mail server is aiosmtpd in a child process of this script (so its CPU is not the
measured process's), on 127.0.0.1, accepting everything; it counts what it accepted, and
every run checks that the count is N and that the outbox holds N rows ``sent``.

PostgreSQL: ``INFRADEX_BENCH_POSTGRES``, else ``INFRADEX_TEST_POSTGRES_URL``, else
``postgresql://postgres@127.0.0.1:5432/test``; skipped if it does not answer.

Results: tables on stdout (``--report FILE --markdown`` prints them again for
docs/benchmarks.md) and ``bench/results/alert_dispatch.json``. ``--profile`` prints where
the escalation turn and the dispatch spend their time (cProfile, main thread).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import cProfile
import io
import json
import os
import platform
import pstats
import shutil
import smtplib
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).parent))
from report_tables import print_table

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEFAULT_OUT = ROOT / "bench" / "results" / "alert_dispatch.json"
POSTGRES = (
    os.environ.get("INFRADEX_BENCH_POSTGRES")
    or os.environ.get("INFRADEX_TEST_POSTGRES_URL")
    or "postgresql://postgres@127.0.0.1:5432/test"
)
SCHEMA = "bench_alerting"
PEOPLE = 8
SENDER = "infradex@bench.example"
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # the incidents open; a Thursday
T1 = T0 + timedelta(seconds=1)  # the escalation turn
T2 = T0 + timedelta(seconds=2)  # the dispatch
#: asyncio.to_thread's pool: the most sends that can be in flight at once
DEFAULT_EXECUTOR_WORKERS = min(32, (os.cpu_count() or 1) + 4)
CLK_TCK = os.sysconf("SC_CLK_TCK")

T = TypeVar("T")


# ------------------------------------------------------------------------------ mail sink
def sink(port: int) -> int:
    """The child process: an aiosmtpd server that counts what it accepts. Commands on stdin:
    ``count`` (prints accepted and pages), ``reset``, ``quit``."""
    from aiosmtpd.controller import Controller

    class Counter:
        accepted = 0
        pages = 0

        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            self.accepted += 1
            self.pages += b"Subject: [infradex] DOWN" in envelope.content
            return "250 OK queued"

    handler = Counter()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    print("ready", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "reset":
            handler.accepted = handler.pages = 0
        elif command == "quit":
            break
        print(json.dumps({"accepted": handler.accepted, "pages": handler.pages}), flush=True)
    controller.stop()
    return 0


class Sink:
    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.process = subprocess.Popen(
            [PYTHON, __file__, "--sink", str(self.port)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError("the mail sink did not start")

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def ask(self, command: str) -> dict[str, int]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer: dict[str, int] = json.loads(self.process.stdout.readline())
        return answer

    def cpu(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("quit\n")
        self.process.stdin.flush()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait()


# ------------------------------------------------------------------------------ catalog
def write_catalog(directory: Path, services: int) -> None:
    directory.mkdir(parents=True)
    people = [
        "apiVersion: infradex/v1\nkind: Person\n"
        f"metadata: {{name: p{i}, title: Person {i}}}\n"
        f"spec: {{email: p{i}@bench.example, staff: true, timezone: UTC}}\n"
        for i in range(PEOPLE)
    ]
    members = ", ".join(f"person:p{i}" for i in range(1, PEOPLE))
    people.append(
        "apiVersion: infradex/v1\nkind: Schedule\n"
        "metadata: {name: primary, title: Primary on call}\n"
        "spec:\n  timezone: UTC\n  layers:\n"
        f"    - {{name: primary, members: [{members}], rotation: weekly, "
        'handoff: "Mon 09:00", start: "2024-01-01"}\n'
    )
    people.append(
        "apiVersion: infradex/v1\nkind: EscalationPolicy\n"
        "metadata: {name: standard, title: Standard}\n"
        "spec:\n  default: true\n  steps:\n"
        "    - {after: 0m, notify: [schedule:primary]}\n"
        "    - {after: 15m, notify: [person:p0]}\n"
    )
    (directory / "people.yaml").write_text("---\n".join(people), encoding="utf-8")
    for start in range(0, services, 500):
        docs = [
            "apiVersion: infradex/v1\nkind: Service\n"
            f"metadata: {{name: svc-{i:05d}, title: Service {i}}}\n"
            "spec:\n"
            f"  owners: [{{ref: person:p{i % PEOPLE}}}, {{ref: person:p{(i + 1) % PEOPLE}}}]\n"
            f'  checks:\n    - {{name: http, url: "http://127.0.0.1:9/svc-{i:05d}", '
            "interval: 60s}\n"
            for i in range(start, min(start + 500, services))
        ]
        (directory / f"services-{start // 500:03d}.yaml").write_text(
            "---\n".join(docs), encoding="utf-8"
        )


def load_catalog(directory: Path) -> Any:
    from infradex.catalog import load

    loaded = load(directory)
    if loaded.catalog is None:
        raise RuntimeError("; ".join(str(p) for p in loaded.errors[:5]))
    return loaded.catalog


# ------------------------------------------------------------------------------ stores
def postgres_url() -> str:
    separator = "&" if "?" in POSTGRES else "?"
    return f"{POSTGRES}{separator}options=-csearch_path%3D{SCHEMA}"


async def postgres_reachable() -> str | None:
    """None if PostgreSQL answers, else why not."""
    from infradex.store.db import Database

    db = Database(POSTGRES)
    try:
        await asyncio.wait_for(db.ping(), 10)
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]
    finally:
        await db.close()


async def postgres_schema(create: bool) -> None:
    from sqlalchemy import text

    from infradex.store.db import Database

    db = Database(POSTGRES)
    try:
        async with db.begin() as connection:
            await connection.execute(text(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"))
            if create:
                await connection.execute(text(f"CREATE SCHEMA {SCHEMA}"))
    finally:
        await db.close()


# ------------------------------------------------------------------------------ one run
class Phases:
    """Wall time spent inside wrapped coroutines, by name."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.calls: dict[str, int] = {}

    def wrap(self, name: str, function: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
        async def timed(*args: Any, **kwargs: Any) -> T:
            started = time.perf_counter()
            try:
                return await function(*args, **kwargs)
            finally:
                self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - started
                self.calls[name] = self.calls.get(name, 0) + 1

        return timed


async def create_incidents(db: Any, catalog: Any, count: int, progress: Any) -> float:
    from infradex.alerting import records
    from infradex.alerting.incidents import Event, Incident, Member
    from infradex.catalog.refs import Ref
    from infradex.oncall.escalation import PolicySnapshot, policy_for

    task = progress.add_task("incidents", total=count)
    started = time.perf_counter()
    for start in range(0, count, 500):
        async with db.begin() as connection:
            for i in range(start, min(start + 500, count)):
                ref = Ref("service", f"svc-{i:05d}")
                check = f"{ref}/http"
                message = "[STATUS] < 400: got 503"
                incident = Incident(str(ref), f"Service {i} is down", T0)
                incident.members[check] = Member(check, str(ref), "root", T0, None, message)
                incident.events.append(Event(T0, "opened", {"check": check, "message": message}))
                incident.events.append(
                    Event(
                        T0, "check_down", {"check": check, "entity": str(ref), "message": message}
                    )
                )
                policy = PolicySnapshot.of(catalog, policy_for(catalog, ref)).to_dict()
                await records.save(connection, incident, T0, policy)
        progress.update(task, completed=min(start + 500, count))
    return time.perf_counter() - started


async def outbox_rows(db: Any) -> list[tuple[int, str, Any]]:
    """(id, address, Message) of every queued row, as the dispatcher would read them."""
    from sqlalchemy import select

    from infradex.channels.base import Message
    from infradex.store.tables import notifications

    async with db.begin() as connection:
        rows = await connection.execute(
            select(notifications.c.id, notifications.c.target, notifications.c.payload).order_by(
                notifications.c.id
            )
        )
        return [(r.id, r.target, Message.from_dict(r.payload["message"])) for r in rows]


async def outbox_status(db: Any) -> dict[str, int]:
    """Outbox rows by status."""
    from sqlalchemy import func, select

    from infradex.store.tables import notifications

    async with db.begin() as connection:
        rows = await connection.execute(
            select(notifications.c.status, func.count()).group_by(notifications.c.status)
        )
        return {str(status): int(count) for status, count in rows}


def smtplib_send(port: int, message: Any, address: str, delivery: str) -> None:
    """One message, one connection: what the email notifier does, minus the outbox."""
    from infradex.channels.email import build_email

    email = build_email(message, SENDER, address, delivery)
    with smtplib.SMTP("127.0.0.1", port, timeout=15) as client:
        refused = client.send_message(email)
    if refused:
        raise RuntimeError(f"refused: {refused}")


def peer_run(
    sink_: Sink, rows: list[tuple[int, str, Any]], threads: int, progress: Any, label: str
) -> dict[str, Any]:
    task = progress.add_task(label, total=len(rows))
    sink_.ask("reset")
    sink_cpu, cpu, started = sink_.cpu(), time.process_time(), time.perf_counter()
    if threads <= 1:
        for n, (row_id, address, message) in enumerate(rows, 1):
            smtplib_send(sink_.port, message, address, str(row_id))
            if n % 100 == 0:
                progress.update(task, completed=n)
    else:
        with concurrent.futures.ThreadPoolExecutor(threads) as pool:
            futures = [
                pool.submit(smtplib_send, sink_.port, message, address, str(row_id))
                for row_id, address, message in rows
            ]
            for n, future in enumerate(concurrent.futures.as_completed(futures), 1):
                future.result()
                if n % 100 == 0:
                    progress.update(task, completed=n)
    wall = time.perf_counter() - started
    result = {
        "threads": threads,
        "wall_s": wall,
        "cpu_s": time.process_time() - cpu,
        "sink_cpu_s": sink_.cpu() - sink_cpu,
        "msgs_per_s": len(rows) / wall,
        "accepted": sink_.ask("count")["accepted"],
    }
    progress.update(task, completed=len(rows))
    return result


def profile_text(profiler: cProfile.Profile, lines: int = 30) -> str:
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(lines)
    stats.sort_stats("tottime").print_stats(lines)
    return out.getvalue()


async def run_one(
    store: str, count: int, catalog: Any, work: Path, sink_: Sink, args: argparse.Namespace
) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from infradex.alerting import outbox
    from infradex.alerting.dispatcher import Dispatcher
    from infradex.alerting.service import Alerter, AlertSettings
    from infradex.channels.registry import notifiers_for
    from infradex.settings import Settings
    from infradex.store.db import Database

    if store == "postgresql":
        await postgres_schema(create=True)
        url = postgres_url()
    else:
        url = f"sqlite:///{work / f'store-{count}.db'}"
    db = Database(url)
    result: dict[str, Any] = {"store": store, "incidents": count}
    profiles: dict[str, str] = {}
    progress = Progress(
        TextColumn("  {task.description:>22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    try:
        await db.upgrade()
        with progress:
            result["create_s"] = await create_incidents(db, catalog, count, progress)

            now = {"value": T1}
            clock = lambda: now["value"]  # noqa: E731
            settings = Settings(
                catalog=Path("."),
                catalog_is_embedded=False,
                data_dir=work,
                database_url=url,
                secret_key="bench",
                public_read=True,
                smtp_url=sink_.url,
                mail_from=SENDER,
            )
            dispatcher = Dispatcher(db, notifiers_for(settings), clock=clock)
            alerter = Alerter(
                db,
                {},
                settings=AlertSettings(base_url="http://infradex.bench"),
                clock=clock,
                dispatcher=dispatcher,
            )
            alerter.set_catalog(catalog)

            task = progress.add_task("escalation turn", total=1)
            profiler = cProfile.Profile() if args.profile else None
            cpu, started = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            queued = await alerter.turn(T1)
            if profiler:
                profiler.disable()
                profiles["turn"] = profile_text(profiler)
            result["turn"] = {
                "wall_s": time.perf_counter() - started,
                "cpu_s": time.process_time() - cpu,
                "queued": queued,
            }
            progress.update(task, completed=1)

            rows = await outbox_rows(db)
            result["outbox_rows"] = len(rows)

            # the dispatch, its phases timed through the module functions it calls
            phases = Phases()
            original = {"claim": outbox.claim}
            outbox.claim = phases.wrap("claim", outbox.claim)  # type: ignore[assignment]
            dispatcher._record = phases.wrap("record", dispatcher._record)  # type: ignore[assignment]
            now["value"] = T2
            sink_.ask("reset")
            task = progress.add_task("infradex dispatcher", total=len(rows))
            profiler = cProfile.Profile() if args.profile else None
            sink_cpu, cpu, started = sink_.cpu(), time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            batches = sends_wall = 0.0
            try:
                while True:
                    batch_started = time.perf_counter()
                    before = phases.seconds.get("claim", 0.0) + phases.seconds.get("record", 0.0)
                    outcomes = await dispatcher.run_once(T2)
                    if not outcomes:
                        break
                    batches += 1
                    after = phases.seconds.get("claim", 0.0) + phases.seconds.get("record", 0.0)
                    sends_wall += time.perf_counter() - batch_started - (after - before)
                    progress.update(task, advance=len(outcomes))
            finally:
                outbox.claim = original["claim"]
            if profiler:
                profiler.disable()
                profiles["dispatch"] = profile_text(profiler)
            wall = time.perf_counter() - started
            counted = sink_.ask("count")
            totals = dispatcher.totals
            result["dispatch"] = {
                "wall_s": wall,
                "cpu_s": time.process_time() - cpu,
                "sink_cpu_s": sink_.cpu() - sink_cpu,
                "msgs_per_s": totals.sent / wall if wall else 0.0,
                "sent": totals.sent,
                "retried": totals.retried,
                "failed": totals.failed,
                "last_error": totals.last_error,
                "batches": int(batches),
                "claim_s": phases.seconds.get("claim", 0.0),
                "send_s": sends_wall,
                "record_s": phases.seconds.get("record", 0.0),
                "accepted": counted["accepted"],
                "pages": counted["pages"],
                "outbox": await outbox_status(db),
                "executor_workers": DEFAULT_EXECUTOR_WORKERS,
            }
            result["peers"] = {
                "smtplib loop": peer_run(sink_, rows, 1, progress, "smtplib loop"),
                f"smtplib, {DEFAULT_EXECUTOR_WORKERS} threads": peer_run(
                    sink_,
                    rows,
                    DEFAULT_EXECUTOR_WORKERS,
                    progress,
                    f"smtplib {DEFAULT_EXECUTOR_WORKERS} threads",
                ),
            }
    finally:
        await db.close()
        if store == "postgresql":
            await postgres_schema(create=False)
    result["profiles"] = profiles
    return result


def problems(r: dict[str, Any]) -> list[str]:
    n, d = r["incidents"], r["dispatch"]
    found = []
    if r["turn"]["queued"] != n or r["outbox_rows"] != n:
        found.append(f"queued {r['turn']['queued']} / {r['outbox_rows']} rows, not {n}")
    if d["sent"] != n or d["accepted"] != n or d["pages"] != n or d["outbox"] != {"sent": n}:
        found.append(
            f"sent {d['sent']}, accepted {d['accepted']}, pages {d['pages']}, outbox "
            f"{d['outbox']}; last error {d['last_error']}"
        )
    for name, peer in r["peers"].items():
        if peer["accepted"] != n:
            found.append(f"{name}: accepted {peer['accepted']} of {n}")
    return found


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from rich.console import Console

    console = Console()
    counts = [int(c) for c in args.incidents.split(",")]
    stores = args.stores.split(",")
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "sqlite": __import__("sqlite3").sqlite_version,
            "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "pythonpath": os.environ.get("PYTHONPATH", ""),
        "commit": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
        "runs": [],
        "skipped": {},
    }
    if "postgresql" in stores:
        why = await postgres_reachable()
        if why:
            console.print(f"PostgreSQL at {POSTGRES} does not answer ({why}): SQLite only")
            results["skipped"]["postgresql"] = why
            stores.remove("postgresql")
    work = Path(tempfile.mkdtemp(prefix="infradex-alert-dispatch-"))
    sink_ = Sink()
    try:
        for count in counts:
            console.print(f"catalog: {count:,} services")
            write_catalog(work / f"catalog-{count}", count)
            catalog = load_catalog(work / f"catalog-{count}")
            for store in stores:
                console.print(f"{count:,} incidents on {store}")
                result = await run_one(store, count, catalog, work, sink_, args)
                results["runs"].append(result)
                d = result["dispatch"]
                peers = ", ".join(
                    f"{name} {p['msgs_per_s']:,.0f}/s" for name, p in result["peers"].items()
                )
                console.print(
                    f"  turn {result['turn']['wall_s']:.2f} s; dispatch {d['msgs_per_s']:,.0f} "
                    f"messages/s; {peers}"
                )
                for text in problems(result):
                    console.print(f"  PROBLEM: {text}", style="red")
                for name, text in result["profiles"].items():
                    console.print(f"--- profile: {name} ---\n{text}")
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(results, indent=2))
    finally:
        sink_.stop()
        shutil.rmtree(work, ignore_errors=True)
    results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    return results


# ------------------------------------------------------------------------------ report
def tables(results: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    turn_rows, dispatch_rows, phase_rows = [], [], []
    for r in results["runs"]:
        n, t, d = r["incidents"], r["turn"], r["dispatch"]
        turn_rows.append(
            [
                r["store"],
                f"{n:,}",
                f"{t['wall_s']:.2f}",
                f"{t['wall_s'] * 1000 / n:.2f}",
                f"{t['cpu_s'] * 1000 / n:.2f}",
                f"{n / t['wall_s']:,.0f}",
                f"{r['create_s']:.2f}",
            ]
        )
        peers = list(r["peers"].values())
        dispatch_rows.append(
            [
                r["store"],
                f"{n:,}",
                f"{d['msgs_per_s']:,.0f}",
                f"{d['cpu_s'] * 1000 / n:.2f}",
                f"{peers[0]['msgs_per_s']:,.0f}",
                f"{peers[0]['cpu_s'] * 1000 / n:.2f}",
                f"{peers[1]['msgs_per_s']:,.0f}",
                f"{d['msgs_per_s'] / peers[0]['msgs_per_s']:.2f}×",
                f"{d['msgs_per_s'] / peers[1]['msgs_per_s']:.2f}×",
            ]
        )
        phase_rows.append(
            [
                r["store"],
                f"{n:,}",
                f"{d['wall_s']:.2f}",
                f"{d['claim_s']:.2f}",
                f"{d['send_s']:.2f}",
                f"{d['record_s']:.2f}",
                f"{d['sink_cpu_s'] / d['wall_s']:.2f}",
                f"{peers[1]['sink_cpu_s'] / peers[1]['wall_s']:.2f}",
            ]
        )
    threads = f"{DEFAULT_EXECUTOR_WORKERS} threads"
    if results["runs"]:
        threads = list(results["runs"][0]["peers"])[1].removeprefix("smtplib, ")
    return [
        (
            "escalation turn: every incident due at once (Alerter.turn)",
            [
                "store",
                "incidents",
                "turn s",
                "ms/incident",
                "CPU ms/incident",
                "incidents/s",
                "creating them, s",
            ],
            turn_rows,
        ),
        (
            "dispatch: deliver every queued page to the local mail server",
            [
                "store",
                "messages",
                "infradex msg/s",
                "CPU ms/msg",
                "smtplib loop msg/s",
                "CPU ms/msg",
                f"smtplib {threads} msg/s",
                "infradex ÷ loop",
                f"infradex ÷ {threads}",
            ],
            dispatch_rows,
        ),
        (
            "where the dispatcher's time goes (s, wall) and the mail server's load (cores)",
            [
                "store",
                "messages",
                "total",
                "claim",
                "send",
                "record",
                "sink cores (infradex)",
                f"sink cores (smtplib {threads})",
            ],
            phase_rows,
        ),
    ]


def report(results: dict[str, Any], markdown: bool) -> None:
    for title, headings, rows in tables(results):
        print_table(title, headings, rows, markdown)
    if not markdown:
        for r in results["runs"]:
            for text in problems(r):
                print(f"{r['incidents']:,} on {r['store']}: PROBLEM {text}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", default="1000,10000", help="e.g. 1000 or 1000,10000")
    parser.add_argument("--stores", default="sqlite,postgresql")
    parser.add_argument("--profile", action="store_true", help="cProfile the turn and dispatch")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--report", type=Path, help="print the tables of an earlier run")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        return sink(args.sink)
    if args.report:
        report(json.loads(args.report.read_text()), args.markdown)
        return 0
    results = asyncio.run(run(args))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    report(results, markdown=False)
    print(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
