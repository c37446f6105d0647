"""The HTTP/1.1 client's pieces without a network: the response parser fed byte by byte, the
request it writes, and how URLs become targets."""

from __future__ import annotations

import pytest

from infradex.probes.base import ErrorKind
from infradex.probes.http import _payload, _Response, _target
from infradex.probes.net import ProbeFailure

CHUNKED = (
    b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-A: 1\r\n\r\n"
    b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n"
)
LENGTH = b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nContent-Type: text/plain\r\n\r\nnot here!"
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-B: 2\r\n\r\n"
LF_ONLY = b"HTTP/1.0 200 OK\nContent-Length: 2\n\nhi"
CLOSE_DELIMITED = b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nall of it"


def feed(raw: bytes, size: int, *, limit: int = 1 << 20, head: bool = False) -> _Response:
    response = _Response(b"", head, limit)
    for at in range(0, len(raw), size):
        response.data_received(raw[at : at + size])
    if not response.finished:
        response.connection_lost(None)
    return response


@pytest.mark.parametrize(
    ("raw", "status", "headers", "body"),
    [
        (
            CHUNKED,
            200,
            [("transfer-encoding", "chunked"), ("x-a", "1")],
            b"Wikipedia in\r\n\r\nchunks.",
        ),
        (LENGTH, 404, [("content-length", "9"), ("content-type", "text/plain")], b"not here!"),
        (CONTINUE, 204, [("x-b", "2")], b""),
        (LF_ONLY, 200, [("content-length", "2")], b"hi"),
        (CLOSE_DELIMITED, 200, [("server", "old")], b"all of it"),
    ],
)
@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 100_000])
def test_any_split_of_the_answer_parses_the_same(
    raw: bytes, status: int, headers: list[tuple[str, str]], body: bytes, size: int
) -> None:
    response = feed(raw, size)
    assert response.error is None
    assert response.status == status
    assert response.headers == headers
    assert bytes(response.body) == body
    assert response.truncated is False


def test_head_answer_has_no_body_whatever_its_length() -> None:
    response = feed(b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", 5, head=True)
    assert response.error is None
    assert response.finished


@pytest.mark.parametrize("size", [1, 5, 100_000])
def test_limit_truncates_every_framing(size: int) -> None:
    for raw in (CHUNKED, LENGTH, CLOSE_DELIMITED):
        response = feed(raw, size, limit=4)
        assert response.truncated is True, raw
        assert len(response.body) == 4


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"SSH-2.0-OpenSSH\r\n\r\n", "the server did not answer in HTTP"),
        (b"HTTP/1.1 2000 OK\r\n\r\n", "the server did not answer in HTTP"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "malformed header line 'no colon here'"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "invalid Content-Length '-1'"),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            "invalid chunk size b'zz'",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n",
            "invalid chunk size b'0x5'",
        ),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nhiXX0\r\n\r\n",
            "a chunk is not followed by CRLF",
        ),
        (b"HTTP/1.1 200 OK\r\nX: " + b"y" * 70000, "more than 64 KiB of response headers"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "the server closed the connection"),
        (b"", "the server closed the connection without answering"),
    ],
)
def test_broken_answers_are_protocol_errors(raw: bytes, message: str) -> None:
    response = feed(raw, 1000)
    assert isinstance(response.error, ProbeFailure)
    assert response.error.kind is ErrorKind.PROTOCOL
    assert response.error.message.startswith(message)


# ---------------------------------------------------------------------- the request
def test_request_bytes() -> None:
    target = _target("http://example.org/path?q=1")
    assert _payload(target, "GET", (), None) == (
        b"GET /path?q=1 HTTP/1.1\r\nHost: example.org\r\nUser-Agent: infradex-probe\r\n"
        b"Accept: */*\r\nConnection: close\r\n\r\n"
    )


def test_request_with_body_and_own_headers() -> None:
    target = _target("https://example.org:8443/")
    payload = _payload(target, "POST", (("accept", "text/html"), ("Connection", "keep-alive")), "é")
    assert payload == (
        b"POST / HTTP/1.1\r\nHost: example.org:8443\r\nUser-Agent: infradex-probe\r\n"
        b"accept: text/html\r\nConnection: close\r\nContent-Length: 2\r\n\r\n\xc3\xa9"
    )


def test_post_without_body_says_so() -> None:
    assert b"Content-Length: 0\r\n" in _payload(_target("http://h/"), "POST", (), None)


@pytest.mark.parametrize(
    ("method", "headers"),
    [("GET / HTTP/1.1\r\nX:", ()), ("GET", (("X", "a\nb"),)), ("GET", (("X\r", "a"),))],
)
def test_request_cannot_be_smuggled(method: str, headers: tuple[tuple[str, str], ...]) -> None:
    with pytest.raises(ValueError):
        _payload(_target("http://h/"), method, headers, None)


@pytest.mark.parametrize(
    ("url", "host", "port", "path", "host_header", "tls"),
    [
        ("http://example.org", "example.org", 80, "/", "example.org", False),
        ("https://Example.ORG/a b?x=ü", "example.org", 443, "/a%20b?x=%C3%BC", "example.org", True),
        ("http://[::1]:8080/x%2Fy", "::1", 8080, "/x%2Fy", "[::1]:8080", False),
        ("https://bücher.example/", "bücher.example", 443, "/", "xn--bcher-kva.example", True),
    ],
)
def test_targets(url: str, host: str, port: int, path: str, host_header: str, tls: bool) -> None:
    target = _target(url)
    assert (target.host, target.port, target.path, target.host_header, target.tls) == (
        host,
        port,
        path,
        host_header,
        tls,
    )


def test_userinfo_becomes_basic_auth() -> None:
    assert _target("http://a%20b:c@h/").authorization == "Basic YSBiOmM="
    assert _target("http://h/").authorization is None


@pytest.mark.parametrize("url", ["http://h:99999/", "ftp://h/", "http:///path", "http://a..b/"])
def test_bad_urls(url: str) -> None:
    with pytest.raises(ValueError):
        _target(url)
