"""The status page's history as Atom (RFC 4287) and RSS 2.0 feeds
(``/status/history.atom``, ``/status/history.rss``): published incidents with their
updates, and public maintenance, newest first. Pure.

Built with ElementTree, so every text is escaped as XML; an entry's content is HTML (the
updates, each escaped as HTML first), which a feed reader shows as text. Characters XML 1.0
cannot carry (control characters in catalog text) are dropped, so a hostile name cannot
make the feed unreadable.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree

from markupsafe import Markup

from infradex.statuspage.incidents import PublicIncident
from infradex.statuspage.maintenance import PublicMaintenance
from infradex.statuspage.paths import (
    ATOM_PATH,
    HISTORY_PATH,
    RSS_PATH,
    incident_key,
    incident_path,
    maintenance_path,
    site_root,
)
from infradex.statuspage.v2 import PageInfo

__all__ = ["ENTRIES", "FeedEntry", "atom", "feed_entries", "rss"]

#: the newest entries a feed carries
ENTRIES = 50
ATOM_NS = "http://www.w3.org/2005/Atom"
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _text(value: str) -> str:
    return _NOT_XML.sub("", value)


@dataclass(frozen=True, slots=True)
class FeedEntry:
    id: str  # a URL, the same for the same incident or occurrence forever
    title: str
    link: str
    published: datetime
    updated: datetime
    content: str  # HTML


def _step(status: str) -> str:
    return status.replace("_", " ").capitalize()


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _incident_entry(root: str, incident: PublicIncident) -> FeedEntry:
    link = root + incident_path(incident_key(incident.id))
    content = Markup("").join(
        Markup("<p><strong>{}</strong> ({})<br>{}</p>").format(
            _step(u.status), _stamp(u.created_at), u.body
        )
        for u in reversed(incident.updates)
    )
    postmortem = incident.public_postmortem
    if postmortem is not None:  # first, as on its page
        content = (
            Markup("<p><strong>Postmortem</strong> ({})<br>{}</p>").format(
                _stamp(postmortem.updated_at), postmortem.body
            )
            + content
        )
    return FeedEntry(
        id=link,
        title=incident.name,
        link=link,
        published=incident.published_at or incident.created_at,
        updated=incident.updated_at,
        content=str(content),
    )


def _maintenance_entry(root: str, maintenance: PublicMaintenance, listed: datetime) -> FeedEntry:
    link = root + maintenance_path(maintenance.id, maintenance.status == "completed")
    updated = {
        "scheduled": min(listed, maintenance.scheduled_for),
        "in_progress": maintenance.scheduled_for,
    }.get(maintenance.status, maintenance.scheduled_until)
    content = Markup("<p><strong>{}</strong>: {} to {}<br>{}</p>").format(
        maintenance.label,
        _stamp(maintenance.scheduled_for),
        _stamp(maintenance.scheduled_until),
        maintenance.body,
    )
    return FeedEntry(
        id=link,
        title=f"{maintenance.name} ({maintenance.label.lower()})",
        link=link,
        published=min(listed, maintenance.scheduled_for),
        updated=updated,
        content=str(content),
    )


def feed_entries(
    info: PageInfo,
    incidents: Sequence[PublicIncident],
    maintenances: Sequence[PublicMaintenance],
    listed: datetime,
) -> tuple[FeedEntry, ...]:
    """The newest ``ENTRIES``, by their last change; ``listed``: since when the page has
    known its upcoming maintenance (the catalog's load)."""
    root = site_root(info.url)
    found = [_incident_entry(root, i) for i in incidents if i.published_at is not None]
    seen: set[str] = set()
    for maintenance in maintenances:
        if maintenance.id not in seen:
            seen.add(maintenance.id)
            found.append(_maintenance_entry(root, maintenance, listed))
    found.sort(key=lambda e: (e.updated, e.id), reverse=True)
    return tuple(found[:ENTRIES])


def _xml(element: ElementTree.Element) -> bytes:
    body: bytes = ElementTree.tostring(element, encoding="utf-8", xml_declaration=True)
    return body + b"\n"


def _sub(parent: ElementTree.Element, tag: str, text: str | None = None, **attrs: str) -> None:
    child = ElementTree.SubElement(parent, tag, {k: _text(v) for k, v in attrs.items()})
    if text is not None:
        child.text = _text(text)


def atom(info: PageInfo, entries: Sequence[FeedEntry], updated: datetime) -> bytes:
    root = site_root(info.url)
    feed = ElementTree.Element("feed", {"xmlns": ATOM_NS, "xml:lang": "en"})
    _sub(feed, "id", root + ATOM_PATH)
    _sub(feed, "title", f"{info.name}: incident history")
    newest = max([updated, *(e.updated for e in entries)])
    _sub(feed, "updated", newest.astimezone(UTC).isoformat())
    _sub(feed, "link", rel="self", type="application/atom+xml", href=root + ATOM_PATH)
    _sub(feed, "link", rel="alternate", type="text/html", href=root + HISTORY_PATH)
    author = ElementTree.SubElement(feed, "author")
    _sub(author, "name", info.name)
    for entry in entries:
        item = ElementTree.SubElement(feed, "entry")
        _sub(item, "id", entry.id)
        _sub(item, "title", entry.title, type="text")
        _sub(item, "link", rel="alternate", type="text/html", href=entry.link)
        _sub(item, "published", entry.published.astimezone(UTC).isoformat())
        _sub(item, "updated", entry.updated.astimezone(UTC).isoformat())
        _sub(item, "content", entry.content, type="html")
    return _xml(feed)


def rss(info: PageInfo, entries: Sequence[FeedEntry], updated: datetime) -> bytes:
    root = site_root(info.url)
    document = ElementTree.Element("rss", {"version": "2.0", "xmlns:atom": ATOM_NS})
    channel = ElementTree.SubElement(document, "channel")
    _sub(channel, "title", f"{info.name}: incident history")
    _sub(channel, "link", root + HISTORY_PATH)
    _sub(channel, "description", f"Incidents and maintenance on {info.name}")
    _sub(channel, "language", "en")
    newest = max([updated, *(e.updated for e in entries)])
    _sub(channel, "lastBuildDate", format_datetime(newest.astimezone(UTC), usegmt=True))
    _sub(channel, "atom:link", rel="self", type="application/rss+xml", href=root + RSS_PATH)
    for entry in entries:
        item = ElementTree.SubElement(channel, "item")
        _sub(item, "title", entry.title)
        _sub(item, "link", entry.link)
        _sub(item, "guid", entry.id, isPermaLink="true")
        _sub(item, "pubDate", format_datetime(entry.updated.astimezone(UTC), usegmt=True))
        _sub(item, "description", entry.content)
    return _xml(document)
