"""The alert path end to end with real parts and a frozen clock: a local target fails, the real
probe sees it, the monitor passes the threshold, the alerter opens an incident and escalates
through the on-call schedules, the dispatcher hands email to a real SMTP server (aiosmtpd)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from infradex.alerting import records
from infradex.store import Database
from infradex.store.tables import incidents, notifications

from .alerting_harness import T0, Inbox, Rig, Target, inbox, load_org, target, write_org

__all__ = ["inbox", "target"]  # fixtures

SOLO = "service:solo/home"
SAM, VAL = "sam@example.org", "val@example.org"
CHILDREN = ["www", "docs", "wiki", "blog", "events"]


async def test_page_escalate_acknowledge_by_link_recover_resolve(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    target.status["/solo"] = 503
    for _ in range(3):  # failureThreshold 3, every 10 s
        await rig.run(SOLO)
        await rig.turn()
        if len(inbox.mails) == 0:
            rig.now += timedelta(seconds=10)
    # the third failure makes it down: one incident, one page to the staff member on call
    [page] = inbox.mails
    assert page.to == [SAM]
    assert page.subject.startswith("[infradex] DOWN #") and "solo.example.org" in page.subject
    assert "[STATUS] < 400: got 503" in page.text or "503" in page.text
    assert "schedule:staff" in page.text and "step 1" in page.text
    assert page.html.startswith("<!doctype html>") and "Acknowledge" in page.html

    # nobody acknowledges for 15 minutes: the volunteer layer is paged, the staff member
    # is not paged again
    await rig.advance(timedelta(minutes=14, seconds=59))
    assert len(inbox.mails) == 1
    await rig.advance(timedelta(seconds=1))
    assert [m.to for m in inbox.mails] == [[SAM], [VAL]]
    assert "schedule:volunteers" in inbox.mails[1].text

    # the volunteer acknowledges with the link in the message: escalation stops
    token = inbox.mails[1].link("Acknowledge").rsplit("/", 1)[1]
    done = await records.use_link(db, token, rig.now)
    assert done.incident.status == "acknowledged"
    assert done.incident.acknowledged_by == "person:val-volunteer (link)"
    await rig.advance(timedelta(hours=2))  # the repeat round would have paged by now
    # both people paged are told who took it, and nothing more is sent
    acked = inbox.mails[2:]
    assert sorted(m.to[0] for m in acked) == [SAM, VAL]
    assert all(m.subject.startswith("[infradex] ACKNOWLEDGED #") for m in acked)
    del inbox.mails[2:]

    # the target recovers: after successThreshold (2) successes, resolved, and everyone
    # who was paged hears it
    target.status["/solo"] = 200
    await rig.run(SOLO)
    await rig.turn()
    assert len(inbox.mails) == 2
    rig.now += timedelta(seconds=10)
    await rig.run(SOLO)
    await rig.turn()
    resolved = inbox.mails[2:]
    assert sorted(m.to[0] for m in resolved) == [SAM, VAL]
    assert all(m.subject.startswith("[infradex] RESOLVED #") for m in resolved)
    # one thread per incident in mail clients
    assert resolved[0].headers["In-Reply-To"] == page.headers["References"]

    [incident] = (await records.list_incidents(db))[0]
    detail = await records.incident_detail(db, incident.id)
    kinds = [e.kind for e in detail.timeline]
    assert kinds[:2] == ["opened", "check_down"]
    assert kinds.count("escalated") == 2 and kinds.count("notified") == 6  # 2 pages, 2 acks
    assert kinds.index("acknowledged") < kinds.index("check_up") < kinds.index("resolved")
    assert detail.status == "resolved"


async def test_a_link_works_once_and_not_after_it_expires(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    target.status["/solo"] = 500
    for _ in range(3):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    await rig.turn()
    [page] = inbox.mails
    ack = page.link("Acknowledge").rsplit("/", 1)[1]
    resolve = page.link("Resolve").rsplit("/", 1)[1]
    await records.use_link(db, ack, rig.now)
    try:
        await records.use_link(db, ack, rig.now)
    except Exception as exc:
        assert "already used" in str(exc)
    else:
        raise AssertionError("a link worked twice")
    try:
        await records.use_link(db, resolve, rig.now + timedelta(days=2))
    except Exception as exc:
        assert "expired" in str(exc)
    else:
        raise AssertionError("an expired link worked")
    try:
        await records.use_link(db, "not-a-token", rig.now)
    except Exception as exc:
        assert "not known" in str(exc)
    else:
        raise AssertionError("an unknown link worked")


async def test_cdn_down_first_makes_exactly_one_page_naming_the_five_services(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    target.status["/edge"] = 503
    for name in CHILDREN:
        target.status[f"/{name}"] = 503
    for _ in range(3):  # the edge check reaches its threshold first ...
        await rig.run("provider:edgecdn/edge")
        await rig.turn()
        rig.now += timedelta(seconds=2)
    for _ in range(3):  # ... then every service behind it
        await rig.run(*(f"service:{n}/home" for n in CHILDREN))
        await rig.turn()
        rig.now += timedelta(seconds=10)
    await rig.advance(timedelta(minutes=2))
    [page] = inbox.mails
    assert page.to == [SAM]
    assert "Edge CDN" in page.subject and "5 services impacted" in page.subject
    for name in CHILDREN:
        assert f"service:{name}" in page.text
    async with db.begin() as connection:
        count = (await connection.execute(select(func.count()).select_from(incidents))).scalar()
    assert count == 1
    [incident] = (await records.list_incidents(db))[0]
    assert incident.key == "provider:edgecdn" and incident.impacted_count == 5


async def test_children_failing_before_the_cdn_wait_for_it_and_do_not_page(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    target.status["/edge"] = 503
    for name in CHILDREN:
        target.status[f"/{name}"] = 503
    children = [f"service:{n}/home" for n in CHILDREN]
    for _ in range(3):  # everything fails together; the children are down first
        await rig.run(*children)
        await rig.run("provider:edgecdn/edge")
        await rig.turn()
        rig.now += timedelta(seconds=10)
    await rig.advance(timedelta(minutes=3))
    [page] = inbox.mails
    assert "Edge CDN" in page.subject
    assert all("[failing now]" in line for line in page.text.splitlines() if "(service:" in line)


async def test_smtp_down_during_an_incident_delivers_after_it_returns(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    inbox.stop()
    target.status["/solo"] = 503
    for _ in range(3):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    await rig.turn()
    async with db.begin() as connection:
        row = (await connection.execute(select(notifications))).one()
    assert row.status == "pending" and row.attempts == 1
    assert "cannot send mail" in row.last_error and "127.0.0.1" in row.last_error
    for _ in range(3):  # retried with backoff while it stays down
        await rig.advance(timedelta(minutes=1))
    inbox.start()
    await rig.advance(timedelta(minutes=5))
    [page] = inbox.mails
    assert page.to == [SAM]
    async with db.begin() as connection:
        row = (await connection.execute(select(notifications))).one()
    assert row.status == "sent" and row.attempts >= 3
    detail = await records.incident_detail(db, row.incident_id)
    kinds = [e.kind for e in detail.timeline]
    assert kinds.count("notify_retry") == 1 and kinds.count("notified") == 1


async def test_a_flapping_check_does_not_page_over_and_over(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    # down for three results, up for two, for half an hour: without a guard that is a page
    # and a resolve every 50 s
    pattern = [503, 503, 503, 200, 200] * 36
    for status in pattern:
        target.status["/solo"] = status
        await rig.run(SOLO)
        await rig.turn()
        rig.now += timedelta(seconds=10)
    pages = [m for m in inbox.mails if "DOWN" in m.subject]
    assert 1 <= len(pages) <= 3, [m.subject for m in inbox.mails]
    assert len(inbox.mails) <= 8


async def test_maintenance_silences_paging_but_the_incident_is_recorded(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    from infradex.monitor import history
    from infradex.monitor.maintenance import Window

    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    target.status["/solo"] = 503
    for _ in range(3):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    # the window starts after the incident opened but before anything was sent
    window = Window("service:solo", rig.now - timedelta(minutes=1), rig.now + timedelta(hours=1))
    await history.add_window(db, window, "user:ee", rig.now)
    await rig.turn()
    await rig.advance(timedelta(minutes=30))
    assert inbox.mails == []
    [incident] = (await records.list_incidents(db))[0]
    detail = await records.incident_detail(db, incident.id)
    assert "paging_held" in [e.kind for e in detail.timeline]
    # the window ends with the target still down: the held step goes out then, and the next
    # one keeps its 15 minutes
    for _ in range(31):
        await rig.advance(timedelta(minutes=1))
    assert [m.to for m in inbox.mails] == [[SAM]]
    for _ in range(15):
        await rig.advance(timedelta(minutes=1))
    assert [m.to for m in inbox.mails] == [[SAM], [VAL]]


async def test_snooze_wakes_the_escalation_again(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    target.status["/solo"] = 503
    for _ in range(3):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    await rig.turn()
    [incident] = (await records.list_incidents(db))[0]
    await records.act(db, incident.id, "snooze", "user:ee", rig.now, snooze=timedelta(hours=1))
    await rig.advance(timedelta(minutes=59))
    assert len(inbox.mails) == 2  # the page, and the snooze (an acknowledgement) told
    assert "ACKNOWLEDGED" in inbox.mails[1].subject
    await rig.advance(timedelta(minutes=2))
    assert [m.to for m in inbox.mails] == [[SAM], [SAM], [SAM]]
    detail = await records.incident_detail(db, incident.id)
    assert "snooze_ended" in [e.kind for e in detail.timeline]


async def test_a_restarted_alerter_carries_on_without_resending(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    catalog = load_org(write_org(tmp_path / "org", target))
    rig = Rig(db, catalog, inbox.url)
    target.status["/solo"] = 503
    for _ in range(3):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    await rig.turn()
    assert len(inbox.mails) == 1
    # a new process: new monitor (state from the store), new alerter (incidents from the store)
    second = Rig(db, catalog, inbox.url, now=rig.now)
    from infradex.monitor import history

    second.monitor.states = await history.load_states(db)
    await second.alerter.load()
    await second.advance(timedelta(minutes=5))
    assert len(inbox.mails) == 1  # nothing re-sent
    await second.advance(timedelta(minutes=10))
    assert [m.to for m in inbox.mails] == [[SAM], [VAL]]  # step 2, on time
    async with db.begin() as connection:
        count = (await connection.execute(select(func.count()).select_from(incidents))).scalar()
    assert count == 1
    assert second.now > T0
