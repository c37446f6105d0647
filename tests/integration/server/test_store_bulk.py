"""store/bulk.py on a real engine (SQLite, or PostgreSQL with --db postgresql): a batch
written in one statement (PostgreSQL: ``INSERT ... SELECT FROM unnest`` of one array per
column) stores exactly what one statement per row stores, every column compared as the
database renders it: NULLs against the JSON ``null``, time zones, floats given as ints,
strings that array literals would have to quote."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Table, event, insert, literal_column, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncConnection

from agents_catalog import load_agents_catalog
from infradex.monitor.admission import AgentResult
from infradex.monitor.agent_rollups import PendingRollups
from infradex.monitor.ingest import ingest
from infradex.store import Database
from infradex.store.bulk import among, insert_rows, keyed, upsert_rows
from infradex.store.tables import check_results, check_rollups, check_states, location_states

PLUS_2 = timezone(timedelta(hours=2))
T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
AWKWARD = ["NULL", 'a "quoted", {braced} \\ value', "", "zürich ✓", "line\nbreak"]


def result_rows() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for i, message in enumerate([*AWKWARD, None]):
        rows.append(
            {
                "check_id": f"service:web/c{i}",
                "location": "ams1",
                # another zone than UTC, and microseconds
                "started_at": datetime(2026, 12, 6, 4, 0, i, 123456, tzinfo=PLUS_2),
                "duration_ms": [12, 12.5, None, 0, 1e-3, 7][i % 6],  # ints and floats mixed
                "success": i % 2 == 0,
                "status": "up" if i % 2 == 0 else "down",
                "error_kind": None if i % 2 == 0 else "http",
                "message": message,
                "observed": [
                    {"phases": {"total": 0.0125}, "values": {"status": 200}},
                    None,  # the JSON null, as a single-row insert stores it
                    {},
                    {"text": message, "list": [1, None, "x"]},
                ][i % 4],
            }
        )
    return rows


def state_rows(location: str | None) -> list[dict[str, Any]]:
    rows = []
    for i, message in enumerate([*AWKWARD, None]):
        row = {
            "check_id": f"service:web/c{i}",
            "state": "up",
            "hard_state": "pending" if i % 3 else "up",
            "failures": i,
            "successes": 0,
            "flapping": i == 1,
            "history": "ud" * i,
            "since": None if i % 2 else T0 + timedelta(seconds=i),
            "last_result_at": datetime(2026, 12, 6, 5, i, tzinfo=PLUS_2),
            "last_status": None if i == 0 else "up",
            "last_message": message,
            "last_duration_ms": None if i == 2 else i,
            "last_observed": None if i % 2 else {"locations": {"ams1": {"health": "up"}}},
        }
        if location is not None:
            row["location"] = location
        rows.append(row)
    return rows


def rollup_rows() -> list[dict[str, Any]]:
    return [
        {
            "check_id": f"service:web/c{i}",
            "period": period,
            "bucket": T0.astimezone(PLUS_2),
            "up": i,
            "down": 0,
            "unknown": 1,
            "maintenance": 0,
            "latency_count": i,
            "latency_sum": 10 * i,
            "latency_min": None if i == 0 else 1,
            "latency_max": None if i == 0 else 2.5,
            "latency_p95": None,
            "latency_histogram": {} if i == 0 else {"3": i, "40": 1},
        }
        for i in range(4)
        for period in ("hour", "day")
    ]


async def rendered(connection: AsyncConnection, table: Table) -> list[tuple[Any, ...]]:
    """Every row but its id, each column as the database renders it as text, and whether it
    is NULL (a JSON column's SQL NULL and JSON null differ only there)."""
    columns = [c for c in table.columns if c.name != "id"]
    keys = [c for c in columns if c.primary_key] or columns[:3]
    parts = []
    for c in columns:
        parts += [literal_column(f"CAST({c.name} AS TEXT)"), c.is_(None)]
    rows = await connection.execute(select(*parts).select_from(table).order_by(*keys))
    return [tuple(row) for row in rows]


async def one_statement_per_row(
    connection: AsyncConnection,
    table: Table,
    rows: list[dict[str, Any]],
    keys: list[str] | None = None,
) -> None:
    """How these tables were written before store/bulk.py: an executemany of a single-row
    INSERT (ON CONFLICT for an upsert)."""
    if keys is None:
        await connection.execute(insert(table), rows)
        return
    dialect = connection.dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    update = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys}
    await connection.execute(
        statement.on_conflict_do_update(index_elements=keys, set_=update), rows
    )


