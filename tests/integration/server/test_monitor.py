"""The monitor inside the server, end to end, against targets this test starts on 127.0.0.1:
checks run on schedule, failures become a down state with the failed condition, a hanging
target delays nobody, maintenance and reloads apply without a restart, and the API, the
service page and /metrics show it all."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from infradex.clock import utcnow
from infradex.store import Database
from infradex.store.tokens import create_token
from infradex.web.app import create_app
from system_tools import require_tool

from .conftest import settings_for


class Targets:
    """A local HTTP server whose answers the test changes."""

    def __init__(self) -> None:
        self.flip_status = 200
        self.port = 0
        self.hits: dict[str, int] = {}

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.path.strip("/")
        self.hits[name] = self.hits.get(name, 0) + 1
        if name == "hang":
            await asyncio.sleep(3600)
        if name == "flip":
            return web.Response(status=self.flip_status, text="flip")
        return web.Response(text="hello from " + name)


@pytest.fixture
async def targets() -> AsyncIterator[Targets]:
    state = Targets()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


def local_catalog(root: Path, port: int, with_api: bool = True) -> Path:
    base = f"http://127.0.0.1:{port}"
    documents = [
        f"""apiVersion: infradex/v1
kind: Provider
metadata: {{name: edge, title: Edge CDN}}
spec:
  type: cdn
  checks:
    - {{name: edge, url: "{base}/edge", interval: 1s, timeout: 500ms,
       failureThreshold: 2, successThreshold: 1}}
""",
        f"""apiVersion: infradex/v1
kind: Service
metadata: {{name: web, title: Web}}
spec:
  lifecycle: production
  frontedBy: [provider:edge]
  checks:
    - name: home
      url: "{base}/flip"
      interval: 1s
      timeout: 500ms
      conditions: ["[STATUS] == 200", "[BODY] contains 'flip'"]
      failureThreshold: 2
      successThreshold: 1
    - {{name: slow, url: "{base}/hang", interval: 1s, timeout: 300ms,
       failureThreshold: 2}}
""",
    ]
    if with_api:
        documents.append(
            f"""apiVersion: infradex/v1
kind: Service
metadata: {{name: api, title: API}}
spec:
  lifecycle: production
  checks:
    - {{name: home, url: "{base}/api", interval: 1s, timeout: 500ms}}
