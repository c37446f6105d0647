"""The store on a real engine: migrations, time zones, tokens, catalog loads, audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import insert, inspect, select

from infradex.errors import NotFoundError, UsageError
from infradex.store import Database
from infradex.store.audit import audit, audit_entries
from infradex.store.catalog_loads import latest_loads, record_load
from infradex.store.tables import maintenance_windows, metadata
from infradex.store.tokens import create_token, list_tokens, revoke_token, verify_token

NOW = datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


async def test_migrations_create_every_table(db: Database) -> None:
    async with db.begin() as connection:
        names = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
    assert set(metadata.tables) <= names
    assert "alembic_version" in names


async def test_upgrade_twice_is_harmless(db: Database) -> None:
    await db.upgrade()
    await db.ping()


async def test_datetimes_come_back_aware_and_in_utc(db: Database) -> None:
    amsterdam = timezone(timedelta(hours=2))
    start = datetime(2026, 6, 1, 9, 0, tzinfo=amsterdam)
    async with db.begin() as connection:
        await connection.execute(
            insert(maintenance_windows).values(
                target_ref="service:docs",
                starts_at=start,
                ends_at=start + timedelta(hours=1),
                created_at=NOW,
            )
        )
        row = (await connection.execute(select(maintenance_windows))).one()
    assert row.starts_at == start
    assert row.starts_at.tzinfo is not None and row.starts_at.utcoffset() == timedelta(0)
    assert row.starts_at.hour == 7


async def test_naive_datetimes_are_refused(db: Database) -> None:
    with pytest.raises(Exception, match="timezone-aware"):
        async with db.begin() as connection:
            await connection.execute(
                insert(maintenance_windows).values(
                    target_ref="x", starts_at=datetime(2026, 1, 1), ends_at=NOW, created_at=NOW
                )
            )


async def test_token_lifecycle(db: Database) -> None:
    secret = await create_token(db, "deploy", ["write"], NOW)
    assert secret.startswith("idx_") and len(secret) > 40
    token = await verify_token(db, secret, NOW + timedelta(minutes=5))
    assert token is not None and token.name == "deploy"
    assert token.allows("write") and token.allows("read") and not token.allows("admin")
    listed = {t.name: t for t in await list_tokens(db)}
    assert listed["deploy"].last_used_at == NOW + timedelta(minutes=5)
    assert await verify_token(db, secret + "x", NOW) is None
    assert await verify_token(db, "not-a-token", NOW) is None
    await revoke_token(db, "deploy", NOW)
    assert await verify_token(db, secret, NOW) is None
    with pytest.raises(NotFoundError):
        await revoke_token(db, "deploy", NOW)


async def test_token_secrets_are_not_stored(db: Database) -> None:
    secret = await create_token(db, "ci", ["read"], NOW)
    async with db.begin() as connection:
        rows = (await connection.execute(select(metadata.tables["api_tokens"]))).all()
    assert all(secret not in str(tuple(row)) for row in rows)


async def test_token_names_and_scopes_are_checked(db: Database) -> None:
    await create_token(db, "one", ["read"], NOW)
    with pytest.raises(UsageError, match="exists"):
        await create_token(db, "one", ["read"], NOW)
    with pytest.raises(UsageError, match="scopes are"):
        await create_token(db, "two", ["root"], NOW)


async def test_catalog_loads_and_audit(db: Database) -> None:
    problem = {"severity": "error", "message": "boom"}
    first = await record_load(
        db,
        at=NOW,
        source="/c",
        git_commit=None,
        trigger="start",
        accepted=False,
        entities=0,
        problems=[problem],
        diff={},
    )
    second = await record_load(
        db,
        at=NOW,
        source="/c",
        git_commit="abc",
        trigger="api",
        accepted=True,
        entities=3,
        problems=[],
        diff={"added": ["service:a"]},
    )
    assert second > first
    loads, total = await latest_loads(db)
    assert total == 2
    assert [load.id for load in loads] == [second, first]
    assert loads[1].errors == 1 and loads[0].diff == {"added": ["service:a"]}
    await audit(db, at=NOW, actor="token:x", action="catalog.reload", detail={"ok": True})
    entries = await audit_entries(db)
    assert entries[0]["actor"] == "token:x" and entries[0]["detail"] == {"ok": True}


async def test_the_migrations_build_exactly_the_tables_the_code_declares(db: Database) -> None:
    """Autogenerate compares the migrated store with ``tables.py``: a column or index added to
    one and not the other shows here, not in production."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    def differences(connection):  # type: ignore[no-untyped-def]
        context = MigrationContext.configure(connection, opts={"compare_type": False})
        return compare_metadata(context, metadata)

    async with db.begin() as connection:
        found = await connection.run_sync(differences)
    assert found == []


