"""What the alerting tests share: a real SMTP server (aiosmtpd) that keeps what it accepts and
can be stopped and started again on the same port, a local HTTP target whose answers the test
sets per path, and a :class:`Rig` that drives the real monitor, alerter and dispatcher with a
frozen clock (each ``run`` is one check result at the clock's time, through the real probe)."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message as EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiosmtpd.controller import Controller

from infradex.alerting.dispatcher import Dispatcher
from infradex.alerting.service import Alerter, AlertSettings
from infradex.catalog import Catalog, load
from infradex.channels.registry import notifiers_for
from infradex.monitor.checks import run_check
from infradex.monitor.service import Monitor
from infradex.settings import Settings
from infradex.store import Database

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "alerting" / "catalog.yaml"
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)  # a Thursday; 13:00 in Amsterdam


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mail:
    to: list[str]
    subject: str
    text: str
    html: str
    headers: EmailMessage

    def link(self, label: str) -> str:
        match = re.search(rf"^{label}: (\S+)$", self.text, re.M)
        assert match, f"no {label} link in:\n{self.text}"
        return match[1]


class Inbox:
    """An SMTP server on 127.0.0.1 that keeps every message it accepts."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        self.controller: Controller | None = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content)
        text = html = ""
        for part in parsed.walk():
            if part.get_content_type() == "text/plain":
                text = part.get_payload(decode=True).decode().replace("\r\n", "\n")
            elif part.get_content_type() == "text/html":
                html = part.get_payload(decode=True).decode()
        self.mails.append(Mail(list(envelope.rcpt_tos), parsed["Subject"], text, html, parsed))
        return "250 OK queued"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def to(self, address: str) -> list[Mail]:
        return [m for m in self.mails if address in m.to]


@pytest.fixture
def inbox() -> AsyncIterator[Inbox]:  # type: ignore[misc]
    box = Inbox()
    box.start()
    yield box
    box.stop()


class Target:
    """An HTTP server whose status per path the test sets (default 200)."""

    def __init__(self) -> None:
        self.status: dict[str, int] = {}
        self.port = 0

    async def handle(self, request: web.Request) -> web.Response:
        return web.Response(status=self.status.get(request.path, 200), text="target")

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    state = Target()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", state.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


def write_org(directory: Path, target: Target, extra: str = "", channels: str = "") -> Path:
    """The fixture organisation with its checks aimed at ``target``; ``channels`` (YAML flow
    list) become the default policy's own channels."""
    text = FIXTURE.read_text(encoding="utf-8")
    if channels:
        text = text.replace("  repeat: 1\n", f"  repeat: 1\n  channels: {channels}\n", 1)
    text = text.replace("__CDN_URL__", target.url("/edge"))
    text = text.replace("__APP_URL__", target.url(""))
    text = text.replace("__SOLO_URL__", target.url("/solo"))
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "catalog.yaml").write_text(text + extra, encoding="utf-8")
    return directory


def load_org(directory: Path) -> Catalog:
    loaded = load(directory)
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


@dataclass
class Rig:
    """The real monitor, alerter and dispatcher, driven by the test's clock."""

    db: Database
    catalog: Catalog
    smtp_url: str
    now: datetime = T0
    window: timedelta = timedelta(seconds=60)
    pagerduty_url: str = "http://127.0.0.1:9/v2/enqueue"
    monitor: Monitor = field(init=False)
    alerter: Alerter = field(init=False)
    dispatcher: Dispatcher = field(init=False)

    def __post_init__(self) -> None:
        settings = Settings(
            catalog=Path("."),
            catalog_is_embedded=False,
            data_dir=Path("."),
            database_url="sqlite://",
            secret_key="x",
            public_read=True,
            smtp_url=self.smtp_url,
            mail_from="infradex@example.org",
            pagerduty_events_url=self.pagerduty_url,
        )
        clock = lambda: self.now  # noqa: E731
        self.monitor = Monitor(self.db, clock=clock)
        self.monitor.set_catalog(self.catalog)
        self.dispatcher = Dispatcher(self.db, notifiers_for(settings), clock=clock)
        self.alerter = Alerter(
            self.db,
            {},
            settings=AlertSettings(base_url="http://infradex.test", window=self.window),
            clock=clock,
            dispatcher=self.dispatcher,
        )
        self.alerter.set_catalog(self.catalog)

    async def run(self, *check_ids: str) -> None:
        """One real probe of each check, recorded at the clock's time."""
        checks = [self.monitor.checks[c] for c in check_ids]
        results = await asyncio.gather(*(run_check(c) for c in checks))
        for check, result in zip(checks, results, strict=True):
            self.monitor.record(check, result, self.now)
        await self.monitor.flush()

    async def turn(self) -> int:
        """One alerting turn, then everything due in the outbox is sent."""
        await self.monitor.refresh_maintenance()  # the running monitor does it every 15 s
        queued = await self.alerter.turn(self.now)
        while await self.dispatcher.run_once(self.now):
            pass
        return queued

    async def advance(self, delta: timedelta) -> None:
        self.now += delta
        await self.turn()
