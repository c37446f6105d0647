"""The connection layer the probes share: parse ``scheme://host:port``, resolve and connect
(honouring ``ip_version``), TLS client contexts, certificate facts, and the translation of
every foreign exception into the project's :class:`~infradex.probes.base.ErrorKind`::

    ProbeFailure(kind, text)             → kind (PROTOCOL: the peer broke the protocol;
                                           ERROR: the check itself is malformed)
    TimeoutError                         → TIMEOUT   "no answer within 2.0 s while connecting to …"
    ssl.SSLCertVerificationError         → TLS       "TLS certificate verification failed: …"
    ssl.SSLError                         → TLS
    ConnectionRefusedError, reset, EPIPE → REFUSED
    socket.gaierror, a malformed name    → NAME_NOT_RESOLVED
    an address the policy denies         → DENIED (raised before any connection)
    OSError ENETUNREACH, EHOSTUNREACH, … → UNREACHABLE
    any other exception                  → ERROR

Messages keep the foreign reason's text and say what the probe was doing when it failed.
"""

from __future__ import annotations

import asyncio
import calendar
import errno
import functools
import os
import socket
import ssl
from datetime import datetime
from time import perf_counter
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import SplitResult, urlsplit

from infradex.clock import utcnow
from infradex.netpolicy import DEFAULT_POLICY, AddressPolicy
from infradex.probes.base import ErrorKind, ProbeRequest
from infradex.probes.resumption import ResumableContext

if TYPE_CHECKING:
    from cryptography.x509 import Certificate

__all__ = [
    "ProbeFailure",
    "Step",
    "certificate_expiration",
    "certificate_not_after",
    "client_context",
    "connect",
    "failure",
    "host_port",
    "iso",
    "load_certificate",
    "resolve",
    "show_address",
    "split_url",
]

_UNREACHABLE = frozenset(
    {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ENETDOWN, errno.EHOSTDOWN, errno.EADDRNOTAVAIL}
)
_RESET = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError)
_NONBLOCKING_STREAM = socket.SOCK_STREAM | getattr(socket, "SOCK_NONBLOCK", 0)
_FAMILY = {None: socket.AF_UNSPEC, 4: socket.AF_INET, 6: socket.AF_INET6}
_MONTHS = {
    month: number
    for number, month in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}

Address = tuple[str, int] | tuple[str, int, int, int]