"""
        )
    root.mkdir(parents=True, exist_ok=True)
    (root / "catalog.yaml").write_text("---\n".join(documents), encoding="utf-8")
    return root


@pytest.fixture
async def monitored(
    db: Database, targets: Targets, tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[httpx.AsyncClient, Any, Path]]:
    catalog = local_catalog(tmp_path / "catalog", targets.port)
    app = create_app(settings_for(catalog, tmp_path, database_url, monitor=True), db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c, app, catalog


async def until(condition: Callable[[], Awaitable[bool]], timeout: float = 8.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError("condition not met in time")


async def states(client: httpx.AsyncClient) -> dict[str, str]:
    answer = (await client.get("/api/v1/checks")).json()
    return {item["id"]: item["state"] for item in answer["items"]}


async def test_checks_run_fail_and_show_everywhere(
    monitored: tuple[httpx.AsyncClient, Any, Path], targets: Targets
) -> None:
    client, _, _ = monitored

    async def settled() -> bool:
        found = await states(client)
        return found.get("service:web/home") == "up" and found.get("service:web/slow") == "down"

    await until(settled)
    found = await states(client)
    assert found["service:api/home"] == "up" and found["provider:edge/edge"] == "up"

    targets.flip_status = 503

    async def home_down() -> bool:
        return (await states(client))["service:web/home"] == "down"

    await until(home_down)

    async def change_stored() -> bool:  # rows are written once a second
        one = (await client.get("/api/v1/checks/service:web/home")).json()
        return bool(one["stateChanges"]) and one["stateChanges"][0]["to"] == "down"

    await until(change_stored)
    one = (await client.get("/api/v1/checks/service:web/home")).json()
    assert one["state"] == "down" and one["consecutiveFailures"] >= 2
    assert one["stateChanges"][0]["to"] == "down"
    assert "[STATUS] == 200: got 503" in one["stateChanges"][0]["reason"]
    await until(lambda: _has_result(client))
    last = (await client.get("/api/v1/checks/service:web/home/results?limit=1")).json()["items"][0]
    verdicts = {c["condition"]: c for c in last["observed"]["conditions"]}
    assert verdicts["[STATUS] == 200"] == {
        "condition": "[STATUS] == 200",
        "success": False,
        "actual": "503",
    }
    assert last["errorKind"] == "condition" and last["status"] == "down"

    slow = (await client.get("/api/v1/checks/service:web/slow/results?limit=1")).json()["items"]
    assert slow[0]["errorKind"] == "timeout"

    page = await client.get("/services/web")
    assert page.status_code == 200
    assert 'id="health"' in page.text and "state-down" in page.text
    assert "[STATUS] == 200: got 503" in page.text
    assert "<svg" in page.text and "Uptime per day" in page.text

    uptime = (await client.get("/api/v1/checks/service:api/home/uptime")).json()["uptime"]
    assert uptime["24h"] == 100.0
    history = (await client.get("/api/v1/checks/service:web/home/history?period=hour")).json()
    assert history["items"][-1]["down"] >= 2

    metrics = (await client.get("/metrics")).text
    assert (
        'probe_success{check="service:web/home",owner="service:web",scheme="http"} 0.0' in metrics
    )
    assert (
        'probe_success{check="service:api/home",owner="service:api",scheme="http"} 1.0' in metrics
    )
    assert (
        'probe_duration_seconds{check="service:api/home",' in metrics and 'phase="total"' in metrics
    )
    promtool = require_tool("promtool")
    checked = subprocess.run(
        [promtool, "check", "metrics"], input=metrics.encode(), capture_output=True, check=False
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr

    stats = (await client.get("/api/v1/monitor")).json()
    assert stats["running"] and stats["lagP99"] < 0.5  # the hanging target delayed nobody


async def _has_result(client: httpx.AsyncClient) -> bool:
    items = (await client.get("/api/v1/checks/service:web/home/results?limit=1")).json()["items"]
    return bool(items) and items[0]["status"] == "down"


async def test_a_hanging_target_never_delays_other_checks(
    monitored: tuple[httpx.AsyncClient, Any, Path], targets: Targets
) -> None:
    await asyncio.sleep(3.2)
    # every check ran about once a second, the hanging one included (cut at its timeout)
    assert 2 <= targets.hits.get("api", 0) <= 5
    assert 2 <= targets.hits.get("hang", 0) <= 5


async def test_maintenance_from_the_api_marks_checks_behind_a_provider(
    monitored: tuple[httpx.AsyncClient, Any, Path], write_token: str
) -> None:
    client, _, _ = monitored
    await until(lambda: _state_is(client, "service:web/home", "up"))
    refused = await client.post(
        "/api/v1/maintenance",
        json={"target": "provider:edge", "start": "2026-01-01T00:00Z", "end": "2099-01-01T00:00Z"},
    )
    assert refused.status_code == 401
    bad = await client.post(
        "/api/v1/maintenance",
        json={"target": "provider:edgy", "start": "2026-01-01T00:00Z", "end": "2099-01-01T00:00Z"},
        headers={"Authorization": f"Bearer {write_token}"},
    )
    assert bad.status_code == 404 and "did you mean edge" in bad.json()["error"]
    added = await client.post(
        "/api/v1/maintenance",
        json={
            "target": "provider:edge",
            "start": "2026-01-01T00:00Z",
            "end": "2099-01-01T00:00Z",
            "reason": "edge upgrade",
        },
        headers={"Authorization": f"Bearer {write_token}"},
    )
    assert added.status_code == 201, added.text
    listed = (await client.get("/api/v1/maintenance")).json()["items"]
    assert listed[0]["active"] and set(listed[0]["covers"]) == {
        "provider:edge/edge",
        "service:web/home",
        "service:web/slow",
    }
    await until(lambda: _state_is(client, "service:web/home", "maintenance"))
    assert (await states(client))["service:api/home"] == "up"  # not behind the edge
    removed = await client.delete(
        f"/api/v1/maintenance/{added.json()['id']}",
        headers={"Authorization": f"Bearer {write_token}"},
    )
    assert removed.status_code == 200
    await until(lambda: _state_is(client, "service:web/home", "up"))


async def _state_is(client: httpx.AsyncClient, check_id: str, state: str) -> bool:
    return (await states(client)).get(check_id) == state


async def test_a_reload_adds_and_removes_checks_without_a_restart(
    monitored: tuple[httpx.AsyncClient, Any, Path], targets: Targets, write_token: str
) -> None:
    client, app, catalog = monitored
    await until(lambda: _state_is(client, "service:api/home", "up"))
    local_catalog(catalog, targets.port, with_api=False)
    held = await client.post(
        "/api/v1/catalog/reload", headers={"Authorization": f"Bearer {write_token}"}
    )
    # one of three entities is over the 30 % a reload may remove unconfirmed
    assert held.status_code == 409 and "service:api/home" in app.state.monitor.checks
    admin = await create_token(app.state.db, "admin", ["admin"], utcnow())
    answer = await client.post(
        "/api/v1/catalog/reload?force=true", headers={"Authorization": f"Bearer {admin}"}
    )
    assert answer.json()["accepted"]
    assert "service:api/home" not in app.state.monitor.checks
    hits = targets.hits.get("api", 0)
    await asyncio.sleep(1.5)
    assert targets.hits.get("api", 0) <= hits + 1  # at most one run already under way
    assert "service:api/home" not in await states(client)


async def test_without_the_monitor_checks_show_as_not_monitored(
    client: httpx.AsyncClient,
) -> None:
    found = await states(client)
    # checks with locations are the probe agents' whether or not the server monitors
    agents = {check_id for check_id, state in found.items() if state == "no agent"}
    assert agents == {"service:www/home", "service:pypi/home"}
    assert {state for check_id, state in found.items() if check_id not in agents} == {
        "not monitored"
    }
    page = await client.get("/services/docs")
    assert "Not monitored" in page.text and "infradex serve --monitor" in page.text
    assert (await client.get("/api/v1/monitor")).json()["running"] is False
