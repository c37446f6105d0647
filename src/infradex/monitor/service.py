"""The running monitor: the scheduler, the canary, maintenance and batched writes, wired to
the store. Runs inside ``infradex serve`` or alone as ``infradex monitor``.

Per result: judge (``checks``), advance the state (``evaluate``), add to the hour's and day's
rollups (``rollups``), queue the rows. A flusher writes the queue once a second in one
transaction; if the store is down the queue waits and is written when it is back. The queue
holds at most ``queue_max`` result rows (and as many state changes): beyond that the oldest
are dropped and counted (``infradex_monitor_dropped_rows_total``), so a long outage costs
history, never the process's memory. States and rollups are upserts, one per check and bucket:
they are kept whole and written when the store is back. Stopping (SIGTERM) writes the queue,
trying for :data:`STOP_FLUSH_GRACE` if the store is down. A pruner trims history every ten
minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from infradex.background import Loop
from infradex.catalog.entities import Catalog
from infradex.clock import utcnow
from infradex.monitor import history
from infradex.monitor.checks import CheckDef, CheckResult, adhoc_check, checks_of, run_check
from infradex.monitor.evaluate import CheckState, Circumstances, advance
from infradex.monitor.maintenance import Window, catalog_windows, windows_covering
from infradex.monitor.report import MonitorStats
from infradex.monitor.rollups import PERIODS, Rollup, bucket_start, span
from infradex.monitor.scheduler import Scheduler
from infradex.netpolicy import DEFAULT_POLICY, AddressPolicy
from infradex.settings import Retention
from infradex.store.db import Database

__all__ = ["Monitor", "observed_of"]

log = logging.getLogger("infradex.monitor")

FLUSH_EVERY = 1.0  # seconds
PRUNE_EVERY = 600.0
MAINTENANCE_EVERY = 15.0
CANARY_INTERVAL = 30.0
QUEUE_MAX = 50_000  # result rows held while the store is down (about 1 KB each)
STOP_FLUSH_GRACE = 10.0  # seconds a stopping monitor keeps trying to write its queue
YOUNG_GC_THRESHOLD = 10_000  # allocations between young collections (CPython: 700)
_KEPT_VALUES = (
    "STATUS",
    "RESPONSE_TIME",
    "CONNECTED",
    "IP",
    "CERTIFICATE_EXPIRATION",
    "DNS_RCODE",
    "DNS_ANSWER",
)


def young_collections_less_often(threshold: int = YOUNG_GC_THRESHOLD) -> None:
    """Raise the collector's first threshold (never lower it). Each result's rows wait up to
    a second for the flush; at CPython's default of 700 the collector catches them alive,
    moves them to the oldest generation, and soon runs a full collection: at 50,000 checks
    a minute one every 6 s, 0.3 s each (``bench/monitor_scale.py``)."""
    first, *older = gc.get_threshold()
    if first < threshold:
        gc.set_threshold(threshold, *older)


def observed_of(result: CheckResult) -> dict[str, Any]:
    """What a result row keeps of an observation: small values, phases, details and each
    condition's verdict (not the body or headers)."""
    obs = result.observation
    return {
        "values": {k: obs.values[k] for k in _KEPT_VALUES if k in obs.values},
        "phases": {k: round(v, 6) for k, v in obs.phases.items()},
        "details": {k: v for k, v in obs.details.items() if k != "body"},
        "conditions": [
            {"condition": c.condition, "success": c.success, "actual": c.actual}
            | ({"excerpt": c.excerpt} if c.excerpt is not None else {})
            for c in result.conditions
        ],
    }


