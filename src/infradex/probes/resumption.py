"""TLS session resumption between checks of the same target, for the https probe.

A full TLS handshake costs a check most of its CPU (docs/benchmarks.md, "Probe cost"): the
client verifies the certificate chain and the server's signature. A resumed handshake (a TLS 1.3
ticket or a TLS 1.2 session) skips both, and the server does not send its certificate again.
So the certificate facts of a resumed check are those of the full handshake that created the
session, and the rule that keeps them true is:

* The session cache keeps, per target, the last session and the facts (the certificate's
  notAfter, when it was seen) of the last **full** handshake.
* A check offers the stored session only when those facts are younger than
  :data:`FULL_HANDSHAKE_EVERY` (an hour) and the stored certificate expires later than the
  request's ``certificate_horizon`` (30 days by default) from now. Otherwise it does a full
  handshake, which verifies the chain and the host name again and refreshes the facts. A
  certificate the server replaced is therefore seen within the hour, and every day of a
  certificate's last 30 is judged on a fresh handshake.
* A target is the host, port, server name (SNI), ``verify_tls`` and ``ca_file``: a session
  never crosses a trust setting. Sessions also belong to the :class:`ssl.SSLContext` that made
  them (OpenSSL refuses another), and one is only offered through that same context.
* A failed handshake drops the target's session. The cache holds at most
  :data:`MAX_TARGETS` targets, least recently used first out.

TLS 1.3 resumption still does an X25519 exchange (``psk_dhe_ke``), so forward secrecy stays.

asyncio (and uvloop) create the connection's ``SSLObject`` with ``context.wrap_bio(...)`` and
have no way to pass a session; :class:`ResumableContext` takes the session to offer from
:data:`OFFERED_SESSION`, a context variable the probe sets around ``create_connection``.
"""

from __future__ import annotations

import ssl
from collections import OrderedDict
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta

from infradex.clock import utcnow

__all__ = [
    "FULL_HANDSHAKE_EVERY",
    "MAX_TARGETS",
    "OFFERED_SESSION",
    "SESSIONS",
    "CertificateFacts",
    "ResumableContext",
    "SessionCache",
    "SessionKey",
]

FULL_HANDSHAKE_EVERY = timedelta(hours=1)
MAX_TARGETS = 4096

#: the session the next ``wrap_bio`` in this task offers (None: a full handshake)
OFFERED_SESSION: ContextVar[ssl.SSLSession | None] = ContextVar("offered_session", default=None)


class ResumableContext(ssl.SSLContext):
    """An :class:`ssl.SSLContext` whose ``wrap_bio`` offers :data:`OFFERED_SESSION`."""

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        if session is None and not server_side:
            session = OFFERED_SESSION.get()
        return super().wrap_bio(incoming, outgoing, server_side, server_hostname, session)


@dataclass(frozen=True, slots=True)
class SessionKey:
    host: str
    port: int
    server_hostname: str
    verify: bool
    ca_file: str | None


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    """What the last full handshake with a target showed."""

    not_after: float | None  # POSIX seconds; None when the server showed no certificate
    seen_at: datetime  # when that handshake happened


@dataclass(frozen=True, slots=True)
class _Stored:
    context: ssl.SSLContext
    session: ssl.SSLSession
    facts: CertificateFacts


class SessionCache:
    """The sessions and certificate facts of recent targets (one per process: :data:`SESSIONS`).

    ``now`` is the clock the hour is measured with; tests pass their own."""

    def __init__(self, capacity: int = MAX_TARGETS, now: Callable[[], datetime] = utcnow) -> None:
        self.capacity = capacity
        self.now = now
        self._stored: OrderedDict[SessionKey, _Stored] = OrderedDict()

    def __len__(self) -> int:
        return len(self._stored)

    def offer(
        self, key: SessionKey, context: ssl.SSLContext, horizon: float
    ) -> tuple[ssl.SSLSession, CertificateFacts] | None:
        """The session to offer and the facts it stands for, or None for a full handshake
        (and the stale entry is dropped)."""
        stored = self._stored.get(key)
        if stored is None:
            return None
        now = self.now()
        facts = stored.facts
        if (
            stored.context is not context
            or now - facts.seen_at >= FULL_HANDSHAKE_EVERY
            or facts.not_after is None
            or facts.not_after - now.timestamp() <= horizon
        ):
            del self._stored[key]
            return None
        self._stored.move_to_end(key)
        return stored.session, facts

    def keep(
        self,
        key: SessionKey,
        context: ssl.SSLContext,
        ssl_object: ssl.SSLObject,
        facts: CertificateFacts,
    ) -> None:
        """Store the session of a full handshake after the answer was read (a TLS 1.3 ticket
        comes after the handshake), if the server gave one that can be resumed."""
        if self.capacity <= 0:
            return
        session = ssl_object.session
        if session is None or not (session.has_ticket or ssl_object.session_reused):
            self._stored.pop(key, None)
            return
        self._stored[key] = _Stored(context, session, facts)
        self._stored.move_to_end(key)
        while len(self._stored) > self.capacity:
            self._stored.popitem(last=False)

    def forget(self, key: SessionKey) -> None:
        self._stored.pop(key, None)

    def clear(self) -> None:
        self._stored.clear()


#: the process's session cache, shared by every https check
SESSIONS = SessionCache()
