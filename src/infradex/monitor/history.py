"""The monitor's rows: results, check states, state changes, rollups, maintenance windows.

Writes come in batches (one transaction per flush); reads serve the API, the pages and
``/metrics``. Rows per check stay bounded by :func:`prune` (formula in ``docs/monitor.md``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, func, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.monitor.evaluate import CheckState, Shown, StateChange
from infradex.monitor.maintenance import Window
from infradex.monitor.report import (
    CheckHistory,
    ResultRecord,
    StateChangeRecord,
    UptimeReport,
)
from infradex.monitor.rollups import Rollup, bucket_start, span, uptime_percent
from infradex.monitor.rows import state_from_row, window_from_row
from infradex.settings import Retention
from infradex.store.bulk import insert_rows, upsert_rows
from infradex.store.db import Database
from infradex.store.tables import (
    check_results,
    check_rollups,
    check_states,
    maintenance_windows,
    state_changes,
)

__all__ = [
    "UPTIME_SPANS",
    "Batch",
    "CheckOverview",
    "add_window",
    "covered_spans",
    "delete_window",
    "first_seen",
    "latest_results",
    "list_windows",
    "load_glance_states",
    "load_rollups",
    "load_states",
    "prune",
    "rollup_series",
    "state_from_row",
    "state_row",
    "uptime_24h_all",
    "uptime_report",
    "uptimes",
    "window_from_row",
    "write_batch",
    "write_changes",
]

#: label → (period of the rollups summed, how far back)
UPTIME_SPANS: dict[str, tuple[str, timedelta]] = {
    "24h": ("hour", timedelta(hours=24)),
    "7d": ("day", timedelta(days=7)),
    "30d": ("day", timedelta(days=30)),
    "90d": ("day", timedelta(days=90)),
    "1y": ("day", timedelta(days=365)),
}


class Batch:
    """What one flush writes: result rows, the checks' new states, state changes, and the
    rollups those results touched (whole rows: the monitor keeps the running sums)."""

    def __init__(self) -> None:
        self.results: list[dict[str, Any]] = []
        self.states: dict[str, CheckState] = {}
        self.changes: list[StateChange] = []
        self.rollups: dict[tuple[str, str, datetime], Rollup] = {}

    def __len__(self) -> int:
        return len(self.results) + len(self.changes)

    def __bool__(self) -> bool:
        return bool(self.results or self.states or self.changes or self.rollups)


async def write_changes(connection: AsyncConnection, changes: Sequence[StateChange]) -> None:
    """Append state changes (alerting claims them)."""
    if changes:
        await connection.execute(
            insert(state_changes),
            [
                {
                    "check_id": c.check_id,
                    "at": c.at,
                    "from_state": str(c.from_state),
                    "to_state": str(c.to_state),
                    "reason": c.reason,
                }
                for c in changes
            ],
        )


def state_row(state: CheckState) -> dict[str, Any]:
    # field by field: dataclasses.asdict deep-copies last_observed, the largest cost of a
    # flush at 50,000 checks (the state is frozen and its dicts are never changed)
    return {
        "check_id": state.check_id,
        "state": str(state.state),
        "hard_state": str(state.hard_state),
        "failures": state.failures,
        "successes": state.successes,
        "flapping": state.flapping,
        "history": state.history,
        "since": state.since,
        "last_result_at": state.last_result_at,
        "last_status": None if state.last_status is None else str(state.last_status),
        "last_message": state.last_message,
        "last_duration_ms": state.last_duration_ms,
        "last_observed": state.last_observed,
    }


async def write_batch(db: Database, batch: Batch) -> None:
    """One transaction: all of it lands or none of it."""
    async with db.begin() as connection:
        if batch.results:
            await insert_rows(connection, check_results, batch.results)
        await write_changes(connection, batch.changes)
        if batch.states:
            rows = [state_row(s) for s in batch.states.values()]
            await upsert_rows(connection, check_states, ["check_id"], rows)
        if batch.rollups:
            rows = [r.to_row() for r in batch.rollups.values()]
            await upsert_rows(connection, check_rollups, ["check_id", "period", "bucket"], rows)


async def load_states(
    db: Database, check_ids: Iterable[str] | None = None
) -> dict[str, CheckState]:
    query = select(check_states)
    if check_ids is not None:
        query = query.where(check_states.c.check_id.in_(list(check_ids)))
    async with db.begin() as connection:
        rows = (await connection.execute(query)).all()
    return {row.check_id: state_from_row(row) for row in rows}


async def load_glance_states(db: Database) -> dict[str, CheckState]:
    """Every check's state with only what a glance shows (state, failures, the last outcomes,
    the last latency): a tenth of the cost of :func:`load_states` for the home and the board,
    which read them all."""
    c = check_states.c
    query = select(c.check_id, c.state, c.failures, c.history, c.last_duration_ms)
    async with db.begin() as connection:
        rows = (await connection.execute(query)).all()
    shown = {s.value: s for s in Shown}
    return {
        row[0]: CheckState(
            row[0], shown.get(row[1], Shown.UNKNOWN), failures=row[2], history=row[3] or "",
            last_duration_ms=row[4],
        )
        for row in rows
    }  # fmt: skip


async def load_rollups(db: Database, at: datetime) -> dict[tuple[str, str, datetime], Rollup]:
    """The rollups of the hour and the day ``at`` is in (a restarted monitor carries on)."""
    hour, day = bucket_start(at, "hour"), bucket_start(at, "day")
    query = select(check_rollups).where(
        or_(
            and_(check_rollups.c.period == "hour", check_rollups.c.bucket == hour),
            and_(check_rollups.c.period == "day", check_rollups.c.bucket == day),
        )
    )
    async with db.begin() as connection:
        rows = (await connection.execute(query)).all()
    found = {}
    for row in rows:
        rollup = Rollup.from_row(row)
        found[(rollup.check_id, rollup.period, rollup.bucket)] = rollup
    return found


#: checks whose old results one transaction deletes: each holds SQLite's write lock briefly,
#: so flushes go on between them (one statement for 50,000 checks held it for 11-15 s)
PRUNE_CHECKS = 500


def _stale_results(check_ids: Sequence[str], now: datetime, retention: Retention) -> Any:
    """The ids of these checks' results that retention no longer keeps."""
    numbered = (
        select(
            check_results.c.id,
            check_results.c.success,
            check_results.c.started_at,
            func.row_number()
            .over(partition_by=check_results.c.check_id, order_by=check_results.c.id.desc())
            .label("position"),
        )
        .where(check_results.c.check_id.in_(list(check_ids)))
        .subquery()
    )
    return select(numbered.c.id).where(
        numbered.c.position > retention.results,
        or_(numbered.c.success, numbered.c.started_at < now - retention.failures),
    )


