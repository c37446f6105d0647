"""API tokens: shown once, stored only as a SHA-256 hash, scoped, revocable, last use kept.

A token is ``idx_`` + 40 random URL-safe characters: unguessable, so a fast hash is the right
one (argon2 is for passwords people choose).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.exc import IntegrityError

from infradex.errors import NotFoundError, UsageError
from infradex.store.db import Database
from infradex.store.tables import api_tokens

__all__ = [
    "SCOPES",
    "Token",
    "create_token",
    "list_tokens",
    "location_problem",
    "revoke_token",
    "verify_token",
]

SCOPES = ("read", "write", "admin", "agent")
PREFIX = "idx_"


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    name: str
    scopes: frozenset[str]
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    location: str | None = None  # an agent token's data center (docs/agents.md)

    def allows(self, scope: str) -> bool:
        """``admin`` implies every scope; ``write`` implies ``read``."""
        return (
            scope in self.scopes
            or "admin" in self.scopes
            or (scope == "read" and "write" in self.scopes)
        )


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def location_problem(scopes: list[str], location: str | None) -> str | None:
    """Why these scopes and this location cannot make a token, or None: an ``agent`` token is
    bound to exactly one location, and only an agent token has one."""
    if "agent" in scopes and not location:
        return (
            "an agent token is bound to one location: add --location with the data center "
            "the agent runs in, e.g. --location nyc1"
        )
    if location and "agent" not in scopes:
        return "--location binds an agent token to its data center: add --scope agent or drop it"
    if "agent" in scopes and len(set(scopes)) > 1:
        return (
            "an agent token has the agent scope only (it runs on a machine in a data center); "
            "create a separate token for the other scopes"
        )
    return None


async def create_token(
    db: Database,
    name: str,
    scopes: list[str],
    now: datetime,
    created_by: str = "cli",
    location: str | None = None,
) -> str:
    """Store a new token and return its secret (the only time it exists in clear). Whether
    ``location`` is a data center of the catalog is for the caller to check (the store does
    not read the catalog)."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise UsageError(f"scopes are {', '.join(SCOPES)}; got {', '.join(unknown) or 'none'}")
    problem = location_problem(scopes, location)
    if problem is not None:
        raise UsageError(problem)
    secret = PREFIX + secrets.token_urlsafe(30)
    try:
        async with db.begin() as connection:
            await connection.execute(
                insert(api_tokens).values(
                    name=name,
                    token_hash=_hash(secret),
                    scopes=" ".join(sorted(set(scopes))),
                    created_at=now,
                    created_by=created_by,
                    location=location or None,
                )
            )
    except IntegrityError:
        raise UsageError(f"a token named {name!r} exists; pick another name") from None
    return secret


def _token(row: Row[Any]) -> Token:
    return Token(
        row.id,
        row.name,
        frozenset(row.scopes.split()),
        row.created_at,
        row.last_used_at,
        row.revoked_at,
        row.location,
    )


#: last use is recorded at most this often per token: a script polling every second would
#: otherwise make every read a write
LAST_USED_EVERY = timedelta(minutes=1)


async def verify_token(db: Database, secret: str, now: datetime) -> Token | None:
    """The live token with this secret (recording its use), or None."""
    if not secret.startswith(PREFIX):
        return None
    async with db.begin() as connection:
        row = (
            await connection.execute(
                select(api_tokens).where(api_tokens.c.token_hash == _hash(secret))
            )
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    if row.last_used_at is None or row.last_used_at <= now - LAST_USED_EVERY:
        # its own transaction of one conditional UPDATE: a read-then-write one would fail
        # with "database is locked" on SQLite whenever another writer committed in between
        async with db.begin() as connection:
            await connection.execute(
                update(api_tokens)
                .where(
                    api_tokens.c.id == row.id,
                    or_(
                        api_tokens.c.last_used_at.is_(None),
                        api_tokens.c.last_used_at < now - LAST_USED_EVERY,
                    ),
                )
                .values(last_used_at=now)
            )
    return _token(row)


async def list_tokens(db: Database) -> list[Token]:
    async with db.begin() as connection:
        rows = await connection.execute(select(api_tokens).order_by(api_tokens.c.name))
        return [_token(row) for row in rows]


async def revoke_token(db: Database, name: str, now: datetime) -> None:
    async with db.begin() as connection:
        result = await connection.execute(
            update(api_tokens)
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    if result.rowcount != 1:
        raise NotFoundError(f"no live token named {name!r}; `infradex token list` shows them")
