"""What a notification says, rendered once when it is queued: subject, plain text, HTML and the
incident as JSON (for webhooks and PagerDuty's custom details).

A page names the root that failed, what the catalog says it takes down (so a CDN outage is
one message naming every service behind it), which of those are failing now, why this person
is told (the schedule or team of the escalation step) and the one-click links.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

from infradex.catalog.entities import Catalog
from infradex.catalog.queries import impact
from infradex.catalog.refs import Ref, RefError, parse_ref
from infradex.channels.base import Message
from infradex.inert import one_line

__all__ = ["IncidentView", "render", "render_test"]

MAX_LISTED = 25
HEADLINES = {
    "trigger": "DOWN",
    "acknowledge": "ACKNOWLEDGED",
    "resolve": "RESOLVED",
}


@dataclass(slots=True)
class IncidentView:
    """The facts a message needs about an incident."""

    id: int
    key: str
    title: str
    status: str
    opened_at: datetime
    failing: list[tuple[str, str]] = field(default_factory=list)  # (check id, message)
    down_entities: list[str] = field(default_factory=list)  # impacted entities failing now
    resolved_at: datetime | None = None
    acknowledged_by: str | None = None

    def impacted(self, catalog: Catalog) -> list[tuple[Ref, str, str]]:
        """What the catalog says breaks with the root: (ref, effect, why), services first,
        those it takes down before those it only degrades."""
        try:
            root = parse_ref(self.key)
        except RefError:
            return []
        if root not in catalog:
            return []
        affected = impact(catalog, root).affected
        ordered = sorted(affected, key=lambda a: (a.ref.kind != "service", a.effect != "down"))
        return [
            (a.ref, a.effect, a.why(catalog)) for a in ordered if a.ref.kind in ("service", "zone")
        ]

    def to_dict(self, catalog: Catalog, url: str) -> dict[str, Any]:
        impacted = self.impacted(catalog)
        return {
            "id": self.id,
            "key": self.key,
            "title": self.title,
            "status": self.status,
            "root": self.key,
            "openedAt": self.opened_at.isoformat(),
            "resolvedAt": self.resolved_at.isoformat() if self.resolved_at else None,
            "acknowledgedBy": self.acknowledged_by,
            "failing": [{"check": c, "message": m} for c, m in self.failing],
            "impacted": [str(ref) for ref, _, _ in impacted],
            "impactedEffects": {str(ref): effect for ref, effect, _ in impacted},
            "impactedDown": list(self.down_entities),
            "url": url,
        }


def _duration(start: datetime, end: datetime) -> str:
    minutes = max(0, round((end - start).total_seconds() / 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def render(
    catalog: Catalog,
    incident: IncidentView,
    kind: str,
    links: dict[str, str],
    *,
    reason: str = "",
    now: datetime | None = None,
) -> Message:
    """A message of ``kind`` (trigger, reopen, acknowledge, resolve) about ``incident``;
    ``reason`` says why this recipient is told ("on call for Infrastructure staff")."""
    impacted = incident.impacted(catalog)
    headline = HEADLINES.get(kind, kind.upper())
    degraded = sum(effect == "degraded" for _, effect, _ in impacted)
    counts = [f"{len(impacted) - degraded} services impacted"] if len(impacted) > degraded else []
    if degraded:  # a soft dependency or a redundant host: worth knowing, less urgent
        counts.append(f"{degraded} service{'s' if degraded > 1 else ''} degraded")
    count = f" ({', '.join(counts)})" if impacted and kind != "resolve" else ""
    title = " ".join(one_line(incident.title).split())  # no line break may reach a header
    subject = f"[infradex] {headline} #{incident.id}: {title}{count}"
    lines: list[str] = []
    if kind == "resolve" and incident.resolved_at is not None:
        lines.append(
            f"Resolved at {incident.resolved_at:%Y-%m-%d %H:%M} UTC after "
            f"{_duration(incident.opened_at, incident.resolved_at)}."
        )
        subject = f"[infradex] RESOLVED #{incident.id}: {title.removesuffix(' is down')}"
    elif kind == "acknowledge":
        lines.append(f"Acknowledged by {one_line(incident.acknowledged_by or 'someone')}.")
    else:
        lines.append(f"Opened {incident.opened_at:%Y-%m-%d %H:%M} UTC.")
    if incident.failing and kind != "resolve":
        lines.append("")
        lines.append("Failing:")
        # catalog titles and probe messages are one line each: a line break in them could
        # forge a line of the message, such as another "Acknowledge:" link
        lines.extend(
            f"  - {one_line(check)}: {one_line(message)}" for check, message in incident.failing
        )
    if impacted and kind != "resolve":
        lines.append("")
        lines.append(f"Impacted, from the catalog ({len(impacted)}):")
        down = set(incident.down_entities)
        for ref, effect, why in impacted[:MAX_LISTED]:
            mark = " [failing now]" if str(ref) in down else ""
            only = " degraded" if effect == "degraded" else ""
            lines.append(f"  - {one_line(catalog.title(ref))} ({ref}){only}{mark}: {one_line(why)}")
        if len(impacted) > MAX_LISTED:
            lines.append(f"  ... and {len(impacted) - MAX_LISTED} more")
    if reason:
        lines.append("")
        lines.append(one_line(reason))
    labels = (
        ("acknowledge", "Acknowledge"),
        ("resolve", "Resolve"),
        ("incident", "Incident"),
    )
    shown = [(label, links[name]) for name, label in labels if name in links]
    if shown:
        lines.append("")
        lines.extend(f"{label}: {url}" for label, url in shown)
    text = "\n".join(lines) + "\n"
    html = _html(subject, lines, shown)
    return Message(
        kind=kind,
        subject=subject,
        text=text,
        html=html,
        incident=incident.to_dict(catalog, links.get("incident", "")),
        links=dict(links),
        urgent=kind in ("trigger", "reopen"),
    )


def _html(subject: str, lines: list[str], links: list[tuple[str, str]]) -> str:
    body = [f"<h2>{escape(subject.removeprefix('[infradex] '))}</h2>"]
    listing: list[str] = []
    for line in lines:
        if line.startswith("  - "):
            listing.append(f"<li>{escape(line[4:])}</li>")
            continue
        if listing:
            body.append("<ul>" + "".join(listing) + "</ul>")
            listing = []
        if line and not any(line.startswith(f"{label}: ") for label, _ in links):
            body.append(f"<p>{escape(line)}</p>")
    if listing:
        body.append("<ul>" + "".join(listing) + "</ul>")
    if links:
        buttons = " ".join(
            f'<a href="{escape(url)}" style="display:inline-block;padding:8px 14px;'
            f'margin-right:8px;border:1px solid #555;border-radius:4px;text-decoration:none">'
            f"{escape(label)}</a>"
            for label, url in links
        )
        body.append(f"<p>{buttons}</p>")
    return str(Markup("<!doctype html><html><body>{}</body></html>").format(Markup("".join(body))))


def render_test(recipient: str, channel: str, sent_by: str, now: datetime) -> Message:
    recipient, channel, sent_by = one_line(recipient), one_line(channel), one_line(sent_by)
    subject = f"[infradex] Test notification for {recipient} by {channel}"
    text = (
        f"This is a test from infradex, sent by {sent_by} at {now:%Y-%m-%d %H:%M} UTC through "
        f"the same path real pages take. If you can read it, {channel} works for {recipient}.\n"
    )
    return Message(
        kind="test",
        subject=subject,
        text=text,
        html=str(Markup("<!doctype html><html><body><p>{}</p></body></html>").format(text)),
        incident=None,
        links={},
        urgent=False,
    )
