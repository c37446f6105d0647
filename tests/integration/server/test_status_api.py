"""Statuspage's v2 JSON on the server: every endpoint has exactly the keys, types,
nullability, enumerations and time format of the recorded Statuspage responses in
``tests/fixtures/statuspage/``; a third-party Statuspage consumer from PyPI
(statuspage-prometheus-exporter) reads it from a live server; overrides through the API;
``INFRADEX_STATUS_HOST``; bytes rendered once per change."""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from infradex.statuspage.automatic import PublicIncidentAutomation
from infradex.store import Database
from infradex.store.tokens import create_token
from infradex.web.app import create_app
from live_server import serving

from .conftest import settings_for

FIXTURES = Path(__file__).parents[2] / "fixtures" / "statuspage"
#: the endpoint (under /api/v2/) → its recorded response
ENDPOINTS = {
    "summary.json": "summary.json",
    "status.json": "status.json",
    "components.json": "components.json",
    "incidents.json": "incidents.json",
    "incidents/unresolved.json": "incidents-unresolved.json",
    "scheduled-maintenances.json": "scheduled-maintenances.json",
    "scheduled-maintenances/upcoming.json": "scheduled-maintenances-upcoming.json",
    "scheduled-maintenances/active.json": "scheduled-maintenances-active.json",
}
#: keys Statuspage documents as "string or null"
NULLABLE = {
    "description",
    "group_id",
    "start_date",
    "monitoring_at",
    "resolved_at",
    "custom_tweet",
    "tweet_id",
    "postmortem_body",
    "postmortem_body_last_updated_at",
}
TIMES = {
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "started_at",
    "display_at",
    "scheduled_for",
    "scheduled_until",
    "postmortem_body_last_updated_at",
}
TIME_FORMAT = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
ENUMS = {
    ("components", "status"): {
        "operational",
        "under_maintenance",
        "degraded_performance",
        "partial_outage",
        "major_outage",
    },
    ("status", "indicator"): {"none", "minor", "major", "critical", "maintenance"},
    ("scheduled_maintenances", "status"): {"scheduled", "in_progress", "verifying", "completed"},
    ("scheduled_maintenances", "impact"): {"maintenance"},
    ("incidents", "status"): {
        "investigating",
        "identified",
        "monitoring",
        "resolved",
        "postmortem",
    },
    ("incidents", "impact"): {"none", "minor", "major", "critical"},
}

SOON = datetime.now(UTC).replace(microsecond=0)


def catalog_files() -> dict[str, str]:
    running = (SOON - timedelta(minutes=30)).isoformat()
    later = (SOON + timedelta(days=2)).isoformat()
    return {
        "all.yaml": f"""\
        apiVersion: infradex/v1
        kind: Provider
        metadata: {{name: cdn, title: The CDN}}
        spec:
          type: cdn
          statusPage: {{name: Content Delivery Network, order: 9}}
          maintenance:
            - {{start: "{running}", duration: 2h, public: true, publicName: Edge upgrade,
                reason: internal words}}
        ---
        apiVersion: infradex/v1
        kind: Service
        metadata: {{name: web, title: Website}}
        spec:
          frontedBy: [provider:cdn]
          status: {{group: Web, name: www.example.org, description: The website, order: 1}}
        ---
        apiVersion: infradex/v1
        kind: Service
        metadata: {{name: uploads}}
        spec:
          status: {{group: Web, name: Uploads, order: 2}}
          maintenance:
            - {{start: "{later}", duration: 1h, public: true}}
        ---
        apiVersion: infradex/v1
        kind: Service
        metadata: {{name: internal}}
        spec:
          status: {{name: Internal tool, public: false}}
        """
    }


@pytest.fixture
def catalog_dir(tmp_path: Path, write_catalog: Any) -> Path:
    return write_catalog(tmp_path / "catalog", catalog_files())  # type: ignore[no-any-return]


def recorded(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())  # type: ignore[no-any-return]


