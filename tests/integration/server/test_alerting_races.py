"""The alert path where people, restarts and failures interleave with it: what people do is
never undone by the alerter, is passed on even if alerting was down when they did it, a failed
turn is redone from the store, a resolve cancels a page still waiting, a restart after hours
sends the latest step once, a child that paged just before its root is merged into it, and no
secret reaches the public API."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from infradex.alerting import records
from infradex.alerting.read_models import IncidentDetail
from infradex.store import Database
from infradex.store.tables import incidents, notifications

from .alerting_harness import Inbox, Rig, Target, inbox, load_org, target, write_org

__all__ = ["inbox", "target"]

SOLO = "service:solo/home"
SAM, VAL = "sam@example.org", "val@example.org"


async def _down(rig: Rig, target: Target, check: str = SOLO, path: str = "/solo") -> None:
    target.status[path] = 503
    for _ in range(3):
        await rig.run(check)
        rig.now += timedelta(seconds=10)
    await rig.turn()


async def _up(rig: Rig, target: Target, check: str = SOLO, path: str = "/solo") -> None:
    target.status[path] = 200
    for _ in range(2):
        await rig.run(check)
        rig.now += timedelta(seconds=10)
    await rig.turn()


async def _only_incident(db: Database) -> IncidentDetail:
    [item] = (await records.list_incidents(db))[0]
    return await records.incident_detail(db, item.id)


async def test_an_acknowledgement_is_not_undone_by_the_alerter(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    await _down(rig, target)
    incident = await _only_incident(db)
    # acknowledged between two turns, while the correlator still thinks it is open
    await records.act(db, incident.id, "acknowledge", "user:ee", rig.now)
    mine = rig.alerter.correlator.by_key["service:solo"]
    rig.alerter.correlator._touch(mine)  # touched (as a new impacted check would): saved again
    await rig.turn()
    after = await _only_incident(db)
    assert after.status == "acknowledged" and after.acknowledged_by == "user:ee"
    await rig.advance(timedelta(hours=1))
    # the escalation stayed stopped: the page, and the acknowledgement told, nothing more
    assert [m.subject.split(" #")[0] for m in inbox.mails] == [
        "[infradex] DOWN",
        "[infradex] ACKNOWLEDGED",
    ]
    assert [m.to for m in inbox.mails] == [[SAM], [SAM]]


async def test_resolved_by_hand_then_failing_again_pages_and_resolves_again(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    await _down(rig, target)
    incident = await _only_incident(db)
    await records.act(db, incident.id, "resolve", "user:ee", rig.now)
    await rig.turn()
    assert [m.subject.split(":")[0] for m in inbox.mails] == [
        f"[infradex] DOWN #{incident.id}",
        f"[infradex] RESOLVED #{incident.id}",  # the hand resolve is told
    ]
    await _up(rig, target)  # recovers: nothing to say
    await _down(rig, target)  # fails again within 10 min: the incident reopens and pages
    assert inbox.mails[-1].subject.startswith(f"[infradex] DOWN #{incident.id}")
    await _up(rig, target)
    final = await _only_incident(db)
    assert final.status == "resolved"
    assert inbox.mails[-1].subject.startswith(f"[infradex] RESOLVED #{incident.id}")
    await rig.advance(timedelta(hours=1))
    assert sum("DOWN" in m.subject for m in inbox.mails) == 2


async def test_an_action_taken_while_alerting_was_down_is_passed_on_after_a_restart(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    catalog = load_org(write_org(tmp_path / "org", target))
    rig = Rig(db, catalog, inbox.url)
    await _down(rig, target)
    incident = await _only_incident(db)
    # the server is stopped; someone resolves with the CLI; the server starts again
    await records.act(db, incident.id, "resolve", "cli:ee", rig.now)
    second = Rig(db, catalog, inbox.url, now=rig.now + timedelta(minutes=1))
    await second.alerter.load()
    await second.turn()
    assert [m.subject.split(" #")[0] for m in inbox.mails] == [
        "[infradex] DOWN",
        "[infradex] RESOLVED",
    ]
    await second.turn()
    assert len(inbox.mails) == 2  # told once


async def test_a_failed_turn_is_redone_from_the_store(
    db: Database,
    tmp_path: Path,
    inbox: Inbox,
    target: Target,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    real_save = records.save
    calls = {"n": 0}

    async def failing_once(*args, **kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database is locked")
        return await real_save(*args, **kwargs)

    monkeypatch.setattr(records, "save", failing_once)
    target.status["/solo"] = 503
    for _ in range(3):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    with pytest.raises(RuntimeError):
        await rig.alerter.turn(rig.now)
    await rig.turn()  # from the store again: the unhandled change opens the incident
    incident = await _only_incident(db)
    assert incident.status == "open"
    assert [m.to for m in inbox.mails] == [[SAM]]


async def test_a_resolve_cancels_a_page_still_waiting_for_its_channel(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    inbox.stop()
    await _down(rig, target)  # the page fails: the mail server is down
    await _up(rig, target)  # recovers before the mail server is back
    inbox.start()
    await rig.advance(timedelta(minutes=10))
    assert inbox.mails == []  # neither a stale DOWN nor a RESOLVED for a page never seen
    async with db.begin() as connection:
        statuses = [r.status for r in (await connection.execute(select(notifications))).all()]
    assert statuses == ["cancelled"]


async def test_a_restart_after_hours_sends_the_latest_step_once(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    catalog = load_org(write_org(tmp_path / "org", target))
    rig = Rig(db, catalog, inbox.url)
    await _down(rig, target)
    assert [m.to for m in inbox.mails] == [[SAM]]
    # down for 20 minutes: step 2 (volunteers, at 15 min) is overdue by 5; step 1 of round 2
    # (at 30 min) is not due yet
    second = Rig(db, catalog, inbox.url, now=rig.now + timedelta(minutes=20))
    await second.alerter.load()
    await second.turn()
    assert [m.to for m in inbox.mails] == [[SAM], [VAL]]
    # down for hours: every later step is overdue; only the latest goes out, once
    third = Rig(db, catalog, inbox.url, now=second.now + timedelta(hours=3))
    await third.alerter.load()
    await third.turn()
    assert [m.to for m in inbox.mails] == [[SAM], [VAL], [VAL]]
    detail = await _only_incident(db)
    assert "caught_up" in [e.kind for e in detail.timeline]
    assert detail.next_escalation_at is None  # that was the last step of the last round


async def test_a_child_that_paged_just_before_its_root_is_merged_into_it(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    await _down(rig, target, "service:www/home", "/www")  # its CDN looked well: it pages
    rig.now += timedelta(seconds=5)
    await _down(rig, target, "provider:edgecdn/edge", "/edge")
    async with db.begin() as connection:
        rows = {r.key: r for r in (await connection.execute(select(incidents))).all()}
    assert rows["service:www"].status == "resolved" and rows["provider:edgecdn"].status == "open"
    root = await records.incident_detail(db, rows["provider:edgecdn"].id)
    assert [m.entity for m in root.members if m.role == "impacted"] == ["service:www"]
    child = await records.incident_detail(db, rows["service:www"].id)
    assert child.timeline[-1].kind in ("merged", "notified")
    assert "merged" in [e.kind for e in child.timeline]


async def test_no_secret_reaches_the_incident_api(
    db: Database,
    tmp_path: Path,
    inbox: Inbox,
    target: Target,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channels = (
        "[{type: pagerduty, routingKey: 0123456789abcdef0123456789abcdef}, "
        "{type: webhook, url: 'http://127.0.0.1:9/hook/s3cr3t-path', secret: hunter2}]"
    )
    rig = Rig(db, load_org(write_org(tmp_path / "org", target, channels=channels)), inbox.url)
    await _down(rig, target)
    text = str(await _only_incident(db))
    for secret in ("0123456789abcdef0123456789abcdef", "s3cr3t-path", "hunter2"):
        assert secret not in text
