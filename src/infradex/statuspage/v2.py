"""Statuspage's public v2 JSON (``/api/v2/summary.json`` and its siblings), field for field:
the same keys, types, nullability, enumerations and time format, so a client written for a
hosted Statuspage works unchanged (docs/status-page.md, "Routes"). Pure.

Built from an allowlist: each object is written out key by key from the derived page and the
public names in the catalog; nothing internal (reasons, hosts, people, check messages) is
in reach of these functions.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infradex.statuspage.components import Component, Group, stable_id
from infradex.statuspage.derive import ComponentState, PageState, indicator, worst
from infradex.statuspage.incidents import PublicIncident
from infradex.statuspage.maintenance import PublicMaintenance
from infradex.statuspage.paths import incident_key, incident_path, maintenance_path, site_root

__all__ = ["ENDPOINTS", "PageInfo", "Snapshot", "documents", "timestamp"]

#: the newest published incidents incidents.json lists (as Statuspage's does)
INCIDENTS_LISTED = 50
#: every path this module answers, under /api/v2/
ENDPOINTS = (
    "summary.json",
    "status.json",
    "components.json",
    "incidents.json",
    "incidents/unresolved.json",
    "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json",
    "scheduled-maintenances/active.json",
)


@dataclass(frozen=True, slots=True)
class PageInfo:
    id: str
    name: str
    url: str
    time_zone: str = "Etc/UTC"


@dataclass(frozen=True, slots=True)
class Snapshot:
    """What the JSON and the page render: the derived page, when each component's state
    last changed, and the public maintenance windows."""

    page: PageState
    created_at: datetime  # when the components appeared (the catalog's load)
    changed_at: Mapping[str, datetime]  # component id → when its state last changed
    maintenances: tuple[PublicMaintenance, ...]
    incidents: tuple[PublicIncident, ...] = ()  # published ones, newest first
    history: tuple[PublicMaintenance, ...] = ()  # occurrences that started, newest first


def timestamp(value: datetime) -> str:
    """Statuspage's time format: UTC with milliseconds, ``2026-12-06T03:00:00.000Z``."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def _page(info: PageInfo, snapshot: Snapshot) -> dict[str, Any]:
    return {
        "id": info.id,
        "name": info.name,
        "url": info.url,
        "time_zone": info.time_zone,
        "updated_at": timestamp(snapshot.page.updated_at),
    }


def _component(
    component: Component, status: str, info: PageInfo, snapshot: Snapshot
) -> dict[str, Any]:
    return {
        "id": component.id,
        "name": component.name,
        "status": status,
        "created_at": timestamp(snapshot.created_at),
        "updated_at": timestamp(snapshot.changed_at.get(component.id, snapshot.created_at)),
        "position": component.position,
        "description": component.description,
        "showcase": False,
        "start_date": None,
        "group_id": component.group_id,
        "page_id": info.id,
        "group": False,
        "only_show_if_degraded": component.only_show_if_degraded,
    }


def _group(
    group: Group, members: list[ComponentState], info: PageInfo, snapshot: Snapshot
) -> dict[str, Any]:
    changed = [snapshot.changed_at.get(m.component.id, snapshot.created_at) for m in members]
    return {
        "id": group.id,
        "name": group.name,
        "status": str(worst(m.status for m in members)),
        "created_at": timestamp(snapshot.created_at),
        "updated_at": timestamp(max(changed, default=snapshot.created_at)),
        "position": group.position,
        "description": None,
        "showcase": False,
        "start_date": None,
        "group_id": None,
        "page_id": info.id,
        "group": True,
        "only_show_if_degraded": False,
        "components": [m.component.id for m in members],
    }


def _components(info: PageInfo, snapshot: Snapshot) -> list[dict[str, Any]]:
    """Public components and groups, each group followed by its members, in page order."""
    public = {c.component.id: c for c in snapshot.page.public_components}
    found: list[dict[str, Any]] = []
    entries: list[tuple[int, Component | Group]] = [
        (c.component.position, c.component) for c in public.values() if c.component.group is None
    ]
    entries += [(g.group.position, g.group) for g in snapshot.page.groups]
    for _, entry in sorted(entries, key=lambda pair: pair[0]):
        if isinstance(entry, Component):
            found.append(_component(entry, str(public[entry.id].status), info, snapshot))
            continue
        members = [public[m.id] for m in entry.members if m.id in public]
        if not members:
            continue
        found.append(_group(entry, members, info, snapshot))
        found += [_component(m.component, str(m.status), info, snapshot) for m in members]
    return found


