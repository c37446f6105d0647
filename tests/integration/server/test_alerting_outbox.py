"""The outbox under stress and the policy's own channels: two dispatchers never send one row
twice, a row left `sending` by a dead dispatcher is sent again after its lease (the one
documented duplicate window, recognisable by its delivery id), quiet hours hold a resolve
notice, and a policy's PagerDuty and webhook channels follow the incident from trigger through
acknowledge to resolve with one dedup key."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import create_async_engine

from infradex.alerting import outbox, records
from infradex.alerting.dispatcher import Dispatcher
from infradex.channels.base import Message, Target
from infradex.channels.webhook import verify_signature
from infradex.store import Database
from infradex.store.db import async_url
from infradex.store.tables import notifications

from .alerting_harness import T0, Inbox, Rig, inbox, load_org, target, write_org
from .alerting_harness import Target as HttpTarget

__all__ = ["inbox", "target"]

SOLO = "service:solo/home"
ROUTING_KEY = "0123456789abcdef0123456789abcdef"


class Counting:
    """A notifier that counts what it is asked to send, slowly (so claims overlap)."""

    channel = "email"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, target: Target, message: Message, delivery: str) -> str:
        await asyncio.sleep(0.001)
        self.sent.append(delivery)
        return "ok"


async def _queue(db: Database, count: int, channel: str = "email", tag: str = "race") -> None:
    now = datetime.now(UTC)
    async with db.begin() as connection:
        for i in range(count):
            await outbox.enqueue(
                connection,
                channel=channel,
                kind="test",
                recipient=f"person:{tag}",
                address=f"{tag}{i}@example.org",
                options=None,
                message=Message("test", "s", "t"),
                now=now - timedelta(seconds=1),
            )


@pytest.fixture
async def shared_store(database_url: str) -> AsyncIterator[str]:
    """A store two independent processes' worth of connections can share (not the rolled-back
    test transaction): this test's rows are deleted afterwards."""
    db = Database(database_url)
    await db.upgrade()
    await db.close()
    yield database_url
    engine = create_async_engine(async_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(
            delete(notifications).where(notifications.c.recipient == "person:race")
        )
    await engine.dispose()


async def test_two_dispatchers_never_send_the_same_row(shared_store: str) -> None:
    first, second = Database(shared_store), Database(shared_store)
    try:
        await _queue(first, 300)
        a, b = Counting(), Counting()
        one = Dispatcher(first, {"email": a}, worker="one")
        two = Dispatcher(second, {"email": b}, worker="two")

        async def drain(dispatcher: Dispatcher) -> None:
            while await dispatcher.run_once(datetime.now(UTC)):
                pass

        await asyncio.gather(drain(one), drain(two), drain(one), drain(two))
        sent = a.sent + b.sent
        assert len(sent) == 300 and len(set(sent)) == 300  # each row once, none twice
        async with first.begin() as connection:
            rows = (
                await connection.execute(
                    select(notifications.c.status, notifications.c.attempts).where(
                        notifications.c.recipient == "person:race"
                    )
                )
            ).all()
        assert {r.status for r in rows} == {"sent"} and {r.attempts for r in rows} == {1}
    finally:
        await first.close()
        await second.close()


async def test_a_row_left_sending_by_a_dead_dispatcher_goes_out_again_after_the_lease(
    db: Database,
) -> None:
    await _queue(db, 1, tag="lease")
    now = datetime.now(UTC)
    dead = await outbox.claim(db, "dead-worker", now)  # claimed, then the process died
    assert len(dead) == 1
    counting = Counting()
    alive = Dispatcher(db, {"email": counting}, worker="alive")
    assert await alive.run_once(now + timedelta(seconds=30)) == []  # still within the lease
    outcomes = await alive.run_once(now + outbox.LEASE + timedelta(seconds=1))
    assert [o.ok for o in outcomes] == [True]
    assert counting.sent == [str(dead[0].id)]  # the same delivery id the dead one used
    async with db.begin() as connection:
        row = (await connection.execute(select(notifications))).one()
    assert row.status == "sent" and row.attempts == 2 and row.claimed_by == "alive"
    # the dead dispatcher, were it to wake up, cannot mark the row: it is no longer its own
    async with db.begin() as connection:
        assert not await outbox.mark_sent(connection, row.id, "dead-worker", now)


async def test_a_permanent_failure_fails_at_once_and_a_transient_one_backs_off(
    db: Database,
) -> None:
    from infradex.channels.base import NotifyError

    class Refusing:
        channel = "email"

        def __init__(self, permanent: bool) -> None:
            self.permanent = permanent

        async def send(self, target: Target, message: Message, delivery: str) -> str:
            raise NotifyError("550 no such user" if self.permanent else "timed out",
                              permanent=self.permanent)  # fmt: skip

    await _queue(db, 1, tag="perm")
    now = datetime.now(UTC)
    [outcome] = await Dispatcher(db, {"email": Refusing(True)}).run_once(now)
    assert outcome.permanent and not outcome.ok
    await _queue(db, 1, tag="trans")
    [outcome] = await Dispatcher(db, {"email": Refusing(False)}).run_once(now)
    assert outcome.retry_at == now + timedelta(seconds=15)
    async with db.begin() as connection:
        rows = {r.recipient: r for r in (await connection.execute(select(notifications))).all()}
    assert rows["person:perm"].status == "failed" and rows["person:perm"].permanent
    assert rows["person:trans"].status == "pending" and rows["person:trans"].last_error


async def test_quiet_hours_hold_the_resolve_notice_not_the_page(
    db: Database, tmp_path: Path, inbox: Inbox, target: HttpTarget
) -> None:
    # 22:30 UTC is 23:30 in Amsterdam: inside Val's quiet hours (22:00-07:00)
    night = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url, now=night)
    target.status["/solo"] = 503
    for _ in range(3):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    await rig.turn()
    await rig.advance(timedelta(minutes=15))
    assert [m.to for m in inbox.mails] == [["sam@example.org"], ["val@example.org"]]  # pages go
    target.status["/solo"] = 200
    for _ in range(2):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    await rig.turn()
    assert [m.to[0] for m in inbox.mails[2:]] == ["sam@example.org"]  # Val sleeps
    rig.now = datetime(2026, 11, 27, 6, 0, 1, tzinfo=UTC)  # 07:00:01 in Amsterdam
    await rig.turn()
    assert [m.to[0] for m in inbox.mails[2:]] == ["sam@example.org", "val@example.org"]


