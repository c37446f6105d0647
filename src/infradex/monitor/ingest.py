"""Agents' results into the store: per-location states, result rows, the k-of-n verdict.

One transaction per batch (docs/agents.md, "How a batch becomes state"):

1. lock the ``check_states`` row of every check in the batch, in id order (``FOR UPDATE`` on
   PostgreSQL, so several servers can ingest at once without losing an update; SQLite's
   ``BEGIN IMMEDIATE`` serialises writers anyway);
2. screen the results (:mod:`infradex.monitor.admission`, pure) against the stored
   per-location states;
3. advance each (check, location) state with :func:`~infradex.monitor.evaluate.advance` in
   observed order and write a ``check_results`` row per result (location, observed time);
4. combine the locations with :func:`~infradex.monitor.quorum.combine` into the check's
   ``check_states`` row, with a ``state_changes`` row when the shown state changes: alerting
   reads those as it reads the server's own checks;
5. add each result to the check's hourly and daily rollups as a sample of the new verdict
   (:mod:`infradex.monitor.agent_rollups`).

:func:`sweep_stale` recombines checks with a location gone stale since their verdict was
written (its agent stopped reporting), reading only silent locations; the server calls it
periodically.
"""

from __future__ import annotations

import logging
import statistics
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from infradex.catalog.entities import Catalog
from infradex.monitor.admission import AgentResult, Refusal, check_batch_size, screen
from infradex.monitor.agent_rollups import (
    PendingRollups,
    Sample,
    add_samples,
    latency_of,
    verdict_status,
)
from infradex.monitor.evaluate import CheckState, Circumstances, Shown, StateChange, Status, advance
from infradex.monitor.history import state_from_row, state_row, write_changes
from infradex.monitor.locations import LocatedCheck, located_checks
from infradex.monitor.quorum import LocationHealth, QuorumVerdict, combine, location_health
from infradex.monitor.reads import in_maintenance
from infradex.monitor.report import NO_AGENT
from infradex.store.bulk import among, insert_rows, upsert_rows
from infradex.store.db import Database
from infradex.store.tables import check_results, check_states, location_states

__all__ = [
    "Ingested",
    "ingest",
    "location_states_of",
    "lock_checks",
    "sweep_stale",
    "verdict_state",
]

log = logging.getLogger("infradex.monitor.ingest")

_STATUS_OF = {Shown.UP: Status.UP, Shown.DOWN: Status.DOWN, Shown.MAINTENANCE: Status.MAINTENANCE}
_SHOWN = {s.value: s for s in Shown}
_STATUS = {s.value: s for s in Status}

SWEEP_CHUNK = 500  # checks recombined per transaction by the stale sweep
READ_CHUNK = 1_000  # ids in one IN (...) list


@dataclass(slots=True)
class Ingested:
    """What one batch did: results stored, refused (with why), state changes made."""

    stored: int = 0
    refused: list[Refusal] = field(default_factory=list)
    changes: list[StateChange] = field(default_factory=list)


