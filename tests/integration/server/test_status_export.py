"""Every file ``infradex status export`` writes is, byte for byte, what the live server
answers at that file's path (SQLite, and PostgreSQL with ``--db postgresql``): the page,
the stylesheet, every v2 JSON document, the history and its feeds, each published
incident's page and every page of the uptime history (counted from stored state changes).
The export's own speed-ups (shared days, drawing a month once) must not change a byte."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import insert

from infradex.statuspage.export import export_files
from infradex.statuspage.html import STYLESHEET
from infradex.statuspage.paths import STATUS_PATH, export_name
from infradex.store import Database
from infradex.store.tables import public_incident_updates, public_incidents, state_changes
from infradex.web.app import create_app

from .conftest import settings_for


def _change(check: str, at: datetime, before: str, after: str) -> dict[str, object]:
    return {"check_id": check, "at": at, "from_state": before, "to_state": after,
            "reason": "seeded"}  # fmt: skip


async def _seed(db: Database) -> None:
    """Four months of state changes (an outage a month on two checks) and a published,
    resolved incident."""
    now = datetime.now(UTC)
    changes = []
    for check in ("service:pypi/home", "service:docs/home"):
        start = now - timedelta(days=120)
        changes.append(_change(check, start, "pending", "up"))
        for month in range(4):
            down = start + timedelta(days=30 * month + 3, hours=month)
            changes.append(_change(check, down, "up", "down"))
            changes.append(_change(check, down + timedelta(minutes=40), "down", "up"))
    at = now - timedelta(days=2)
    async with db.begin(writes=True) as connection:
        await connection.execute(insert(state_changes), changes)
        result = await connection.execute(
            insert(public_incidents).values(
                name="Problems with PyPI",
                status="resolved",
                impact="major",
                components=["service:pypi"],
                created_at=at,
                updated_at=at + timedelta(hours=1),
                published_at=at,
                published_by="user:test",
                resolved_at=at + timedelta(hours=1),
            )
        )
        key = result.inserted_primary_key
        assert key is not None
        await connection.execute(
            insert(public_incident_updates),
            [
                {
                    "public_incident_id": int(key[0]),
                    "status": step,
                    "body": f"{step}: words people wrote",
                    "components": {"service:pypi": "partial_outage"},
                    "created_at": at + timedelta(minutes=30 * index),
                    "created_by": "user:test",
                }
                for index, step in enumerate(("investigating", "resolved"))
            ],
        )


async def test_every_exported_file_is_what_the_server_answers_at_its_path(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str
) -> None:
    await _seed(db)
    settings = replace(
        settings_for(catalog_dir, tmp_path, database_url), status_host="status.example.org"
    )
    app = create_app(settings, db)
    public = {"Host": "status.example.org", "Accept-Encoding": "identity"}
    async with app.router.lifespan_context(app):
        rendered = await app.state.status_board.current()
        files = export_files(rendered)
        where = {"index.html": "/", "status/index.html": STATUS_PATH}
        where[STYLESHEET.lstrip("/")] = STYLESHEET
        where |= {f"api/v2/{path}": f"/api/v2/{path}" for path in rendered.json}
        where |= {export_name(path): path for path in rendered.pages}
        assert set(where) == set(files)
        kinds = {name.split("/")[1] for name in files if name.startswith("status/")}
        assert {"uptime", "incidents", "history", "status.css", "index.html"} <= kinds
        assert "status/uptime/page-2/index.html" in files  # four months: two pages
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            for name, path in sorted(where.items()):
                answer = await c.get(path, headers=public)
                assert answer.status_code == 200, (name, path)
                assert answer.content == files[name], (name, path)
