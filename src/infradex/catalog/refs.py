"""References between entities: ``kind:name``, e.g. ``provider:fastly``."""

from __future__ import annotations

import re
from typing import NamedTuple

__all__ = ["KINDS", "SLUG", "Ref", "RefError", "canonical_kind", "parse_ref"]

#: lower-case kind → the spelling used in ``kind:`` fields
KINDS: dict[str, str] = {
    "provider": "Provider",
    "datacenter": "Datacenter",
    "host": "Host",
    "person": "Person",
    "team": "Team",
    "service": "Service",
    "zone": "Zone",
    "schedule": "Schedule",
    "escalationpolicy": "EscalationPolicy",
}
SLUG = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)*$")


class RefError(ValueError):
    """A reference that cannot be read; the message says how to write it."""


class Ref(NamedTuple):
    """A typed reference; ``str(ref)`` is the canonical ``kind:name`` form."""

    kind: str  # lower-case kind, a key of KINDS
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


def canonical_kind(kind: str) -> str | None:
    """``"Service"``, ``"service"``, ``"SERVICE"`` → ``"service"``; unknown → None."""
    key = kind.lower().replace("-", "").replace("_", "")
    return key if key in KINDS else None


def parse_ref(text: str, allowed: tuple[str, ...] = ()) -> Ref:
    """Read ``kind:name``; a bare ``name`` is accepted when exactly one kind is allowed."""
    if not isinstance(text, str) or not text.strip():
        raise RefError(f"{text!r} is not a reference; write kind:name, e.g. provider:fastly")
    text = text.strip()
    if ":" in text:
        raw_kind, name = text.split(":", 1)
        kind = canonical_kind(raw_kind)
        if kind is None:
            raise RefError(f"{raw_kind!r} in {text!r} is not a kind; kinds are " + ", ".join(KINDS))
    elif len(allowed) == 1:
        kind, name = allowed[0], text
    else:
        raise RefError(
            f"{text!r} needs its kind here; write one of "
            + ", ".join(f"{k}:{text}" for k in allowed)
        )
    if not SLUG.match(name):
        raise RefError(f"{name!r} is not a valid name (lower-case slug)")
    return Ref(kind, name)
