"""Send what the outbox holds: claim due rows, send each through its channel's notifier, write
the outcome and the incident's timeline event. Runs as a loop in the server (woken as soon as
something is queued) and once from ``infradex alert test``."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from infradex.alerting import outbox
from infradex.alerting.notifiers.base import Notifier, NotifyError
from infradex.alerting.outbox import Claimed
from infradex.alerting.records import add_event
from infradex.clock import utcnow
from infradex.store.db import Database

__all__ = ["Dispatcher", "Outcome"]

log = logging.getLogger("infradex.alerting")

IDLE_WAIT = 1.0  # seconds between looks at the outbox when nothing wakes the dispatcher
SEND_CONCURRENCY = 20


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
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._limit = asyncio.Semaphore(concurrency)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="alert dispatcher")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), IDLE_WAIT)
            self._wake.clear()
            try:
                while await self.run_once():
                    pass
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("the dispatcher failed; trying again in %s s", IDLE_WAIT)

    async def run_once(self, now: datetime | None = None) -> list[Outcome]:
        """Claim what is due and send it; returns the outcomes (empty: nothing was due)."""
        now = now or self.clock()
        rows = await outbox.claim(self.db, self.worker, now)
        if not rows:
            return []
        outcomes = await asyncio.gather(*(self._send(row, now) for row in rows))
        await self._record(outcomes)
        return list(outcomes)

    async def _send(self, row: Claimed, now: datetime) -> Outcome:
        notifier = self.notifiers.get(row.channel)
        if notifier is None:
            return Outcome(row, False, f"no notifier for channel {row.channel!r}", permanent=True)
        async with self._limit:
            try:
                answer = await notifier.send(row.target, row.message, str(row.id))
            except NotifyError as exc:
                if exc.permanent or row.attempts >= outbox.MAX_ATTEMPTS:
                    return Outcome(row, False, str(exc), permanent=exc.permanent)
                wait = outbox.backoff(row.attempts)
                if exc.retry_after is not None:
                    wait = max(wait, timedelta(seconds=exc.retry_after))
                return Outcome(row, False, str(exc), retry_at=now + wait)
            except Exception as exc:  # a notifier's bug must not stop the others
                log.exception("notifier %s failed on row %s", row.channel, row.id)
                error = f"{type(exc).__name__}: {exc}"
                if row.attempts >= outbox.MAX_ATTEMPTS:
                    return Outcome(row, False, error)
                return Outcome(row, False, error, retry_at=now + outbox.backoff(row.attempts))
        return Outcome(row, True, answer)

    async def _record(self, outcomes: list[Outcome]) -> None:
        now = self.clock()
        async with self.db.begin() as connection:
            for o in outcomes:
                row = o.row
                who = {"recipient": row.recipient, "channel": row.channel, "kind": row.kind}
                if o.ok:
                    mine = await outbox.mark_sent(connection, row.id, self.worker, now)
                    self.totals.sent += 1
                    self.totals.by_channel[row.channel] = (
                        self.totals.by_channel.get(row.channel, 0) + 1
                    )
                    kind, data = "notified", {**who, "answer": o.answer}
                elif o.retry_at is not None:
                    mine = await outbox.mark_retry(
                        connection, row.id, self.worker, o.answer, o.retry_at
                    )
                    self.totals.retried += 1
                    self.totals.last_error = o.answer
                    kind = "notify_retry"
                    data = {**who, "error": o.answer, "retryAt": o.retry_at.isoformat()}
                    if row.attempts > 1:
                        continue  # the timeline says the first failure, not each retry
                else:
                    mine = await outbox.mark_failed(
                        connection, row.id, self.worker, o.answer, o.permanent
                    )
                    self.totals.failed += 1
                    self.totals.last_error = o.answer
                    kind, data = "notify_failed", {**who, "error": o.answer}
                    log.error("notification %s to %s failed: %s", row.id, row.target, o.answer)
                if mine and row.incident_id is not None:
                    await add_event(connection, row.incident_id, now, kind, data)
