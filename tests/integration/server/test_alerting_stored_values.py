"""Typing the statuses and event kinds changed nothing stored or shown: the rows hold the same
plain strings and the API's JSON says the same words (SQLite and, with ``--db postgresql``,
PostgreSQL)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from infradex.alerting import records
from infradex.alerting.model import IllegalTransition
from infradex.store import Database
from infradex.store.tables import incident_events, incidents, notifications

from .alerting_harness import Inbox, Rig, Target, inbox, load_org, target, write_org

__all__ = ["inbox", "target"]  # fixtures

SOLO = "service:solo/home"


async def test_rows_and_json_keep_the_same_strings(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    target.status["/solo"] = 503
    for _ in range(3):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    await rig.turn()
    [listed] = (await records.list_incidents(db, "open"))[0]
    done = await records.act(db, listed.id, "acknowledge", "user:ee", rig.now)
    assert json.loads(json.dumps(done.to_json()))["status"] == "acknowledged"
    async with db.begin() as connection:
        # read back as text by the database itself, not through any Python type
        [status] = (
            await connection.execute(
                text("SELECT status FROM incidents WHERE id = :i"), {"i": listed.id}
            )
        ).one()
        kinds = (await connection.execute(select(incident_events.c.kind))).scalars().all()
        sent = (await connection.execute(select(notifications.c.status))).scalars().all()
    assert status == "acknowledged" and type(status) is str
    assert {"opened", "check_down", "escalated", "notified", "acknowledged"} <= set(kinds)
    assert all(type(k) is str for k in kinds)
    assert sent == ["sent"]

    # an illegal move is refused before anything is written; the API's answer is unchanged
    await records.act(db, listed.id, "resolve", "user:ee", rig.now)
    async with db.begin() as connection:
        await connection.execute(
            incidents.update().where(incidents.c.id == listed.id).values(status="closed")
        )
    try:
        await records.act(db, listed.id, "acknowledge", "user:ee", rig.now)
    except IllegalTransition as refused:
        assert "'closed' is unknown" in str(refused)
    else:
        raise AssertionError("a status outside the machine was acted on")
