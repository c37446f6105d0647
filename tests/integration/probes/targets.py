"""Real local targets for the probe tests, on 127.0.0.1 and ::1 only.

One background thread runs an asyncio loop with every server: a small raw HTTP/1.1 server
(so that it can also misbehave: answer slowly or never, stream without end, loop redirects,
speak something else), the same behind TLS with several certificates, TCP banner, echo and
silent servers, and an SMTP server that offers STARTTLS. The probes under test run in the
test's own event loop, so a hanging target cannot stall them.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import socket
import ssl
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from infradex.probes import Observation, ProbeRequest, probe_for

Writer = asyncio.StreamWriter
Handler = Callable[["HttpRequest", Writer], Awaitable[None]]

ENDLESS_CHUNK = b"x" * 16384


async def run(url: str, **options: Any) -> Observation:
    """Run the probe for ``url`` once, as the monitor would."""
    return await probe_for(url)(ProbeRequest(url, **options))


class HttpRequest:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


def response(
    status: int,
    body: bytes = b"",
    headers: list[tuple[str, str]] | None = None,
    *,
    head: bool = False,
    reason: str = "Whatever",
) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + (b"" if head else body)


async def _forever() -> None:
    await asyncio.sleep(3600)


async def route(request: HttpRequest, writer: Writer) -> None:
    path = request.path.partition("?")[0]
    head = request.method == "HEAD"
    if path == "/ok":
        body = b"hello from the test server"
        writer.write(response(200, body, [("Content-Type", "text/plain")], head=head))
    elif path.startswith("/status/"):
        writer.write(response(int(path.rsplit("/", 1)[1]), b"status page"))
    elif path == "/slow":
        await asyncio.sleep(5)
        writer.write(response(200, b"too late"))
    elif path == "/never":
        await _forever()
    elif path == "/trickle":  # headers at once, then a byte every 0.5 s
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            await asyncio.sleep(0.5)
            if writer.is_closing():
                return
            writer.write(b".")
    elif path == "/huge":  # 8 MiB with a Content-Length
        size = 8 * 1024 * 1024
        writer.write(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n".encode())
        for _ in range(size // len(ENDLESS_CHUNK)):
            if writer.is_closing():
                return
            writer.write(ENDLESS_CHUNK)
            await writer.drain()
    elif path == "/endless":  # chunked, never ends
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        while not writer.is_closing():
            writer.write(b"%x\r\n%s\r\n" % (len(ENDLESS_CHUNK), ENDLESS_CHUNK))
            await writer.drain()
    elif path == "/endless-close":  # no length, never closes
        writer.write(b"HTTP/1.0 200 OK\r\n\r\n")
        while not writer.is_closing():
            writer.write(ENDLESS_CHUNK)
            await writer.drain()
    elif path == "/chunked":
        writer.write(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Kind: chunked\r\n\r\n"
            b"5\r\nhello\r\n"
            b"1;name=value\r\n \r\n"
            b"A\r\nfrom-chunk\r\n"
            b"0\r\nX-Trailer: yes\r\n\r\n"
        )
    elif path == "/close-delimited":
        writer.write(b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil the end")
    elif path == "/short":  # promises 100 bytes, sends 10 and closes
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789")
    elif path == "/continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        await asyncio.sleep(0.05)
        writer.write(response(201, b"created after continue"))
    elif path == "/gzip":
        writer.write(
            response(200, gzip.compress(b"compressed text"), [("Content-Encoding", "gzip")])
        )
    elif path == "/latin1":
        body = "café".encode("latin-1")
        writer.write(response(200, body, [("Content-Type", "text/plain; charset=ISO-8859-1")]))
    elif path == "/invalid-utf8":
        writer.write(response(200, b"ok \xff\xfe end"))
    elif path == "/cookies":
        writer.write(response(200, b"", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2")]))
    elif path == "/not-http":
        writer.write(b"SSH-2.0-OpenSSH_9.2\r\n")
    elif path == "/bad-length":
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n0123456789")
    elif path == "/close-now":
        pass  # the server closes without a word
    elif path == "/loop":
        writer.write(response(302, headers=[("Location", "/loop")]))
    elif path == "/loop-a":
        writer.write(response(301, headers=[("Location", "/loop-b")]))
    elif path.startswith("/hops/"):  # /hops/N redirects to /hops/N-1 ... /hops/0 answers
        left = int(path.rsplit("/", 1)[1])
        if left:
            writer.write(response(302, headers=[("Location", f"/hops/{left - 1}")]))
        else:
            writer.write(response(200, b"arrived"))
    elif path == "/dir/relative":
        writer.write(response(301, headers=[("Location", "../ok?from=relative")]))
    elif path == "/see-other":
        writer.write(response(303, headers=[("Location", "/echo")]))
    elif path == "/temporary":
        writer.write(response(307, headers=[("Location", "/echo")]))
    elif path == "/echo":
        echo = {
            "method": request.method,
            "path": request.path,
            "headers": request.headers,
            "body": request.body.decode(),
        }
        writer.write(
            response(
                200,
                json.dumps(echo).encode(),
                [("Content-Type", "application/json; charset=utf-8")],
                head=head,
            )
        )
    elif path.startswith("/upstream/") and path.endswith("/api/v2/summary.json"):
        # a provider's Statuspage summary: /upstream/<scenario>/api/v2/summary.json
        scenario = path.split("/")[2]
        body = UPSTREAM_SUMMARIES.get(scenario)
        if body is None:
            writer.write(response(503, b"<html>maintenance</html>"))
        else:
            writer.write(response(200, body, [("Content-Type", "application/json")], head=head))
    else:
        writer.write(response(404, b"no such test page"))
    await writer.drain()


def _summary(indicator: str, description: str, components: list[tuple[str, str]]) -> bytes:
    """A Statuspage ``summary.json`` as the documentation shapes it (only the keys read)."""
    return json.dumps(
        {
            "page": {"id": "y2j98763l443", "name": "Upstream", "url": "https://status.test"},
            "status": {"indicator": indicator, "description": description},
            "components": [
                {"id": f"c{i}", "name": name, "status": status, "group_id": None}
                for i, (name, status) in enumerate(components)
            ],
            "incidents": (
                []
                if indicator == "none"
                else [
                    {"id": "i1", "name": "Elevated <b>errors</b> in   Europe", "impact": indicator}
                ]
            ),
            "scheduled_maintenances": [],
        }
    ).encode()


UPSTREAM_SUMMARIES: dict[str, bytes] = {
    "calm": _summary("none", "All Systems Operational", [("North America", "operational")]),
    "minor": _summary("minor", "Minor Service Outage", [("Europe", "degraded_performance")]),
    "major": _summary(
        "major",
        "Partial System Outage",
        [("North America", "operational"), ("Europe", "major_outage")],
    ),
    "odd": _summary("on fire", "x" * 500, [("Europe", "<script>alert(1)</script>")]),
    "not-json": b"<html>hello</html>",
    "no-status": json.dumps({"page": {}, "components": []}).encode(),
}


class Targets:
    """Every local target, started in a background thread; ``stop()`` ends them."""

    def __init__(self, tls: dict[str, ssl.SSLContext], smtp_tls: ssl.SSLContext) -> None:
        self.loop = asyncio.new_event_loop()
        self.tls_contexts = tls
        self.smtp_tls = smtp_tls
        self.ports: dict[str, int] = {}
        self.servers: list[asyncio.AbstractServer] = []
        self.handlers: set[asyncio.Task[None]] = set()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.call(self._start())

    def call(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(30)

    def url(self, name: str, path: str = "/ok", host: str = "127.0.0.1") -> str:
        scheme = "http" if name in ("http", "http6") else "https"
        shown = f"[{host}]" if ":" in host else host
        return f"{scheme}://{shown}:{self.ports[name]}{path}"

    async def _listen(
        self,
        name: str,
        handler: Callable[[asyncio.StreamReader, Writer], Awaitable[None]],
        host: str = "127.0.0.1",
        tls: ssl.SSLContext | None = None,
    ) -> None:
        async def tracked(reader: asyncio.StreamReader, writer: Writer) -> None:
            task = asyncio.current_task()
            assert task is not None
            self.handlers.add(task)
            try:
                await handler(reader, writer)
            except (OSError, asyncio.IncompleteReadError, ssl.SSLError):
                pass  # the probe went away: fine
            finally:
                self.handlers.discard(task)
                writer.close()

        server = await asyncio.start_server(tracked, host, 0, ssl=tls)
        self.servers.append(server)
        self.ports[name] = server.sockets[0].getsockname()[1]

    async def _start(self) -> None:
        await self._listen("http", self._http)
        await self._listen("http6", self._http, host="::1")
        for name, context in self.tls_contexts.items():
            await self._listen(name, self._http, tls=context)
        await self._listen("banner", self._banner)
        await self._listen("echo", self._echo)
        await self._listen("silent", self._silent)
        await self._listen("smtp", self._smtp)
        await self._listen("smtp-no-tls", self._smtp_without_tls)
        await self._listen("smtp-busy", self._smtp_busy)
        # a port where nothing listens (bound, never listening: nobody else gets it meanwhile)
        self.closed = socket.socket()
        self.closed.bind(("127.0.0.1", 0))
        self.ports["closed"] = self.closed.getsockname()[1]

    async def _http(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        if path == "/loop-b":  # redirects back to /loop-a with an absolute URL
            host = headers["host"]
            scheme = "https" if writer.get_extra_info("ssl_object") else "http"
            writer.write(response(307, headers=[("Location", f"{scheme}://{host}/loop-a")]))
            await writer.drain()
            return
        await route(HttpRequest(method, path, headers, body), writer)

    async def _banner(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        writer.write(b"SSH-2.0-OpenSSH_9.2 infradex-test\r\n")
        await writer.drain()
        await reader.read(100)

    async def _echo(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        line = await reader.readline()
        writer.write(b"you said: " + line)
        await writer.drain()

    async def _silent(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        writer.write(b"partial ")
        await _forever()

    async def _smtp(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        writer.write(b"220 mail.test ESMTP ready\r\n")
        while line := await reader.readline():
            command = line.strip().upper()
            if command.startswith(b"EHLO"):
                writer.write(b"250-mail.test greets you\r\n250-SIZE 1000000\r\n250 STARTTLS\r\n")
            elif command == b"STARTTLS":
                writer.write(b"220 go ahead\r\n")
                await writer.drain()
                await writer.start_tls(self.smtp_tls)
            elif command == b"NOOP":
                writer.write(b"250 2.0.0 OK inside TLS\r\n")
            elif command == b"QUIT":
                writer.write(b"221 bye\r\n")
                await writer.drain()
                return
            else:
                writer.write(b"500 what?\r\n")
            await writer.drain()

    async def _smtp_without_tls(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        writer.write(b"220 mail.test ESMTP ready\r\n")
        await reader.readline()
        writer.write(b"250-mail.test greets you\r\n250 SIZE 1000000\r\n")
        await writer.drain()
        await reader.readline()

    async def _smtp_busy(self, reader: asyncio.StreamReader, writer: Writer) -> None:
        writer.write(b"554 mail.test no service for you\r\n")
        await writer.drain()

    async def _stop(self) -> None:
        for server in self.servers:
            server.close()
        for task in list(self.handlers):
            task.cancel()
        await asyncio.sleep(0.05)

    def stop(self) -> None:
        self.call(self._stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()
        self.closed.close()
