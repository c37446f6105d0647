"""Leadership among servers sharing one store: one leads, a dead leader is replaced at once
(PostgreSQL frees its lock), a stalled one once its lease runs out, and a demoted leader
learns it on its next beat. Two engines stand for two server processes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from infradex.runtime.leadership import Leadership
from infradex.store.leases import current

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
TTL = timedelta(seconds=15)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def pair(two_servers, clock_a: Clock, clock_b: Clock) -> tuple[Leadership, Leadership]:
    a_db, b_db = two_servers
    return (
        Leadership(a_db, ttl=TTL, holder="server-a", clock=clock_a),
        Leadership(b_db, ttl=TTL, holder="server-b", clock=clock_b),
    )


async def test_one_leads_and_the_other_waits(two_servers) -> None:
    a, b = pair(two_servers, Clock(), Clock())
    changes: list[bool] = []
    a.listeners.append(changes.append)
    await a.step()
    await b.step()
    assert a.leading and not b.leading
    await a.step()  # renewing tells nobody anything new
    assert changes == [True]
    await a.stop()  # a clean stop hands over at once
    assert changes == [True, False]
    await b.step()
    assert b.leading and b.lease is not None and b.lease.token == 2
    await b.stop()


async def test_a_stalled_leader_is_replaced_once_its_lease_expires_and_then_demoted(
    two_servers,
) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = pair(two_servers, clock_a, clock_b)
    await a.step()
    clock_b.now = T0 + TTL / 2
    await b.step()
    assert not b.leading  # a's lease still runs
    clock_b.now = T0 + TTL + timedelta(seconds=1)  # a is stalled: no renewal came
    await b.step()
    assert b.leading and b.lease is not None and b.lease.token == 2
    # a wakes up; its beat finds the lease gone
    clock_a.now = clock_b.now
    await a.step()
    assert not a.leading
    stored = await current(two_servers[0], "alerter")
    assert stored is not None and stored.holder == "server-b"
    await a.stop()
    await b.stop()


@pytest.mark.postgresql_only
async def test_postgresql_a_dead_leaders_lock_is_freed_and_taken_over_at_once(two_servers) -> None:
    a, b = pair(two_servers, Clock(), Clock())
    await a.step()
    assert a.leading
    # a's process dies: its session ends, and with it the advisory lock (no release)
    assert a._lock is not None
    await a._lock.invalidate()  # the session ends, as when the process is killed
    a._lock = None
    await b.step()  # well inside a's lease, yet b takes over: the lock says a is gone
    assert b.leading and b.lease is not None and b.lease.token == 2
    await b.stop()


@pytest.mark.postgresql_only
async def test_postgresql_a_stalled_leaders_session_is_ended_so_its_lock_follows(
    two_servers,
) -> None:
    clock_a, clock_b = Clock(), Clock()
    a, b = pair(two_servers, clock_a, clock_b)
    await a.step()
    assert a._lock is not None
    clock_b.now = T0 + TTL + timedelta(seconds=1)
    await b.step()
    assert b.leading and b._lock is not None  # b ended a's session and took the lock
    clock_a.now = clock_b.now
    await a.step()  # a finds its session gone and its lease taken
    assert not a.leading and a._lock is None
    await b.stop()
    await a.stop()
