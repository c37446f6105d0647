"""Every catalog value that becomes a link is checked at load: only http, https, mailto, irc and
ircs, never javascript: or data: (the renderers refuse them again at output)."""

from __future__ import annotations

from pathlib import Path

import pytest

from infradex.lint import load

SERVICE = """\
apiVersion: infradex/v1
kind: Service
metadata:
  name: docs
  links: [{url: "LINK", title: Docs}]
spec:
  lifecycle: experimental
  domains: [DOMAIN]
  contacts:
    - {type: CONTACT_TYPE, address: "CONTACT"}
  source: "SOURCE"
  issueTracker: "TRACKER"
  configManagement: {tool: salt, repo: "REPO"}
"""
GOOD = {
    "LINK": "https://docs.example.org/",
    "DOMAIN": "docs.example.org",
    "CONTACT_TYPE": "url",
    "CONTACT": "https://issues.example.org/",
    "SOURCE": "https://git.example.org/docs",
    "TRACKER": "https://git.example.org/docs/issues",
    "REPO": "https://git.example.org/salt",
}
#: (placeholder, value, the line the error is on, the field)
HOSTILE = [
    ("CONTACT", "javascript:alert(document.cookie)", 10, "spec.contacts[0]"),
    ("CONTACT", "JavaScript:alert(1)", 10, "spec.contacts[0]"),
    ("CONTACT", "data:text/html,<script>alert(1)</script>", 10, "spec.contacts[0]"),
    ("CONTACT", "java\tscript:alert(1)", 10, "spec.contacts[0]"),
    ("CONTACT", " javascript:alert(1)", 10, "spec.contacts[0]"),
    ("CONTACT", "//evil.example/", 10, "spec.contacts[0]"),
    ("LINK", "javascript:alert(1)", 5, "metadata.links[0].url"),
    ("LINK", "vbscript:msgbox(1)", 5, "metadata.links[0].url"),
    ("REPO", "javascript:alert(1)", 13, "spec.configManagement.repo"),
    ("REPO", "file:///etc/passwd", 13, "spec.configManagement.repo"),
    ("SOURCE", "javascript://example.org/%0aalert(1)", 11, "spec.source"),
    ("TRACKER", "data:,x", 12, "spec.issueTracker"),
    ("DOMAIN", "evil.example/#", 8, "spec.domains[0]"),
    ("DOMAIN", "user@evil.example", 8, "spec.domains[0]"),
]


def _write(tmp_path: Path, **values: str) -> Path:
    text = SERVICE
    for key, value in {**GOOD, **values}.items():
        text = text.replace(key, value.replace("\\", "\\\\").replace("\t", "\\t"))
    (tmp_path / "services.yaml").write_text(text)
    return tmp_path


def test_the_safe_catalog_loads(tmp_path: Path) -> None:
    assert load(_write(tmp_path)).errors == []


@pytest.mark.parametrize(("key", "value", "line", "field"), HOSTILE)
def test_a_hostile_link_is_refused(
    tmp_path: Path, key: str, value: str, line: int, field: str
) -> None:
    (error,) = load(_write(tmp_path, **{key: value})).errors
    assert (error.file, error.line, error.field) == ("services.yaml", line, field)
    if key != "DOMAIN":
        assert "http, https" in error.message or "web address" in error.message


@pytest.mark.parametrize(
    "address",
    [
        "mailto:infra@example.org",
        "irc://irc.libera.chat/python-infra",
        "ircs://irc.libera.chat:6697/x",
    ],
)
def test_other_link_schemes_are_allowed_in_contacts(tmp_path: Path, address: str) -> None:
    assert load(_write(tmp_path, CONTACT=address)).errors == []


@pytest.mark.parametrize(
    ("kind", "address", "text"),
    [
        ("email", "javascript:alert(1)", "is not an email address"),
        ("email", "a@b.example?subject=x\nbcc:all@example.org", "is not an email address"),
        ("github", "../../evil", "is not a GitHub user or org/team"),
        ("github", "ok-user/../x", "is not a GitHub user or org/team"),
    ],
)
def test_contacts_that_become_links_are_checked_by_type(
    tmp_path: Path, kind: str, address: str, text: str
) -> None:
    (error,) = load(_write(tmp_path, CONTACT_TYPE=kind, CONTACT=address)).errors
    assert (error.line, error.field) == (10, "spec.contacts[0]")
    assert text in error.message


def test_the_error_names_the_allowed_schemes(tmp_path: Path) -> None:
    (error,) = load(_write(tmp_path, CONTACT="javascript:alert(1)")).errors
    assert "http, https, mailto, irc, ircs" in error.message
