"""Which catalog fields hold secrets, and the one redaction every reader below ``admin`` gets.

Decided by field kind, not by route: a check shows only the fields listed public here, a
notification channel only those its kind declares public (``ChannelConfig.public``, in
``channels/<kind>.py``); every other field (headers, bodies, ``send``, URLs and keys of
channels, the keys and secrets of a DNS provider's octoDNS settings, and whatever field a new
channel kind or check option adds) is redacted unless it is a
reference (``env:NAME``, ``file:PATH``: a name, not the secret). Any URL anywhere in a
document loses its userinfo (``https://user:password@host`` → ``https://***@host``).

The API, the HTML pages, ``infradex docs build`` and ``/metrics`` all show what
:func:`redact_document` (entities) and :func:`redact_url` (check URLs) return. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from infradex.catalog.specs import spec_checks
from infradex.channels.registry import channel_kind
from infradex.secretrefs import credential_parameter, is_reference

if TYPE_CHECKING:
    from infradex.catalog.entities import Catalog
    from infradex.catalog.problems import Problem
    from infradex.netpolicy import AddressPolicy

__all__ = [
    "CHECK_PUBLIC",
    "OCTODNS_PUBLIC",
    "REDACTED",
    "literal_check_secrets",
    "redact_channel",
    "redact_check",
    "redact_document",
    "redact_octodns",
    "redact_url",
    "secret_header",
]

REDACTED = "[redacted]"

#: check fields anyone may read (``url`` loses its userinfo); every other field is redacted
CHECK_PUBLIC = frozenset(
    {
        "name", "url", "interval", "timeout", "conditions", "failureThreshold",
        "successThreshold", "locations", "quorum", "method", "followRedirects",
        "maxRedirects", "verifyTls", "ipVersion", "maxBodyBytes", "expect", "starttls",
    }
)  # fmt: skip
#: a DNS provider's octoDNS settings anyone may read: the class and where it is, never keys
OCTODNS_PUBLIC = frozenset({"class", "host", "port", "ipv6", "timeout", "key_name"})

#: header names that carry a credential, for the catalog warning (all values are redacted)
_SECRET_HEADER = re.compile(
    r"^(authorization|proxy-authorization|cookie|x-[a-z0-9-]*(token|key|secret|auth|session)"
    r"[a-z0-9-]*|[a-z0-9-]*(api-?key|token|secret)[a-z0-9-]*)$",
    re.IGNORECASE,
)


def secret_header(name: str) -> bool:
    return _SECRET_HEADER.match(name.strip()) is not None


def redact_url(url: str) -> str:
    """``url`` without its userinfo; a reference or a URL without userinfo as it is."""
    if is_reference(url) or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return REDACTED
    if not parts.netloc or "@" not in parts.netloc:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit(parts._replace(netloc=f"***@{host}"))


def _hidden(value: Any) -> Any:
    return value if is_reference(value) else REDACTED


def redact_check(check: dict[str, Any]) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, value in check.items():
        if key == "url" and isinstance(value, str):
            shown[key] = redact_url(value)
        elif key == "headers" and isinstance(value, dict):
            shown[key] = {name: _hidden(v) for name, v in value.items()}  # names say what
        elif key in CHECK_PUBLIC:
            shown[key] = value
        else:
            shown[key] = _hidden(value)
    return shown


def redact_channel(channel: dict[str, Any]) -> dict[str, Any]:
    """A channel entry with only the fields its kind declares public (an email address is
    on the person's page); a kind this version does not know shows its ``type`` only."""
    kind = channel_kind(channel["type"]) if isinstance(channel.get("type"), str) else None
    public = kind.public if kind is not None else frozenset({"type"})
    return {k: v if k in public else _hidden(v) for k, v in channel.items()}


def redact_octodns(settings: dict[str, Any]) -> dict[str, Any]:
    return {k: v if k in OCTODNS_PUBLIC else _hidden(v) for k, v in settings.items()}


def _walk(value: Any, key: str | None) -> Any:
    if key == "octodns" and isinstance(value, dict):
        return redact_octodns(value)
    if isinstance(value, dict):
        return {k: _walk(v, k) for k, v in value.items()}
    if isinstance(value, list):
        if key == "checks":
            return [redact_check(_walk(c, None)) if isinstance(c, dict) else c for c in value]
        if key == "channels":
            return [redact_channel(c) if isinstance(c, dict) else REDACTED for c in value]
        return [_walk(v, None) for v in value]
    if isinstance(value, str) and "://" in value:
        return redact_url(value)
    return value


def redact_document(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of an entity's JSON (the catalog document, plus whatever the caller added)
    as readers below ``admin`` may see it."""
    shown: dict[str, Any] = _walk(document, None)
    return shown


# ----------------------------------------------------------------------------- lint
def literal_check_secrets(check: Any) -> Iterator[tuple[tuple[str | int, ...], str, str]]:
    """``(field path, what is written out, the fix)`` for each secret a check writes
    literally (a typed :class:`~infradex.catalog.models.Check`)."""
    parts = urlsplit(check.url)
    if parts.password and not is_reference(parts.password):
        yield (
            ("url",),
            "the URL's password",
            f"write the password as a reference: {parts.scheme}://{parts.username}:env:NAME@"
            f"{parts.netloc.rpartition('@')[2]}…, and set NAME in the server's environment",
        )
    for name, value in check.headers.items():
        if secret_header(name) and not is_reference(value):
            yield (
                ("headers", name),
                f"the {name} header",
                f"write `{name}: env:NAME` (or file:PATH) and set NAME in the server's environment",
            )
    for key, value in parse_qsl(parts.query):
        if credential_parameter(key) and not is_reference(value):
            yield (
                ("url",),
                f"the URL's {key} parameter",
                "move the credential to a header written `env:NAME` if the server accepts "
                "one; a query string cannot hold a reference",
            )


# ----------------------------------------------------------------------------- reach
def denied_targets(catalog: Catalog, policy: AddressPolicy) -> list[Problem]:
    """Warnings for checks aimed at a literal address ``policy`` (an
    :class:`~infradex.netpolicy.AddressPolicy`, passed in: the catalog knows no settings)
    denies. Names are checked by the probe after resolution."""
    import ipaddress

    found = []
    for kind in ("service", "provider"):
        for entity in catalog.of_kind(kind):
            for i, check in enumerate(spec_checks(entity)):
                host = urlsplit(check.url).hostname or ""
                try:
                    ipaddress.ip_address(host)
                except ValueError:
                    continue
                network = policy.denied_by(host)
                if network is not None:
                    found.append(
                        entity.problem(
                            "warning",
                            "target-denied",
                            f"check {check.name} aims at {host}, which INFRADEX_MONITOR_DENY "
                            f"denies ({network}): the monitor will not connect to it",
                            "aim the check elsewhere, or allow the address with "
                            "INFRADEX_MONITOR_ALLOW (a range more specific than the deny one)",
                            ("spec", "checks", i, "url"),
                        )
                    )
    return found
