"""Which addresses become links: the one rule every output format shares."""

from __future__ import annotations

import pytest

from infradex.inert import link_target


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a b", "https://example.org/a%20b"),
        ("mailto:a@example.org", "mailto:a@example.org"),
        ("?page=2", "?page=2"),
        ("#services", "#services"),
        ("../login?next=/oncall/x", "../login?next=/oncall/x"),
        ("/incidents/3", "/incidents/3"),
        ("./a", "./a"),
        # a browser reads a raw backslash as a slash (//evil.example); encoded, it is a path
        ("/\\evil.example", "/%5Cevil.example"),
    ],
)
def test_allowed_addresses_are_links(url: str, expected: str) -> None:
    assert link_target(url) == expected


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        " javascript:alert(1)",
        "data:text/html,<script>",
        "file:///etc/passwd",
        "//evil.example/x",
        "vbscript:x",
        "login",
    ],
)
def test_other_addresses_are_text(url: str) -> None:
    assert link_target(url) is None
