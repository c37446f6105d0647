"""Operator overrides of component states, as rows (``status_overrides``): set with a
mandatory expiry, ended early by a newer override or by a person, read by the page.

Bad input is refused before anything is written (docs/status-page.md, "Overrides").
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.errors import NotFoundError, UsageError
from infradex.statuspage.derive import Override, Status
from infradex.store.db import Database
from infradex.store.tables import status_overrides

__all__ = [
    "MAX_OVERRIDE",
    "active_overrides",
    "end_override",
    "parse_status",
    "set_override",
]

#: the longest an override may last: a forgotten one must not hide an outage for long
MAX_OVERRIDE = timedelta(days=7)


def parse_status(text: str) -> Status:
    try:
        return Status(text)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise UsageError(f"{text!r} is not a component state; use one of {allowed}") from None


def _override(row: Any) -> Override:
    return Override(
        ref=row.component_ref,
        status=Status(row.status),
        expires_at=row.expires_at,
        reason=row.reason,
        created_by=row.created_by,
        created_at=row.created_at,
        id=row.id,
    )


def _live(at: datetime) -> Any:
    return and_(
        status_overrides.c.ended_at.is_(None),
        status_overrides.c.expires_at > at,
        status_overrides.c.created_at <= at,
    )


async def set_override(
    db: Database,
    ref: str,
    status: str,
    *,
    expires_at: datetime | None,
    reason: str,
    by: str,
    at: datetime,
) -> Override:
    """Override ``ref``'s state until ``expires_at``; a live override of it ends now."""
    chosen = parse_status(status)
    if expires_at is None:
        raise UsageError(
            "an override needs an expiry: send expiresAt (ISO 8601 with an offset, at most "
            "7 days ahead), e.g. 2026-12-06T06:00:00Z"
        )
    if expires_at.tzinfo is None:
        raise UsageError("expiresAt needs a time zone offset, e.g. 2026-12-06T06:00:00Z")
    if expires_at <= at:
        raise UsageError(f"expiresAt {expires_at.isoformat()} is not in the future")
    if expires_at - at > MAX_OVERRIDE:
        raise UsageError("expiresAt is more than 7 days ahead; set a nearer expiry and renew it")
    if not reason.strip():
        raise UsageError("an override needs a reason (internal: the public never sees it)")
    async with db.begin(writes=True) as connection:
        await _end(connection, ref, at, by)
        result = await connection.execute(
            insert(status_overrides).values(
                component_ref=ref,
                status=str(chosen),
                reason=reason.strip(),
                created_by=by,
                created_at=at,
                expires_at=expires_at,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
    return Override(ref, chosen, expires_at, reason.strip(), by, at, int(key[0]))


async def _end(connection: AsyncConnection, ref: str, at: datetime, by: str) -> int:
    result = await connection.execute(
        update(status_overrides)
        .where(and_(status_overrides.c.component_ref == ref, _live(at)))
        .values(ended_at=at, ended_by=by)
    )
    return int(result.rowcount or 0)


async def end_override(db: Database, ref: str, *, by: str, at: datetime) -> None:
    """End ``ref``'s live override now; derivation takes over again."""
    async with db.begin(writes=True) as connection:
        if not await _end(connection, ref, at, by):
            raise NotFoundError(f"{ref} has no active override")


async def active_overrides(connection: AsyncConnection, at: datetime) -> list[Override]:
    """The overrides in force at ``at``."""
    rows = await connection.execute(
        select(status_overrides).where(_live(at)).order_by(status_overrides.c.id)
    )
    return [_override(row) for row in rows]
