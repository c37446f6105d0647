"""Checks for catalog values that end up as links in every output (pages, Markdown, RST,
the API's consumers): catalog text arrives by pull request, so a ``javascript:`` or ``data:``
address must be refused where it is written, with its file and line. The renderers refuse unsafe
links again at output (defence in depth). A leaf (no infradex imports): the catalog's models
and the channels' models (an email channel's address) both use it.

Check URLs (``checks[].url``) are not links: their scheme picks a probe and is checked in
``catalog.models``.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

__all__ = ["LINK_SCHEMES", "domain_name", "email_address", "github_handle", "link", "web_url"]

#: the schemes a catalog link may use
LINK_SCHEMES = ("http", "https", "mailto", "irc", "ircs")

#: whitespace or control characters: browsers drop them, so "java\tscript:" runs as javascript:
_INVISIBLE = re.compile(r"[\x00-\x20\x7f-\xa0\u1680\u2000-\u200f\u2028-\u202f\u205f\u3000\ufeff]")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
#: a user or organisation (39 characters at most), optionally /team
_GITHUB = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})(?:/[A-Za-z0-9_][A-Za-z0-9._-]*)?$")
#: a host name as written in `domains:` (a leading *. for a wildcard, a trailing dot allowed)
_DOMAIN = re.compile(r"^(?:\*\.)?(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?\.)*"
                     r"[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?\.?$")  # fmt: skip


def _check(value: str, schemes: tuple[str, ...], example: str) -> str:
    allowed = ", ".join(schemes)
    if _INVISIBLE.search(value):
        raise ValueError(
            f"{value!r} contains a space or a control character; a link allows none "
            f"(schemes allowed: {allowed})"
        )
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        shown = f"scheme {parts.scheme + ':'!r}" if parts.scheme else "no scheme"
        raise ValueError(
            f"{value!r} has {shown}; a link here may only use {allowed} (e.g. {example})"
        )
    if scheme != "mailto" and not parts.hostname:
        raise ValueError(f"{value!r} has no host; write e.g. {example}")
    if scheme == "mailto" and not _EMAIL.match(parts.path):
        raise ValueError(f"{value!r} is not a mailto: address; write e.g. mailto:infra@example.org")
    return value


def link(value: str) -> str:
    """A link: http, https, mailto, irc or ircs."""
    return _check(value, LINK_SCHEMES, "https://example.org/")


def web_url(value: str) -> str:
    """A web page: http or https only (a website, a source repository, an issue tracker)."""
    parts = urlsplit(value)
    if _INVISIBLE.search(value) or parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"{value!r} is not a web address (http or https); write e.g. "
                         "https://example.org/")  # fmt: skip
    if not parts.hostname:
        raise ValueError(f"{value!r} is not a web address; write e.g. https://example.org/")
    return value


def email_address(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an email address")
    return value


def github_handle(value: str) -> str:
    if not _GITHUB.match(value) or ".." in value:
        raise ValueError(
            f"{value!r} is not a GitHub user or org/team; write e.g. python or python/infra"
        )
    return value


def domain_name(value: str) -> str:
    if not _DOMAIN.match(value) or len(value) > 254:
        raise ValueError(
            f"{value!r} is not a domain name; write the host name only, e.g. docs.python.org"
        )
    return value