async def test_sqlite_read_then_write_transactions_wait_instead_of_failing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Two writers on one SQLite file: a transaction that reads first and then writes would
    fail at once with "database is locked" if the other committed in between; with
    ``writes=True`` it takes the lock first and waits its turn."""
    import asyncio

    from sqlalchemy import func

    url = f"sqlite:///{tmp_path / 'two.db'}"
    first, second = Database(url), Database(url)
    await first.upgrade()
    now = datetime(2026, 1, 1, tzinfo=UTC)

    async def read_then_write(db: Database, pause: float) -> None:
        async with db.begin(writes=True) as connection:
            await connection.execute(select(func.count()).select_from(maintenance_windows))
            await asyncio.sleep(pause)  # the other writer runs meanwhile
            await connection.execute(
                insert(maintenance_windows).values(
                    target_ref="service:x", starts_at=now, ends_at=now, created_at=now
                )
            )

    try:
        await asyncio.gather(read_then_write(first, 0.2), read_then_write(second, 0.0))
        async with first.begin() as connection:
            count = (
                await connection.execute(select(func.count()).select_from(maintenance_windows))
            ).scalar()
        assert count == 2
    finally:
        await first.close()
        await second.close()


async def test_sqlite_writers_of_one_process_take_turns_in_arrival_order(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """One server's writers queue for SQLite's write lock first come, first served, instead
    of each polling it with SQLite's growing sleeps (which let a late writer overtake, and
    made an agent's batch wait seconds behind a rollup flush)."""
    import asyncio

    db = Database(f"sqlite:///{tmp_path / 'queue.db'}")
    await db.upgrade()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    entered: list[str] = []
    holding = asyncio.Event()

    async def write(name: str, hold: float) -> None:
        async with db.begin(writes=True) as connection:
            entered.append(name)
            holding.set()
            await connection.execute(
                insert(maintenance_windows).values(
                    target_ref=f"service:{name}", starts_at=now, ends_at=now, created_at=now
                )
            )
            await asyncio.sleep(hold)

    try:
        tasks = [asyncio.create_task(write("first", 0.3))]
        await holding.wait()
        for name in ("second", "third", "fourth", "fifth"):
            tasks.append(asyncio.create_task(write(name, 0.0)))
            await asyncio.sleep(0.05)  # each is waiting before the next arrives
        await asyncio.gather(*tasks)
        assert entered == ["first", "second", "third", "fourth", "fifth"]
        async with db.begin() as connection:
            stored = (await connection.execute(select(maintenance_windows.c.target_ref))).all()
        assert len(stored) == 5
    finally:
        await db.close()


async def test_an_agent_token_is_bound_to_one_location(db: Database) -> None:
    secret = await create_token(db, "agent-nyc1", ["agent"], NOW, location="nyc1")
    token = await verify_token(db, secret, NOW)
    assert token is not None and token.location == "nyc1" and token.allows("agent")
    assert {t.name: t.location for t in await list_tokens(db)} == {"agent-nyc1": "nyc1"}
    with pytest.raises(UsageError, match="--location with the data center"):
        await create_token(db, "agent-none", ["agent"], NOW)
    with pytest.raises(UsageError, match="add --scope agent or drop it"):
        await create_token(db, "reader", ["read"], NOW, location="nyc1")
    with pytest.raises(UsageError, match="agent scope only"):
        await create_token(db, "both", ["agent", "write"], NOW, location="nyc1")
    assert [t.name for t in await list_tokens(db)] == ["agent-nyc1"]  # nothing half-made


def test_the_head_revision_from_the_file_names_is_alembics() -> None:
    """``Database.upgrade`` skips Alembic when the store is at ``head_revision()``: it
    must be the head Alembic itself would migrate to."""
    from alembic.script import ScriptDirectory

    from infradex.store.db import head_revision
    from infradex.store.migrate import alembic_config

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_store_at_the_head_is_upgraded_without_alembic_and_an_older_one_migrates(
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    """A store one revision behind is migrated to the head; one at the head is not
    touched, and Alembic is not even imported (a command's start: ``status export``)."""
    import subprocess
    import sys

    from infradex.store.db import head_revision

    url = f"sqlite:///{tmp_path / 'old.db'}"
    head = head_revision()
    assert head is not None
    previous = f"{int(head) - 1:04d}"
    script = f"""
import asyncio, sys
from sqlalchemy import create_engine, text
from infradex.store import Database
if sys.argv[1] == "behind":
    from alembic import command
    from infradex.store.migrate import alembic_config
    with create_engine({url!r}).begin() as connection:
        command.upgrade(alembic_config(connection), {previous!r})
asyncio.run(Database({url!r}).upgrade())
with create_engine({url!r}).connect() as connection:
    print(connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one())
print("alembic" in sys.modules)
"""
    for step, imported in (("behind", "True"), ("at the head", "False")):
        done = subprocess.run([sys.executable, "-c", script, step], capture_output=True,
                              text=True, check=True)  # fmt: skip
        assert done.stdout.split() == [head, imported], (step, done.stderr)
