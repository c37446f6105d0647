"""The heartbeat calls its URL while alerting runs, and says when a call fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from infradex.alerting.heartbeat import Heartbeat


class Switch:
    """A dead man's switch: counts pings; answers 500 when told to."""

    def __init__(self) -> None:
        self.pings = 0
        self.status = 200
        self.port = 0

    async def ping(self, request: web.Request) -> web.Response:
        self.pings += 1
        return web.Response(status=self.status, text="OK")


@pytest.fixture
async def switch() -> AsyncIterator[Switch]:
    state = Switch()
    app = web.Application()
    app.router.add_get("/ping/abc", state.ping)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


async def test_beats_on_schedule_and_reports_failures(switch: Switch) -> None:
    heartbeat = Heartbeat(f"http://127.0.0.1:{switch.port}/ping/abc", every=0.05)
    heartbeat.start()
    # a generous deadline: on a loaded machine three 50 ms beats can take seconds
    deadline = asyncio.get_running_loop().time() + 20
    try:
        while switch.pings < 3 and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.02)
    finally:
        await heartbeat.stop()
    assert heartbeat.beats >= 3 and heartbeat.failures == 0
    # a beat stopped after the switch counted it, before it returned, is the only difference
    assert switch.pings - heartbeat.beats in (0, 1)
    switch.status = 500
    assert not await heartbeat.beat()
    assert heartbeat.failures == 1 and heartbeat.last_error == "HTTP 500"
    gone = Heartbeat("http://127.0.0.1:9/ping")
    assert not await gone.beat()
    assert gone.last_error and "refused" in gone.last_error.lower()
