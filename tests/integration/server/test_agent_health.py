"""A silent agent is an incident of its own: its data center's synthetic check goes down once
the agent has been silent for AGENT_SILENT_AFTER, and the alerter opens one incident for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agents_catalog import load_agents_catalog
from infradex.alerting.service import Alerter
from infradex.catalog import Catalog
from infradex.monitor.agent_health import AGENT_SILENT_AFTER, sweep_agents
from infradex.monitor.agent_records import record_heartbeat
from infradex.monitor.reads import catalog_check_ids
from infradex.store import Database
from infradex.store.tables import incidents

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    return load_agents_catalog(tmp_path / "catalog")


async def test_a_silent_agent_goes_down_once_and_opens_one_incident(
    db: Database, catalog: Catalog
) -> None:
    assert catalog_check_ids(catalog)[-3:] == [
        "datacenter:ams1/agent",
        "datacenter:nyc1/agent",
        "datacenter:sfo1/agent",
    ]
    assert await sweep_agents(db, catalog, T0) == []  # no agent ever reported: nothing to miss
    await record_heartbeat(db, "ams1", "agent-ams1", T0, version="0.1.0", clock_offset_ms=0.0)
    (up,) = await sweep_agents(db, catalog, T0 + timedelta(seconds=10))
    assert (up.check_id, str(up.from_state), str(up.to_state)) == (
        "datacenter:ams1/agent",
        "pending",
        "up",
    )
    assert await sweep_agents(db, catalog, T0 + AGENT_SILENT_AFTER) == []  # not yet
    late = T0 + AGENT_SILENT_AFTER + timedelta(seconds=1)
    (down,) = await sweep_agents(db, catalog, late)
    assert str(down.to_state) == "down" and "has not reported for 91 s" in down.reason
    assert await sweep_agents(db, catalog, late + timedelta(seconds=15)) == []  # once

    alerter = Alerter(db, {})
    alerter.set_catalog(catalog)
    await alerter.turn(late + timedelta(seconds=1))
    async with db.begin() as connection:
        rows = (await connection.execute(select(incidents.c.key, incidents.c.status))).all()
    assert [(r.key, r.status) for r in rows] == [("datacenter:ams1", "open")]

    # the agent comes back: its check is up again
    await record_heartbeat(db, "ams1", "agent-ams1", late + timedelta(seconds=30),
                           version="0.1.0", clock_offset_ms=0.0)  # fmt: skip
    (back,) = await sweep_agents(db, catalog, late + timedelta(seconds=31))
    assert str(back.to_state) == "up"