class ProbeFailure(Exception):
    """Raised inside a probe to end it with this kind and message."""

    def __init__(self, kind: ErrorKind, message: str, excerpt: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        # what the peer said, for ``details["excerpt"]``: never in the message, which is
        # published (a check aimed at an internal service must not relay its answers)
        self.excerpt = excerpt


class Step:
    """What the probe is doing right now, so that a timeout can say where it stalled."""

    __slots__ = ("doing",)

    def __init__(self, doing: str) -> None:
        self.doing = doing


def failure(exc: BaseException, request: ProbeRequest, step: Step) -> tuple[ErrorKind, str]:
    """The project's error kind for ``exc`` and a message with the real reason's text."""
    if isinstance(exc, ProbeFailure):
        return exc.kind, exc.message
    if isinstance(exc, TimeoutError):
        return ErrorKind.TIMEOUT, f"no answer within {float(request.timeout)} s while {step.doing}"
    if isinstance(exc, ssl.SSLError):  # .reason and .verify_message are set by OpenSSL only
        reason = getattr(exc, "verify_message", None) or getattr(exc, "reason", None) or str(exc)
        if isinstance(exc, ssl.SSLCertVerificationError):
            return ErrorKind.TLS, f"TLS certificate verification failed: {reason}"
        return ErrorKind.TLS, f"TLS failed during {step.doing}: {reason}"
    if isinstance(exc, (ConnectionRefusedError, *_RESET)):
        return ErrorKind.REFUSED, f"{_oserror_text(exc)} while {step.doing}"
    if isinstance(exc, socket.gaierror):
        return ErrorKind.NAME_NOT_RESOLVED, f"{exc.strerror or exc} while {step.doing}"
    if isinstance(exc, UnicodeError):  # the IDNA codec refuses the name before any lookup
        return ErrorKind.NAME_NOT_RESOLVED, f"not a valid host name ({exc}) while {step.doing}"
    if isinstance(exc, OSError):
        kind = ErrorKind.UNREACHABLE if exc.errno in _UNREACHABLE else ErrorKind.ERROR
        return kind, f"{_oserror_text(exc)} while {step.doing}"
    return ErrorKind.ERROR, f"{type(exc).__name__}: {exc} while {step.doing}"


def _oserror_text(exc: OSError) -> str:
    if exc.errno is not None:
        return os.strerror(exc.errno)
    return str(exc) or type(exc).__name__


@functools.lru_cache(maxsize=4096)
def split_url(url: str) -> SplitResult:
    """``urlsplit``, remembered: checks run the same URLs again and again."""
    return urlsplit(url)


def host_port(url: str, default_port: int | None) -> tuple[str, int]:
    """Host and port of ``scheme://host:port``; a :class:`ProbeFailure` (ERROR) that says how
    to write the URL if it has no host, or no port and there is no default."""
    parts = split_url(url)
    try:
        port = parts.port or default_port
    except ValueError as exc:
        raise ProbeFailure(ErrorKind.ERROR, f"{url!r} has an invalid port: {exc}") from None
    host = parts.hostname
    if not host or port is None:
        example = f"{parts.scheme}://db.example.org:5432"
        raise ProbeFailure(ErrorKind.ERROR, f"{url!r} needs a host and a port, e.g. {example}")
    return host, port


def show_address(ip: str, port: int) -> str:
    """``ip:port``, with brackets around an IPv6 address."""
    return f"[{ip}]:{port}" if ":" in ip else f"{ip}:{port}"


@functools.lru_cache(maxsize=4096)
def _literal_family(host: str) -> int | None:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return family
    return None


def _permitted(
    found: list[tuple[int, Address]], policy: AddressPolicy
) -> list[tuple[int, Address]]:
    """The addresses the policy allows; a DENIED failure if it allows none of them. The
    caller connects to exactly these socket addresses and never resolves again, so a name
    whose answer changes between the check and the connection (DNS rebinding) gains
    nothing."""
    allowed = [item for item in found if policy.denied_by(item[1][0]) is None]
    if not allowed:
        refusal = policy.refusal(found[0][1][0])
        raise ProbeFailure(ErrorKind.DENIED, refusal or "target address denied")
    return allowed


async def resolve(
    host: str,
    port: int,
    ip_version: int | None,
    phases: dict[str, float],
    step: Step,
    policy: AddressPolicy = DEFAULT_POLICY,
) -> list[tuple[int, Address]]:
    """``(family, socket address)`` for each address of ``host`` that ``policy`` allows, in
    the resolver's order; a literal address is used as it is. Adds the lookup's time to
    ``phases["dns"]``."""
    family = _literal_family(host)
    if family is not None:
        if ip_version is not None and _FAMILY.get(ip_version) != family:
            version = 4 if family == socket.AF_INET else 6
            raise ProbeFailure(
                ErrorKind.NAME_NOT_RESOLVED,
                f"{host} is an IPv{version} address but the check asks for IPv{ip_version}",
            )
        return _permitted([(family, (host, port))], policy)
    if ip_version not in _FAMILY:
        raise ProbeFailure(ErrorKind.ERROR, f"ip_version is 4 or 6 (or unset), not {ip_version!r}")
    step.doing = f"resolving {host}"
    started = perf_counter()
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, family=_FAMILY[ip_version], type=socket.SOCK_STREAM
    )
    phases["dns"] = phases.get("dns", 0.0) + perf_counter() - started
    return _permitted([(info[0], cast(Address, info[4])) for info in infos], policy)


