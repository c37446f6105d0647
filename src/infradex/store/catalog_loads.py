"""Catalog loads as rows: every attempt, accepted or refused, with its problems and a diff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select

from infradex.store.db import Database
from infradex.store.tables import catalog_loads

__all__ = ["latest_loads", "record_load"]


async def record_load(
    db: Database,
    *,
    at: datetime,
    source: str,
    git_commit: str | None,
    trigger: str,
    accepted: bool,
    entities: int,
    problems: list[dict[str, Any]],
    diff: dict[str, list[str]],
) -> int:
    async with db.begin() as connection:
        result = await connection.execute(
            insert(catalog_loads).values(
                loaded_at=at,
                source=source,
                git_commit=git_commit,
                trigger=trigger,
                accepted=accepted,
                entities=entities,
                errors=sum(p["severity"] == "error" for p in problems),
                warnings=sum(p["severity"] == "warning" for p in problems),
                problems=problems,
                diff=diff,
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        return int(key[0])


async def latest_loads(db: Database, limit: int = 20) -> tuple[list[dict[str, Any]], int]:
    """The newest loads first (without their problem lists), and how many there are."""
    async with db.begin() as connection:
        total = (await connection.execute(select(func.count()).select_from(catalog_loads))).scalar()
        rows = await connection.execute(
            select(catalog_loads).order_by(catalog_loads.c.id.desc()).limit(limit)
        )
        loads = [
            {
                "id": row.id,
                "loadedAt": row.loaded_at.isoformat(),
                "source": row.source,
                "gitCommit": row.git_commit,
                "trigger": row.trigger,
                "accepted": row.accepted,
                "entities": row.entities,
                "errors": row.errors,
                "warnings": row.warnings,
                "diff": row.diff,
            }
            for row in rows
        ]
    return loads, int(total or 0)
