"""Checks run from locations: which checks an agent runs, their quorum, when a location is
stale. Pure; read from the catalog (``checks[].locations``, ``quorum``, the data centers).

A location is a data center's name (``nyc1``); the catalog may write it as ``nyc1`` or
``datacenter:nyc1``. docs/agents.md describes the whole design.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

from infradex.catalog.entities import Catalog
from infradex.catalog.models import Check
from infradex.catalog.refs import RefError, parse_ref
from infradex.catalog.specs import spec_checks
from infradex.durations import parse_duration

__all__ = [
    "STALE_FLOOR",
    "LocatedCheck",
    "agent_check_id",
    "agent_locations",
    "assignments",
    "datacenters",
    "located_checks",
    "location_name",
    "unknown_location",
]

#: a location is stale after three of the check's intervals without a result, never sooner
STALE_FLOOR = timedelta(seconds=30)
STALE_INTERVALS = 3


def location_name(text: str) -> str:
    """``nyc1`` or ``datacenter:nyc1`` → ``nyc1`` (the catalog has validated the reference)."""
    try:
        return parse_ref(text, ("datacenter",)).name
    except RefError:
        return text


@dataclass(frozen=True, slots=True)
class LocatedCheck:
    """A check that agents run: where, how many must agree, when a location goes stale."""

    id: str  # "service:docs/home", the same id the server's monitor would give it
    owner: str
    title: str
    check: Check
    locations: tuple[str, ...]
    quorum: int
    stale_after: timedelta

    @property
    def interval(self) -> timedelta:
        return parse_duration(self.check.interval)


def _located(owner: str, title: str, check: Check) -> LocatedCheck:
    locations = tuple(sorted({location_name(text) for text in check.locations}))
    interval = parse_duration(check.interval)
    return LocatedCheck(
        id=f"{owner}/{check.name}",
        owner=owner,
        title=title,
        check=check,
        locations=locations,
        # without a quorum, a majority of the locations must agree
        quorum=min(check.quorum or len(locations) // 2 + 1, len(locations)),
        stale_after=max(STALE_INTERVALS * interval, STALE_FLOOR),
    )


@functools.lru_cache(maxsize=4)
def located_checks(catalog: Catalog) -> dict[str, LocatedCheck]:
    """Every check with ``locations``, by id, in catalog order (cached per catalog)."""
    found: dict[str, LocatedCheck] = {}
    for kind in ("service", "provider"):
        for entity in catalog.of_kind(kind):
            for check in spec_checks(entity):
                if check.locations:
                    located = _located(str(entity.ref), entity.title, check)
                    found[located.id] = located
    return found


def assignments(catalog: Catalog, location: str) -> list[LocatedCheck]:
    """The checks an agent at ``location`` runs."""
    return [c for c in located_checks(catalog).values() if location in c.locations]


def datacenters(catalog: Catalog) -> list[str]:
    """The names of the catalog's data centers: the locations an agent may have."""
    return sorted(entity.ref.name for entity in catalog.of_kind("datacenter"))


def unknown_location(catalog: Catalog, location: str) -> str | None:
    """Why ``location`` is no location an agent can have, or None if it is one."""
    known = datacenters(catalog)
    if location in known:
        return None
    choices = ", ".join(known) if known else "none: add a Datacenter to the catalog first"
    return f"{location!r} is no data center of the catalog; data centers are {choices}"


def agent_check_id(location: str) -> str:
    """The synthetic check that is down while the location's agent is silent."""
    return f"datacenter:{location}/agent"


def agent_locations(catalog: Catalog) -> list[str]:
    """The data centers some check runs from: those whose agent's silence matters."""
    return sorted({loc for c in located_checks(catalog).values() for loc in c.locations})