async def ingest(
    db: Database,
    catalog: Catalog,
    location: str,
    results: list[AgentResult],
    now: datetime,
    rollups: PendingRollups | None = None,
) -> Ingested:
    """Store one batch from ``location`` (raises ``BatchTooLarge`` before touching the
    store when it is over the limit). The results' rollup samples go to ``rollups`` once the
    batch is stored (a server's, written by its flush loop), or without it into the store
    in the batch's transaction."""
    check_batch_size(len(results))
    checks = located_checks(catalog)
    # what passes the limits that need no store: only these checks' rows are locked (and
    # created), so a refused result leaves no trace
    plausible = screen(results, location=location, checks=checks, last_at={}, now=now)
    candidates = sorted(plausible.accepted)
    async with db.begin(writes=True) as connection:
        current = await _lock_verdicts(connection, candidates)
        others = sorted({loc for c in candidates for loc in checks[c].locations} - {location})
        per_location = await _location_counts(
            connection, candidates, advancing=location, others=others
        )
        last_at = {
            check_id: (
                per_location.get(check_id, {}).get(location) or CheckState(check_id)
            ).last_result_at
            for check_id in candidates
        }
        screened = screen(results, location=location, checks=checks, last_at=last_at, now=now)
        outcome = Ingested(stored=screened.stored, refused=screened.refused)
        if not screened.accepted:
            return outcome
        maintenance = await in_maintenance(connection, catalog, list(screened.accepted), now)
        rows: list[dict[str, Any]] = []
        advanced: dict[str, CheckState] = {}
        for check_id, accepted in screened.accepted.items():
            located = checks[check_id]
            circumstances = Circumstances(
                maintenance=check_id in maintenance,
                failure_threshold=located.check.failure_threshold,
                success_threshold=located.check.success_threshold,
            )
            state = per_location.get(check_id, {}).get(location) or CheckState(check_id)
            for result in accepted:
                state, status, _ = advance(
                    state,
                    result.success,
                    result.observed_at,
                    result.message,
                    result.duration_ms,
                    circumstances,
                    _small(result.observed),
                )
                rows.append(_result_row(result, location, status))
            advanced[check_id] = state
            per_location.setdefault(check_id, {})[location] = state
        await insert_rows(connection, check_results, rows)
        await upsert_rows(
            connection,
            location_states,
            ["check_id", "location"],
            [state_row(s) | {"location": location} for s in advanced.values()],
        )
        latest = {c: max(r.observed_at for r in rs) for c, rs in screened.accepted.items()}
        shown: dict[str, Shown] = {}
        outcome.changes = await _write_verdicts(
            connection,
            [checks[c] for c in advanced],
            current,
            per_location,
            now=now,
            at=latest,
            shown=shown,
        )
        samples = [
            Sample(
                check_id,
                result.observed_at.astimezone(UTC),
                verdict_status(shown[check_id]),
                latency_of(result.success, result.error_kind, result.duration_ms),
            )
            for check_id, accepted in screened.accepted.items()
            for result in accepted
        ]
        if rollups is None:
            await add_samples(connection, samples)
    if rollups is not None:
        rollups.add(samples)  # stored: now they count
    if outcome.refused:
        log.warning(
            "agent at %s: %d result(s) refused: %s",
            location,
            len(outcome.refused),
            screened.refused_counts(),
        )
    return outcome


async def sweep_stale(db: Database, catalog: Catalog, now: datetime) -> list[StateChange]:
    """Recombine every check with a location gone silent since its verdict was written (the
    location's health on the check's row is not ``stale`` yet); write the changes. Returns
    them.

    Reads only silent locations: one scan of ``location_states`` returns those whose last
    result is older than the shortest ``stale_after`` of the catalog (no index on purpose:
    every result rewrites the column), then the verdict rows of their checks. While every
    agent reports, the scan returns no row at all."""
    checks = located_checks(catalog)
    if not checks:
        return []
    floor = min(c.stale_after for c in checks.values())
    silent: dict[str, set[str]] = {}
    async with db.begin() as connection:
        rows = await connection.execute(
            select(
                location_states.c.check_id,
                location_states.c.location,
                location_states.c.last_result_at,
            ).where(location_states.c.last_result_at < now - floor)
        )
        for check_id, location, last_at in rows:
            located = checks.get(check_id)
            if located is None or location not in located.locations:
                continue  # no longer in the catalog, or no longer run from there
            if now - last_at > located.stale_after:
                silent.setdefault(check_id, set()).add(location)
        shown = await _shown_health(connection, sorted(silent))
    due = sorted(
        check_id
        for check_id, locations in silent.items()
        if check_id in shown
        and any(shown[check_id].get(loc) != LocationHealth.STALE for loc in locations)
    )
    changes: list[StateChange] = []
    # a chunk per transaction: one agent's outage makes all its checks due at once, and
    # SQLite's write lock should not be held for all of them
    for start in range(0, len(due), SWEEP_CHUNK):
        chunk = due[start : start + SWEEP_CHUNK]
        async with db.begin(writes=True) as connection:
            current = await _lock_verdicts(connection, chunk)
            per_location = await _location_counts(connection, chunk)
            changes += await _write_verdicts(
                connection, [checks[c] for c in chunk], current, per_location, now=now, at={}
            )
    for change in changes:
        log.info("%s: %s → %s (%s)", change.check_id, change.from_state, change.to_state, "sweep")
    return changes