async def prune(db: Database, now: datetime, retention: Retention) -> dict[str, int]:
    """Delete what retention no longer keeps; returns rows deleted per table. Results go in
    one transaction per :data:`PRUNE_CHECKS` checks, rollups in one."""
    async with db.begin() as connection:
        query = select(check_results.c.check_id).distinct().order_by(check_results.c.check_id)
        check_ids = list((await connection.execute(query)).scalars())
    results = 0
    for start in range(0, len(check_ids), PRUNE_CHECKS):
        chunk = check_ids[start : start + PRUNE_CHECKS]
        async with db.begin() as connection:
            deleted = await connection.execute(
                delete(check_results).where(
                    check_results.c.id.in_(_stale_results(chunk, now, retention))
                )
            )
            results += deleted.rowcount
    async with db.begin() as connection:
        hourly = await connection.execute(
            delete(check_rollups).where(
                check_rollups.c.period == "hour",
                check_rollups.c.bucket < bucket_start(now - retention.hourly, "hour"),
            )
        )
        daily = await connection.execute(
            delete(check_rollups).where(
                check_rollups.c.period == "day",
                check_rollups.c.bucket < bucket_start(now - retention.daily, "day"),
            )
        )
    return {
        "results": results,
        "hourly": hourly.rowcount,
        "daily": daily.rowcount,
    }


