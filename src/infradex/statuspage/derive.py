"""Each component's Statuspage state, derived from the check states the monitor stored, the
catalog's impact model, public maintenance windows and operator overrides; every state with
the sentence that explains it (docs/status-page.md, "States, and how each is derived").

Pure: the caller reads the store and passes the time.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal

from infradex.catalog.entities import Catalog
from infradex.catalog.impact import Impact, impact
from infradex.catalog.refs import Ref, RefError, parse_ref
from infradex.catalog.specs import spec_checks
from infradex.monitor.evaluate import CheckState, Shown
from infradex.monitor.maintenance import Window
from infradex.statuspage.components import Component, Group, Layout

__all__ = [
    "NOT_MONITORED_DESCRIPTION",
    "STALE_DESCRIPTION",
    "ComponentState",
    "GroupState",
    "Override",
    "PageState",
    "Status",
    "derive",
    "indicator",
    "window_covers",
    "worst",
]


class Status(StrEnum):
    """Statuspage's component states, mildest first (the order groups and the page use)."""

    OPERATIONAL = "operational"
    UNDER_MAINTENANCE = "under_maintenance"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"

    @property
    def severity(self) -> int:
        return _ORDER.index(self)

    @property
    def label(self) -> str:
        """As a person reads it: "Partial outage"."""
        return self.value.replace("_", " ").capitalize()


_ORDER = tuple(Status)


@dataclass(frozen=True, slots=True)
class Override:
    """A state set by a person, until ``expires_at`` (always set: docs/status-page.md)."""

    ref: str
    status: Status
    expires_at: datetime
    reason: str
    created_by: str
    created_at: datetime
    id: int | None = None

    def active_at(self, at: datetime) -> bool:
        return self.created_at <= at < self.expires_at


@dataclass(frozen=True, slots=True)
class ComponentState:
    component: Component
    status: Status
    reason: str  # internal: never in public output
    override: Override | None = None


@dataclass(frozen=True, slots=True)
class GroupState:
    group: Group
    status: Status  # its worst member
    members: tuple[ComponentState, ...]


Health = Literal["down", "partly", "flapping"]


def worst(statuses: Iterable[Status]) -> Status:
    return max(statuses, key=lambda s: s.severity, default=Status.OPERATIONAL)


@functools.lru_cache(maxsize=4)
def _checked_entities(catalog: Catalog) -> dict[str, tuple[int, Ref]]:
    """Each service's and provider's ref as its checks' ids start (``service:pypi``), with
    its place in catalog order (services, then providers), once per catalog."""
    found: dict[str, tuple[int, Ref]] = {}
    for kind in ("service", "provider"):
        for entity in catalog.of_kind(kind):
            found[str(entity.ref)] = (len(found), entity.ref)
    return found


def _health(catalog: Catalog, states: Mapping[str, CheckState]) -> dict[Ref, tuple[Health, str]]:
    """Each service or provider whose checks are in trouble: how badly, and which checks.
    Only the entities with a check down or flapping are looked at (in catalog order)."""
    entities = _checked_entities(catalog)
    troubled = {
        entities[owner]
        for check_id, state in states.items()
        if state.state in (Shown.DOWN, Shown.FLAPPING)
        and (owner := check_id.split("/", 1)[0]) in entities
    }
    found: dict[Ref, tuple[Health, str]] = {}
    for _, ref in sorted(troubled):
        entity = catalog.get(ref)
        down, flapping, counted = [], [], 0
        for check in spec_checks(entity):
            state = states.get(f"{entity.ref}/{check.name}")
            if state is None or state.state not in (Shown.UP, Shown.DOWN, Shown.FLAPPING):
                continue  # no result, unknown or in maintenance: says nothing
            counted += 1
            if state.state is Shown.DOWN:
                down.append(check.name)
            elif state.state is Shown.FLAPPING:
                flapping.append(check.name)
        if down and len(down) == counted:
            found[entity.ref] = ("down", "every check is down")
        elif down:
            found[entity.ref] = ("partly", f"{len(down)} of {counted} checks are down")
        elif flapping:
            found[entity.ref] = ("flapping", f"{len(flapping)} check(s) flapping")
    return found


def window_covers(catalog: Catalog, window: Window) -> tuple[Ref, ...]:
    """The entities a window puts under maintenance: its target (or the entity of its
    check) and everything the target takes down."""
    try:
        root = parse_ref(window.target.split("/", 1)[0])
    except RefError:
        return ()
    if root not in catalog:
        return ()
    down = (a.ref for a in impact(catalog, root).affected if a.effect == "down")
    return (root, *down)


def _maintained(catalog: Catalog, windows: Sequence[Window], at: datetime) -> dict[Ref, Window]:
    """The entities the public windows active at ``at`` cover."""
    covered: dict[Ref, Window] = {}
    for window in windows:
        if window.public and window.active_at(at):
            for ref in window_covers(catalog, window):
                covered.setdefault(ref, window)
    return covered


#: each catalog's impact of a root, worked out once (a catalog does not change)
_IMPACTS: weakref.WeakKeyDictionary[Catalog, dict[Ref, Impact]] = weakref.WeakKeyDictionary()


def _impact(catalog: Catalog, root: Ref) -> Impact:
    known = _IMPACTS.get(catalog)
    if known is None:
        known = _IMPACTS.setdefault(catalog, {})
    found = known.get(root)
    if found is None:
        found = known[root] = impact(catalog, root)
    return found


