"""Secrets in the catalog (channel URLs and keys, check credentials) reach admins only:
anonymous readers and read/write tokens get them redacted in the API, the pages, /metrics
and the published docs; an admin token gets the full value."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from infradex.clock import utcnow
from infradex.settings import Settings
from infradex.store import Database
from infradex.store.db import async_url, configure_sqlite
from infradex.store.tokens import create_token
from infradex.web.app import create_app

SECRETS = (
    "SLACKSECRET",
    "ROUTINGSECRET",
    "HOOKSECRET",
    "SIGNSECRET",
    "PASSSECRET",
    "HDRSECRET",
    "IRCSECRET",
)

CATALOG = """\
apiVersion: infradex/v1
kind: Person
metadata: {name: val}
spec:
  email: val@example.org
  alerting:
    channels:
      - {type: webhook, url: "https://ntfy.example.org/val?token=HOOKSECRET", secret: SIGNSECRET}
      - {type: irc, url: "ircs://infradex:IRCSECRET@irc.example.org/val,isnick"}
      - {type: email, address: val-pager@example.org}
---
apiVersion: infradex/v1
kind: EscalationPolicy
metadata: {name: ops}
spec:
  default: true
  steps: [{after: 0m, notify: [person:val]}]
  channels:
    - {type: slack, url: "https://hooks.slack.com/services/T0/B0/SLACKSECRET"}
    - {type: pagerduty, routingKey: ROUTINGSECRET}
    - {type: pagerduty, routingKey: env:PD_KEY}
---
apiVersion: infradex/v1
kind: Service
metadata: {name: web}
spec:
  lifecycle: experimental
  checks:
    - name: health
      url: "http://monitor:PASSSECRET@127.0.0.1:9/health"
      headers: {Authorization: "Bearer HDRSECRET", X-Trace: "env:TRACE_ID"}
      method: POST
      body: '{"password": "PASSSECRET"}'
"""


@pytest.fixture
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    if request.config.getoption("--db") == "postgresql":
        url = os.environ.get("INFRADEX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test")
    else:
        url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_async_engine(async_url(url))
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
async def client(db: Database, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "all.yaml").write_text(CATALOG, encoding="utf-8")
    settings = Settings(
        catalog=root,
        catalog_is_embedded=False,
        data_dir=tmp_path,
        database_url="sqlite://",
        secret_key="test-secret",
        public_read=True,
        monitor=False,
    )
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def _headers(db: Database, scopes: list[str] | None) -> dict[str, str]:
    if scopes is None:
        return {}
    token = await create_token(db, "-".join(scopes), scopes, utcnow())
    return {"Authorization": f"Bearer {token}"}


def _leaks(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.mark.parametrize("scopes", [None, ["read"], ["write"]], ids=["anonymous", "read", "write"])
@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/entities/escalationpolicy:ops",
        "/api/v1/entities/person:val",
        "/api/v1/entities/service:web",
        "/api/v1/entities?limit=500",
        "/api/v1/checks",
        "/api/v1/checks/service:web/health",
    ],
)
async def test_readers_below_admin_get_secrets_redacted(
    client: httpx.AsyncClient, db: Database, scopes: list[str] | None, path: str
) -> None:
    answer = await client.get(path, headers=await _headers(db, scopes))
    assert answer.status_code == 200, answer.text
    assert _leaks(answer.text) == []


async def test_redaction_keeps_what_is_not_secret(client: httpx.AsyncClient) -> None:
    policy = (await client.get("/api/v1/entities/escalationpolicy:ops")).json()
    channels = policy["spec"]["channels"]
    assert [c["type"] for c in channels] == ["slack", "pagerduty", "pagerduty"]
    assert channels[0]["url"] == "[redacted]"
    assert channels[2]["routingKey"] == "env:PD_KEY"  # a reference names, it does not reveal
    person = (await client.get("/api/v1/entities/person:val")).json()
    assert person["spec"]["alerting"]["channels"] == [
        {"type": "webhook", "url": "[redacted]", "secret": "[redacted]"},
        {"type": "irc", "url": "[redacted]"},
        {"type": "email", "address": "val-pager@example.org"},  # public: the person's page
    ]
    service = (await client.get("/api/v1/entities/service:web")).json()
    (check,) = service["spec"]["checks"]
    assert check["url"] == "http://***@127.0.0.1:9/health"
    assert check["headers"] == {"Authorization": "[redacted]", "X-Trace": "env:TRACE_ID"}
    assert check["body"] == "[redacted]"
    listed = (await client.get("/api/v1/checks")).json()["items"]
    assert listed[0]["url"] == "http://***@127.0.0.1:9/health"


async def test_an_admin_token_sees_the_full_values(client: httpx.AsyncClient, db: Database) -> None:
    admin = await _headers(db, ["admin"])
    policy = (await client.get("/api/v1/entities/escalationpolicy:ops", headers=admin)).json()
    assert policy["spec"]["channels"][1]["routingKey"] == "ROUTINGSECRET"
    person = (await client.get("/api/v1/entities/person:val", headers=admin)).json()
    assert "IRCSECRET" in person["spec"]["alerting"]["channels"][1]["url"]
    check = (await client.get("/api/v1/checks/service:web/health", headers=admin)).json()
    assert check["url"] == "http://monitor:PASSSECRET@127.0.0.1:9/health"
    service = (await client.get("/api/v1/entities/service:web", headers=admin)).json()
    assert service["spec"]["checks"][0]["headers"]["Authorization"] == "Bearer HDRSECRET"


async def test_pages_and_metrics_show_no_secret(client: httpx.AsyncClient) -> None:
    for path in ("/", "/services/web", "/escalation", "/people/val", "/metrics"):
        answer = await client.get(path)
        assert _leaks(answer.text) == [], path
    page = await client.get("/services/web")
    assert page.status_code == 200
    assert "http://***@127.0.0.1:9/health" in page.text


def test_the_published_docs_show_no_secret(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from infradex.cli.main import app

    root = tmp_path / "catalog"
    root.mkdir()
    (root / "all.yaml").write_text(CATALOG, encoding="utf-8")
    out = tmp_path / "site"
    result = CliRunner().invoke(app, ["--catalog", str(root), "docs", "build", str(out)])
    assert result.exit_code == 0, result.output
    written = [p for p in out.rglob("*") if p.is_file()]
    assert written
    leaks: dict[str, Any] = {}
    for path in written:
        found = _leaks(path.read_text(encoding="utf-8", errors="replace"))
        if found:
            leaks[str(path.relative_to(out))] = found
    assert leaks == {}