# ----------------------------------------------------------------------------- reads
def result_record(row: Any) -> ResultRecord:
    return ResultRecord(
        id=row.id,
        check_id=row.check_id,
        location=row.location,
        started_at=row.started_at,
        duration_ms=row.duration_ms,
        success=row.success,
        status=row.status,
        error_kind=row.error_kind,
        message=row.message,
        observed=row.observed,
    )


async def latest_results(
    db: Database, check_id: str, limit: int = 100, failures_only: bool = False
) -> list[ResultRecord]:
    query = select(check_results).where(check_results.c.check_id == check_id)
    if failures_only:
        query = query.where(check_results.c.success.is_(False))
    query = query.order_by(check_results.c.id.desc()).limit(limit)
    async with db.begin() as connection:
        return [result_record(row) for row in await connection.execute(query)]


#: the columns a chart or a bar needs (not the histogram, which only merging needs)
_SERIES_COLUMNS = [c for c in check_rollups.columns if c.name != "latency_histogram"]


def _lean(row: Any) -> Rollup:
    """A rollup from a series row (no histogram: the stored p95 stands in)."""
    return Rollup(
        row.check_id, row.period, row.bucket, row.up, row.down, row.unknown, row.maintenance,
        row.latency_count, row.latency_sum, row.latency_min, row.latency_max, {},
        row.latency_p95,
    )  # fmt: skip


def _series_query(check_ids: Sequence[str], period: str, since: datetime) -> Any:
    return (
        select(*_SERIES_COLUMNS)
        .where(
            check_rollups.c.check_id.in_(list(check_ids)),
            check_rollups.c.period == period,
            check_rollups.c.bucket >= since,
        )
        .order_by(check_rollups.c.bucket)
    )


async def rollup_series(
    db: Database, check_ids: Sequence[str], period: str, since: datetime
) -> dict[str, list[Rollup]]:
    """Rollups per check, oldest first, without their histograms (p95 as stored)."""
    found: dict[str, list[Rollup]] = {check_id: [] for check_id in check_ids}
    async with db.begin() as connection:
        for row in await connection.execute(_series_query(check_ids, period, since)):
            found[row.check_id].append(_lean(row))
    return found


def _span_starts(now: datetime) -> dict[str, tuple[str, datetime]]:
    """Each uptime span's first bucket: the last 24 hourly buckets, the last N daily ones
    (the current, partial bucket included)."""
    starts = {}
    for label, (period, back) in UPTIME_SPANS.items():
        starts[label] = (period, bucket_start(now - back, period) + span(period))
    return starts


async def _uptimes(
    connection: AsyncConnection, check_ids: Sequence[str], now: datetime
) -> dict[str, dict[str, float | None]]:
    starts = _span_starts(now)
    c = check_rollups.c
    sums: dict[str, dict[str, tuple[int, int]]] = {i: {} for i in check_ids}
    for period in ("hour", "day"):
        labels = [label for label, (p, _) in starts.items() if p == period]
        if not labels:
            continue
        earliest = min(starts[label][1] for label in labels)
        columns: list[Any] = [c.check_id]
        for label in labels:
            inside = c.bucket >= starts[label][1]
            columns.append(func.sum(case((inside, c.up), else_=0)))
            columns.append(func.sum(case((inside, c.down), else_=0)))
        query = (
            select(*columns)
            .where(c.check_id.in_(list(check_ids)), c.period == period, c.bucket >= earliest)
            .group_by(c.check_id)
        )
        for row in await connection.execute(query):
            for n, label in enumerate(labels):
                sums[row[0]][label] = (int(row[1 + 2 * n] or 0), int(row[2 + 2 * n] or 0))
    return {
        check_id: {
            label: uptime_percent(*sums[check_id].get(label, (0, 0))) for label in UPTIME_SPANS
        }
        for check_id in check_ids
    }


