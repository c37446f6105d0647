"""The status page's other pages: one published incident with its update timeline
(``/status/incidents/<id>``) and the history of incidents and maintenance by month
(``/status/history``). Pure; the page's stylesheet, no script; written from public names
and the words people wrote only, like the page."""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from markupsafe import Markup

from infradex.statuspage.components import Component
from infradex.statuspage.html import document, when
from infradex.statuspage.incidents import PublicIncident
from infradex.statuspage.maintenance import PublicMaintenance
from infradex.statuspage.paths import (
    ATOM_PATH,
    HISTORY_PATH,
    RSS_PATH,
    STATUS_PATH,
    UPTIME_PATH,
    incident_key,
    incident_path,
)
from infradex.statuspage.v2 import PageInfo

__all__ = ["Month", "by_month", "render_history", "render_incident"]

#: months shown even when nothing happened in them (as Statuspage's history does)
MIN_MONTHS = 3
_IMPACT_WORDS = {
    "none": "No impact",
    "minor": "Minor impact",
    "major": "Major impact",
    "critical": "Critical impact",
}


def _step(status: str) -> str:
    return status.replace("_", " ").capitalize()


@functools.lru_cache(maxsize=64)
def _nav(*links: tuple[str, str]) -> Markup:
    items = Markup("").join(
        Markup('<a href="{}">{}</a>').format(href, text) for href, text in links
    )
    return Markup('<nav class="crumbs" aria-label="Status page">{}</nav>').format(items)


@functools.lru_cache(maxsize=1)
def _feeds_footer() -> Markup:
    return Markup(
        '<footer><p>Follow this page: <a href="{}">Atom feed</a> · <a href="{}">RSS feed</a> · '
        '<a href="/api/v2/incidents.json">JSON</a> (Statuspage API v2).</p></footer>'
    ).format(ATOM_PATH, RSS_PATH)


def render_incident(
    info: PageInfo, incident: PublicIncident, components: Mapping[str, Component]
) -> str:
    """A published incident's page; ``components``: public component by ref (a component
    that is no longer public is left out)."""
    affected = [components[r] for r in incident.components if r in components]
    names = (
        Markup('<p class="affected">Affected: {}</p>').format(
            Markup(", ").join(Markup("<span>{}</span>").format(c.name) for c in affected)
        )
        if affected
        else Markup("")
    )
    updates = Markup("").join(
        Markup(
            '<li class="update"><h3>{}</h3><p class="when">{}</p><p class="body">{}</p>{}</li>'
        ).format(
            _step(u.status),
            when(u.created_at),
            u.body,
            _update_components(u.components, components),
        )
        for u in reversed(incident.updates)
    )
    started = incident.published_at or incident.created_at
    resolved = (
        Markup(", resolved {}").format(when(incident.resolved_at))
        if incident.resolved_at
        else Markup("")
    )
    postmortem = incident.public_postmortem
    written = (
        Markup(
            '<section class="postmortem" aria-labelledby="postmortem"><h2 id="postmortem">'
            'Postmortem</h2><p class="when">{}</p><p class="body">{}</p></section>'
        ).format(when(postmortem.updated_at), postmortem.body)
        if postmortem
        else Markup("")
    )
    body = Markup(
        "{nav}<header><h1>{name}</h1></header>"
        '<p class="incident-summary impact-{impact}"><strong>{impact_words}</strong> · {status}'
        " · since {started}{resolved}</p>{names}{postmortem}"
        '<section aria-labelledby="timeline"><h2 id="timeline">Updates</h2>'
        '<ol class="timeline">{updates}</ol></section>{footer}'
    ).format(
        nav=_nav((STATUS_PATH, info.name), (HISTORY_PATH, "History")),
        name=incident.name,
        impact=incident.impact,
        impact_words=_IMPACT_WORDS.get(incident.impact, _step(incident.impact)),
        status=_step(incident.status),
        started=when(started),
        resolved=resolved,
        names=names,
        postmortem=written,
        updates=updates,
        footer=_feeds_footer(),
    )
    return document(f"{incident.name} · {info.name}", body)


