"""The background loop: runs on its interval, at once when woken, survives a failing action,
and a stop waits until the loop has ended."""

from __future__ import annotations

import asyncio

import pytest

from infradex.background import Loop


async def test_runs_on_its_interval_and_keeps_going_after_a_failure(
    caplog: pytest.LogCaptureFixture,
) -> None:
    runs: list[int] = []

    async def action() -> None:
        runs.append(len(runs))
        if len(runs) == 1:
            raise ValueError("the first run fails")

    loop = Loop("test loop", 0.01, action)
    loop.start()
    try:
        for _ in range(200):
            if len(runs) >= 3:
                break
            await asyncio.sleep(0.01)
    finally:
        await loop.stop()
    assert len(runs) >= 3 and loop.failures == 1
    assert "test loop failed" in caplog.text and "ValueError" in caplog.text
    assert not loop.running


async def test_a_wake_runs_the_action_before_the_interval_ends() -> None:
    ran = asyncio.Event()

    async def action() -> None:
        ran.set()

    loop = Loop("woken", 3600.0, action)
    loop.start()
    try:
        await asyncio.sleep(0.01)
        assert not ran.is_set()
        loop.wake()
        await asyncio.wait_for(ran.wait(), 2.0)
    finally:
        await loop.stop()


async def test_stop_waits_for_the_loop_to_end_and_it_can_start_again() -> None:
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def slow() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    loop = Loop("slow", 0.0, slow)
    loop.start()
    await asyncio.wait_for(started.wait(), 2.0)
    await loop.stop()
    assert cancelled == [True] and not loop.running
    started.clear()
    loop.start()
    with pytest.raises(RuntimeError, match="already running"):
        loop.start()
    await asyncio.wait_for(started.wait(), 2.0)
    await loop.stop()
