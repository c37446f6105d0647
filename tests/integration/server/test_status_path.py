"""The status page's whole path with real parts and a frozen clock: a local target fails,
the real probe sees it, the monitor passes the threshold, the alerter opens an internal
incident and its turn drafts a public one naming the public component with the right impact,
a person publishes it and adds an update, and summary.json and the page agree; the target
recovers, the component is operational again, and the turn's resolved update closes the
public incident."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from infradex.statuspage.automatic import PublicIncidentAutomation
from infradex.statuspage.board import StatusBoard
from infradex.statuspage.incident_store import add_update, list_public, publish
from infradex.statuspage.v2 import PageInfo
from infradex.store import Database
from infradex.store.tables import incidents

from .alerting_harness import T0, Inbox, Rig, Target, inbox, load_org, target, write_org

__all__ = ["inbox", "target"]  # fixtures

SOLO = "service:solo/home"


def org_with_a_component(directory: Path, target: Target) -> Path:
    write_org(directory, target)
    path = directory / "catalog.yaml"
    text = path.read_text(encoding="utf-8")
    head = "metadata: {name: solo, title: solo.example.org}\nspec:\n"
    assert head in text
    path.write_text(
        text.replace(head, head + "  status: {group: Apps, name: Solo}\n"), encoding="utf-8"
    )
    return directory


async def test_failure_to_public_incident_to_recovery(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    catalog = load_org(org_with_a_component(tmp_path / "org", target))
    rig = Rig(db, catalog, inbox.url)
    rig.alerter.hooks = (PublicIncidentAutomation(None),)  # as runtime.assembly hands it in
    board = StatusBoard(
        db,
        lambda: (catalog, T0),
        PageInfo("abcdefabcdef", "Example Status", "https://status.example.org"),
        stale_after=timedelta(minutes=10),
        interval=0.0,
        clock=lambda: rig.now,
        uptime=True,
        uptime_every=0.0,
    )

    async def summary() -> dict[str, object]:
        rendered = await board.current()
        found: dict[str, object] = json.loads(rendered.json["summary.json"])
        return found

    await rig.run(SOLO)
    await rig.turn()
    assert (await summary())["status"] == {
        "indicator": "none",
        "description": "All Systems Operational",
    }

    target.status["/solo"] = 503
    for _ in range(3):  # failureThreshold 3, every 10 s
        rig.now += timedelta(seconds=10)
        await rig.run(SOLO)
        await rig.turn()
    async with db.begin() as connection:
        (internal,) = (await connection.execute(select(incidents))).all()
    assert internal.root_ref == "service:solo" and internal.status == "open"

    page, _, _, _ = await board.page_state()
    (solo,) = page.components
    assert str(solo.status) == "major_outage"
    assert solo.reason == "solo.example.org: every check is down"
    async with db.begin() as connection:  # drafted by the turn that opened the incident
        (draft,) = await list_public(connection, published_only=False)
    assert (draft.name, draft.impact, draft.components) == (
        "Problems with Solo",
        "critical",
        ("service:solo",),
    )
    assert (await summary())["incidents"] == []  # a draft is not public
    await publish(db, draft.id, name=None, body="Solo is down; we are on it.", by="user:ann",
                  at=rig.now)  # fmt: skip

    rig.now += timedelta(seconds=60)  # a minute in major outage
    shown = await summary()
    assert shown["status"] == {"indicator": "critical", "description": "Major Service Outage"}
    components = {c["name"]: c["status"] for c in shown["components"]}  # type: ignore[attr-defined]
    assert components == {"Apps": "major_outage", "Solo": "major_outage"}
    (incident,) = shown["incidents"]  # type: ignore[misc]
    assert incident["impact"] == "critical"
    assert incident["incident_updates"][0]["body"] == "Solo is down; we are on it."
    html = (await board.current()).html.decode()
    assert "Major Service Outage" in html and "Solo is down; we are on it." in html
    assert "503" not in html and "solo.example.org" not in html  # internal details stay out
    # today's bar, the component's and its group's, from the replayed state: up, then
    # major outage since the third failure: 60 of the 90 seconds observed
    assert html.count('<svg class="bars"') == 2
    assert html.count('<path class="bar-down" d="M894 0v34"/>') == 2
    assert html.count("33.33 % uptime over the last 90 days. Outages: 2026-") == 2
    assert html.count(": 1 min major outage</title>") == 2

    page, _, _, _ = await board.page_state()
    await add_update(db, draft.id, status="monitoring", body="A fix is out; we are watching.",
                     states=page.components, by="user:ann", at=rig.now)  # fmt: skip

    target.status["/solo"] = 200
    for _ in range(2):  # successThreshold 2
        rig.now += timedelta(seconds=10)
        await rig.run(SOLO)
        await rig.turn()
    page, _, _, _ = await board.page_state()
    assert str(page.components[0].status) == "operational"
    # the incident resolved: its turn resolved the public one too
    shown = await summary()
    assert shown["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert shown["incidents"] == []
    resolved = json.loads((await board.current()).json["incidents.json"])["incidents"][0]
    assert resolved["status"] == "resolved"
    assert [u["status"] for u in resolved["incident_updates"]] == [
        "resolved",
        "monitoring",
        "investigating",
    ]
    assert resolved["incident_updates"][0]["affected_components"][0]["new_status"] == "operational"
    assert resolved["incident_updates"][1]["affected_components"][0]["new_status"] == (
        "major_outage"
    )
