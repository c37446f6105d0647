"""The agents' API through the whole application: tokens bound to a location, assignments
with an ETag and unresolved secrets, results stored or refused, heartbeats."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from agents_catalog import agents_catalog
from infradex.clock import utcnow
from infradex.monitor.admission import MAX_BATCH
from infradex.monitor.agent_records import list_agents
from infradex.store import Database
from infradex.store.tables import check_results
from infradex.store.tokens import create_token, revoke_token
from infradex.web.app import create_app

from .conftest import settings_for

HOME = "service:web/home"


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return agents_catalog(tmp_path / "catalog", "http://127.0.0.1:9")


@pytest.fixture
async def tokens(db: Database) -> dict[str, str]:
    now = utcnow()
    return {
        "nyc1": await create_token(db, "agent-nyc1", ["agent"], now, location="nyc1"),
        "ams1": await create_token(db, "agent-ams1", ["agent"], now, location="ams1"),
        "admin": await create_token(db, "root", ["admin"], now),
    }


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def batch(location: str, *outcomes: bool, check_id: str = HOME, dropped: int = 0) -> dict:
    start = utcnow() - timedelta(seconds=len(outcomes))
    return {
        "location": location,
        "dropped": dropped,
        "results": [
            {
                "check_id": check_id,
                "observed_at": (start + timedelta(seconds=i)).isoformat(),
                "success": ok,
                "duration_ms": 3.5,
                "message": "ok" if ok else "HTTP 503",
                "observed": {"phases": {"total": 0.0035}},
            }
            for i, ok in enumerate(outcomes)
        ],
    }


async def stored(db: Database) -> int:
    async with db.begin() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(check_results))).scalar_one()
        )


async def test_assignments_follow_the_location_with_an_etag_and_unresolved_secrets(
    client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    answer = await client.get(
        "/api/agent/assignments", params={"location": "ams1"}, headers=bearer(tokens["ams1"])
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [c["id"] for c in body["checks"]] == [HOME, "service:web/eu"]
    home = body["checks"][0]["check"]
    assert home["headers"] == {"X-Probe-Key": "env:INFRADEX_TEST_PROBE_KEY"}  # not resolved
    assert home["url"] == "http://127.0.0.1:9/home" and home["quorum"] == 2
    etag = answer.headers["etag"]
    assert etag == f'"{body["fingerprint"]}"'
    again = await client.get(
        "/api/agent/assignments",
        params={"location": "ams1"},
        headers=bearer(tokens["ams1"]) | {"If-None-Match": etag},
    )
    assert again.status_code == 304 and again.content == b""
    nyc = await client.get(
        "/api/agent/assignments", params={"location": "nyc1"}, headers=bearer(tokens["nyc1"])
    )
    assert [c["id"] for c in nyc.json()["checks"]] == [HOME]


async def test_results_are_stored_and_refusals_answered(
    client: httpx.AsyncClient, db: Database, tokens: dict[str, str]
) -> None:
    body = batch("nyc1", True, False, dropped=7)
    body["results"].append(dict(body["results"][0], check_id="service:web/eu"))  # ams1's only
    answer = await client.post("/api/agent/results", json=body, headers=bearer(tokens["nyc1"]))
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert out["stored"] == 2 and out["refused_counts"] == {"not-assigned": 1}
    assert out["refused"][0]["check_id"] == "service:web/eu"
    assert "not assigned to this location" in out["refused"][0]["detail"]
    again = await client.post("/api/agent/results", json=body, headers=bearer(tokens["nyc1"]))
    assert again.json()["refused_counts"] == {"replayed": 2, "not-assigned": 1}
    assert await stored(db) == 2
    (agent,) = await list_agents(db)
    assert (agent.location, agent.token_name) == ("nyc1", "agent-nyc1")
    assert (agent.results_total, agent.refused_total, agent.dropped_total) == (2, 4, 14)


@pytest.mark.parametrize(
    ("who", "status", "reason", "says"),
    [
        (None, 401, "no-token", "--scope agent --location DC"),
        ("idx_not-a-real-token", 403, "bad-token", "unknown or revoked"),
        ("admin", 403, "not-agent", "is no agent token"),
        ("ams1", 403, "other-location", "reports for ams1, not nyc1"),
        ("revoked", 403, "bad-token", "unknown or revoked"),
    ],
)
async def test_wrong_tokens_are_refused_counted_and_store_nothing(
    client: httpx.AsyncClient,
    db: Database,
    tokens: dict[str, str],
    who: str | None,
    status: int,
    reason: str,
    says: str,
) -> None:
    if who == "revoked":
        await revoke_token(db, "agent-nyc1", utcnow())
        who = "nyc1"
    headers = {} if who is None else bearer(tokens.get(who, who))
    for method, path, body in (
        ("POST", "/api/agent/results", batch("nyc1", False, False)),
        (
            "POST",
            "/api/agent/heartbeat",
            {"location": "nyc1", "version": "1", "sent_at": utcnow().isoformat()},
        ),
        ("GET", "/api/agent/assignments?location=nyc1", None),
    ):
        answer = await client.request(method, path, json=body, headers=headers)
        assert answer.status_code == status, (path, answer.text)
        assert says in answer.json()["error"]
    assert client._transport.app.state.agent_refusals[reason] == 3  # type: ignore[attr-defined]
    assert await stored(db) == 0 and await list_agents(db) == []


async def test_an_oversize_batch_is_refused_whole(
    client: httpx.AsyncClient, db: Database, tokens: dict[str, str]
) -> None:
    body = batch("nyc1", *([True] * (MAX_BATCH + 1)))
    answer = await client.post("/api/agent/results", json=body, headers=bearer(tokens["nyc1"]))
    assert answer.status_code == 413 and f"at most {MAX_BATCH}" in answer.json()["error"]
    assert await stored(db) == 0


async def test_a_result_with_a_huge_observation_is_invalid(
    client: httpx.AsyncClient, db: Database, tokens: dict[str, str]
) -> None:
    body = batch("nyc1", True)
    body["results"][0]["observed"] = {"body": "x" * 20_000}
    answer = await client.post("/api/agent/results", json=body, headers=bearer(tokens["nyc1"]))
    assert answer.status_code == 422 and "not bodies" in answer.json()["error"]
    assert await stored(db) == 0


async def test_the_heartbeat_records_version_and_clock_offset(
    client: httpx.AsyncClient, db: Database, tokens: dict[str, str]
) -> None:
    sent = utcnow() - timedelta(seconds=5)  # the agent's clock runs 5 s behind
    answer = await client.post(
        "/api/agent/heartbeat",
        json={"location": "nyc1", "version": "0.1.0", "sent_at": sent.isoformat()},
        headers=bearer(tokens["nyc1"]),
    )
    assert answer.status_code == 200, answer.text
    assert 5000 <= answer.json()["clock_offset_ms"] < 6000
    (agent,) = await list_agents(db)
    assert agent.version == "0.1.0" and agent.clock_offset_ms is not None
    assert 5000 <= agent.clock_offset_ms < 6000


@pytest.fixture
async def private_client(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = replace(settings_for(catalog_dir, tmp_path, database_url), public_read=False)
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_an_agent_reaches_a_private_server_with_its_token_alone(
    private_client: httpx.AsyncClient, tokens: dict[str, str]
) -> None:
    answer = await private_client.get(
        "/api/agent/assignments", params={"location": "nyc1"}, headers=bearer(tokens["nyc1"])
    )
    assert answer.status_code == 200 and answer.json()["checks"][0]["id"] == HOME
    refused = await private_client.get("/api/agent/assignments", params={"location": "nyc1"})
    assert refused.status_code == 401
    assert (await private_client.get("/api/v1/entities")).status_code == 401  # still private
