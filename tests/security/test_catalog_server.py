"""A hostile catalog reaching a running server: the reload is refused and recorded, answers
quickly, and the server keeps its last good catalog (real app over the ASGI transport)."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from infradex.clock import utcnow
from infradex.monitor import history
from infradex.monitor.maintenance import Window
from infradex.settings import Settings, embedded_example
from infradex.store import Database
from infradex.store.db import async_url, configure_sqlite
from infradex.store.tokens import create_token
from infradex.web.app import create_app

POSTGRES = os.environ.get("INFRADEX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.config.getoption("--db") == "postgresql":
        return POSTGRES
    return f"sqlite:///{tmp_path / 'store.db'}"


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
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


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    target = tmp_path / "catalog"
    shutil.copytree(embedded_example(), target)
    return target


@pytest.fixture
async def client(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        catalog=catalog_dir,
        catalog_is_embedded=False,
        data_dir=tmp_path,
        database_url=database_url,
        secret_key="test-secret",
        public_read=True,
        monitor=False,
    )
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


@pytest.fixture
async def write_token(db: Database) -> str:
    return await create_token(db, "writer", ["write"], utcnow())


async def _reload(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(
        "/api/v1/catalog/reload", headers={"Authorization": f"Bearer {token}"}, timeout=30
    )


@pytest.mark.parametrize("levels", [490, 989])
async def test_deep_nesting_is_a_refused_and_recorded_reload(
    client: httpx.AsyncClient, catalog_dir: Path, write_token: str, levels: int
) -> None:
    (catalog_dir / "deep.yaml").write_text("[" * levels + "]" * levels + "\n")
    answer = await _reload(client, write_token)
    assert answer.status_code == 422, answer.text
    body = answer.json()
    assert body["accepted"] is False
    (error,) = body["errors"]
    assert (error["code"], error["file"], error["line"]) == ("yaml-too-deep", "deep.yaml", 1)
    loads = (await client.get("/api/v1/catalog/loads")).json()
    assert [item["accepted"] for item in loads["items"]] == [False, True]
    assert (await client.get("/api/v1/entities/service:docs")).status_code == 200


async def test_a_fifo_does_not_hang_the_reload_nor_block_the_next(
    client: httpx.AsyncClient, catalog_dir: Path, write_token: str
) -> None:
    os.mkfifo(catalog_dir / "pipe.yaml")
    first = await _reload(client, write_token)
    assert first.status_code == 422 and first.json()["accepted"] is False
    assert [e["code"] for e in first.json()["errors"]] == ["not-a-file"]
    (catalog_dir / "pipe.yaml").unlink()
    second = await _reload(client, write_token)  # the reload lock was released
    assert second.json()["accepted"] is True


async def test_a_link_to_a_device_is_a_refused_reload(
    client: httpx.AsyncClient, catalog_dir: Path, write_token: str
) -> None:
    os.symlink("/dev/zero", catalog_dir / "zero.yaml")
    answer = await _reload(client, write_token)
    assert answer.status_code == 422
    assert [e["code"] for e in answer.json()["errors"]] == ["outside-catalog"]


async def test_a_loader_bug_is_still_a_recorded_refusal(
    client: httpx.AsyncClient, write_token: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # fault injection: no catalog input is known to make the loader raise any more, but the
    # reload must record the attempt and keep serving if one ever does
    def broken(source: object) -> None:
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("infradex.runtime.live_catalog.load", broken)
    answer = await _reload(client, write_token)
    assert answer.status_code == 422
    assert [e["code"] for e in answer.json()["errors"]] == ["load-failed"]
    loads = (await client.get("/api/v1/catalog/loads")).json()
    assert [item["accepted"] for item in loads["items"]] == [False, True]
    assert (await client.get("/api/v1/entities/service:docs")).status_code == 200


NEVER = "FREQ=YEARLY;BYSETPOS=1;BYYEARDAY=400"


async def test_the_api_refuses_a_rule_that_never_occurs(
    client: httpx.AsyncClient, write_token: str
) -> None:
    answer = await client.post(
        "/api/v1/maintenance",
        headers={"Authorization": f"Bearer {write_token}"},
        json={
            "target": "provider:fastly",
            "start": "2026-01-04T02:00:00Z",
            "end": "2026-01-04T04:00:00Z",
            "rrule": NEVER,
        },
    )
    assert answer.status_code == 400
    assert "no occurrence within 5 years" in answer.json()["error"]


async def test_a_stored_rule_that_never_occurs_does_not_stall_the_server(
    client: httpx.AsyncClient, db: Database
) -> None:
    start = datetime(2024, 1, 7, 2, 0, tzinfo=UTC)
    window = Window("provider:fastly", start, start + timedelta(hours=2), NEVER)
    await history.add_window(db, window, "test", utcnow())  # written before rules were checked
    started = time.monotonic()
    listed = await client.get("/api/v1/maintenance")
    # a stall would never end (the rule has no occurrence to find); seconds leave room for a
    # loaded machine, this is not a speed test
    assert time.monotonic() - started < 5
    (item,) = [i for i in listed.json()["items"] if i["rrule"] == NEVER]
    assert (item["active"], item["nextStart"]) == (False, None)
