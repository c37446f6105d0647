"""An in-process server on a store of its own (fresh SQLite file, or a PostgreSQL database
made for the test with ``--db postgresql``), trusting X-Forwarded-For from the test client
(127.0.0.1) so a test can speak from many addresses."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from ipaddress import ip_network
from pathlib import Path

import httpx
import pytest

from infradex.settings import Settings, embedded_example
from infradex.store import Database
from infradex.web.app import create_app
from live_server import fresh_database

PASSWORD = "correct horse battery staple"


@dataclass
class Server:
    client: httpx.AsyncClient
    db: Database
    url: str


@pytest.fixture
async def server(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Server]:
    async with fresh_database(request, tmp_path) as url:
        db = Database(url)
        settings = Settings(
            catalog=embedded_example(),
            catalog_is_embedded=False,
            data_dir=tmp_path,
            database_url=url,
            secret_key="test-secret",
            public_read=True,
            monitor=False,
            trusted_proxies=(ip_network("127.0.0.1/32"),),
        )
        app = create_app(settings, db)
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(
                    transport=transport, base_url="http://testserver"
                ) as client:
                    yield Server(client, db, url)
        finally:
            await db.close()


async def sign_in(
    server: Server, username: str, password: str, source: str = "192.0.2.1"
) -> httpx.Response:
    """A sign-in from ``source`` in a browser of its own (its own cookie)."""
    async with httpx.AsyncClient(
        transport=server.client._transport, base_url="http://testserver"
    ) as browser:
        form = await browser.get("/login")
        match = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert match
        return await browser.post(
            "/login",
            data={"username": username, "password": password, "csrf": match.group(1)},
            headers={"X-Forwarded-For": source},
        )
