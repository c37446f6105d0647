"""The address in message links: INFRADEX_BASE_URL when set, else the listener's own."""

from __future__ import annotations

import pytest

from infradex.cli.base_url import listener_base_url


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("127.0.0.1", 8123, "http://127.0.0.1:8123"),
        ("localhost", 9000, "http://localhost:9000"),
        ("192.0.2.10", 8000, "http://192.0.2.10:8000"),
        ("2001:db8::1", 8443, "http://[2001:db8::1]:8443"),
    ],
)
def test_without_a_base_url_links_carry_the_listener(host: str, port: int, expected: str) -> None:
    assert listener_base_url(None, host, port) == (expected, None)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", ""])
def test_every_address_keeps_loopback_and_says_so(host: str) -> None:
    url, warning = listener_base_url(None, host, 8080)
    assert url == "http://127.0.0.1:8080"
    assert warning is not None and "INFRADEX_BASE_URL" in warning and "127.0.0.1:8080" in warning


def test_a_set_base_url_wins_and_a_loopback_one_is_warned_about() -> None:
    assert listener_base_url("https://ops.example.org", "0.0.0.0", 80) == (
        "https://ops.example.org",
        None,
    )
    url, warning = listener_base_url("http://localhost:8000", "192.0.2.10", 8000)
    assert url == "http://localhost:8000"
    assert warning is not None and "192.0.2.10" in warning
