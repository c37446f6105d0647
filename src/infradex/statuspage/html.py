"""The public status page as one HTML document: no script, one stylesheet from the site
(the strict CSP holds), readable on a phone, states in words as well as colours. Pure.

Like the JSON, it is written from an allowlist: public names, descriptions and states only.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from importlib import resources

from markupsafe import Markup

from infradex.statuspage.components import stable_id
from infradex.statuspage.derive import ComponentState, Status, indicator, worst
from infradex.statuspage.maintenance import PublicMaintenance
from infradex.statuspage.v2 import PageInfo, Snapshot

__all__ = ["STYLESHEET", "render_page", "stylesheet"]

#: the page's stylesheet, served next to it (also on INFRADEX_STATUS_HOST)
STYLESHEET = "/status/status.css"


def stylesheet() -> bytes:
    return (resources.files("infradex.statuspage") / "status.css").read_bytes()


def _when(value: datetime) -> Markup:
    text = value.strftime("%Y-%m-%d %H:%M UTC")
    return Markup('<time datetime="{}">{}</time>').format(value.isoformat(), text)


def _badge(status: Status) -> Markup:
    return Markup('<span class="state state-{}">{}</span>').format(status.value, status.label)


def _bars(bars: Mapping[str, Markup], key: str) -> Markup:
    found = bars.get(key)
    return Markup('<div class="uptime">{}</div>').format(found) if found else Markup("")


def _component(state: ComponentState, bars: Mapping[str, Markup]) -> Markup:
    component = state.component
    description = (
        Markup('<p class="description">{}</p>').format(component.description)
        if component.description
        else Markup("")
    )
    return Markup(
        '<li class="component" id="component-{}"><span class="name">{}</span> {}{}{}</li>'
    ).format(
        component.id, component.name, _badge(state.status), description, _bars(bars, component.id)
    )


def _components(snapshot: Snapshot, bars: Mapping[str, Markup]) -> Markup:
    page = snapshot.page
    shown = {c.component.id: c for c in page.components if page.shown(c)}
    entries: list[tuple[int, Markup]] = []
    for state in shown.values():
        if state.component.group is None:
            entries.append((state.component.position, _component(state, bars)))
    for group in page.groups:
        members = [shown[m.component.id] for m in group.members if m.component.id in shown]
        if not members:
            continue
        items = Markup("").join(_component(m, bars) for m in members)
        entries.append(
            (
                group.group.position,
                Markup(
                    '<li class="group" id="group-{}"><h3><span class="name">{}</span> {}</h3>'
                    '{}<ul class="members">{}</ul></li>'
                ).format(
                    group.group.id,
                    group.group.name,
                    _badge(worst(m.status for m in members)),
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
            "in progress" if m.status == "in_progress" else "scheduled",
            _when(m.scheduled_for),
            _when(m.scheduled_until),
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
                u.status.capitalize(), _when(u.created_at), u.body
            )
            for u in reversed(incident.updates)
        )
        items.append(
            Markup(
                '<li class="incident impact-{}" id="incident-{}"><h3>{}</h3>'
                '<ul class="updates">{}</ul></li>'
            ).format(
                incident.impact, stable_id("incident", str(incident.id)), incident.name, updates
            )
        )
    return Markup(
        '<section aria-labelledby="incidents"><h2 id="incidents">Current incidents</h2>'
        '<ul class="incidents">{}</ul></section>'
    ).format(Markup("").join(items))


def _stale(snapshot: Snapshot, stale_after: timedelta) -> Markup:
    if not snapshot.page.stale:
        return Markup("")
    minutes = max(1, int(stale_after.total_seconds() // 60))
    last = snapshot.page.last_report
    since = (
        Markup("the monitor last reported at {}").format(_when(last))
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


def render_page(
    info: PageInfo,
    snapshot: Snapshot,
    stale_after: timedelta,
    bars: Mapping[str, Markup] | None = None,
) -> str:
    """The page; ``bars``: each component's and group's 90-day bars (SVG), when known."""
    found, description = indicator(snapshot.page)
    document = Markup(
        "<!doctype html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<title>{name}</title>"
        '<link rel="icon" href="data:,">'  # no /favicon.ico request (the status host has none)
        '<link rel="stylesheet" href="{css}"></head>'
        '<body><main class="status-page">'
        "<header><h1>{name}</h1></header>"
        '<p class="overall overall-{indicator}" role="status">{description}</p>'
        "{stale}{incidents}{maintenance}"
        '<section aria-labelledby="components"><h2 id="components">Components</h2>{components}'
        "</section>"
        '<footer><p>Last updated {updated}. <a href="/api/v2/summary.json">This page as JSON'
        "</a> (Statuspage API v2).</p></footer>"
        "</main></body></html>\n"
    ).format(
        name=info.name,
        css=STYLESHEET,
        indicator=found,
        description=description,
        stale=_stale(snapshot, stale_after),
        incidents=_incidents(snapshot),
        maintenance=_maintenances(snapshot.maintenances),
        components=_components(snapshot, bars or {}),
        updated=_when(snapshot.page.updated_at),
    )
    return str(document)
