"""Signed-in browsers as rows, so a session can end before its cookie does: signing out,
disabling or deleting the user revokes it, and every request checks it.

The cookie carries a random key (signed, see web/sessions.py); the store keeps only its
SHA-256, like API tokens: a copy of the database signs no one in.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.store.db import Database
from infradex.store.tables import sessions, users

__all__ = [
    "IDLE",
    "SignedIn",
    "end_session",
    "revoke_sessions_of",
    "session_user",
    "start_session",
]

#: a session unused this long ends (the cookie lives as long: 14 days)
IDLE = timedelta(days=14)
#: last use is written at most this often per session
SEEN_EVERY = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class SignedIn:
    username: str
    is_admin: bool


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def start_session(db: Database, username: str, now: datetime, remote: str | None) -> str:
    """A new session for ``username``; returns the key the cookie carries."""
    key = secrets.token_urlsafe(32)
    async with db.begin() as connection:
        user_id = select(users.c.id).where(users.c.username == username).scalar_subquery()
        await connection.execute(
            insert(sessions).values(
                key_hash=_hash(key),
                user_id=user_id,
                created_at=now,
                last_seen_at=now,
                remote_addr=remote,
            )
        )
    return key


async def session_user(db: Database, key: str, now: datetime) -> SignedIn | None:
    """Who this session signs in, if it is live and its user is enabled; records its use."""
    async with db.begin() as connection:
        row = (
            await connection.execute(
                select(sessions.c.id, sessions.c.last_seen_at, users.c.username, users.c.is_admin)
                .join(users, users.c.id == sessions.c.user_id)
                .where(
                    sessions.c.key_hash == _hash(key),
                    sessions.c.revoked_at.is_(None),
                    sessions.c.last_seen_at > now - IDLE,
                    users.c.disabled_at.is_(None),
                )
            )
        ).first()
    if row is None:
        return None
    if row.last_seen_at <= now - SEEN_EVERY:
        # one conditional UPDATE in its own transaction (never read-then-write: see db.py)
        async with db.begin() as connection:
            await connection.execute(
                update(sessions)
                .where(sessions.c.id == row.id, sessions.c.last_seen_at < now - SEEN_EVERY)
                .values(last_seen_at=now)
            )
    return SignedIn(row.username, bool(row.is_admin))


async def end_session(db: Database, key: str, now: datetime) -> None:
    async with db.begin() as connection:
        await connection.execute(
            update(sessions)
            .where(sessions.c.key_hash == _hash(key), sessions.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )


async def revoke_sessions_of(connection: AsyncConnection, username: str, now: datetime) -> int:
    """Revoke every live session of ``username`` inside the caller's transaction."""
    user_id = select(users.c.id).where(users.c.username == username).scalar_subquery()
    result = await connection.execute(
        update(sessions)
        .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(result.rowcount or 0)
