"""The tls probe: certificate facts, also (and especially) when verification fails."""

from __future__ import annotations

from datetime import datetime

import pytest

from infradex.probes import ErrorKind

from .conftest import Certificates
from .targets import Targets, run

DAY = 86400.0


def tls(targets: Targets, name: str) -> str:
    return f"tls://127.0.0.1:{targets.ports[name]}"


async def test_valid_certificate(targets: Targets, certs: Certificates) -> None:
    seen = await run(tls(targets, "https"), ca_file=certs.ca_file)
    assert seen.ok, seen.error
    assert seen.values["CONNECTED"] is True
    assert seen.values["IP"] == "127.0.0.1"
    assert seen.values["CERTIFICATE_EXPIRATION"] > 300 * DAY
    details = seen.details
    assert details["chain_valid"] is True
    assert details["hostname_match"] is True
    assert details["tls_version"] == "TLSv1.3"
    assert details["names"] == ["localhost", "127.0.0.1", "::1"]
    assert "O=trustme" in details["issuer"]
    not_after = datetime.fromisoformat(details["not_after"])
    assert not_after.utcoffset() is not None
    assert "verify_error" not in details
    assert set(seen.phases) == {"connect", "tls", "total"}


async def test_expiring_soon(targets: Targets, certs: Certificates) -> None:
    seen = await run(tls(targets, "https-soon"), ca_file=certs.ca_file)
    assert seen.ok, seen.error
    assert 2 * DAY - 120 < seen.values["CERTIFICATE_EXPIRATION"] <= 2 * DAY


@pytest.mark.parametrize(
    ("listener", "reason", "chain_valid", "hostname_match"),
    [
        (
            "https-wrong-host",
            "IP address mismatch, certificate is not valid for '127.0.0.1'.",
            True,
            False,
        ),
        ("https-expired", "certificate has expired", False, True),
        ("https-untrusted", "unable to get local issuer certificate", False, True),
        ("https-self-signed", "self-signed certificate", False, False),
    ],
)
async def test_failed_verification_still_reports_the_certificate(
    targets: Targets,
    certs: Certificates,
    listener: str,
    reason: str,
    chain_valid: bool,
    hostname_match: bool,
) -> None:
    seen = await run(tls(targets, listener), ca_file=certs.ca_file)
    assert seen.error_kind is ErrorKind.TLS
    assert seen.error == f"TLS certificate verification failed: {reason}"
    assert seen.details["verify_error"] == seen.error
    assert seen.details["chain_valid"] is chain_valid
    assert seen.details["hostname_match"] is hostname_match
    assert isinstance(seen.values["CERTIFICATE_EXPIRATION"], float)
    assert seen.details["subject"]
    assert seen.details["not_after"]


async def test_expired_certificate_has_negative_expiration(
    targets: Targets, certs: Certificates
) -> None:
    seen = await run(tls(targets, "https-expired"), ca_file=certs.ca_file)
    assert -DAY - 120 < seen.values["CERTIFICATE_EXPIRATION"] < -DAY + 120


async def test_wrong_host_by_name(targets: Targets, certs: Certificates) -> None:
    port = targets.ports["https-wrong-host"]
    seen = await run(f"tls://localhost:{port}", ca_file=certs.ca_file, ip_version=4)
    assert seen.error_kind is ErrorKind.TLS
    assert seen.error == (
        "TLS certificate verification failed: "
        "Hostname mismatch, certificate is not valid for 'localhost'."
    )
    assert seen.details["names"] == ["other.example"]
    assert seen.details["hostname_match"] is False


async def test_without_verification_the_facts_are_no_error(targets: Targets) -> None:
    seen = await run(tls(targets, "https-untrusted"), verify_tls=False)
    assert seen.ok, seen.error
    assert seen.details["chain_valid"] is False
    assert seen.details["hostname_match"] is True
    assert seen.values["CERTIFICATE_EXPIRATION"] > 300 * DAY


async def test_plain_tcp_service_is_a_tls_error(targets: Targets) -> None:
    seen = await run(tls(targets, "banner"), timeout=2)
    assert seen.error_kind is ErrorKind.TLS
    port = targets.ports["banner"]
    assert seen.error == (
        f"TLS failed during the TLS handshake with 127.0.0.1:{port}: WRONG_VERSION_NUMBER"
    )


async def test_silent_peer_times_out_in_the_handshake(targets: Targets) -> None:
    seen = await run(tls(targets, "http"), timeout=0.5)  # waits for an HTTP request
    assert seen.error_kind is ErrorKind.TIMEOUT
    port = targets.ports["http"]
    assert seen.error == f"no answer within 0.5 s while the TLS handshake with 127.0.0.1:{port}"


async def test_refused(targets: Targets) -> None:
    seen = await run(tls(targets, "closed"))
    assert seen.error_kind is ErrorKind.REFUSED
    assert seen.values["CONNECTED"] is False
    assert "CERTIFICATE_EXPIRATION" not in seen.values
