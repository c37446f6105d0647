"""A real HTTP server on a loopback address that records every connection and request, so a
test can assert what reached it (or that nothing did)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    connections: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], seen: Seen, answer: tuple[int, dict[str, str], bytes]
    ) -> None:
        super().__init__(address, _Handler)
        self.seen = seen
        self.answer = answer

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.seen.connections += 1  # counted on accept, before a byte is read
        return True


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        self.server.seen.requests.append(
            {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
        )
        status, headers, payload = self.server.answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_HEAD = _any

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextmanager
def recording_server(
    host: str = "127.0.0.1",
    status: int = 200,
    headers: dict[str, str] | None = None,
    body: bytes = b"ok",
) -> Iterator[tuple[int, Seen]]:
    """``(port, seen)`` of a server answering every request with ``status``/``body``."""
    seen = Seen()
    server = _Server((host, 0), seen, (status, headers or {}, body))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], seen
    finally:
        server.shutdown()
        server.server_close()