class Receivers:
    """A PagerDuty Events API v2 endpoint and a webhook endpoint, recording what arrives."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.hooks: list[tuple[dict[str, str], bytes]] = []
        self.port = 0

    async def pagerduty(self, request: web.Request) -> web.Response:
        event = await request.json()
        problems = []
        if len(event.get("routing_key", "")) != 32:
            problems.append("routing_key must be 32 characters")
        if event.get("event_action") not in ("trigger", "acknowledge", "resolve"):
            problems.append("unknown event_action")
        if event.get("event_action") == "trigger":
            payload = event.get("payload", {})
            for name in ("summary", "source", "severity"):
                if not payload.get(name):
                    problems.append(f"payload.{name} is required")
        elif not event.get("dedup_key"):
            problems.append("dedup_key is required")
        if problems:
            return web.json_response({"status": "invalid event", "errors": problems}, status=400)
        self.events.append(event)
        return web.json_response(
            {
                "status": "success",
                "message": "Event processed",
                "dedup_key": event.get("dedup_key"),
            },
            status=202,
        )

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.read()
        self.hooks.append((dict(request.headers), body))
        return web.Response(status=204)


@pytest.fixture
async def receivers() -> AsyncIterator[Receivers]:
    state = Receivers()
    app = web.Application()
    app.router.add_post("/v2/enqueue", state.pagerduty)
    app.router.add_post("/hook", state.webhook)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


async def test_policy_channels_follow_the_incident_with_one_dedup_key(
    db: Database,
    tmp_path: Path,
    inbox: Inbox,
    target: HttpTarget,
    receivers: Receivers,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_HOOK_SECRET", "s3cret")
    base = f"http://127.0.0.1:{receivers.port}"
    channels = (
        f"[{{type: pagerduty, routingKey: {ROUTING_KEY}}}, "
        f"{{type: webhook, url: '{base}/hook', secret: 'env:TEST_HOOK_SECRET'}}]"
    )
    catalog = load_org(write_org(tmp_path / "org", target, channels=channels))
    rig = Rig(db, catalog, inbox.url, pagerduty_url=f"{base}/v2/enqueue")
    target.status["/solo"] = 503
    for _ in range(3):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    await rig.turn()
    [incident] = (await records.list_incidents(db))[0]
    await records.act(db, incident["id"], "acknowledge", "user:ee", rig.now)
    await rig.advance(timedelta(seconds=1))
    target.status["/solo"] = 200
    for _ in range(2):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    await rig.turn()
    actions = [e["event_action"] for e in receivers.events]
    assert actions == ["trigger", "acknowledge", "resolve"]
    assert len({e["dedup_key"] for e in receivers.events}) == 1
    assert receivers.events[0]["payload"]["source"] == "service:solo"
    kinds = []
    for headers, body in receivers.hooks:
        assert verify_signature(
            "s3cret",
            headers["X-Infradex-Timestamp"],
            body,
            headers["X-Infradex-Signature"],
            time.time(),
        )
        kinds.append(json.loads(body)["kind"])
    assert kinds == ["trigger", "acknowledge", "resolve"]
    # the person paged hears of the page, the acknowledgement and the resolve
    assert [m.to for m in inbox.mails] == [["sam@example.org"]] * 3
    assert "ACKNOWLEDGED" in inbox.mails[1].subject
    assert rig.now >= T0
    # the outbox holds every message, each sent once
    async with db.begin() as connection:
        statuses = [r.status for r in (await connection.execute(select(notifications))).all()]
    assert statuses and set(statuses) == {"sent"}


async def test_old_messages_and_expired_links_are_pruned(db: Database) -> None:
    from infradex.alerting.incidents import Incident

    now = datetime.now(UTC)
    await _queue(db, 2, tag="old")
    async with db.begin() as connection:
        await connection.execute(
            update(notifications).values(status="sent", created_at=now - timedelta(days=100))
        )
        incident_id = await records.save(connection, Incident("service:x", "x", now), now)
        await records.create_link(connection, incident_id, "acknowledge", "person:a",
                                  now - timedelta(days=10))  # fmt: skip
        await records.create_link(connection, incident_id, "acknowledge", "person:a", now)
    await _queue(db, 1, tag="new")  # pending: never pruned
    assert await records.prune(db, now) == {"messages": 2, "links": 1}
    async with db.begin() as connection:
        left = [r.recipient for r in (await connection.execute(select(notifications))).all()]
    assert left == ["person:new"]
