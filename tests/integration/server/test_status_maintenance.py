"""Public maintenance through its lifecycle by the clock alone (a frozen clock, no button):
scheduled → in progress → verifying (ended, a component it covered not yet operational) →
completed, as Statuspage's scheduled-maintenances JSON (all, upcoming, active) shows it,
for a window stored through the API's store function (public, with a public name) and one
the catalog declares; a private stored window never shows."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from infradex.catalog import Catalog
from infradex.lint import load
from infradex.monitor import history
from infradex.monitor.maintenance import Window
from infradex.statuspage.board import StatusBoard
from infradex.statuspage.overrides import set_override
from infradex.statuspage.v2 import PageInfo
from infradex.store import Database

T0 = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
START, END = T0 + timedelta(hours=1), T0 + timedelta(hours=3)

CATALOG = {
    "all.yaml": f"""\
    apiVersion: infradex/v1
    kind: Service
    metadata: {{name: web, title: Website}}
    spec:
      status: {{name: www.example.org}}
    ---
    apiVersion: infradex/v1
    kind: Service
    metadata: {{name: db}}
    spec:
      status: {{name: Database}}
      maintenance:
        - {{start: "{(T0 + timedelta(days=2)).isoformat()}", duration: 1h, public: true}}
    """
}


def catalog_of(tmp_path: Path, write_catalog: Any) -> Catalog:
    loaded = load(write_catalog(tmp_path / "catalog", CATALOG))
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


async def test_a_public_window_steps_through_its_lifecycle_by_the_clock(
    db: Database, tmp_path: Path, write_catalog: Any
) -> None:
    catalog = catalog_of(tmp_path, write_catalog)
    now = [T0]
    board = StatusBoard(
        db, lambda: (catalog, T0), PageInfo("abcdefabcdef", "Example", "https://s.example.org"),
        stale_after=timedelta(minutes=10), interval=0.0, clock=lambda: now[0], monitored=False,
    )  # fmt: skip
    upgrade = Window("service:web", START, END, reason="SECRET kernel on db7", public=True,
                     public_name="Web server upgrade")  # fmt: skip
    await history.add_window(db, upgrade, "user:ann", T0)
    quiet = Window("service:web", START, END, reason="internal only")  # not public
    await history.add_window(db, quiet, "user:ann", T0)

    async def documents() -> dict[str, Any]:
        rendered = await board.current()
        assert "SECRET" not in rendered.html.decode()
        assert all(b"SECRET" not in body for body in rendered.json.values())
        return {path: json.loads(body) for path, body in rendered.json.items()}

    def ours(found: dict[str, Any], path: str) -> list[dict[str, Any]]:
        items = found[path]["scheduled_maintenances"]
        return [m for m in items if m["name"] == "Web server upgrade"]

    found = await documents()
    (planned,) = ours(found, "scheduled-maintenances/upcoming.json")
    assert planned["status"] == "scheduled"
    assert planned["scheduled_for"] == "2026-12-07T02:00:00.000Z"
    assert planned["scheduled_until"] == "2026-12-07T04:00:00.000Z"
    assert [c["name"] for c in planned["components"]] == ["www.example.org"]
    assert [u["status"] for u in planned["incident_updates"]] == ["scheduled"]
    assert ours(found, "scheduled-maintenances/active.json") == []
    # the catalog's window is upcoming too; the private one is nowhere
    names = [m["name"] for m in found["scheduled-maintenances.json"]["scheduled_maintenances"]]
    assert sorted(names) == ["Scheduled maintenance", "Web server upgrade"]

    now[0] = START + timedelta(minutes=5)
    found = await documents()
    (running,) = ours(found, "scheduled-maintenances/active.json")
    assert running["status"] == "in_progress" and running["id"] == planned["id"]
    assert [u["status"] for u in running["incident_updates"]] == ["in_progress", "scheduled"]
    assert ours(found, "scheduled-maintenances/upcoming.json") == []
    web = next(c for c in found["components.json"]["components"] if c["name"] == "www.example.org")
    assert web["status"] == "under_maintenance"
    assert found["status.json"]["status"]["indicator"] == "maintenance"
    assert (
        "<strong>Web server upgrade</strong> (in progress)" in (await board.current()).html.decode()
    )

    # it ends while the component is still down: verifying, still listed as active
    await set_override(db, "service:web", "major_outage", expires_at=END + timedelta(minutes=20),
                       reason="r", by="user:ann", at=END - timedelta(minutes=1))  # fmt: skip
    now[0] = END + timedelta(minutes=5)
    found = await documents()
    (checking,) = ours(found, "scheduled-maintenances/active.json")
    assert checking["status"] == "verifying"
    assert checking["monitoring_at"] == "2026-12-07T04:00:00.000Z"
    assert checking["resolved_at"] is None

    # the component is operational again: completed, in none of upcoming and active
    now[0] = END + timedelta(minutes=25)
    found = await documents()
    (done,) = ours(found, "scheduled-maintenances.json")
    assert done["status"] == "completed"
    assert done["resolved_at"] == "2026-12-07T04:00:00.000Z"
    assert [u["status"] for u in done["incident_updates"]] == [
        "completed", "in_progress", "scheduled",
    ]  # fmt: skip
    assert ours(found, "scheduled-maintenances/active.json") == []
    history_page = (await board.current()).pages["/status/history"].decode()
    assert "Web server upgrade" in history_page and "Completed" in history_page


async def test_verifying_ends_after_its_limit_even_if_the_component_is_still_down(
    db: Database, tmp_path: Path, write_catalog: Any
) -> None:
    catalog = catalog_of(tmp_path, write_catalog)
    now = [END + timedelta(minutes=31)]
    board = StatusBoard(
        db, lambda: (catalog, T0), PageInfo("abcdefabcdef", "Example", "https://s.example.org"),
        stale_after=timedelta(minutes=10), interval=0.0, clock=lambda: now[0], monitored=False,
    )  # fmt: skip
    await history.add_window(db, Window("service:web", START, END, public=True), "u", T0)
    await set_override(db, "service:web", "major_outage", expires_at=END + timedelta(hours=2),
                       reason="r", by="user:ann", at=END)  # fmt: skip
    documents = (await board.current()).json
    listed = json.loads(documents["scheduled-maintenances.json"])["scheduled_maintenances"]
    web = [m for m in listed if m["components"] and m["components"][0]["name"] != "Database"]
    assert [m["status"] for m in web] == ["completed"]  # an incident now, not maintenance


async def test_a_window_added_through_the_api_can_be_public(client: Any, write_token: str) -> None:
    writer = {"Authorization": f"Bearer {write_token}"}
    start = datetime.now(UTC) + timedelta(days=1)
    window = {"target": "service:pypi", "start": start.isoformat(),
              "end": (start + timedelta(hours=1)).isoformat(), "reason": "SECRET db7"}  # fmt: skip
    refused = await client.post(
        "/api/v1/maintenance", json={**window, "publicName": "PyPI upgrade"}, headers=writer
    )
    assert refused.status_code == 400 and '"public": true' in refused.json()["error"]
    added = await client.post(
        "/api/v1/maintenance",
        json={**window, "public": True, "publicName": "PyPI upgrade"},
        headers=writer,
    )
    assert added.status_code == 201, added.text
    assert added.json()["public"] is True and added.json()["publicName"] == "PyPI upgrade"
    upcoming = (await client.get("/api/v2/scheduled-maintenances/upcoming.json")).json()
    (shown,) = [m for m in upcoming["scheduled_maintenances"] if m["name"] == "PyPI upgrade"]
    assert shown["status"] == "scheduled" and "pypi.org" in [c["name"] for c in shown["components"]]
    assert "SECRET" not in json.dumps(upcoming)
    listed = (await client.get("/api/v1/maintenance", headers=writer)).json()["items"]
    assert any(w["public"] and w["publicName"] == "PyPI upgrade" for w in listed)


async def test_subscribers_hear_each_step_once(
    db: Database, tmp_path: Path, write_catalog: Any
) -> None:
    """Scheduled, started, completed: each queued once for a confirmed subscriber, by
    whichever call first sees it, however often it is called; old steps are not news."""
    from sqlalchemy import select

    from infradex.statuspage.maintenance_notices import announce_maintenance
    from infradex.statuspage.subscribers import confirm
    from infradex.store.tables import notifications

    from .test_status_subscribers import KEY, LINKS, confirmation_token, join

    catalog = catalog_of(tmp_path, write_catalog)
    now = [T0]
    board = StatusBoard(
        db, lambda: (catalog, T0), PageInfo("abcdefabcdef", "Example", "https://s.example.org"),
        stale_after=timedelta(minutes=10), interval=0.0, clock=lambda: now[0], monitored=False,
    )  # fmt: skip
    upgrade = Window("service:web", START, END, reason="SECRET kernel", public=True,
                     public_name="Web server upgrade")  # fmt: skip
    await history.add_window(db, upgrade, "user:ann", T0)
    await join(db, "ada@example.org", at=T0)
    await confirm(db, KEY, await confirmation_token(db, "ada@example.org"), T0)

    async def announce() -> int:
        return await announce_maintenance(db, await board.maintenance_now(), now[0], LINKS)

    async def subjects() -> list[str]:
        async with db.begin() as connection:
            rows = await connection.execute(
                select(notifications.c.payload)
                .where(notifications.c.kind == "status")
                .order_by(notifications.c.id)
            )
            payloads = [r.payload for r in rows]
        assert "SECRET" not in json.dumps(payloads)
        return [p["message"]["subject"] for p in payloads]

    # both windows are upcoming: the stored one and the catalog's (on the database)
    now[0] = T0 - timedelta(hours=2)
    assert await announce() == 2
    assert await announce() == 0
    now[0] = START - timedelta(minutes=30)  # it starts within the hour: a reminder
    assert await announce() == 1
    assert await announce() == 0
    now[0] = START + timedelta(minutes=1)
    assert await announce() == 1
    assert await announce() == 0
    now[0] = END + timedelta(minutes=1)  # nothing is down: completed at once
    assert await announce() == 1
    now[0] = END + timedelta(hours=3)
    assert await announce() == 0
    shown = await subjects()
    ours = [s for s in shown if "Web server upgrade" in s]
    assert len(shown) == 5 and len(ours) == 4, shown
    words = ("Scheduled maintenance", "Maintenance soon", "in progress", "completed")
    assert [word in subject for word, subject in zip(words, ours, strict=True)] == [True] * 4


def test_a_step_older_than_an_hour_is_not_news() -> None:
    from infradex.statuspage.maintenance import PublicMaintenance
    from infradex.statuspage.maintenance_notices import due_events

    done = PublicMaintenance("0123456789ab", "Upgrade", START, END, "completed", ())
    assert [e.kind for e in due_events([done], END + timedelta(minutes=10))] == [
        "maintenance.completed"
    ]
    assert due_events([done], END + timedelta(hours=2)) == []
    running = replace(done, status="in_progress")
    assert [e.kind for e in due_events([running], START + timedelta(minutes=5))] == [
        "maintenance.started"
    ]
    assert due_events([running], START + timedelta(hours=1, minutes=1)) == []
    planned = replace(done, status="scheduled")
    assert [e.kind for e in due_events([planned], START - timedelta(hours=3))] == [
        "maintenance.scheduled"
    ]
    assert [e.kind for e in due_events([planned], START - timedelta(minutes=59))] == [
        "maintenance.reminder"
    ]


async def test_each_window_reminds_its_subscribers_when_it_says(
    db: Database, tmp_path: Path, write_catalog: Any
) -> None:
    """A stored window reminds two hours ahead (``remind_before``), the catalog's says
    ``remindBefore: 0`` (no reminder, only the announcement); a frozen clock."""
    from sqlalchemy import select

    from infradex.statuspage.maintenance_notices import announce_maintenance
    from infradex.statuspage.subscribers import confirm
    from infradex.store.tables import notifications

    from .test_status_subscribers import KEY, LINKS, confirmation_token, join

    reminds = "public: true, remindBefore: 0}"
    files = {"all.yaml": CATALOG["all.yaml"].replace("public: true}", reminds)}
    assert files != CATALOG
    loaded = load(write_catalog(tmp_path / "catalog", files))
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    catalog = loaded.catalog
    now = [T0]
    board = StatusBoard(
        db, lambda: (catalog, T0), PageInfo("abcdefabcdef", "Example", "https://s.example.org"),
        stale_after=timedelta(minutes=10), interval=0.0, clock=lambda: now[0], monitored=False,
    )  # fmt: skip
    upgrade = Window("service:web", START + timedelta(hours=4), END + timedelta(hours=4),
                     public=True, public_name="Web server upgrade",
                     remind_before=timedelta(hours=2))  # fmt: skip
    await history.add_window(db, upgrade, "user:ann", T0)
    (stored,) = await history.list_windows(db)
    assert stored.remind_before == timedelta(hours=2)  # through the store and back
    await join(db, "ada@example.org", at=T0)
    await confirm(db, KEY, await confirmation_token(db, "ada@example.org"), T0)
    db_start = T0 + timedelta(days=2)

    async def at(when: datetime) -> list[str]:
        now[0] = when
        await announce_maintenance(db, await board.maintenance_now(), when, LINKS)
        async with db.begin() as connection:
            rows = await connection.execute(
                select(notifications.c.payload)
                .where(notifications.c.kind == "status")
                .order_by(notifications.c.id)
            )
            return [r.payload["message"]["subject"] for r in rows]

    web_start = upgrade.starts_at
    assert len(await at(T0)) == 2  # both announced as scheduled
    shown = await at(web_start - timedelta(hours=2, minutes=1))  # not yet: 2 h ahead
    assert len(shown) == 2
    shown = await at(web_start - timedelta(hours=1, minutes=59))
    assert len(shown) == 3 and "Maintenance soon: Web server upgrade" in shown[-1]
    assert len(await at(web_start + timedelta(minutes=1))) == 4  # in progress
    shown = await at(db_start - timedelta(minutes=1))  # the catalog's: no reminder at all
    assert len(shown) == 4
    shown = await at(db_start + timedelta(minutes=1))
    assert len(shown) == 5 and "Maintenance in progress: Scheduled maintenance" in shown[-1]
    assert not any("soon" in s and "Scheduled maintenance" in s for s in shown)


def test_a_reminder_time_of_its_own() -> None:
    from infradex.statuspage.maintenance import PublicMaintenance
    from infradex.statuspage.maintenance_notices import due_events

    planned = PublicMaintenance("0123456789ab", "Upgrade", START, END, "scheduled", (),
                                remind_before=timedelta(days=1))  # fmt: skip
    kinds = [e.kind for e in due_events([planned], START - timedelta(hours=23))]
    assert kinds == ["maintenance.reminder"]
    kinds = [e.kind for e in due_events([planned], START - timedelta(days=1, minutes=1))]
    assert kinds == ["maintenance.scheduled"]
    silent = replace(planned, remind_before=timedelta(0))
    assert [e.kind for e in due_events([silent], START - timedelta(minutes=1))] == [
        "maintenance.scheduled"  # the same key as the announcement: queued once in all
    ]


async def test_the_api_stores_a_windows_reminder_time(client: Any, write_token: str) -> None:
    writer = {"Authorization": f"Bearer {write_token}"}
    start = datetime.now(UTC) + timedelta(days=1)
    window = {"target": "service:pypi", "start": start.isoformat(),
              "end": (start + timedelta(hours=1)).isoformat()}  # fmt: skip
    for extra, said in [
        ({"remindBefore": "2h"}, "make the window public"),
        ({"public": True, "remindBefore": "soon"}, "remindBefore: 'soon' is not a duration"),
        ({"public": True, "remindBefore": "8d"}, "between 0 (no reminder) and 7d"),
    ]:
        refused = await client.post("/api/v1/maintenance", json={**window, **extra},
                                    headers=writer)  # fmt: skip
        assert refused.status_code == 400 and said in refused.json()["error"], refused.text
    assert (await client.get("/api/v1/maintenance", headers=writer)).json()["items"] == []
    added = await client.post(
        "/api/v1/maintenance", json={**window, "public": True, "remindBefore": "90m"},
        headers=writer,
    )  # fmt: skip
    assert added.status_code == 201, added.text
    assert added.json()["remindBefore"] == "90m"
    (listed,) = (await client.get("/api/v1/maintenance", headers=writer)).json()["items"]
    assert listed["remindBefore"] == "90m"
