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


async def test_pages_and_metrics_show_each_location(
    monitored: httpx.AsyncClient, db: Database
) -> None:
    tokens = {
        loc: await create_token(db, f"agent-{loc}", ["agent"], utcnow(), location=loc)
        for loc in ("ams1", "nyc1")
    }
    start = utcnow() - timedelta(seconds=5)
    for loc, ok in (("ams1", True), ("nyc1", False)):
        answer = await monitored.post(
            "/api/agent/results",
            json={
                "location": loc,
                "results": [
                    {
                        "check_id": "service:web/home",
                        "observed_at": (start + timedelta(seconds=i)).isoformat(),
                        "success": ok,
                        "duration_ms": 40.0 if ok else 900.0,
                    }
                    for i in range(2)
                ],
            },
            headers={"Authorization": f"Bearer {tokens[loc]}"},
        )
        assert answer.json()["stored"] == 2
    await monitored.post(
        "/api/agent/results",
        json={"location": "nyc1", "results": [{"check_id": "x", "observed_at": start.isoformat(),
              "success": True}]},
        headers={"Authorization": "Bearer idx_wrong"},
    )  # fmt: skip
    metrics = (await monitored.get("/metrics")).text
    home = 'check="service:web/home",location="{}",owner="service:web"'
    assert f"infradex_location_check_up{{{home.format('ams1')}}} 1.0" in metrics
    assert f"infradex_location_check_up{{{home.format('nyc1')}}} 0.0" in metrics
    assert f"infradex_location_probe_duration_seconds{{{home.format('nyc1')}}} 0.9" in metrics
    assert 'infradex_agent_results_total{location="ams1"} 2.0' in metrics
    assert 'infradex_agent_refused_requests_total{reason="bad-token"} 1.0' in metrics
    page = (await monitored.get("/services/web")).text
    assert '<table class="locations">' in page
    assert '<th scope="row">nyc1</th><td><span class="state state-down">down</span></td>' in page
    assert "<td>900 ms</td>" in page
    assert '<th scope="row">sfo1</th><td><span class="state state-no-agent">no agent</span>' in page
