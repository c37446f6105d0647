"""Who is reading, for what they may see: secrets and response excerpts are for ``admin``
only (a token with the admin scope, or a signed-in admin account); everyone else, anonymous
or holding a read or write token, gets :mod:`infradex.catalog.secrets`' redaction."""

from __future__ import annotations

from typing import Any

from fastapi import Request

from infradex.catalog.secrets import redact_document, redact_url
from infradex.web.auth import is_admin

#: result details holding what the target said (an SMTP greeting, an unexpected answer)
_PEER_TEXT = frozenset({"excerpt", "greeting"})

__all__ = ["for_reader", "observed_for_reader", "sees_secrets", "url_for_reader"]


async def sees_secrets(request: Request) -> bool:
    """An admin token or an admin's session; decided once per request."""
    cached = getattr(request.state, "sees_secrets", None)
    if cached is not None:
        return bool(cached)
    allowed = await is_admin(request)
    request.state.sees_secrets = allowed
    return allowed


def for_reader(document: dict[str, Any], admin: bool) -> dict[str, Any]:
    """An entity's JSON as this reader may see it."""
    return document if admin else redact_document(document)


def url_for_reader(url: str, admin: bool) -> str:
    return url if admin else redact_url(url)


def observed_for_reader(observed: Any, admin: bool) -> Any:
    """A result's ``observed`` without the response excerpts kept for admins."""
    if admin or not isinstance(observed, dict):
        return observed
    shown = dict(observed)
    shown["conditions"] = [
        {k: v for k, v in c.items() if k != "excerpt"} if isinstance(c, dict) else c
        for c in observed.get("conditions") or []
    ]
    details = observed.get("details")
    if isinstance(details, dict):
        shown["details"] = {k: v for k, v in details.items() if k not in _PEER_TEXT}
    return shown
