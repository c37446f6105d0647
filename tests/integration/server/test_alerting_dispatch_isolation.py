"""A hung channel delays only itself: with an SMTP server that accepts connections and never
answers, a webhook is still delivered and recorded at once, and a dispatcher killed with
SIGKILL while the mail hangs does not send the webhook again after a restart.

Real parts: a raw asyncio server on 127.0.0.1 that accepts and stays silent (the hung SMTP
relay), a local HTTP server counting the webhooks it receives, the real email and webhook
notifiers, the store (SQLite or PostgreSQL), and a dispatcher in its own process for kill -9."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp import web
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import create_async_engine

from infradex.alerting import outbox
from infradex.alerting.dispatcher import Dispatcher
from infradex.channels.base import Message
from infradex.channels.email import EmailNotifier, SmtpConfig
from infradex.channels.webhook import WebhookNotifier
from infradex.store import Database
from infradex.store.db import async_url
from infradex.store.tables import notifications

TAG = "person:isolation"
SMTP_TIMEOUT = 5.0  # seconds the email notifier waits for the silent server


class Silent:
    """An SMTP server that accepts every connection and never says a word."""

    def __init__(self) -> None:
        self.connections = 0
        self.port = 0
        self._writers: list[asyncio.StreamWriter] = []

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        await reader.read()  # until the client gives up


@pytest.fixture
async def silent_smtp() -> AsyncIterator[Silent]:
    state = Silent()
    server = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = server.sockets[0].getsockname()[1]
    yield state
    server.close()
    for writer in state._writers:
        writer.close()


class Hooks:
    def __init__(self) -> None:
        self.arrived: list[tuple[float, str, str]] = []  # (monotonic, path, delivery id)
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        await request.read()
        delivery = request.headers.get("X-Infradex-Delivery", "")
        self.arrived.append((time.monotonic(), request.path, delivery))
        return web.Response(status=204)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def hooks() -> AsyncIterator[Hooks]:
    state = Hooks()
    app = web.Application()
    app.router.add_post("/{tail:.*}", state.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


@pytest.fixture
async def store(database_url: str) -> AsyncIterator[str]:
    """A store the dispatcher's own connections (and another process) can share; this test's
    rows are deleted afterwards."""
    db = Database(database_url)
    await db.upgrade()
    await db.close()
    yield database_url
    engine = create_async_engine(async_url(database_url))
    async with engine.begin() as connection:
        await connection.execute(delete(notifications).where(notifications.c.recipient == TAG))
    await engine.dispose()


async def _queue(db: Database, channel: str, address: str) -> int:
    async with db.begin() as connection:
        return await outbox.enqueue(
            connection,
            channel=channel,
            kind="test",
            recipient=TAG,
            address=address,
            options=None,
            message=Message("test", "isolation", "a hung channel delays only itself"),
            now=datetime.now(UTC) - timedelta(seconds=1),
        )


async def _status(db: Database, row_id: int) -> str:
    async with db.begin() as connection:
        return str(
            (
                await connection.execute(
                    select(notifications.c.status).where(notifications.c.id == row_id)
                )
            ).scalar_one()
        )


async def _until(predicate: object, seconds: float) -> float:
    """Seconds until the (async) predicate held; fails after ``seconds``."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if await predicate():  # type: ignore[operator]
            return time.monotonic() - started
        await asyncio.sleep(0.02)
    raise AssertionError(f"still not true after {seconds} s")


async def test_a_webhook_is_delivered_and_recorded_while_the_mail_server_hangs(
    store: str, silent_smtp: Silent, hooks: Hooks
) -> None:
    db = Database(store)
    smtp = SmtpConfig("127.0.0.1", silent_smtp.port, timeout=SMTP_TIMEOUT)
    dispatcher = Dispatcher(
        db, {"email": EmailNotifier(smtp, "infradex@example.org"), "webhook": WebhookNotifier()}
    )
    dispatcher.start()
    try:
        # the first incident: a page by mail (which hangs) and by webhook
        started = time.monotonic()
        await _queue(db, "email", "sam@example.org")
        first = await _queue(db, "webhook", hooks.url("/first"))
        dispatcher.wake()
        await _until(lambda: _true(bool(hooks.arrived) and silent_smtp.connections >= 1), 5)
        # the second incident's webhook, queued while the mail hangs
        queued = time.monotonic()
        second = await _queue(db, "webhook", hooks.url("/second"))
        dispatcher.wake()
        recorded = await _until(lambda: _status_is(db, first, "sent"), 3 * SMTP_TIMEOUT)
        recorded += queued - started
        await _until(lambda: _status_is(db, second, "sent"), 3 * SMTP_TIMEOUT)
        assert [path for _, path, _ in hooks.arrived] == ["/first", "/second"]
        delivered = hooks.arrived[1][0] - queued
        print(f"first webhook recorded after {recorded:.3f} s; second delivered {delivered:.3f} s")
        assert recorded < 1.0, recorded  # was SMTP_TIMEOUT: recorded with the batch's slowest
        assert delivered < 1.0, delivered  # was SMTP_TIMEOUT: claimed after the batch finished
    finally:
        await dispatcher.stop()
        await db.close()


async def _status_is(db: Database, row_id: int, status: str) -> bool:
    return await _status(db, row_id) == status


async def _true(value: bool) -> bool:
    return value


DISPATCHER = """
import asyncio, sys
from infradex.alerting.dispatcher import Dispatcher
from infradex.channels.email import EmailNotifier, SmtpConfig
from infradex.channels.webhook import WebhookNotifier
from infradex.store import Database

async def main() -> None:
    db = Database(sys.argv[1])
    smtp = SmtpConfig("127.0.0.1", int(sys.argv[2]), timeout=60.0)
    dispatcher = Dispatcher(
        db, {"email": EmailNotifier(smtp, "infradex@example.org"), "webhook": WebhookNotifier()},
        worker="doomed",
    )
    dispatcher.start()
    await asyncio.Event().wait()

asyncio.run(main())
"""


async def test_kill_9_while_the_mail_hangs_does_not_send_the_webhook_twice(
    store: str, silent_smtp: Silent, hooks: Hooks
) -> None:
    db = Database(store)
    try:
        mail = await _queue(db, "email", "sam@example.org")
        hook = await _queue(db, "webhook", hooks.url("/page"))
        process = subprocess.Popen(
            [sys.executable, "-c", DISPATCHER, store, str(silent_smtp.port)],
            env=dict(os.environ),
        )
        try:
            await _until(lambda: _true(len(hooks.arrived) == 1), 30)
            await _until(lambda: _true(silent_smtp.connections >= 1), 10)
            await asyncio.sleep(1.0)  # the webhook's answer has long been in
            process.send_signal(signal.SIGKILL)
            process.wait(10)
        finally:
            if process.poll() is None:
                process.kill()
        assert await _status(db, mail) == "sending"  # the mail was in flight: tried again
        # the restart, after the dead dispatcher's lease ran out
        later = datetime.now(UTC) + outbox.LEASE + timedelta(seconds=1)
        notifiers = {"email": EmailNotifier(None, "x@example.org"), "webhook": WebhookNotifier()}
        restarted = Dispatcher(db, notifiers, worker="restarted")
        await restarted.run_once(later)
        assert [path for _, path, _ in hooks.arrived] == ["/page"], hooks.arrived
        assert await _status(db, hook) == "sent"
    finally:
        await db.close()
