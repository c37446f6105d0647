"""Which server leads: runs the jobs only one server may run (correlation and escalation).

Several ``infradex serve`` processes may share one PostgreSQL store. Each runs a
:class:`Leadership` loop. One of them holds the ``alerter`` lease (:mod:`infradex.store.leases`)
and renews it every third of its length; the others try to claim it on the same beat, and
take it over once it has expired. Every write of the leader's turn is fenced by the lease's
token, so a leader that was paused and wakes up after a takeover writes nothing.

On PostgreSQL the leader also holds an advisory lock on a dedicated connection. That only
makes failover faster, never less safe: when the leader's process dies, PostgreSQL ends its
session and frees the lock at once, and a candidate that gets the lock knows the holder is
gone and takes over without waiting for the lease to run out. When a lease expired while
its holder still holds the lock (the holder is paused, not dead), the new leader ends that
holder's session (``pg_terminate_backend``, found through ``pg_locks``) so the lock follows
the lease. The fencing token is what keeps a late write out either way.

On SQLite there is one server (a second on the same file is refused: see
:mod:`infradex.runtime.single_server`), and the lease is simply always its own.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.background import Loop
from infradex.clock import utcnow
from infradex.store.db import Database, StoreError
from infradex.store.leases import Lease, claim, current, release, renew

__all__ = ["ADVISORY_KEY", "DEFAULT_TTL", "Leadership", "holder_name"]

log = logging.getLogger("infradex.runtime.leadership")

DEFAULT_TTL = timedelta(seconds=15)
#: the advisory lock's key (one 64-bit number per PostgreSQL database): "infradex" in ASCII
ADVISORY_KEY = int.from_bytes(b"infradex", "big") & 0x7FFF_FFFF_FFFF_FFFF


def holder_name() -> str:
    """This process, as the lease names it: host, pid and a random part (a restarted
    process with the same pid is another holder)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Leadership:
    def __init__(
        self,
        db: Database,
        *,
        name: str = "alerter",
        ttl: timedelta = DEFAULT_TTL,
        holder: str | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.name = name
        self.ttl = ttl
        self.holder = holder or holder_name()
        self.clock = clock
        self.lease: Lease | None = None
        #: called with True when this process becomes the leader, False when it stops being
        self.listeners: list[Callable[[bool], object]] = []
        self._lock: AsyncConnection | None = None  # PostgreSQL: holds the advisory lock
        self.loop = Loop(
            f"leadership ({name})", ttl.total_seconds() / 3, self.step, first_wait=0, log=log
        )

    @property
    def leading(self) -> bool:
        return self.lease is not None and self.lease.expires_at > self.clock()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        """Stop, and hand the lease over at once rather than let the others wait it out."""
        await self.loop.stop()
        lease, self.lease = self.lease, None
        if lease is not None:
            try:
                await release(self.db, lease, self.clock())
            except (StoreError, SQLAlchemyError) as exc:
                log.warning("could not release the %s lease: %s", self.name, exc)
            self._tell(False)
        await self._drop_lock()

    async def step(self) -> None:
        """One beat: renew the lease if held, else try to take it."""
        now = self.clock()
        if self.lease is not None:
            renewed = await renew(self.db, self.lease, ttl=self.ttl, now=now)
            if renewed is not None:
                self.lease = renewed
                if self.db.dialect == "postgresql" and self._lock is None:
                    # took over from a stalled holder whose session took a while to end:
                    # hold the lock now, or that holder, waking, would find it free and
                    # believe the leader gone
                    await self._take_lock()
                return
            log.warning(
                "lost the %s lease (token %d): another server took over, or it expired "
                "while this process was stalled; no longer leading",
                self.name,
                self.lease.token,
            )
            self.lease = None
            await self._drop_lock()
            self._tell(False)
        holder_gone = await self._take_lock()
        before = await current(self.db, self.name)
        lease = await claim(
            self.db, self.name, self.holder, ttl=self.ttl, now=now, takeover=holder_gone
        )
        if lease is None:
            return
        if (
            self.db.dialect == "postgresql"
            and self._lock is None
            and before is not None
            and before.holder != self.holder
        ):
            # took over an expired lease whose holder still holds the lock: it is stalled,
            # not dead; end its session so the lock follows the lease
            await self._end_lock_holder()
            # pg_terminate_backend signals the session; it ends (and frees the lock) soon after
            for _ in range(20):
                if await self._take_lock() or self._lock is not None:
                    break
                await asyncio.sleep(0.1)
        self.lease = lease
        log.info("leading: holding the %s lease with token %d", self.name, lease.token)
        self._tell(True)

    def _tell(self, leading: bool) -> None:
        for listener in self.listeners:
            try:
                listener(leading)
            except Exception:
                log.exception("a leadership listener failed")

    async def _take_lock(self) -> bool:
        """PostgreSQL: hold the advisory lock on a dedicated connection. True when this call
        got it (so whoever held it before has gone); False when it was held already by us,
        or by another session, or on SQLite."""
        if self.db.dialect != "postgresql" or self.db.engine is None:
            return False
        if self._lock is not None:
            try:
                await self._lock.execute(text("SELECT 1"))
                await self._lock.commit()
                return False
            except SQLAlchemyError:
                await self._drop_lock()  # the session died: the lock went with it
        connection = await self.db.engine.connect()
        try:
            got = (
                await connection.execute(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": ADVISORY_KEY}
                )
            ).scalar_one()
            await connection.commit()
        except SQLAlchemyError:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        self._lock = connection
        return True

    async def _drop_lock(self) -> None:
        connection, self._lock = self._lock, None
        if connection is not None:
            try:
                # invalidate, not just close: a closed connection goes back to the pool
                # with its session, and the session would keep the lock
                await connection.invalidate()
                await connection.close()
            except SQLAlchemyError:
                pass

    async def _end_lock_holder(self) -> None:
        assert self.db.engine is not None
        async with self.db.engine.connect() as connection:
            ended = (
                await connection.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE "
                        "locktype = 'advisory' AND granted AND "
                        "((classid::bigint << 32) | objid::bigint) = :key"
                    ),
                    {"key": ADVISORY_KEY},
                )
            ).all()
            await connection.commit()
        if ended:
            log.warning(
                "ended the session of the stalled %s lease holder, so its lock is free",
                self.name,
            )
