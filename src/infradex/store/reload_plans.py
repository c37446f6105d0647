"""Held reloads as rows: a plan waits here until someone confirms it (or a later reload makes
it moot), so any process shows it and any process can apply a confirmed one. Also the open
incidents a plan asks about: which checks hold each one open."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import and_, insert, select, update

from infradex.store.db import Database
from infradex.store.tables import incident_members, incidents, reload_plans
from infradex.wire import Instant, ReadModel

__all__ = [
    "HeldPlan",
    "PlanIncident",
    "PlanRecord",
    "confirm_plan",
    "held_plan",
    "hold_plan",
    "is_confirmed",
    "open_incident_checks",
    "settle_plans",
]


class PlanIncident(ReadModel):
    """An open incident the reload would close, and the checks that hold it open."""

    id: int
    title: str
    checks: list[str]


class PlanRecord(ReadModel):
    """A reload plan as it is stored (the ``plan`` column) and shown: what it removes and
    why it is held (``reasons``; empty: it may go ahead)."""

    held: bool
    reasons: list[str]
    max_removed_share: float
    entities_before: int
    checks_before: int
    removed_entities: list[str]
    removed_checks: list[str]
    closes_incidents: list[PlanIncident]
    fingerprint: str = Field(description="names this very change (old and new catalog)")


class HeldPlan(PlanRecord):
    """A stored plan with its fate: held, confirmed (by whom, when) or superseded."""

    id: int
    created_at: Instant
    trigger: str
    status: str = Field(description="held, confirmed or superseded")
    decided_at: Instant | None
    decided_by: str | None


def _held(row: Any) -> HeldPlan:
    return HeldPlan.model_validate(
        {
            **row.plan,
            "id": row.id,
            "created_at": row.created_at,
            "trigger": row.trigger,
            "status": row.status,
            "decided_at": row.decided_at,
            "decided_by": row.decided_by,
        }
    )


async def hold_plan(
    db: Database, *, at: datetime, source: str, trigger: str, plan: dict[str, Any]
) -> int:
    """Hold this plan for ``source``; an older held plan for it is superseded (only the
    newest catalog can be confirmed)."""
    async with db.begin() as connection:
        await connection.execute(
            update(reload_plans)
            .where(and_(reload_plans.c.source == source, reload_plans.c.status == "held"))
            .values(status="superseded", decided_at=at)
        )
        result = await connection.execute(
            insert(reload_plans).values(
                created_at=at,
                source=source,
                trigger=trigger,
                fingerprint=plan["fingerprint"],
                plan=plan,
                status="held",
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


async def held_plan(db: Database, source: str) -> HeldPlan | None:
    """The plan waiting for confirmation for ``source``, if any."""
    async with db.begin() as connection:
        row = (
            await connection.execute(
                select(reload_plans)
                .where(and_(reload_plans.c.source == source, reload_plans.c.status == "held"))
                .order_by(reload_plans.c.id.desc())
                .limit(1)
            )
        ).first()
    return _held(row) if row is not None else None


async def is_confirmed(db: Database, source: str, fingerprint: str) -> bool:
    """Someone confirmed a plan for exactly this catalog (e.g. through the server's API, for
    an ``infradex monitor`` that reloads the same files)."""
    async with db.begin() as connection:
        row = (
            await connection.execute(
                select(reload_plans.c.id).where(
                    and_(
                        reload_plans.c.source == source,
                        reload_plans.c.fingerprint == fingerprint,
                        reload_plans.c.status == "confirmed",
                    )
                )
            )
        ).first()
    return row is not None


async def confirm_plan(
    db: Database, *, at: datetime, source: str, plan: dict[str, Any], actor: str, trigger: str
) -> int:
    """Record that ``actor`` confirmed this plan: the held row when there is one for the same
    catalog, else a new row (a forced reload nobody had asked about yet)."""
    async with db.begin() as connection:
        row = (
            await connection.execute(
                select(reload_plans.c.id).where(
                    and_(
                        reload_plans.c.source == source,
                        reload_plans.c.fingerprint == plan["fingerprint"],
                        reload_plans.c.status == "held",
                    )
                )
            )
        ).first()
        if row is not None:
            await connection.execute(
                update(reload_plans)
                .where(reload_plans.c.id == row.id)
                .values(status="confirmed", decided_at=at, decided_by=actor)
            )
            return int(row.id)
        result = await connection.execute(
            insert(reload_plans).values(
                created_at=at,
                source=source,
                trigger=trigger,
                fingerprint=plan["fingerprint"],
                plan=plan,
                status="confirmed",
                decided_at=at,
                decided_by=actor,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


async def settle_plans(db: Database, *, at: datetime, source: str) -> None:
    """A reload went ahead: whatever was held for ``source`` before is moot."""
    async with db.begin() as connection:
        await connection.execute(
            update(reload_plans)
            .where(and_(reload_plans.c.source == source, reload_plans.c.status == "held"))
            .values(status="superseded", decided_at=at)
        )


async def open_incident_checks(db: Database) -> list[tuple[int, str, tuple[str, ...]]]:
    """Each unresolved incident with the root checks still down that hold it open."""
    async with db.begin() as connection:
        rows = (
            await connection.execute(
                select(incidents.c.id, incidents.c.title, incident_members.c.check_id)
                .join(incident_members, incident_members.c.incident_id == incidents.c.id)
                .where(
                    and_(
                        incidents.c.status != "resolved",
                        incident_members.c.role == "root",
                        incident_members.c.up_at.is_(None),
                    )
                )
                .order_by(incidents.c.id, incident_members.c.check_id)
            )
        ).all()
    found: dict[int, tuple[str, list[str]]] = {}
    for row in rows:
        found.setdefault(row.id, (row.title, []))[1].append(row.check_id)
    return [(key, title, tuple(checks)) for key, (title, checks) in found.items()]
