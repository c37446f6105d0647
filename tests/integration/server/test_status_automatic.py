"""The status page kept by the alerter, the whole path with real parts and a frozen clock
(docs/status-page.md, "What happens by itself"): a local target fails, the real probe sees
it, the monitor passes the threshold, the alerter's turn opens the internal incident and
drafts the public one (the right component and impact, public names only); nobody
acknowledges it, so after the component's ``autoPublishAfter`` the turn publishes it and a
confirmed subscriber gets the mail (aiosmtpd) that says what summary.json, the page and the
feeds say;
the target recovers, the turn adds the resolved update (in the feeds too), and the subscriber
is told again.
On SQLite and PostgreSQL (``--db postgresql``)."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from infradex.alerting.model import IncidentStatus
from infradex.netpolicy import DEFAULT_POLICY
from infradex.statuspage.automatic import AUTOMATIC, PublicIncidentAutomation
from infradex.statuspage.board import StatusBoard
from infradex.statuspage.incident_store import list_public, publish
from infradex.statuspage.incidents import PublicIncident
from infradex.statuspage.paths import ATOM_PATH, RSS_PATH
from infradex.statuspage.subscriber_messages import SubscriberLinks
from infradex.statuspage.subscribers import confirm, sign_up
from infradex.statuspage.v2 import PageInfo
from infradex.store import Database
from infradex.store.tables import incident_events, incidents, notifications

from .alerting_harness import T0, Inbox, Mail, Rig, Target, inbox, load_org, target, write_org
from .test_upstream_status import Upstream, upstream

__all__ = ["inbox", "target", "upstream"]  # fixtures

SOLO = "service:solo/home"
KEY = "test-secret"
LINKS = SubscriberLinks("https://status.example.org", "Example Status", KEY)


def org(directory: Path, target: Target, solo_status: str) -> Path:
    """The alerting fixture organisation, its solo service a status component."""
    write_org(directory, target)
    path = directory / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    head = "metadata: {name: solo, title: solo.example.org}\nspec:\n"
    assert head in text
    path.write_text(text.replace(head, head + f"  status: {solo_status}\n"), encoding="utf-8")
    return directory


def board_for(rig: Rig) -> StatusBoard:
    return StatusBoard(
        rig.db,
        lambda: (rig.catalog, T0),
        PageInfo("abcdefabcdef", "Example Status", "https://status.example.org"),
        stale_after=timedelta(minutes=10),
        interval=0.0,
        clock=lambda: rig.now,
        uptime=True,
        uptime_every=0.0,
    )


async def subscribe(db: Database, address: str, now: datetime) -> None:
    """A confirmed email subscriber of every component (through the real sign-up and its
    confirmation link)."""
    await sign_up(db, LINKS, kind="email", address=address, components=(), known={},
                  source="192.0.2.1", now=now, policy=DEFAULT_POLICY)  # fmt: skip
    async with db.begin() as connection:
        payload = (
            await connection.execute(
                select(notifications.c.payload).where(
                    notifications.c.target == address, notifications.c.kind == "subscribe"
                )
            )
        ).scalar_one()
    token = payload["message"]["links"]["confirm"].split("token=", 1)[1]
    await confirm(db, KEY, token, now)


async def public_incidents(db: Database) -> list[PublicIncident]:
    async with db.begin() as connection:
        return await list_public(connection, published_only=False)


def status_mails(inbox: Inbox, address: str) -> list[Mail]:
    return [m for m in inbox.to(address) if m.subject.startswith("[Example Status]")]


async def fail(rig: Rig, target: Target) -> None:
    target.status["/solo"] = 503
    for _ in range(3):  # failureThreshold 3, every 10 s
        rig.now += timedelta(seconds=10)
        await rig.run(SOLO)
        await rig.turn()


async def test_failure_drafted_published_by_itself_and_resolved(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    catalog = load_org(org(tmp_path / "org", target, "{group: Apps, name: Solo, "
                                                     "autoPublishAfter: 15m}"))  # fmt: skip
    rig = Rig(db, catalog, inbox.url)
    rig.alerter.hooks = (PublicIncidentAutomation(LINKS),)
    board = board_for(rig)
    await subscribe(db, "ada@example.org", rig.now)
    await rig.run(SOLO)
    await rig.turn()
    assert await public_incidents(db) == []

    await fail(rig, target)
    async with db.begin() as connection:
        (internal,) = (await connection.execute(select(incidents))).all()
    assert internal.status == "open"
    (draft,) = await public_incidents(db)  # drafted in the turn that opened the incident
    assert (draft.name, draft.impact, draft.components) == (
        "Problems with Solo",
        "critical",
        ("service:solo",),
    )
    assert draft.published_at is None and draft.created_at == rig.now
    (first,) = draft.updates
    assert first.body == "We are investigating problems with Solo."
    assert first.components == {"service:solo": "major_outage"}
    summary = json.loads((await board.current()).json["summary.json"])
    assert summary["incidents"] == []  # a draft is not public
    assert status_mails(inbox, "ada@example.org") == []

    # nobody acknowledges it: 15 minutes after the draft, the turn publishes it
    drafted = rig.now
    for _ in range(14):  # the monitor keeps reporting (the page would say "out of date")
        rig.now += timedelta(minutes=1)
        await rig.run(SOLO)
        await rig.turn()
        assert (await public_incidents(db))[0].published_at is None, rig.now - drafted
    rig.now = drafted + timedelta(minutes=15)
    await rig.run(SOLO)
    await rig.turn()
    (published,) = await public_incidents(db)
    assert published.published_at == rig.now

    summary = json.loads((await board.current()).json["summary.json"])
    assert summary["status"] == {"indicator": "critical", "description": "Major Service Outage"}
    (shown,) = summary["incidents"]
    assert (shown["name"], shown["status"], shown["impact"]) == (
        "Problems with Solo",
        "investigating",
        "critical",
    )
    assert shown["incident_updates"][0]["body"] == "We are investigating problems with Solo."
    rendered = await board.current()
    html = rendered.html.decode()
    assert "Problems with Solo" in html and "We are investigating problems with Solo." in html
    for feed in (ATOM_PATH, RSS_PATH):
        text = rendered.pages[feed].decode()
        assert "Problems with Solo" in text and "We are investigating problems with Solo." in text
    (mail,) = status_mails(inbox, "ada@example.org")
    assert mail.subject == "[Example Status] Incident: Problems with Solo"
    assert "We are investigating problems with Solo." in mail.text and "Solo" in mail.text
    assert mail.headers["List-Unsubscribe"].startswith(
        "<https://status.example.org/status/unsubscribe?token="
    )
    assert "https://status.example.org/status" in mail.text

    # the target recovers: the internal incident resolves, and so does the public one
    target.status["/solo"] = 200
    for _ in range(2):  # successThreshold 2
        rig.now += timedelta(seconds=10)
        await rig.run(SOLO)
        await rig.turn()
    (resolved,) = await public_incidents(db)
    assert resolved.status == "resolved" and resolved.resolved_at == rig.now
    last = resolved.updates[-1]
    assert last.body == "This incident has been resolved: Solo operating normally again."
    assert last.components == {"service:solo": "operational"}
    rendered = await board.current()
    summary = json.loads(rendered.json["summary.json"])
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert summary["incidents"] == []
    listed = json.loads(rendered.json["incidents.json"])["incidents"][0]
    assert listed["status"] == "resolved"
    assert listed["incident_updates"][0]["affected_components"][0]["new_status"] == "operational"
    mails = status_mails(inbox, "ada@example.org")
    assert [m.subject for m in mails] == [
        "[Example Status] Incident: Problems with Solo",
        "[Example Status] Resolved: Problems with Solo",
    ]
    assert "Solo operating normally again." in mails[1].text
    atom = rendered.pages[ATOM_PATH].decode()
    assert "This incident has been resolved: Solo operating normally again." in atom

    # more turns change nothing and tell nobody again
    await rig.advance(timedelta(minutes=1))
    assert len(status_mails(inbox, "ada@example.org")) == 2
    assert (await public_incidents(db))[0].updates == resolved.updates


async def test_an_acknowledged_incident_waits_for_a_person(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    catalog = load_org(org(tmp_path / "org", target, "{name: Solo, autoPublishAfter: 5m}"))
    rig = Rig(db, catalog, inbox.url)
    rig.alerter.hooks = (PublicIncidentAutomation(LINKS),)
    await rig.run(SOLO)
    await rig.turn()
    await fail(rig, target)
    async with db.begin(writes=True) as connection:  # as the incident page's button does
        await connection.execute(
            update(incidents).values(status=IncidentStatus.ACKNOWLEDGED, needs_notice=True)
        )
    await rig.advance(timedelta(minutes=10))
    (draft,) = await public_incidents(db)
    assert draft.published_at is None


async def test_without_autopublish_a_draft_stays_a_draft(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    catalog = load_org(org(tmp_path / "org", target, "{name: Solo}"))
    rig = Rig(db, catalog, inbox.url)
    rig.alerter.hooks = (PublicIncidentAutomation(LINKS),)
    await rig.run(SOLO)
    await rig.turn()
    await fail(rig, target)
    await rig.advance(timedelta(hours=2))
    (draft,) = await public_incidents(db)
    assert draft.published_at is None


async def test_without_a_public_address_nobody_gets_a_broken_link(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target, caplog: pytest.LogCaptureFixture
) -> None:
    catalog = load_org(org(tmp_path / "org", target, "{name: Solo, autoPublishAfter: 1m}"))
    rig = Rig(db, catalog, inbox.url)
    rig.alerter.hooks = (PublicIncidentAutomation(None),)
    await subscribe(db, "ada@example.org", rig.now)
    await rig.run(SOLO)
    await rig.turn()
    with caplog.at_level(logging.WARNING, logger="infradex.statuspage"):
        await fail(rig, target)
        await rig.advance(timedelta(minutes=2))
        target.status["/solo"] = 200
        for _ in range(2):
            await rig.advance(timedelta(seconds=10))
            await rig.run(SOLO)
        await rig.turn()
    (incident,) = await public_incidents(db)
    assert incident.published_at is not None and incident.status == "resolved"
    assert incident.updates[0].body == "We are investigating problems with Solo."
    assert status_mails(inbox, "ada@example.org") == []
    said = [r.getMessage() for r in caplog.records if "INFRADEX_STATUS_URL" in r.getMessage()]
    assert len(said) == 1, said  # once, not once per publication
    assert (incident.updates[0].components, AUTOMATIC) == (
        {"service:solo": "major_outage"},
        "infradex",
    )


def org_behind_a_cdn(directory: Path, target: Target, upstream_port: int) -> Path:
    """The fixture organisation with its CDN a component ("Content Delivery Network") whose
    own status page is a check, and www a component ("Website") behind it."""
    write_org(directory, target)
    path = directory / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    own = (
        f'    - {{name: own-status, url: "statuspage://127.0.0.1:{upstream_port}/edge", '
        "interval: 1m, timeout: 2s, failureThreshold: 1}\n"
    )
    cdn = "spec:\n  type: cdn\n  checks:\n"
    marker = (
        "failureThreshold: 3, successThreshold: 2}\n---\napiVersion: infradex/v1\nkind: Provider"
    )
    www = "metadata: {name: www, title: www.example.org}\nspec:\n"
    assert cdn in text and marker in text and www in text
    text = text.replace(
        cdn, "spec:\n  type: cdn\n  statusPage: {name: Content Delivery Network}\n  checks:\n", 1
    )
    text = text.replace(marker, marker.replace("}\n---", "}\n" + own + "---", 1), 1)
    text = text.replace(www, www + "  status: {name: Website}\n", 1)
    path.write_text(text, encoding="utf-8")
    return directory


EDGE, OWN = "provider:edgecdn/edge", "provider:edgecdn/own-status"
CONFIRMS = (
    "Our upstream provider (Content Delivery Network) confirms a problem on its own status page."
)


async def cdn_rig(db: Database, tmp_path: Path, inbox: Inbox, target: Target,
                  upstream: Upstream) -> Rig:  # fmt: skip
    rig = Rig(db, load_org(org_behind_a_cdn(tmp_path / "org", target, upstream.port)), inbox.url)
    rig.monitor.ca_file = upstream.ca_file
    rig.monitor.set_catalog(rig.catalog)
    rig.alerter.hooks = (PublicIncidentAutomation(LINKS),)
    await rig.run(OWN)
    target.status["/edge"] = 503
    for _ in range(3):
        await rig.run(EDGE)
        await rig.turn()
        rig.now += timedelta(seconds=10)
    return rig


async def test_the_draft_says_the_provider_confirms(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target, upstream: Upstream
) -> None:
    rig = await cdn_rig(db, tmp_path, inbox, target, upstream)
    (draft,) = await public_incidents(db)
    assert draft.name == "Problems with Website and Content Delivery Network"
    assert draft.updates[0].body == (
        "We are investigating problems with Website and Content Delivery Network."
    )
    upstream.indicator = "major"
    await rig.run(OWN)
    await rig.turn()
    (draft,) = await public_incidents(db)
    assert draft.published_at is None
    assert draft.updates[0].body == (
        "We are investigating problems with Website and Content Delivery Network. " + CONFIRMS
    )


async def test_a_published_incident_is_told_the_provider_confirms(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target, upstream: Upstream
) -> None:
    rig = await cdn_rig(db, tmp_path, inbox, target, upstream)
    await subscribe(db, "ada@example.org", rig.now)
    (draft,) = await public_incidents(db)
    await publish(db, draft.id, name="CDN trouble", body="Pages load slowly.", by="user:ann",
                  at=rig.now)  # fmt: skip
    upstream.indicator = "major"
    for _ in range(2):  # once, however many turns see it
        await rig.run(OWN)
        await rig.turn()
        rig.now += timedelta(seconds=10)
    (incident,) = await public_incidents(db)
    assert [(u.status, u.body) for u in incident.updates] == [
        ("investigating", "Pages load slowly."),
        ("identified", CONFIRMS),
    ]
    (mail,) = status_mails(inbox, "ada@example.org")
    assert mail.subject == "[Example Status] Update: CDN trouble" and CONFIRMS in mail.text


async def test_no_internal_detail_reaches_what_the_turn_writes(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    """The internal incident's title, its check messages, the host, the people and the
    team are all in the store the turn reads; none reaches a draft, a publication, an
    update, the JSON, the page or a subscriber's mail."""
    catalog = load_org(org(tmp_path / "org", target, "{name: Solo, autoPublishAfter: 1m}"))
    rig = Rig(db, catalog, inbox.url)
    rig.alerter.hooks = (PublicIncidentAutomation(LINKS),)
    board = board_for(rig)
    await subscribe(db, "ada@example.org", rig.now)
    await rig.run(SOLO)
    await rig.turn()
    await fail(rig, target)
    for _ in range(2):
        rig.now += timedelta(minutes=1)
        await rig.run(SOLO)
        await rig.turn()
    target.status["/solo"] = 200
    for _ in range(2):
        rig.now += timedelta(seconds=10)
        await rig.run(SOLO)
        await rig.turn()
    async with db.begin() as connection:
        (internal,) = (await connection.execute(select(incidents))).all()
        messages = (
            await connection.execute(
                select(incident_events.c.data).where(incident_events.c.kind == "check_down")
            )
        ).scalars().all()  # fmt: skip
    (incident,) = await public_incidents(db)
    assert incident.published_at is not None and incident.status == "resolved"
    internal_words = [internal.title, *(m["message"] for m in messages if m.get("message"))]
    assert internal_words[1:], "the check messages are in the store"
    internal_words += ["solo.example.org", "app1", "Sam Staff", "Val Volunteer", "sam@",
                       "team:ops", "service:solo/home", str(target.port)]  # fmt: skip
    rendered = await board.current()
    public_texts = [
        incident.name,
        *(u.body for u in incident.updates),
        *(b.decode() for b in rendered.json.values()),
        rendered.html.decode(),
        *(m.subject + m.text for m in status_mails(inbox, "ada@example.org")),
    ]
    assert len(status_mails(inbox, "ada@example.org")) == 2
    for text in public_texts:
        for word in internal_words:
            assert word not in text, (word, text[:200])


async def test_an_incident_reopened_after_its_public_one_resolved_gets_a_new_one(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    catalog = load_org(org(tmp_path / "org", target, "{name: Solo, autoPublishAfter: 1m}"))
    rig = Rig(db, catalog, inbox.url)
    rig.alerter.hooks = (PublicIncidentAutomation(LINKS),)
    await rig.run(SOLO)
    await rig.turn()

    async def recover() -> None:
        target.status["/solo"] = 200
        for _ in range(2):
            rig.now += timedelta(seconds=10)
            await rig.run(SOLO)
            await rig.turn()

    await fail(rig, target)
    rig.now += timedelta(minutes=1)
    await rig.turn()
    await recover()
    (first,) = await public_incidents(db)
    assert first.published_at is not None and first.status == "resolved"
    await fail(rig, target)  # within the reopen window: the same internal incident
    async with db.begin() as connection:
        assert len((await connection.execute(select(incidents))).all()) == 1
    again, before = await public_incidents(db)  # newest first
    assert before == first  # left as it was
    assert again.published_at is None and again.status == "investigating"
    rig.now += timedelta(minutes=1)
    await rig.turn()
    await recover()
    again, before = await public_incidents(db)
    assert again.published_at is not None and again.status == "resolved"