def same_shape(ours: Any, theirs: Any, where: tuple[str, ...]) -> None:
    """``ours`` has exactly ``theirs``' keys and types, recursively; null only where
    Statuspage allows it; times in Statuspage's format; enumerations respected."""
    key = where[-1] if where else ""
    if key in TIMES and ours is not None:
        assert TIME_FORMAT.fullmatch(ours), (where, ours)
    if len(where) >= 2 and (where[-2], key) in ENUMS:  # keyed by the enclosing list or object
        assert ours in ENUMS[(where[-2], key)], (where, ours)
    if theirs is None or ours is None:
        assert key in NULLABLE, (where, ours, theirs)
        return
    if isinstance(theirs, dict):
        assert isinstance(ours, dict), where
        assert set(ours) == set(theirs), (where, set(ours) ^ set(theirs))
        for name in theirs:
            same_shape(ours[name], theirs[name], (*where, name))
        return
    if isinstance(theirs, list):
        assert isinstance(ours, list), where
        for item in ours:
            model = theirs[0]
            if isinstance(item, dict) and "group" in item:  # a group has `components` too
                model = next(t for t in theirs if t.get("group") == item["group"])
            same_shape(item, model, where)
        return
    assert type(ours) is type(theirs), (where, ours, theirs)


@pytest.fixture
async def app_client(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str
) -> AsyncIterator[tuple[Any, httpx.AsyncClient]]:
    app = create_app(settings_for(catalog_dir, tmp_path, database_url), db)
    async with app.router.lifespan_context(app):
        app.state.status_board.interval = 0.0  # re-derive on every request
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield app, c


