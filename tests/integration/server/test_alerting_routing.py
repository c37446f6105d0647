"""Who an incident pages when its root has no policy of its own (a CDN provider): the policies
of the services it takes down, and, when nobody can be paged, an incident flagged unrouted in
the API, on its page and in /metrics. Real probes against a closed local port, real SMTP."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from infradex.alerting import records
from infradex.lint import load
from infradex.store import Database
from infradex.store.tables import incidents

from .alerting_harness import Inbox, Rig, free_port, inbox, load_org

__all__ = ["inbox"]  # fixtures

CLOSED = free_port()  # nothing listens here: the checks fail with "connection refused"
SERVICES = ("www", "docs", "shop")

ORG = f"""\
apiVersion: infradex/v1
kind: Provider
metadata: {{name: cdn, title: The CDN}}
spec:
  type: cdn
  checks:
    - {{name: edge, url: "http://127.0.0.1:{CLOSED}/edge", interval: 10s, timeout: 2s}}
---
apiVersion: infradex/v1
kind: Person
metadata: {{name: sam, title: Sam Staff}}
spec: {{email: sam@example.org, staff: true, timezone: UTC}}
---
apiVersion: infradex/v1
kind: Person
metadata: {{name: val, title: Val Volunteer}}
spec: {{email: val@example.org, timezone: UTC}}
"""
POLICY = """\
---
apiVersion: infradex/v1
kind: EscalationPolicy
metadata: {name: default}
spec:
  steps:
    - {after: 0m, notify: [person:sam]}
"""


def service(name: str, escalation: str | None) -> str:
    line = f"\n  escalation: {escalation}" if escalation else ""
    return f"""\
---
apiVersion: infradex/v1
kind: Service
metadata: {{name: {name}, title: {name}.example.org}}
spec:
  frontedBy: [provider:cdn]
  owners: [{{ref: person:sam}}, {{ref: person:val}}]{line}
  checks:
    - {{name: home, url: "http://127.0.0.1:{CLOSED}/{name}", interval: 10s, timeout: 2s}}
"""


def write(directory: Path, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "catalog.yaml").write_text(text, encoding="utf-8")
    return directory


async def fail_everything(rig: Rig) -> None:
    for _ in range(3):  # failureThreshold 3: the CDN first, then the services behind it
        await rig.run("provider:cdn/edge")
        await rig.run(*(f"service:{s}/home" for s in SERVICES))
        await rig.turn()
        rig.now += timedelta(seconds=10)
    await rig.advance(timedelta(minutes=2))


async def test_a_cdn_without_a_policy_pages_the_policy_of_the_services_behind_it(
    db: Database, tmp_path: Path, inbox: Inbox
) -> None:
    text = ORG + POLICY + "".join(service(s, "default") for s in SERVICES)
    directory = write(tmp_path / "org", text)
    loaded = load(directory)
    assert not loaded.errors
    assert not [w for w in loaded.warnings if w.code == "pages-nobody"]
    rig = Rig(db, load_org(directory), inbox.url)
    await fail_everything(rig)

    async with db.begin() as connection:
        count = (await connection.execute(select(func.count()).select_from(incidents))).scalar()
    assert count == 1
    [incident] = (await records.list_incidents(db))[0]
    assert incident.key == "provider:cdn" and incident.impacted_count == 3
    # one email, to the policy's person, naming the three services
    [page] = inbox.mails
    assert page.to == ["sam@example.org"]
    for name in SERVICES:
        assert f"service:{name}" in page.text
    detail = await records.incident_detail(db, incident.id)
    assert detail.unrouted is False
    assert "takes down" in detail.routing


async def test_a_catalog_with_no_policy_warns_and_flags_the_incident_unrouted(
    db: Database, tmp_path: Path, inbox: Inbox
) -> None:
    directory = write(tmp_path / "org", ORG + "".join(service(s, None) for s in SERVICES))
    loaded = load(directory)
    warned = [w for w in loaded.warnings if w.code == "pages-nobody"]
    assert {w.entity for w in warned} == {"provider:cdn", *(f"service:{s}" for s in SERVICES)}
    cdn = next(w for w in warned if w.entity == "provider:cdn")
    assert "edge" in cdn.message and "default: true" in cdn.hint
    assert "provider:cdn" in cdn.hint

    rig = Rig(db, load_org(directory), inbox.url)
    await fail_everything(rig)
    assert inbox.mails == []
    [incident] = (await records.list_incidents(db))[0]
    assert incident.unrouted is True


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    return write(tmp_path / "served", ORG + "".join(service(s, None) for s in SERVICES))


async def test_api_page_and_metrics_say_nobody_was_paged(
    client: httpx.AsyncClient, db: Database, catalog_dir: Path, inbox: Inbox
) -> None:
    rig = Rig(db, load_org(catalog_dir), inbox.url)
    await fail_everything(rig)
    listing = (await client.get("/api/v1/incidents?status=open")).json()
    [item] = listing["items"]
    assert item["unrouted"] is True and "nobody was paged" in item["routing"]
    page = (await client.get(f"/incidents/{item['id']}")).text
    assert "Nobody was paged" in page
    metrics = (await client.get("/metrics")).text
    assert "infradex_incidents_unrouted 1.0" in metrics
    await records.act(db, item["id"], "resolve", "test", rig.now)
    metrics = (await client.get("/metrics")).text
    assert "infradex_incidents_unrouted 0.0" in metrics
