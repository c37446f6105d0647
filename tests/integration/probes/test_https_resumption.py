"""TLS session resumption in the https probe (``probes/resumption.py``), against a real local
TLS server whose certificate the tests rotate, with the session cache's clock injected."""

from __future__ import annotations

import asyncio
import shutil
import ssl
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from infradex.probes import ErrorKind
from infradex.probes.resumption import FULL_HANDSHAKE_EVERY, SESSIONS

from .conftest import Certificates
from .targets import Targets, run

DAY = 86400.0


class Clock:
    """The session cache's clock, moved by the test."""

    def __init__(self) -> None:
        self.moment = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, by: timedelta) -> None:
        self.moment += by


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    injected = Clock()
    monkeypatch.setattr(SESSIONS, "now", injected)
    SESSIONS.clear()
    yield injected
    SESSIONS.clear()


@dataclass
class RotatingServer:
    """An HTTPS server whose certificate can be replaced while it runs (its session ticket
    keys stay: a session made before the rotation still resumes)."""

    ca: trustme.CA
    context: ssl.SSLContext
    url: str

    def rotate(self, not_after: datetime) -> None:
        self.ca.issue_cert("127.0.0.1", not_after=not_after).configure_cert(self.context)


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        await writer.drain()
    except (OSError, ssl.SSLError, asyncio.IncompleteReadError):
        pass  # the probe went away
    finally:
        writer.close()


@pytest.fixture
async def rotating(certs: Certificates) -> AsyncIterator[RotatingServer]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server = RotatingServer(certs.ca, context, "")
    server.rotate(datetime.now(UTC) + timedelta(days=60))
    listener = await asyncio.start_server(_answer, "127.0.0.1", 0, ssl=context)
    server.url = f"https://127.0.0.1:{listener.sockets[0].getsockname()[1]}/"
    yield server
    listener.close()
    await listener.wait_closed()


def _days(seconds: float) -> float:
    return seconds / DAY


async def test_the_second_check_resumes_and_keeps_the_first_facts(
    rotating: RotatingServer, certs: Certificates, clock: Clock
) -> None:
    first = await run(rotating.url, ca_file=certs.ca_file)
    assert first.ok, first.error
    assert first.details["tls_resumed"] is False
    assert "certificate_seen_at" not in first.details
    assert 59.9 < _days(first.values["CERTIFICATE_EXPIRATION"]) <= 60

    clock.advance(timedelta(minutes=30))
    second = await run(rotating.url, ca_file=certs.ca_file)
    assert second.ok, second.error
    assert second.details["tls_resumed"] is True
    assert second.details["certificate_seen_at"] == first_seen(clock, minutes_ago=30)
    # the same notAfter, seen from half an hour later
    assert second.values["CERTIFICATE_EXPIRATION"] == pytest.approx(
        first.values["CERTIFICATE_EXPIRATION"] - 1800, abs=5
    )
    assert second.values["STATUS"] == 200
    assert second.details["tls_version"] == "TLSv1.3"


def first_seen(clock: Clock, minutes_ago: int) -> str:
    return (clock() - timedelta(minutes=minutes_ago)).isoformat(timespec="seconds")


async def test_a_full_handshake_after_the_hour_shows_a_rotated_certificate(
    rotating: RotatingServer, certs: Certificates, clock: Clock
) -> None:
    assert (await run(rotating.url, ca_file=certs.ca_file)).details["tls_resumed"] is False
    rotating.rotate(datetime.now(UTC) + timedelta(days=200))

    # within the hour the server still resumes the session: the facts are the old handshake's
    clock.advance(FULL_HANDSHAKE_EVERY - timedelta(seconds=1))
    resumed = await run(rotating.url, ca_file=certs.ca_file)
    assert resumed.details["tls_resumed"] is True
    assert 59 < _days(resumed.values["CERTIFICATE_EXPIRATION"]) <= 60

    # an hour after the full handshake: a full one again, and the new certificate's facts
    clock.advance(timedelta(seconds=1))
    fresh = await run(rotating.url, ca_file=certs.ca_file)
    assert fresh.ok, fresh.error
    assert fresh.details["tls_resumed"] is False
    assert 199.9 < _days(fresh.values["CERTIFICATE_EXPIRATION"]) <= 200

    # and the next check resumes the new session, with the new facts
    after = await run(rotating.url, ca_file=certs.ca_file)
    assert after.details["tls_resumed"] is True
    assert 199.9 < _days(after.values["CERTIFICATE_EXPIRATION"]) <= 200


