"""What the outage minutes are counted from, read from the store: the checks' stored state
changes and the overrides of a period (``statuspage/outages.py`` does the counting)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.monitor.evaluate import Shown
from infradex.statuspage.derive import Override, Status
from infradex.statuspage.outages import Change
from infradex.store.tables import state_changes, status_overrides

__all__ = ["overrides_between", "state_history"]

_SHOWN = {s.value: s for s in Shown}


async def state_history(
    connection: AsyncConnection, check_ids: Collection[str], since: datetime, until: datetime
) -> tuple[dict[str, Shown], list[Change]]:
    """Each check's shown state at ``since`` (its last change before; none: no result
    yet), and its changes after, up to ``until``, oldest first."""
    wanted = set(check_ids)
    c = state_changes.c
    last = (
        select(c.check_id, func.max(c.at).label("at"))
        .where(c.at <= since)
        .group_by(c.check_id)
        .subquery()
    )
    before = await connection.execute(
        select(c.check_id, c.to_state, c.id)
        .join(last, and_(c.check_id == last.c.check_id, c.at == last.c.at))
        .order_by(c.id)
    )
    initial: dict[str, Shown] = {}
    for row in before:  # two changes at the same instant: the later row wins
        if row.check_id in wanted and row.to_state in _SHOWN:
            initial[row.check_id] = _SHOWN[row.to_state]
    after = await connection.execute(
        select(c.check_id, c.at, c.to_state).where(c.at > since, c.at <= until).order_by(c.at, c.id)
    )
    changes = [
        Change(row.check_id, row.at, _SHOWN[row.to_state])
        for row in after
        if row.check_id in wanted and row.to_state in _SHOWN
    ]
    return initial, changes


async def overrides_between(
    connection: AsyncConnection, since: datetime, until: datetime
) -> list[Override]:
    """Every override that was in force some time between the two, each ending when it
    expired or was ended, whichever came first."""
    o = status_overrides.c
    rows = await connection.execute(
        select(status_overrides)
        .where(
            o.created_at < until,
            o.expires_at > since,
            or_(o.ended_at.is_(None), o.ended_at > since),
        )
        .order_by(o.created_at, o.id)
    )
    found = []
    for row in rows:
        end = row.expires_at if row.ended_at is None else min(row.expires_at, row.ended_at)
        found.append(
            Override(
                ref=row.component_ref,
                status=Status(row.status),
                expires_at=end,
                reason=row.reason,
                created_by=row.created_by,
                created_at=row.created_at,
                id=row.id,
            )
        )
    return found
