"""Sign-in limits: counted before the password is checked (parallel guesses cannot slip
through), backoff per source and per account instead of a lock anyone could set off, and
X-Forwarded-For believed only from configured proxies."""

from __future__ import annotations

import asyncio
from ipaddress import ip_network

from infradex.clock import utcnow
from infradex.store.sign_in_limits import FREE
from infradex.store.users import create_user
from infradex.web.clients import client_address

from .server_app import PASSWORD, Server, server, sign_in

__all__ = ["server"]


async def test_parallel_wrong_passwords_are_not_all_evaluated(server: Server) -> None:
    await create_user(server.db, "ee", PASSWORD, utcnow())
    answers = await asyncio.gather(*(sign_in(server, "ee", f"guess {i}") for i in range(20)))
    codes = [a.status_code for a in answers]
    assert codes.count(401) <= FREE["pair"], codes  # before: 20 evaluated, no 429
    assert codes.count(429) >= 20 - FREE["pair"]
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)


async def test_an_attacker_cannot_lock_the_owner_out(server: Server) -> None:
    await create_user(server.db, "ee", PASSWORD, utcnow())
    for i in range(FREE["pair"] + 3):
        await sign_in(server, "ee", f"guess {i}", source="198.51.100.7")
    assert (await sign_in(server, "ee", "guess", source="198.51.100.7")).status_code == 429
    # the owner, from an address that has not failed: in at once (before: 429 for 15 min)
    assert (await sign_in(server, "ee", PASSWORD, source="203.0.113.5")).status_code == 303


async def test_many_addresses_guessing_one_account_are_held_back(server: Server) -> None:
    await create_user(server.db, "ee", PASSWORD, utcnow())
    for i in range(FREE["account"]):
        assert (await sign_in(server, "ee", "guess", source=f"198.51.100.{i}")).status_code == 401
    # the account is in its backoff: an address that failed before waits, even right
    again = await sign_in(server, "ee", PASSWORD, source="198.51.100.0")
    assert again.status_code == 429


def test_forwarded_for_is_believed_only_from_trusted_proxies() -> None:
    proxies = [ip_network("10.0.0.0/8")]
    assert client_address("127.0.0.1", "6.6.6.6", []) == "127.0.0.1"  # default: none
    assert client_address("192.0.2.9", "6.6.6.6", proxies) == "192.0.2.9"
    assert client_address("10.0.0.2", "203.0.113.5", proxies) == "203.0.113.5"
    # a client's own X-Forwarded-For entry in front of the proxy's is not believed
    assert client_address("10.0.0.2", "6.6.6.6, 203.0.113.5", proxies) == "203.0.113.5"
    assert client_address("10.0.0.2", "6.6.6.6, 10.0.0.3", proxies) == "6.6.6.6"
    assert client_address("10.0.0.2", "not-an-ip", proxies) == "10.0.0.2"