def _from_failures(
    catalog: Catalog, health: Mapping[Ref, tuple[Health, str]], reasons: bool = True
) -> dict[Ref, tuple[Status, str]]:
    """The worst state each entity gets from its own checks and from what fails upstream
    (``reasons`` False: without the sentences, for a replay that keeps only states)."""
    found: dict[Ref, tuple[Status, str]] = {}

    def offer(ref: Ref, status: Status, reason: str) -> None:
        if ref not in found or status.severity > found[ref][0].severity:
            found[ref] = (status, reason)

    own = {
        "down": Status.MAJOR_OUTAGE,
        "partly": Status.PARTIAL_OUTAGE,
        "flapping": Status.DEGRADED_PERFORMANCE,
    }
    for root, (how, detail) in health.items():
        offer(root, own[how], f"{catalog.title(root)}: {detail}" if reasons else "")
        if how == "flapping":
            continue
        for affected in _impact(catalog, root).affected:
            if affected.effect == "degraded":
                status = Status.DEGRADED_PERFORMANCE
            else:
                status = Status.MAJOR_OUTAGE if how == "down" else Status.PARTIAL_OUTAGE
            offer(
                affected.ref,
                status,
                f"{catalog.title(root)}: {detail} ({affected.why(catalog)})" if reasons else "",
            )
    return found


def derive(
    catalog: Catalog,
    layout: Layout,
    states: Mapping[str, CheckState],
    windows: Sequence[Window],
    overrides: Sequence[Override],
    at: datetime,
    *,
    reasons: bool = True,
) -> tuple[ComponentState, ...]:
    """Every component's state at ``at``, in page order (``reasons`` False: each with an
    empty reason, for callers that keep only the states: ``outages.replay``)."""
    health = _health(catalog, states)
    failures = _from_failures(catalog, health, reasons)
    maintained = _maintained(catalog, windows, at)
    active = {o.ref: o for o in sorted(overrides, key=lambda o: o.created_at) if o.active_at(at)}
    derived: list[ComponentState] = []
    for component in layout.components:
        override = active.get(str(component.ref))
        if override is not None:
            until = override.expires_at.strftime("%Y-%m-%d %H:%M UTC") if reasons else ""
            reason = (
                f"override by {override.created_by} until {until}: {override.reason}"
                if reasons
                else ""
            )
            derived.append(ComponentState(component, override.status, reason, override))
        elif component.ref in maintained:
            window = maintained[component.ref]
            reason = f"public maintenance window on {window.target}" if reasons else ""
            derived.append(ComponentState(component, Status.UNDER_MAINTENANCE, reason))
        elif component.ref in failures:
            status, reason = failures[component.ref]
            derived.append(ComponentState(component, status, reason))
        else:
            derived.append(ComponentState(component, Status.OPERATIONAL, "no check is down"))
    return tuple(derived)


_INDICATORS: dict[Status, tuple[str, str]] = {
    Status.OPERATIONAL: ("none", "All Systems Operational"),
    Status.UNDER_MAINTENANCE: ("maintenance", "Service Under Maintenance"),
    Status.DEGRADED_PERFORMANCE: ("minor", "Minor Service Outage"),
    Status.PARTIAL_OUTAGE: ("major", "Partial System Outage"),
    Status.MAJOR_OUTAGE: ("critical", "Major Service Outage"),
}
STALE_DESCRIPTION = "Status may be out of date"
NOT_MONITORED_DESCRIPTION = "Not monitored"


@dataclass(frozen=True, slots=True)
class PageState:
    """The whole page at one moment: what the JSON and the HTML both render."""

    components: tuple[ComponentState, ...]
    groups: tuple[GroupState, ...]
    updated_at: datetime  # when a component last changed, or the catalog was loaded
    last_report: datetime | None  # the monitor's newest result
    stale: bool  # the monitor has not reported for the configured time
    #: a monitor runs for this page, or has reported; False: nothing checks these states
    monitored: bool = True

    @property
    def public_components(self) -> tuple[ComponentState, ...]:
        return tuple(c for c in self.components if c.component.public)

    def shown(self, state: ComponentState) -> bool:
        """Public and listed: a component marked onlyShowIfDegraded hides while fine."""
        return state.component.public and not (
            state.component.only_show_if_degraded and state.status is Status.OPERATIONAL
        )


def group_states(layout: Layout, components: Sequence[ComponentState]) -> tuple[GroupState, ...]:
    """Each group with its members' states; its own is its worst member's."""
    by_id = {c.component.id: c for c in components}
    found = []
    for group in layout.groups:
        members = tuple(by_id[m.id] for m in group.members)
        found.append(GroupState(group, worst(m.status for m in members), members))
    return tuple(found)


def indicator(page: PageState) -> tuple[str, str]:
    """Statuspage's ``status``: its indicator and description, from the public components;
    a stale page is never "All Systems Operational", and neither is one that nothing
    monitors: that one says "Not monitored" with the indicator ``none`` (no problem is
    known), unless a person set a state or a maintenance window runs."""
    status = worst(c.status for c in page.public_components)
    found, description = _INDICATORS[status]
    if not page.monitored:
        return found, NOT_MONITORED_DESCRIPTION if found == "none" else description
    if page.stale:
        return ("minor" if found in ("none", "maintenance") else found), STALE_DESCRIPTION
    return found, description
