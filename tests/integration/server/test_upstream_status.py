"""A provider's own status page (``statuspage://``) confirms the provider's incident: the real
monitor reads a real local HTTPS Statuspage summary, the real alerter puts the check in the
provider's incident and marks it confirmed upstream (docs/monitor.md, "Upstream status
pages")."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
import trustme
from aiohttp import web

from infradex.alerting import records
from infradex.alerting.timeline import describe
from infradex.monitor.reads import check_states_of
from infradex.store import Database

from .alerting_harness import Inbox, Rig, Target, inbox, load_org, target, write_org

__all__ = ["inbox", "target"]  # fixtures

EDGE, OWN = "provider:edgecdn/edge", "provider:edgecdn/own-status"


@dataclass
class Upstream:
    """A provider's status page on 127.0.0.1 over HTTPS; the test sets its indicator."""

    ca_file: str
    port: int = 0
    indicator: str = "none"
    hits: list[str] = field(default_factory=list)

    async def summary(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        body = {
            "page": {"id": "p", "name": "Edge CDN", "url": "https://status.edge.test"},
            "status": {"indicator": self.indicator, "description": "Partial System Outage"},
            "components": [{"id": "c", "name": "Delivery", "status": "major_outage"}],
            "incidents": [{"id": "i", "name": "Elevated errors"}],
        }
        return web.json_response(body)


@pytest.fixture
async def upstream(tmp_path: Path) -> AsyncIterator[Upstream]:
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    state = Upstream(str(ca_file))
    app = web.Application()
    app.router.add_get("/edge/api/v2/summary.json", state.summary)
    runner = web.AppRunner(app, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=context)
    await site.start()
    state.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield state
    await runner.cleanup()


async def test_the_providers_page_confirms_its_incident(
    db: Database, tmp_path: Path, inbox: Inbox, target: Target, upstream: Upstream
) -> None:
    directory = write_org(tmp_path / "org", target)
    catalog_file = directory / "catalog.yaml"
    text = catalog_file.read_text(encoding="utf-8")
    own = (
        f'    - {{name: own-status, url: "statuspage://127.0.0.1:{upstream.port}/edge", '
        "interval: 1m, timeout: 2s, failureThreshold: 1}\n"
    )
    marker = (
        "failureThreshold: 3, successThreshold: 2}\n---\napiVersion: infradex/v1\nkind: Provider"
    )
    assert marker in text
    text = text.replace(marker, marker.replace("}\n---", "}\n" + own + "---", 1), 1)
    catalog_file.write_text(text, encoding="utf-8")
    rig = Rig(db, load_org(directory), inbox.url)
    rig.monitor.ca_file = upstream.ca_file
    rig.monitor.set_catalog(rig.catalog)

    # the provider's page is calm: its check is up
    await rig.run(OWN)
    assert upstream.hits == ["/edge/api/v2/summary.json"]
    async with db.begin() as connection:
        calm = (await check_states_of(connection, [OWN]))[OWN]
    assert calm.last_status == "up", calm.last_message

    # our own check of the CDN fails: the provider's incident opens, not yet confirmed
    target.status["/edge"] = 503
    for _ in range(3):
        await rig.run(EDGE)
        await rig.turn()
        rig.now += timedelta(seconds=10)
    [incident] = (await records.list_incidents(db))[0]
    assert incident.root == "provider:edgecdn"
    detail = await records.incident_detail(db, incident.id)
    assert "upstream_confirmed" not in [e.kind for e in detail.timeline]

    # the provider says major: the same incident is confirmed upstream, nobody paged twice
    paged = len(inbox.mails)
    upstream.indicator = "major"
    await rig.run(OWN)
    await rig.turn()
    assert [i.id for i in (await records.list_incidents(db))[0]] == [incident.id]
    detail = await records.incident_detail(db, incident.id)
    [confirmed] = [e for e in detail.timeline if e.kind == "upstream_confirmed"]
    assert confirmed.data["check"] == OWN
    words = describe(confirmed.kind, confirmed.data)
    assert words.startswith("confirmed upstream: provider:edgecdn's own status page")
    assert "[UPSTREAM] != major: got 'major'" in words
    member = {m.check: m for m in detail.members}[OWN]
    assert member.role == "root" and member.up_at is None
    assert len(inbox.mails) == paged
