"""The audit log: every write, who made it and from where."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from infradex.store.db import Database
from infradex.store.tables import audit_log

__all__ = ["audit", "audit_entries"]


async def audit(
    db: Database,
    *,
    at: datetime,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, Any] | None = None,
    remote_addr: str | None = None,
) -> None:
    async with db.begin() as connection:
        await connection.execute(
            insert(audit_log).values(
                at=at,
                actor=actor,
                action=action,
                target=target,
                detail=detail,
                remote_addr=remote_addr,
            )
        )


async def audit_entries(db: Database, limit: int = 50) -> list[dict[str, Any]]:
    async with db.begin() as connection:
        rows = await connection.execute(
            select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        )
        return [
            {
                "at": r.at.isoformat(),
                "actor": r.actor,
                "action": r.action,
                "target": r.target,
                "detail": r.detail,
                "remoteAddr": r.remote_addr,
            }
            for r in rows
        ]
