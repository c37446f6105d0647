"""Nothing internal reaches the public status page: hosts, people, check URLs and messages,
maintenance reasons and override reasons are put where the derivation sees them (the
internal view shows them, so they are in reach), and neither ``/status``, its history, feeds
and incident pages (with an incident drafted from one whose title is secret) nor any of the
v2 JSON documents contains one. SQLite, or PostgreSQL with ``--db postgresql``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert

from infradex.clock import utcnow
from infradex.settings import Settings
from infradex.statuspage.automatic import PublicIncidentAutomation
from infradex.statuspage.incident_store import list_public, publish
from infradex.statuspage.paths import ATOM_PATH, HISTORY_PATH, RSS_PATH, UPTIME_PATH, incident_path
from infradex.statuspage.v2 import ENDPOINTS
from infradex.store import Database
from infradex.store.tables import check_states, incidents
from infradex.store.tokens import create_token
from infradex.web.app import create_app
from live_server import fresh_database

SECRETS = (
    "SECRETHOST",
    "10.9.8.7",
    "secret.person@example.org",
    "Secret Person",
    "hunter2PASSWORD",
    "SECRET-CHECK-MESSAGE",
    "SECRET-MAINTENANCE-REASON",
    "SECRET-OVERRIDE-REASON",
    "secret-team",
)
NOW = datetime.now(UTC).replace(microsecond=0)

CATALOG = {
    "all.yaml": f"""\
    apiVersion: infradex/v1
    kind: Provider
    metadata: {{name: do}}
    spec: {{type: iaas}}
    ---
    apiVersion: infradex/v1
    kind: Datacenter
    metadata: {{name: nyc1}}
    spec: {{provider: do}}
    ---
    apiVersion: infradex/v1
    kind: Host
    metadata: {{name: db7, title: SECRETHOST db7.internal}}
    spec: {{datacenter: nyc1, addresses: [10.9.8.7], role: SECRETHOST database}}
    ---
    apiVersion: infradex/v1
    kind: Person
    metadata: {{name: ann, title: Secret Person}}
    spec: {{email: secret.person@example.org}}
    ---
    apiVersion: infradex/v1
    kind: Team
    metadata: {{name: secret-team}}
    spec: {{members: [person:ann]}}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {{name: db, title: SECRETHOST database service}}
    spec:
      hostedOn: [host:db7]
      owners: [{{ref: team:secret-team}}]
      checks: [{{name: secrethost, url: "http://admin:hunter2PASSWORD@127.0.0.1:9/"}}]
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {{name: web}}
    spec:
      dependsOn: [service:db]
      owners: [{{ref: person:ann}}]
      checks: [{{name: home, url: "http://admin:hunter2PASSWORD@127.0.0.1:9/home"}}]
      status: {{name: Website}}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {{name: files}}
    spec:
      hostedOn: [host:db7]
      status: {{name: Files}}
      maintenance:
        - {{start: "{(NOW - timedelta(minutes=5)).isoformat()}", duration: 1h, public: true,
            reason: SECRET-MAINTENANCE-REASON on SECRETHOST}}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {{name: mail}}
    spec:
      status: {{name: Mail}}
    """
}


@pytest.fixture
async def client(request: pytest.FixtureRequest, tmp_path: Path, write_catalog: Any) -> Any:
    async with fresh_database(request, tmp_path) as url:
        db = Database(url)
        settings = Settings(
            catalog=write_catalog(tmp_path / "catalog", CATALOG),
            catalog_is_embedded=False,
            data_dir=tmp_path,
            database_url=url,
            secret_key="test-secret",
            public_read=True,
            monitor=False,
        )
        app = create_app(settings, db)
        try:
            async with app.router.lifespan_context(app):
                app.state.status_board.interval = 0.0
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
                    yield c, db, app
        finally:
            await db.close()


async def test_no_internal_detail_reaches_the_public_page_or_json(client: Any) -> None:
    c, db, app = client
    async with db.begin(writes=True) as connection:
        for check_id in ("service:db/secrethost", "service:web/home"):
            await connection.execute(
                insert(check_states).values(
                    check_id=check_id, state="down", hard_state="down", failures=3,
                    successes=0, flapping=False, history="ddd", since=NOW,
                    last_result_at=utcnow(), last_status="down",
                    last_message="SECRET-CHECK-MESSAGE from SECRETHOST 10.9.8.7",
                )
            )  # fmt: skip
    token = await create_token(db, "ops", ["write", "read"], utcnow())
    response = await c.put(
        "/api/v1/status/overrides/service:mail",
        json={
            "status": "degraded_performance",
            "reason": "SECRET-OVERRIDE-REASON: Secret Person restarts SECRETHOST",
            "expiresAt": (utcnow() + timedelta(hours=1)).isoformat(),
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text

    # the secrets are in reach: the internal view (a token) shows the reasons with them
    internal = (
        await c.get("/api/v1/status/components", headers={"Authorization": f"Bearer {token}"})
    ).text
    assert "SECRETHOST" in internal and "SECRET-OVERRIDE-REASON" in internal

    # a published incident, drafted from an internal one whose title is full of secrets
    async with db.begin(writes=True) as connection:
        await connection.execute(
            insert(incidents).values(
                key="service:web", title="SECRETHOST down, Secret Person paged (secret-team)",
                status="open", root_ref="service:web", opened_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
    # the alerter's turn drafts it (statuspage.automatic), as the assembler runs it
    await PublicIncidentAutomation(None).after_correlation(
        lambda _: db.begin(writes=True), app.state.catalog.catalog, utcnow(), changed=True
    )
    async with db.begin() as connection:
        (draft,) = await list_public(connection, published_only=False)
    await publish(db, draft.id, name=None, body=None, by="user:ops", at=utcnow())

    public = {"/status": (await c.get("/status")).text}
    for path in ENDPOINTS:
        public[path] = (await c.get(f"/api/v2/{path}")).text
    (shown,) = (await c.get("/api/v2/incidents.json")).json()["incidents"]
    for path in (HISTORY_PATH, UPTIME_PATH, ATOM_PATH, RSS_PATH, incident_path(shown["id"])):
        answer = await c.get(path)
        assert answer.status_code == 200, path
        public[path] = answer.text
    assert "Problems with Website" in public[incident_path(shown["id"])]
    states = {
        x["name"]: x["status"]
        for x in (await c.get("/api/v2/components.json")).json()["components"]
    }
    assert states == {
        "Website": "major_outage",
        "Files": "under_maintenance",
        "Mail": "degraded_performance",
    }
    for where, text in public.items():
        for secret in SECRETS:
            assert secret.lower() not in text.lower(), (where, secret)