def _maintenance(
    maintenance: PublicMaintenance, info: PageInfo, snapshot: Snapshot
) -> dict[str, Any]:
    states = {c.component.id: c for c in snapshot.page.public_components}
    components = [
        _component(c, str(states[c.id].status), info, snapshot)
        for c in maintenance.components
        if c.id in states
    ]
    created = timestamp(min(snapshot.created_at, maintenance.scheduled_for))
    started = timestamp(maintenance.scheduled_for)
    ended = timestamp(maintenance.scheduled_until)
    # one update per step reached, each at the time the clock took it there
    steps = [("scheduled", created)]
    if maintenance.started:
        steps.append(("in_progress", started))
    if maintenance.ended:
        steps.append((maintenance.status, ended))
    updates = []
    for step, at in steps:
        old, new = (
            ("operational", "under_maintenance")
            if step in ("scheduled", "in_progress")
            else ("under_maintenance", "operational")
        )
        updates.append(
            {
                "id": stable_id("update", f"{maintenance.id}:{step}"),
                "status": step,
                "body": maintenance.body,
                "incident_id": maintenance.id,
                "created_at": at,
                "updated_at": at,
                "display_at": at,
                "affected_components": [
                    {"code": c["id"], "name": c["name"], "old_status": old, "new_status": new}
                    for c in components
                ],
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
        )
    return {
        "id": maintenance.id,
        "name": maintenance.name,
        "status": maintenance.status,
        "created_at": created,
        "updated_at": steps[-1][1],
        "monitoring_at": ended if maintenance.ended else None,
        "resolved_at": ended if maintenance.status == "completed" else None,
        "impact": "maintenance",
        "shortlink": site_root(info.url)
        + maintenance_path(maintenance.id, maintenance.status == "completed"),
        "started_at": started,
        "page_id": info.id,
        "incident_updates": list(reversed(updates)),  # newest first
        "components": components,
        "scheduled_for": started,
        "scheduled_until": ended,
    }


def _incident(incident: PublicIncident, info: PageInfo, snapshot: Snapshot) -> dict[str, Any]:
    public = {str(c.component.ref): c for c in snapshot.page.public_components}
    key = incident_key(incident.id)
    updates = []
    previous: dict[str, str] = {}
    for update in incident.updates:
        affected = []
        for ref, new in update.components.items():
            if ref not in public:
                continue
            component = public[ref].component
            label = f"{component.group} - {component.name}" if component.group else component.name
            affected.append(
                {
                    "code": component.id,
                    "name": label,
                    "old_status": previous.get(ref, "operational"),
                    "new_status": new,
                }
            )
            previous[ref] = new
        at = timestamp(update.created_at)
        updates.append(
            {
                "id": stable_id("incident-update", str(update.id)),
                "status": update.status,
                "body": update.body,
                "incident_id": key,
                "created_at": at,
                "updated_at": at,
                "display_at": at,
                "affected_components": affected,
                "deliver_notifications": True,
                "custom_tweet": None,
                "tweet_id": None,
            }
        )
    started = incident.published_at or incident.created_at
    postmortem = incident.public_postmortem
    return {
        "id": key,
        "name": incident.name,
        "status": incident.status,
        "created_at": timestamp(incident.created_at),
        "updated_at": timestamp(incident.updated_at),
        "monitoring_at": timestamp(incident.monitoring_at) if incident.monitoring_at else None,
        "resolved_at": timestamp(incident.resolved_at) if incident.resolved_at else None,
        "impact": incident.impact,
        "shortlink": site_root(info.url) + incident_path(key),
        "started_at": timestamp(min(started, incident.created_at)),
        "page_id": info.id,
        # Statuspage's postmortem: null until one is published
        "postmortem_body": postmortem.body if postmortem else None,
        "postmortem_body_last_updated_at": timestamp(postmortem.updated_at) if postmortem else None,
        "incident_updates": list(reversed(updates)),  # newest first, as Statuspage lists them
        "components": [
            _component(public[r].component, str(public[r].status), info, snapshot)
            for r in incident.components
            if r in public
        ],
    }


def documents(info: PageInfo, snapshot: Snapshot) -> dict[str, dict[str, Any]]:
    """Every endpoint's document, keyed by its path under /api/v2/."""
    page = _page(info, snapshot)
    found, description = indicator(snapshot.page)
    status = {"indicator": found, "description": description}
    components = _components(info, snapshot)
    maintenances = [_maintenance(m, info, snapshot) for m in snapshot.maintenances]
    upcoming = [m for m in maintenances if m["status"] == "scheduled"]
    active = [m for m in maintenances if m["status"] in ("in_progress", "verifying")]
    newest = snapshot.incidents[:INCIDENTS_LISTED]
    incidents = [_incident(i, info, snapshot) for i in newest]
    unresolved = [_incident(i, info, snapshot) for i in snapshot.incidents if i.unresolved]
    return {
        "summary.json": {
            "page": page,
            "components": components,
            "incidents": unresolved,
            "scheduled_maintenances": active + upcoming,
            "status": status,
        },
        "status.json": {"page": page, "status": status},
        "components.json": {"page": page, "components": components},
        "incidents.json": {"page": page, "incidents": incidents},
        "incidents/unresolved.json": {"page": page, "incidents": unresolved},
        "scheduled-maintenances.json": {
            "page": page,
            "scheduled_maintenances": list(reversed(maintenances)),
        },
        "scheduled-maintenances/upcoming.json": {
            "page": page,
            "scheduled_maintenances": upcoming,
        },
        "scheduled-maintenances/active.json": {"page": page, "scheduled_maintenances": active},
    }
