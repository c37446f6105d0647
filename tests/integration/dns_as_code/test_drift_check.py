"""The scheduled drift check (``url: dns-drift://ZONE``) with real parts: a real BIND, the real
monitor and alerter and a real SMTP server (the alerting harness, frozen clock). A hand edit
over RFC 2136 takes the check down with the edited record in its message, and the incident is
the DNS provider's, paging its escalation policy's people (not the services' owners)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from infradex.alerting import records
from infradex.catalog import load
from infradex.store import Database
from integration.server.alerting_harness import Inbox, Rig, inbox

from .conftest import SECRET, SECRET_ENV, Bind, hand_edit, provider_doc

__all__ = ["inbox"]  # fixture

CHECK = "provider:bind/drift"
#: the catalog's records, as the live zone (conftest.LIVE) holds them: in sync to start with
IN_SYNC = {
    "ns1": {"type": "A", "value": "127.0.0.1", "ttl": 300},
    "old": {"type": "A", "value": "192.0.2.99", "ttl": 300},
    "www": {"type": "A", "value": "192.0.2.10", "ttl": 300},
}


def _catalog(root: Path, port: int) -> Path:
    provider = provider_doc(port)
    provider["spec"]["escalation"] = "escalationpolicy:infra"
    provider["spec"]["checks"] = [
        {"name": "drift", "url": "dns-drift://example.test", "interval": "5m",
         "failureThreshold": 1, "successThreshold": 1},
    ]  # fmt: skip
    documents: list[dict[str, Any]] = [
        provider,
        {"kind": "Person", "metadata": {"name": "ann", "title": "Ann Infra"},
         "spec": {"email": "ann@example.test", "memberOf": ["team:infra"]}},
        {"kind": "Person", "metadata": {"name": "wes", "title": "Wes Web"},
         "spec": {"email": "wes@example.test", "memberOf": ["team:web"]}},
        {"kind": "Team", "metadata": {"name": "infra"}, "spec": {}},
        {"kind": "Team", "metadata": {"name": "web"}, "spec": {}},
        {"kind": "EscalationPolicy", "metadata": {"name": "infra"},
         "spec": {"steps": [{"after": "0m", "notify": ["team:infra"]}]}},
        {"kind": "EscalationPolicy", "metadata": {"name": "web"},
         "spec": {"steps": [{"after": "0m", "notify": ["team:web"]}]}},
        {"kind": "Service", "metadata": {"name": "www"},
         "spec": {"domains": ["www.example.test"], "owners": [{"ref": "team:web"}],
                  "escalation": "escalationpolicy:web"}},
        {"kind": "Zone", "metadata": {"name": "example.test"},
         "spec": {"provider": "provider:bind", "records": IN_SYNC}},
    ]  # fmt: skip
    root.mkdir(parents=True)
    text = yaml.safe_dump_all([{"apiVersion": "infradex/v1", **d} for d in documents])
    (root / "catalog.yaml").write_text(text, encoding="utf-8")
    return root


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'store.db'}")
    await database.upgrade()
    yield database
    await database.close()


async def test_a_hand_edit_opens_an_incident_for_the_providers_team(
    bind: Bind, db: Database, inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    loaded = load(_catalog(tmp_path / "catalog", bind.port))
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    rig = Rig(db, loaded.catalog, inbox.url)

    await rig.run(CHECK)
    await rig.turn()
    assert rig.monitor.states[CHECK].hard_state == "up", rig.monitor.states[CHECK].last_message
    assert (await records.list_incidents(db))[1] == 0

    hand_edit(bind, "www", "192.0.2.66")  # someone edits the zone in the provider's console
    rig.now += timedelta(minutes=5)
    await rig.run(CHECK)
    state = rig.monitor.states[CHECK]
    assert state.hard_state == "down"
    assert (
        "zone example.test differs from the catalog in 1 record(s): www.example.test A is "
        "192.0.2.66 live, 192.0.2.10 in the catalog"
    ) in (state.last_message or "")

    await rig.turn()
    [incident], _ = await records.list_incidents(db, status="open")
    assert (incident.root, incident.policy) == ("provider:bind", "escalationpolicy:infra")
    # the provider's team is paged, with the record that drifted; the web team is not
    assert [m.to for m in inbox.mails] == [["ann@example.test"]]
    assert "www.example.test A is 192.0.2.66 live" in inbox.mails[0].text

    # the edit is undone (here: by hand again; `infradex dns apply` would do the same)
    hand_edit(bind, "www", "192.0.2.10")
    rig.now += timedelta(minutes=5)
    await rig.run(CHECK)
    assert rig.monitor.states[CHECK].hard_state == "up"


async def test_a_zone_the_check_cannot_compare_is_down_with_the_reason(
    bind: Bind, db: Database, inbox: Inbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(SECRET_ENV, SECRET)
    root = _catalog(tmp_path / "catalog", bind.port)
    text = (root / "catalog.yaml").read_text(encoding="utf-8")
    (root / "catalog.yaml").write_text(
        text.replace("dns-drift://example.test", "dns-drift://other.test"), encoding="utf-8"
    )
    loaded = load(root)
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    rig = Rig(db, loaded.catalog, inbox.url)
    await rig.run(CHECK)
    state = rig.monitor.states[CHECK]
    assert state.hard_state == "down"
    assert "no zone 'other.test' in the catalog (zones: example.test)" in (state.last_message or "")
    monkeypatch.delenv(SECRET_ENV)  # the provider's secret is missing: said, not raised
    second = load(_catalog(tmp_path / "second", bind.port)).catalog
    assert second is not None
    rig = Rig(db, second, inbox.url)
    await rig.run(CHECK)
    assert "INFRADEX_TEST_TSIG" in (rig.monitor.states[CHECK].last_message or "")