def verdict_state(
    located: LocatedCheck,
    previous: CheckState | None,
    per_location: Mapping[str, CheckState],
    *,
    now: datetime,
    at: datetime,
) -> tuple[CheckState, StateChange | None, QuorumVerdict]:
    """The check's row in ``check_states`` from its locations (pure), and the change if the
    shown state differs from ``previous``."""
    verdict = combine(
        per_location,
        locations=located.locations,
        quorum=located.quorum,
        now=now,
        stale_after=located.stale_after,
    )
    before = previous or CheckState(located.id)
    fresh = [per_location[loc] for loc in verdict.up + verdict.down]
    durations = [s.last_duration_ms for s in fresh if s.last_duration_ms is not None]
    # of the check's locations only, as the verdict: a location since removed from its
    # `locations` no longer counts (ingest reads only those)
    last_at = [
        s.last_result_at
        for loc in located.locations
        if (s := per_location.get(loc)) is not None and s.last_result_at is not None
    ]
    changed = verdict.state != before.state
    hard = (
        verdict.state
        if verdict.state in (Shown.UP, Shown.DOWN, Shown.PENDING)
        else before.hard_state
    )
    state = CheckState(
        check_id=located.id,
        state=verdict.state,
        hard_state=hard,
        # failures count only toward an outage: a location problem is not the check failing
        failures=len(verdict.down) if verdict.state is Shown.DOWN else 0,
        successes=len(verdict.up),
        flapping=False,
        history="",
        since=at if changed else before.since,
        last_result_at=max(last_at) if last_at else None,
        last_status=_STATUS_OF.get(verdict.state, Status.UNKNOWN if last_at else None),
        last_message=verdict.reason,
        last_duration_ms=statistics.median(durations) if durations else None,
        last_observed={
            "locations": {
                loc: {
                    "health": NO_AGENT
                    if (s := per_location.get(loc)) is None
                    else location_health(s, now, located.stale_after),
                    "duration_ms": s and s.last_duration_ms,
                }
                for loc in located.locations
            }
        },
    )
    change = None
    if changed:
        change = StateChange(located.id, at, before.state, verdict.state, verdict.reason)
    return state, change, verdict


async def _write_verdicts(
    connection: AsyncConnection,
    checks: list[LocatedCheck],
    current: Mapping[str, CheckState],
    per_location: Mapping[str, Mapping[str, CheckState]],
    *,
    now: datetime,
    at: Mapping[str, datetime],
    shown: dict[str, Shown] | None = None,
) -> list[StateChange]:
    """Write the checks' verdicts and their changes; ``shown`` (if given) gets each check's
    new shown state."""
    rows, changes = [], []
    for located in checks:
        state, change, _ = verdict_state(
            located,
            current.get(located.id),
            per_location.get(located.id, {}),
            now=now,
            at=at.get(located.id, now),
        )
        rows.append(state_row(state))
        if shown is not None:
            shown[located.id] = state.state
        if change is not None:
            changes.append(change)
    if rows:
        await upsert_rows(connection, check_states, ["check_id"], rows)
    await write_changes(connection, changes)
    return changes


async def lock_checks(connection: AsyncConnection, check_ids: list[str]) -> dict[str, CheckState]:
    """Lock these checks' rows (creating missing ones as pending) and return their states.
    In id order: two servers locking overlapping batches never wait on each other in a
    circle."""
    if not check_ids:
        return {}
    existing = await _states(connection, check_ids)
    missing = [c for c in check_ids if c not in existing]
    if missing:
        # on a race the other server's row wins (do nothing); the locked read below sees it
        await upsert_rows(
            connection,
            check_states,
            ["check_id"],
            [state_row(CheckState(c)) for c in missing],
            do_nothing=True,
        )
    rows = await connection.execute(
        select(check_states)
        .where(check_states.c.check_id.in_(check_ids))
        .order_by(check_states.c.check_id)
        .with_for_update()
    )
    return {row.check_id: state_from_row(row) for row in rows}


async def _states(connection: AsyncConnection, check_ids: list[str]) -> dict[str, CheckState]:
    rows = await connection.execute(
        select(check_states).where(check_states.c.check_id.in_(check_ids))
    )
    return {row.check_id: state_from_row(row) for row in rows}


async def _lock_verdicts(
    connection: AsyncConnection, check_ids: list[str]
) -> dict[str, CheckState]:
    """Lock these checks' rows in ``check_states`` (creating missing ones as pending), in id
    order so two servers locking overlapping batches never wait on each other in a circle.
    Returns what a new verdict needs of each (state, hard state, since): not the stored
    verdict's ``last_observed``, which the new one replaces."""
    if not check_ids:
        return {}
    found = await _lean_verdicts(connection, check_ids, lock=True)
    missing = [c for c in check_ids if c not in found]
    if missing:
        # on a race the other server's row wins (do nothing); the locked read below sees it
        await upsert_rows(
            connection,
            check_states,
            ["check_id"],
            [state_row(CheckState(c)) for c in missing],
            do_nothing=True,
        )
        found |= await _lean_verdicts(connection, missing, lock=True)
    return found


async def _lean_verdicts(
    connection: AsyncConnection, check_ids: list[str], *, lock: bool
) -> dict[str, CheckState]:
    c = check_states.c
    query = select(c.check_id, c.state, c.hard_state, c.since).where(
        among(connection, c.check_id, check_ids)
    )
    if lock:
        query = query.order_by(c.check_id).with_for_update()
    return {
        check_id: CheckState(check_id, _SHOWN[state], _SHOWN[hard], since=since)
        for check_id, state, hard, since in await connection.execute(query)
    }


