"""The alerter reads the monitor's work from the store only: a monitor writes results, states
and state changes; an alerter built with no monitor at all (as in another process or on
another server sharing the store) opens, holds for maintenance and resolves incidents from
those rows. Runs on SQLite and, with ``--db postgresql``, on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from infradex.alerting import records
from infradex.alerting.incidents import Event, Incident, Member, ref_of
from infradex.alerting.model import EventKind
from infradex.alerting.service import Alerter, AlertSettings
from infradex.catalog import Catalog
from infradex.monitor import history, maintenance, reads
from infradex.monitor.checks import checks_of, run_check
from infradex.monitor.maintenance import Window, reach
from infradex.monitor.service import Monitor
from infradex.oncall.escalation import PolicySnapshot, policy_for
from infradex.store import Database
from infradex.store.tables import notifications

from .alerting_harness import T0, Target, load_org, target, write_org

__all__ = ["target"]  # fixtures

SOLO = "service:solo/home"


async def probe_and_write(
    db: Database, catalog: Catalog, status: int, target: Target, at: datetime
) -> None:
    """One monitor, used once and dropped: a real probe of the solo check, written."""
    target.status["/solo"] = status
    monitor = Monitor(db, clock=lambda: at)
    monitor.states = await history.load_states(db)
    monitor.set_catalog(catalog)
    check = monitor.checks[SOLO]
    monitor.record(check, await run_check(check), at)
    await monitor.flush()


def alerter_without_monitor(db: Database, catalog: Catalog, at: datetime) -> Alerter:
    alerter = Alerter(
        db, {}, settings=AlertSettings(base_url="http://infradex.test"), clock=lambda: at
    )
    alerter.set_catalog(catalog)
    return alerter


async def pages(db: Database) -> list[str]:
    async with db.begin() as connection:
        rows = await connection.execute(
            select(notifications.c.recipient).where(notifications.c.kind == "trigger")
        )
        return [row.recipient for row in rows]


async def test_an_alerter_with_no_monitor_opens_holds_and_resolves_from_the_store(
    db: Database, tmp_path: Path, target: Target
) -> None:
    catalog = load_org(write_org(tmp_path / "org", target))
    now = T0
    for _ in range(3):  # failureThreshold 3
        await probe_and_write(db, catalog, 503, target, now)
        now += timedelta(seconds=10)
    # a maintenance window on the service, written by someone else: paging is held
    window = Window("service:solo", now - timedelta(minutes=1), now + timedelta(minutes=5))
    await history.add_window(db, window, "user:ee", now)

    await alerter_without_monitor(db, catalog, now).turn(now)
    [incident] = (await records.list_incidents(db, "open"))[0]
    assert incident.key == "service:solo"
    detail = await records.incident_detail(db, incident.id)
    assert "paging_held" in [e.kind for e in detail.timeline]
    assert await pages(db) == []

    # the window is over: a fresh alerter (another process) picks the incident up and pages
    now += timedelta(minutes=6)
    second = alerter_without_monitor(db, catalog, now)
    await second.load()
    await second.turn(now)
    assert await pages(db) == ["person:sam-staff"]

    # the target recovers (successThreshold): the monitor writes it up, a third alerter
    # resolves the incident from that state change alone
    for _ in range(2):
        await probe_and_write(db, catalog, 200, target, now)
        now += timedelta(seconds=10)
    third = alerter_without_monitor(db, catalog, now)
    await third.load()
    await third.turn(now)
    assert (await records.list_incidents(db, "open"))[0] == []
    [resolved] = (await records.list_incidents(db, "resolved"))[0]
    assert resolved.id == incident.id


async def test_reads_see_what_the_monitor_wrote(
    db: Database, tmp_path: Path, target: Target
) -> None:
    catalog = load_org(write_org(tmp_path / "org", target))
    assert reads.catalog_check_ids(catalog) == [c.id for c in checks_of(catalog)]
    async with db.begin() as connection:
        assert await reads.unwell_checks(connection) == frozenset()
    await probe_and_write(db, catalog, 503, target, T0)  # one failure: not yet down
    window = Window(SOLO, T0, T0 + timedelta(hours=1))
    await history.add_window(db, window, "user:ee", T0)
    async with db.begin() as connection:
        assert await reads.unwell_checks(connection) == {SOLO}
        states = await reads.check_states_of(connection, [SOLO])
        assert states[SOLO].failures == 1
        covered = await reads.in_maintenance(connection, catalog, [SOLO], T0)
        assert covered[SOLO].target == SOLO
        assert await reads.in_maintenance(connection, catalog, [SOLO], T0 - timedelta(1)) == {}
    await probe_and_write(db, catalog, 200, target, T0 + timedelta(seconds=10))
    async with db.begin() as connection:
        assert await reads.unwell_checks(connection) == frozenset()


async def test_a_turn_works_out_each_window_s_reach_once_not_once_an_incident(
    db: Database, tmp_path: Path, target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Six separate incidents due in one turn, a window in force on the CDN in front of five
    of them and one not yet begun on the sixth: the five are held, the sixth pages, and the
    CDN's reach (an impact query) is worked out once for the turn."""
    catalog = load_org(write_org(tmp_path / "org", target))
    services = ["www", "docs", "wiki", "blog", "events", "solo"]
    ids = []
    async with db.begin() as connection:
        for name in services:
            ref, check = f"service:{name}", f"service:{name}/home"
            incident = Incident(ref, f"{name} is down", T0)
            incident.members[check] = Member(check, ref, "root", T0, None, "got 503")
            incident.events.append(Event(T0, EventKind.OPENED, {"check": check}))
            policy = PolicySnapshot.of(catalog, policy_for(catalog, ref_of(ref))).to_dict()
            await records.save(connection, incident, T0, policy)
            ids.append(incident.id)
    now = T0 + timedelta(seconds=1)
    cdn = Window("provider:edgecdn", now - timedelta(minutes=1), now + timedelta(hours=1))
    await history.add_window(db, cdn, "user:ee", now)
    later = Window("service:solo", now + timedelta(hours=1), now + timedelta(hours=2))
    await history.add_window(db, later, "user:ee", now)
    asked: list[str] = []

    def counted_reach(catalog: Catalog, target: str) -> maintenance.Reach:
        asked.append(target)
        return reach(catalog, target)

    monkeypatch.setattr(maintenance, "reach", counted_reach)

    assert await alerter_without_monitor(db, catalog, now).turn(now) == 1
    assert asked == ["provider:edgecdn"]
    assert await pages(db) == ["person:sam-staff"]
    held = []
    for incident_id in ids:
        assert incident_id is not None
        detail = await records.incident_detail(db, incident_id)
        if "paging_held" in [e.kind for e in detail.timeline]:
            held.append(detail.key)
    assert sorted(held) == sorted(f"service:{n}" for n in services[:5])
