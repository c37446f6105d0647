"""The DNS API (``/api/v1/dns/plan``, ``apply``, ``drift``) through the real server (uvicorn
on 127.0.0.1) against a real BIND: the same plan as the CLI, applied exactly, audited, for
admin tokens only, and with octoDNS's blocking work kept off the event loop."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from infradex.clock import utcnow
from infradex.monitor.history import list_windows
from infradex.settings import Settings
from infradex.store.audit import audit_entries
from infradex.store.tokens import create_token
from infradex.web.app import create_app
from live_server import serving

from .conftest import SECRET, SECRET_ENV, Bind, hand_edit, run, write_catalog


@dataclass
class Server:
    client: httpx.AsyncClient
    admin: dict[str, str]  # headers of an admin token
    reader: dict[str, str]  # headers of a token with read and write, not admin
    app: object


@pytest.fixture(autouse=True)
def tsig_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)


@pytest.fixture
def catalog_root(bind: Bind, tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "catalog", bind.port)


async def _server(root: Path, tmp_path: Path) -> AsyncIterator[Server]:
    settings = Settings(
        catalog=root,
        catalog_is_embedded=False,
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'server.db'}",
        secret_key="test-secret",
        public_read=True,
        monitor=False,
    )
    app = create_app(settings)
    async with serving(app) as base, httpx.AsyncClient(base_url=base, timeout=60) as client:
        db = app.state.db
        admin = await create_token(db, "root", ["admin"], utcnow())
        reader = await create_token(db, "ops", ["read", "write"], utcnow())
        yield Server(
            client,
            {"Authorization": f"Bearer {admin}"},
            {"Authorization": f"Bearer {reader}"},
            app,
        )


@pytest.fixture
async def server(catalog_root: Path, tmp_path: Path) -> AsyncIterator[Server]:
    async for running in _server(catalog_root, tmp_path):
        yield running


async def test_plan_is_the_clis_plan_and_apply_serves_it(
    server: Server, bind: Bind, catalog_root: Path
) -> None:
    response = await server.client.get("/api/v1/dns/plan", headers=server.admin)
    assert response.status_code == 200, response.text
    plan = response.json()
    cli = run(catalog_root, "dns", "plan", "--format", "json")
    assert cli.exit_code == 0, cli.output
    assert plan == json.loads(cli.stdout)  # the same model, the same checksum
    assert {c["fqdn"]: c["action"] for c in plan["changes"]} == {
        "docs.example.test": "create",
        "old.example.test": "delete",
        "www.example.test": "update",
    }
    drift = (await server.client.get("/api/v1/dns/drift", headers=server.admin)).json()
    assert (drift["inSync"], drift["drifted"], drift["checksum"]) == (
        False,
        ["example.test"],
        plan["checksum"],
    )

    applied = await server.client.post(
        "/api/v1/dns/apply",
        headers=server.admin,
        json={"checksum": plan["checksum"], "maintenance": True},
    )
    assert applied.status_code == 200, applied.text
    body = applied.json()
    assert (body["applied"], body["changes"]) == (["example.test"], 3)
    assert [w["target"] for w in body["maintenance"]] == ["service:www"]
    assert bind.query("www.example.test") == ["192.0.2.11"]
    assert bind.query("docs.example.test", "CNAME") == ["www.example.test."]
    assert bind.query("old.example.test") == []

    db = server.app.state.db  # type: ignore[attr-defined]
    [entry] = [e for e in await audit_entries(db) if e["action"] == "dns.apply"]
    assert (entry["actor"], entry["target"], entry["remoteAddr"]) == (
        "token:root",
        "example.test",
        "127.0.0.1",
    )
    assert entry["detail"]["checksum"] == plan["checksum"]
    assert len(entry["detail"]["changes"]) == 3
    [window] = await list_windows(db)
    assert (window.target, window.source) == ("service:www", "token:root")

    after = (await server.client.get("/api/v1/dns/drift", headers=server.admin)).json()
    assert (after["inSync"], after["changes"]) == (True, [])


async def test_only_admin_tokens(server: Server, bind: Bind) -> None:
    calls = [
        ("GET", "/api/v1/dns/plan", None),
        ("GET", "/api/v1/dns/drift", None),
        ("POST", "/api/v1/dns/apply", {"checksum": "0" * 20, "force": True}),
    ]
    for method, path, body in calls:
        anonymous = await server.client.request(method, path, json=body)
        assert anonymous.status_code == 401, path
        assert "infradex token create" in anonymous.json()["error"]
        refused = await server.client.request(method, path, json=body, headers=server.reader)
        assert refused.status_code == 403, path
        assert refused.json()["error"] == "token 'ops' lacks the 'admin' scope this needs"
    assert bind.query("old.example.test") == ["192.0.2.99"]  # nothing was applied
    db = server.app.state.db  # type: ignore[attr-defined]
    assert [e for e in await audit_entries(db) if e["action"] == "dns.apply"] == []


async def test_a_stale_checksum_is_a_conflict_and_applies_nothing(
    server: Server, bind: Bind
) -> None:
    plan = (await server.client.get("/api/v1/dns/plan", headers=server.admin)).json()
    hand_edit(bind, "www", "192.0.2.77")  # someone edits the zone after the review
    refused = await server.client.post(
        "/api/v1/dns/apply", headers=server.admin, json={"checksum": plan["checksum"]}
    )
    assert refused.status_code == 409
    error = refused.json()["error"]
    assert f"not {plan['checksum']}" in error and "nothing was applied" in error
    assert "infradex dns plan" in error
    assert bind.query("www.example.test") == ["192.0.2.77"]
    assert bind.query("old.example.test") == ["192.0.2.99"]
    unknown = await server.client.get(
        "/api/v1/dns/plan", params={"zone": "nope.test"}, headers=server.admin
    )
    assert unknown.status_code == 404
    assert "no zone 'nope.test' in the catalog" in unknown.json()["error"]
    missing = await server.client.post("/api/v1/dns/apply", headers=server.admin, json={})
    assert missing.status_code == 422
    assert "checksum" in missing.json()["error"]


@pytest.fixture
def silent_dns(tmp_path: Path) -> Iterator[tuple[int, threading.Event]]:
    """A TCP port that accepts a zone transfer and never answers (a provider that hangs);
    the event is set once octoDNS has connected."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    connected = threading.Event()
    held: list[socket.socket] = []

    def accept() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        held.append(connection)
        connected.set()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], connected
    listener.close()
    for connection in held:
        connection.close()
    thread.join(5)


async def test_a_hanging_provider_does_not_stop_the_server(
    silent_dns: tuple[int, threading.Event], tmp_path: Path
) -> None:
    port, connected = silent_dns
    root = write_catalog(tmp_path / "catalog", port, timeout=5)
    async for server in _server(root, tmp_path):
        planning = asyncio.create_task(server.client.get("/api/v1/dns/plan", headers=server.admin))
        assert await asyncio.to_thread(connected.wait, 30)
        # octoDNS is now waiting on the silent provider; the server still answers
        health = await server.client.get("/healthz")
        assert health.status_code == 200
        assert not planning.done()
        answer = await planning
        assert answer.status_code == 502
        error = answer.json()["error"]
        assert "cannot read the live zone example.test from provider:bind" in error
        assert "check its octodns settings" in error
