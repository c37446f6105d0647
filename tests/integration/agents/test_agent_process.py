"""`infradex serve` and three `infradex agent` processes on loopback, probing a local target:
assignments, secrets resolved by each agent alone, the k-of-n verdict, and a server outage the
agents ride out with their buffers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from agent_targets import Target, running_target
from agents_catalog import LOCATIONS, agents_catalog
from infradex.store.tables import check_results
from integration_serve import free_port

from .agent_processes import Fleet, checks_of, poll

HOME = "service:web/home"


@pytest.fixture
async def target() -> AsyncIterator[Target]:
    async with running_target() as t:
        yield t


@pytest.fixture
async def fleet(tmp_path: Path, target: Target) -> AsyncIterator[Fleet]:
    catalog = agents_catalog(tmp_path / "catalog", target.base_url)
    fleet = Fleet(tmp_path, catalog, free_port())
    for location in LOCATIONS:
        fleet.token(location)
    await fleet.start_server()
    try:
        yield fleet
    finally:
        fleet.stop()


async def state_of(fleet: Fleet, check_id: str = HOME) -> str:
    return str((await checks_of(fleet))[check_id]["state"])


async def test_three_agents_run_the_check_the_server_judges_k_of_n(
    fleet: Fleet, target: Target
) -> None:
    assert await state_of(fleet) == "no agent"
    for location in LOCATIONS:
        fleet.start_agent(location)

    async def up_from_all() -> bool:
        check = (await checks_of(fleet))[HOME]
        return check["state"] == "up" and check["lastMessage"] == "up from 3 of 3 locations"

    await poll(up_from_all)
    # each agent resolved the header's env: reference in its own environment; the server's
    # environment has no such variable
    assert {f"key-of-{loc}" for loc in LOCATIONS} <= set(target.keys)
    assert target.hits["local"] > 0  # the server's own check, run by the server's monitor
    target.status["home"] = 503

    async def down() -> bool:
        return await state_of(fleet) == "down"

    await poll(down)
    check = (await checks_of(fleet))[HOME]
    assert "quorum 2" in check["lastMessage"]
    target.status["home"] = 200
    await poll(up_from_all)


async def test_agents_cut_off_from_the_server_keep_probing_and_replay_in_order(
    fleet: Fleet, target: Target, tmp_path: Path
) -> None:
    fleet.start_agent("ams1")

    async def eu_up() -> bool:
        return await state_of(fleet, "service:web/eu") == "up"

    await poll(eu_up)
    fleet.stop_server()
    gone = datetime.now(UTC)
    before = target.hits["eu"]
    await asyncio.sleep(4)  # the agent keeps probing into its buffer
    assert target.hits["eu"] >= before + 3
    back = datetime.now(UTC)
    await fleet.start_server()

    engine = create_engine(f"sqlite:///{tmp_path / 'store.db'}")

    def while_cut_off() -> list[datetime]:
        with engine.connect() as connection:
            rows = connection.execute(
                select(check_results.c.started_at)
                .where(check_results.c.check_id == "service:web/eu")
                .where(check_results.c.location == "ams1")
                .order_by(check_results.c.id)
            )
            return [row.started_at for row in rows]

    async def replayed() -> list[datetime]:
        times = await asyncio.to_thread(while_cut_off)
        inside = [t for t in times if gone < t < back]
        return times if len(inside) >= 3 else []

    times = await poll(replayed)
    assert times == sorted(times)  # in the order observed, each kept its own time
    assert "server unreachable" in fleet.agent_log("ams1")
    engine.dispose()
