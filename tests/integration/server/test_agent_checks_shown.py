"""A server running its own monitor leaves checks with locations to the agents: it never
probes them, shows them as having no agent until one reports, then shows the verdict."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from agent_targets import Target, running_target
from agents_catalog import agents_catalog
from infradex.clock import utcnow
from infradex.store import Database
from infradex.store.tables import check_results
from infradex.store.tokens import create_token
from infradex.web.app import create_app

from .conftest import settings_for


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    async with running_target() as t:
        yield t


@pytest.fixture
async def monitored(
    db: Database, target: Target, tmp_path: Path, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    catalog = agents_catalog(tmp_path / "catalog", target.base_url)
    app = create_app(settings_for(catalog, tmp_path, database_url, monitor=True), db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def states(client: httpx.AsyncClient) -> dict[str, str]:
    items = (await client.get("/api/v1/checks")).json()["items"]
    return {item["id"]: item["state"] for item in items}


async def test_the_server_leaves_located_checks_to_agents(
    monitored: httpx.AsyncClient, db: Database, target: Target
) -> None:
    for _ in range(100):  # the server's own check runs every second
        if (await states(monitored)).get("service:web/local") == "up":
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(1.2)  # another round: the located checks would have run by now
    shown = await states(monitored)
    assert shown == {
        "service:web/home": "no agent",
        "service:web/eu": "no agent",
        "service:web/local": "up",
    }
    assert target.hits["home"] == target.hits["eu"] == 0 and target.hits["local"] >= 1
    async with db.begin() as connection:
        rows = (await connection.execute(select(check_results.c.check_id))).scalars().all()
    assert set(rows) == {"service:web/local"}

    token = await create_token(db, "agent-ams1", ["agent"], utcnow(), location="ams1")
    at = utcnow() - timedelta(seconds=1)
    answer = await monitored.post(
        "/api/agent/results",
        json={
            "location": "ams1",
            "results": [
                {"check_id": "service:web/eu", "observed_at": at.isoformat(), "success": True}
            ],
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert answer.json()["stored"] == 1
    shown = await states(monitored)
    assert shown["service:web/eu"] == "up" and shown["service:web/home"] == "no agent"
    detail = (await monitored.get("/api/v1/checks/service:web/eu")).json()
    assert detail["locations"] == ["ams1"] and detail["lastMessage"] == "up from 1 of 1 locations"
