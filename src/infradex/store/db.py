"""Connections to the store: one async engine, SQLite (default) or PostgreSQL.

``Database.begin()`` is the one way to run statements: a transaction that commits on success.
Tests bind a Database to a connection whose outer transaction they roll back, so every
``begin()`` becomes a savepoint and nothing a test writes survives it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, event, insert, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import (
    ArgumentError,
    InterfaceError,
    InternalError,
    OperationalError,
    SQLAlchemyError,
)
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from infradex.errors import InfradexError
from infradex.store.tables import store_heartbeat

__all__ = ["Database", "StoreError", "async_url", "configure_sqlite", "head_revision"]

#: the migrations, one file each, named after their revision: 0001_…py to the newest
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


class StoreError(InfradexError):
    """The store cannot be reached, written or migrated; the message says which and what to
    do. Raised from SQLAlchemy's errors at :meth:`Database.begin` (the boundary)."""


#: errors that mean the store, not the statement, failed (IntegrityError and DataError are
#: the statement's: callers handle those)
STORE_FAILURES = (OperationalError, InterfaceError, InternalError, PoolTimeout)


def _reason(exc: Exception) -> str:
    orig = getattr(exc, "orig", None) or exc
    return (str(orig).strip().splitlines() or [type(orig).__name__])[0]


