"""Agents' results into the store, on a real engine (SQLite, or PostgreSQL with --db
postgresql): per-location states, k of n, refusals that store nothing, the stale sweep, and
two servers ingesting at once without losing an update."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from agents_catalog import load_agents_catalog
from infradex.catalog import Catalog
from infradex.monitor.admission import MAX_BATCH, AgentResult, BatchTooLarge
from infradex.monitor.agent_rollups import PendingRollups
from infradex.monitor.evaluate import CheckState, Shown
from infradex.monitor.history import state_row, uptime_report
from infradex.monitor.ingest import ingest, location_states_of, sweep_stale
from infradex.store import Database
from infradex.store.bulk import upsert_rows
from infradex.store.tables import (
    check_results,
    check_rollups,
    check_states,
    location_states,
    state_changes,
)
from live_server import fresh_database

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
HOME = "service:web/home"


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return load_agents_catalog(tmp_path / "catalog")


def results(check_id: str, outcomes: str, start: datetime) -> list[AgentResult]:
    """One result a second from ``start``: "u" up, "d" down."""
    return [
        AgentResult(
            check_id,
            start + timedelta(seconds=i),
            o == "u",
            12.5,
            None if o == "u" else "http",
            "ok" if o == "u" else "HTTP 503",
            {"phases": {"total": 0.0125}},
        )
        for i, o in enumerate(outcomes)
    ]


async def shown(db: Database, check_id: str = HOME) -> tuple[str, str]:
    async with db.begin() as connection:
        row = (
            await connection.execute(
                select(check_states).where(check_states.c.check_id == check_id)
            )
        ).one()
    return row.state, row.last_message


async def changes(db: Database, check_id: str = HOME) -> list[tuple[str, str]]:
    async with db.begin() as connection:
        rows = await connection.execute(
            select(state_changes.c.from_state, state_changes.c.to_state)
            .where(state_changes.c.check_id == check_id)
            .order_by(state_changes.c.id)
        )
        return [(r.from_state, r.to_state) for r in rows]


async def test_one_location_down_is_a_location_problem_two_are_an_outage(
    db: Database, catalog: Catalog
) -> None:
    for location in ("ams1", "nyc1", "sfo1"):
        await ingest(db, catalog, location, results(HOME, "u", T0), T0 + timedelta(seconds=1))
    assert (await shown(db))[0] == "up"
    now = T0 + timedelta(seconds=10)
    done = await ingest(db, catalog, "ams1", results(HOME, "dd", T0 + timedelta(seconds=5)), now)
    assert done.stored == 2 and not done.refused and not done.changes
    state, message = await shown(db)
    assert state == "up" and message.startswith("location problem: down from ams1 only")
    async with db.begin() as connection:
        per_location = (await location_states_of(connection, [HOME]))[HOME]
    assert {loc: str(s.state) for loc, s in per_location.items()} == {
        "ams1": "down",
        "nyc1": "up",
        "sfo1": "up",
    }
    done = await ingest(db, catalog, "nyc1", results(HOME, "dd", T0 + timedelta(seconds=6)), now)
    assert [(str(c.from_state), str(c.to_state)) for c in done.changes] == [("up", "down")]
    assert done.changes[0].at == T0 + timedelta(seconds=7)  # when the quorum was reached
    state, message = await shown(db)
    assert state == "down" and "down from 2 of 3 locations (ams1, nyc1), quorum 2" in message
    assert await changes(db) == [("pending", "up"), ("up", "down")]


async def test_results_keep_their_location_and_observed_time(
    db: Database, catalog: Catalog
) -> None:
    observed = T0 - timedelta(hours=2)  # replayed from an agent's buffer, hours late
    await ingest(db, catalog, "sfo1", results(HOME, "ud", observed), T0)
    async with db.begin() as connection:
        rows = (
            await connection.execute(
                select(check_results).where(check_results.c.check_id == HOME).order_by("id")
            )
        ).all()
    assert [(r.location, r.started_at, r.status) for r in rows] == [
        ("sfo1", observed, "up"),
        ("sfo1", observed + timedelta(seconds=1), "down"),
    ]
    assert rows[1].message == "HTTP 503" and rows[1].error_kind == "http"


async def test_a_location_no_longer_in_the_catalog_does_not_count(
    db: Database, catalog: Catalog
) -> None:
    """eu runs from ams1 only; a state of nyc1 left from before (the catalog dropped nyc1
    from its locations) counts neither in the verdict nor in its last result time, in a
    batch and in the stale sweep alike."""
    eu = "service:web/eu"
    async with db.begin() as connection:
        await upsert_rows(
            connection,
            location_states,
            ["check_id", "location"],
            [
                state_row(CheckState(eu, Shown.DOWN, Shown.DOWN, last_result_at=T0))
                | {"location": "nyc1"}
            ],
        )
    observed = T0 - timedelta(seconds=30)
    await ingest(db, catalog, "ams1", results(eu, "u", observed), T0)
    async with db.begin() as connection:
        row = (
            await connection.execute(select(check_states).where(check_states.c.check_id == eu))
        ).one()
    assert (row.state, row.last_result_at) == ("up", observed)
    assert set(row.last_observed["locations"]) == {"ams1"}
    later = T0 + timedelta(minutes=5)  # ams1 stale now: the sweep recombines eu
    assert [c.to_state for c in await sweep_stale(db, catalog, later)] == ["unknown"]
    async with db.begin() as connection:
        row = (
            await connection.execute(select(check_states).where(check_states.c.check_id == eu))
        ).one()
    assert (row.state, row.last_result_at) == ("unknown", observed)


async def count_results(db: Database) -> int:
    async with db.begin() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(check_results))).scalar_one()
        )


async def test_refused_results_store_nothing_and_a_resent_batch_is_not_stored_twice(
    db: Database, catalog: Catalog
) -> None:
    batch = results(HOME, "uu", T0)
    first = await ingest(db, catalog, "nyc1", batch, T0 + timedelta(seconds=5))
    assert first.stored == 2
    again = await ingest(db, catalog, "nyc1", batch, T0 + timedelta(seconds=6))
    assert again.stored == 0 and [r.reason for r in again.refused] == ["replayed", "replayed"]
    wrong = (
        results("service:web/eu", "u", T0)  # ams1's only
        + results("service:web/local", "u", T0)  # the server's own
        + results(HOME, "u", T0 + timedelta(minutes=10))  # the future
        + results(HOME, "u", T0 - timedelta(days=2))  # beyond the buffer's horizon
    )
    refused = await ingest(db, catalog, "nyc1", wrong, T0 + timedelta(seconds=7))
    assert refused.stored == 0
    assert sorted(r.reason for r in refused.refused) == [
        "future",
        "not-assigned",
        "not-assigned",
        "too-old",
    ]
    with pytest.raises(BatchTooLarge):
        await ingest(db, catalog, "nyc1", results(HOME, "u" * (MAX_BATCH + 1), T0), T0)
    assert await count_results(db) == 2
    async with db.begin() as connection:
        ids = (await connection.execute(select(check_states.c.check_id))).scalars().all()
    assert ids == [HOME]  # no state for a refused check either


async def test_a_silent_location_goes_stale_and_never_counts_as_down(
    db: Database, catalog: Catalog
) -> None:
    for location, outcomes in (("ams1", "dd"), ("nyc1", "dd"), ("sfo1", "uu")):
        await ingest(db, catalog, location, results(HOME, outcomes, T0), T0 + timedelta(seconds=2))
    assert (await shown(db))[0] == "down"
    assert await sweep_stale(db, catalog, T0 + timedelta(seconds=20)) == []  # all fresh
    # every agent falls silent: past 30 s (the floor of three 1 s intervals) nobody can tell,
    # and that is not an outage
    swept = await sweep_stale(db, catalog, T0 + timedelta(seconds=40))
    assert [(str(c.from_state), str(c.to_state)) for c in swept] == [("down", "unknown")]
    state, message = await shown(db)
    assert state == "unknown" and "ams1, nyc1, sfo1 not reporting" in message
    assert await sweep_stale(db, catalog, T0 + timedelta(seconds=41)) == []  # once
    # sfo1 comes back alone: the silent locations count neither way
    later = T0 + timedelta(seconds=50)
    done = await ingest(db, catalog, "sfo1", results(HOME, "u", later), later)
    assert [str(c.to_state) for c in done.changes] == ["up"]
    assert await shown(db) == ("up", "up from 1 of 3 locations")


async def test_a_silent_location_shows_stale_while_the_others_keep_the_check_up(
    db: Database, catalog: Catalog
) -> None:
    """The verdict does not change (two of three still report up) and no result arrives
    after sfo1 goes stale, yet the check's row must say which location went silent: the
    sweep refreshes the location's health."""
    await ingest(db, catalog, "sfo1", results(HOME, "u", T0), T0 + timedelta(seconds=1))
    later = T0 + timedelta(seconds=25)
    for location in ("ams1", "nyc1"):
        await ingest(db, catalog, location, results(HOME, "u", later), later)
    # 35 s: sfo1 is past its 30 s, ams1 and nyc1 are fresh, nobody reported since 25 s
    assert await sweep_stale(db, catalog, T0 + timedelta(seconds=35)) == []  # no change shown
    async with db.begin() as connection:
        row = (
            await connection.execute(
                select(check_states.c.state, check_states.c.last_observed).where(
                    check_states.c.check_id == HOME
                )
            )
        ).one()
    assert row.state == "up"
    health = {loc: shown["health"] for loc, shown in row.last_observed["locations"].items()}
    assert health == {"ams1": "up", "nyc1": "up", "sfo1": "stale"}