def covered_spans(first: datetime | None, now: datetime) -> dict[str, bool]:
    """Per uptime span: whether the history reaches back over it. A span the history does
    not cover yet measures the same as the whole history ("since" the first result): pages
    and the API say so instead of showing 24 h, 7 d ... 1 y all equal (issue 11)."""
    starts = _span_starts(now)
    return {label: first is not None and first <= starts[label][1] for label in UPTIME_SPANS}


async def _first_seen(
    connection: AsyncConnection, check_ids: Sequence[str]
) -> dict[str, datetime | None]:
    """When each check's history starts, as precisely as what is kept allows: the oldest
    daily rollup (kept two years) gives the day, the oldest hourly one (90 days) the hour if
    it falls on that day, and the oldest raw result the minute if it falls in that hour."""
    ids = list(check_ids)
    c = check_rollups.c
    oldest: dict[str, dict[str, datetime]] = {i: {} for i in ids}
    for period in ("day", "hour"):
        query = (
            select(c.check_id, func.min(c.bucket))
            .where(c.check_id.in_(ids), c.period == period)
            .group_by(c.check_id)
        )
        for check_id, at in await connection.execute(query):
            oldest[check_id][period] = _aware(at)
    r = check_results.c
    query = (
        select(r.check_id, func.min(r.started_at)).where(r.check_id.in_(ids)).group_by(r.check_id)
    )
    for check_id, at in await connection.execute(query):
        oldest[check_id]["result"] = _aware(at)
    found: dict[str, datetime | None] = {}
    for check_id, seen in oldest.items():
        first = seen.get("day")
        hour, result = seen.get("hour"), seen.get("result")
        if hour is not None and (first is None or hour < first + span("day")):
            first = hour
        if result is not None and (first is None or result < first + span("hour")):
            first = result
        found[check_id] = first
    return found