def async_url(url: str) -> str:
    """``sqlite:///x.db`` → ``sqlite+aiosqlite:///x.db``; ``postgresql://`` → psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(
            f"{url!r} is not a database URL; write sqlite:///path/to/file.db or "
            "postgresql://user@host:5432/dbname"
        ) from None
    driver = {
        "sqlite": "sqlite+aiosqlite",
        "postgresql": "postgresql+psycopg",
        "postgres": "postgresql+psycopg",
    }.get(parsed.drivername)
    if driver:
        parsed = parsed.set(drivername=driver)
    elif parsed.drivername not in ("sqlite+aiosqlite", "postgresql+psycopg"):
        raise StoreError(
            f"unsupported database {parsed.drivername!r}; use sqlite:///path/to/file.db or "
            "postgresql://user@host/dbname"
        )
    return parsed.render_as_string(hide_password=False)


def head_revision() -> str | None:
    """The newest migration's revision, from the migrations' file names (``0012_…py``:
    ``0012``) without importing Alembic; None when none is found."""
    found = [path.name[:4] for path in MIGRATIONS.glob("[0-9][0-9][0-9][0-9]_*.py")]
    return max(found, default=None)


IMMEDIATE = "infradex_sqlite_immediate"  # an execution option: BEGIN IMMEDIATE


def configure_sqlite(engine: AsyncEngine) -> None:
    """WAL for concurrent readers, foreign keys on, and transactions SQLAlchemy controls
    (pysqlite's own would break savepoints)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        for pragma in (
            "journal_mode=WAL",
            "foreign_keys=ON",
            "busy_timeout=10000",
            "synchronous=NORMAL",
        ):
            cursor.execute(f"PRAGMA {pragma}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _begin(connection: Connection) -> None:
        # a transaction that reads, then writes, takes the write lock first: a deferred one
        # fails at once with "database is locked" if another writer committed meanwhile
        immediate = connection.get_execution_options().get(IMMEDIATE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """The store's engine, or (in tests) one connection whose transaction is rolled back."""

    def __init__(self, url: str, bound: AsyncConnection | None = None) -> None:
        self.url = async_url(url)
        self.dialect = make_url(self.url).get_backend_name()
        self._bound = bound
        self._bound_lock = asyncio.Lock()
        self._bound_owner: asyncio.Task[Any] | None = None
        # SQLite has one writer at a time; when it is busy, SQLite makes the others poll
        # with growing sleeps (busy_timeout), so a write waits long after the lock is free.
        # This process's writers queue here instead, first come first served (another
        # process writing the same file, such as a CLI command, still meets busy_timeout)
        self._sqlite_writer = asyncio.Lock()
        self._sqlite_writer_owner: asyncio.Task[Any] | None = None
        self.engine: AsyncEngine | None = None
        if bound is None:
            if self.dialect == "sqlite":
                database = make_url(self.url).database
                if database and database != ":memory:":
                    try:
                        Path(database).parent.mkdir(parents=True, exist_ok=True)
                    except OSError as exc:
                        raise StoreError(
                            f"cannot create {Path(database).parent} for the SQLite store: "
                            f"{exc.strerror}; set INFRADEX_DATA_DIR or INFRADEX_DATABASE_URL"
                        ) from None
            self.engine = create_async_engine(self.url, pool_pre_ping=True)
            if self.dialect == "sqlite":
                configure_sqlite(self.engine)

    @classmethod
    def bound_to(cls, connection: AsyncConnection) -> Database:
        return cls(connection.engine.url.render_as_string(hide_password=False), connection)

    @asynccontextmanager
    async def begin(self, *, writes: bool = False) -> AsyncIterator[AsyncConnection]:
        """A transaction: commits when the block ends, rolls back if it raises. ``writes``:
        it reads and then writes (on SQLite it takes the write lock at once; PostgreSQL
        needs nothing). The store failing (down, locked, read-only, disk full) raises
        :class:`StoreError`; a constraint violation stays SQLAlchemy's, for the caller."""
        try:
            async with self._begin(writes) as connection:
                yield connection
        except STORE_FAILURES as exc:
            what_to_check = (
                "that the file's disk has room and the file is writable"
                if self.dialect == "sqlite"
                else "that the database server runs and takes connections"
            )
            raise StoreError(
                f"the store at {self.display_url} failed: {_reason(exc)}; check "
                f"{what_to_check}, and that INFRADEX_DATABASE_URL names the right store"
            ) from exc

    @asynccontextmanager
    async def _begin(self, writes: bool) -> AsyncIterator[AsyncConnection]:
        if self._bound is not None:
            # one connection shared by concurrent tasks (the server and the monitor in a
            # test): take turns, but let a task nest its own transactions
            task = asyncio.current_task()
            if self._bound_owner is task:
                async with self._bound.begin_nested():
                    yield self._bound
                return
            async with self._bound_lock:
                self._bound_owner = task
                try:
                    async with self._bound.begin_nested():
                        yield self._bound
                finally:
                    self._bound_owner = None
            return
        assert self.engine is not None
        if writes and self.dialect == "sqlite":
            task = asyncio.current_task()
            if self._sqlite_writer_owner is task:
                # a task nesting a second write transaction: SQLite refuses it after
                # busy_timeout, as without the queue (never waits here on itself)
                async with self._immediate() as connection:
                    yield connection
                return
            async with self._sqlite_writer:
                self._sqlite_writer_owner = task
                try:
                    async with self._immediate() as connection:
                        yield connection
                finally:
                    self._sqlite_writer_owner = None
            return
        async with self.engine.begin() as connection:
            yield connection

    @asynccontextmanager
    async def _immediate(self) -> AsyncIterator[AsyncConnection]:
        assert self.engine is not None
        async with self.engine.connect() as plain:
            connection = await plain.execution_options(**{IMMEDIATE: True})
            async with connection.begin():
                yield connection

    async def ping(self) -> None:
        """Raise :class:`StoreError` unless the store answers."""
        try:
            async with self.begin() as connection:
                await connection.execute(text("SELECT 1"))
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"the store at {self.display_url} does not answer: {exc}") from exc

    async def check_writable(self, now: datetime) -> None:
        """Raise :class:`StoreError` unless a write commits: the heartbeat row is updated, so
        a read-only file, a full disk or a standby answering only reads shows here."""
        async with self.begin() as connection:
            await connection.execute(delete(store_heartbeat).where(store_heartbeat.c.id == 1))
            await connection.execute(insert(store_heartbeat).values(id=1, at=now))

    async def upgrade(self) -> None:
        """Apply every Alembic migration not yet applied (a store already at the newest
        revision is left as it is without importing Alembic: a tenth of a second of a
        command's start)."""
        if await self._at_head():
            return
        from infradex.store.migrate import upgrade

        try:
            async with self.begin() as connection:
                await connection.run_sync(upgrade)
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(
                f"cannot migrate the store at {self.display_url}: {exc}; check "
                "INFRADEX_DATABASE_URL and that the database server runs"
            ) from exc

    async def _at_head(self) -> bool:
        """The store says it is at :func:`head_revision` (no table yet, or a failure:
        no, and the upgrade tells what is wrong)."""
        head = head_revision()
        try:
            async with self.begin() as connection:
                found = await connection.execute(text("SELECT version_num FROM alembic_version"))
                versions = list(found.scalars())
        except (StoreError, SQLAlchemyError, OSError):
            return False
        return head is not None and versions == [head]

    @property
    def display_url(self) -> str:
        return make_url(self.url).render_as_string(hide_password=True)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
