"""The session cache's rule (``probes/resumption.py``) on real OpenSSL sessions made in memory
(two ``SSLObject``s joined by memory BIOs: no socket)."""

from __future__ import annotations

import contextlib
import ssl
from datetime import UTC, datetime, timedelta

import pytest
import trustme

from infradex.probes.resumption import (
    FULL_HANDSHAKE_EVERY,
    OFFERED_SESSION,
    CertificateFacts,
    ResumableContext,
    SessionCache,
    SessionKey,
)

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
KEY = SessionKey("127.0.0.1", 443, "127.0.0.1", True, "/ca.pem")


def _contexts() -> tuple[ResumableContext, ssl.SSLContext]:
    ca = trustme.CA()
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(server)
    client = ResumableContext(ssl.PROTOCOL_TLS_CLIENT)
    ca.configure_trust(client)
    return client, server


def _connect(client: ssl.SSLContext, server: ssl.SSLContext) -> ssl.SSLObject:
    """A handshake in memory, then one byte from the server (TLS 1.3 tickets come after the
    handshake)."""
    c_in, c_out, s_in, s_out = (ssl.MemoryBIO() for _ in range(4))
    near = client.wrap_bio(c_in, c_out, server_hostname="127.0.0.1")
    far = server.wrap_bio(s_in, s_out, server_side=True)
    for _ in range(10):
        for side in (near, far):
            with contextlib.suppress(ssl.SSLWantReadError):  # waiting for the other side
                side.do_handshake()
        s_in.write(c_out.read())
        c_in.write(s_out.read())
    far.write(b"x")
    c_in.write(s_out.read())
    assert near.read(1) == b"x"
    return near


@pytest.fixture(scope="module")
def contexts() -> tuple[ResumableContext, ssl.SSLContext]:
    return _contexts()


def _cache() -> tuple[SessionCache, list[datetime]]:
    moments = [NOW]
    return SessionCache(capacity=2, now=lambda: moments[0]), moments


def test_the_offered_session_resumes(contexts: tuple[ResumableContext, ssl.SSLContext]) -> None:
    client, server = contexts
    cache, _ = _cache()
    first = _connect(client, server)
    assert first.session_reused is False
    facts = CertificateFacts(NOW.timestamp() + 90 * 86400, NOW)
    cache.keep(KEY, client, first, facts)
    offered = cache.offer(KEY, client, horizon=30 * 86400)
    assert offered is not None and offered[1] == facts
    token = OFFERED_SESSION.set(offered[0])
    try:
        second = _connect(client, server)
    finally:
        OFFERED_SESSION.reset(token)
    assert second.session_reused is True
    assert _connect(client, server).session_reused is False  # nothing offered outside


def test_the_rule_for_a_full_handshake(contexts: tuple[ResumableContext, ssl.SSLContext]) -> None:
    client, server = contexts
    session = _connect(client, server)
    day = 86400.0

    def offered(not_after: float | None, age: timedelta, horizon: float, same: bool) -> bool:
        cache, moments = _cache()
        cache.keep(KEY, client, session, CertificateFacts(not_after, NOW))
        moments[0] = NOW + age
        other = client if same else _contexts()[0]
        return cache.offer(KEY, other, horizon) is not None

    expires = NOW.timestamp() + 40 * day
    assert offered(expires, timedelta(minutes=59), 30 * day, same=True)
    assert not offered(expires, FULL_HANDSHAKE_EVERY, 30 * day, same=True)  # the hour is up
    assert not offered(expires, timedelta(0), 40 * day, same=True)  # within the horizon
    assert offered(expires, timedelta(0), 39 * day, same=True)
    assert not offered(None, timedelta(0), 30 * day, same=True)  # no certificate seen
    assert not offered(expires, timedelta(0), 30 * day, same=False)  # another context


def test_lru_bound_and_forget(contexts: tuple[ResumableContext, ssl.SSLContext]) -> None:
    client, server = contexts
    cache, _ = _cache()
    facts = CertificateFacts(NOW.timestamp() + 90 * 86400, NOW)
    keys = [SessionKey(f"h{n}", 443, f"h{n}", True, None) for n in range(3)]
    for key in keys[:2]:
        cache.keep(key, client, _connect(client, server), facts)
    assert cache.offer(keys[0], client, 0) is not None  # keys[0] is now the most recent
    cache.keep(keys[2], client, _connect(client, server), facts)
    assert len(cache) == 2
    assert cache.offer(keys[1], client, 0) is None  # the least recently used went
    cache.forget(keys[2])
    assert cache.offer(keys[2], client, 0) is None
    assert cache.offer(keys[0], client, 0) is not None


def test_a_cache_of_size_zero_keeps_nothing(
    contexts: tuple[ResumableContext, ssl.SSLContext],
) -> None:
    client, server = contexts
    cache = SessionCache(capacity=0, now=lambda: NOW)
    cache.keep(KEY, client, _connect(client, server), CertificateFacts(None, NOW))
    assert len(cache) == 0
