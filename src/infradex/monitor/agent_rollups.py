"""Rollups (uptime bars, latency charts) of checks that agents run.

The server's monitor keeps the rollups of the checks it runs in memory and writes whole rows.
Agents' results arrive at any server, so their rollups are read, merged and written back in
the batch's transaction, under the row locks the batch holds on its checks' verdicts: two
servers ingesting for the same check take turns, and no count is lost.

A server taking in 100,000 results a minute keeps them as :class:`PendingRollups` (running
sums per rollup, in memory) and writes those every :data:`FLUSH_EVERY` in one read-merge-write
per rollup row, locked (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so
servers flushing at once lose no count: a third of the rows a write per batch would cost.
A crash loses at most that long of samples (the results themselves are stored).

What a result adds: one sample of the **check's verdict** as the batch leaves it (``up``
while fewer than ``quorum`` locations fail: a location problem is no downtime; ``down`` in
an outage; ``maintenance``; ``unknown`` otherwise), in the hour and the day the result was
observed in, with the result's latency when the target answered (as the monitor counts
it). Three locations reporting every minute are three samples a minute: the uptime is the
share of samples that found the check up.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.monitor.evaluate import Shown, Status
from infradex.monitor.rollups import PERIODS, Rollup, bucket_start
from infradex.store.bulk import keyed, upsert_rows
from infradex.store.db import Database
from infradex.store.tables import check_rollups

__all__ = [
    "FLUSH_EVERY",
    "FLUSH_ROWS",
    "PendingRollups",
    "Sample",
    "add_samples",
    "latency_of",
    "verdict_status",
]

FLUSH_EVERY = 60.0  # seconds between writes of a server's pending rollups
FLUSH_ROWS = 500  # rollup rows per transaction of a flush: ingests go on in between

#: error kinds after which the target did answer (its latency counts)
_ANSWERED = frozenset({"condition", "drift"})


@dataclass(frozen=True, slots=True)
class Sample:
    check_id: str
    at: datetime  # when the result was observed
    status: Status
    latency_ms: float | None


def verdict_status(state: Shown) -> Status:
    """What a sample of the check's verdict counts as."""
    if state is Shown.UP:
        return Status.UP
    if state is Shown.DOWN:
        return Status.DOWN
    if state is Shown.MAINTENANCE:
        return Status.MAINTENANCE
    return Status.UNKNOWN


def latency_of(success: bool, error_kind: str | None, duration_ms: float | None) -> float | None:
    """The result's latency if the target answered (a failed condition still answered)."""
    return duration_ms if success or error_kind in _ANSWERED else None


Key = tuple[str, str, datetime]


def add_up(rollups: dict[Key, Rollup], samples: Iterable[Sample]) -> None:
    """Add ``samples`` to ``rollups`` (made as needed), in place."""
    for sample in samples:
        for period in PERIODS:
            key = (sample.check_id, period, bucket_start(sample.at, period))
            rollup = rollups.get(key)
            if rollup is None:
                rollup = rollups[key] = Rollup(sample.check_id, period, key[2])
            rollup.add(str(sample.status), sample.latency_ms)


class PendingRollups:
    """Samples taken in by this server and not yet written, summed per rollup row."""

    def __init__(self) -> None:
        self._rollups: dict[Key, Rollup] = {}

    def __len__(self) -> int:
        return len(self._rollups)

    def add(self, samples: Iterable[Sample]) -> None:
        add_up(self._rollups, samples)

    async def flush(self, db: Database) -> int:
        """Write what is pending (:data:`FLUSH_ROWS` rows per transaction, in key order);
        what a failed transaction held stays pending. Returns the rows written."""
        pending, self._rollups = self._rollups, {}
        keys = sorted(pending)
        written = 0
        try:
            for start in range(0, len(keys), FLUSH_ROWS):
                chunk = {key: pending[key] for key in keys[start : start + FLUSH_ROWS]}
                async with db.begin(writes=True) as connection:
                    await _merge_into_store(connection, chunk, lock=True)
                written += len(chunk)
        finally:
            for key in keys[written:]:  # not written: keep it for the next flush
                rollup = self._rollups.setdefault(key, Rollup(*key))
                rollup.merge(pending[key])
        return written


async def add_samples(connection: AsyncConnection, samples: Iterable[Sample]) -> None:
    """Add the samples to their rollups in the store now, in the caller's transaction (which
    holds the checks' row locks)."""
    added: dict[Key, Rollup] = {}
    add_up(added, samples)
    await _merge_into_store(connection, added, lock=False)


async def _merge_into_store(
    connection: AsyncConnection, added: Mapping[Key, Rollup], *, lock: bool
) -> None:
    if not added:
        return
    stored = await _stored(connection, list(added), lock=lock)
    if lock:
        missing = [key for key in added if key not in stored]
        if missing:
            # made empty first, so that the locked read below holds them (on a race the
            # other server's row wins, and is merged with)
            await upsert_rows(
                connection,
                check_rollups,
                ["check_id", "period", "bucket"],
                [Rollup(*key).to_row() for key in missing],
                do_nothing=True,
            )
            stored |= await _stored(connection, missing, lock=True)
    for key, rollup in added.items():
        # the stored rollups were read for this: merged in place (a flush is 66,000 rows)
        total = stored.get(key)
        if total is None:
            stored[key] = total = Rollup(*key)
        total.merge(rollup)
    await upsert_rows(
        connection,
        check_rollups,
        ["check_id", "period", "bucket"],
        [stored[key].to_row() for key in added],
    )


async def _stored(connection: AsyncConnection, keys: list[Key], *, lock: bool) -> dict[Key, Rollup]:
    c = check_rollups.c
    if connection.dialect.name == "postgresql":
        # each key looked up by the primary key (the IN lists below make the planner prefer
        # the bucket index, every check's rows of that hour, while the table has no
        # statistics)
        query = keyed(check_rollups, ["check_id", "period", "bucket"], keys)
    else:
        check_ids = sorted({key[0] for key in keys})
        buckets = [
            and_(c.period == period, c.bucket.in_(sorted({k[2] for k in keys if k[1] == period})))
            for period in PERIODS
            if any(k[1] == period for k in keys)
        ]
        query = select(check_rollups).where(c.check_id.in_(check_ids), or_(*buckets))
    if lock:
        query = query.order_by(c.check_id, c.period, c.bucket).with_for_update(of=check_rollups)
    wanted = set(keys)
    found = {}
    for row in await connection.execute(query):
        key = (row.check_id, row.period, row.bucket)
        if key in wanted:  # the IN lists select a few more (another check's other hour)
            found[key] = Rollup(
                *key, row.up, row.down, row.unknown, row.maintenance, row.latency_count,
                row.latency_sum, row.latency_min, row.latency_max,
                {int(k): int(v) for k, v in (row.latency_histogram or {}).items()},
            )  # fmt: skip
    return found
