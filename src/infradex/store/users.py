"""People who sign in to the web UI: usernames and argon2 password hashes."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from infradex.errors import UsageError
from infradex.store.db import Database
from infradex.store.tables import users

__all__ = ["MIN_PASSWORD", "User", "authenticate", "create_user"]

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
