"""The address message links carry: INFRADEX_BASE_URL when set, else the one ``serve`` listens
on, so a server on another port does not send links to a port nobody listens on."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["listener_base_url"]

_WILDCARDS = ("", "0.0.0.0", "::")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listener_base_url(given: str | None, host: str, port: int) -> tuple[str, str | None]:
    """(the base URL, a warning to log at start or None). Listening on every address, the
    links keep loopback: the machine's host name is often not the name people reach it by,
    and a link that looks right but leads nowhere is worse than one that says what to set."""
    if given:
        there = urlsplit(given).hostname or ""
        if _loopback(there) and not _loopback(host):
            return given, (
                f"message links point at {given}, which only this machine can open, while the "
                f"server listens on {host or 'every address'}; set INFRADEX_BASE_URL to the "
                "address people reach it at"
            )
        return given, None
    if host in _WILDCARDS:
        url = f"http://127.0.0.1:{port}"
        return url, (
            f"message links point at {url}, which only this machine can open, while the "
            "server listens on every address; set INFRADEX_BASE_URL to the address people "
            "reach it at"
        )
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}", None
