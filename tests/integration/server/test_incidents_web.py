"""Incidents over HTTP: the API (read freely, act with a write token), the pages (act when
signed in, with CSRF), and one-click links (GET shows, POST acts, once)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from infradex.alerting import records
from infradex.alerting.incidents import Event, Incident, Member
from infradex.alerting.model import EventKind
from infradex.clock import utcnow
from infradex.store import Database
from infradex.store.audit import audit_entries
from infradex.store.tokens import create_token
from infradex.store.users import create_user

from .alerting_harness import FIXTURE


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "org"
    directory.mkdir()
    (directory / "catalog.yaml").write_text(
        FIXTURE.read_text().replace("__CDN_URL__", "http://127.0.0.1:9/edge")
        .replace("__APP_URL__", "http://127.0.0.1:9")
        .replace("__SOLO_URL__", "http://127.0.0.1:9/solo")
    )  # fmt: skip
    return directory


async def open_incident(db: Database, key: str = "provider:edgecdn") -> int:
    now = utcnow()
    incident = Incident(key, "Edge CDN is down", now)
    incident.members["provider:edgecdn/edge"] = Member(
        "provider:edgecdn/edge", key, "root", now, None, "timeout"
    )
    incident.members["service:www/home"] = Member(
        "service:www/home", "service:www", "impacted", now, None, "503"
    )
    incident.events.append(Event(now, "opened", {"check": "provider:edgecdn/edge"}))
    async with db.begin() as connection:
        return await records.save(connection, incident, now, {"ref": "escalationpolicy:x"})


@pytest.fixture
async def writer(db: Database) -> str:
    return await create_token(db, "ops-bot", ["read", "write"], utcnow(), "test")


async def test_api_lists_and_shows_incidents(client: httpx.AsyncClient, db: Database) -> None:
    incident_id = await open_incident(db)
    listing = (await client.get("/api/v1/incidents?status=open")).json()
    assert listing["total"] == 1
    [item] = listing["items"]
    assert item["id"] == incident_id and item["impactedCount"] == 1
    detail = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    assert {m["role"] for m in detail["members"]} == {"root", "impacted"}
    assert detail["timeline"][0]["kind"] == "opened"
    missing = await client.get("/api/v1/incidents/999999")
    assert missing.status_code == 404 and "incidents list" in missing.json()["error"]
    bad = await client.get("/api/v1/incidents?status=sleeping")
    assert bad.status_code == 422


async def test_api_actions_need_a_write_token_and_are_audited(
    client: httpx.AsyncClient, db: Database, writer: str
) -> None:
    incident_id = await open_incident(db)
    url = f"/api/v1/incidents/{incident_id}/acknowledge"
    assert (await client.post(url)).status_code == 401
    reader = await create_token(db, "reader", ["read"], utcnow(), "test")
    denied = await client.post(url, headers={"Authorization": f"Bearer {reader}"})
    assert denied.status_code == 403 and "write" in denied.json()["error"]
    auth = {"Authorization": f"Bearer {writer}"}
    done = await client.post(url, headers=auth, json={"note": "looking"})
    assert done.status_code == 200
    assert done.json()["status"] == "acknowledged"
    assert done.json()["acknowledgedBy"] == "token:ops-bot"
    again = await client.post(url, headers=auth)
    assert again.status_code == 400 and "already acknowledged" in again.json()["error"]
    snooze = await client.post(
        f"/api/v1/incidents/{incident_id}/snooze", headers=auth, json={"duration": "soon"}
    )
    assert snooze.status_code == 400 and "duration" in snooze.json()["error"]
    note = await client.post(
        f"/api/v1/incidents/{incident_id}/notes", headers=auth, json={"note": "CDN says fixed"}
    )
    assert note.json()["timeline"][-1]["data"]["text"] == "CDN says fixed"
    resolved = await client.post(f"/api/v1/incidents/{incident_id}/resolve", headers=auth)
    assert resolved.json()["status"] == "resolved"
    assert all(m["upAt"] for m in resolved.json()["members"])
    actions = [e["action"] for e in await audit_entries(db)]
    for action in ("incident.acknowledge", "incident.note", "incident.resolve"):
        assert action in actions


async def test_pages_show_incidents_and_act_only_when_signed_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    incident_id = await open_incident(db)
    listing = await client.get("/incidents")
    assert listing.status_code == 200 and "Edge CDN is down" in listing.text
    page = await client.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    assert "Timeline" in page.text and "provider:edgecdn/edge" in page.text
    assert "Sign in to act</a>" in page.text and 'value="acknowledge"' not in page.text
    # anonymous POST: sent to sign in, nothing changes
    sent = await client.post(f"/incidents/{incident_id}/act", data={"action": "acknowledge"})
    assert sent.status_code == 303 and "/login" in sent.headers["location"]

    await create_user(db, "ee", "correct horse battery", utcnow())
    form = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]  # type: ignore[index]
    signed = await client.post(
        "/login", data={"username": "ee", "password": "correct horse battery", "csrf": csrf}
    )
    assert signed.status_code == 303
    page = await client.get(f"/incidents/{incident_id}")
    assert 'value="acknowledge"' in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]  # type: ignore[index]
    forged = await client.post(
        f"/incidents/{incident_id}/act", data={"action": "acknowledge", "csrf": "forged"}
    )
    assert forged.status_code == 403
    done = await client.post(
        f"/incidents/{incident_id}/act", data={"action": "acknowledge", "csrf": csrf}
    )
    assert done.status_code == 303
    detail = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    assert detail["status"] == "acknowledged" and detail["acknowledgedBy"] == "user:ee"
    noted = await client.post(
        f"/incidents/{incident_id}/act",
        data={"action": "note", "csrf": csrf, "note": "<script>alert(1)</script>"},
    )
    assert noted.status_code == 303
    page = await client.get(f"/incidents/{incident_id}")
    assert "<script>alert(1)</script>" not in page.text and "&lt;script&gt;" in page.text
    wrong = await client.post(
        f"/incidents/{incident_id}/act", data={"action": "explode", "csrf": csrf}
    )
    assert wrong.status_code == 400 and "not an action" in wrong.text


async def test_a_link_shows_first_acts_on_post_and_only_once(
    client: httpx.AsyncClient, db: Database
) -> None:
    incident_id = await open_incident(db)
    async with db.begin() as connection:
        token = await records.create_link(
            connection, incident_id, "acknowledge", "person:sam-staff", utcnow()
        )
    shown = await client.get(f"/act/{token}")
    assert shown.status_code == 200 and "Acknowledge incident" in shown.text
    assert shown.headers["referrer-policy"] == "no-referrer"
    # looking (a mail scanner's GET) changed nothing
    assert (await client.get(f"/api/v1/incidents/{incident_id}")).json()["status"] == "open"
    done = await client.post(f"/act/{token}")
    assert done.status_code == 200 and "acknowledged" in done.text
    detail = (await client.get(f"/api/v1/incidents/{incident_id}")).json()
    assert detail["acknowledgedBy"] == "person:sam-staff (link)"
    twice = await client.post(f"/act/{token}")
    assert twice.status_code == 410 and "already used" in twice.text
    unknown = await client.get("/act/not-a-real-token")
    assert unknown.status_code == 404


async def test_an_expired_link_is_refused(client: httpx.AsyncClient, db: Database) -> None:
    incident_id = await open_incident(db)
    async with db.begin() as connection:
        token = await records.create_link(
            connection, incident_id, "resolve", "person:sam-staff",
            utcnow() - timedelta(days=2),
        )  # fmt: skip
    refused = await client.post(f"/act/{token}")
    assert refused.status_code == 410 and "expired" in refused.text


@pytest.fixture
async def private_client(
    db: Database, catalog_dir: Path, tmp_path: Path, database_url: str
) -> AsyncIterator[httpx.AsyncClient]:
    from dataclasses import replace

    from infradex.web.app import create_app

    from .conftest import settings_for

    settings = replace(settings_for(catalog_dir, tmp_path, database_url), public_read=False)
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            yield c


async def test_links_work_on_a_private_server_but_incident_pages_do_not(
    private_client: httpx.AsyncClient, db: Database
) -> None:
    incident_id = await open_incident(db)
    async with db.begin() as connection:
        token = await records.create_link(
            connection, incident_id, "acknowledge", "person:sam-staff", utcnow()
        )
    assert (await private_client.get(f"/incidents/{incident_id}")).status_code == 303
    assert (await private_client.get("/api/v1/incidents")).status_code == 401
    assert (await private_client.get(f"/act/{token}")).status_code == 200
    assert (await private_client.post(f"/act/{token}")).status_code == 200


async def test_metrics_count_incidents_and_the_outbox(
    client: httpx.AsyncClient, db: Database
) -> None:
    await open_incident(db)
    text = (await client.get("/metrics")).text
    assert 'infradex_incidents{status="open"} 1.0' in text
    assert 'infradex_incidents{status="acknowledged"} 0.0' in text
    assert 'infradex_outbox_notifications{status="pending"} 0.0' in text


async def test_an_entity_page_names_the_incidents_it_is_failing_in(
    client: httpx.AsyncClient, db: Database
) -> None:
    incident_id = await open_incident(db)
    www = (await client.get("/services/www")).text
    assert f"Incident #{incident_id}</strong> (open): Edge CDN is down: this is impacted" in www
    assert f'href="../incidents/{incident_id}"' in www
    cdn = (await client.get("/providers/edgecdn")).text
    assert f"Incident #{incident_id}</strong> (open): Edge CDN is down." in cdn
    assert "Incident #" not in (await client.get("/services/solo")).text


async def test_incident_page_reads_at_a_glance(client: httpx.AsyncClient, db: Database) -> None:
    """State first and large, then who is on call for its policy, who was told, whom to
    contact, the checks, and the timeline last."""
    now = utcnow()
    incident = Incident("provider:edgecdn", "Edge CDN is down", now - timedelta(minutes=75))
    incident.members["provider:edgecdn/edge"] = Member(
        "provider:edgecdn/edge", "provider:edgecdn", "root", now, None, "timeout"
    )
    incident.events.append(Event(now, "opened", {"check": "provider:edgecdn/edge"}))
    async with db.begin() as connection:
        number = await records.save(
            connection, incident, now, {"ref": "escalationpolicy:staff-first"}
        )
    text = (await client.get(f"/incidents/{number}")).text
    main = text[text.index("<main") :]
    hero = main[main.index('class="incident-hero status-open"') : main.index("</section>")]
    assert '<p class="big-state">open</p>' in hero and "for 1h 15m" in hero
    order = [main.index(f'id="{a}"') for a in ("impact", "oncall", "paged", "contacts", "checks")]
    assert order == sorted(order) and main.index('id="timeline"') > order[-1]
    oncall = main[order[1] : order[2]]
    assert "Step 1, at once: " in oncall and "Sam Staff" in oncall
    assert "Step 2, after 15m: " in oncall and "via schedule:volunteers" in oncall
    assert "Nobody has been sent anything yet." in main


async def test_an_incident_confirmed_upstream_says_so_near_the_top(
    client: httpx.AsyncClient, db: Database
) -> None:
    """A provider's own status page confirmed the problem: the page says so under the state,
    before the buttons, naming the provider; without the event there is no such notice."""
    number = await open_incident(db)
    page = (await client.get(f"/incidents/{number}")).text
    assert "Confirmed upstream" not in page
    async with db.begin() as connection:
        await records.add_event(
            connection,
            number,
            utcnow(),
            EventKind.UPSTREAM_CONFIRMED,
            {"check": "provider:edgecdn/own", "entity": "provider:edgecdn",
             "message": "[UPSTREAM] != major: got 'major' <b>"},
        )  # fmt: skip
    page = (await client.get(f"/incidents/{number}")).text
    main = page[page.index("<main") :]
    notice = main[main.index('class="notice upstream"') :]
    notice = notice[: notice.index("</div>")]
    assert "Confirmed upstream: " in notice and "own status page reports a problem" in notice
    assert "&lt;b&gt;" in notice and "<b>" not in notice  # the message is inert
    assert main.index('class="notice upstream"') < main.index('id="impact"')
