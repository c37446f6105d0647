"""What other parts may read of the monitor's work, from the store: the check states it wrote,
the checks in trouble, the maintenance windows in force, and which checks a catalog declares.

The store is the seam between the monitor and whoever reacts to it (the alerter): these reads
take a connection, so a reader in any process (or on another server) sees what a monitor wrote
and can read it inside its own transaction. Nothing here reaches into a running ``Monitor``.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.catalog.entities import Catalog
from infradex.catalog.specs import spec_checks
from infradex.monitor.evaluate import CheckState, Shown
from infradex.monitor.locations import agent_check_id, agent_locations, located_checks
from infradex.monitor.maintenance import Window, catalog_windows, windows_covering
from infradex.monitor.rows import state_from_row, window_from_row
from infradex.store.tables import check_states, location_states, maintenance_windows

__all__ = [
    "UNWELL_STATES",
    "LocationProblem",
    "catalog_check_ids",
    "check_states_of",
    "in_maintenance",
    "last_report_at",
    "location_problems",
    "maintenance_windows_of",
    "shown_states_of",
    "unwell_checks",
    "upstream_check_ids",
]

#: shown states that mean a check is in trouble even before it passes its threshold
UNWELL_STATES = frozenset({Shown.DOWN, Shown.FLAPPING, Shown.UNKNOWN})


def catalog_check_ids(catalog: Catalog) -> list[str]:
    """The ids of every check the catalog declares (``service:docs/home``), in catalog order:
    the same ids the monitor runs, without building the probes; then the synthetic check of
    each data center's probe agent (``datacenter:ams1/agent``, down while it is silent)."""
    return [
        f"{entity.ref}/{check.name}"
        for kind in ("service", "provider")
        for entity in catalog.of_kind(kind)
        for check in spec_checks(entity)
    ] + [agent_check_id(location) for location in agent_locations(catalog)]


def upstream_check_ids(catalog: Catalog) -> list[str]:
    """The checks that read a provider's own status page (``statuspage://``)."""
    return [
        f"{entity.ref}/{check.name}"
        for kind in ("service", "provider")
        for entity in catalog.of_kind(kind)
        for check in spec_checks(entity)
        if check.url.lower().startswith("statuspage:")
    ]


async def check_states_of(
    connection: AsyncConnection, check_ids: Iterable[str] | None = None
) -> dict[str, CheckState]:
    """The stored state of each check (of ``check_ids``; all when None)."""
    query = select(check_states)
    if check_ids is not None:
        query = query.where(check_states.c.check_id.in_(list(check_ids)))
    rows = (await connection.execute(query)).all()
    return {row.check_id: state_from_row(row) for row in rows}


async def shown_states_of(
    connection: AsyncConnection, check_ids: Collection[str]
) -> dict[str, CheckState]:
    """Each of ``check_ids``' shown state only (``state``; the rest left at its default):
    what the status page derives from, read every second, without decoding the history
    and the observations of every check."""
    c = check_states.c
    rows = (await connection.execute(select(c.check_id, c.state))).all()
    shown = {s.value: s for s in Shown}
    wanted = set(check_ids)
    return {
        row.check_id: CheckState(row.check_id, shown[row.state])
        for row in rows
        if row.check_id in wanted and row.state in shown
    }


async def unwell_checks(connection: AsyncConnection) -> frozenset[str]:
    """The checks failing now, even those not yet past their failure threshold: a failure
    counted, or a shown state of down, flapping or unknown. Filtered in the store: usually a
    handful of rows out of thousands."""
    rows = await connection.execute(
        select(check_states.c.check_id).where(
            or_(
                check_states.c.failures > 0,
                check_states.c.state.in_([str(s) for s in UNWELL_STATES]),
            )
        )
    )
    return frozenset(row.check_id for row in rows)


async def maintenance_windows_of(connection: AsyncConnection, catalog: Catalog) -> list[Window]:
    """Every maintenance window: those stored (API, CLI) and those the catalog declares."""
    rows = await connection.execute(
        select(maintenance_windows).order_by(maintenance_windows.c.starts_at)
    )
    return [window_from_row(row) for row in rows] + list(_declared_windows(catalog))


@functools.lru_cache(maxsize=4)
def _declared_windows(catalog: Catalog) -> tuple[Window, ...]:
    # once per catalog, not per read: agents' batches ask hundreds of times a minute, and
    # walking every entity of a large catalog was a tenth of a batch's cost
    return tuple(catalog_windows(catalog))


async def in_maintenance(
    connection: AsyncConnection, catalog: Catalog, check_ids: Collection[str], at: datetime
) -> dict[str, Window]:
    """Check id → the window covering it at ``at``, for those of ``check_ids`` in one."""
    if not check_ids:
        return {}
    windows = await maintenance_windows_of(connection, catalog)
    return windows_covering(windows, catalog, check_ids, at)


async def last_report_at(connection: AsyncConnection) -> datetime | None:
    """When the monitor last wrote a result (any check); None if it never has."""
    # max() keeps the column's type, so the value comes back aware UTC on both engines
    found = await connection.execute(select(func.max(check_states.c.last_result_at)))
    value: datetime | None = found.scalar_one_or_none()
    return value


@dataclass(frozen=True, slots=True)
class LocationProblem:
    """A location that sees a check down while the check is not (fewer locations than its
    quorum fail): since when, and what the location last saw."""

    check_id: str
    location: str
    since: datetime
    message: str


async def location_problems(
    connection: AsyncConnection, catalog: Catalog, now: datetime
) -> list[LocationProblem]:
    """Every location problem now: a location whose (fresh) state of a check is down while
    the check's verdict is up. Filtered in the store: the locations that see a check down,
    usually none."""
    checks = located_checks(catalog)
    ls, cs = location_states.c, check_states.c
    rows = await connection.execute(
        select(ls.check_id, ls.location, ls.since, ls.last_result_at, ls.last_message)
        .join_from(location_states, check_states, cs.check_id == ls.check_id)
        .where(ls.state == str(Shown.DOWN), cs.state == str(Shown.UP))
        .order_by(ls.check_id, ls.location)
    )
    found = []
    for check_id, location, since, last_at, message in rows:
        located = checks.get(check_id)
        if located is None or location not in located.locations or since is None:
            continue
        if last_at is None or now - last_at > located.stale_after:
            continue  # a silent location says nothing about the target
        found.append(LocationProblem(check_id, location, since, message or ""))
    return found
