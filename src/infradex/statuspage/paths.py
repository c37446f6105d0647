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
    "UPTIME_PATH",
    "export_name",
    "incident_key",
    "incident_path",
    "maintenance_path",
    "media_type",
    "site_root",
    "uptime_page_path",
]

STATUS_PATH = "/status"
HISTORY_PATH = "/status/history"
ATOM_PATH = "/status/history.atom"
RSS_PATH = "/status/history.rss"
INCIDENTS_PREFIX = "/status/incidents/"
UPTIME_PATH = "/status/uptime"

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


def maintenance_path(maintenance_id: str, completed: bool) -> str:
    """Where an occurrence is listed: on the page until it is completed (upcoming, running,
    verifying), then in the history."""
    return f"{HISTORY_PATH if completed else STATUS_PATH}#maintenance-{maintenance_id}"


def uptime_page_path(page: int) -> str:
    """The uptime history's page ``page`` (1: the last three months, as Statuspage's
    ``/uptime?page=2`` goes back three more)."""
    return UPTIME_PATH if page == 1 else f"{UPTIME_PATH}?page={page}"


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
    if relative.startswith(UPTIME_PATH.lstrip("/") + "?page="):
        # a static host ignores the query: the older pages are files of their own
        # (docs/status-page.md, "Static export", says how to map ``?page=N`` to them)
        number = relative.rsplit("=", 1)[1]
        return f"{UPTIME_PATH.lstrip('/')}/page-{number}/index.html"
    return relative if path in (ATOM_PATH, RSS_PATH) else f"{relative}/index.html"


def site_root(page_url: str) -> str:
    """Where the paths above start, from the page's address (``https://status.example.org``
    with a status host, else the server's base URL + ``/status``)."""
    return page_url.rstrip("/").removesuffix(STATUS_PATH)