def _aware(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


async def uptime_report(db: Database, check_id: str, now: datetime) -> UptimeReport:
    """``uptime`` per span, when the history starts and which spans it covers."""
    async with db.begin() as connection:
        uptime = await _uptimes(connection, [check_id], now)
        first = await _first_seen(connection, [check_id])
    return _report(uptime[check_id], first[check_id], now)


def _report(uptime: dict[str, float | None], first: datetime | None, now: datetime) -> UptimeReport:
    return UptimeReport(uptime=uptime, uptime_since=first, uptime_covers=covered_spans(first, now))


async def first_seen(db: Database, check_ids: Sequence[str]) -> dict[str, datetime | None]:
    async with db.begin() as connection:
        return await _first_seen(connection, check_ids)


async def uptimes(
    db: Database, check_ids: Sequence[str], now: datetime
) -> dict[str, dict[str, float | None]]:
    """Uptime percent per check over 24 h (hourly rollups) and 7 d, 30 d, 90 d, 1 y (daily
    rollups, counting today): up against down, maintenance and unknown left out."""
    async with db.begin() as connection:
        return await _uptimes(connection, check_ids, now)


async def uptime_24h_all(db: Database, now: datetime) -> dict[str, float | None]:
    """Every check's uptime over the last 24 hourly buckets, in one grouped query (the board
    shows them all; checks with no rollups are absent)."""
    period, start = _span_starts(now)["24h"]
    c = check_rollups.c
    query = (
        select(c.check_id, func.sum(c.up), func.sum(c.down))
        .where(c.period == period, c.bucket >= start)
        .group_by(c.check_id)
    )
    async with db.begin() as connection:
        rows = (await connection.execute(query)).all()
    return {row[0]: uptime_percent(int(row[1] or 0), int(row[2] or 0)) for row in rows}


@dataclass(slots=True)
class CheckOverview:
    """What a page shows of one check: uptime per span, daily and hourly rollups (oldest
    first), the last result."""

    uptime: UptimeReport
    daily: list[Rollup] = field(default_factory=list)
    hourly: list[Rollup] = field(default_factory=list)
    last: ResultRecord | None = None


async def overview(
    db: Database, check_ids: Sequence[str], now: datetime, days: int = 90, hours: int = 168
) -> dict[str, CheckOverview]:
    """What a page shows per check, in four queries whatever the number of checks: uptime
    per span, daily rollups for ``days``, hourly rollups for ``hours``, the last result."""
    daily_since = bucket_start(now, "day") - timedelta(days=days - 1)
    hourly_since = bucket_start(now, "hour") - timedelta(hours=hours - 1)
    newest = (
        select(func.max(check_results.c.id))
        .where(check_results.c.check_id.in_(list(check_ids)))
        .group_by(check_results.c.check_id)
    )
    async with db.begin() as connection:
        uptime = await _uptimes(connection, check_ids, now)
        first = await _first_seen(connection, check_ids)
        found = {i: CheckOverview(_report(uptime[i], first[i], now)) for i in check_ids}
        for row in await connection.execute(_series_query(check_ids, "day", daily_since)):
            found[row.check_id].daily.append(_lean(row))
        for row in await connection.execute(_series_query(check_ids, "hour", hourly_since)):
            found[row.check_id].hourly.append(_lean(row))
        last = select(check_results).where(check_results.c.id.in_(newest))
        for row in await connection.execute(last):
            found[row.check_id].last = result_record(row)
    return found


async def check_detail(db: Database, check_id: str, now: datetime) -> CheckHistory:
    """One check's last result, uptime per span and latest state changes, in one
    transaction."""
    last = (
        select(check_results)
        .where(check_results.c.check_id == check_id)
        .order_by(check_results.c.id.desc())
        .limit(1)
    )
    async with db.begin() as connection:
        row = (await connection.execute(last)).first()
        uptime = await _uptimes(connection, [check_id], now)
        first = await _first_seen(connection, [check_id])
        changes = await _state_changes(connection, check_id, 20)
    return CheckHistory(
        **dict(_report(uptime[check_id], first[check_id], now)),
        last_result=result_record(row) if row is not None else None,
        state_changes=changes,
    )


async def _state_changes(
    connection: AsyncConnection, check_id: str, limit: int
) -> list[StateChangeRecord]:
    query = (
        select(state_changes)
        .where(state_changes.c.check_id == check_id)
        .order_by(state_changes.c.id.desc())
        .limit(limit)
    )
    return [
        StateChangeRecord(
            at=row.at, from_state=row.from_state, to_state=row.to_state, reason=row.reason
        )
        for row in await connection.execute(query)
    ]


# ----------------------------------------------------------------------------- maintenance
async def add_window(db: Database, window: Window, created_by: str, now: datetime) -> int:
    async with db.begin() as connection:
        result = await connection.execute(
            insert(maintenance_windows).values(
                target_ref=window.target,
                starts_at=window.starts_at,
                ends_at=window.ends_at,
                rrule=window.rrule,
                timezone=window.timezone,
                reason=window.reason,
                created_by=created_by,
                created_at=now,
                public=window.public,
                public_name=window.public_name,
                remind_before_s=None
                if window.remind_before is None
                else int(window.remind_before.total_seconds()),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


async def list_windows(db: Database) -> list[Window]:
    async with db.begin() as connection:
        rows = await connection.execute(
            select(maintenance_windows).order_by(maintenance_windows.c.starts_at)
        )
        return [window_from_row(row) for row in rows]


async def delete_window(db: Database, window_id: int) -> bool:
    async with db.begin() as connection:
        result = await connection.execute(
            delete(maintenance_windows).where(maintenance_windows.c.id == window_id)
        )
        return bool(result.rowcount)
