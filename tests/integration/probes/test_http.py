"""The http(s) probe against real local servers: answers, misbehaviour, redirects, TLS."""

from __future__ import annotations

import asyncio
import json
import time
import tracemalloc

import pytest

from infradex.probes import ErrorKind

from .conftest import Certificates
from .targets import Targets, run

DAY = 86400.0


# ----------------------------------------------------------------------------- answers
async def test_200_fills_values_phases_and_details(targets: Targets) -> None:
    url = targets.url("http", "/ok")
    seen = await run(url)
    assert seen.ok, seen.error
    assert seen.values["STATUS"] == 200
    assert seen.values["BODY"] == "hello from the test server"
    assert seen.values["HEADER:content-type"] == "text/plain"
    assert seen.values["HEADER:content-length"] == "26"
    assert seen.values["CONNECTED"] is True
    assert seen.values["IP"] == "127.0.0.1"
    assert 0 < seen.values["RESPONSE_TIME"] < 1000
    assert "CERTIFICATE_EXPIRATION" not in seen.values
    assert set(seen.phases) == {"connect", "processing", "transfer", "total"}  # no lookup
    assert seen.phases["total"] * 1000 == pytest.approx(seen.values["RESPONSE_TIME"])
    assert sum(v for k, v in seen.phases.items() if k != "total") <= seen.phases["total"]
    assert seen.details["final_url"] == url
    assert seen.details["redirects"] == []
    assert seen.details["http_version"] == "HTTP/1.1"
    assert seen.details["body_truncated"] is False


async def test_500_is_an_answer_not_a_probe_error(targets: Targets) -> None:
    seen = await run(targets.url("http", "/status/500"))
    assert seen.ok
    assert seen.values["STATUS"] == 500
    assert seen.values["BODY"] == "status page"


async def test_head_reads_no_body_even_with_a_content_length(targets: Targets) -> None:
    seen = await run(targets.url("http", "/ok"), method="HEAD", timeout=2)
    assert seen.ok, seen.error
    assert seen.values["STATUS"] == 200
    assert seen.values["HEADER:content-length"] == "26"
    assert seen.values["BODY"] == ""


async def test_post_sends_body_and_headers(targets: Targets) -> None:
    seen = await run(
        targets.url("http", "/echo?q=1"),
        method="POST",
        body='{"ping": "pong ☃"}',
        headers=(("X-Check", "infradex"), ("Content-Type", "application/json")),
    )
    assert seen.ok, seen.error
    echo = json.loads(seen.values["BODY"])
    assert echo["method"] == "POST"
    assert echo["path"] == "/echo?q=1"
    assert echo["body"] == '{"ping": "pong ☃"}'
    assert echo["headers"]["x-check"] == "infradex"
    assert echo["headers"]["content-type"] == "application/json"
    assert echo["headers"]["content-length"] == str(len('{"ping": "pong ☃"}'.encode()))
    assert echo["headers"]["connection"] == "close"
    assert echo["headers"]["user-agent"] == "infradex-probe"
    assert echo["headers"]["host"] == f"127.0.0.1:{targets.ports['http']}"


async def test_check_headers_replace_the_defaults(targets: Targets) -> None:
    seen = await run(targets.url("http", "/echo"), headers=(("User-Agent", "mine/1"),))
    echo = json.loads(seen.values["BODY"])
    assert echo["headers"]["user-agent"] == "mine/1"
    assert echo["method"] == "GET"
    assert "content-length" not in echo["headers"]


async def test_userinfo_in_the_url_becomes_basic_auth(targets: Targets) -> None:
    port = targets.ports["http"]
    seen = await run(f"http://monitor:s%40cret@127.0.0.1:{port}/echo")
    echo = json.loads(seen.values["BODY"])
    assert echo["headers"]["authorization"] == "Basic bW9uaXRvcjpzQGNyZXQ="


@pytest.mark.parametrize(
    ("path", "body", "header"),
    [
        ("/chunked", "hello from-chunk", ("HEADER:x-kind", "chunked")),
        ("/close-delimited", "until the end", ("HEADER:content-type", "text/plain")),
        ("/latin1", "café", ("HEADER:content-type", "text/plain; charset=ISO-8859-1")),
        ("/invalid-utf8", "ok \ufffd\ufffd end", ("HEADER:content-length", "9")),
        ("/cookies", "", ("HEADER:set-cookie", "a=1, b=2")),
    ],
)
async def test_body_framings_and_decodings(
    targets: Targets, path: str, body: str, header: tuple[str, str]
) -> None:
    seen = await run(targets.url("http", path), timeout=2)
    assert seen.ok, seen.error
    assert seen.values["BODY"] == body
    assert seen.values[header[0]] == header[1]
    assert seen.details["body_truncated"] is False


