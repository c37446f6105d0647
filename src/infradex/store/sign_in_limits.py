"""How many sign-in attempts to evaluate: failures counted per source address, per account
and per (account, source), each with exponential backoff instead of a hard lock.

An attempt is *reserved* (counted as a failure) in one transaction before the password is
checked, so parallel guesses cannot all slip in between a read of the count and its update;
a right password gives the reservation back. Keys and what they stop:

- ``source:ADDR``: one address guessing many accounts;
- ``pair:NAME ADDR``: one address guessing one account;
- ``account:NAME``: many addresses guessing one account. It holds back only sources that have
  failed before: the account's owner, signing in from an address with no failures, still
  gets in, so no one can lock a person out by failing on purpose (the device-cookie idea of
  OWASP's guidance, keyed on the address).

The same counters limit the status page's sign-ups (:func:`count_attempt`, every sign-up
counted, none given back): ``signup-source:ADDR`` and ``signup-address:HASH`` (the hash of
the email address or webhook URL, so no personal data sits in this table).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.dialects import postgresql, sqlite

from infradex.store.db import Database
from infradex.store.tables import sign_in_limits

__all__ = [
    "FREE",
    "Limit",
    "Reservation",
    "backoff",
    "blocked_for",
    "count_attempt",
    "refused_for",
    "release",
    "reserve",
]

#: failures (sign-ins) or attempts (sign-ups) each kind of key may have before the backoff
FREE = {"source": 20, "pair": 5, "account": 5, "signup-source": 10, "signup-address": 3}
FIRST_WAIT = timedelta(seconds=1)  # then 2, 4, 8, ... seconds
#: kinds whose backoff starts longer: a sign-up sends a mail, a guess only costs a hash
FIRST_WAITS = {"signup-source": timedelta(seconds=30), "signup-address": timedelta(minutes=5)}
LONGEST_WAIT = timedelta(minutes=15)
FORGET = timedelta(hours=24)  # a key without a failure this long starts again from zero


@dataclass(frozen=True, slots=True)
class Limit:
    key: str
    failures: int
    blocked_until: datetime | None


@dataclass(frozen=True, slots=True)
class Reservation:
    keys: tuple[str, ...]
    source: str


def _kind(key: str) -> str:
    return key.split(":", 1)[0]


def keys_for(username: str, source: str | None) -> tuple[str, str, str]:
    address = source or "unknown"
    return (f"source:{address}", f"pair:{username} {address}", f"account:{username}")


def backoff(kind: str, failures: int) -> timedelta | None:
    """How long a key with ``failures`` waits before its next attempt (None: no wait)."""
    over = failures - FREE[kind]
    if over < 0:
        return None
    wait: timedelta = FIRST_WAITS.get(kind, FIRST_WAIT) * 2 ** min(over, 20)
    return min(wait, LONGEST_WAIT)


def _waits(limits: dict[str, Limit], keys: Iterable[str], now: datetime) -> list[timedelta]:
    found = (limits.get(key) for key in keys)
    return [
        limit.blocked_until - now
        for limit in found
        if limit and limit.blocked_until and limit.blocked_until > now
    ]


def blocked_for(limits: dict[str, Limit], keys: Iterable[str], now: datetime) -> timedelta | None:
    """The longest wait any of ``keys`` is in, or None (pure)."""
    return max(_waits(limits, keys, now), default=None)


def refused_for(limits: dict[str, Limit], keys: tuple[str, ...], now: datetime) -> timedelta | None:
    """How long the sign-in must wait, or None if it may be evaluated now (pure)."""
    source_key, pair_key, account_key = keys
    waits = _waits(limits, (source_key, pair_key), now)
    account = limits.get(account_key)
    source = limits.get(source_key)
    if (
        account
        and account.blocked_until
        and account.blocked_until > now
        and source is not None
        and source.failures > 0
    ):
        waits.append(account.blocked_until - now)
    return max(waits) if waits else None


def _blocked_until(key: str, failures: int, now: datetime) -> datetime | None:
    wait = backoff(_kind(key), failures)
    return None if wait is None else now + wait


async def _count(
    db: Database,
    keys: tuple[str, ...],
    now: datetime,
    refused: Callable[[dict[str, Limit]], timedelta | None],
) -> timedelta | None:
    """Count one attempt on every key, in one transaction; or, when ``refused`` says to
    wait, how long (nothing is counted then)."""
    ordered = sorted(keys)  # one order for every transaction: no deadlock on PostgreSQL
    async with db.begin(writes=True) as connection:
        await connection.execute(
            delete(sign_in_limits).where(sign_in_limits.c.updated_at < now - FORGET)
        )
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        await connection.execute(
            insert(sign_in_limits).on_conflict_do_nothing(index_elements=["key"]),
            [{"key": key, "failures": 0, "updated_at": now} for key in ordered],
        )
        rows = await connection.execute(
            select(sign_in_limits)
            .where(sign_in_limits.c.key.in_(ordered))
            .order_by(sign_in_limits.c.key)
            .with_for_update()  # PostgreSQL locks the rows; SQLite holds the write lock already
        )
        limits = {r.key: Limit(r.key, r.failures, r.blocked_until) for r in rows}
        wait = refused(limits)
        if wait is not None:
            return wait
        for key in ordered:
            failures = limits[key].failures + 1
            await connection.execute(
                update(sign_in_limits)
                .where(sign_in_limits.c.key == key)
                .values(
                    failures=failures,
                    blocked_until=_blocked_until(key, failures, now),
                    updated_at=now,
                )
            )
    return None


async def reserve(
    db: Database, username: str, source: str | None, now: datetime
) -> Reservation | timedelta:
    """Count this attempt as a failure before it is evaluated; or, if a key is in its
    backoff, how long to wait (nothing is counted then)."""
    keys = keys_for(username, source)
    wait = await _count(db, keys, now, lambda limits: refused_for(limits, keys, now))
    return wait if wait is not None else Reservation(keys, keys[0])


async def count_attempt(db: Database, keys: tuple[str, ...], now: datetime) -> timedelta | None:
    """Count one attempt on each key (its kind, the part before ``:``, one of :data:`FREE`);
    or, when one of them is in its backoff, how long to wait (nothing is counted then)."""
    return await _count(db, keys, now, lambda limits: blocked_for(limits, keys, now))


async def release(db: Database, reservation: Reservation, now: datetime) -> None:
    """The password was right: forget the account's failures (its owner is in) and give the
    source back the attempt it reserved (its other failures stay: they were someone's)."""
    async with db.begin(writes=True) as connection:
        await connection.execute(
            delete(sign_in_limits).where(sign_in_limits.c.key.in_(reservation.keys[1:]))
        )
        row = (
            await connection.execute(
                select(sign_in_limits.c.failures).where(sign_in_limits.c.key == reservation.source)
            )
        ).first()
        if row is not None:
            failures = max(row.failures - 1, 0)
            await connection.execute(
                update(sign_in_limits)
                .where(sign_in_limits.c.key == reservation.source)
                .values(
                    failures=failures,
                    blocked_until=_blocked_until(reservation.source, failures, now),
                )
            )
