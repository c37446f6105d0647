"""Signing in: passwords, CSRF on every form, a limit on failures, and private servers."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from infradex.clock import utcnow
from infradex.settings import embedded_example
from infradex.store import Database
from infradex.store.sign_in_limits import FREE
from infradex.store.tables import audit_log, users
from infradex.store.tokens import create_token
from infradex.store.users import create_user
from infradex.web.app import create_app

from .conftest import settings_for

PASSWORD = "correct horse battery staple"


def _csrf(page: httpx.Response) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert match, "the page has no CSRF field"
    return match.group(1)


@pytest.fixture
async def ee(db: Database) -> str:
    await create_user(db, "ee", PASSWORD, utcnow())
    return "ee"


async def _sign_in(
    client: httpx.AsyncClient, username: str, password: str, next_url: str = "/"
) -> httpx.Response:
    form = await client.get("/login")
    return await client.post(
        "/login",
        data={"username": username, "password": password, "csrf": _csrf(form), "next": next_url},
    )


async def test_passwords_are_stored_as_argon2(db: Database, ee: str) -> None:
    async with db.begin() as connection:
        row = (await connection.execute(select(users))).one()
    assert row.password_hash.startswith("$argon2") and PASSWORD not in row.password_hash


async def test_sign_in_and_out(client: httpx.AsyncClient, ee: str, db: Database) -> None:
    signed_in = await _sign_in(client, "ee", PASSWORD, "/services/docs")
    assert signed_in.status_code == 303 and signed_in.headers["location"] == "/services/docs"
    cookie = signed_in.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = await client.get("/services/docs")
    assert ">ee</span>" in page.text and "Sign out" in page.text
    signed_out = await client.post("/logout", data={"csrf": _csrf(page)})
    assert signed_out.status_code == 303
    assert "Sign in" in (await client.get("/")).text
    async with db.begin() as connection:
        actions = [r.action for r in await connection.execute(select(audit_log))]
    assert actions == ["login", "logout"]


async def test_wrong_password_and_unknown_user_look_the_same(
    client: httpx.AsyncClient, ee: str
) -> None:
    wrong = await _sign_in(client, "ee", "not the password")
    nobody = await _sign_in(client, "nobody", "not the password")
    assert wrong.status_code == nobody.status_code == 401
    assert "Wrong username or password." in wrong.text and "Wrong username" in nobody.text


async def test_forms_without_the_right_csrf_token_are_refused(
    client: httpx.AsyncClient, ee: str
) -> None:
    await client.get("/login")  # a session cookie with a token
    forged = await client.post(
        "/login", data={"username": "ee", "password": PASSWORD, "csrf": "guessed"}
    )
    assert forged.status_code == 403 and "expired" in forged.text
    missing = await client.post("/login", data={"username": "ee", "password": PASSWORD})
    assert missing.status_code == 403
    assert (await client.post("/logout", data={"csrf": "guessed"})).status_code == 403


async def test_failed_sign_ins_are_limited(client: httpx.AsyncClient, ee: str) -> None:
    for _ in range(FREE["pair"]):
        assert (await _sign_in(client, "ee", "wrong password!")).status_code == 401
    limited = await _sign_in(client, "ee", PASSWORD)  # even the right password waits now
    assert limited.status_code == 429 and int(limited.headers["retry-after"]) > 0


async def test_sign_in_never_redirects_off_site(client: httpx.AsyncClient, ee: str) -> None:
    for target in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        response = await _sign_in(client, "ee", PASSWORD, target)
        assert response.headers["location"] == "/"


@pytest.fixture
async def private_client(
    db: Database, tmp_path: Path, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    settings = replace(settings_for(embedded_example(), tmp_path, database_url), public_read=False)
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_a_private_server_needs_sign_in_or_a_read_token(
    private_client: httpx.AsyncClient, db: Database, ee: str
) -> None:
    page = await private_client.get("/services/docs")
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/services/docs"
    api = await private_client.get("/api/v1/entities")
    assert api.status_code == 401 and "private" in api.json()["error"]
    assert (await private_client.get("/healthz")).status_code == 200
    token = await create_token(db, "reader", ["read"], utcnow())
    with_token = await private_client.get(
        "/api/v1/entities", headers={"Authorization": f"Bearer {token}"}
    )
    assert with_token.status_code == 200
    await _sign_in(private_client, "ee", PASSWORD)
    assert (await private_client.get("/services/docs")).status_code == 200
