"""The tcp probe: connect, send/expect, SMTP STARTTLS, against real local servers."""

from __future__ import annotations

import time

from infradex.probes import ErrorKind

from .conftest import Certificates
from .targets import Targets, run

DAY = 86400.0


def tcp(targets: Targets, name: str) -> str:
    return f"tcp://127.0.0.1:{targets.ports[name]}"


async def test_connect_only(targets: Targets) -> None:
    seen = await run(tcp(targets, "banner"))
    assert seen.ok, seen.error
    assert seen.values["CONNECTED"] is True
    assert seen.values["IP"] == "127.0.0.1"
    assert "BODY" not in seen.values  # nothing asked, nothing read
    assert set(seen.phases) == {"connect", "total"}
    assert seen.values["RESPONSE_TIME"] == seen.phases["total"] * 1000


async def test_banner_contains_the_expected_text(targets: Targets) -> None:
    seen = await run(tcp(targets, "banner"), expect="SSH-2.0-")
    assert seen.ok, seen.error
    assert seen.values["BODY"] == "SSH-2.0-OpenSSH_9.2 infradex-test\r\n"


async def test_banner_without_the_expected_text_is_a_protocol_error(targets: Targets) -> None:
    seen = await run(tcp(targets, "banner"), expect="220 ", timeout=0.5)
    assert seen.error_kind is ErrorKind.PROTOCOL
    # the answer itself is an excerpt for admins, never part of the published message
    assert seen.error == (
        "expected '220 ' in the answer, got 35 bytes without it (and nothing more within 0.5 s)"
    )
    assert seen.details["excerpt"] == "SSH-2.0-OpenSSH_9.2 infradex-test\r\n"
    assert seen.values["BODY"].startswith("SSH-2.0-")


async def test_send_then_expect(targets: Targets) -> None:
    seen = await run(tcp(targets, "echo"), send="ping\n", expect="you said: ping")
    assert seen.ok, seen.error
    assert seen.values["BODY"] == "you said: ping\n"


async def test_peer_that_answers_otherwise_and_hangs_up(targets: Targets) -> None:
    # The server closes with our line unread, so the kernel may reset the connection after
    # its answer arrived: either way the answer is what matters.
    seen = await run(tcp(targets, "smtp-busy"), send="x\n", expect="250")
    assert seen.error_kind is ErrorKind.PROTOCOL
    answer = "expected '250' in the answer, got 34 bytes without it"
    assert seen.error in (answer, answer + " (then the connection was reset)")
    assert seen.details["excerpt"] == "554 mail.test no service for you\r\n"


async def test_peer_that_says_nothing_times_out(targets: Targets) -> None:
    started = time.monotonic()
    seen = await run(tcp(targets, "http"), expect="ready", timeout=0.5)  # waits for a request
    assert time.monotonic() - started < 1.5
    assert seen.error_kind is ErrorKind.TIMEOUT
    port = targets.ports["http"]
    assert seen.error == f"no answer within 0.5 s while waiting for 'ready' from 127.0.0.1:{port}"
    assert seen.values["CONNECTED"] is True
    assert seen.values["BODY"] == ""


async def test_peer_that_stops_half_way(targets: Targets) -> None:
    seen = await run(tcp(targets, "silent"), expect="ready", timeout=0.5)
    assert seen.error_kind is ErrorKind.PROTOCOL
    assert seen.error == (
        "expected 'ready' in the answer, got 8 bytes without it (and nothing more within 0.5 s)"
    )
    assert seen.details["excerpt"] == "partial "


async def test_refused(targets: Targets) -> None:
    seen = await run(tcp(targets, "closed"))
    assert seen.error_kind is ErrorKind.REFUSED
    assert (
        seen.error == f"Connection refused while connecting to 127.0.0.1:{targets.ports['closed']}"
    )
    assert seen.values["CONNECTED"] is False


async def test_ipv6_address_in_brackets(targets: Targets) -> None:
    seen = await run(f"tcp://[::1]:{targets.ports['http6']}")
    assert seen.ok, seen.error
    assert seen.values["IP"] == "::1"


async def test_url_without_port_says_how_to_write_it() -> None:
    seen = await run("tcp://db.example.org")
    assert seen.error_kind is ErrorKind.ERROR
    assert seen.error == (
        "'tcp://db.example.org' needs a host and a port, e.g. tcp://db.example.org:5432"
    )


# --------------------------------------------------------------------------- STARTTLS
async def test_smtp_starttls(targets: Targets, certs: Certificates) -> None:
    seen = await run(
        tcp(targets, "smtp"),
        starttls=True,
        ca_file=certs.ca_file,
        send="NOOP\r\n",
        expect="inside TLS",
    )
    assert seen.ok, seen.error
    assert seen.values["BODY"] == "250 2.0.0 OK inside TLS\r\n"
    assert seen.values["CERTIFICATE_EXPIRATION"] > 300 * DAY
    assert seen.details["greeting"] == "220 mail.test ESMTP ready"
    assert seen.details["tls_version"] == "TLSv1.3"
    assert set(seen.phases) == {"connect", "tls", "total"}


async def test_smtp_starttls_verifies_the_certificate(targets: Targets) -> None:
    seen = await run(tcp(targets, "smtp"), starttls=True)  # the system's CAs
    assert seen.error_kind is ErrorKind.TLS
    assert (
        seen.error == "TLS certificate verification failed: unable to get local issuer certificate"
    )


async def test_smtp_without_starttls(targets: Targets) -> None:
    seen = await run(tcp(targets, "smtp-no-tls"), starttls=True, timeout=2)
    assert seen.error_kind is ErrorKind.PROTOCOL
    assert seen.error == ("the server does not offer STARTTLS (EHLO answered: SIZE 1000000)")


async def test_smtp_refusing_service(targets: Targets) -> None:
    seen = await run(tcp(targets, "smtp-busy"), starttls=True, timeout=2)
    assert seen.error_kind is ErrorKind.PROTOCOL
    assert seen.error == "the SMTP greeting is 554, not 220"
    assert seen.details["excerpt"] == "mail.test no service for you"


async def test_starttls_against_something_else(targets: Targets) -> None:
    seen = await run(tcp(targets, "banner"), starttls=True, timeout=2)
    assert seen.error_kind is ErrorKind.PROTOCOL
    assert seen.error == "not an SMTP reply (35 bytes)"
    assert seen.details["excerpt"] == "SSH-2.0-OpenSSH_9.2 infradex-test\r\n"
