"""``http://`` and ``https://``: one request (plus redirects) on a fresh connection each.

A small HTTP/1.1 client on an asyncio protocol, not aiohttp: on a loopback target it costs
about half of aiohttp's CPU per check (``bench/probe_cost.py``, docs/benchmarks.md, "Probe cost").
It sends ``Connection: close`` and never reuses a connection, so every check measures a whole
connection: ``dns`` (skipped for an address), ``connect``, ``tls``, ``processing`` (request sent
→ first byte of the answer), ``transfer`` (first byte → end of the body read), ``total``, in
seconds; with redirects each phase is the sum over the hops. Over TLS it resumes the session
of the previous check of the same target when ``resumption`` allows it (a full handshake at
least hourly and in the certificate's last 30 days), and reports the certificate facts of
the full handshake behind the session.

Responses: status line and headers (64 KiB at most), bodies by Content-Length, chunked
transfer coding or until the server closes; none for HEAD, 1xx, 204 and 304; interim 1xx
answers are skipped. At most ``request.body_limit`` bytes of body are read, then the
connection is dropped and ``details["body_truncated"]`` is true, so an endless answer costs
no more than a large one. gzip/deflate bodies (if the check asks for them with
Accept-Encoding) are decompressed, up to the same limit.

Redirects (301, 302, 303, 307, 308) are followed when ``request.follow_redirects``, up to
``request.max_redirects``; a relative Location is resolved against the URL that sent it; 303
(and 301/302 after a POST) continue with GET and no body; Authorization and Cookie headers
are dropped when the host changes. A loop (a URL seen before) or too many redirects is a
PROTOCOL error listing the chain.

Values: ``STATUS``, ``RESPONSE_TIME`` (ms), ``BODY`` (decoded by the charset the response
names, else UTF-8, undecodable bytes replaced), ``HEADER:<lower-case name>`` for every header
(repeated headers joined with ", "), ``CONNECTED``, ``IP`` and, for https,
``CERTIFICATE_EXPIRATION``. Details: ``final_url``, ``redirects``, ``http_version``,
``tls_version``, ``tls_resumed``, ``certificate_seen_at`` (resumed: when the facts were seen),
``body_truncated``, ``body_bytes``.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import re
import socket
import ssl
import zlib
from dataclasses import dataclass
from time import perf_counter
from typing import Any, cast
from urllib.parse import quote, unquote, urljoin

from infradex.probes.base import ErrorKind, Observation, ProbeRequest
from infradex.probes.net import (
    ProbeFailure,
    Step,
    certificate_not_after,
    client_context,
    connect,
    failure,
    iso,
    split_url,
)
from infradex.probes.resumption import OFFERED_SESSION, SESSIONS, CertificateFacts, SessionKey

__all__ = ["probe"]

USER_AGENT = "infradex-probe"
MAX_HEAD = 64 * 1024  # bytes of status line and headers
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_NO_BODY = frozenset({204, 304})
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
_CHARSET = re.compile(r"charset\s*=\s*\"?([\w.:-]+)", re.IGNORECASE)
_SAFE_PATH = "/?&=;:@!$'()*+,~%-._#[]"
_PRIVATE = frozenset({"authorization", "cookie", "proxy-authorization"})

# how the body ends
_NONE, _LENGTH, _CHUNKED, _CLOSE = range(4)
# where the chunked decoder is
_SIZE_LINE, _DATA, _DATA_END = range(3)


@dataclass(frozen=True, slots=True)
class _Target:
    url: str
    tls: bool
    host: str
    port: int
    path: str  # path and query, percent-encoded
    host_header: str
    authorization: str | None  # from user:password@ in the URL
    shown: str  # the URL without its userinfo: what messages and details say


def _without_userinfo(url: str) -> str:
    scheme, _, rest = url.partition("://")
    authority, slash, path = rest.partition("/")
    if "@" not in authority:
        return url
    return f"{scheme}://{authority.rpartition('@')[2]}{slash}{path}"


@functools.lru_cache(maxsize=4096)
def _target(url: str) -> _Target:
    parts = split_url(url)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"{_without_userinfo(url)!r} is not an http:// or https:// URL")
    host = parts.hostname
    if not host:
        raise ValueError(
            f"{_without_userinfo(url)!r} has no host; write e.g. https://www.example.org/"
        )
    default = 443 if scheme == "https" else 80
    port = parts.port or default  # may raise ValueError for a bad port
    path = quote(parts.path or "/", safe=_SAFE_PATH)
    if parts.query:
        path += "?" + quote(parts.query, safe=_SAFE_PATH)
    try:
        name = f"[{host}]" if ":" in host else host.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise ValueError(f"{_without_userinfo(url)!r} has an invalid host name: {exc}") from None
    authorization = None
    if parts.username is not None:
        secret = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
        authorization = "Basic " + base64.b64encode(secret).decode("ascii")
    return _Target(
        url,
        scheme == "https",
        host,
        port,
        path,
        name if port == default else f"{name}:{port}",
        authorization,
        _without_userinfo(url),
    )


@functools.lru_cache(maxsize=1024)
def _payload(
    target: _Target, method: str, headers: tuple[tuple[str, str], ...], body: str | None
) -> bytes:
    """The request's bytes: request line, headers (the check's own replace the defaults of
    the same name), and the body."""
    if not _TOKEN.fullmatch(method):
        raise ValueError(f"{method!r} is not an HTTP method")
    data = body.encode() if body is not None else b""
    given = {name.lower() for name, _ in headers}
    lines = [f"{method} {target.path} HTTP/1.1"]
    defaults = [("Host", target.host_header), ("User-Agent", USER_AGENT), ("Accept", "*/*")]
    if target.authorization:
        defaults.append(("Authorization", target.authorization))
    lines += [f"{name}: {value}" for name, value in defaults if name.lower() not in given]
    for name, value in headers:
        if name.lower() in ("connection", "content-length", "transfer-encoding"):
            continue  # this client decides these
        lines.append(f"{name}: {value}")
    lines.append("Connection: close")
    if data or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(data)}")
    if any("\r" in line or "\n" in line for line in lines):
        raise ValueError("a header name or value contains a line break")
    return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + data


class _Response(asyncio.Protocol):
    """Reads one response into memory. Over TLS it is the connection's protocol: it writes
    the request once the handshake is done and wakes ``waiter`` when the response is in. Over
    plain TCP the probe feeds it what it reads from the socket itself."""

    def __init__(self, payload: bytes, head_only: bool, limit: int) -> None:
        self.payload = payload
        self.head_only = head_only
        self.limit = limit
        self.finished = False
        self.waiter: asyncio.Future[None] | None = None
        self.transport: asyncio.Transport | None = None
        self.error: Exception | None = None
        self.sent = self.first = self.ended = 0.0
        self.buffer = bytearray()
        self.status = 0  # 0 until the status line and headers are in
        self.version = ""
        self.headers: list[tuple[str, str]] = []
        self.body = bytearray()
        self.truncated = False
        self.mode = _NONE
        self.remaining = 0  # body bytes still due (Content-Length) or of the current chunk
        self.chunk_state = _SIZE_LINE
        self.received = 0

    # asyncio calls these ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # uvloop's are not subclasses
        self.transport.write(self.payload)
        self.sent = perf_counter()

    def data_received(self, data: bytes) -> None:
        if self.finished:
            return
        if not self.received:
            self.first = perf_counter()
        self.received += len(data)
        try:
            if self.status:
                self._body(data)
            else:
                self.buffer += data
                self._head()
        except ProbeFailure as exc:
            self._finish(exc)

    def eof_received(self) -> bool | None:
        return None  # let the transport close; connection_lost decides what it means

    def connection_lost(self, exc: Exception | None) -> None:
        if self.finished:
            return
        if self.status and self.mode == _CLOSE and exc is None:
            self._finish()
        elif exc is not None:
            self._finish(exc)
        elif not self.received:
            self._finish(
                ProbeFailure(
                    ErrorKind.PROTOCOL, "the server closed the connection without answering"
                )
            )
        elif not self.status:
            self._finish(self._protocol("the server closed the connection inside the headers"))
        else:
            expected = (
                f" of {len(self.body) + self.remaining}" if self.mode == _LENGTH else " (chunked)"
            )
            self._finish(
                ProbeFailure(
                    ErrorKind.PROTOCOL,
                    f"the server closed the connection after {len(self.body)}{expected} body bytes",
                )
            )

    # parsing ------------------------------------------------------------------------------
    def _protocol(self, what: str) -> ProbeFailure:
        start = bytes(self.buffer[:80]).decode("latin-1")
        return ProbeFailure(ErrorKind.PROTOCOL, f"{what}; the answer began with {start!r}")

    def _head(self) -> None:
        buffer = self.buffer
        while True:
            end = _HEAD_END.search(buffer)
            if end is None:
                if len(buffer) > MAX_HEAD:
                    raise self._protocol(f"more than {MAX_HEAD // 1024} KiB of response headers")
                if len(buffer) >= 5 and not buffer.startswith(b"HTTP/"):
                    raise self._protocol("the server did not answer in HTTP")
                return
            lines = buffer[: end.start()].decode("latin-1").split("\n")
            status_line = lines[0].rstrip("\r")
            version, _, rest = status_line.partition(" ")
            code = rest[:3]
            if not version.startswith("HTTP/") or not code.isdigit() or rest[3:4] not in ("", " "):
                raise self._protocol("the server did not answer in HTTP")
            del buffer[: end.end()]
            status = int(code)
            if 100 <= status < 200 and status != 101:
                continue  # an interim answer (100 Continue, 103 Early Hints): the real one follows
            headers = self.headers
            length: str | None = None
            chunked = False
            for line in lines[1:]:
                name, colon, value = line.partition(":")
                if not colon or not name or name[-1] in " \t":
                    raise self._protocol(f"malformed header line {line.strip()!r}")
                name = name.lower()
                value = value.strip()
                headers.append((name, value))
                if name == "content-length":
                    length = value
                elif name == "transfer-encoding":
                    chunked = value.lower().endswith("chunked")
            self.status = status
            self.version = version
            break
        if self.head_only or status in _NO_BODY or status < 200:
            self._finish()
            return
        if chunked:
            self.mode = _CHUNKED
        elif length is not None:
            if not length.isdigit():
                raise ProbeFailure(ErrorKind.PROTOCOL, f"invalid Content-Length {length!r}")
            self.mode = _LENGTH
            self.remaining = int(length)
            if not self.remaining:
                self._finish()
                return
        else:
            self.mode = _CLOSE
        if buffer:
            early = bytes(buffer)  # body bytes that came with the headers
            buffer.clear()
            self._body(early)

    def _body(self, data: bytes) -> None:
        if self.mode == _LENGTH:
            if len(data) > self.remaining:
                data = data[: self.remaining]
            self.remaining -= len(data)
            if self._keep(data) and not self.remaining:
                self._finish()
        elif self.mode == _CHUNKED:
            self.buffer += data
            self._chunks()
        else:
            self._keep(data)

    def _keep(self, data: bytes | bytearray) -> bool:
        """Add to the body; False (and the exchange is over) once the limit is passed."""
        room = self.limit - len(self.body)
        if len(data) < room or (
            len(data) == room and not (self.mode == _LENGTH and self.remaining)
        ):
            self.body += data
            return True
        self.body += data[:room]  # the limit is reached and more is due (or came): stop here
        self.truncated = True
        self._finish()
        return False

    def _chunks(self) -> None:
        buffer = self.buffer
        at = 0
        while at < len(buffer):
            if self.chunk_state == _DATA:
                take = min(self.remaining, len(buffer) - at)
                if not self._keep(buffer[at : at + take]):
                    return
                at += take
                self.remaining -= take
                if not self.remaining:
                    self.chunk_state = _DATA_END
            elif self.chunk_state == _DATA_END:
                if len(buffer) - at < 2:
                    break
                if buffer[at : at + 2] != b"\r\n":
                    raise ProbeFailure(ErrorKind.PROTOCOL, "a chunk is not followed by CRLF")
                at += 2
                self.chunk_state = _SIZE_LINE
            else:
                newline = buffer.find(b"\n", at)
                if newline < 0:
                    if len(buffer) - at > 1024:
                        raise ProbeFailure(ErrorKind.PROTOCOL, "a chunk size line is too long")
                    break
                size = bytes(buffer[at:newline]).split(b";")[0].strip()
                if not _CHUNK_SIZE.fullmatch(size):
                    raise ProbeFailure(ErrorKind.PROTOCOL, f"invalid chunk size {size[:20]!r}")
                at = newline + 1
                self.remaining = int(size, 16)
                if not self.remaining:
                    self._finish()  # the last chunk; trailers do not interest us
                    return
                self.chunk_state = _DATA
        del buffer[:at]

    def _finish(self, error: Exception | None = None) -> None:
        if self.finished:
            return
        self.finished = True
        self.ended = perf_counter()
        self.error = error
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)
        if self.transport is not None:
            # Read what we need, then drop the connection: no TLS close_notify exchange and no
            # more of an endless body.
            self.transport.abort()


async def _exchange(
    request: ProbeRequest,
    target: _Target,
    payload: bytes,
    head_only: bool,
    observation: Observation,
    step: Step,
) -> _Response:
    loop = asyncio.get_running_loop()
    phases = observation.phases
    sock, ip = await connect(
        target.host, target.port, request.ip_version, phases, step, request.policy
    )
    observation.values["IP"] = ip
    observation.values["CONNECTED"] = True
    response = _Response(payload, head_only, request.body_limit)
    try:
        if target.tls:
            await _tls_exchange(request, target, sock, response, observation, step)
        else:
            # Plain HTTP drives the socket itself: no transport object, fewer system calls
            # (3-12 % less CPU per check than a transport, on asyncio and on uvloop).
            await loop.sock_sendall(sock, payload)
            response.sent = perf_counter()
            step.doing = f"waiting for the answer from {target.shown}"
            while not response.finished:
                data = await loop.sock_recv(sock, 65536)
                if data:
                    response.data_received(data)
                else:
                    response.connection_lost(None)
    finally:
        if response.transport is None:
            sock.close()
        elif not response.finished:
            response.transport.abort()
    phases["processing"] = phases.get("processing", 0.0) + (
        (response.first or response.ended) - response.sent
    )
    if response.first:
        phases["transfer"] = phases.get("transfer", 0.0) + response.ended - response.first
    return response


async def _tls_exchange(
    request: ProbeRequest,
    target: _Target,
    sock: socket.socket,
    response: _Response,
    observation: Observation,
    step: Step,
) -> None:
    """The handshake (resuming the target's session when the rule in ``resumption`` allows),
    then the answer; the session is kept for the next check once the answer is in."""
    loop = asyncio.get_running_loop()
    step.doing = f"the TLS handshake with {target.host}"
    response.waiter = loop.create_future()
    context = client_context(request.verify_tls, request.ca_file)
    key = SessionKey(target.host, target.port, target.host, request.verify_tls, request.ca_file)
    offered = SESSIONS.offer(key, context, request.certificate_horizon)
    token = OFFERED_SESSION.set(offered[0] if offered else None)
    started = perf_counter()
    try:
        transport, _ = await loop.create_connection(
            lambda: response, sock=sock, ssl=context, server_hostname=target.host
        )
    except BaseException:
        SESSIONS.forget(key)
        raise
    finally:
        OFFERED_SESSION.reset(token)
    observation.phases["tls"] = observation.phases.get("tls", 0.0) + perf_counter() - started
    ssl_object: ssl.SSLObject = transport.get_extra_info("ssl_object")
    resumed = offered is not None and ssl_object.session_reused
    if resumed:
        assert offered is not None
        facts = offered[1]
        observation.details["certificate_seen_at"] = iso(facts.seen_at)
    else:
        facts = CertificateFacts(certificate_not_after(transport), SESSIONS.now())
    observation.details["tls_version"] = ssl_object.version()
    observation.details["tls_resumed"] = resumed
    observation.values["CERTIFICATE_EXPIRATION"] = (
        None if facts.not_after is None else facts.not_after - SESSIONS.now().timestamp()
    )
    step.doing = f"waiting for the answer from {target.shown}"
    await response.waiter
    if response.error is None and not resumed:
        # a resumed session stays the one stored: reading ``ssl_object.session`` costs as
        # much as half a handshake (CPython copies it through DER, certificate included)
        SESSIONS.keep(key, context, ssl_object, facts)


def _text(response: _Response, values: dict[str, Any]) -> str:
    body = bytes(response.body)
    encoding = values.get("HEADER:content-encoding", "").lower()
    if encoding in ("gzip", "x-gzip", "deflate") and body:
        with contextlib.suppress(zlib.error):  # not what it claims: show the bytes as they came
            body = zlib.decompressobj(zlib.MAX_WBITS | 32).decompress(body, response.limit)
    charset = _CHARSET.search(values.get("HEADER:content-type", ""))
    if charset:
        try:
            return body.decode(charset[1], "replace")
        except LookupError:
            pass
    return body.decode("utf-8", "replace")


def _fill(observation: Observation, response: _Response) -> None:
    values = observation.values
    if response.status:
        values["STATUS"] = response.status
        for name, value in response.headers:
            key = "HEADER:" + name
            values[key] = f"{values[key]}, {value}" if key in values else value
        values["BODY"] = _text(response, values)
        observation.details["http_version"] = response.version
    observation.details["body_truncated"] = response.truncated
    observation.details["body_bytes"] = len(response.body)


def _redirect_target(location: str, url: str) -> _Target:
    try:
        return _target(urljoin(url, location))
    except (ValueError, UnicodeError) as exc:
        raise ProbeFailure(
            ErrorKind.PROTOCOL,
            f"{_without_userinfo(url)} redirects to {location!r}, which cannot be followed: {exc}",
        ) from None


def _chain(redirects: list[dict[str, Any]], last: str) -> str:
    return " → ".join([hop["url"] for hop in redirects] + [last])


async def probe(request: ProbeRequest) -> Observation:
    """One HTTP request, following redirects as the check says."""
    observation = Observation()
    values = observation.values
    values["CONNECTED"] = False
    redirects: list[dict[str, Any]] = []
    step = Step("reading the URL")
    started = perf_counter()
    response: _Response | None = None
    url = request.url
    try:
        try:
            target = _target(url)
        except (ValueError, UnicodeError) as exc:
            raise ProbeFailure(ErrorKind.ERROR, str(exc)) from None
        method = request.method.upper()
        body = request.body
        headers = request.headers
        # a check's request is the same every run (cached); a body (a webhook's JSON, unique
        # and possibly secret) is built afresh and not kept
        build = _payload if body is None else _payload.__wrapped__
        try:
            payload = build(target, method, headers, body)
        except ValueError as exc:
            raise ProbeFailure(ErrorKind.ERROR, f"cannot send this request: {exc}") from None
        async with asyncio.timeout(request.timeout):
            while True:
                response = None  # a failed hop leaves no stale answer behind
                response = await _exchange(
                    request, target, payload, method == "HEAD", observation, step
                )
                if response.error is not None:
                    raise response.error
                location = _location(response) if request.follow_redirects else None
                if location is None:
                    break
                following = _redirect_target(location, url)
                redirects.append(
                    {"url": target.shown, "status": response.status, "location": following.shown}
                )
                if any(hop["url"] == following.shown for hop in redirects):
                    raise ProbeFailure(
                        ErrorKind.PROTOCOL, f"redirect loop: {_chain(redirects, following.shown)}"
                    )
                if len(redirects) > request.max_redirects:
                    raise ProbeFailure(
                        ErrorKind.PROTOCOL,
                        f"more than {request.max_redirects} redirects: "
                        f"{_chain(redirects, following.shown)}; point the check at the final URL "
                        "or raise max_redirects",
                    )
                if (response.status == 303 and method != "HEAD") or (
                    response.status in (301, 302) and method == "POST"
                ):
                    method, body = "GET", None
                if following.host != target.host:
                    headers = tuple(h for h in headers if h[0].lower() not in _PRIVATE)
                url, target = following.url, following
                payload = build(target, method, headers, body)
    except Exception as exc:
        observation.fail(*failure(exc, request, step))
    if response is not None:
        _fill(observation, response)
    observation.details["final_url"] = _without_userinfo(url)
    observation.details["redirects"] = redirects
    total = perf_counter() - started
    observation.phases["total"] = total
    values["RESPONSE_TIME"] = total * 1000.0
    return observation


def _location(response: _Response) -> str | None:
    if response.status not in _REDIRECTS:
        return None
    for name, value in response.headers:
        if name == "location" and value:
            return value
    return None
