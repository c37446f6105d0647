"""History with time passed in: rollups and uptime from recorded results, retention that
keeps rows per check bounded, a restart that carries on from the stored state, and the
canary that turns failures into unknown. Both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from infradex.monitor import history
from infradex.monitor.checks import CheckDef, CheckResult
from infradex.monitor.service import Monitor
from infradex.probes.base import ErrorKind, Observation, ProbeRequest
from infradex.settings import Retention
from infradex.store import Database
from infradex.store.tables import check_results, check_rollups

T0 = datetime(2026, 11, 1, 0, 0, 30, tzinfo=UTC)
CHECK = CheckDef(
    id="service:web/home",
    owner="service:web",
    name="home",
    request=ProbeRequest("http://127.0.0.1:9/", timeout=5),
    interval=60,
    conditions=(),
    failure_threshold=3,
    success_threshold=2,
)


def result(ok: bool, ms: float = 20.0) -> CheckResult:
    observation = Observation(phases={"total": ms / 1000})
    if not ok:
        observation.fail(ErrorKind.REFUSED, "connection refused")
    return CheckResult(CHECK.id, observation)


class Clock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


async def feed(monitor: Monitor, clock: Clock, outcomes: str, step: timedelta) -> None:
    for outcome in outcomes:
        monitor.record(CHECK, result(outcome == "u"), clock.at)
        clock.at += step
    await monitor.flush()


async def count(db: Database, table, **where) -> int:  # type: ignore[no-untyped-def]
    query = select(func.count()).select_from(table)
    for column, value in where.items():
        query = query.where(table.c[column] == value)
    async with db.begin() as connection:
        return int((await connection.execute(query)).scalar() or 0)


async def test_rollups_give_uptime_per_span(db: Database) -> None:
    clock = Clock(T0)
    monitor = Monitor(db, clock=clock)
    # a day of one-minute results: 1,440, one in twenty failed (95 % in every hour)
    await feed(monitor, clock, ("u" * 19 + "d") * 72, timedelta(minutes=1))
    hourly = await history.rollup_series(db, [CHECK.id], "hour", T0 - timedelta(hours=1))
    assert len(hourly[CHECK.id]) == 24
    assert sum(r.total for r in hourly[CHECK.id]) == 1440
    daily = await history.rollup_series(db, [CHECK.id], "day", T0 - timedelta(days=1))
    (day,) = daily[CHECK.id]
    assert (day.up, day.down) == (1368, 72) and day.latency_p95 == 20.0
    spans = (await history.uptimes(db, [CHECK.id], clock.at))[CHECK.id]
    assert spans == {"24h": 95.0, "7d": 95.0, "30d": 95.0, "90d": 95.0, "1y": 95.0}


async def test_maintenance_and_unknown_results_are_left_out_of_uptime(db: Database) -> None:
    clock = Clock(T0)
    monitor = Monitor(db, clock=clock)
    await feed(monitor, clock, "uuuu", timedelta(minutes=1))
    monitor.canary_down = True
    await feed(monitor, clock, "dddd", timedelta(minutes=1))
    assert monitor.states[CHECK.id].state == "unknown"
    spans = (await history.uptimes(db, [CHECK.id], clock.at))[CHECK.id]
    assert spans["24h"] == 100.0
    rows = await history.latest_results(db, CHECK.id, limit=4)
    assert {r.status for r in rows} == {"unknown"}


async def test_retention_keeps_the_latest_results_and_recent_failures(db: Database) -> None:
    clock = Clock(T0)
    monitor = Monitor(db, clock=clock, retention=Retention(results=10, failures=timedelta(days=7)))
    await feed(monitor, clock, "d" * 5, timedelta(minutes=1))  # old failures
    clock.at += timedelta(days=8)
    await feed(monitor, clock, "d" * 3 + "u" * 30, timedelta(minutes=1))
    deleted = await monitor.prune()
    # 43 results: 20 successes past the newest 10, and the 5 failures older than 7 days
    assert deleted["results"] == 25
    assert await count(db, check_results) == 13
    kept = await history.latest_results(db, CHECK.id, limit=1000)
    successes = [r for r in kept if r.success]
    failures = [r for r in kept if not r.success]
    assert len(successes) == 10  # the newest 10
    # the 3 recent failures are kept (younger than 7 days); the 5 old ones are gone
    assert len(failures) == 3
    assert all(r.started_at > T0 + timedelta(days=7) for r in failures)


async def test_old_rollups_are_dropped_by_retention(db: Database) -> None:
    clock = Clock(T0)
    retention = Retention(hourly=timedelta(days=2), daily=timedelta(days=5))
    monitor = Monitor(db, clock=clock, retention=retention)
    for _ in range(10):  # one result a day for ten days
        await feed(monitor, clock, "u", timedelta(days=1))
    await monitor.prune()
    assert await count(db, check_rollups, period="day") == 5
    assert await count(db, check_rollups, period="hour") == 2


async def test_a_restarted_monitor_carries_on_from_the_stored_state(db: Database) -> None:
    clock = Clock(T0)
    first = Monitor(db, clock=clock)
    await feed(first, clock, "uudd", timedelta(minutes=1))  # two failures: still up (soft)
    second = Monitor(db, clock=clock)
    second.states = await history.load_states(db)
    second._rollups = await history.load_rollups(db, clock.at)
    await feed(second, clock, "d", timedelta(minutes=1))  # the third failure: down
    state = second.states[CHECK.id]
    assert state.state == "down" and state.failures == 3
    hourly = await history.rollup_series(db, [CHECK.id], "hour", T0 - timedelta(hours=1))
    assert hourly[CHECK.id][0].total == 5  # the hour's counts continued, not restarted


async def test_a_failed_write_is_kept_and_written_later(db: Database, tmp_path) -> None:
    clock = Clock(T0)
    # a store that is not there: nothing listens on port 1
    gone = Database("postgresql://nobody@127.0.0.1:1/none")
    monitor = Monitor(gone, clock=clock)
    monitor.record(CHECK, result(True), clock.at)
    await monitor.flush()
    assert monitor.write_errors == 1
    monitor.record(CHECK, result(True), clock.at + timedelta(minutes=1))
    monitor.db = db  # the store is back
    await monitor.flush()
    await gone.close()
    assert await count(db, check_results) == 2
    assert (await history.load_states(db))[CHECK.id].last_result_at == T0 + timedelta(minutes=1)


async def test_the_canary_follows_the_monitors_own_connectivity(db: Database) -> None:
    import asyncio
    import socket

    with socket.socket() as probe:  # a port with nothing behind it
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    clock = Clock(T0)
    monitor = Monitor(db, clock=clock, canary_url=f"tcp://127.0.0.1:{port}")
    await feed(monitor, clock, "uu", timedelta(minutes=1))
    await monitor.run_canary()
    assert monitor.canary_down
    await feed(monitor, clock, "ddd", timedelta(minutes=1))
    assert monitor.states[CHECK.id].state == "unknown"
    assert monitor.states[CHECK.id].hard_state == "up"  # three failures did not count

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.close()

    server = await asyncio.start_server(accept, "127.0.0.1", port)
    try:
        await monitor.run_canary()
    finally:
        server.close()
        await server.wait_closed()
    assert not monitor.canary_down
    await feed(monitor, clock, "ddd", timedelta(minutes=1))
    assert monitor.states[CHECK.id].state == "down"  # now failures count again


async def test_a_run_recorded_after_the_hour_turned_adds_to_its_own_hour(db: Database) -> None:
    clock = Clock(T0)
    monitor = Monitor(db, clock=clock)
    await feed(monitor, clock, "uuuuu", timedelta(minutes=1))
    clock.at = T0 + timedelta(hours=1)
    await monitor.flush()  # the first flush of the new hour
    # a run that started a moment before the hour turned, recorded once its probe answered
    monitor.record(CHECK, result(True), T0 + timedelta(minutes=59, seconds=29))
    await monitor.flush()
    hourly = await history.rollup_series(db, [CHECK.id], "hour", T0 - timedelta(hours=1))
    assert [r.total for r in hourly[CHECK.id]] == [6]  # not restarted at 1
