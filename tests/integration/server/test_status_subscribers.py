"""Status-page subscribers in the store (SQLite and PostgreSQL): bad input refused with a
clear error and nothing stored, sign-up floods held back per address and per source,
forged, expired and reused links changing nothing, and notices queued once per subscriber
and update, only to confirmed subscribers of the components touched."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from ipaddress import ip_network

import pytest
from sqlalchemy import delete, func, select

from infradex.errors import UsageError
from infradex.netpolicy import DEFAULT_POLICY
from infradex.statuspage.subscriber_messages import StatusEvent, SubscriberLinks
from infradex.statuspage.subscriber_notices import notify_subscribers
from infradex.statuspage.subscriber_tokens import LinkError, make_token
from infradex.statuspage.subscribers import (
    SignUpRefused,
    confirm,
    list_subscribers,
    remove_subscriber,
    sign_up,
    unsubscribe,
)
from infradex.store import Database
from infradex.store.tables import notifications, sign_in_limits, subscribers

NOW = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
KEY = "test-secret"
LINKS = SubscriberLinks("https://status.example.org", "Example Status", KEY)
KNOWN = {"aaaaaaaaaaaa": "Website", "bbbbbbbbbbbb": "Downloads"}
POLICY = DEFAULT_POLICY.without_internal(())


async def count(db: Database, table: object) -> int:
    async with db.begin() as connection:
        found = await connection.execute(select(func.count()).select_from(table))  # type: ignore[arg-type]
        return int(found.scalar_one())


async def join(db: Database, address: str, *, kind: str = "email", source: str = "192.0.2.1",
               components: tuple[str, ...] = (), at: datetime = NOW) -> str | None:  # fmt: skip
    done = await sign_up(db, LINKS, kind=kind, address=address, components=components,
                         known=KNOWN, source=source, now=at, policy=POLICY)  # fmt: skip
    return done.secret


async def confirmation_token(db: Database, address: str) -> str:
    """The token in the newest confirmation mail queued for ``address``."""
    async with db.begin() as connection:
        payload = (
            await connection.execute(
                select(notifications.c.payload)
                .where(notifications.c.target == address, notifications.c.kind == "subscribe")
                .order_by(notifications.c.id.desc())
                .limit(1)
            )
        ).scalar_one()
    link: str = payload["message"]["links"]["confirm"]
    return link.split("token=", 1)[1]


def event(kind: str = "incident.updated", update: str = "7",
          components: tuple[str, ...] = ("aaaaaaaaaaaa",)) -> StatusEvent:  # fmt: skip
    return StatusEvent(kind=kind, subject_id=3, update_id=update, component_ids=components,
                       title="Problems with Website", body="We are on it.",
                       status="identified", at=NOW)  # fmt: skip


async def notify(db: Database, what: StatusEvent) -> int:
    async with db.begin(writes=True) as connection:
        return await notify_subscribers(connection, what, links=LINKS)


async def queued_to(db: Database) -> list[str]:
    async with db.begin() as connection:
        rows = await connection.execute(
            select(notifications.c.target)
            .where(notifications.c.kind == "status", notifications.c.status == "pending")
            .order_by(notifications.c.id)
        )
        return [r.target for r in rows]


@pytest.mark.parametrize(
    ("kind", "address", "message"),
    [
        ("email", "not-an-address", "is not an email address"),
        ("email", "ada@example.org\r\nBcc: eve@example.org", "is not an email address"),
        ("email", "ada @example.org", "is not an email address"),
        ("email", "a" * 250 + "@example.org", "is not an email address"),
        ("email", "", "is not an email address"),
        ("webhook", "javascript:alert(1)", "is not an http:// or https:// URL"),
        ("webhook", "ftp://hooks.example.org/x", "is not an http:// or https:// URL"),
        ("webhook", "https://user:pw@hooks.example.org/x", "carries a user name or password"),
        ("webhook", "https://hooks.example.org:99999/x", "is not an http:// or https:// URL"),
        ("webhook", "https://hooks.example.org/" + "x" * 2000, "is longer than 2000"),
        ("webhook", "http://127.0.0.1:9/hook", "is an internal address"),
        ("webhook", "http://10.1.2.3/hook", "is an internal address"),
        ("webhook", "http://[::1]/hook", "is an internal address"),
        ("webhook", "http://169.254.169.254/latest/meta-data", "is an internal address"),
        ("webhook", "http://localhost:8000/hook", "is an internal address"),
        ("pigeon", "ada@example.org", "choose email or webhook"),
    ],
)
async def test_bad_addresses_are_refused_and_nothing_is_stored(
    db: Database, kind: str, address: str, message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        await join(db, address, kind=kind)
    assert await count(db, subscribers) == 0
    assert await count(db, notifications) == 0


async def test_unknown_components_are_refused(db: Database) -> None:
    with pytest.raises(UsageError, match="unknown component 'zzz'; choose among"):
        await join(db, "ada@example.org", components=("aaaaaaaaaaaa", "zzz"))
    assert await count(db, subscribers) == 0


async def test_an_allowed_internal_range_may_be_a_webhook(db: Database) -> None:
    allowed = DEFAULT_POLICY.without_internal((ip_network("127.0.0.1/32"),))
    done = await sign_up(db, LINKS, kind="webhook", address="http://127.0.0.1:9/hook",
                         components=(), known=KNOWN, source="192.0.2.1", now=NOW,
                         policy=allowed)  # fmt: skip
    assert done.secret is not None
    async with db.begin() as connection:
        (stored,) = await list_subscribers(connection)
    assert stored.confirmed_at == NOW  # a webhook needs no mail to confirm
    with pytest.raises(UsageError, match="subscribed already"):
        await sign_up(db, LINKS, kind="webhook", address="http://127.0.0.1:9/hook",
                      components=(), known=KNOWN, source="192.0.2.2", now=NOW,
                      policy=allowed)  # fmt: skip


async def test_a_flood_for_one_address_is_held_back(db: Database) -> None:
    for n in range(3):
        await join(db, "ada@example.org", source=f"192.0.2.{n + 1}")
    with pytest.raises(SignUpRefused, match=r"too many sign-ups .* try again in 300 s"):
        await join(db, "ADA@example.org", source="192.0.2.9")  # the same address, any case
    assert await count(db, subscribers) == 1
    assert len(await queued_confirmations(db)) == 3
    # another address is not held back by ada's flood
    await join(db, "bob@example.org", source="192.0.2.9")


async def queued_confirmations(db: Database) -> list[str]:
    async with db.begin() as connection:
        rows = await connection.execute(
            select(notifications.c.target).where(notifications.c.kind == "subscribe")
        )
        return [r.target for r in rows]


async def test_a_flood_from_one_source_is_held_back(db: Database) -> None:
    for n in range(10):
        await join(db, f"user{n}@example.org", source="198.51.100.4")
    with pytest.raises(SignUpRefused, match="try again in 30 s"):
        await join(db, "user10@example.org", source="198.51.100.4")
    assert await count(db, subscribers) == 10
    # held back: the refused attempt counted nothing, and the keys name no address
    async with db.begin() as connection:
        keys = [r.key for r in await connection.execute(select(sign_in_limits.c.key))]
    assert not any("@" in key for key in keys)
    await join(db, "user10@example.org", source="198.51.100.4", at=NOW + timedelta(seconds=31))


async def test_only_confirmed_subscribers_get_notices(db: Database) -> None:
    await join(db, "ada@example.org")
    assert await notify(db, event()) == 0
    await confirm(db, KEY, await confirmation_token(db, "ada@example.org"), NOW)
    assert await notify(db, event(update="8")) == 1
    assert await queued_to(db) == ["ada@example.org"]


async def test_a_notice_is_queued_once_per_subscriber_and_update(db: Database) -> None:
    await join(db, "ada@example.org")
    await confirm(db, KEY, await confirmation_token(db, "ada@example.org"), NOW)
    assert await notify(db, event()) == 1
    assert await notify(db, event()) == 0  # the same update again: nothing twice
    assert await notify(db, event(update="8")) == 1
    assert await queued_to(db) == ["ada@example.org"] * 2


async def test_components_choose_what_a_subscriber_hears(db: Database) -> None:
    for address, chosen in (("ada@example.org", ("aaaaaaaaaaaa",)),
                            ("bob@example.org", ("bbbbbbbbbbbb",)),
                            ("cy@example.org", ())):  # fmt: skip
        await join(db, address, components=chosen)
        await confirm(db, KEY, await confirmation_token(db, address), NOW)
    await notify(db, event(components=("aaaaaaaaaaaa",)))
    assert sorted(await queued_to(db)) == ["ada@example.org", "cy@example.org"]


async def test_a_new_sign_up_replaces_the_pending_link(db: Database) -> None:
    await join(db, "ada@example.org")
    old = await confirmation_token(db, "ada@example.org")
    await join(db, "ada@example.org", components=("bbbbbbbbbbbb",))
    new = await confirmation_token(db, "ada@example.org")
    with pytest.raises(LinkError, match="used already") as raised:
        await confirm(db, KEY, old, NOW)
    assert raised.value.reason == "used"
    made = await confirm(db, KEY, new, NOW)
    assert made.components == ("bbbbbbbbbbbb",)
    # signing up a confirmed address again changes nothing and sends nothing
    before = await count(db, notifications)
    await join(db, "ada@example.org")
    assert await count(db, notifications) == before


async def test_forged_expired_and_reused_links_change_nothing(db: Database) -> None:
    await join(db, "ada@example.org")
    token = await confirmation_token(db, "ada@example.org")
    purpose, number, expires, nonce, signature = token.split(".")
    other = "B" if signature.endswith("A") else "A"  # a random signature may end in A
    forged = [
        f"{purpose}.{number}.{expires}.{nonce}.{signature[:-1]}{other}",  # another signature
        f"{purpose}.{int(number) + 1}.{expires}.{nonce}.{signature}",  # another subscriber
        make_token("another-key", "confirm", int(number), nonce, NOW + timedelta(days=1)),
        token[:-5],  # cut short
        "",
        token.replace("confirm.", "unsubscribe.", 1),  # another purpose
    ]
    for bad in forged:
        with pytest.raises(LinkError, match="This link is not valid") as raised:
            await confirm(db, KEY, bad, NOW)
        assert raised.value.reason == "forged"
    with pytest.raises(LinkError, match="expired") as raised:
        await confirm(db, KEY, token, NOW + timedelta(hours=48))
    async with db.begin() as connection:
        (pending,) = await list_subscribers(connection)
    assert pending.confirmed_at is None
    await confirm(db, KEY, token, NOW + timedelta(hours=47))
    with pytest.raises(LinkError, match="used already"):
        await confirm(db, KEY, token, NOW + timedelta(hours=47))


async def unsubscribe_link(db: Database, address: str) -> str:
    async with db.begin() as connection:
        payload = (
            await connection.execute(
                select(notifications.c.payload)
                .where(notifications.c.target == address, notifications.c.kind == "status")
                .limit(1)
            )
        ).scalar_one()
    link: str = payload["message"]["links"]["unsubscribe"]
    return link.split("token=", 1)[1]


async def test_unsubscribing_deletes_the_address_and_cancels_its_notices(db: Database) -> None:
    await join(db, "ada@example.org")
    await confirm(db, KEY, await confirmation_token(db, "ada@example.org"), NOW)
    await notify(db, event())
    token = await unsubscribe_link(db, "ada@example.org")
    with pytest.raises(LinkError, match="not valid"):
        await unsubscribe(db, KEY, token.replace("unsubscribe.", "confirm.", 1), NOW)
    assert await unsubscribe(db, KEY, token, NOW) == "email"
    assert await count(db, subscribers) == 0
    assert await queued_to(db) == []  # the pending notice is cancelled, not sent
    with pytest.raises(LinkError, match="used already") as raised:
        await unsubscribe(db, KEY, token, NOW)
    assert raised.value.reason == "used"
    assert await notify(db, event(update="9")) == 0


async def test_an_admin_removes_a_subscriber(db: Database) -> None:
    await join(db, "ada@example.org")
    async with db.begin() as connection:
        (found,) = await list_subscribers(connection)
    await remove_subscriber(db, found.id)
    assert await count(db, subscribers) == 0
    with pytest.raises(Exception, match=f"no subscriber {found.id}"):
        await remove_subscriber(db, found.id)


def test_the_event_names_its_kind() -> None:
    with pytest.raises(ValueError, match="unknown status event"):
        event(kind="incident.deleted")
    assert event().key == "incident:3:7"


async def test_the_same_address_signed_up_on_two_servers_at_once_is_stored_once(
    two_servers: tuple[Database, Database],
) -> None:
    a, b = two_servers
    for _ in range(3):
        await asyncio.gather(
            *(sign_up(db, LINKS, kind="email", address="ada@example.org", components=(),
                      known=KNOWN, source=f"192.0.2.{n}", now=NOW, policy=POLICY)
              for n, db in enumerate((a, b, a))),
            return_exceptions=False,
        )  # fmt: skip
        assert await count(a, subscribers) == 1
        async with a.begin(writes=True) as connection:
            await connection.execute(delete(subscribers))
            await connection.execute(delete(sign_in_limits))