async def connect(
    host: str,
    port: int,
    ip_version: int | None,
    phases: dict[str, float],
    step: Step,
    policy: AddressPolicy = DEFAULT_POLICY,
) -> tuple[socket.socket, str]:
    """A connected non-blocking socket to ``host:port`` and the peer's address.

    The addresses ``policy`` allows are tried in the resolver's order until one connects;
    the last failure is raised. Adds to ``phases["dns"]`` and ``phases["connect"]``.
    """
    loop = asyncio.get_running_loop()
    last: OSError | None = None
    for family, address in await resolve(host, port, ip_version, phases, step, policy):
        step.doing = f"connecting to {show_address(address[0], port)}"
        started = perf_counter()
        sock = socket.socket(family, _NONBLOCKING_STREAM)  # one system call, not two
        try:
            if not _NONBLOCKING_STREAM & ~socket.SOCK_STREAM:  # no SOCK_NONBLOCK (not Linux)
                sock.setblocking(False)
            await loop.sock_connect(sock, address)
        except OSError as exc:
            sock.close()
            last = exc
            continue
        except BaseException:
            sock.close()
            raise
        phases["connect"] = phases.get("connect", 0.0) + perf_counter() - started
        return sock, address[0]
    assert last is not None  # getaddrinfo answers with at least one address or raises
    raise last


@functools.lru_cache(maxsize=64)
def _context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    # what ssl.create_default_context does, on a context that can offer a stored session
    context = ResumableContext(ssl.PROTOCOL_TLS_CLIENT)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif ca_file:
        context.load_verify_locations(ca_file)
    else:
        context.load_default_certs(ssl.Purpose.SERVER_AUTH)
    return context


def client_context(verify: bool, ca_file: str | None) -> ssl.SSLContext:
    """A TLS client context: verifying the chain and the host name against the system's CAs
    (or only ``ca_file``'s), or verifying nothing. Built once per process and reused: one with
    the system's CAs costs about 18 ms of CPU to build, a hundred plain-HTTP checks. A
    ``ca_file`` is read once: restart to pick up a changed bundle. A stored TLS session is
    offered only where the caller sets ``resumption.OFFERED_SESSION`` (the https probe)."""
    try:
        return _context(verify, ca_file if verify else None)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ProbeFailure(
            ErrorKind.ERROR,
            f"cannot use ca_file {ca_file!r}: {reason}; point it at a PEM file of CA certificates",
        ) from None


def load_certificate(der: bytes) -> Certificate:
    """Parse a DER certificate (needed when the handshake did not verify it, so ``ssl`` does
    not decode it for us)."""
    from cryptography import x509

    return x509.load_der_x509_certificate(der)


def _cert_time(text: str) -> float:
    """``'Jun  1 12:00:00 2026 GMT'`` (OpenSSL's notAfter) → POSIX seconds."""
    month, day, clock, year = text.split()[:4]
    hour, minute, second = clock.split(":")
    return float(
        calendar.timegm(
            (int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), 0, 0, 0)
        )
    )


def certificate_not_after(transport: asyncio.BaseTransport) -> float | None:
    """The notAfter (POSIX seconds) of the certificate the peer of this TLS transport showed;
    None when it showed none."""
    # asyncio decoded the certificate already (empty when it was not verified)
    decoded: dict[str, Any] = transport.get_extra_info("peercert") or {}
    if "notAfter" in decoded:
        return _cert_time(decoded["notAfter"])
    der = transport.get_extra_info("ssl_object").getpeercert(binary_form=True)
    if not der:
        return None
    return load_certificate(der).not_valid_after_utc.timestamp()


def certificate_expiration(transport: asyncio.BaseTransport) -> float | None:
    """Seconds until the notAfter of the certificate the peer of this TLS transport showed
    (negative once expired)."""
    not_after = certificate_not_after(transport)
    return None if not_after is None else not_after - utcnow().timestamp()


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC, to the second."""
    return moment.isoformat(timespec="seconds")
