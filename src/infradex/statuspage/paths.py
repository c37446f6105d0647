"""Where the status page's documents live, the same on the server and in a static export
(docs/status-page.md, "Routes"): the page, an incident's page, the history and its feeds."""

from __future__ import annotations

from infradex.statuspage.components import stable_id

__all__ = [
    "ATOM_PATH",
    "HISTORY_PATH",
    "INCIDENTS_PREFIX",
    "RSS_PATH",
    "STATUS_PATH",
    "export_name",
    "incident_key",
    "incident_path",
    "media_type",
    "site_root",
]

STATUS_PATH = "/status"
HISTORY_PATH = "/status/history"
ATOM_PATH = "/status/history.atom"
RSS_PATH = "/status/history.rss"
INCIDENTS_PREFIX = "/status/incidents/"

_MEDIA_TYPES = {
    ".atom": "application/atom+xml",
    ".rss": "application/rss+xml",
    ".json": "application/json",
}


def incident_key(incident_id: int) -> str:
    """A published incident's public id (Statuspage's ``id``, and its page's name): the
    store's number is not shown, so the count of incidents does not leak."""
    return stable_id("incident", str(incident_id))


def incident_path(key: str) -> str:
    return f"{INCIDENTS_PREFIX}{key}"


def media_type(path: str) -> str:
    """The Content-Type of one of the page's documents (HTML unless a feed or JSON)."""
    for suffix, found in _MEDIA_TYPES.items():
        if path.endswith(suffix):
            return found
    return "text/html; charset=utf-8"


def export_name(path: str) -> str:
    """The file a static export writes ``path`` into: a page as ``<path>/index.html`` (what
    a static host serves for ``<path>/``), a feed under its own name."""
    relative = path.lstrip("/")
    return relative if path in (ATOM_PATH, RSS_PATH) else f"{relative}/index.html"


def site_root(page_url: str) -> str:
    """Where the paths above start, from the page's address (``https://status.example.org``
    with a status host, else the server's base URL + ``/status``)."""
    return page_url.rstrip("/").removesuffix(STATUS_PATH)
