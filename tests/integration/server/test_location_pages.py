"""A location problem (one location of three sees the check down, quorum 2) is paged once, at
the severity the escalation policy asks, through the real ingest, alerter, dispatcher and an
SMTP server (aiosmtpd); without ``locationProblems`` it is shown and never paged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from agents_catalog import agents_catalog
from infradex.alerting.dispatcher import Dispatcher
from infradex.alerting.service import Alerter, AlertSettings
from infradex.catalog import Catalog, load
from infradex.channels.registry import notifiers_for
from infradex.monitor.admission import AgentResult
from infradex.monitor.ingest import ingest
from infradex.settings import Settings
from infradex.store import Database
from infradex.store.tables import incidents, notifications

from .alerting_harness import Inbox

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
HOME = "service:web/home"

POLICY = """---
apiVersion: infradex/v1
kind: Person
metadata: {{name: ann, title: Ann}}
spec: {{email: ann@example.org}}
---
apiVersion: infradex/v1
kind: EscalationPolicy
metadata: {{name: web}}
spec:
  default: true
  steps: [{{after: 0m, notify: [person:ann]}}]
{location_problems}"""


def write_catalog(root: Path, location_problems: str) -> Catalog:
    agents_catalog(root, "http://127.0.0.1:9", with_eu=False)
    with (root / "catalog.yaml").open("a", encoding="utf-8") as out:
        out.write(POLICY.format(location_problems=location_problems))
    loaded = load(root)
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog


def results(outcomes: str, start: datetime) -> list[AgentResult]:
    """One result a second from ``start``: "u" up, "d" down."""
    return [
        AgentResult(
            HOME,
            start + timedelta(seconds=i),
            o == "u",
            12.5,
            None if o == "u" else "http",
            "200 OK" if o == "u" else "HTTP 503 <b>from ams1</b>",
        )
        for i, o in enumerate(outcomes)
    ]


class Rig:
    def __init__(self, db: Database, catalog: Catalog, inbox: Inbox) -> None:
        self.db, self.catalog, self.now = db, catalog, T0
        settings = Settings(
            catalog=Path("."),
            catalog_is_embedded=False,
            data_dir=Path("."),
            database_url="sqlite://",
            secret_key="x",
            public_read=True,
            smtp_url=inbox.url,
            mail_from="infradex@example.org",
        )
        clock = lambda: self.now  # noqa: E731
        self.dispatcher = Dispatcher(db, notifiers_for(settings), clock=clock)
        self.alerter = Alerter(
            db,
            {},
            settings=AlertSettings(base_url="http://infradex.test"),
            clock=clock,
            dispatcher=self.dispatcher,
        )
        self.alerter.set_catalog(catalog)

    async def report(self, **outcomes: str) -> None:
        """Each location's results, observed just before now, then 20 s pass and the
        alerter takes a turn (the dispatcher sends what it queued)."""
        for location, seen in outcomes.items():
            start = self.now - timedelta(seconds=len(seen))
            await ingest(self.db, self.catalog, location, results(seen, start), self.now)
        self.now += timedelta(seconds=20)
        await self.alerter.turn(self.now)
        while await self.dispatcher.run_once(self.now):
            pass


@pytest.fixture
def inbox() -> object:
    box = Inbox()
    box.start()
    yield box
    box.stop()


async def test_a_location_problem_is_paged_once_at_low_severity(
    db: Database, tmp_path: Path, inbox: Inbox
) -> None:
    catalog = write_catalog(
        tmp_path / "catalog",
        "  locationProblems:\n"
        "    channels: [{type: email, address: noc@example.org}]\n"
        "    severity: low\n",
    )
    rig = Rig(db, catalog, inbox)
    await rig.report(ams1="u", nyc1="u", sfo1="u")
    assert inbox.mails == []

    # ams1 alone sees it down (two failures: its threshold), for a minute of results
    for _ in range(3):
        await rig.report(ams1="dd", nyc1="u", sfo1="u")
    (mail,) = inbox.mails
    assert mail.to == ["noc@example.org"]
    assert mail.subject == f"[infradex] Location problem: {HOME} down from ams1 only"
    assert "No incident is open" in mail.text and "HTTP 503 <b>from ams1</b>" in mail.text
    assert "<b>" not in mail.html  # the agent's message is inert in HTML
    assert mail.headers["X-Infradex-Kind"] == "trigger"
    async with db.begin() as connection:
        assert (await connection.execute(select(incidents.c.id))).all() == []  # no outage
        row = (await connection.execute(select(notifications.c.payload))).one()
    assert row.payload["message"]["urgent"] is False  # severity low: a warning, not a page

    # ams1 recovers, then fails again: a new problem, told once more
    await rig.report(ams1="u", nyc1="u", sfo1="u")
    await rig.report(ams1="dd", nyc1="u", sfo1="u")
    await rig.report(ams1="dd", nyc1="u", sfo1="u")
    assert len(inbox.mails) == 2

    # two locations down is an outage (an incident, paged to Ann), no location problem
    await rig.report(ams1="dd", nyc1="dd", sfo1="u")
    await rig.report(ams1="dd", nyc1="dd", sfo1="u")
    assert [m.to for m in inbox.mails[2:]] == [["ann@example.org"]]


async def test_high_severity_is_urgent_and_without_the_setting_nothing_is_paged(
    db: Database, tmp_path: Path, inbox: Inbox
) -> None:
    catalog = write_catalog(tmp_path / "quiet", "")
    rig = Rig(db, catalog, inbox)
    await rig.report(ams1="u", nyc1="u", sfo1="u")
    await rig.report(ams1="dd", nyc1="u", sfo1="u")
    await rig.report(ams1="dd", nyc1="u", sfo1="u")
    assert inbox.mails == []  # shown, never paged: the policy does not ask

    loud = write_catalog(
        tmp_path / "loud",
        "  locationProblems:\n"
        "    channels: [{type: email, address: noc@example.org}]\n"
        "    severity: high\n",
    )
    rig.catalog = loud  # a reload: the problem going on is told now
    rig.alerter.set_catalog(loud)
    await rig.report(ams1="d", nyc1="u", sfo1="u")
    (mail,) = inbox.mails
    assert mail.to == ["noc@example.org"]
    async with db.begin() as connection:
        row = (await connection.execute(select(notifications.c.payload))).one()
    assert row.payload["message"]["urgent"] is True
