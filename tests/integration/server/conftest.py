"""Fixtures for the store and the server, on SQLite (default) or PostgreSQL (``--db
postgresql``). Each test runs inside a transaction that is rolled back: nothing it writes
survives it, and no test depends on another."""

from __future__ import annotations

import http.server
import os
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy.ext.asyncio import create_async_engine

from infradex.clock import utcnow
from infradex.settings import Settings, embedded_example
from infradex.store import Database
from infradex.store.db import async_url, configure_sqlite
from infradex.store.tokens import create_token
from infradex.web.app import create_app
from live_server import fresh_database

from .process_harness import Failing, Inbox, free_port

POSTGRES = os.environ.get("INFRADEX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.config.getoption("--db") == "postgresql":
        return POSTGRES
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated store whose every write is rolled back after the test."""
    engine = create_async_engine(async_url(database_url))
    if engine.dialect.name == "sqlite":
        configure_sqlite(engine)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        database = Database.bound_to(connection)
        await database.upgrade()
        yield database
        await transaction.rollback()
    await engine.dispose()


def settings_for(
    catalog: Path, tmp_path: Path, database_url: str, monitor: bool = False
) -> Settings:
    """Settings for a test server; the monitor runs only when a test asks (and then only
    against a local catalog whose targets the test starts)."""
    return Settings(
        catalog=catalog,
        catalog_is_embedded=False,
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="test-secret",
        public_read=True,
        monitor=monitor,
    )


@pytest.fixture
def catalog_dir() -> Path:
    """The catalog the server under test serves (override to serve another)."""
    return embedded_example()


@pytest.fixture
async def client(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the whole application (lifespan included), in-process."""
    app = create_app(settings_for(catalog_dir, tmp_path, database_url), db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def write_token(db: Database) -> str:
    return await create_token(db, "writer", ["write"], utcnow())


@pytest.fixture
async def read_token(db: Database) -> str:
    return await create_token(db, "reader", ["read"], utcnow())


@pytest.fixture
async def two_servers(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Database, Database]]:
    """Two engines on one fresh store, as two server processes would have."""
    async with fresh_database(request, tmp_path) as url:
        a, b = Database(url), Database(url)
        await a.upgrade()
        try:
            yield a, b
        finally:
            await a.close()
            await b.close()


@pytest.fixture
def failing_target() -> Iterator[str]:
    """A local HTTP target that answers 503 to everything."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    """An SMTP server on 127.0.0.1 recording each message: (inbox, port)."""
    box, port = Inbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()
