"""What the subscriber tests share: a real webhook receiver on 127.0.0.1 (aiohttp) that keeps
each POST's headers and raw body, a public incident to publish (a draft row, as the drafting
code writes it), and a server app with a real SMTP server and that receiver allowed."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from fastapi import FastAPI
from sqlalchemy import insert

from infradex.settings import Settings, embedded_example
from infradex.statuspage.components import layout
from infradex.store import Database
from infradex.store.tables import public_incident_updates, public_incidents
from infradex.web.app import create_app

from .alerting_harness import Inbox
from .conftest import settings_for

__all__ = ["Receiver", "draft", "public_components", "receiver", "status_app"]


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A webhook receiver: answers ``status`` (default 204) and keeps what it got."""

    port: int = 0
    status: int = 204
    got: list[Delivery] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.got.append(Delivery(dict(request.headers), await request.read()))
        return web.Response(status=self.status)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    state = Receiver()
    app = web.Application()
    app.router.add_post("/hook", state.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


def public_components() -> dict[str, tuple[str, str]]:
    """The PSF example's public components: ref → (id, name)."""
    from infradex.catalog import load

    catalog = load(embedded_example()).catalog
    assert catalog is not None
    return {str(c.ref): (c.id, c.name) for c in layout(catalog).components if c.public}


async def draft(
    db: Database, refs: list[str], at: datetime, name: str = "Problems",
    incident_id: int | None = None,
) -> int:  # fmt: skip
    """A public incident draft on ``refs`` with its first update, as the turn writes one
    (for internal incident ``incident_id``, when given)."""
    async with db.begin(writes=True) as connection:
        row = {"name": name, "status": "investigating", "impact": "major", "components": refs,
               "created_at": at, "updated_at": at, "incident_id": incident_id}  # fmt: skip
        made = await connection.execute(insert(public_incidents).values(**row))
        key = made.inserted_primary_key
        assert key is not None
        first = {"public_incident_id": int(key[0]), "status": "investigating",
                 "body": "We are investigating.", "components": dict.fromkeys(refs, "major_outage"),
                 "created_at": at, "created_by": "infradex"}  # fmt: skip
        await connection.execute(insert(public_incident_updates).values(**first))
    return int(key[0])


def status_settings(tmp_path: Path, database_url: str, inbox: Inbox, **changes: object) -> Settings:
    base = settings_for(embedded_example(), tmp_path, database_url)
    return dataclasses.replace(
        base,
        smtp_url=inbox.url,
        mail_from="status@example.org",
        base_url="https://infra.example.org",
        subscriber_webhook_allow=(ip_network("127.0.0.1/32"),),
        **changes,  # type: ignore[arg-type]
    )


@pytest.fixture
async def status_app(
    db: Database, tmp_path: Path, database_url: str, inbox: Inbox
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The whole application (lifespan included) with mail going to ``inbox``; requests
    come from 203.0.113.5."""
    app = create_app(status_settings(tmp_path, database_url, inbox), db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield app, c