async def test_a_certificate_within_the_horizon_is_checked_by_a_full_handshake_every_time(
    rotating: RotatingServer, certs: Certificates, clock: Clock
) -> None:
    rotating.rotate(datetime.now(UTC) + timedelta(days=20))  # inside the default 30 days
    for _ in range(3):
        seen = await run(rotating.url, ca_file=certs.ca_file)
        assert seen.ok, seen.error
        assert seen.details["tls_resumed"] is False
        assert 19.9 < _days(seen.values["CERTIFICATE_EXPIRATION"]) <= 20
    # a check whose horizon is shorter (it warns at 7 days) may resume
    await run(rotating.url, ca_file=certs.ca_file, certificate_horizon=7 * DAY)
    seen = await run(rotating.url, ca_file=certs.ca_file, certificate_horizon=7 * DAY)
    assert seen.details["tls_resumed"] is True


async def test_a_renewal_is_seen_once_the_stored_expiry_enters_the_horizon(
    rotating: RotatingServer, certs: Certificates, clock: Clock
) -> None:
    rotating.rotate(datetime.now(UTC) + timedelta(days=31))
    await run(rotating.url, ca_file=certs.ca_file)
    rotating.rotate(datetime.now(UTC) + timedelta(days=90))  # renewed on the server
    clock.advance(timedelta(minutes=10))
    assert (await run(rotating.url, ca_file=certs.ca_file)).details["tls_resumed"] is True
    clock.advance(timedelta(days=1))  # the stored certificate now expires within 30 days
    seen = await run(rotating.url, ca_file=certs.ca_file)
    assert seen.details["tls_resumed"] is False
    # the renewed certificate (90 days from the real now, seen from the injected day later)
    assert 88.9 < _days(seen.values["CERTIFICATE_EXPIRATION"]) <= 89


async def test_no_session_crosses_a_trust_setting(
    rotating: RotatingServer, certs: Certificates, clock: Clock, tmp_path: Path
) -> None:
    same_ca_elsewhere = tmp_path / "ca-copy.pem"
    shutil.copy(certs.ca_file, same_ca_elsewhere)
    await run(rotating.url, ca_file=certs.ca_file)
    assert (await run(rotating.url, ca_file=certs.ca_file)).details["tls_resumed"] is True

    unverified = await run(rotating.url, verify_tls=False)
    assert unverified.ok, unverified.error
    assert unverified.details["tls_resumed"] is False
    other_file = await run(rotating.url, ca_file=str(same_ca_elsewhere))
    assert other_file.ok, other_file.error
    assert other_file.details["tls_resumed"] is False
    # the system's CAs do not know the test CA: no stored session lets the check through
    system = await run(rotating.url)
    assert system.error_kind is ErrorKind.TLS
    assert system.error == (
        "TLS certificate verification failed: unable to get local issuer certificate"
    )
    # each setting keeps its own session
    assert (await run(rotating.url, verify_tls=False)).details["tls_resumed"] is True
    assert (await run(rotating.url, ca_file=certs.ca_file)).details["tls_resumed"] is True


async def _not_tls(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    writer.write(b"SSH-2.0-OpenSSH_9.2 not TLS\r\n")
    await writer.drain()
    writer.close()


async def test_a_failed_handshake_drops_the_session(
    certs: Certificates, clock: Clock, targets: Targets
) -> None:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certs.ca.issue_cert("127.0.0.1").configure_cert(context)
    listener = await asyncio.start_server(_answer, "127.0.0.1", 0, ssl=context)
    port = listener.sockets[0].getsockname()[1]
    url = f"https://127.0.0.1:{port}/"
    assert (await run(url, ca_file=certs.ca_file)).ok
    assert len(SESSIONS) == 1
    # a TLS failure at another target keeps this target's session
    bad = await run(targets.url("https-untrusted"), ca_file=certs.ca_file)
    assert bad.error_kind is ErrorKind.TLS
    assert len(SESSIONS) == 1
    # the same address now answers with something else: the handshake fails, the session goes
    listener.close()
    await listener.wait_closed()
    impostor = await asyncio.start_server(_not_tls, "127.0.0.1", port)
    try:
        failed = await run(url, ca_file=certs.ca_file, timeout=5)
        assert failed.error_kind is ErrorKind.TLS
        assert failed.error == (
            "TLS failed during the TLS handshake with 127.0.0.1: WRONG_VERSION_NUMBER"
        )
        assert len(SESSIONS) == 0
    finally:
        impostor.close()
        await impostor.wait_closed()


async def test_the_cache_is_bounded(
    certs: Certificates, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(SESSIONS, "capacity", 2)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certs.ca.issue_cert("127.0.0.1").configure_cert(context)
    listeners = [await asyncio.start_server(_answer, "127.0.0.1", 0, ssl=context) for _ in "abc"]
    urls = [f"https://127.0.0.1:{s.sockets[0].getsockname()[1]}/" for s in listeners]
    try:
        for url in urls:
            assert (await run(url, ca_file=certs.ca_file)).ok
        assert len(SESSIONS) == 2
        # the least recently used (the first) was dropped; the last two resume
        assert (await run(urls[0], ca_file=certs.ca_file)).details["tls_resumed"] is False
        assert (await run(urls[2], ca_file=certs.ca_file)).details["tls_resumed"] is True
    finally:
        for listener in listeners:
            listener.close()
