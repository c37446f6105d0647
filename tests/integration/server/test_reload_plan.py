"""A reload that removes too much, or would close an open incident, is held as a plan: the
server keeps its catalog, answers 409 with the plan, shows it in the API and on /problems,
and goes ahead only when an admin confirms (``force=true``), with the audit log naming who.
A confirmation holds for that very change in any process (``infradex monitor`` too). Runs on
SQLite and on PostgreSQL (``--db postgresql``)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import insert, select

from infradex.clock import utcnow
from infradex.runtime.live_catalog import LiveCatalog
from infradex.store import Database
from infradex.store.tables import audit_log, incident_members, incidents, reload_plans
from infradex.store.tokens import create_token

NAMES = [f"s{n}" for n in range(10)]


def write_services(root: Path, names: list[str]) -> None:
    for old in root.glob("*.yaml"):
        old.unlink()
    for name in names:
        (root / f"{name}.yaml").write_text(
            "apiVersion: infradex/v1\nkind: Service\n"
            f"metadata: {{name: {name}}}\nspec:\n  checks:\n"
            f'    - {{name: home, url: "http://127.0.0.1:9/{name}"}}\n',
            encoding="utf-8",
        )


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    root.mkdir()
    write_services(root, NAMES)
    return root


@pytest.fixture
async def admin_token(db: Database) -> str:
    return await create_token(db, "admin", ["admin"], utcnow())


async def reload(client: httpx.AsyncClient, token: str, force: bool = False) -> httpx.Response:
    return await client.post(
        "/api/v1/catalog/reload" + ("?force=true" if force else ""),
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_a_reload_removing_most_services_is_held_until_an_admin_confirms(
    client: httpx.AsyncClient, catalog_dir: Path, write_token: str, admin_token: str, db: Database
) -> None:
    write_services(catalog_dir, NAMES[:3])
    held = await reload(client, write_token)
    assert held.status_code == 409
    answer = held.json()
    assert answer["accepted"] is False and answer["held"] is True and answer["errors"] == []
    plan = answer["plan"]
    assert plan["removedEntities"] == [f"service:{n}" for n in NAMES[3:]]
    assert len(plan["removedChecks"]) == 7 and plan["reasons"][0].startswith(
        "it removes 7 of 10 entities (70%)"
    )
    # nothing changed meanwhile: the server still serves all ten
    assert (await client.get("/api/v1/entities/service:s9")).status_code == 200
    shown = (await client.get("/api/v1/catalog/plan")).json()["plan"]
    assert shown["status"] == "held" and shown["removedEntities"] == plan["removedEntities"]
    problems = (await client.get("/api/v1/catalog/problems")).json()
    assert problems["held"] is True and problems["heldPlan"]["id"] == shown["id"]
    page = (await client.get("/problems")).text
    assert "Reload held for confirmation" in page and "service:s9" in page
    assert "infradex reload --force" in page

    # a write token may not confirm; an admin may
    refused = await reload(client, write_token, force=True)
    assert refused.status_code == 403 and "admin" in refused.json()["error"]
    confirmed = await reload(client, admin_token, force=True)
    assert confirmed.status_code == 200 and confirmed.json()["accepted"] is True
    assert (await client.get("/api/v1/entities/service:s9")).status_code == 404
    assert (await client.get("/api/v1/catalog/plan")).json()["plan"] is None
    assert "Reload held" not in (await client.get("/problems")).text

    async with db.begin() as connection:
        actions = [
            (r.actor, r.action)
            for r in await connection.execute(select(audit_log).order_by(audit_log.c.id))
        ]
        rows = (await connection.execute(select(reload_plans))).all()
    assert actions == [  # the refused force (403) changed nothing, so it is not audited
        ("token:writer", "catalog.reload"),
        ("token:admin", "catalog.reload"),
        ("token:admin", "catalog.reload.confirm"),
    ]
    assert [(r.status, r.decided_by) for r in rows] == [("confirmed", "token:admin")]
    loads = (await client.get("/api/v1/catalog/loads")).json()["items"]
    assert [(i["trigger"], i["accepted"]) for i in loads] == [
        ("api", True),
        ("api", False),
        ("start", True),
    ]


async def test_a_reload_that_would_close_an_open_incident_is_held(
    client: httpx.AsyncClient, catalog_dir: Path, write_token: str, admin_token: str, db: Database
) -> None:
    now = utcnow()
    async with db.begin() as connection:
        result = await connection.execute(
            insert(incidents).values(
                key="service:s0", title="s0 is down", status="open", root_ref="service:s0",
                opened_at=now,
            )
        )  # fmt: skip
        key = result.inserted_primary_key
        assert key is not None
        await connection.execute(
            insert(incident_members).values(
                incident_id=key[0], check_id="service:s0/home", entity_ref="service:s0",
                role="root", down_at=now,
            )
        )  # fmt: skip
    write_services(catalog_dir, NAMES[1:])  # 10 % removed: under the share, but s0 is down
    held = await reload(client, write_token)
    assert held.status_code == 409
    assert held.json()["plan"]["closesIncidents"] == [
        {"id": key[0], "title": "s0 is down", "checks": ["service:s0/home"]}
    ]
    page = (await client.get("/problems")).text
    assert "Incidents it would close" in page and "s0 is down" in page
    write_services(catalog_dir, NAMES)  # put back: nothing to confirm any more
    back = await reload(client, write_token)
    assert back.status_code == 200 and back.json()["held"] is False
    assert (await client.get("/api/v1/catalog/plan")).json()["plan"] is None


async def test_a_confirmation_holds_for_the_same_change_in_another_process(
    client: httpx.AsyncClient, catalog_dir: Path, write_token: str, admin_token: str, db: Database
) -> None:
    # a second live catalog on the same files and store: what `infradex monitor` runs
    other = LiveCatalog(catalog_dir, db)
    assert (await other.reload("start")).accepted
    write_services(catalog_dir, NAMES[:2])
    assert (await other.reload("signal")).held  # the monitor holds it too
    assert (await reload(client, write_token)).status_code == 409
    # a process starting on the new files takes them (nothing to compare with) and leaves
    # alone the plan the running ones hold
    assert (await LiveCatalog(catalog_dir, db).reload("start")).accepted
    assert (await client.get("/api/v1/catalog/plan")).json()["plan"] is not None
    assert (await reload(client, admin_token, force=True)).status_code == 200
    again = await other.reload("signal")  # the next SIGHUP takes the confirmed change
    assert again.accepted and again.confirmed_by == "an earlier confirmation"
    assert sorted(str(ref) for ref in other.catalog.entities) == ["service:s0", "service:s1"]
