"""The HTTP server's edge: a client must finish sending a request's headers within a few
seconds, or its connection is closed.

uvicorn bounds only the idle time between requests (``timeout_keep_alive``, started after a
response); a client that opens a connection and sends its headers a byte at a time (slowloris)
kept the connection open for as long as it liked: measured, still open after 25 s. This
protocol starts a timer when the connection opens and after every response, and closes the
connection if no complete request head has arrived when it fires.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["protocol_with_header_timeout"]


class _HeaderTimeout(H11Protocol):
    header_timeout = 5.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._arm()

    def _arm(self) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()  # type: ignore[union-attr]
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        waiting_for_a_head = self.cycle is None or self.cycle.response_complete
        if waiting_for_a_head and not self.transport.is_closing():
            self.transport.close()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        if getattr(self, "_header_timer", None) is not None:
            self._header_timer.cancel()  # type: ignore[union-attr]
            self._header_timer = None
        super().connection_lost(exc)


def protocol_with_header_timeout(seconds: float) -> Any:
    """uvicorn's h11 protocol class, dropping clients slower than ``seconds`` to send a
    request head (pass as ``uvicorn.run(http=...)``)."""
    return type("HeaderTimeoutH11Protocol", (_HeaderTimeout,), {"header_timeout": seconds})