def _update_components(states: Mapping[str, str], components: Mapping[str, Component]) -> Markup:
    shown = [(components[r], s) for r in sorted(states) if r in components for s in [states[r]]]
    if not shown:
        return Markup("")
    return Markup('<p class="update-components">{}</p>').format(
        Markup(" · ").join(
            Markup('{}: <span class="state state-{}">{}</span>').format(c.name, s, _step(s))
            for c, s in shown
        )
    )


@dataclass(frozen=True, slots=True)
class Month:
    year: int
    month: int
    incidents: tuple[PublicIncident, ...]  # newest first
    maintenances: tuple[PublicMaintenance, ...]  # newest first

    @property
    def label(self) -> str:
        return datetime(self.year, self.month, 1, tzinfo=UTC).strftime("%B %Y")

    @property
    def anchor(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def _month_of(value: datetime) -> tuple[int, int]:
    utc = value.astimezone(UTC)
    return utc.year, utc.month


def _previous(year: int, month: int) -> tuple[int, int]:
    return (year, month - 1) if month > 1 else (year - 1, 12)


def by_month(
    incidents: Sequence[PublicIncident], maintenances: Sequence[PublicMaintenance], now: datetime
) -> tuple[Month, ...]:
    """Newest month first, from ``now``'s back to the oldest entry's (at least
    ``MIN_MONTHS``); upcoming maintenance is on the page, not in the history."""
    started = [m for m in maintenances if m.started]
    oldest = min(
        [_month_of(i.created_at) for i in incidents]
        + [_month_of(m.scheduled_for) for m in started],
        default=_month_of(now),
    )
    months: list[Month] = []
    year, month = _month_of(now)
    while (year, month) >= oldest or len(months) < MIN_MONTHS:
        months.append(
            Month(
                year,
                month,
                tuple(
                    sorted(
                        (i for i in incidents if _month_of(i.created_at) == (year, month)),
                        key=lambda i: (i.created_at, i.id),
                        reverse=True,
                    )
                ),
                tuple(m for m in started if _month_of(m.scheduled_for) == (year, month)),
            )
        )
        year, month = _previous(year, month)
    return tuple(months)


def _incident_item(incident: PublicIncident) -> Markup:
    key = incident_key(incident.id)
    last = incident.updates[-1].body if incident.updates else ""
    return Markup(
        '<li class="incident impact-{}" id="incident-{}"><h3><a href="{}">{}</a></h3>'
        '<p class="when">{} · {}</p><p class="body">{}</p></li>'
    ).format(
        incident.impact,
        key,
        incident_path(key),
        incident.name,
        _step(incident.status),
        when(incident.created_at),
        last,
    )


def _maintenance_item(maintenance: PublicMaintenance) -> Markup:
    return Markup(
        '<li class="maintenance" id="maintenance-{}"><h3>{}</h3>'
        '<p class="when">{} · {} to {}</p><p class="body">{}</p></li>'
    ).format(
        maintenance.id,
        maintenance.name,
        maintenance.label,
        when(maintenance.scheduled_for),
        when(maintenance.scheduled_until),
        maintenance.body,
    )


def render_history(info: PageInfo, months: Sequence[Month]) -> str:
    sections = []
    for month in months:
        items = [_incident_item(i) for i in month.incidents]
        items += [_maintenance_item(m) for m in month.maintenances]
        listed = (
            Markup('<ul class="history">{}</ul>').format(Markup("").join(items))
            if items
            else Markup('<p class="quiet">No incidents reported this month.</p>')
        )
        sections.append(
            Markup('<section aria-labelledby="month-{0}"><h2 id="month-{0}">{1}</h2>{2}</section>')
            .format(month.anchor, month.label, listed)
        )  # fmt: skip
    body = Markup("{nav}<header><h1>Incident history</h1></header>{sections}{footer}").format(
        nav=_nav((STATUS_PATH, info.name), (UPTIME_PATH, "Uptime history")),
        sections=Markup("").join(sections),
        footer=_feeds_footer(),
    )
    return document(f"History · {info.name}", body)
