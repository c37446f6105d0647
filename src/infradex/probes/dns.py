"""``dns://server[:port]/name?type=A``: one query, straight to that server.

The query goes over UDP and is repeated over TCP when the answer is truncated. The record type
defaults to A. ``dns:///name`` (no server) asks the system's resolver instead (the servers in
``/etc/resolv.conf``, no search domains).

An answer is an answer whatever its rcode: NXDOMAIN, SERVFAIL or REFUSED from the server are
facts for the conditions (``[DNS_RCODE] == NOERROR``), not probe errors. Errors are reserved
for no answer: TIMEOUT, REFUSED (nothing listens: ICMP port unreachable), PROTOCOL (the reply
is not DNS or does not match the query). Queries go out from a connected UDP socket, so a
closed port is reported at once instead of after the timeout.

Values: ``DNS_RCODE`` ("NOERROR", "NXDOMAIN", …), ``DNS_ANSWER`` (the text of each answer
record of the asked type, e.g. ``["192.0.2.1"]``), ``RESPONSE_TIME`` (ms), ``CONNECTED`` (an
answer came), ``IP`` (the server asked). Details: ``answer`` (the answer section as text,
CNAMEs included), ``flags``, ``transport`` ("udp" or "tcp"), ``server``. Phases: ``dns`` (the
query), ``total``.
"""

from __future__ import annotations

import asyncio
import functools
import socket
from time import perf_counter
from urllib.parse import parse_qs, unquote

import dns.asyncbackend
import dns.asyncquery
import dns.asyncresolver
import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.rcode
import dns.rdatatype
import dns.resolver

from infradex.probes.base import ErrorKind, Observation, ProbeRequest
from infradex.probes.net import ProbeFailure, Step, failure, resolve, show_address, split_url

__all__ = ["probe"]


def _parse(url: str) -> tuple[str | None, int, dns.name.Name, dns.rdatatype.RdataType]:
    parts = split_url(url)
    example = "write e.g. dns://192.0.2.53/www.example.org?type=AAAA or dns:///www.example.org"
    try:
        port = parts.port or 53
    except ValueError as exc:
        raise ProbeFailure(ErrorKind.ERROR, f"{url!r} has an invalid port: {exc}") from None
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ProbeFailure(ErrorKind.ERROR, f"{url!r} names no record to ask for; {example}")
    kinds = parse_qs(parts.query).get("type", ["A"])
    try:
        rdtype = dns.rdatatype.from_text(kinds[-1].upper())
        qname = dns.name.from_text(name)
    except dns.exception.DNSException as exc:
        raise ProbeFailure(ErrorKind.ERROR, f"{url!r}: {exc}; {example}") from None
    return parts.hostname or None, port, qname, rdtype


@functools.cache
def _system_resolver() -> dns.asyncresolver.Resolver:
    return dns.asyncresolver.Resolver()  # reads /etc/resolv.conf once per process


def _record(observation: Observation, response: dns.message.Message, rdtype: int) -> None:
    values = observation.values
    values["CONNECTED"] = True
    values["DNS_RCODE"] = dns.rcode.to_text(response.rcode())
    values["DNS_ANSWER"] = [
        rdata.to_text() for rrset in response.answer if rrset.rdtype == rdtype for rdata in rrset
    ]
    observation.details["answer"] = [
        line for rrset in response.answer for line in rrset.to_text().splitlines()
    ]
    observation.details["flags"] = dns.flags.to_text(response.flags)


async def _ask_server(
    server: str,
    port: int,
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    request: ProbeRequest,
    observation: Observation,
    step: Step,
) -> None:
    addresses = await resolve(
        server, port, request.ip_version, observation.phases, step, request.policy
    )
    ip = addresses[0][1][0]
    observation.values["IP"] = ip
    observation.details["server"] = show_address(ip, port)
    step.doing = (
        f"waiting for {show_address(ip, port)} to answer {qname} {dns.rdatatype.to_text(rdtype)}"
    )
    query = dns.message.make_query(qname, rdtype)
    started = perf_counter()
    # A connected UDP socket: the kernel reports "port unreachable" as a refusal (dnspython's
    # own socket is unconnected and would wait for the timeout) and drops foreign datagrams.
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    backend = dns.asyncbackend.get_default_backend()
    udp = await backend.make_socket(  # type: ignore[no-untyped-call]
        family, socket.SOCK_DGRAM, 0, None, (ip, port)
    )
    try:
        response, used_tcp = await dns.asyncquery.udp_with_fallback(
            query, ip, timeout=request.timeout, port=port, udp_sock=udp
        )
    finally:
        await udp.close()
    observation.phases["dns"] = perf_counter() - started
    observation.details["transport"] = "tcp" if used_tcp else "udp"
    _record(observation, response, rdtype)


async def _ask_system(
    qname: dns.name.Name,
    rdtype: dns.rdatatype.RdataType,
    request: ProbeRequest,
    observation: Observation,
    step: Step,
) -> None:
    step.doing = f"asking the system's resolver for {qname} {dns.rdatatype.to_text(rdtype)}"
    started = perf_counter()
    try:
        answer = await _system_resolver().resolve(
            qname, rdtype, raise_on_no_answer=False, lifetime=request.timeout, search=False
        )
    except dns.resolver.NXDOMAIN as exc:
        observation.values.update(CONNECTED=True, DNS_RCODE="NXDOMAIN", DNS_ANSWER=[])
        responses = exc.responses()  # type: ignore[no-untyped-call]
        if responses:
            _record(observation, next(iter(responses.values())), rdtype)
    else:
        observation.values["IP"] = answer.nameserver
        observation.details["server"] = show_address(str(answer.nameserver), answer.port or 53)
        _record(observation, answer.response, rdtype)
    finally:
        observation.phases["dns"] = perf_counter() - started


async def probe(request: ProbeRequest) -> Observation:
    """Ask one DNS question; the rcode and the answer records are the facts."""
    observation = Observation()
    observation.values["CONNECTED"] = False
    started = perf_counter()
    step = Step("reading the URL")
    try:
        server, port, qname, rdtype = _parse(request.url)
        async with asyncio.timeout(request.timeout):
            if server:
                await _ask_server(server, port, qname, rdtype, request, observation, step)
            else:
                await _ask_system(qname, rdtype, request, observation, step)
    except dns.exception.Timeout:
        observation.fail(*failure(TimeoutError(), request, step))
    except dns.resolver.NoNameservers as exc:
        observation.fail(ErrorKind.REFUSED, f"no name server answered: {exc}")
    except dns.exception.DNSException as exc:
        observation.fail(ErrorKind.PROTOCOL, f"not a usable DNS answer while {step.doing}: {exc}")
    except Exception as exc:
        observation.fail(*failure(exc, request, step))
    total = perf_counter() - started
    observation.phases["total"] = total
    observation.values["RESPONSE_TIME"] = total * 1000.0
    return observation
