"""A local HTTP target for probe-agent tests: each path answers 200 (or the status the test
sets), and every hit is counted with the ``X-Probe-Key`` header it carried."""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import AsyncIterator

from aiohttp import web


class Target:
    def __init__(self) -> None:
        self.port = 0
        self.status: dict[str, int] = {}
        self.hits: Counter[str] = Counter()
        self.keys: Counter[str | None] = Counter()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def handle(self, request: web.Request) -> web.StreamResponse:
        name = request.path.strip("/")
        self.hits[name] += 1
        self.keys[request.headers.get("X-Probe-Key")] += 1
        return web.Response(status=self.status.get(name, 200), text=f"hello from {name}")


@contextlib.asynccontextmanager
async def running_target(host: str = "127.0.0.1") -> AsyncIterator[Target]:
    target = Target()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", target.handle)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, host, 0)
    await site.start()
    target.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield target
    finally:
        await runner.cleanup()
