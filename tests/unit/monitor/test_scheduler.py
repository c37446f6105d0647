"""The scheduler in real time with short intervals: spread, bounded, never overlapping,
skipping after a pause, updated while running."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict

from infradex.monitor.checks import CheckDef
from infradex.monitor.scheduler import Scheduler, next_slot, slot_offset
from infradex.probes.base import ProbeRequest


def check(name: str, interval: float = 0.2) -> CheckDef:
    return CheckDef(
        id=f"service:s/{name}",
        owner="service:s",
        name=name,
        request=ProbeRequest(f"http://127.0.0.1:9/{name}", timeout=interval / 2),
        interval=interval,
        conditions=(),
    )


def test_offsets_are_stable_and_spread_over_the_interval() -> None:
    offsets = [slot_offset(f"service:s/c{i}", 60.0) for i in range(10_000)]
    assert offsets == [slot_offset(f"service:s/c{i}", 60.0) for i in range(10_000)]
    assert all(0 <= o < 60 for o in offsets)
    per_second = defaultdict(int)
    for o in offsets:
        per_second[int(o)] += 1
    # 10,000 checks over 60 s: about 167 a second, never a crowd in one second
    assert max(per_second.values()) < 250 and len(per_second) == 60


def test_next_slot_is_strictly_later_and_on_the_grid() -> None:
    c = check("a", interval=60.0)
    at = 1_800_000_000.0
    slot = next_slot(c, at)
    assert at < slot <= at + 60
    assert abs(((slot - slot_offset(c.id, 60.0)) / 60.0) % 1) < 1e-9
    assert next_slot(c, slot) == slot + 60


async def test_each_check_runs_at_its_interval_and_never_overlaps() -> None:
    starts: dict[str, list[float]] = defaultdict(list)
    running: set[str] = set()
    overlaps = []

    async def run(c: CheckDef, due: float) -> None:
        if c.id in running:
            overlaps.append(c.id)
        running.add(c.id)
        starts[c.id].append(time.time())
        await asyncio.sleep(0.3 if c.name == "slow" else 0.01)  # slow outlasts its interval
        running.discard(c.id)

    scheduler = Scheduler(run, concurrency=10)
    scheduler.update([check("a"), check("b"), check("slow")])
    task = asyncio.create_task(scheduler.run_forever())
    await asyncio.sleep(1.25)
    await scheduler.stop()
    task.cancel()
    assert overlaps == []
    for name in ("a", "b"):
        runs = starts[f"service:s/{name}"]
        assert 5 <= len(runs) <= 7, runs
        gaps = [b - a for a, b in itertools.pairwise(runs)]
        assert all(0.15 < g < 0.25 for g in gaps), gaps
    assert scheduler.stats.overlapping >= 1  # the slow check's slots were skipped, not stacked
    lag = scheduler.lag_quantile(0.99)
    assert lag is not None and lag < 0.1


async def test_concurrency_is_bounded() -> None:
    active = 0
    peak = 0

    async def run(c: CheckDef, due: float) -> None:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.15)
        active -= 1

    scheduler = Scheduler(run, concurrency=3)
    scheduler.update([check(f"c{i}", interval=0.3) for i in range(12)])
    task = asyncio.create_task(scheduler.run_forever())
    await asyncio.sleep(0.7)
    await scheduler.stop()
    task.cancel()
    assert peak == 3


async def test_after_a_pause_missed_slots_are_skipped_not_burst() -> None:
    fake_now = [1_800_000_000.0]
    calls: list[str] = []

    async def run(c: CheckDef, due: float) -> None:
        calls.append(c.id)

    scheduler = Scheduler(run, concurrency=100, clock=lambda: fake_now[0])
    scheduler.update([check(f"c{i}", interval=60.0) for i in range(50)])
    task = asyncio.create_task(scheduler.run_forever())
    fake_now[0] += 600  # the process slept through ten intervals
    scheduler.update([check(f"c{i}", interval=60.0) for i in range(50)])  # wakes the loop
    await asyncio.sleep(0.05)
    # nothing made up: only the checks whose slot was in the last 5 s run (about 50 * 5 / 60)
    assert len(calls) <= 8
    assert scheduler.stats.skipped >= 50 * 9
    calls.clear()
    for _ in range(60):  # the next minute, a second at a time: each check runs at its slot
        fake_now[0] += 1
        scheduler.update([check(f"c{i}", interval=60.0) for i in range(50)])
        await asyncio.sleep(0.002)
    await scheduler.stop()
    task.cancel()
    assert sorted(calls) == sorted(f"service:s/c{i}" for i in range(50))


async def test_update_adds_removes_and_changes_checks_while_running() -> None:
    seen: dict[str, list[CheckDef]] = defaultdict(list)

    async def run(c: CheckDef, due: float) -> None:
        seen[c.id].append(c)

    scheduler = Scheduler(run)
    scheduler.update([check("a"), check("b")])
    task = asyncio.create_task(scheduler.run_forever())
    await asyncio.sleep(0.45)
    a2 = CheckDef(
        id="service:s/a",
        owner="service:s",
        name="a",
        request=ProbeRequest("http://127.0.0.1:9/changed", timeout=0.1),
        interval=0.2,
        conditions=(),
    )
    counts = scheduler.update([a2, check("c")])
    assert counts == {"added": 1, "removed": 1, "changed": 1}
    b_runs = len(seen["service:s/b"])
    await asyncio.sleep(0.45)
    await scheduler.stop()
    task.cancel()
    assert len(seen["service:s/b"]) == b_runs  # removed: no more runs
    assert seen["service:s/c"]  # added: runs
    assert seen["service:s/a"][-1].request.url.endswith("/changed")  # changed: new definition
