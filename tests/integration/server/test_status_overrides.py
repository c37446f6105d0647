"""Operator overrides of status-page components in the store (SQLite and PostgreSQL): always
with an expiry, one live override per component, refused input leaves nothing behind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from infradex.errors import NotFoundError, UsageError
from infradex.statuspage.derive import Status
from infradex.statuspage.overrides import active_overrides, end_override, set_override
from infradex.store import Database
from infradex.store.tables import status_overrides

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


async def rows(db: Database) -> int:
    async with db.begin() as connection:
        return int(
            (
                await connection.execute(select(func.count()).select_from(status_overrides))
            ).scalar_one()
        )


async def live(db: Database, at: datetime = NOW) -> list[tuple[str, Status]]:
    async with db.begin() as connection:
        return [(o.ref, o.status) for o in await active_overrides(connection, at)]


async def test_an_override_lives_until_it_expires(db: Database) -> None:
    made = await set_override(
        db,
        "service:pypi",
        "partial_outage",
        expires_at=NOW + timedelta(hours=2),
        reason="mirror lag",
        by="token:ops",
        at=NOW,
    )
    assert made.id is not None and made.status is Status.PARTIAL_OUTAGE
    assert await live(db) == [("service:pypi", Status.PARTIAL_OUTAGE)]
    async with db.begin() as connection:
        (stored,) = await active_overrides(connection, NOW)
    assert stored.expires_at == NOW + timedelta(hours=2)  # aware UTC back on both engines
    assert stored.reason == "mirror lag" and stored.created_by == "token:ops"
    assert await live(db, NOW + timedelta(hours=2)) == []


async def test_a_new_override_ends_the_previous_one(db: Database) -> None:
    for status in ("major_outage", "degraded_performance"):
        await set_override(
            db,
            "service:pypi",
            status,
            expires_at=NOW + timedelta(hours=1),
            reason="r",
            by="token:ops",
            at=NOW,
        )
    assert await live(db) == [("service:pypi", Status.DEGRADED_PERFORMANCE)]
    assert await rows(db) == 2


async def test_ending_an_override_hands_back_to_derivation(db: Database) -> None:
    await set_override(
        db, "provider:fastly", "major_outage",
        expires_at=NOW + timedelta(hours=1), reason="r", by="user:ann", at=NOW,
    )  # fmt: skip
    await end_override(db, "provider:fastly", by="user:ann", at=NOW + timedelta(minutes=1))
    assert await live(db, NOW + timedelta(minutes=2)) == []
    with pytest.raises(NotFoundError, match="no active override"):
        await end_override(db, "provider:fastly", by="user:ann", at=NOW + timedelta(minutes=3))


@pytest.mark.parametrize(
    ("status", "expires_at", "reason", "message"),
    [
        ("major_outage", None, "r", "needs an expiry"),
        ("major_outage", NOW - timedelta(seconds=1), "r", "not in the future"),
        ("major_outage", NOW + timedelta(days=8), "r", "more than 7 days"),
        ("major_outage", datetime(2026, 12, 6, 5, 0), "r", "time zone offset"),
        ("down", NOW + timedelta(hours=1), "r", "use one of operational"),
        ("major_outage", NOW + timedelta(hours=1), "  ", "needs a reason"),
    ],
)
async def test_bad_overrides_are_refused_and_nothing_is_stored(
    db: Database, status: str, expires_at: datetime | None, reason: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        await set_override(
            db, "service:pypi", status,
            expires_at=expires_at, reason=reason, by="token:ops", at=NOW,
        )  # fmt: skip
    assert await rows(db) == 0
