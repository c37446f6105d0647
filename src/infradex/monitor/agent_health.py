"""A silent probe agent is an incident of its own: each data center with an agent gets a
synthetic check, ``datacenter:NAME/agent``, up while its agent reports and down once it has
been silent for :data:`AGENT_SILENT_AFTER`. Alerting treats it as any other check, so the
incident goes to whoever the data center's escalation routing names; the checks the agent
runs go stale meanwhile, never down (docs/agents.md).

:func:`agent_verdicts` is pure; :func:`sweep_agents` applies it under the checks' row locks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from infradex.catalog.entities import Catalog
from infradex.monitor.agent_records import AgentRecord, list_agents
from infradex.monitor.evaluate import CheckState, Shown, StateChange, Status
from infradex.monitor.history import state_row, write_changes
from infradex.monitor.ingest import lock_checks
from infradex.monitor.locations import agent_check_id, agent_locations
from infradex.store.bulk import upsert_rows
from infradex.store.db import Database
from infradex.store.tables import check_states

__all__ = ["AGENT_SILENT_AFTER", "agent_verdicts", "sweep_agents"]

#: an agent silent this long is an incident (its checks are stale after three intervals)
AGENT_SILENT_AFTER = timedelta(seconds=90)


def agent_verdicts(
    records: Iterable[AgentRecord],
    locations: Iterable[str],
    previous: Mapping[str, CheckState],
    now: datetime,
    silent_after: timedelta = AGENT_SILENT_AFTER,
) -> list[tuple[CheckState, StateChange]]:
    """The synthetic checks whose state changes now, with the change. A location whose
    agent never reported has no state (nothing was deployed there to miss)."""
    wanted = set(locations)
    found = []
    for record in records:
        if record.location not in wanted:
            continue
        check_id = agent_check_id(record.location)
        before = previous.get(check_id) or CheckState(check_id)
        silence = now - record.last_seen_at
        if silence > silent_after:
            shown, status = Shown.DOWN, Status.DOWN
            reason = (
                f"the probe agent of {record.location} has not reported for "
                f"{int(silence.total_seconds())} s; the checks it runs are stale (not down) "
                "until it is back"
            )
        else:
            shown, status = Shown.UP, Status.UP
            reason = f"the probe agent of {record.location} reports (version {record.version})"
        if shown == before.state:
            continue
        state = replace(
            before,
            state=shown,
            hard_state=shown,
            failures=1 if shown is Shown.DOWN else 0,
            successes=0 if shown is Shown.DOWN else 1,
            since=now,
            last_result_at=record.last_seen_at,
            last_status=status,
            last_message=reason,
        )
        found.append((state, StateChange(check_id, now, before.state, shown, reason)))
    return found


async def sweep_agents(db: Database, catalog: Catalog, now: datetime) -> list[StateChange]:
    """Write the synthetic checks' changes (idempotent: every server may run it)."""
    locations = agent_locations(catalog)
    records = [r for r in await list_agents(db) if r.location in locations]
    if not records:
        return []
    ids = sorted(agent_check_id(r.location) for r in records)
    async with db.begin(writes=True) as connection:
        current = await lock_checks(connection, ids)
        verdicts = agent_verdicts(records, locations, current, now)
        if verdicts:
            await upsert_rows(
                connection, check_states, ["check_id"], [state_row(s) for s, _ in verdicts]
            )
            await write_changes(connection, [c for _, c in verdicts])
    return [c for _, c in verdicts]
