"""The notification outbox: every notification is a row before anything is sent.

A row goes ``pending`` → ``sending`` (claimed by one dispatcher) → ``sent`` (or ``cancelled``:
a page its incident's resolve overtook), or back to
``pending`` with a later ``next_attempt_at`` after a transient failure (backoff 15 s doubling
to 5 min), or ``failed`` when the failure is permanent or the attempts run out.

Claiming is one statement: on PostgreSQL ``FOR UPDATE SKIP LOCKED`` lets several dispatchers
share the table without ever taking the same row; SQLite has one writer at a time. A row left
``sending`` by a dispatcher that died is claimed again after :data:`LEASE`; that, a crash
between the transport's acceptance and our commit, is the one window in which a notification
can go out twice (receivers can tell by the delivery id; docs/alerting.md).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, insert, or_, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from infradex.alerting.model import NoticeStatus
from infradex.channels.base import Message, Target
from infradex.store.db import Database
from infradex.store.tables import notifications

__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "Claimed",
    "backoff",
    "cancel_pages",
    "claim",
    "enqueue",
    "enqueue_once",
    "give_up",
    "mark_failed",
    "mark_retry",
    "mark_sent",
]

LEASE = timedelta(minutes=2)  # longer than any transport's timeout
MAX_ATTEMPTS = 60  # at the 5 min cap: about 5 hours of trying
FIRST_RETRY = 15.0
MAX_RETRY = 300.0


def backoff(attempts: int) -> timedelta:
    """After the ``attempts``-th failure: 15 s, 30 s, 1 min, 2 min, 4 min, then every 5 min."""
    return timedelta(seconds=min(MAX_RETRY, FIRST_RETRY * 2 ** max(0, attempts - 1)))


@dataclass(frozen=True, slots=True)
class Claimed:
    id: int
    incident_id: int | None
    channel: str
    kind: str
    recipient: str | None
    target: Target
    message: Message
    attempts: int  # including this one


def _row(
    *,
    channel: str,
    kind: str,
    recipient: str | None,
    address: str,
    options: dict[str, str] | None,
    message: Message,
    now: datetime,
    incident_id: int | None,
    not_before: datetime | None,
) -> dict[str, Any]:
    return {
        "incident_id": incident_id,
        "channel": channel,
        "kind": kind,
        "recipient": recipient,
        "target": address,
        "payload": {"message": message.to_dict(), "options": dict(options or {})},
        "status": NoticeStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }


async def enqueue(
    connection: AsyncConnection,
    *,
    channel: str,
    kind: str,
    recipient: str | None,
    address: str,
    options: dict[str, str] | None,
    message: Message,
    now: datetime,
    incident_id: int | None = None,
    not_before: datetime | None = None,
) -> int:
    values = _row(channel=channel, kind=kind, recipient=recipient, address=address,
                  options=options, message=message, now=now, incident_id=incident_id,
                  not_before=not_before)  # fmt: skip
    result = await connection.execute(insert(notifications).values(**values))
    return int(result.inserted_primary_key[0])  # type: ignore[index]


async def enqueue_once(
    connection: AsyncConnection,
    dedup_key: str,
    *,
    channel: str,
    kind: str,
    recipient: str | None,
    address: str,
    options: dict[str, str] | None,
    message: Message,
    now: datetime,
) -> bool:
    """Queue a notification unless one with ``dedup_key`` was ever queued (the unique key
    decides, on both engines, even between servers); whether this call queued it."""
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    values = _row(channel=channel, kind=kind, recipient=recipient, address=address,
                  options=options, message=message, now=now, incident_id=None,
                  not_before=None)  # fmt: skip
    made = await connection.execute(
        dialect.insert(notifications)
        .values(**values, dedup_key=dedup_key)
        .on_conflict_do_nothing(index_elements=["dedup_key"])
        .returning(notifications.c.id)  # rowcount is not told reliably here on PostgreSQL
    )
    return made.first() is not None


async def claim(
    db: Database,
    worker: str,
    now: datetime,
    limit: int = 100,
    *,
    channels: Collection[str] | None = None,
    others: Collection[str] = (),
) -> list[Claimed]:
    """Take up to ``limit`` rows that are due, atomically, for ``worker``: of ``channels``
    only, when given (the channels with room to send), and of any channel not in ``others``
    (channels nobody sends, so that their rows fail rather than wait for ever)."""
    older = notifications.alias("older")
    which: ColumnElement[bool] = true()
    if channels is not None:
        which = or_(
            notifications.c.channel.in_(list(channels)),
            notifications.c.channel.not_in(list(others)),
        )
    due = and_(
        which,
        or_(
            and_(
                notifications.c.status == NoticeStatus.PENDING,
                notifications.c.next_attempt_at <= now,
            ),
            and_(
                notifications.c.status == NoticeStatus.SENDING,
                notifications.c.claimed_at <= now - LEASE,
            ),
        ),
        # one incident's messages to one target go in order: an acknowledgement or a resolve
        # never overtakes a page that is still being retried
        ~exists(
            select(older.c.id).where(
                older.c.incident_id == notifications.c.incident_id,
                older.c.target == notifications.c.target,
                older.c.id < notifications.c.id,
                older.c.status.in_((NoticeStatus.PENDING, NoticeStatus.SENDING)),
            )
        ),
    )
    async with db.begin() as connection:
        chosen = (
            select(notifications.c.id)
            .where(due)
            .order_by(notifications.c.next_attempt_at, notifications.c.id)
            .limit(limit)
        )
        if connection.dialect.name == "postgresql":
            chosen = chosen.with_for_update(skip_locked=True)
        rows = (
            await connection.execute(
                update(notifications)
                .where(notifications.c.id.in_(chosen.scalar_subquery()), due)
                .values(
                    status=NoticeStatus.SENDING,
                    claimed_by=worker,
                    claimed_at=now,
                    attempts=notifications.c.attempts + 1,
                )
                .returning(
                    notifications.c.id,
                    notifications.c.incident_id,
                    notifications.c.channel,
                    notifications.c.kind,
                    notifications.c.recipient,
                    notifications.c.target,
                    notifications.c.payload,
                    notifications.c.attempts,
                )
            )
        ).all()
    return [
        Claimed(
            id=r.id,
            incident_id=r.incident_id,
            channel=r.channel,
            kind=r.kind,
            recipient=r.recipient,
            target=Target(r.target, dict((r.payload or {}).get("options", {}))),
            message=Message.from_dict((r.payload or {}).get("message", {})),
            attempts=r.attempts,
        )
        for r in sorted(rows, key=lambda r: r.id)
    ]


def _ours(row_id: int, worker: str) -> tuple[Any, ...]:
    """The row is still claimed by ``worker``: a dispatcher whose lease ran out (another has
    the row now, or has already finished it) writes nothing."""
    return (
        notifications.c.id == row_id,
        notifications.c.claimed_by == worker,
        notifications.c.status == NoticeStatus.SENDING,
    )


async def mark_sent(connection: AsyncConnection, row_id: int, worker: str, now: datetime) -> bool:
    """False if the row was no longer ours (its lease ran out and another dispatcher took it)."""
    result = await connection.execute(
        update(notifications)
        .where(*_ours(row_id, worker))
        .values(status=NoticeStatus.SENT, sent_at=now, last_error=None)
    )
    return bool(result.rowcount)


async def mark_retry(
    connection: AsyncConnection, row_id: int, worker: str, error: str, at: datetime
) -> bool:
    result = await connection.execute(
        update(notifications)
        .where(*_ours(row_id, worker))
        .values(
            status=NoticeStatus.PENDING,
            next_attempt_at=at,
            last_error=error[:2000],
            claimed_by=None,
        )
    )
    return bool(result.rowcount)


async def mark_failed(
    connection: AsyncConnection, row_id: int, worker: str, error: str, permanent: bool
) -> bool:
    result = await connection.execute(
        update(notifications)
        .where(*_ours(row_id, worker))
        .values(
            status=NoticeStatus.FAILED,
            last_error=error[:2000],
            permanent=permanent,
            claimed_by=None,
        )
    )
    return bool(result.rowcount)


async def give_up(connection: AsyncConnection, row_ids: Collection[int]) -> None:
    """Fail these rows now instead of retrying them later (a test message is sent once)."""
    await connection.execute(
        update(notifications)
        .where(
            notifications.c.id.in_(list(row_ids)), notifications.c.status == NoticeStatus.PENDING
        )
        .values(status=NoticeStatus.FAILED, claimed_by=None)
    )


async def cancel_pages(connection: AsyncConnection, incident_id: int) -> None:
    """The incident's pages still waiting (their channel was failing) are not sent: it is
    resolved, and a late DOWN with live links after the RESOLVED would only mislead."""
    await connection.execute(
        update(notifications)
        .where(
            notifications.c.incident_id == incident_id,
            notifications.c.kind == "trigger",
            notifications.c.status == NoticeStatus.PENDING,
        )
        .values(status=NoticeStatus.CANCELLED, last_error="resolved before it could be sent")
    )
