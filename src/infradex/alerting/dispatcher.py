"""Send what the outbox holds: claim due rows, send each through its channel's notifier, write
the outcome and the incident's timeline event. Runs as a loop in the server (woken as soon as
something is queued) and once from ``infradex alert test``.

Channels are independent: each has its own number of sends in flight, and the loop claims
only for channels with room, so a mail server that hangs fills the email channel's places and
nothing else (a webhook queued meanwhile goes out at once). Each send is recorded the moment
it finishes, in its own short transaction that holds only if the claim is still ours: a
crash loses at most the sends in flight, never ones already answered (docs/alerting.md).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from infradex.alerting import outbox
from infradex.alerting.model import EventKind
from infradex.alerting.outbox import Claimed
from infradex.alerting.records import add_event
from infradex.background import Loop
from infradex.channels.base import Notifier, NotifyError
from infradex.clock import utcnow
from infradex.store.db import Database

__all__ = ["Dispatcher", "Outcome"]

log = logging.getLogger("infradex.alerting")

IDLE_WAIT = 1.0  # seconds between looks at the outbox when nothing wakes the dispatcher
SEND_CONCURRENCY = 20  # sends in flight per channel
# a send still unanswered after this is abandoned as a transient failure: well inside the
# claim's lease, so no other dispatcher takes a row we are still waiting on
SEND_TIMEOUT = outbox.LEASE.total_seconds() / 2
STOP_GRACE = 5.0  # seconds a stopping dispatcher lets its sends finish and be recorded
RECORD_TRIES = 3  # a send's outcome is written again after a failed write (store blip)


@dataclass(frozen=True, slots=True)
class Outcome:
    row: Claimed
    ok: bool
    answer: str
    permanent: bool = False
    retry_at: datetime | None = None


@dataclass(slots=True)
class Totals:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    last_error: str | None = None
    by_channel: dict[str, int] = field(default_factory=dict)


class Dispatcher:
    def __init__(
        self,
        db: Database,
        notifiers: Mapping[str, Notifier],
        *,
        worker: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = SEND_CONCURRENCY,
    ) -> None:
        self.db = db
        self.notifiers = dict(notifiers)
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.clock = clock
        self.totals = Totals()
        self.concurrency = concurrency
        self._loop = Loop("alert dispatcher", IDLE_WAIT, self._start_all_due, log=log)
        self._limits: dict[str, asyncio.Semaphore] = {}
        self._in_flight: dict[str, set[asyncio.Task[Outcome]]] = {}

    def wake(self) -> None:
        self._loop.wake()

    def start(self) -> None:
        self._loop.start()

    async def stop(self) -> None:
        """Stop claiming; let the sends in flight finish and be recorded for a moment (a
        send cut off stays ``sending`` and goes out again after its lease)."""
        await self._loop.stop()
        flying = [task for tasks in self._in_flight.values() for task in tasks]
        if flying:
            _, late = await asyncio.wait(flying, timeout=STOP_GRACE)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _start_all_due(self) -> None:
        while await self.start_due():
            pass

    def _room(self) -> dict[str, int]:
        return {
            channel: self.concurrency - len(self._in_flight.get(channel, ()))
            for channel in self.notifiers
        }

    async def start_due(self, now: datetime | None = None) -> int:
        """Claim what is due on channels with room and start sending it, without waiting for
        the sends; returns how many were started. Rows for a channel without a notifier are
        claimed too (and failed)."""
        now = now or self.clock()
        room = self._room()
        open_channels = [channel for channel, free in room.items() if free > 0]
        limit = min((room[channel] for channel in open_channels), default=self.concurrency)
        rows = await outbox.claim(
            self.db, self.worker, now, limit, channels=open_channels, others=list(self.notifiers)
        )
        for row in rows:
            task = asyncio.create_task(self._deliver(row, now), name=f"notification {row.id}")
            flying = self._in_flight.setdefault(row.channel, set())
            flying.add(task)
            task.add_done_callback(functools.partial(self._landed, flying))
        return len(rows)

    def _landed(self, flying: set[asyncio.Task[Outcome]], task: asyncio.Task[Outcome]) -> None:
        flying.discard(task)
        self._loop.wake()  # a place is free, and the target's next message may now go

    async def run_once(self, now: datetime | None = None) -> list[Outcome]:
        """Claim what is due and send it, waiting for every send; returns the outcomes
        (empty: nothing was due)."""
        now = now or self.clock()
        rows = await outbox.claim(self.db, self.worker, now)
        if not rows:
            return []
        return list(await asyncio.gather(*(self._deliver(row, now) for row in rows)))

    async def _deliver(self, row: Claimed, now: datetime) -> Outcome:
        limit = self._limits.setdefault(row.channel, asyncio.Semaphore(self.concurrency))
        async with limit:
            outcome = await self._send(row, now)
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                await self._record(outcome)
                break
            except asyncio.CancelledError:
                raise
            except Exception:
                if attempt == RECORD_TRIES:
                    log.exception(
                        "could not record notification %s's outcome; it stays claimed and is "
                        "tried again after its lease",
                        row.id,
                    )
                else:
                    await asyncio.sleep(attempt)
        return outcome

    async def _send(self, row: Claimed, now: datetime) -> Outcome:
        notifier = self.notifiers.get(row.channel)
        if notifier is None:
            return Outcome(row, False, f"no notifier for channel {row.channel!r}", permanent=True)
        try:
            answer = await asyncio.wait_for(
                notifier.send(row.target, row.message, str(row.id)), SEND_TIMEOUT
            )
        except NotifyError as exc:
            if exc.permanent or row.attempts >= outbox.MAX_ATTEMPTS:
                return Outcome(row, False, str(exc), permanent=exc.permanent)
            wait = outbox.backoff(row.attempts)
            if exc.retry_after is not None:
                wait = max(wait, timedelta(seconds=exc.retry_after))
            return Outcome(row, False, str(exc), retry_at=now + wait)
        except TimeoutError:
            error = f"no answer within {SEND_TIMEOUT:g} s; the notification is retried"
            return self._transient(row, now, error)
        except Exception as exc:  # a notifier's bug must not stop the others
            log.exception("notifier %s failed on row %s", row.channel, row.id)
            return self._transient(row, now, f"{type(exc).__name__}: {exc}")
        return Outcome(row, True, answer)

    @staticmethod
    def _transient(row: Claimed, now: datetime, error: str) -> Outcome:
        if row.attempts >= outbox.MAX_ATTEMPTS:
            return Outcome(row, False, error)
        return Outcome(row, False, error, retry_at=now + outbox.backoff(row.attempts))

    async def _record(self, o: Outcome) -> None:
        """One send's outcome and its timeline event, in one short transaction; nothing is
        written if the row is no longer ours (its lease ran out and another took it)."""
        now = self.clock()
        row = o.row
        who = {"recipient": row.recipient, "channel": row.channel, "kind": row.kind}
        async with self.db.begin() as connection:
            if o.ok:
                mine = await outbox.mark_sent(connection, row.id, self.worker, now)
                kind, data = EventKind.NOTIFIED, {**who, "answer": o.answer}
            elif o.retry_at is not None:
                mine = await outbox.mark_retry(
                    connection, row.id, self.worker, o.answer, o.retry_at
                )
                kind = EventKind.NOTIFY_RETRY
                data = {**who, "error": o.answer, "retryAt": o.retry_at.isoformat()}
            else:
                mine = await outbox.mark_failed(
                    connection, row.id, self.worker, o.answer, o.permanent
                )
                kind, data = EventKind.NOTIFY_FAILED, {**who, "error": o.answer}
            # the timeline says a retry's first failure, not each one
            first_say = o.ok or o.retry_at is None or row.attempts <= 1
            if mine and first_say and row.incident_id is not None:
                await add_event(connection, row.incident_id, now, kind, data)
        self._count(o)

    def _count(self, o: Outcome) -> None:
        row = o.row
        if o.ok:
            self.totals.sent += 1
            self.totals.by_channel[row.channel] = self.totals.by_channel.get(row.channel, 0) + 1
            return
        self.totals.last_error = o.answer
        if o.retry_at is not None:
            self.totals.retried += 1
        else:
            self.totals.failed += 1
            log.error("notification %s to %s failed: %s", row.id, row.target, o.answer)
