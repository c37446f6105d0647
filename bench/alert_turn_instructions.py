"""The escalation turn's cost in instructions, before and after a change, on a loaded machine.

    .venv/bin/python bench/alert_turn_instructions.py \\
        --side before=/work/wt/pre/src --side after=src [--incidents 300] [--repeat 3]

Wall and CPU time move with whatever else the machine runs; the instructions a piece of code
executes hardly do. For each side (a ``src`` directory: another worktree, a ``git archive``
copy), this runs the escalation turn of ``bench/alert_dispatch.py`` (the same catalog, the same
N due incidents, the same alerter) in a child process under valgrind's callgrind, with
instrumentation switched on (``callgrind_control -i on``) only around ``Alerter.turn``: the
count covers every thread of the process (the event loop and aiosqlite's worker thread, where
SQLite runs), not the catalog load or the incidents' creation. The store is SQLite (a file,
WAL); ``--store postgresql`` counts the client side only (the server is another process).
The sides run interleaved, ``--repeat`` times each, with ``PYTHONHASHSEED=0``.

Every child checks that the turn queued one page per incident. Results: a table on stdout and
``bench/results/alert_turn_instructions.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from report_tables import print_table

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench" / "results" / "alert_turn_instructions.json"


# ------------------------------------------------------------------------------ the child
class NoProgress:
    """What ``create_incidents`` asks of a progress display, showing nothing."""

    def add_task(self, *_: Any, **__: Any) -> int:
        return 0

    def update(self, *_: Any, **__: Any) -> None:
        pass


def instrument(state: str) -> None:
    """Switch callgrind's instrumentation of this process on or off."""
    subprocess.run(
        ["callgrind_control", "--instr=" + state, str(os.getpid())],
        check=True,
        capture_output=True,
    )


async def child(count: int, store: str, windows: int, work: Path) -> dict[str, Any]:
    import alert_dispatch as bench
    from infradex.alerting.dispatcher import Dispatcher
    from infradex.store.db import Database

    bench.write_catalog(work / "catalog", count, windows)
    catalog = bench.load_catalog(work / "catalog")
    if store == "postgresql":
        await bench.postgres_schema(create=True)
        url = bench.postgres_url()
    else:
        url = f"sqlite:///{work / 'store.db'}"
    db = Database(url)
    try:
        await db.upgrade()
        await bench.create_incidents(db, catalog, count, NoProgress())
        clock = lambda: bench.T1  # noqa: E731
        alerter = bench.alerter_for_bench(db, catalog, clock, Dispatcher(db, {}, clock=clock))
        with bench.Statements(db) as statements:
            instrument("on")
            cpu = time.process_time()
            queued = await alerter.turn(bench.T1)
            cpu = time.process_time() - cpu
            instrument("off")
    finally:
        await db.close()
        if store == "postgresql":
            await bench.postgres_schema(create=False)
    return {"queued": queued, "statements": statements.count, "cpu_s_under_valgrind": cpu}


# ------------------------------------------------------------------------------ the parent
def measure(side: str, src: str, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="infradex-turn-instructions-") as work:
        out = Path(work) / "callgrind.out"
        env = {**os.environ, "PYTHONPATH": src, "PYTHONHASHSEED": "0", "PYTHONMALLOC": "malloc"}
        command = [
            "valgrind",
            "--tool=callgrind",
            "--instr-atstart=no",
            f"--callgrind-out-file={out}",
            sys.executable,
            __file__,
            "--child",
            work,
            "--incidents",
            str(args.incidents),
            "--store",
            args.store,
            "--windows",
            str(args.windows),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        collected = re.search(r"Collected : (\d+)", done.stderr)
        lines = done.stdout.strip().splitlines()
        if done.returncode != 0 or collected is None or not lines:
            raise RuntimeError(f"{side}: the child failed:\n{done.stdout}\n{done.stderr[-3000:]}")
        result: dict[str, Any] = json.loads(lines[-1])
    if result["queued"] != args.incidents:
        raise RuntimeError(f"{side}: queued {result['queued']}, not {args.incidents}")
    result.update(side=side, src=src, instructions=int(collected[1]))
    result["seconds"] = time.perf_counter() - started
    return result


def report(results: dict[str, Any], markdown: bool) -> None:
    n = results["incidents"]
    rows = []
    sides = list(dict.fromkeys(r["side"] for r in results["runs"]))
    medians = {}
    for side in sides:
        runs = [r for r in results["runs"] if r["side"] == side]
        counts = [r["instructions"] for r in runs]
        medians[side] = statistics.median(counts)
        spread = (max(counts) - min(counts)) / medians[side]
        rows.append(
            [
                side,
                f"{n:,}",
                str(len(runs)),
                f"{medians[side] / 1e9:.3f}",
                f"{medians[side] / n / 1e6:.3f}",
                f"{spread:.2%}",
                f"{runs[0]['statements'] / n:.2f}",
                f"{medians[side] / medians[sides[0]]:.3f}×",
            ]
        )
    print_table(
        f"escalation turn, {results['store']}, {results['windows']} maintenance windows in force: "
        "instructions (callgrind, every thread of the process)",
        [
            "side",
            "incidents",
            "runs",
            "G instructions (median)",
            "M instructions/incident",
            "spread (max-min)/median",
            "SQL statements/incident",
            f"÷ {sides[0]}",
        ],
        rows,
        markdown,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--side", action="append", default=[], help="NAME=SRC_DIR, e.g. before=../pre/src"
    )
    parser.add_argument("--incidents", type=int, default=300)
    parser.add_argument("--store", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--windows", type=int, default=0, help="maintenance windows in force")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--report", type=Path, help="print the table of an earlier run")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = asyncio.run(child(args.incidents, args.store, args.windows, args.child))
        print(json.dumps(result))
        return 0
    if args.report:
        report(json.loads(args.report.read_text()), args.markdown)
        return 0
    sides = [tuple(s.split("=", 1)) for s in args.side]
    if len(sides) < 1 or any(len(s) != 2 for s in sides):
        parser.error("give each side as --side NAME=SRC_DIR (e.g. --side after=src)")
    results: dict[str, Any] = {
        "command": " ".join(sys.argv),
        "incidents": args.incidents,
        "store": args.store,
        "windows": args.windows,
        "runs": [],
    }
    from rich.progress import Progress

    with Progress() as progress:
        task = progress.add_task("turns under callgrind", total=args.repeat * len(sides))
        for repeat in range(args.repeat):
            # interleaved, each round in the other order: a drift in the machine's load
            # does not favour one side
            for side, src in sides if repeat % 2 == 0 else reversed(sides):
                load = Path("/proc/loadavg").read_text().split()[0]
                run = measure(side, str(Path(src).resolve()), args)
                run.update(repeat=repeat + 1, loadavg=load)
                results["runs"].append(run)
                progress.update(task, advance=1)
                progress.console.print(
                    f"{side} #{repeat + 1}: {run['instructions']:,} instructions, "
                    f"{run['statements']} statements (load {load})"
                )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    report(results, markdown=False)
    print(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
