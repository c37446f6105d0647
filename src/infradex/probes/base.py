"""What every probe shares: the request it is given, the observation it returns, the error
kinds foreign failures are translated into, and the shape of a probe (``registry`` picks one by
URL scheme).

A probe only observes. It never judges (conditions are judged by the monitor against
``Observation.values``), never stores and never knows about incidents. It must not raise for
anything the target does: every failure becomes an ``Observation`` with an ``error_kind`` and
the real reason's text.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from infradex.netpolicy import DEFAULT_POLICY, AddressPolicy

__all__ = [
    "DEFAULT_BODY_LIMIT",
    "DEFAULT_CERTIFICATE_HORIZON",
    "ErrorKind",
    "Observation",
    "Probe",
    "ProbeRequest",
]

DEFAULT_BODY_LIMIT = 1024 * 1024  # bytes of a response body a probe reads at most
# an https check does a full TLS handshake (fresh certificate facts) once the certificate it
# saw last expires within this many seconds (probes/resumption.py)
DEFAULT_CERTIFICATE_HORIZON = 30 * 86400.0


class ErrorKind(StrEnum):
    """The project's own failure kinds; the message keeps the foreign reason's text."""

    TIMEOUT = "timeout"  # no answer within the check's timeout
    REFUSED = "refused"  # connection refused or reset
    NAME_NOT_RESOLVED = "name_not_resolved"  # the host name has no address
    TLS = "tls"  # handshake failed, certificate invalid, expired or for another host
    PROTOCOL = "protocol"  # the peer answered, but not in the protocol we speak
    UNREACHABLE = "unreachable"  # no route, network down
    CONDITION = "condition"  # the probe worked; a condition did not hold (set by the monitor)
    DENIED = "denied"  # the address policy refuses the target; nothing was sent to it
    ERROR = "error"  # anything else; the message says what


@dataclass(frozen=True, slots=True)
class ProbeRequest:
    """Everything a probe needs to run once. Built by the monitor from a catalog check."""

    url: str
    timeout: float = 10.0  # seconds, for the whole probe
    method: str = "GET"
    headers: tuple[tuple[str, str], ...] = ()
    body: str | None = None
    follow_redirects: bool = True
    max_redirects: int = 10
    verify_tls: bool = True
    ip_version: int | None = None  # 4 or 6 to force one family
    body_limit: int = DEFAULT_BODY_LIMIT
    send: str | None = None  # tcp: text sent after connecting (after STARTTLS if any)
    expect: str | None = None  # tcp: text the peer's answer must contain
    starttls: bool = False  # tcp: upgrade with SMTP STARTTLS before send/expect
    ca_file: str | None = None  # trust these CAs instead of the system's (tests, private CAs)
    # https: resume TLS sessions only while the certificate last seen expires later than this
    # (seconds); a check warning earlier than 30 days before expiry sets its own horizon
    certificate_horizon: float = DEFAULT_CERTIFICATE_HORIZON
    # which addresses may be connected to, checked after resolution on every hop
    policy: AddressPolicy = DEFAULT_POLICY


@dataclass(slots=True)
class Observation:
    """What one probe run saw.

    ``values`` holds placeholder values for the condition language (``STATUS``,
    ``RESPONSE_TIME`` in ms, ``BODY``, ``HEADER:<lower-case name>``, ``CONNECTED``, ``IP``,
    ``CERTIFICATE_EXPIRATION`` in seconds, ``DNS_RCODE``, ``DNS_ANSWER``). ``phases`` holds
    seconds per phase (``dns``, ``connect``, ``tls``, ``processing`` (request sent to first
    byte), ``transfer``, ``total``); ``details`` anything else worth showing (final URL,
    redirects, TLS version, certificate subject).
    """

    values: dict[str, Any] = field(default_factory=dict)
    phases: dict[str, float] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)
    error_kind: ErrorKind | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        """The probe itself worked (conditions are judged separately)."""
        return self.error_kind is None

    def fail(self, kind: ErrorKind, message: str) -> Observation:
        self.error_kind = kind
        self.error = message
        return self


class Probe(Protocol):
    """One protocol. ``run`` never raises for the target's behaviour and honours
    ``request.timeout`` itself (the monitor adds a safety margin around it)."""

    def __call__(self, request: ProbeRequest) -> Awaitable[Observation]: ...