async def test_http_1_0_answer_is_read_until_close(targets: Targets) -> None:
    seen = await run(targets.url("http", "/close-delimited"))
    assert seen.details["http_version"] == "HTTP/1.0"


async def test_interim_100_continue_is_skipped(targets: Targets) -> None:
    seen = await run(targets.url("http", "/continue"))
    assert seen.ok, seen.error
    assert seen.values["STATUS"] == 201
    assert seen.values["BODY"] == "created after continue"


async def test_gzip_body_is_decompressed(targets: Targets) -> None:
    seen = await run(targets.url("http", "/gzip"), headers=(("Accept-Encoding", "gzip"),))
    assert seen.values["BODY"] == "compressed text"


# --------------------------------------------------------------------- misbehaving peers
async def test_slow_answer_times_out_within_the_timeout(targets: Targets) -> None:
    started = time.monotonic()
    seen = await run(targets.url("http", "/slow"), timeout=0.5)
    assert time.monotonic() - started < 1.5
    assert seen.error_kind is ErrorKind.TIMEOUT
    url = targets.url("http", "/slow")
    assert seen.error == f"no answer within 0.5 s while waiting for the answer from {url}"
    assert seen.values["CONNECTED"] is True
    assert "STATUS" not in seen.values
    assert seen.phases["total"] == pytest.approx(0.5, abs=0.3)


async def test_never_answering_server_times_out(targets: Targets) -> None:
    seen = await run(targets.url("http", "/never"), timeout=0.3)
    assert seen.error_kind is ErrorKind.TIMEOUT


async def test_trickling_body_times_out(targets: Targets) -> None:
    seen = await run(targets.url("http", "/trickle"), timeout=0.8)
    assert seen.error_kind is ErrorKind.TIMEOUT
    assert seen.values["CONNECTED"] is True


async def test_a_hanging_target_does_not_hold_up_other_checks(targets: Targets) -> None:
    finished: dict[str, float] = {}
    started = time.monotonic()

    async def timed(name: str, url: str) -> None:
        await run(url, timeout=2.0)
        finished[name] = time.monotonic() - started

    await asyncio.gather(
        timed("hanging", targets.url("http", "/never")), timed("fine", targets.url("http"))
    )
    assert finished["fine"] < 0.5
    assert finished["hanging"] >= 1.9


@pytest.mark.parametrize("path", ["/huge", "/endless", "/endless-close"])
async def test_huge_or_endless_body_stops_at_the_limit(targets: Targets, path: str) -> None:
    limit = 256 * 1024
    await run(targets.url("http"))  # first use imports the probe modules: not measured
    tracemalloc.start()
    try:
        started = time.monotonic()
        seen = await run(targets.url("http", path), body_limit=limit, timeout=5)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen.ok, seen.error
    assert elapsed < 2
    assert seen.details["body_truncated"] is True
    assert seen.details["body_bytes"] == limit
    assert len(seen.values["BODY"]) == limit
    assert peak < 8 * limit  # body, one read buffer, decoded text: not the whole answer


async def test_default_limit_caps_an_8_mib_answer_at_1_mib(targets: Targets) -> None:
    seen = await run(targets.url("http", "/huge"))
    assert seen.details["body_truncated"] is True
    assert seen.details["body_bytes"] == 1024 * 1024


async def test_body_exactly_at_the_limit_is_not_truncated(targets: Targets) -> None:
    seen = await run(targets.url("http", "/ok"), body_limit=26)
    assert seen.details["body_truncated"] is False
    assert seen.values["BODY"] == "hello from the test server"
    seen = await run(targets.url("http", "/ok"), body_limit=25)
    assert seen.details["body_truncated"] is True
    assert seen.values["BODY"] == "hello from the test serve"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("/not-http", "the server did not answer in HTTP; the answer began with 'SSH-2.0-"),
        ("/bad-length", "invalid Content-Length 'ten'"),
        ("/close-now", "the server closed the connection without answering"),
        ("/short", "the server closed the connection after 10 of 100 body bytes"),
    ],
)
async def test_broken_http_is_a_protocol_error(targets: Targets, path: str, message: str) -> None:
    seen = await run(targets.url("http", path), timeout=2)
    assert seen.error_kind is ErrorKind.PROTOCOL
    assert seen.error is not None
    assert seen.error.startswith(message)


