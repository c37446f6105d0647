"""The incident page's part about the status page: the draft the turn wrote, when it
publishes by itself, and the one click (signed in, with CSRF) that publishes it with a
person's words, telling the subscribers; then where the public sees it."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from infradex.clock import utcnow
from infradex.statuspage.automatic import PublicIncidentAutomation
from infradex.statuspage.incident_store import list_public
from infradex.statuspage.incidents import PublicIncident
from infradex.store import Database
from infradex.store.audit import audit_entries
from infradex.store.users import create_user

from .alerting_harness import FIXTURE
from .test_incidents_web import open_incident

WWW = "metadata: {name: www, title: www.example.org}\nspec:\n"


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "org"
    directory.mkdir()
    text = (
        FIXTURE.read_text()
        .replace("__CDN_URL__", "http://127.0.0.1:9/edge")
        .replace("__APP_URL__", "http://127.0.0.1:9")
        .replace("__SOLO_URL__", "http://127.0.0.1:9/solo")
    )
    assert WWW in text
    text = text.replace(WWW, WWW + "  status: {name: Website, autoPublishAfter: 15m}\n")
    (directory / "catalog.yaml").write_text(text)
    return directory


@pytest.fixture
async def signed_in(client: httpx.AsyncClient, db: Database) -> AsyncIterator[httpx.AsyncClient]:
    await create_user(db, "ee", "correct horse battery", utcnow())
    form = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]  # type: ignore[index]
    done = await client.post(
        "/login", data={"username": "ee", "password": "correct horse battery", "csrf": csrf}
    )
    assert done.status_code == 303
    yield client


async def drafted(db: Database, client: httpx.AsyncClient) -> int:
    incident_id = await open_incident(db)
    catalog = client._transport.app.state.catalog.catalog  # type: ignore[attr-defined]
    await PublicIncidentAutomation(None).after_correlation(
        lambda _: db.begin(writes=True), catalog, utcnow(), changed=True
    )
    return incident_id


async def public(db: Database) -> PublicIncident:
    async with db.begin() as connection:
        (found,) = await list_public(connection, published_only=False)
    return found


async def test_a_person_publishes_the_draft_from_the_incident_page(
    signed_in: httpx.AsyncClient, db: Database
) -> None:
    client = signed_in
    incident_id = await drafted(db, client)
    page = await client.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    assert "A draft, not public yet: <strong>Problems with Website</strong>" in page.text
    assert "published by itself at" in page.text  # the component's autoPublishAfter
    assert "We are investigating problems with Website.</textarea>" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)[1]  # type: ignore[index]

    forged = await client.post(f"/incidents/{incident_id}/publish",
                               data={"name": "x", "body": "y", "csrf": "forged"})  # fmt: skip
    assert forged.status_code == 403
    assert (await public(db)).published_at is None

    words = {"name": "Website <b>slow</b>", "body": "Pages load slowly; we are on it."}
    done = await client.post(f"/incidents/{incident_id}/publish", data={**words, "csrf": csrf})
    assert done.status_code == 303 and done.headers["location"] == f"/incidents/{incident_id}"
    shown = await public(db)
    assert shown.published_at is not None and shown.name == "Website <b>slow</b>"
    assert shown.updates[0].body == "Pages load slowly; we are on it."
    (entry, *_) = await audit_entries(db)
    assert (entry["actor"], entry["action"]) == ("user:ee", "status.incident.publish")

    page = await client.get(f"/incidents/{incident_id}")
    assert "On the public status page since" in page.text
    assert "Website &lt;b&gt;slow&lt;/b&gt;</a>" in page.text  # inert
    assert 'action="' + str(incident_id) + '/publish"' not in page.text
    again = await client.post(f"/incidents/{incident_id}/publish", data={**words, "csrf": csrf})
    assert again.status_code == 400 and "already published" in again.text


async def test_signed_out_sees_the_draft_but_no_form(
    client: httpx.AsyncClient, db: Database
) -> None:
    incident_id = await drafted(db, client)
    page = await client.get(f"/incidents/{incident_id}")
    assert "Problems with Website" in page.text and "Sign in to publish it." in page.text
    assert "/publish" not in page.text
    sent = await client.post(f"/incidents/{incident_id}/publish", data={"name": "x", "body": "y"})
    assert sent.status_code == 303 and "/login" in sent.headers["location"]
    assert (await public(db)).published_at is None
