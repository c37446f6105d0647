"""Three agents, each in its own network namespace joined to the server's (the hub, which
also holds the target): quorum 2 of 3 under cut paths (docs/agents.md). Namespaces, veths and
routes exist only inside namespaces this test makes, and are deleted in teardown even when it
fails."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import Engine

from agents_catalog import LOCATIONS, agents_catalog
from infradex.store.tables import (
    check_results,
    check_states,
    incidents,
    location_states,
    state_changes,
)
from netns_topology import SERVER_ADDRESS, TARGET_ADDRESS, Topology

from .agent_processes import Fleet, poll

pytestmark = pytest.mark.netns

HOME = "service:web/home"
SERVER_PORT = 8000
TARGET_PORT = 8080


@pytest.fixture
def topology() -> Iterator[Topology]:
    topo = Topology(f"idx{os.getpid() % 100000}", LOCATIONS)
    try:
        topo.build()
        yield topo
    finally:
        topo.destroy()


@pytest.fixture
async def fleet(tmp_path: Path, topology: Topology) -> AsyncIterator[Fleet]:
    site = tmp_path / "site"
    site.mkdir()
    for name in ("home", "eu", "local"):
        (site / name).write_text(f"hello from {name}\n")
    target = subprocess.Popen(
        [*topology.prefix_command(topology.hub), sys.executable, "-m", "http.server",
         str(TARGET_PORT), "--bind", TARGET_ADDRESS, "--directory", str(site)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    # without the ams1-only check: cutting ams1 must change nothing but ams1's view of home
    target_url = f"http://{TARGET_ADDRESS}:{TARGET_PORT}"
    catalog = agents_catalog(tmp_path / "catalog", target_url, with_eu=False)
    fleet = Fleet(tmp_path, catalog, SERVER_PORT)
    fleet.env["INFRADEX_MONITOR_ALLOW"] = "10.201.0.0/24"
    try:
        for location in LOCATIONS:
            fleet.token(location)
        await fleet.start_server(host=SERVER_ADDRESS, prefix=topology.prefix_command(topology.hub))
        for location in LOCATIONS:
            fleet.start_agent(
                location,
                server=f"http://{SERVER_ADDRESS}:{SERVER_PORT}",
                prefix=topology.prefix_command(topology.agent_ns[location]),
            )
        yield fleet
    finally:
        fleet.stop()
        target.terminate()
        target.wait(timeout=10)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Engine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")
    yield engine
    engine.dispose()


def read(engine: Engine, query: Any) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(query))


async def home(engine: Engine) -> Any:
    rows = await asyncio.to_thread(
        read, engine, select(check_states).where(check_states.c.check_id == HOME)
    )
    return rows[0] if rows else None


async def location_state(engine: Engine, location: str) -> str | None:
    rows = await asyncio.to_thread(
        read,
        engine,
        select(location_states.c.state).where(
            location_states.c.check_id == HOME, location_states.c.location == location
        ),
    )
    return rows[0].state if rows else None


async def count(engine: Engine, query: Any) -> int:
    return int((await asyncio.to_thread(read, engine, query))[0][0])


async def test_quorum_two_of_three_across_cut_paths(
    fleet: Fleet, topology: Topology, store: Engine
) -> None:
    async def up_from_all() -> bool:
        row = await home(store)
        return row is not None and row.last_message == "up from 3 of 3 locations"

    await poll(up_from_all, timeout=60)
    downs = (
        select(func.count())
        .select_from(state_changes)
        .where(state_changes.c.check_id == HOME, state_changes.c.to_state == "down")
    )
    opened = select(func.count()).select_from(incidents)

    # one agent loses its path to the target: its location fails, the check stays up
    topology.cut("ams1", TARGET_ADDRESS)

    async def ams1_down() -> bool:
        return await location_state(store, "ams1") == "down"

    await poll(ams1_down)
    await asyncio.sleep(3)  # several more rounds from every location
    row = await home(store)
    assert row.state == "up" and row.last_message.startswith("location problem: down from ams1")
    assert await count(store, downs) == 0 and await count(store, opened) == 0

    # a second one: now two of three agree, and there is one incident
    topology.cut("nyc1", TARGET_ADDRESS)

    async def one_incident() -> bool:
        return await count(store, opened) == 1

    await poll(one_incident, timeout=30)
    assert (await home(store)).state == "down"
    await asyncio.sleep(3)
    assert await count(store, opened) == 1 and await count(store, downs) == 1

    topology.mend("ams1", TARGET_ADDRESS)
    topology.mend("nyc1", TARGET_ADDRESS)
    await poll(up_from_all, timeout=30)

    # an agent cut off from the server: its location goes stale, never down, and what it
    # observed meanwhile arrives afterwards with the times it was observed
    topology.cut("sfo1", SERVER_ADDRESS)
    cut_at = datetime.now(UTC)

    async def sfo1_stale() -> bool:
        row = await home(store)
        return row.last_observed["locations"]["sfo1"]["health"] == "stale"

    await poll(sfo1_stale, timeout=60)
    row = await home(store)
    assert row.state == "up" and row.last_message == "up from 2 of 3 locations"
    assert await count(store, downs) == 1  # no false outage
    mended_at = datetime.now(UTC)
    topology.mend("sfo1", SERVER_ADDRESS)
    from_sfo1 = select(check_results.c.started_at).where(
        check_results.c.check_id == HOME, check_results.c.location == "sfo1"
    )

    async def replayed() -> list[datetime]:
        times = [r.started_at for r in await asyncio.to_thread(read, store, from_sfo1)]
        inside = [t for t in times if cut_at < t < mended_at]
        return times if len(inside) >= 20 else []

    times = await poll(replayed, timeout=60)
    assert times == sorted(times)
    await poll(up_from_all, timeout=30)
