"""People who sign in to the web UI: usernames and argon2 password hashes."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.errors import NotFoundError, UsageError
from infradex.store.db import Database
from infradex.store.sessions import revoke_sessions_of
from infradex.store.tables import api_tokens, users

__all__ = [
    "MIN_PASSWORD",
    "Account",
    "User",
    "authenticate",
    "create_user",
    "delete_user",
    "disable_user",
    "list_users",
]

MIN_PASSWORD = 12
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the user does not exist, so both paths cost the same time
    (made on first use: hashing at import slowed every CLI command by 0.16 s)."""
    return _hasher.hash("infradex-timing-equaliser")


@dataclass(frozen=True, slots=True)
class User:
    username: str
    is_admin: bool


@dataclass(frozen=True, slots=True)
class Account:
    """A user as ``infradex user list`` shows them."""

    username: str
    is_admin: bool
    created_at: datetime
    last_login_at: datetime | None
    disabled_at: datetime | None


async def create_user(
    db: Database, username: str, password: str, now: datetime, admin: bool = False
) -> User:
    if not username or len(username) > 100 or not username.isprintable() or " " in username:
        raise UsageError("a username is 1-100 printable characters without spaces")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"a password needs at least {MIN_PASSWORD} characters")
    try:
        async with db.begin() as connection:
            await connection.execute(
                insert(users).values(
                    username=username,
                    password_hash=_hasher.hash(password),
                    is_admin=admin,
                    created_at=now,
                )
            )
    except IntegrityError:
        raise UsageError(f"user {username!r} exists") from None
    return User(username, admin)


async def authenticate(db: Database, username: str, password: str, now: datetime) -> User | None:
    """The user if the password is right (recording the sign-in), else None.

    argon2 runs in a thread (it takes tens of milliseconds: on the event loop it would stall
    every other request) and outside any transaction (held open across it, a read-then-write
    transaction fails with "database is locked" on SQLite when another writer commits)."""
    async with db.begin() as connection:
        row = (
            await connection.execute(
                select(users).where(users.c.username == username, users.c.disabled_at.is_(None))
            )
        ).first()
    if not await asyncio.to_thread(_verify, row.password_hash if row else _dummy_hash(), password):
        return None
    if row is None:
        return None
    async with db.begin() as connection:
        await connection.execute(
            update(users).where(users.c.id == row.id).values(last_login_at=now)
        )
    return User(row.username, row.is_admin)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def list_users(db: Database) -> list[Account]:
    async with db.begin() as connection:
        rows = await connection.execute(select(users).order_by(users.c.username))
        return [
            Account(r.username, r.is_admin, r.created_at, r.last_login_at, r.disabled_at)
            for r in rows
        ]


async def disable_user(db: Database, username: str, now: datetime) -> int:
    """Disable ``username``: no sign-in, and their sessions and tokens are revoked at once.
    Returns how many sessions and tokens were revoked."""
    async with db.begin() as connection:
        result = await connection.execute(
            update(users)
            .where(users.c.username == username, users.c.disabled_at.is_(None))
            .values(disabled_at=now)
        )
        if result.rowcount != 1:
            raise NotFoundError(f"no enabled user {username!r}; `infradex user list` shows them")
        return await _revoke_everything_of(connection, username, now)


async def delete_user(db: Database, username: str, now: datetime) -> int:
    """Delete ``username`` (their sessions go with them; their tokens are revoked, kept for
    the audit trail). Returns how many sessions and tokens were revoked."""
    async with db.begin() as connection:
        revoked = await _revoke_everything_of(connection, username, now)
        result = await connection.execute(delete(users).where(users.c.username == username))
        if result.rowcount != 1:
            raise NotFoundError(f"no user {username!r}; `infradex user list` shows them")
        return revoked


async def _revoke_everything_of(connection: AsyncConnection, username: str, now: datetime) -> int:
    sessions = await revoke_sessions_of(connection, username, now)
    tokens = await connection.execute(
        update(api_tokens)
        .where(api_tokens.c.created_by == f"user:{username}", api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return sessions + int(tokens.rowcount or 0)
