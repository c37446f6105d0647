"""The only writer of the ``incidents`` table: every change of an incident row (opened,
resolved, reopened, an action someone took, an escalation step taken) is one function here,
and every status change goes through :func:`infradex.alerting.model.incident_move`.

Each write that depends on what was read is a conditional UPDATE on what was read (the status,
the escalation position): when someone acted meanwhile it changes nothing, and the caller
learns so from the row count, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.alerting.incidents import Incident
from infradex.alerting.model import IncidentStatus, incident_move
from infradex.store.tables import incidents

__all__ = [
    "act",
    "end_snooze",
    "insert_opened",
    "noticed",
    "reopen",
    "reschedule",
    "resolve",
    "take_for_escalation",
    "wait_for_snooze",
]


async def insert_opened(
    connection: AsyncConnection, incident: Incident, now: datetime, policy: dict[str, Any] | None
) -> int:
    """A new incident, its escalation starting now; returns its id."""
    result = await connection.execute(
        insert(incidents).values(
            key=incident.key,
            title=incident.title,
            status=incident.status,
            root_ref=incident.key,
            opened_at=incident.opened_at,
            policy=policy,
            escalation_step=0,
            escalation_started_at=now,
            escalation_at=now,
            updated_at=now,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    return int(key[0])


async def resolve(
    connection: AsyncConnection, incident_id: int, resolved_at: datetime | None, now: datetime
) -> None:
    """Resolved by its checks' recovery, if nobody resolved it meanwhile."""
    await connection.execute(
        update(incidents)
        .where(incidents.c.id == incident_id, incidents.c.status != IncidentStatus.RESOLVED)
        .values(
            status=IncidentStatus.RESOLVED,
            resolved_at=resolved_at,
            escalation_at=None,
            updated_at=now,
        )
    )


async def reopen(
    connection: AsyncConnection, incident_id: int, now: datetime, policy: dict[str, Any] | None
) -> None:
    """Open again (it failed again within the reopen window), escalating from step 1 now, if
    it is still resolved; ``policy``: routed afresh (None keeps the one it had)."""
    values: dict[str, Any] = {
        "status": incident_move(IncidentStatus.RESOLVED, IncidentStatus.OPEN),
        "resolved_at": None,
        "acknowledged_at": None,
        "acknowledged_by": None,
        "snoozed_until": None,
        "escalation_step": 0,
        "escalation_started_at": now,
        "escalation_at": now,
        "updated_at": now,
    }
    if policy is not None:
        values["policy"] = policy
    await connection.execute(
        update(incidents)
        .where(incidents.c.id == incident_id, incidents.c.status == IncidentStatus.RESOLVED)
        .values(**values)
    )


async def act(
    connection: AsyncConnection,
    incident_id: int,
    current: str,
    status: IncidentStatus,
    values: dict[str, Any],
    now: datetime,
) -> None:
    """What someone did (acknowledge, snooze, unacknowledge, resolve): the move from
    ``current`` to ``status`` with ``values``; alerting tells the channels (``needs_notice``,
    kept across a restart)."""
    await connection.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(
            **values,
            status=incident_move(current, status),
            updated_at=now,
            needs_notice=True,
        )
    )


async def noticed(connection: AsyncConnection, incident_id: int, status: str) -> None:
    """Alerting told the channels of what someone did (unless the status moved again)."""
    await connection.execute(
        update(incidents)
        .where(incidents.c.id == incident_id, incidents.c.status == status)
        .values(needs_notice=False)
    )


async def take_for_escalation(connection: AsyncConnection, row: Any, now: datetime) -> bool:
    """Take the incident ``row`` (as read) for one escalation step: False if someone acted
    since it was read (an acknowledgement committed meanwhile wins)."""
    seen = (
        (incidents.c.id == row.id)
        & (incidents.c.status == row.status)
        & (incidents.c.escalation_at == row.escalation_at)
        & (incidents.c.escalation_step == row.escalation_step)
    )
    taken = await connection.execute(update(incidents).where(seen).values(updated_at=now))
    return taken.rowcount == 1


async def wait_for_snooze(
    connection: AsyncConnection, incident_id: int, until: datetime | None
) -> None:
    await connection.execute(
        update(incidents).where(incidents.c.id == incident_id).values(escalation_at=until)
    )


async def end_snooze(connection: AsyncConnection, incident_id: int, current: str) -> None:
    """The snooze is over: open again, nobody's acknowledgement."""
    await connection.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(
            status=incident_move(current, IncidentStatus.OPEN),
            snoozed_until=None,
            acknowledged_at=None,
            acknowledged_by=None,
        )
    )


async def reschedule(
    connection: AsyncConnection,
    incident_id: int,
    position: int,
    started: datetime,
    at: datetime | None,
    now: datetime,
) -> None:
    """Where the escalation stands and when it looks again (None: it is over)."""
    await connection.execute(
        update(incidents)
        .where(incidents.c.id == incident_id)
        .values(
            escalation_step=position,
            escalation_started_at=started,
            escalation_at=at,
            updated_at=now,
        )
    )
