"""Runs each check at its interval, spread over the interval by a stable per-check offset.

- The offset comes from a hash of the check id, so ten thousand checks never fire together and
  a check keeps its slot across restarts and reloads.
- At most ``concurrency`` checks run at once; a check never runs twice at the same time.
- A run that could not start soon after its slot (5 s, or half the interval if shorter: the
  process was paused, the machine was asleep) is skipped, not made up: after a pause the
  checks carry on at their next slots instead of bursting.
- :meth:`Scheduler.update` adds, removes and changes checks while running.
"""

from __future__ import annotations

import asyncio
import hashlib
import heapq
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from infradex.monitor.checks import CheckDef

__all__ = ["Scheduler", "SchedulerStats", "slot_offset"]

log = logging.getLogger("infradex.monitor")

#: a run that cannot start this many seconds after its slot (or half its interval) is skipped
LATE = 5.0


def slot_offset(check_id: str, interval: float) -> float:
    """Where in each interval this check runs, in seconds: stable, evenly spread."""
    digest = hashlib.blake2b(check_id.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 * interval


def next_slot(check: CheckDef, after: float) -> float:
    """The first start time strictly after ``after`` (epoch seconds) for this check."""
    offset = slot_offset(check.id, check.interval)
    n = math.floor((after - offset) / check.interval) + 1
    return n * check.interval + offset


@dataclass(slots=True)
class SchedulerStats:
    started: int = 0
    finished: int = 0
    skipped: int = 0  # slots missed because the run could not start within its interval
    overlapping: int = 0  # slots skipped because the previous run was still going
    running: int = 0
    checks: int = 0

    def to_dict(self) -> dict[str, int]:
        return {
            "started": self.started,
            "finished": self.finished,
            "skipped": self.skipped,
            "overlapping": self.overlapping,
            "inFlight": self.running,
            "checks": self.checks,
        }


class Scheduler:
    def __init__(
        self,
        run: Callable[[CheckDef, float], Awaitable[None]],
        concurrency: int = 1000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``run(check, due)`` runs one check that was due at ``due`` (epoch seconds)."""
        self._run = run
        self._clock = clock
        self._semaphore = asyncio.Semaphore(concurrency)
        self._checks: dict[str, CheckDef] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._generation: dict[str, int] = {}
        self._serial = 0
        self._running: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._stopping = False
        self.stats = SchedulerStats()
        #: recent start lags in seconds (when a run started minus when it was due)
        self.lags: deque[float] = deque(maxlen=200_000)

    # ------------------------------------------------------------------ checks
    def update(self, checks: Sequence[CheckDef]) -> dict[str, int]:
        """Make these the checks that run; returns how many were added, removed, changed."""
        new = {check.id: check for check in checks}
        added = [c for i, c in new.items() if i not in self._checks]
        removed = [i for i in self._checks if i not in new]
        changed = [c for i, c in new.items() if i in self._checks and self._checks[i] != c]
        now = self._clock()
        for check_id in removed:
            del self._checks[check_id]
            self._generation.pop(check_id, None)
        for check in changed:
            if check.interval != self._checks[check.id].interval:
                self._schedule(check, now)  # the old heap entry becomes stale
            self._checks[check.id] = check
        for check in added:
            self._checks[check.id] = check
            self._schedule(check, now)
        self.stats.checks = len(self._checks)
        self._wake.set()
        return {"added": len(added), "removed": len(removed), "changed": len(changed)}

    def _schedule(self, check: CheckDef, after: float) -> None:
        self._serial += 1
        self._generation[check.id] = self._serial
        heapq.heappush(self._heap, (next_slot(check, after), self._serial, check.id))

    # ------------------------------------------------------------------ loop
    async def run_forever(self) -> None:
        loop = asyncio.get_running_loop()
        self._stopping = False  # a monitor stopped and started again (leadership moved)
        while not self._stopping:
            now = self._clock()
            while self._heap and self._heap[0][0] <= now:
                due, serial, check_id = heapq.heappop(self._heap)
                if self._generation.get(check_id) != serial:
                    continue  # removed or rescheduled since
                check = self._checks[check_id]
                self._serial += 1
                self._generation[check_id] = self._serial
                heapq.heappush(self._heap, (due + check.interval, self._serial, check_id))
                self._dispatch(check, due, now)
            delay = self._heap[0][0] - self._clock() if self._heap else 3600.0
            self._wake.clear()
            if delay > 0:
                # a timer that sets the event, not wait_for: that makes a task per wake-up,
                # and at 50,000 checks a minute the loop wakes up ~800 times a second
                timer = loop.call_later(delay, self._wake.set)
                try:
                    await self._wake.wait()
                finally:
                    timer.cancel()

    def _dispatch(self, check: CheckDef, due: float, now: float) -> None:
        if now - due > min(check.interval / 2, LATE):
            self.stats.skipped += 1  # woke up long after the slot: carry on at the next one
            return
        if check.id in self._running:
            self.stats.overlapping += 1
            return
        task = asyncio.create_task(self._guarded(check, due), name=f"check {check.id}")
        self._running[check.id] = task
        self.stats.running = len(self._running)

    async def _guarded(self, check: CheckDef, due: float) -> None:
        try:
            async with self._semaphore:
                if self._stopping:
                    return
                self.lags.append(self._clock() - due)
                self.stats.started += 1
                await self._run(check, due)
                self.stats.finished += 1
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("check %s failed to run", check.id)
        finally:
            self._running.pop(check.id, None)
            self.stats.running = len(self._running)

    async def stop(self, grace: float = 5.0) -> None:
        """Start nothing new; let running checks finish for ``grace`` seconds, then cancel."""
        self._stopping = True
        self._wake.set()
        tasks = list(self._running.values())
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)

    def lag_quantile(self, q: float) -> float | None:
        if not self.lags:
            return None
        ordered = sorted(self.lags)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