async def test_agent_results_roll_up_as_samples_of_the_verdict(
    db: Database, catalog: Catalog
) -> None:
    """Uptime bars for agent-run checks: each result is a sample of the check's verdict, so
    a location problem is no downtime and an outage is."""
    now = T0 + timedelta(seconds=3)
    for location in ("ams1", "nyc1", "sfo1"):
        await ingest(db, catalog, location, results(HOME, "uu", T0), now)
    # ams1 alone fails (a location problem: the check stays up)
    await ingest(db, catalog, "ams1", results(HOME, "dd", T0 + timedelta(seconds=5)), now)
    # nyc1 agrees: an outage, from the second of its two failures on
    later = T0 + timedelta(seconds=10)
    await ingest(db, catalog, "nyc1", results(HOME, "dd", later), later + timedelta(seconds=2))
    async with db.begin() as connection:
        rows = (
            await connection.execute(select(check_rollups).where(check_rollups.c.check_id == HOME))
        ).all()
    by_period = {row.period: row for row in rows}
    assert set(by_period) == {"hour", "day"}
    for row in by_period.values():
        assert (row.up, row.down, row.unknown) == (8, 2, 0)
        assert row.latency_count == 6  # the answers (12.5 ms); failed connections have none
        assert row.latency_p95 is not None
    assert by_period["hour"].bucket == T0.replace(minute=0)
    report = await uptime_report(db, HOME, later)
    assert report.uptime["24h"] == 80.0


