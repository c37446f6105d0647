"""The monitor takes its time from the clock it is given (``clock.py`` by default), never
from ``time.time()``: a run, its state and its row carry the injected
instant. The check aims at a closed port on 127.0.0.1, so the run fails at once."""

from __future__ import annotations

import asyncio
import socket
from datetime import UTC, datetime
from pathlib import Path

from infradex.monitor import history
from infradex.monitor.checks import adhoc_check
from infradex.monitor.service import Monitor
from infradex.store import Database

FIXED = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)


def closed_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])  # closed again when the block ends


async def test_a_scheduled_run_is_stamped_with_the_injected_clock(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'store.db'}")
    await db.upgrade()
    monitor = Monitor(db, clock=lambda: FIXED)
    check = adhoc_check(f"http://127.0.0.1:{closed_port()}/", timeout="1s")
    monitor.scheduler.update([check])
    running = asyncio.create_task(monitor.scheduler.run_forever())
    try:
        for _ in range(300):  # the first slot comes within the check's 1 s interval
            if check.id in monitor.states:
                break
            await asyncio.sleep(0.01)
    finally:
        await monitor.scheduler.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        await monitor.flush()
    try:
        state = monitor.states[check.id]
        assert state.last_result_at == FIXED
        rows = await history.latest_results(db, check.id)
        assert [row.started_at for row in rows] == [FIXED]
    finally:
        await db.close()
