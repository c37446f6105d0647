"""Catalog loads as rows: every attempt, accepted or refused, with its problems and a diff."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field
from sqlalchemy import func, insert, select

from infradex.store.db import Database
from infradex.store.tables import catalog_loads
from infradex.wire import Instant, ReadModel

__all__ = ["LoadRecord", "latest_loads", "record_load"]


class LoadRecord(ReadModel):
    """One catalog load attempt, accepted or refused (without its problem list)."""

    id: int
    loaded_at: Instant
    source: str | None = Field(description="the catalog's path on the server: admins only")
    git_commit: str | None
    trigger: str = Field(description="start, signal, api, cli, ...")
    accepted: bool
    entities: int
    errors: int
    warnings: int
    diff: dict[str, list[str]] = Field(description="added, removed and changed entities")


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


async def latest_loads(db: Database, limit: int = 20) -> tuple[list[LoadRecord], int]:
    """The newest loads first (without their problem lists), and how many there are."""
    async with db.begin() as connection:
        total = (await connection.execute(select(func.count()).select_from(catalog_loads))).scalar()
        rows = await connection.execute(
            select(catalog_loads).order_by(catalog_loads.c.id.desc()).limit(limit)
        )
        loads = [
            LoadRecord(
                id=row.id,
                loaded_at=row.loaded_at,
                source=row.source,
                git_commit=row.git_commit,
                trigger=row.trigger,
                accepted=row.accepted,
                entities=row.entities,
                errors=row.errors,
                warnings=row.warnings,
                diff=row.diff,
            )
            for row in rows
        ]
    return loads, int(total or 0)