async def test_short_body_still_reports_what_came(targets: Targets) -> None:
    seen = await run(targets.url("http", "/short"), timeout=2)
    assert seen.values["STATUS"] == 200
    assert seen.values["BODY"] == "0123456789"


async def test_refused(targets: Targets) -> None:
    port = targets.ports["closed"]
    seen = await run(f"http://127.0.0.1:{port}/")
    assert seen.error_kind is ErrorKind.REFUSED
    assert seen.error == f"Connection refused while connecting to 127.0.0.1:{port}"
    assert seen.values["CONNECTED"] is False
    assert "STATUS" not in seen.values


async def test_unresolvable_name() -> None:
    # glibc refuses a name starting with "-" itself: no query leaves this machine
    seen = await run("http://-no-such-host.test/")
    assert seen.error_kind is ErrorKind.NAME_NOT_RESOLVED
    assert seen.error == "Name or service not known while resolving -no-such-host.test"


async def test_malformed_check_is_an_error_that_says_so() -> None:
    seen = await run("http://a..b/")
    assert seen.error_kind is ErrorKind.ERROR
    assert "a..b" in (seen.error or "")
    seen = await run("http://127.0.0.1:1/", headers=(("X-Bad", "a\r\nInjected: 1"),))
    assert seen.error_kind is ErrorKind.ERROR
    assert seen.error == "cannot send this request: a header name or value contains a line break"


# --------------------------------------------------------------------------- addresses
async def test_ipv6(targets: Targets) -> None:
    seen = await run(targets.url("http6", "/ok", host="::1"))
    assert seen.ok, seen.error
    assert seen.values["IP"] == "::1"


async def test_ip_version_is_enforced(targets: Targets) -> None:
    seen = await run(targets.url("http6", "/ok", host="::1"), ip_version=4)
    assert seen.error_kind is ErrorKind.NAME_NOT_RESOLVED
    assert seen.error == "::1 is an IPv6 address but the check asks for IPv4"
    # localhost comes from /etc/hosts: no query leaves this machine
    seen = await run(targets.url("http", "/ok", host="localhost"), ip_version=4)
    assert seen.ok, seen.error
    assert seen.values["IP"] == "127.0.0.1"
    assert "dns" in seen.phases


# --------------------------------------------------------------------------- redirects
async def test_relative_redirect_is_followed(targets: Targets) -> None:
    seen = await run(targets.url("http", "/dir/relative"))
    assert seen.ok, seen.error
    assert seen.values["STATUS"] == 200
    assert seen.details["final_url"] == targets.url("http", "/ok?from=relative")
    assert seen.details["redirects"] == [
        {
            "url": targets.url("http", "/dir/relative"),
            "status": 301,
            "location": targets.url("http", "/ok?from=relative"),
        }
    ]


async def test_redirect_not_followed_when_told_so(targets: Targets) -> None:
    seen = await run(targets.url("http", "/dir/relative"), follow_redirects=False)
    assert seen.ok
    assert seen.values["STATUS"] == 301
    assert seen.values["HEADER:location"] == "../ok?from=relative"
    assert seen.details["redirects"] == []


async def test_redirect_to_itself_is_a_loop(targets: Targets) -> None:
    seen = await run(targets.url("http", "/loop"), timeout=2)
    assert seen.error_kind is ErrorKind.PROTOCOL
    loop = targets.url("http", "/loop")
    assert seen.error == f"redirect loop: {loop} → {loop}"


async def test_redirect_loop_between_two_urls(targets: Targets) -> None:
    seen = await run(targets.url("http", "/loop-a"), timeout=2)
    a, b = targets.url("http", "/loop-a"), targets.url("http", "/loop-b")
    assert seen.error_kind is ErrorKind.PROTOCOL
    assert seen.error == f"redirect loop: {a} → {b} → {a}"
    assert [hop["status"] for hop in seen.details["redirects"]] == [301, 307]


async def test_redirect_limit(targets: Targets) -> None:
    seen = await run(targets.url("http", "/hops/3"), max_redirects=3)
    assert seen.ok, seen.error
    assert seen.values["BODY"] == "arrived"
    assert len(seen.details["redirects"]) == 3
    seen = await run(targets.url("http", "/hops/4"), max_redirects=3)
    assert seen.error_kind is ErrorKind.PROTOCOL
    assert seen.error is not None
    assert seen.error.startswith("more than 3 redirects: ")
    assert seen.error.endswith("; point the check at the final URL or raise max_redirects")


