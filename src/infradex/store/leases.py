"""Leases: one holder at a time for a job only one server may do, with a fencing token.

Several ``infradex serve`` processes can share one PostgreSQL store. Pages, the API, agent
results and the outbox are safe with several; the alerter's turn (correlation and escalation)
must run in one place at a time. The lease row says who holds it and until when. A holder
renews it well before it expires; a process that sees it expired takes it over.

Expiry alone cannot stop a holder that was paused (SIGSTOP, a long GC, a frozen VM) and wakes
up believing it still leads. So every change of holder increments the row's **fencing
token**, and the holder's write transactions call :func:`fence` first: it locks the lease row
and refuses (:class:`Fenced`) unless the token is still the holder's and the lease has not
expired. Because the check and the writes share one transaction, and a takeover must update
the same row, a takeover waits for a fenced transaction to commit, and a late transaction
after a takeover is refused: nothing is written, so nothing is sent twice.

Times come from the callers' clock (:mod:`infradex.clock`): servers sharing a store need
synchronised clocks (NTP), with skew far below the lease's length.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.errors import InfradexError
from infradex.store.db import Database
from infradex.store.tables import leases

__all__ = ["Fenced", "Lease", "claim", "current", "fence", "release", "renew"]


class Fenced(InfradexError):
    """This process no longer holds the lease: another took over. Its write is refused."""


@dataclass(frozen=True, slots=True)
class Lease:
    name: str
    holder: str
    token: int
    expires_at: datetime


async def claim(
    db: Database,
    name: str,
    holder: str,
    *,
    ttl: timedelta,
    now: datetime,
    takeover: bool = False,
) -> Lease | None:
    """Take the lease if nobody holds it or it has expired, or extend it if ``holder``
    already does. None if another holder's lease is still running, unless ``takeover`` (the
    caller knows the holder is gone: its PostgreSQL session, which held the lock, ended). A
    change of holder (and a holder coming back after its own lease expired) gets a new,
    higher token."""
    try:
        async with db.begin(writes=True) as connection:
            row = (
                await connection.execute(
                    select(leases).where(leases.c.name == name).with_for_update()
                )
            ).first()
            if row is None:
                await connection.execute(
                    insert(leases).values(
                        name=name,
                        holder=holder,
                        token=1,
                        acquired_at=now,
                        expires_at=now + ttl,
                    )
                )
                return Lease(name, holder, 1, now + ttl)
            if row.expires_at > now and not (takeover and row.holder != holder):
                if row.holder != holder:
                    return None
                await connection.execute(
                    update(leases).where(leases.c.name == name).values(expires_at=now + ttl)
                )
                return Lease(name, holder, row.token, now + ttl)
            token = row.token + 1
            await connection.execute(
                update(leases)
                .where(leases.c.name == name)
                .values(
                    holder=holder,
                    token=token,
                    acquired_at=now,
                    expires_at=now + ttl,
                )
            )
            return Lease(name, holder, token, now + ttl)
    except IntegrityError:
        return None  # another process inserted the first row at the same moment


async def renew(db: Database, lease: Lease, *, ttl: timedelta, now: datetime) -> Lease | None:
    """Extend a lease still held (same token, not expired); None if it was lost."""
    async with db.begin(writes=True) as connection:
        result = await connection.execute(
            update(leases)
            .where(
                leases.c.name == lease.name,
                leases.c.token == lease.token,
                leases.c.holder == lease.holder,
                leases.c.expires_at > now,
            )
            .values(expires_at=now + ttl)
        )
    if result.rowcount != 1:
        return None
    return Lease(lease.name, lease.holder, lease.token, now + ttl)


async def fence(connection: AsyncConnection, lease: Lease, now: datetime) -> None:
    """Inside a write transaction of the holder: lock the lease row and raise
    :class:`Fenced` unless ``lease`` still holds (so the transaction is rolled back)."""
    row = (
        await connection.execute(
            select(leases.c.token, leases.c.holder, leases.c.expires_at)
            .where(leases.c.name == lease.name)
            .with_for_update()
        )
    ).first()
    if row is None or row.token != lease.token or row.holder != lease.holder:
        holder = row.holder if row is not None else "nobody"
        raise Fenced(
            f"the {lease.name!r} lease passed to {holder} (token "
            f"{row.token if row is not None else 0}, ours {lease.token}); this write is refused"
        )
    if row.expires_at <= now:
        raise Fenced(
            f"our {lease.name!r} lease expired at {row.expires_at:%H:%M:%S} UTC before this "
            "write; renew it first"
        )


async def release(db: Database, lease: Lease, now: datetime) -> None:
    """Give the lease up at once (a clean stop), so another server need not wait for it to
    expire. A lease already lost is left alone."""
    async with db.begin(writes=True) as connection:
        await connection.execute(
            update(leases)
            .where(leases.c.name == lease.name, leases.c.token == lease.token)
            .values(expires_at=now)
        )


async def current(db: Database, name: str) -> Lease | None:
    """The lease as the store has it (for pages and /metrics), expired or not."""
    async with db.begin() as connection:
        row = (await connection.execute(select(leases).where(leases.c.name == name))).first()
    if row is None:
        return None
    return Lease(row.name, row.holder, row.token, row.expires_at)
