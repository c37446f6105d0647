"""The status page's part of the alerter's turn during a burst: N open incidents at once.

    .venv/bin/python bench/status_automation.py [--incidents 100,1000] [--stores sqlite,postgresql]

For each store and N, in a fresh store (SQLite: a file; PostgreSQL: the schema
``bench_alerting`` of ``bench/alert_dispatch.py``, created and dropped here): the catalog of
``bench/alert_dispatch.py`` (N services with one check each, the people and policy that page
for them) with every service a status component, N open incidents written as the alerter
writes them (``alert_dispatch.create_incidents``) and their checks stored as down, then:

1. **peer: the escalation turn**, ``Alerter.turn()`` once without hooks: every incident
   escalates (a page rendered and queued each), as ``bench/alert_dispatch.py`` measures;
2. **drafting**: the hook (``PublicIncidentAutomation.after_correlation``) once with
   ``changed``: N drafts written (component states derived once, one draft per incident);
3. **a changed turn with nothing new**: the hook again with ``changed``: every draft read
   back and compared, nothing written (what each turn of a burst pays);
4. **a quiet turn**: the hook without ``changed`` and nothing due: nothing read.

The ratios say what the status page adds to a turn of the same burst, measured in one run.
Results: a table on stdout and ``bench/results/status_automation.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
import alert_dispatch as dispatch_bench
from report_tables import print_table

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUT = ROOT / "bench" / "results" / "status_automation.json"


class _Quiet:
    """A progress bar that shows nothing (create_incidents reports to one)."""

    def add_task(self, *_: Any, **__: Any) -> int:
        return 0

    def update(self, *_: Any, **__: Any) -> None:
        return None


async def _store_down(db: Any, count: int) -> None:
    from sqlalchemy import insert

    from infradex.monitor.evaluate import CheckState, Shown
    from infradex.monitor.history import state_row
    from infradex.store.tables import check_states

    rows = [
        state_row(
            CheckState(
                f"service:svc-{i:05d}/http",
                Shown.DOWN,
                Shown.DOWN,
                failures=3,
                since=dispatch_bench.T0,
                last_result_at=dispatch_bench.T0,
            )
        )
        for i in range(count)
    ]
    async with db.begin() as connection:
        await connection.execute(insert(check_states), rows)


async def _timed(run: Any) -> dict[str, float]:
    cpu, started = time.process_time(), time.perf_counter()
    await run()
    return {"wall_s": time.perf_counter() - started, "cpu_s": time.process_time() - cpu}


async def run_one(store: str, count: int, catalog: Any, work: Path) -> dict[str, Any]:
    from infradex.alerting.dispatcher import Dispatcher
    from infradex.statuspage.automatic import PublicIncidentAutomation
    from infradex.store.db import Database

    if store == "postgresql":
        await dispatch_bench.postgres_schema(create=True)
        url = dispatch_bench.postgres_url()
    else:
        url = f"sqlite:///{work / f'store-{count}.db'}"
    db = Database(url)
    try:
        await db.upgrade()
        await dispatch_bench.create_incidents(db, catalog, count, _Quiet())
        await _store_down(db, count)
        clock = lambda: dispatch_bench.T1  # noqa: E731
        alerter = dispatch_bench.alerter_for_bench(db, catalog, clock, Dispatcher(db, {}))
        hook = PublicIncidentAutomation(None)
        write = alerter._leader_write  # the turn's own fenced transaction
        t1 = dispatch_bench.T1
        result: dict[str, Any] = {"store": store, "incidents": count}
        result["turn"] = await _timed(lambda: alerter.turn(t1))
        result["drafting"] = await _timed(
            lambda: hook.after_correlation(write, catalog, t1, changed=True)
        )
        result["unchanged"] = await _timed(
            lambda: hook.after_correlation(write, catalog, t1, changed=True)
        )
        result["quiet"] = await _timed(
            lambda: hook.after_correlation(write, catalog, t1, changed=False)
        )
        from sqlalchemy import func, select

        from infradex.store.tables import public_incidents

        async with db.begin() as connection:
            drafts = (
                await connection.execute(select(func.count()).select_from(public_incidents))
            ).scalar_one()
        if drafts != count:
            raise RuntimeError(f"{drafts} drafts for {count} incidents")
        result["drafts"] = drafts
        return result
    finally:
        await db.close()
        if store == "postgresql":
            await dispatch_bench.postgres_schema(create=False)


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    from infradex.catalog import load

    results = []
    with tempfile.TemporaryDirectory(prefix="infradex-bench-") as tmp:
        work = Path(tmp)
        for count in args.incidents:
            directory = work / f"catalog-{count}"
            dispatch_bench.write_catalog(directory, count)
            for path in directory.glob("services-*.yaml"):  # each service a component
                text = path.read_text(encoding="utf-8")
                path.write_text(text.replace("spec:\n  owners:", "spec:\n  status: {}\n  owners:"))
            loaded = load(directory)
            assert loaded.catalog is not None
            for store in args.stores:
                if store == "postgresql" and await dispatch_bench.postgres_reachable():
                    print("PostgreSQL does not answer: skipped", file=sys.stderr)
                    continue
                results.append(await run_one(store, count, loaded.catalog, work))
    return results


def table(results: list[dict[str, Any]], markdown: bool) -> None:
    def share(part: str, digits: int) -> str:
        seconds = r[part]["wall_s"]
        return f"{seconds:.{digits}f} ({seconds / r['turn']['wall_s']:.{digits}f}×)"

    rows = []
    for r in results:
        rows.append(
            [
                r["store"],
                str(r["incidents"]),
                f"{r['turn']['wall_s']:.2f}",
                share("drafting", 2),
                share("unchanged", 3),
                f"{r['quiet']['wall_s'] * 1e6:.0f} µs",
            ]
        )
    print_table(
        "The status page's part of a turn, N open incidents",
        [
            "store",
            "incidents",
            "escalation turn s (peer)",
            "drafting s",
            "changed, nothing new s",
            "quiet turn",
        ],
        rows,
        markdown,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", default="100,1000",
                        type=lambda v: [int(x) for x in v.split(",")])  # fmt: skip
    parser.add_argument("--stores", default="sqlite", type=lambda v: v.split(","))
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--markdown", action="store_true", help="the table for benchmarks.md")
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    table(results, args.markdown)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
