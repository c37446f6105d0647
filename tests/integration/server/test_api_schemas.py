"""Every /api answer satisfies the schema ``/openapi.json`` publishes for it, on real requests
against a real store (SQLite, and PostgreSQL with ``--db postgresql``): a key the schema does
not name, a missing one or a wrong type fails. Each answer also parses back into its response
model and out again unchanged (what the CLI's ``--server`` client relies on). Every operation
the schema lists must be exercised here, so a new route cannot go unchecked."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import TypeAdapter

from infradex.clock import utcnow
from infradex.monitor.checks import CheckResult
from infradex.monitor.service import Monitor
from infradex.netpolicy import DEFAULT_POLICY
from infradex.probes.base import ErrorKind, Observation
from infradex.statuspage.subscriber_messages import SubscriberLinks
from infradex.statuspage.subscribers import sign_up
from infradex.store import Database
from infradex.store.tokens import create_token
from infradex.web.app import create_app

from .alerting_harness import FIXTURE
from .api_schema import problems, response_schema
from .conftest import settings_for
from .test_incidents_web import open_incident
from .test_monitor_history import CHECK

EDGE = dataclasses.replace(CHECK, id="provider:edgecdn/edge", owner="provider:edgecdn", name="edge")


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "org"
    directory.mkdir()
    (directory / "catalog.yaml").write_text(
        FIXTURE.read_text().replace("__CDN_URL__", "http://127.0.0.1:9/edge")
        .replace("__APP_URL__", "http://127.0.0.1:9")
        .replace("__SOLO_URL__", "http://127.0.0.1:9/solo")
    )  # fmt: skip
    return directory


class Api:
    """Calls the application and checks each answer against its declared schema."""

    def __init__(self, app: FastAPI, client: httpx.AsyncClient, spec: dict[str, Any]) -> None:
        self.app, self.client, self.spec = app, client, spec
        self.seen: set[tuple[str, str]] = set()
        self.models = {
            (method.lower(), route.path): route.response_model
            for route in _routes(app.routes)
            for method in route.methods
        }

    async def call(
        self, method: str, template: str, status: int = 200, headers: Any = None, **params: Any
    ) -> Any:
        path_params = {k: v for k, v in params.items() if "{" + k + "}" in template}
        query = {k: v for k, v in params.items() if k not in path_params and k != "json"}
        url = template.format(**path_params)
        answer = await self.client.request(
            method, url, params=query, json=params.get("json"), headers=headers
        )
        assert answer.status_code == status, (method, url, answer.text)
        body = answer.json()
        schema = response_schema(self.spec, method.lower(), template, status)
        assert schema, f"{method} {template} {status}: no schema declared"
        assert problems(self.spec, schema, body) == [], (method, url, body)
        model = self.models[(method.lower(), template)]
        adapter = TypeAdapter(model)
        again = adapter.dump_python(adapter.validate_python(body), mode="json", by_alias=True)
        assert again == body, f"{method} {template}: parsing and writing again changed it"
        self.seen.add((method.lower(), template))
        return body


def _routes(routes: Any) -> Any:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            yield from _routes(route.original_router.routes)


@pytest.fixture
async def api(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str
) -> AsyncIterator[Api]:
    app = create_app(settings_for(catalog_dir, tmp_path, database_url), db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield Api(app, c, app.openapi())


async def _history(db: Database) -> None:
    """Results, a state, state changes and rollups for provider:edgecdn/edge, as a monitor
    writes them."""
    start = utcnow() - timedelta(hours=3)
    clock = [start]
    monitor = Monitor(db, clock=lambda: clock[0])
    for n, outcome in enumerate("uuuddddu"):
        observation = Observation(phases={"total": 0.02, "connect": 0.005})
        if outcome == "d":
            observation.fail(ErrorKind.REFUSED, "connection refused")
        monitor.record(EDGE, CheckResult(EDGE.id, observation), start + timedelta(minutes=n))
    await monitor.flush()


#: routes this walk does not call, and where they are exercised instead: Statuspage's v2 JSON
#: (pre-rendered, checked against recorded Statuspage answers: test_status_api.py), the status
#: page's writes (on a catalog with status components: test_status_api.py), and the agent API
#: (with agent tokens bound to a catalog's data centers: test_agent_api.py)
SKIPPED = ("/api/v2/", "/api/v1/status/incidents/", "/api/v1/status/overrides/", "/api/agent/")


async def test_every_answer_matches_its_published_schema(
    api: Api, db: Database, catalog_dir: Path
) -> None:
    writer = {"Authorization": "Bearer " + await create_token(db, "w", ["write"], utcnow())}
    admin = {"Authorization": "Bearer " + await create_token(db, "a", ["admin"], utcnow())}
    incident_id = await open_incident(db)
    await _history(db)
    v1 = "/api/v1"

    # the catalog
    listed = await api.call("get", f"{v1}/entities", limit=5)
    assert listed["items"] and {"ref", "source", "relations", "spec"} <= set(listed["items"][0])
    await api.call("get", f"{v1}/entities/{{ref}}", ref="provider:edgecdn")
    who = await api.call("get", f"{v1}/who", target="service:www")
    assert who["contacts"]
    impact = await api.call("get", f"{v1}/impact", ref="provider:edgecdn")
    assert impact["affected"]
    await api.call("get", f"{v1}/graph")
    await api.call("get", f"{v1}/graph", focus="service:www")
    found = await api.call("get", f"{v1}/search", q="www")
    assert found["results"]
    await api.call("get", f"{v1}/catalog/problems")
    await api.call("get", f"{v1}/catalog/plan")
    reloaded = await api.call("post", f"{v1}/catalog/reload", headers=writer)
    assert reloaded["accepted"] is True
    loads = await api.call("get", f"{v1}/catalog/loads", headers=admin)
    assert loads["items"][0]["source"] is not None
    (catalog_dir / "broken.yaml").write_text("apiVersion: infradex/v1\nkind: Service\n")
    refused = await api.call("post", f"{v1}/catalog/reload", status=422, headers=writer)
    assert refused["accepted"] is False and refused["errors"]

    # the monitor
    checks = await api.call("get", f"{v1}/checks")
    assert checks["items"]
    edge = {"owner": "provider:edgecdn", "name": "edge"}
    one = await api.call("get", f"{v1}/checks/{{owner}}/{{name}}", **edge)
    assert one["lastResult"] and one["stateChanges"] and one["lastMessage"]
    results = await api.call("get", f"{v1}/checks/{{owner}}/{{name}}/results", **edge)
    assert len(results["items"]) == 8
    for period in ("hour", "day"):
        series = await api.call(
            "get", f"{v1}/checks/{{owner}}/{{name}}/history", period=period, **edge
        )
        assert series["items"]
    await api.call("get", f"{v1}/checks/{{owner}}/{{name}}/uptime", **edge)
    await api.call("get", f"{v1}/monitor")
    now = utcnow()
    window = await api.call(
        "post",
        f"{v1}/maintenance",
        status=201,
        headers=writer,
        json={
            "target": "provider:edgecdn",
            "start": now.isoformat(),
            "end": (now + timedelta(hours=1)).isoformat(),
            "rrule": "FREQ=WEEKLY",
            "reason": "upgrade",
        },
    )
    windows = await api.call("get", f"{v1}/maintenance")
    assert windows["items"][0]["active"] is True and windows["items"][0]["covers"]
    await api.call(
        "delete", f"{v1}/maintenance/{{window_id}}", window_id=window["id"], headers=writer
    )

    # incidents
    await api.call("get", f"{v1}/incidents")
    await api.call("get", f"{v1}/incidents/{{incident_id}}", incident_id=incident_id)
    act = f"{v1}/incidents/{{incident_id}}"
    for action, body in (
        ("notes", {"note": "looking"}),
        ("acknowledge", None),
        ("unacknowledge", None),
        ("snooze", {"duration": "1h"}),
        ("resolve", {"note": "fixed"}),
    ):
        done = await api.call(
            "post", act + "/" + action, incident_id=incident_id, headers=writer, json=body
        )
    assert done["status"] == "resolved" and done["timeline"] and done["members"]

    # DNS (admin): this catalog's zones have no DNS provider, so the plan has no zone and
    # an apply of its checksum changes nothing (BIND-backed answers: tests/integration/dns_as_code)
    dns_plan = await api.call("get", f"{v1}/dns/plan", headers=admin)
    assert dns_plan["changes"] == []
    drift = await api.call("get", f"{v1}/dns/drift", headers=admin)
    assert drift["inSync"] is True
    applied = await api.call(
        "post", f"{v1}/dns/apply", headers=admin, json={"checksum": dns_plan["checksum"]}
    )
    assert applied["applied"] == [] and applied["changes"] == 0

    # the status page's internal API (its writes, on a catalog with status components:
    # tests/integration/server/test_status_api.py)
    await api.call("get", f"{v1}/status/components")
    await api.call("get", f"{v1}/status/incidents")
    # its subscribers (admin; the whole path: test_status_subscribers_path.py)
    links = SubscriberLinks("https://status.example.org", "Status", "k")
    await sign_up(db, links, kind="email", address="ada@example.org", components=(), known={},
                  source="192.0.2.1", now=utcnow(), policy=DEFAULT_POLICY)  # fmt: skip
    (subscriber,) = (await api.call("get", f"{v1}/status/subscribers", headers=admin))["items"]
    assert subscriber["confirmedAt"] is None
    await api.call("delete", f"{v1}/status/subscribers/{{subscriber_id}}", headers=admin,
                   subscriber_id=subscriber["id"])  # fmt: skip

    every = {
        (method, path)
        for path, methods in api.spec["paths"].items()
        if path.startswith("/api/") and not path.startswith(SKIPPED)
        for method in methods
    }
    assert every - api.seen == set(), "exercise the new route(s) here"