async def _shown_health(
    connection: AsyncConnection, check_ids: list[str]
) -> dict[str, dict[str, str]]:
    """check id → location → its health as the check's stored verdict shows it."""
    found: dict[str, dict[str, str]] = {}
    for start in range(0, len(check_ids), READ_CHUNK):
        chunk = check_ids[start : start + READ_CHUNK]
        rows = await connection.execute(
            select(check_states.c.check_id, check_states.c.last_observed).where(
                check_states.c.check_id.in_(chunk)
            )
        )
        for check_id, observed in rows:
            located = (observed or {}).get("locations", {})
            found[check_id] = {
                loc: str(shown.get("health")) for loc, shown in located.items() if shown
            }
    return found


#: the columns of ``location_states`` the next result needs (all but ``last_observed``:
#: JSON, the largest cost of reading a state, and replaced by each result)
_ADVANCED = [
    location_states.c[name]
    for name in (
        "check_id", "location", "state", "hard_state", "failures", "successes", "flapping",
        "history", "since", "last_result_at", "last_status", "last_message", "last_duration_ms",
    )
]  # fmt: skip
#: ... and those a verdict needs of the other locations
_COUNTED = [
    location_states.c[name]
    for name in (
        "check_id", "location", "state", "hard_state", "last_result_at", "last_duration_ms",
    )
]  # fmt: skip


async def _location_counts(
    connection: AsyncConnection,
    check_ids: list[str],
    advancing: str | None = None,
    others: list[str] | None = None,
) -> dict[str, dict[str, CheckState]]:
    """check id → location → what a verdict needs of its state, for these checks; all a
    result needs for the ``advancing`` location's states (those the batch advances). With
    ``others``, only those other locations are read (the checks' locations in the catalog),
    otherwise every location there is.

    Each read names both columns of the primary key (``location = ANY(...)``, not ``!=``):
    the planner then knows how few rows match without statistics, which a new table (or
    PostgreSQL without autovacuum) lacks, and does not scan the table."""
    found: dict[str, dict[str, CheckState]] = {}
    c = location_states.c
    where: ColumnElement[bool] = among(connection, c.check_id, check_ids)
    if advancing is not None:
        rows = await connection.execute(select(*_ADVANCED).where(where, c.location == advancing))
        for (
            check_id, location, state, hard, failures, successes, flapping, history, since,
            last_at, last_status, last_message, last_duration_ms,
        ) in rows:  # fmt: skip
            found.setdefault(check_id, {})[location] = CheckState(
                check_id, _SHOWN[state], _SHOWN[hard], failures, successes, flapping, history,
                since, last_at, None if last_status is None else _STATUS[last_status],
                last_message, last_duration_ms,
            )  # fmt: skip
        if others is None:
            where = where & (c.location != advancing)
    if others is not None:
        rest = [o for o in others if o != advancing]
        if not rest:
            return found
        where = where & among(connection, c.location, rest)
    for check_id, location, state, hard, last_at, last_duration_ms in await connection.execute(
        select(*_COUNTED).where(where)
    ):
        found.setdefault(check_id, {})[location] = CheckState(
            check_id,
            _SHOWN[state],
            _SHOWN[hard],
            last_result_at=last_at,
            last_duration_ms=last_duration_ms,
        )
    return found


async def location_states_of(
    connection: AsyncConnection, check_ids: Iterable[str]
) -> dict[str, dict[str, CheckState]]:
    """check id → location → its state, for these checks."""
    ids = list(check_ids)
    found: dict[str, dict[str, CheckState]] = {}
    if not ids:
        return found
    rows = await connection.execute(
        select(location_states).where(location_states.c.check_id.in_(ids))
    )
    for row in rows:
        found.setdefault(row.check_id, {})[row.location] = state_from_row(row)
    return found


def _small(observed: Mapping[str, Any]) -> dict[str, Any]:
    """What a location's state keeps of an observation (as the monitor does)."""
    return {"phases": observed.get("phases", {}), "values": observed.get("values", {})}


def _result_row(result: AgentResult, location: str, status: Status) -> dict[str, Any]:
    return {
        "check_id": result.check_id,
        "location": location,
        "started_at": result.observed_at,
        "duration_ms": result.duration_ms,
        "success": result.success,
        "status": str(status),
        "error_kind": result.error_kind,
        "message": result.message,
        "observed": dict(result.observed),
    }