async def test_phases_add_up_over_redirects(targets: Targets) -> None:
    seen = await run(targets.url("http", "/hops/3"))
    parts = sum(v for k, v in seen.phases.items() if k != "total")
    assert parts <= seen.phases["total"]
    assert parts > 0.5 * seen.phases["total"]


async def test_see_other_continues_with_get_and_temporary_keeps_post(targets: Targets) -> None:
    seen = await run(targets.url("http", "/see-other"), method="POST", body="data")
    echo = json.loads(seen.values["BODY"])
    assert (echo["method"], echo["body"]) == ("GET", "")
    seen = await run(targets.url("http", "/temporary"), method="POST", body="data")
    echo = json.loads(seen.values["BODY"])
    assert (echo["method"], echo["body"]) == ("POST", "data")


# --------------------------------------------------------------------------------- TLS
async def test_https_with_the_given_ca(targets: Targets, certs: Certificates) -> None:
    seen = await run(targets.url("https"), ca_file=certs.ca_file)
    assert seen.ok, seen.error
    assert seen.values["STATUS"] == 200
    assert seen.values["CERTIFICATE_EXPIRATION"] > 300 * DAY  # trustme: valid for years
    assert seen.details["tls_version"] == "TLSv1.3"
    assert set(seen.phases) == {"connect", "tls", "processing", "transfer", "total"}


async def test_https_by_name(targets: Targets, certs: Certificates) -> None:
    seen = await run(targets.url("https", host="localhost"), ca_file=certs.ca_file, ip_version=4)
    assert seen.ok, seen.error


async def test_https_certificate_expiring_soon(targets: Targets, certs: Certificates) -> None:
    seen = await run(targets.url("https-soon"), ca_file=certs.ca_file)
    assert seen.ok, seen.error
    assert 2 * DAY - 120 < seen.values["CERTIFICATE_EXPIRATION"] <= 2 * DAY


@pytest.mark.parametrize(
    ("listener", "reason"),
    [
        ("https-wrong-host", "IP address mismatch, certificate is not valid for '127.0.0.1'."),
        ("https-expired", "certificate has expired"),
        ("https-untrusted", "unable to get local issuer certificate"),
        ("https-self-signed", "self-signed certificate"),
    ],
)
async def test_https_bad_certificates(
    targets: Targets, certs: Certificates, listener: str, reason: str
) -> None:
    seen = await run(targets.url(listener), ca_file=certs.ca_file)
    assert seen.error_kind is ErrorKind.TLS
    assert seen.error == f"TLS certificate verification failed: {reason}"
    assert seen.values["CONNECTED"] is True
    assert "STATUS" not in seen.values


async def test_https_trusts_only_the_system_cas_by_default(targets: Targets) -> None:
    seen = await run(targets.url("https"))
    assert seen.error_kind is ErrorKind.TLS
    assert (
        seen.error == "TLS certificate verification failed: unable to get local issuer certificate"
    )


async def test_https_without_verification(targets: Targets) -> None:
    seen = await run(targets.url("https-untrusted"), verify_tls=False)
    assert seen.ok, seen.error
    assert seen.values["STATUS"] == 200
    assert seen.values["CERTIFICATE_EXPIRATION"] > 300 * DAY  # read without verification


async def test_https_to_a_port_that_speaks_something_else(targets: Targets) -> None:
    port = targets.ports["banner"]
    seen = await run(f"https://127.0.0.1:{port}/ok", timeout=2)
    assert seen.error_kind is ErrorKind.TLS
    assert seen.error == "TLS failed during the TLS handshake with 127.0.0.1: WRONG_VERSION_NUMBER"


async def test_https_redirect_loop(targets: Targets, certs: Certificates) -> None:
    seen = await run(targets.url("https", "/loop-a"), ca_file=certs.ca_file, timeout=2)
    assert seen.error_kind is ErrorKind.PROTOCOL
    assert seen.error is not None
    assert seen.error.startswith("redirect loop: https://127.0.0.1:")


async def test_missing_ca_file_says_what_to_do(targets: Targets) -> None:
    seen = await run(targets.url("https"), ca_file="/nonexistent/ca.pem")
    assert seen.error_kind is ErrorKind.ERROR
    assert seen.error == (
        "cannot use ca_file '/nonexistent/ca.pem': No such file or directory; "
        "point it at a PEM file of CA certificates"
    )
