"""Everyone paged for an incident hears that someone acknowledged it: the volunteer woken at
step 2 learns that staff took it. Real probe, real alerter and dispatcher, real SMTP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from infradex.alerting import records
from infradex.store import Database

from .alerting_harness import Inbox, Rig, Target, inbox, load_org, target, write_org

__all__ = ["inbox", "target"]  # fixtures

SOLO = "service:solo/home"
SAM, VAL = "sam@example.org", "val@example.org"


async def test_an_acknowledgement_tells_everyone_paged_once_and_nobody_else(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target
) -> None:
    rig = Rig(db, load_org(write_org(tmp_path / "org", target)), inbox.url)
    target.status["/solo"] = 503
    for _ in range(3):
        await rig.run(SOLO)
        rig.now += timedelta(seconds=10)
    await rig.turn()
    await rig.advance(timedelta(minutes=15))  # step 2: the volunteer is paged too
    assert [m.to for m in inbox.mails] == [[SAM], [VAL]]
    [incident] = (await records.list_incidents(db))[0]

    await records.act(db, incident.id, "acknowledge", "person:sam-staff", rig.now)
    await rig.turn()
    await rig.advance(timedelta(seconds=5))  # nothing more: one notice each
    notices = inbox.mails[2:]
    assert sorted(m.to[0] for m in notices) == [SAM, VAL]
    for notice in notices:
        assert notice.subject.startswith("[infradex] ACKNOWLEDGED #")
        assert "Acknowledged by person:sam-staff" in notice.text
    detail = await records.incident_detail(db, incident.id)
    told = [n for n in detail.notifications if n.kind == "acknowledge"]
    assert len(told) == 2 and {n.status for n in told} == {"sent"}
