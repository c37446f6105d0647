"""Leases with fencing tokens, on a real store (SQLite, or PostgreSQL with --db postgresql),
with two separate engines as two servers would have."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, insert, select

from infradex.store.leases import Fenced, claim, current, fence, release, renew
from infradex.store.tables import audit_log, leases

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
TTL = timedelta(seconds=10)


async def test_one_holder_at_a_time_and_a_takeover_gets_a_higher_token(two_servers) -> None:
    a, b = two_servers
    lease_a = await claim(a, "alerter", "server-a", ttl=TTL, now=T0)
    assert lease_a is not None and lease_a.token == 1
    assert await claim(b, "alerter", "server-b", ttl=TTL, now=T0 + timedelta(seconds=5)) is None
    # a renews: same token, later expiry
    renewed = await renew(a, lease_a, ttl=TTL, now=T0 + timedelta(seconds=5))
    assert renewed is not None and renewed.token == 1
    assert renewed.expires_at == T0 + timedelta(seconds=15)
    # a stops renewing; once it has expired, b takes over with a higher token
    late = T0 + timedelta(seconds=16)
    lease_b = await claim(b, "alerter", "server-b", ttl=TTL, now=late)
    assert lease_b is not None and lease_b.token == 2
    assert await renew(a, renewed, ttl=TTL, now=late) is None  # a learns it lost
    stored = await current(a, "alerter")
    assert stored is not None and (stored.holder, stored.token) == ("server-b", 2)


async def test_a_paused_holders_late_write_is_refused(two_servers) -> None:
    a, b = two_servers
    lease_a = await claim(a, "alerter", "server-a", ttl=TTL, now=T0)
    assert lease_a is not None
    lease_b = await claim(b, "alerter", "server-b", ttl=TTL, now=T0 + TTL + timedelta(seconds=1))
    assert lease_b is not None
    # a wakes up and tries to write as if it still led: refused, and nothing written
    with pytest.raises(Fenced, match="passed to server-b"):
        async with a.begin(writes=True) as connection:
            await fence(connection, lease_a, T0 + timedelta(seconds=2))
            await connection.execute(
                insert(audit_log).values(at=T0, actor="server-a", action="escalate")
            )
    async with b.begin(writes=True) as connection:
        await fence(connection, lease_b, T0 + TTL + timedelta(seconds=2))
        await connection.execute(
            insert(audit_log).values(at=T0, actor="server-b", action="escalate")
        )
    async with a.begin() as connection:
        actors = (await connection.execute(select(audit_log.c.actor))).scalars().all()
    assert actors == ["server-b"]


async def test_a_write_after_the_own_lease_expired_is_refused(two_servers) -> None:
    a, _ = two_servers
    lease = await claim(a, "alerter", "server-a", ttl=TTL, now=T0)
    assert lease is not None
    with pytest.raises(Fenced, match="expired"):
        async with a.begin(writes=True) as connection:
            await fence(connection, lease, T0 + TTL)


async def test_coming_back_after_the_own_expiry_gets_a_new_token(two_servers) -> None:
    a, _ = two_servers
    first = await claim(a, "alerter", "server-a", ttl=TTL, now=T0)
    again = await claim(a, "alerter", "server-a", ttl=TTL, now=T0 + TTL * 2)
    assert first is not None and again is not None
    assert again.token == first.token + 1  # writes prepared under the old token are refused


async def test_release_hands_over_at_once(two_servers) -> None:
    a, b = two_servers
    lease = await claim(a, "alerter", "server-a", ttl=TTL, now=T0)
    assert lease is not None
    await release(a, lease, T0 + timedelta(seconds=1))
    taken = await claim(b, "alerter", "server-b", ttl=TTL, now=T0 + timedelta(seconds=1))
    assert taken is not None and taken.token == 2


async def test_many_servers_claiming_at_once_give_exactly_one_holder(two_servers) -> None:
    a, b = two_servers
    claims = [
        claim(db, "alerter", f"server-{i}", ttl=TTL, now=T0)
        for i, db in enumerate([a, b, a, b, a, b])
    ]
    results = await asyncio.gather(*claims)
    holders = [lease for lease in results if lease is not None]
    assert len(holders) == 1
    async with a.begin() as connection:
        rows = (await connection.execute(select(func.count()).select_from(leases))).scalar()
    assert rows == 1