class Monitor:
    def __init__(
        self,
        db: Database,
        *,
        retention: Retention | None = None,
        concurrency: int = 1000,
        canary_url: str | None = None,
        ca_file: str | None = None,
        policy: AddressPolicy = DEFAULT_POLICY,
        location: str = "local",
        clock: Callable[[], datetime] = utcnow,
        queue_max: int = QUEUE_MAX,
        dns_classes: frozenset[str] = frozenset(),
    ) -> None:
        self.db = db
        self.retention = retention or Retention()
        self.location = location
        self.ca_file = ca_file
        self.policy = policy
        self.dns_classes = dns_classes  # octoDNS classes dns-drift checks may build
        self._clock = clock
        self.scheduler = Scheduler(self._run_scheduled, concurrency)
        self.catalog: Catalog | None = None
        self.checks: dict[str, CheckDef] = {}
        self.states: dict[str, CheckState] = {}
        self._rollups: dict[tuple[str, str, datetime], Rollup] = {}
        self._rollups_from: dict[str, datetime] = {}  # the oldest bucket kept, per period
        self._batch = history.Batch()
        self._windows: list[Window] = []
        self._covered: dict[str, Window] = {}
        self.canary = adhoc_check(canary_url) if canary_url else None
        self.canary_down = False
        self._scheduler_task: asyncio.Task[None] | None = None
        self._loops: list[Loop] = []
        self.write_errors = 0
        self.queue_max = queue_max
        self.dropped = 0  # queued rows dropped (oldest first) while the store was down
        #: per check, how many flushes wrote its rows (pages cache on these)
        self.versions: dict[str, int] = {}
        #: called after a flush that wrote state changes (the alerter wakes on it)
        self.change_listeners: list[Callable[[], None]] = []
        # flushes every second, and at once when a state change is queued (an alert should
        # not wait for the next second's batch)
        self._flush_loop = Loop("monitor flush", FLUSH_EVERY, self.flush, log=log)

    # ------------------------------------------------------------------ lifecycle
    async def start(self, catalog: Catalog) -> None:
        now = self._clock()
        self.states = await history.load_states(self.db)
        self._rollups = await history.load_rollups(self.db, now)
        self._windows = await history.list_windows(self.db)
        self.set_catalog(catalog)
        young_collections_less_often()
        self._scheduler_task = asyncio.create_task(
            self.scheduler.run_forever(), name="monitor scheduler"
        )
        self._loops = [
            self._flush_loop,
            Loop("monitor prune", PRUNE_EVERY, self.prune, log=log),
            Loop("maintenance refresh", MAINTENANCE_EVERY, self.refresh_maintenance, log=log),
        ]
        if self.canary is not None:
            self._loops.append(Loop("canary", CANARY_INTERVAL, self.run_canary, log=log))
        for loop in self._loops:
            loop.start()
        log.info("monitor started with %d checks", len(self.checks))

    async def stop(self) -> None:
        await self.scheduler.stop()
        if self._scheduler_task is not None:
            self._scheduler_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler_task
            self._scheduler_task = None
        for loop in self._loops:
            await loop.stop()
        self._loops = []
        deadline = time.monotonic() + STOP_FLUSH_GRACE
        while True:
            await self.flush()
            if not self._batch or time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.5)
        if self._batch:
            log.error(
                "the store is still refusing writes: %d monitor rows are lost at shutdown",
                len(self._batch),
            )

    def set_catalog(self, catalog: Catalog) -> dict[str, int]:
        """Run this catalog's checks from now on (a reload: no restart, history kept). Checks
        with ``locations`` are the probe agents' (docs/agents.md), not this monitor's."""
        self.catalog = catalog
        checks = [
            c
            for c in checks_of(catalog, self.ca_file, self.policy, self.dns_classes)
            if not c.locations
        ]
        self.checks = {check.id: check for check in checks}
        self._recompute_coverage()
        counts = self.scheduler.update(checks)
        log.info("monitor checks: %s", counts)
        return counts

    # ------------------------------------------------------------------ maintenance, canary
    async def refresh_maintenance(self) -> None:
        self._windows = await history.list_windows(self.db)
        self._recompute_coverage()

    def _recompute_coverage(self) -> None:
        if self.catalog is None:
            return
        windows = self._windows + catalog_windows(self.catalog)
        self._covered = windows_covering(windows, self.catalog, self.checks, self._clock())

    def in_maintenance(self, check_id: str) -> Window | None:
        return self._covered.get(check_id)

    def in_maintenance_key(self) -> int:
        """Changes whenever the set of checks in maintenance does (pages cache on it)."""
        return hash(frozenset((k, id(w)) for k, w in self._covered.items()))

    async def run_canary(self) -> None:
        assert self.canary is not None
        result = await run_check(self.canary)
        if result.success == self.canary_down:
            log.warning(
                "connectivity canary %s: %s",
                "recovered" if result.success else "failing",
                result.message,
            )
        self.canary_down = not result.success

    # ------------------------------------------------------------------ results
    async def _run_scheduled(self, check: CheckDef, due: float) -> None:
        started = self._clock()  # the injected clock: tests drive the monitor's time
        result = await run_check(check)
        self.record(check, result, started)

    def record(self, check: CheckDef, result: CheckResult, started_at: datetime) -> CheckState:
        """Turn one result into state, rollups and rows queued for the next flush."""
        state = self.states.get(check.id) or CheckState(check.id)
        observed = observed_of(result)
        circumstances = Circumstances(
            maintenance=self.in_maintenance(check.id) is not None,
            canary_down=self.canary_down,
            failure_threshold=check.failure_threshold,
            success_threshold=check.success_threshold,
        )
        new, status, change = advance(
            state,
            result.success,
            started_at,
            result.message,
            result.duration_ms,
            circumstances,
            {"phases": observed["phases"], "values": observed["values"]},
        )
        self.states[check.id] = new
        batch = self._batch
        batch.results.append(
            {
                "check_id": check.id,
                "location": self.location,
                "started_at": started_at,
                "duration_ms": result.duration_ms,
                "success": result.success,
                "status": str(status),
                "error_kind": result.error_kind,
                "message": result.message,
                "observed": observed,
            }
        )
        batch.states[check.id] = new
        if change is not None:
            batch.changes.append(change)
            self._flush_loop.wake()
        self._bound(batch)
        # the target answered, and what it said did not hold
        answered = result.observation.ok or result.error_kind in ("condition", "drift")
        latency = result.duration_ms if answered else None
        for period in PERIODS:
            key = (check.id, period, bucket_start(started_at, period))
            rollup = self._rollups.get(key)
            if rollup is None:
                rollup = self._rollups[key] = Rollup(check.id, period, key[2])
            rollup.add(str(status), latency)
            batch.rollups[key] = rollup
        return new

    async def flush(self) -> None:
        """Write what is queued in one transaction; on failure keep it for the next try."""
        batch, self._batch = self._batch, history.Batch()
        if batch:
            try:
                await history.write_batch(self.db, batch)
            except Exception as exc:
                self.write_errors += 1
                log.error("could not write %d monitor rows, keeping them: %s", len(batch), exc)
                newer = self._batch
                batch.results.extend(newer.results)
                batch.changes.extend(newer.changes)
                batch.states.update(newer.states)
                batch.rollups.update(newer.rollups)
                self._bound(batch)
                self._batch = batch
                return
        for check_id in batch.states:
            self.versions[check_id] = self.versions.get(check_id, 0) + 1
        self._forget_old_rollups()
        if batch.changes:
            for listener in self.change_listeners:
                listener()

    def _bound(self, batch: history.Batch) -> None:
        """Drop the oldest results and state changes beyond ``queue_max`` (a store down for
        hours would otherwise fill the memory); the newest say more about now."""
        for rows in (batch.results, batch.changes):
            excess = len(rows) - self.queue_max
            if excess > 0:
                del rows[:excess]
                self.dropped += excess

    def _forget_old_rollups(self) -> None:
        """Drop the running sums of buckets that ended over a bucket ago. The previous bucket
        stays: a run that started before the hour turned and is recorded after it adds to its
        own hour (a forgotten bucket would restart at 1 and overwrite the stored counts)."""
        now = self._clock()
        oldest = {p: bucket_start(now - span(p), p) for p in PERIODS}
        if oldest == self._rollups_from:
            return  # nothing aged since the last flush: no scan of every check's rollups
        self._rollups_from = oldest
        for key in [k for k in self._rollups if k[2] < oldest[k[1]]]:
            del self._rollups[key]

    async def prune(self) -> dict[str, int]:
        return await history.prune(self.db, self._clock(), self.retention)

    def stats(self) -> MonitorStats:
        counted = self.scheduler.stats
        return MonitorStats(
            started=counted.started,
            finished=counted.finished,
            skipped=counted.skipped,
            overlapping=counted.overlapping,
            in_flight=counted.running,
            checks=counted.checks,
            queued=len(self._batch),
            write_errors=self.write_errors,
            dropped=self.dropped,
            canary_down=self.canary_down,
            lag_p99=self.scheduler.lag_quantile(0.99),
        )
