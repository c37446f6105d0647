"""Many writers at once on one store: sign-ins, token requests that write (incident notes and
acknowledgements, maintenance windows, catalog reloads) and the monitor flushing its results,
all against a real uvicorn on 127.0.0.1. No request may fail with a 5xx ("database is locked"
was one in 40 sign-ins) and no row may be lost."""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from aiohttp import web
from sqlalchemy import func, select

from infradex.clock import utcnow
from infradex.store import Database
from infradex.store.tables import audit_log, incident_events, maintenance_windows
from infradex.store.tokens import create_token
from infradex.store.users import create_user
from infradex.web.app import create_app
from live_server import fresh_database, serving

from .conftest import settings_for

PASSWORD = "correct horse battery staple"
USERS = 4
ROUNDS = 10  # of each kind of request per user or token


@pytest.fixture
async def target_port() -> AsyncIterator[int]:
    """Local targets: /ok answers 200, /down 500."""

    async def handle(request: web.Request) -> web.Response:
        return web.Response(status=500 if request.path == "/down" else 200, text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    yield site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    await runner.cleanup()


def _catalog(root: Path, port: int) -> Path:
    checks = "\n".join(
        f'    - {{name: c{i}, url: "http://127.0.0.1:{port}/ok", interval: 1s, timeout: 500ms}}'
        for i in range(20)
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "catalog.yaml").write_text(
        f"""apiVersion: infradex/v1
kind: Service
metadata: {{name: busy, title: Busy}}
spec:
  lifecycle: production
  checks:
{checks}
---
apiVersion: infradex/v1
kind: Service
metadata: {{name: broken, title: Broken}}
spec:
  lifecycle: production
  checks:
    - {{name: home, url: "http://127.0.0.1:{port}/down", interval: 1s, timeout: 500ms,
       failureThreshold: 1}}
""",
        encoding="utf-8",
    )
    return root


async def _sign_ins(base: str, username: str) -> list[int]:
    """One person signing in again and again (one browser at a time: parallel attempts for
    one account from one address are what the sign-in limit holds back)."""
    codes = []
    for _ in range(ROUNDS):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            form = await client.get("/login")
            match = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert match
            answer = await client.post(
                "/login",
                data={"username": username, "password": PASSWORD, "csrf": match.group(1)},
            )
            codes.append(answer.status_code)
    return codes


async def test_writers_at_once_get_no_server_error_and_lose_no_row(
    request: pytest.FixtureRequest, tmp_path: Path, target_port: int
) -> None:
    async with fresh_database(request, tmp_path) as url:
        db = Database(url)
        await db.upgrade()
        now = utcnow()
        for i in range(USERS):
            await create_user(db, f"user{i}", PASSWORD, now)
        tokens = [await create_token(db, f"writer{i}", ["write"], now) for i in range(USERS)]
        settings = dataclasses.replace(
            settings_for(_catalog(tmp_path / "catalog", target_port), tmp_path, url, True),
            correlation_window=timedelta(0),
        )
        app = create_app(settings, db)
        try:
            async with (
                serving(app) as base,
                httpx.AsyncClient(base_url=base, timeout=30) as client,
            ):
                deadline = time.monotonic() + 15
                while not (await client.get("/api/v1/incidents")).json()["items"]:
                    assert time.monotonic() < deadline, "the failing check opened nothing"
                    await asyncio.sleep(0.2)
                incident = (await client.get("/api/v1/incidents")).json()["items"][0]["id"]

                async def token_work(token: str) -> list[int]:
                    auth = {"Authorization": f"Bearer {token}"}
                    codes = []
                    for n in range(ROUNDS):
                        post = client.post
                        answers = await asyncio.gather(
                            post(f"/api/v1/incidents/{incident}/notes",
                                 json={"note": f"{token[-6:]} {n}"}, headers=auth),
                            post(f"/api/v1/incidents/{incident}/"
                                 + ("acknowledge" if n % 2 else "unacknowledge"),
                                 headers=auth),
                            post("/api/v1/maintenance", headers=auth, json={
                                "target": "service:busy",
                                "start": "2030-01-01T00:00:00Z",
                                "end": "2030-01-01T01:00:00Z"}),
                            client.get("/api/v1/checks", headers=auth),
                        )  # fmt: skip
                        codes += [a.status_code for a in answers]
                        if n % 5 == 0:
                            reload = await post("/api/v1/catalog/reload", headers=auth)
                            codes.append(reload.status_code)
                    return codes

                results = await asyncio.gather(
                    *(token_work(t) for t in tokens),
                    *(_sign_ins(base, f"user{i}") for i in range(USERS)),
                )
        finally:
            await db.close()
        codes = [c for r in results for c in r]
        errors = [c for c in codes if c >= 500]
        assert not errors, f"{len(errors)} of {len(codes)} requests failed: {errors[:10]}"
        db = Database(url)
        try:
            async with db.begin() as connection:

                async def count(table, *where):  # type: ignore[no-untyped-def]
                    query = select(func.count()).select_from(table).where(*where)
                    return (await connection.execute(query)).scalar_one()

                notes = await count(incident_events, incident_events.c.kind == "note")
                windows = await count(maintenance_windows)
                sign_ins = await count(audit_log, audit_log.c.action == "login")
        finally:
            await db.close()
        # ``note`` events may also come from acknowledgements without one: count at least
        assert notes >= USERS * ROUNDS
        assert windows == USERS * ROUNDS
        assert sign_ins == USERS * ROUNDS
        assert set(codes) <= {200, 201, 303, 400}  # 400: acknowledging what already is
