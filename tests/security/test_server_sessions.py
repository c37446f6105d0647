"""Sessions live in the store: signing out ends the cookie, disabling or deleting a user ends
their sessions and tokens at once, and `infradex user list|disable|delete` does it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from infradex.clock import utcnow
from infradex.store.sessions import IDLE
from infradex.store.tokens import create_token
from infradex.store.users import create_user, delete_user, disable_user
from infradex.web.sessions import COOKIE

from .server_app import PASSWORD, Server, server, sign_in

__all__ = ["server"]


async def _cookie_of(server: Server, username: str) -> str:
    signed_in = await sign_in(server, username, PASSWORD)
    assert signed_in.status_code == 303
    return signed_in.cookies[COOKIE]


async def _who(server: Server, cookie: str) -> str:
    async with httpx.AsyncClient(
        transport=server.client._transport, base_url="http://testserver",
        cookies={COOKIE: cookie},
    ) as browser:  # fmt: skip
        page = await browser.get("/services/docs")
    return "signed in" if "Sign out" in page.text else "anonymous"


async def test_a_cookie_replayed_after_sign_out_signs_no_one_in(server: Server) -> None:
    await create_user(server.db, "ee", PASSWORD, utcnow())
    cookie = await _cookie_of(server, "ee")
    assert await _who(server, cookie) == "signed in"
    async with httpx.AsyncClient(
        transport=server.client._transport, base_url="http://testserver",
        cookies={COOKIE: cookie},
    ) as browser:  # fmt: skip
        page = await browser.get("/services/docs")
        csrf = page.text.split('name="csrf" value="')[1].split('"')[0]
        assert (await browser.post("/logout", data={"csrf": csrf})).status_code == 303
    assert await _who(server, cookie) == "anonymous"  # before: still signed in


async def test_disabling_a_user_ends_their_sessions_and_tokens(server: Server) -> None:
    await create_user(server.db, "ee", PASSWORD, utcnow())
    cookie = await _cookie_of(server, "ee")
    token = await create_token(server.db, "ee-bot", ["write"], utcnow(), created_by="user:ee")
    assert await disable_user(server.db, "ee", utcnow()) == 2
    assert await _who(server, cookie) == "anonymous"
    answer = await server.client.post(
        "/api/v1/catalog/reload", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status_code == 403
    assert (await sign_in(server, "ee", PASSWORD, "203.0.113.9")).status_code == 401


async def test_deleting_a_user_ends_their_sessions(server: Server) -> None:
    await create_user(server.db, "ee", PASSWORD, utcnow())
    cookie = await _cookie_of(server, "ee")
    await delete_user(server.db, "ee", utcnow())
    assert await _who(server, cookie) == "anonymous"
    assert IDLE.days == 14


def test_user_commands(tmp_path: Path) -> None:
    environment = {**os.environ, "INFRADEX_DATA_DIR": str(tmp_path), "INFRADEX_CATALOG": ""}

    def infradex(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "infradex", *args],
            env=environment, input=stdin, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    assert (
        infradex("user", "create", "ee", "--password-stdin", stdin=PASSWORD + "\n").returncode == 0
    )
    listed = infradex("user", "list")
    assert listed.returncode == 0 and "ee" in listed.stdout and "never" in listed.stdout
    disabled = infradex("user", "disable", "ee")
    assert disabled.returncode == 0 and "disabled" in disabled.stdout
    again = infradex("user", "disable", "ee")
    assert again.returncode == 1 and "user list" in again.stderr
    assert infradex("user", "delete", "ee").returncode == 0
    assert "ee" not in infradex("user", "list").stdout
    assert infradex("user", "delete", "ee").returncode == 1