async def written_both_ways(
    db: Database, table: Table, rows: list[dict[str, Any]], keys: list[str] | None = None
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """What each way stores from an empty table (each in a transaction rolled back)."""
    found = []
    for bulk in (False, True):
        async with db.begin() as outer, outer.begin_nested() as transaction:
            if bulk and keys is None:
                await insert_rows(outer, table, rows)
            elif bulk:
                await upsert_rows(outer, table, keys, rows)
            else:
                await one_statement_per_row(outer, table, rows, keys)
            found.append(await rendered(outer, table))
            await transaction.rollback()
    return found[0], found[1]


async def test_inserted_results_are_stored_exactly_as_one_insert_per_row_stores_them(
    db: Database,
) -> None:
    before, after = written_both = await written_both_ways(db, check_results, result_rows())
    assert len(before) == len(result_rows())
    assert after == before, written_both
    async with db.begin() as connection:
        await insert_rows(connection, check_results, result_rows())
        stored = (await connection.execute(select(check_results))).all()
    by_id = {row.check_id: row for row in stored}
    assert by_id["service:web/c0"].started_at == datetime(2026, 12, 6, 2, 0, 0, 123456, UTC)
    assert by_id["service:web/c0"].message == "NULL"  # the string, not a NULL
    assert by_id["service:web/c5"].message is None
    assert by_id["service:web/c1"].observed is None  # JSON null
    assert by_id["service:web/c3"].observed == {"text": AWKWARD[3], "list": [1, None, "x"]}


@pytest.mark.parametrize(
    ("table", "keys", "location"),
    [(check_states, ["check_id"], None), (location_states, ["check_id", "location"], "nyc1")],
)
async def test_upserted_states_are_stored_exactly_as_one_upsert_per_row_stores_them(
    db: Database, table: Table, keys: list[str], location: str | None
) -> None:
    # a row there already (updated), the others new (inserted)
    first = state_rows(location)[:2]
    updated = [dict(row, failures=99, last_observed={"old": True}) for row in first]
    for name in ("inserted", "updated"):
        rows = state_rows(location) if name == "inserted" else updated + state_rows(location)[2:]
        async with db.begin() as connection:
            await one_statement_per_row(connection, table, first, keys)
            before, after = await written_both_ways(db, table, rows, keys)
            await connection.execute(table.delete())
        assert before == after, name
        assert len(after) == len(state_rows(location))


async def test_upserted_rollups_are_stored_exactly_as_one_upsert_per_row_stores_them(
    db: Database,
) -> None:
    keys = ["check_id", "period", "bucket"]
    before, after = await written_both_ways(db, check_rollups, rollup_rows(), keys)
    assert before == after and len(after) == 8


async def test_a_key_given_twice_is_written_once_with_its_last_row(db: Database) -> None:
    """As with one statement per row (PostgreSQL refuses to update a row twice in one
    statement: the helper keeps the last row of a key)."""
    rows = state_rows(None)[:2]
    twice = [rows[0], rows[1], dict(rows[0], failures=7, last_message="second")]
    before, after = await written_both_ways(db, check_states, twice, ["check_id"])
    assert before == after and len(after) == 2
    async with db.begin() as connection:
        await upsert_rows(connection, check_states, ["check_id"], twice)
        row = (
            await connection.execute(
                select(check_states).where(check_states.c.check_id == rows[0]["check_id"])
            )
        ).one()
    assert (row.failures, row.last_message) == (7, "second")


async def test_do_nothing_keeps_the_row_there(db: Database) -> None:
    rows = state_rows(None)[:3]
    async with db.begin() as connection:
        await upsert_rows(connection, check_states, ["check_id"], rows[:1])
        await upsert_rows(
            connection,
            check_states,
            ["check_id"],
            [dict(row, failures=50) for row in rows],
            do_nothing=True,
        )
        failures = dict(
            (
                await connection.execute(select(check_states.c.check_id, check_states.c.failures))
            ).all()
        )
    assert failures == {rows[0]["check_id"]: 0, rows[1]["check_id"]: 50, rows[2]["check_id"]: 50}


async def test_a_naive_datetime_is_refused_on_both_paths(db: Database) -> None:
    naive = dict(result_rows()[0], started_at=datetime(2026, 12, 6, 4, 0))
    for write in (insert_rows, one_statement_per_row):
        with pytest.raises(StatementError, match="timezone-aware"):
            async with db.begin() as connection:
                await write(connection, check_results, [result_rows()[1], naive])


async def test_keyed_and_among_read_exactly_the_keys_asked(db: Database) -> None:
    async with db.begin() as connection:
        await upsert_rows(
            connection, check_rollups, ["check_id", "period", "bucket"], rollup_rows()
        )
        ids = ["service:web/c1", "service:web/c3", "service:web/none"]
        found = await connection.execute(
            select(check_rollups.c.check_id).where(among(connection, check_rollups.c.check_id, ids))
        )
        assert sorted(found.scalars()) == ["service:web/c1"] * 2 + ["service:web/c3"] * 2
        if connection.dialect.name != "postgresql":
            return  # keyed is PostgreSQL's
        asked = [
            ("service:web/c1", "hour", T0),
            ("service:web/c2", "day", T0.astimezone(PLUS_2)),  # the same instant
            ("service:web/c2", "day", T0 + timedelta(days=1)),  # not there
        ]
        rows = await connection.execute(
            keyed(check_rollups, ["check_id", "period", "bucket"], asked).with_for_update(
                of=check_rollups
            )
        )
        assert sorted((r.check_id, r.period, r.up) for r in rows) == [
            ("service:web/c1", "hour", 1),
            ("service:web/c2", "day", 2),
        ]


async def test_a_batch_is_one_statement_per_table_on_postgresql(
    db: Database, tmp_path: Any
) -> None:
    """500 results: PostgreSQL gets a fixed number of statements, none an executemany
    (SQLite gets its executemany writes)."""
    catalog = load_agents_catalog(tmp_path / "catalog")
    check_id = "service:web/home"
    batch = [
        AgentResult(check_id, T0 + timedelta(seconds=i), True, 12.5, None, "ok", {})
        for i in range(500)
    ]
    seen: list[tuple[str, bool]] = []
    async with db.begin() as connection:
        sync_engine = connection.sync_connection
        assert sync_engine is not None

        def count(_c: Any, _cur: Any, statement: str, _p: Any, _ctx: Any, many: bool) -> None:
            words = statement.split()
            seen.append((" ".join(words[:1] + words[2:3]), many))

        event.listen(sync_engine, "before_cursor_execute", count)
        try:
            stored = await ingest(
                db, catalog, "ams1", batch, T0 + timedelta(seconds=600), rollups=PendingRollups()
            )
        finally:
            event.remove(sync_engine, "before_cursor_execute", count)
        assert stored.stored == 500
        assert (
            await connection.execute(text("SELECT count(*) FROM check_results"))
        ).scalar() == 500
    writes = [s for s in seen if not s[0].startswith(("SELECT", "SAVEPOINT", "RELEASE"))]
    if db.dialect == "postgresql":
        assert not any(many for _, many in seen)
        assert sorted(w for w, _ in writes) == [
            "INSERT check_results",
            "INSERT check_states",  # the new check's pending row, then its verdict
            "INSERT check_states",
            "INSERT location_states",
            "INSERT state_changes",  # pending → up (a few rows: one statement per row)
        ]
    else:
        assert ("INSERT check_results", True) in writes
