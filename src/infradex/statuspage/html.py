"""The public status page as one HTML document: no script, one stylesheet from the site
(the strict CSP holds), readable on a phone, states in words as well as colours. Pure.

Like the JSON, it is written from an allowlist: public names, descriptions and states only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from importlib import resources

from markupsafe import Markup

from infradex.statuspage.derive import (
    NOT_MONITORED_DESCRIPTION,
    ComponentState,
    Status,
    indicator,
    worst,
)
from infradex.statuspage.maintenance import PublicMaintenance
from infradex.statuspage.paths import (
    ATOM_PATH,
    HISTORY_PATH,
    RSS_PATH,
    UPTIME_PATH,
    incident_key,
    incident_path,
)
from infradex.statuspage.subscriber_messages import SUBSCRIBE_PATH
from infradex.statuspage.v2 import PageInfo, Snapshot

__all__ = ["STYLESHEET", "document", "render_page", "stylesheet", "when"]

#: the page's stylesheet, served next to it (also on INFRADEX_STATUS_HOST)
STYLESHEET = "/status/status.css"


def stylesheet() -> bytes:
    return (resources.files("infradex.statuspage") / "status.css").read_bytes()


def when(value: datetime) -> Markup:
    """A time as people read it, machine-readable too."""
    text = value.strftime("%Y-%m-%d %H:%M UTC")
    # digits, "-", ":", "+", "T", " " and "UTC": nothing to escape (a thousand a page)
    return Markup(f'<time datetime="{value.isoformat()}">{text}</time>')


def _badge(status: Status, monitored: bool = True) -> Markup:
    """A state in words; on a page nothing monitors, "Not monitored" rather than a claim
    that a component works (a person's override or maintenance still shows)."""
    if not monitored and status is Status.OPERATIONAL:
        return Markup('<span class="state state-not-monitored">Not monitored</span>')
    return Markup('<span class="state state-{}">{}</span>').format(status.value, status.label)


def _bars(bars: Mapping[str, Markup], key: str) -> Markup:
    found = bars.get(key)
    return Markup('<div class="uptime">{}</div>').format(found) if found else Markup("")


def _component(state: ComponentState, bars: Mapping[str, Markup], monitored: bool) -> Markup:
    component = state.component
    description = (
        Markup('<p class="description">{}</p>').format(component.description)
        if component.description
        else Markup("")
    )
    return Markup(
        '<li class="component" id="component-{}"><span class="name">{}</span> {}{}{}</li>'
    ).format(
        component.id,
        component.name,
        _badge(state.status, monitored),
        description,
        _bars(bars, component.id),
    )


def _components(snapshot: Snapshot, bars: Mapping[str, Markup]) -> Markup:
    page = snapshot.page
    shown = {c.component.id: c for c in page.components if page.shown(c)}
    entries: list[tuple[int, Markup]] = []
    for state in shown.values():
        if state.component.group is None:
            entries.append((state.component.position, _component(state, bars, page.monitored)))
    for group in page.groups:
        members = [shown[m.component.id] for m in group.members if m.component.id in shown]
        if not members:
            continue
        items = Markup("").join(_component(m, bars, page.monitored) for m in members)
        entries.append(
            (
                group.group.position,
                Markup(
                    '<li class="group" id="group-{}"><h3><span class="name">{}</span> {}</h3>'
                    '{}<ul class="members">{}</ul></li>'
                ).format(
                    group.group.id,
                    group.group.name,
                    _badge(worst(m.status for m in members), page.monitored),
                    _bars(bars, group.group.id),
                    items,
                ),
            )
        )
    body = Markup("").join(item for _, item in sorted(entries, key=lambda pair: pair[0]))
    return Markup('<ul class="components">{}</ul>').format(body)


def _maintenances(items: tuple[PublicMaintenance, ...]) -> Markup:
    shown = [m for m in items if m.status != "completed"]
    if not shown:
        return Markup("")
    rows = Markup("").join(
        Markup('<li id="maintenance-{}"><strong>{}</strong> ({}): {} to {}. {}</li>').format(
            m.id,
            m.name,
            m.label.lower(),
            when(m.scheduled_for),
            when(m.scheduled_until),
            m.body,
        )
        for m in shown
    )
    return Markup(
        '<section aria-labelledby="maintenance"><h2 id="maintenance">Scheduled maintenance</h2>'
        '<ul class="maintenances">{}</ul></section>'
    ).format(rows)


def _incidents(snapshot: Snapshot) -> Markup:
    shown = [i for i in snapshot.incidents if i.unresolved]
    if not shown:
        return Markup("")
    items = []
    for incident in shown:
        updates = Markup("").join(
            Markup("<li><strong>{}</strong> ({}): {}</li>").format(
                u.status.capitalize(), when(u.created_at), u.body
            )
            for u in reversed(incident.updates)
        )
        items.append(
            Markup(
                '<li class="incident impact-{}" id="incident-{}"><h3><a href="{}">{}</a></h3>'
                '<ul class="updates">{}</ul></li>'
            ).format(
                incident.impact,
                incident_key(incident.id),
                incident_path(incident_key(incident.id)),
                incident.name,
                updates,
            )
        )
    return Markup(
        '<section aria-labelledby="incidents"><h2 id="incidents">Current incidents</h2>'
        '<ul class="incidents">{}</ul></section>'
    ).format(Markup("").join(items))


def _stale(snapshot: Snapshot, stale_after: timedelta) -> Markup:
    if not snapshot.page.monitored:
        return Markup(
            '<p class="not-monitored" role="note"><strong>Not monitored:</strong> no monitor '
            "checks the services on this page, so their states are not known. Incidents and "
            "maintenance below are written by people.</p>"
        )
    if not snapshot.page.stale:
        return Markup("")
    minutes = max(1, int(stale_after.total_seconds() // 60))
    last = snapshot.page.last_report
    since = (
        Markup("the monitor last reported at {}").format(when(last))
        if last is not None
        else Markup("the monitor has not reported yet")
    )
    known = (
        "The states below are the last known."
        if last is not None
        else "No state below has been confirmed by a check."
    )
    return Markup(
        '<p class="stale" role="alert"><strong>Status may be out of date:</strong> {} '
        "(it should report at least every {} minutes). {}</p>"
    ).format(since, minutes, known)


def _subscribe(snapshot: Snapshot) -> Markup:
    """The sign-up form, folded (no script): email or webhook, and the components to hear
    about (none ticked: all). It posts to the server (docs/status-page.md, "Subscribers")."""
    public = [c.component for c in snapshot.page.components if c.component.public]
    choices = Markup("").join(
        Markup('<label><input type="checkbox" name="component" value="{}"> {}{}</label>').format(
            c.id, c.name, Markup(" <small>({})</small>").format(c.group) if c.group else ""
        )
        for c in public
    )
    components = (
        Markup(
            '<fieldset class="choices"><legend>Components</legend>'
            '<p class="hint">Tick none to hear about all of them.</p>{}</fieldset>'
        ).format(choices)
        if public
        else Markup("")
    )
    return Markup(
        '<details class="subscribe" id="subscribe"><summary>Subscribe to updates</summary>'
        '<form method="post" action="{action}">'
        '<fieldset class="choices"><legend>How</legend>'
        '<label><input type="radio" name="kind" value="email" checked> By email</label>'
        '<label><input type="radio" name="kind" value="webhook"> By webhook (a signed POST '
        "to your URL)</label></fieldset>"
        '<label for="subscribe-address">Email address or webhook URL</label>'
        '<input type="text" id="subscribe-address" name="address" required maxlength="2000" '
        'autocomplete="email" spellcheck="false">'
        "{components}"
        '<p class="hint">By email you get a link to confirm first; every message has a '
        "link to unsubscribe.</p>"
        '<button type="submit">Subscribe</button></form></details>'
    ).format(action=SUBSCRIBE_PATH, components=components)


def document(title: str, body: Markup) -> str:
    """A whole status-page document around ``body``: the stylesheet, no script."""
    page = Markup(
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{title}</title>"
        '<link rel="icon" href="data:,">'  # no /favicon.ico request (the status host has none)
        '<link rel="stylesheet" href="{css}">'
        '<link rel="alternate" type="application/atom+xml" title="Incident history (Atom)" '
        'href="{atom}">'
        '<link rel="alternate" type="application/rss+xml" title="Incident history (RSS)" '
        'href="{rss}"></head>'
        '<body><main class="status-page">{body}</main></body></html>\n'
    ).format(title=title, css=STYLESHEET, atom=ATOM_PATH, rss=RSS_PATH, body=body)
    return str(page)


def render_page(
    info: PageInfo,
    snapshot: Snapshot,
    stale_after: timedelta,
    bars: Mapping[str, Markup] | None = None,
) -> str:
    """The page; ``bars``: each component's and group's 90-day bars (``statuspage.bars``),
    when counted."""
    found, description = indicator(snapshot.page)
    body = Markup(
        "<header><h1>{name}</h1></header>"
        '<p class="overall overall-{indicator}" role="status">{description}</p>'
        "{stale}{incidents}{maintenance}"
        '<section aria-labelledby="components"><h2 id="components">Components</h2>{components}'
        "</section>{subscribe}"
        '<footer><p>Last updated {updated}. <a href="{history}">Incident history</a> · '
        '<a href="{uptime}">Uptime history</a> · '
        '<a href="{atom}">Atom</a> · <a href="{rss}">RSS</a> · '
        '<a href="/api/v2/summary.json">This page as JSON</a> (Statuspage API v2).</p></footer>'
    ).format(
        name=info.name,
        # Statuspage's indicator stays "none" for a page nothing monitors (no false alarm for
        # its clients); the banner is grey, not the green of "all operational"
        indicator="unmonitored" if description == NOT_MONITORED_DESCRIPTION else found,
        description=description,
        stale=_stale(snapshot, stale_after),
        incidents=_incidents(snapshot),
        maintenance=_maintenances(snapshot.maintenances),
        components=_components(snapshot, bars or {}),
        subscribe=_subscribe(snapshot),
        updated=when(snapshot.page.updated_at),
        history=HISTORY_PATH,
        uptime=UPTIME_PATH,
        atom=ATOM_PATH,
        rss=RSS_PATH,
    )
    return document(info.name, body)
