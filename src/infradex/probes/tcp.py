"""``tcp://host:port``: connect; optionally send, expect, and upgrade SMTP with STARTTLS.

With ``request.send`` the probe writes that text once connected; with ``request.expect`` it
reads until the answer contains that text, the peer closes, or ``request.body_limit`` bytes
came (a missing text is a PROTOCOL error that shows what was received). With
``request.starttls`` it first speaks SMTP (220 greeting, ``EHLO``, ``STARTTLS``), upgrades the
connection to TLS, verified like every TLS connection infradex makes, and then sends and
expects inside TLS. Values: ``CONNECTED``, ``IP``, ``RESPONSE_TIME``, ``BODY`` (what was read),
``CERTIFICATE_EXPIRATION`` after STARTTLS; phases ``dns``, ``connect``, ``tls``, ``total``.
"""

from __future__ import annotations

import asyncio
import re
from time import perf_counter

from infradex.probes.base import ErrorKind, Observation, ProbeRequest
from infradex.probes.net import (
    ProbeFailure,
    Step,
    certificate_expiration,
    client_context,
    connect,
    failure,
    host_port,
    show_address,
)

__all__ = ["probe"]

_SMTP_LINE = re.compile(rb"^(\d{3})([ -])(.*?)\r?\n?$", re.DOTALL)


async def _smtp_reply(reader: asyncio.StreamReader) -> tuple[int, list[str]]:
    """One (possibly multi-line) SMTP reply: its code and its lines' text."""
    lines: list[str] = []
    while len(lines) < 100:
        raw = await reader.readline()
        if not raw:
            said = f" after {' '.join(lines)!r}" if lines else ""
            raise ProbeFailure(ErrorKind.PROTOCOL, f"the server closed the connection{said}")
        match = _SMTP_LINE.match(raw)
        if match is None:
            text = raw[:200].decode("utf-8", "replace")
            raise ProbeFailure(
                ErrorKind.PROTOCOL, f"not an SMTP reply ({len(raw)} bytes)", excerpt=text
            )
        lines.append(match[3].decode("utf-8", "replace"))
        if match[2] == b" ":
            return int(match[1]), lines
    raise ProbeFailure(ErrorKind.PROTOCOL, "an SMTP reply of more than 100 lines")


async def _starttls(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    host: str,
    request: ProbeRequest,
    observation: Observation,
    step: Step,
) -> None:
    step.doing = "waiting for the SMTP greeting"
    code, lines = await _smtp_reply(reader)
    observation.details["greeting"] = f"{code} {' '.join(lines)}"
    if code != 220:
        raise ProbeFailure(
            ErrorKind.PROTOCOL, f"the SMTP greeting is {code}, not 220", excerpt=" ".join(lines)
        )
    local = writer.get_extra_info("sockname")[0]
    writer.write(f"EHLO [{'IPv6:' if ':' in local else ''}{local}]\r\n".encode())
    step.doing = "waiting for the answer to EHLO"
    code, lines = await _smtp_reply(reader)
    if code != 250:
        raise ProbeFailure(ErrorKind.PROTOCOL, f"EHLO answered {code} {' '.join(lines)!r}")
    if not any(line.upper().split(" ")[0] == "STARTTLS" for line in lines[1:]):
        raise ProbeFailure(
            ErrorKind.PROTOCOL,
            "the server does not offer STARTTLS (EHLO answered: " + ", ".join(lines[1:]) + ")",
        )
    writer.write(b"STARTTLS\r\n")
    step.doing = "waiting for the answer to STARTTLS"
    code, lines = await _smtp_reply(reader)
    if code != 220:
        raise ProbeFailure(ErrorKind.PROTOCOL, f"STARTTLS answered {code} {' '.join(lines)!r}")
    step.doing = f"the TLS handshake with {host}"
    started = perf_counter()
    context = client_context(request.verify_tls, request.ca_file)
    await writer.start_tls(context, server_hostname=host)
    observation.phases["tls"] = perf_counter() - started
    observation.details["tls_version"] = writer.get_extra_info("ssl_object").version()
    observation.values["CERTIFICATE_EXPIRATION"] = certificate_expiration(writer.transport)


async def _read_expecting(
    reader: asyncio.StreamReader, expect: bytes, limit: int, received: bytearray
) -> bool:
    """Read into ``received`` until it holds ``expect``, the peer closes or ``limit`` bytes."""
    while expect not in received and len(received) < limit:
        chunk = await reader.read(min(65536, limit - len(received)))
        if not chunk:
            return False
        received += chunk
    return expect in received


async def probe(request: ProbeRequest) -> Observation:
    """Connect, optionally upgrade with SMTP STARTTLS, send and expect."""
    observation = Observation()
    values = observation.values
    values["CONNECTED"] = False
    started = perf_counter()
    step = Step("reading the URL")
    received = bytearray()
    writer: asyncio.StreamWriter | None = None
    try:
        host, port = host_port(request.url, None)
        async with asyncio.timeout(request.timeout):
            sock, ip = await connect(
                host, port, request.ip_version, observation.phases, step, request.policy
            )
            values["IP"] = ip
            values["CONNECTED"] = True
            reader, writer = await asyncio.open_connection(sock=sock)
            if request.starttls:
                await _starttls(reader, writer, host, request, observation, step)
            if request.send:
                writer.write(request.send.encode())
            if request.expect is not None:
                step.doing = f"waiting for {request.expect!r} from {show_address(ip, port)}"
                expect = request.expect.encode()
                if not await _read_expecting(reader, expect, request.body_limit, received):
                    raise ProbeFailure(
                        ErrorKind.PROTOCOL,
                        f"expected {request.expect!r} in the answer, got {len(received)} "
                        "bytes without it"
                        if received
                        else f"expected {request.expect!r}, but the peer sent nothing",
                        excerpt=received[:200].decode("utf-8", "replace") if received else None,
                    )
            if request.starttls:
                writer.write(b"QUIT\r\n")
    except Exception as exc:
        kind, message = failure(exc, request, step)
        if isinstance(exc, ProbeFailure) and exc.excerpt is not None:
            observation.details["excerpt"] = exc.excerpt  # admins only (web.audience)
        if received and kind in (ErrorKind.TIMEOUT, ErrorKind.REFUSED):
            # It did answer, just not what we expect; how the conversation ended is secondary.
            ended = (
                f"and nothing more within {float(request.timeout)} s"
                if kind is ErrorKind.TIMEOUT
                else "then the connection was reset"
            )
            kind = ErrorKind.PROTOCOL
            message = (
                f"expected {request.expect!r} in the answer, got {len(received)} bytes "
                f"without it ({ended})"
            )
            observation.details["excerpt"] = received[:200].decode("utf-8", "replace")
        observation.fail(kind, message)
    finally:
        if writer is not None:
            writer.close()
    if request.expect is not None or received:
        values["BODY"] = received.decode("utf-8", "replace")
    total = perf_counter() - started
    observation.phases["total"] = total
    values["RESPONSE_TIME"] = total * 1000.0
    return observation