async def test_every_endpoint_has_statuspages_shape(
    app_client: tuple[Any, httpx.AsyncClient],
) -> None:
    _, client = app_client
    for path, fixture in ENDPOINTS.items():
        response = await client.get(f"/api/v2/{path}")
        assert response.status_code == 200, path
        assert response.headers["content-type"] == "application/json"
        assert response.headers["access-control-allow-origin"] == "*"
        assert response.headers["cache-control"] == "public, max-age=10"
        same_shape(response.json(), recorded(fixture), ())
    summary = (await client.get("/api/v2/summary.json")).json()
    names = [c["name"] for c in summary["components"]]
    # page order: the Web group (order 1) with its members, then the CDN; never the internal
    assert names == ["Web", "www.example.org", "Uploads", "Content Delivery Network"]
    web = summary["components"][0]
    assert web["group"] is True
    assert web["components"] == [summary["components"][1]["id"], summary["components"][2]["id"]]
    assert summary["components"][1]["group_id"] == web["id"]
    assert summary["components"][1]["description"] == "The website"
    # the CDN's public window is running: it and what it fronts are under maintenance
    states = {c["name"]: c["status"] for c in summary["components"]}
    assert states["Content Delivery Network"] == "under_maintenance"
    assert states["www.example.org"] == "under_maintenance"
    assert states["Uploads"] == "operational"
    assert states["Web"] == "under_maintenance"  # its worst member
    (active,) = summary["scheduled_maintenances"][:1]
    assert active["name"] == "Edge upgrade" and active["status"] == "in_progress"
    assert "internal words" not in json.dumps(summary)
    assert [c["name"] for c in active["components"]] == [
        "www.example.org",
        "Content Delivery Network",
    ] or {c["name"] for c in active["components"]} == {
        "www.example.org",
        "Content Delivery Network",
    }
    upcoming = (await client.get("/api/v2/scheduled-maintenances/upcoming.json")).json()
    (planned,) = upcoming["scheduled_maintenances"]
    assert planned["name"] == "Scheduled maintenance" and planned["status"] == "scheduled"
    assert planned["scheduled_for"] == (SOON + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    # nothing monitors this server: never "All Systems Operational", but the maintenance
    # the schedule says is running is known
    status = (await client.get("/api/v2/status.json")).json()["status"]
    assert status == {"indicator": "maintenance", "description": "Service Under Maintenance"}


async def test_the_recorded_responses_are_what_statuspage_documents() -> None:
    """The fixtures themselves: a typo in one would make the shape test check nothing."""
    summary = recorded("summary.json")
    assert set(summary) == {"page", "components", "incidents", "scheduled_maintenances", "status"}
    for name in ENDPOINTS.values():
        document = recorded(name)
        assert set(document["page"]) == {"id", "name", "url", "time_zone", "updated_at"}
        same_shape(document, document, ())


async def test_overrides_through_the_api(
    app_client: tuple[Any, httpx.AsyncClient], write_token: str, read_token: str
) -> None:
    app, client = app_client
    board = app.state.status_board
    writer = {"Authorization": f"Bearer {write_token}"}
    first = await client.get("/api/v2/components.json")
    renders = board.renders
    again = await client.get("/api/v2/components.json")
    assert again.content == first.content and board.renders == renders  # nothing changed

    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    refused = [
        ({"status": "major_outage", "reason": "r"}, 400, "needs an expiry"),
        ({"status": "broken", "reason": "r", "expiresAt": expires}, 400, "use one of"),
    ]
    for body, code, message in refused:
        response = await client.put("/api/v1/status/overrides/service:uploads", json=body,
                                    headers=writer)  # fmt: skip
        assert response.status_code == code and message in response.json()["error"]
    response = await client.put(
        "/api/v1/status/overrides/service:uploads",
        json={"status": "major_outage", "reason": "r", "expiresAt": expires},
    )
    assert response.status_code == 401
    response = await client.put(
        "/api/v1/status/overrides/host:nowhere",
        json={"status": "major_outage", "reason": "r", "expiresAt": expires},
        headers=writer,
    )
    assert response.status_code in (400, 404)
    response = await client.put(
        "/api/v1/status/overrides/service:uploads",
        json={"status": "major_outage", "reason": "disk full on db1", "expiresAt": expires},
        headers=writer,
    )
    assert response.status_code == 200, response.text

    components = (await client.get("/api/v2/components.json")).json()["components"]
    assert {c["name"]: c["status"] for c in components}["Uploads"] == "major_outage"
    assert board.renders == renders + 1
    assert "disk full" not in (await client.get("/api/v2/summary.json")).text
    assert "disk full" not in (await client.get("/status")).text
    internal = await client.get(
        "/api/v1/status/components", headers={"Authorization": f"Bearer {read_token}"}
    )
    uploads = next(i for i in internal.json()["items"] if i["ref"] == "service:uploads")
    assert uploads["override"]["by"] == "token:writer"
    assert uploads["reason"].startswith("override by token:writer until ")

    ended = await client.delete("/api/v1/status/overrides/service:uploads", headers=writer)
    assert ended.status_code == 200
    components = (await client.get("/api/v2/components.json")).json()["components"]
    assert {c["name"]: c["status"] for c in components}["Uploads"] == "operational"
    again_ended = await client.delete("/api/v1/status/overrides/service:uploads", headers=writer)
    assert again_ended.status_code == 404


async def test_a_third_party_statuspage_consumer_reads_it(
    db: Database,
    catalog_dir: Path,
    tmp_path: Path,
    database_url: str,
    write_token: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """statuspage-prometheus-exporter (PyPI) against a live server on 127.0.0.1."""
    app = create_app(settings_for(catalog_dir, tmp_path, database_url), db)
    async with serving(app) as base:
        app.state.status_board.interval = 0.0
        expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        async with httpx.AsyncClient(base_url=base) as client:
            response = await client.put(
                "/api/v1/status/overrides/service:uploads",
                json={"status": "partial_outage", "reason": "r", "expiresAt": expires},
                headers={"Authorization": f"Bearer {write_token}"},
            )
            assert response.status_code == 200
        services = tmp_path / "services.json"
        url = f"{base}/api/v2/summary.json"
        services.write_text(json.dumps({"example": {"name": "Example", "url": url}}))
        monkeypatch.setenv("SERVICES_JSON_PATH", str(services))
        monkeypatch.chdir(tmp_path)  # its cache goes to ./cache
        monkeypatch.delitem(sys.modules, "statuspage_prometheus_exporter.service_checker", False)
        from statuspage_prometheus_exporter.service_checker import check_status_page_service

        result = await asyncio.to_thread(check_status_page_service, "example", {"url": url})
    assert result["success"] is True, result
    components = {c["name"]: c["status"] for c in result["component_metadata"]}
    assert components["Uploads"] == "partial_outage"
    assert components["Content Delivery Network"] == "under_maintenance"
    # non-operational components and no incident: it reports a minor problem, naming them
    assert result["raw_status"] == "minor"
    assert "Uploads" in result["details"]
    maintenances = {m["name"]: m for m in result["maintenance_metadata"]}
    assert set(maintenances) == {"Edge upgrade", "Scheduled maintenance"}  # running, upcoming
    maintenance = maintenances["Edge upgrade"]
    assert maintenance["status"] == "in_progress"
    assert set(maintenance["affected_components"]) == {
        "www.example.org",
        "Content Delivery Network",
    }


async def test_the_status_host_serves_the_status_page_only_and_publicly(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str
) -> None:
    settings = replace(
        settings_for(catalog_dir, tmp_path, database_url),
        public_read=False,
        status_host="status.example.org",
    )
    app = create_app(settings, db)
    token = await create_token(db, "reader", ["read"], datetime.now(UTC))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            status_host = {"Host": "status.example.org"}
            page = await c.get("/", headers=status_host)
            assert page.status_code == 200
            assert "<h1>Status</h1>" in page.text
            assert page.headers["content-security-policy"].startswith("default-src 'self'")
            css = await c.get("/status/status.css", headers=status_host)
            assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
            summary = await c.get(
                "/api/v2/summary.json", headers={"Host": "status.example.org:443"}
            )
            assert summary.status_code == 200
            assert summary.json()["page"]["url"] == "https://status.example.org"
            assert summary.headers["cache-control"] == "public, max-age=10"
            for path in ("/api/v1/entities", "/login", "/services/web", "/static/style.css"):
                assert (await c.get(path, headers=status_host)).status_code == 404, path
            assert (await c.post("/api/v2/status.json", headers=status_host)).status_code == 404
            # the server's own host stays private
            private = await c.get("/status", headers={"Host": "infradex.example.org"})
            assert private.status_code == 303
            assert (await c.get("/api/v2/status.json")).status_code == 401
            signed = await c.get(
                "/api/v2/status.json", headers={"Authorization": f"Bearer {token}"}
            )
            assert signed.status_code == 200
            assert signed.headers["cache-control"] == "private, no-cache"


async def test_the_psf_example_has_status_pythons_components(
    db: Database, tmp_path: Path, database_url: str
) -> None:
    """Groups as on status.python.org, Mail with its two parts, the CDN as a provider; the
    example is not monitored, so the page says so (not "out of date", not an outage)."""
    from infradex.settings import embedded_example

    app = create_app(settings_for(embedded_example(), tmp_path, database_url), db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            summary = (await client.get("/api/v2/summary.json")).json()
    top = [c["name"] for c in summary["components"] if c["group_id"] is None]
    assert top == [
        "Python.org",
        "Python Package Index",
        "Mail",
        "Content Delivery Network",
        "Core development",
        "Community",
    ]
    by_id = {c["id"]: c["name"] for c in summary["components"]}
    groups = {c["name"]: [by_id[i] for i in c.get("components", [])] for c in summary["components"]}
    assert groups["Mail"] == ["Mailing lists (mail.python.org)", "Mail delivery (SMTP)"]
    assert groups["Python.org"][:3] == ["www.python.org", "Python downloads", "docs.python.org"]
    assert groups["Python Package Index"] == ["pypi.org"]
    assert summary["status"] == {"indicator": "none", "description": "Not monitored"}


async def test_a_public_incident_from_draft_to_resolved(
    app_client: tuple[Any, httpx.AsyncClient], db: Database, write_token: str, read_token: str
) -> None:
    from sqlalchemy import insert

    from infradex.store.tables import incidents

    app, client = app_client
    writer = {"Authorization": f"Bearer {write_token}"}
    reader = {"Authorization": f"Bearer {read_token}"}
    now = datetime.now(UTC)
    async with db.begin(writes=True) as connection:
        await connection.execute(
            insert(incidents).values(
                key="service:uploads", title="SECRET db7.internal disk full (ann paged)",
                status="open", root_ref="service:uploads", opened_at=now, updated_at=now,
            )
        )  # fmt: skip
    response = await client.put(
        "/api/v1/status/overrides/service:uploads",
        json={
            "status": "major_outage",
            "reason": "r",
            "expiresAt": (now + timedelta(hours=1)).isoformat(),
        },
        headers=writer,
    )
    assert response.status_code == 200

    # the alerter's turn drafts it (statuspage.automatic); a second turn makes no second draft
    hook = PublicIncidentAutomation(None)
    catalog = app.state.catalog.catalog
    for _ in range(2):  # at the time now: the override above has begun
        await hook.after_correlation(
            lambda _: db.begin(writes=True), catalog, datetime.now(UTC), changed=True
        )
    (draft,) = (await client.get("/api/v1/status/incidents", headers=reader)).json()["items"]
    assert draft["name"] == "Problems with Uploads"
    assert draft["impact"] == "critical" and draft["published"] is False
    assert draft["components"] == ["service:uploads"]
    assert draft["updates"][0]["body"] == "We are investigating problems with Uploads."
    assert (await client.get("/api/v2/incidents.json")).json()["incidents"] == []  # a draft

    path = f"/api/v1/status/incidents/{draft['id']}"
    assert (await client.post(f"{path}/publish", json={})).status_code == 401
    published = await client.post(
        f"{path}/publish", json={"body": "Uploads fail; we are on it."}, headers=writer
    )
    assert published.status_code == 200, published.text
    again = await client.post(f"{path}/publish", json={}, headers=writer)
    assert again.status_code == 400 and "already published" in again.json()["error"]

    listed = (await client.get("/api/v2/incidents.json")).json()["incidents"]
    (incident,) = listed
    same_shape(incident, recorded("incidents.json")["incidents"][0], ("incidents",))
    assert incident["name"] == "Problems with Uploads" and incident["status"] == "investigating"
    (first,) = incident["incident_updates"]
    assert first["body"] == "Uploads fail; we are on it."
    assert first["affected_components"] == [
        {
            "code": incident["components"][0]["id"],
            "name": "Web - Uploads",
            "old_status": "operational",
            "new_status": "major_outage",
        }
    ]
    summary = (await client.get("/api/v2/summary.json")).json()
    assert [i["id"] for i in summary["incidents"]] == [incident["id"]]
    page = (await client.get("/status")).text
    assert "Current incidents" in page and "Uploads fail; we are on it." in page
    for text in (page, json.dumps(summary), json.dumps(listed)):
        assert "SECRET" not in text and "db7" not in text

    monitoring = await client.post(
        f"{path}/updates", json={"status": "monitoring", "body": "A fix is out."}, headers=writer
    )
    assert monitoring.status_code == 200, monitoring.text
    back = await client.post(
        f"{path}/updates", json={"status": "investigating", "body": "x"}, headers=writer
    )
    assert back.status_code == 400 and "cannot go back" in back.json()["error"]
    empty = await client.post(f"{path}/updates", json={"status": "resolved", "body": " "},
                              headers=writer)  # fmt: skip
    assert empty.status_code == 400 and "needs words" in empty.json()["error"]
    resolved = await client.post(
        f"{path}/updates", json={"status": "resolved", "body": "Uploads work again."},
        headers=writer,
    )  # fmt: skip
    assert resolved.status_code == 200
    assert (await client.get("/api/v2/incidents/unresolved.json")).json()["incidents"] == []
    (done,) = (await client.get("/api/v2/incidents.json")).json()["incidents"]
    same_shape(done, recorded("incidents.json")["incidents"][0], ("incidents",))
    assert done["status"] == "resolved" and done["resolved_at"] is not None
    assert done["monitoring_at"] is not None
    assert [u["status"] for u in done["incident_updates"]] == [
        "resolved",
        "monitoring",
        "investigating",
    ]
    assert "Current incidents" not in (await client.get("/status")).text


async def test_the_last_copy_is_served_while_the_store_is_down(
    app_client: tuple[Any, httpx.AsyncClient], tmp_path: Path
) -> None:
    """The board re-derives from a store that refuses connections (a SQLite file in a
    directory that no longer exists): the last rendered bytes keep being served."""
    from infradex.store import Database

    app, client = app_client
    board = app.state.status_board
    before = await client.get("/api/v2/summary.json")
    page = await client.get("/status")
    gone = tmp_path / "gone"
    board.db = Database(f"sqlite:///{gone / 'store.db'}")  # its directory does not exist
    try:
        after = await client.get("/api/v2/summary.json")
        assert after.status_code == 200 and after.content == before.content
        assert (await client.get("/status")).content == page.content
    finally:
        await board.db.close()

    # with no copy yet, the answer is the server's 503 for a store that is down
    fresh = type(board)(
        Database(f"sqlite:///{gone / 'other.db'}"), board.catalog, board.info,
        stale_after=board.stale_after,
    )  # fmt: skip
    app.state.status_board = fresh
    try:
        response = await client.get("/api/v2/status.json")
        assert response.status_code == 503
    finally:
        await fresh.db.close()