@pytest.fixture
async def two_servers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Database, Database]]:
    async with fresh_database(request, tmp_path) as url:
        a, b = Database(url), Database(url)
        await a.upgrade()
        try:
            yield a, b
        finally:
            await a.close()
            await b.close()


async def test_two_servers_ingesting_at_once_lose_no_update(
    two_servers: tuple[Database, Database], catalog: Catalog
) -> None:
    """ams1's agent talks to one server, nyc1's to the other, at the same moments. Each
    combination must see the other's location: without the row lock each would see only its
    own location down (a location problem) and the outage would never show."""
    a, b = two_servers
    start = T0
    for round_ in range(8):
        outcomes = "dd" if round_ % 2 == 0 else "uu"
        at = start + timedelta(seconds=10 * round_)
        now = at + timedelta(seconds=3)
        await asyncio.gather(
            ingest(a, catalog, "ams1", results(HOME, outcomes, at), now),
            ingest(b, catalog, "nyc1", results(HOME, outcomes, at), now),
        )
        expected = "down" if outcomes == "dd" else "up"
        assert (await shown(a))[0] == expected, f"round {round_}"
    # the first round's first batch is one location down alone: a location problem (up)
    expected_changes = [("pending", "up"), ("up", "down")] + [("down", "up"), ("up", "down")] * 3
    assert await changes(a) == [*expected_changes, ("down", "up")]
    assert await count_results(a) == 8 * 2 * 2


async def test_servers_flushing_pending_rollups_at_once_lose_no_count(
    two_servers: tuple[Database, Database], catalog: Catalog
) -> None:
    """Each server keeps its agents' samples in memory and writes them every minute: two
    servers flushing the same rollup rows at once must add up, not overwrite each other."""
    a, b = two_servers
    pending = {a: PendingRollups(), b: PendingRollups()}
    for round_ in range(3):
        at = T0 + timedelta(seconds=10 * round_)
        await asyncio.gather(
            ingest(a, catalog, "ams1", results(HOME, "uu", at), at + timedelta(seconds=3),
                   rollups=pending[a]),
            ingest(b, catalog, "nyc1", results(HOME, "uu", at), at + timedelta(seconds=3),
                   rollups=pending[b]),
        )  # fmt: skip
    async with a.begin() as connection:
        assert (await connection.execute(select(check_rollups))).all() == []  # not yet
    written = await asyncio.gather(pending[a].flush(a), pending[b].flush(b))
    assert written == [2, 2] and not pending[a] and not pending[b]  # hour and day each
    await pending[a].flush(a)  # nothing left: nothing written twice
    async with a.begin() as connection:
        rows = (await connection.execute(select(check_rollups))).all()
    assert sorted((r.period, r.up, r.down, r.latency_count) for r in rows) == [
        ("day", 12, 0, 12),
        ("hour", 12, 0, 12),
    ]
