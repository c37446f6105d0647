"""No input gives a 5xx: text that is not Unicode (NUL, lone surrogates) is refused with a 422
naming the field, and a store that cannot write answers 503 (JSON for the API, a page for
people) and makes /readyz fail."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event

from infradex.clock import utcnow
from infradex.store.tokens import create_token
from infradex.store.users import create_user

from .server_app import PASSWORD, Server, server

__all__ = ["server"]

WINDOW = {"target": "service:docs", "start": "2030-01-01T00:00:00Z", "end": "2030-01-01T01:00Z"}


@pytest.mark.parametrize("bad", ["\u0000", "\ud800", "ok\udfffok"])
async def test_text_that_is_not_unicode_is_refused_with_a_422(server: Server, bad: str) -> None:
    token = await create_token(server.db, "w", ["write"], utcnow())
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    escaped = bad.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    text = "".join(f"\\u{ord(c):04x}" for c in escaped)
    body = '{"note": "' + text + '"}'
    note = await server.client.post("/api/v1/incidents/1/notes", content=body, headers=auth)
    assert note.status_code == 422, note.text  # before: 500 (the handler echoed the input)
    assert "note" in note.json()["error"]
    assert "NUL" in note.text or "surrogate" in note.text
    window = (
        '{"target": "service:docs", "start": "2030-01-01T00:00:00Z", '
        '"end": "2030-01-01T01:00:00Z", "reason": "' + text + '"}'
    )
    answer = await server.client.post("/api/v1/maintenance", content=window, headers=auth)
    assert answer.status_code == 422 and "reason" in answer.json()["error"]


async def _read_only(server: Server) -> None:
    """From now on every connection refuses writes, as a read-only file or a full disk do."""
    engine = server.db.engine
    assert engine is not None
    if engine.dialect.name != "sqlite":
        pytest.skip("read-only by PRAGMA is SQLite's; PostgreSQL: see docs/server.md")

    @event.listens_for(engine.sync_engine, "connect")
    def _connect(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA query_only=ON")

    await engine.dispose()


async def test_a_store_that_cannot_write_answers_503_and_is_not_ready(server: Server) -> None:
    token = await create_token(server.db, "w", ["write"], utcnow())
    await create_user(server.db, "ee", PASSWORD, utcnow())
    assert (await server.client.get("/readyz")).status_code == 200
    form = await server.client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf
    await _read_only(server)
    ready = await server.client.get("/readyz")
    assert ready.status_code == 503 and "cannot write" in ready.json()["store"]  # before: 200
    assert server.url.split("///")[-1] not in ready.text  # no server path for anyone
    api = await server.client.post(
        "/api/v1/maintenance", json=WINDOW, headers={"Authorization": f"Bearer {token}"}
    )
    assert api.status_code == 503, api.text  # before: a bare 500
    assert "unavailable" in api.json()["error"] and api.headers["retry-after"]
    page = await server.client.post(
        "/login",
        data={"username": "ee", "password": PASSWORD, "csrf": csrf.group(1)},
        headers={"Accept": "text/html"},
    )
    assert page.status_code == 503 and "<h1>Temporarily unavailable</h1>" in page.text
    assert (await server.client.get("/services/docs")).status_code == 200  # reads go on
