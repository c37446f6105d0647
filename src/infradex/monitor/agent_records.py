"""The ``agents`` table: each location's probe agent as the server last heard it (its token,
version, clock offset, and how many results it sent, had refused and dropped)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update

from infradex.store.bulk import upsert_rows
from infradex.store.db import Database
from infradex.store.tables import agents

__all__ = ["AgentRecord", "list_agents", "record_heartbeat", "record_results"]


@dataclass(frozen=True, slots=True)
class AgentRecord:
    location: str
    token_name: str
    version: str | None
    first_seen_at: datetime
    last_seen_at: datetime
    clock_offset_ms: float | None
    results_total: int
    refused_total: int
    dropped_total: int


async def _touch(
    db: Database, location: str, token_name: str, now: datetime, values: dict[str, Any]
) -> None:
    """In one transaction: the location's row, made if it is the first contact, then
    ``values`` (increments stay SQL expressions, so servers at once lose no count)."""
    async with db.begin(writes=True) as connection:
        await upsert_rows(
            connection,
            agents,
            ["location"],
            [
                {
                    "location": location,
                    "token_name": token_name,
                    "first_seen_at": now,
                    "last_seen_at": now,
                    "results_total": 0,
                    "refused_total": 0,
                    "dropped_total": 0,
                }
            ],
            do_nothing=True,
        )
        await connection.execute(
            update(agents)
            .where(agents.c.location == location)
            .values(token_name=token_name, last_seen_at=now, **values)
        )


async def record_results(
    db: Database,
    location: str,
    token_name: str,
    now: datetime,
    *,
    stored: int,
    refused: int,
    dropped: int,
) -> None:
    """Count one batch (increments, so servers ingesting at once lose no count)."""
    await _touch(
        db,
        location,
        token_name,
        now,
        {
            "results_total": agents.c.results_total + stored,
            "refused_total": agents.c.refused_total + refused,
            "dropped_total": agents.c.dropped_total + dropped,
        },
    )


async def record_heartbeat(
    db: Database,
    location: str,
    token_name: str,
    now: datetime,
    *,
    version: str,
    clock_offset_ms: float,
) -> None:
    await _touch(
        db, location, token_name, now, {"version": version, "clock_offset_ms": clock_offset_ms}
    )


async def list_agents(db: Database) -> list[AgentRecord]:
    async with db.begin() as connection:
        rows = await connection.execute(select(agents).order_by(agents.c.location))
        return [
            AgentRecord(
                row.location,
                row.token_name,
                row.version,
                row.first_seen_at,
                row.last_seen_at,
                row.clock_offset_ms,
                int(row.results_total),
                int(row.refused_total),
                int(row.dropped_total),
            )
            for row in rows
        ]
