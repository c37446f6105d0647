"""The internal incident page's forms for the public incident, the whole path on the real
server app with a real SMTP server (aiosmtpd): a signed-in person publishes the draft with
their own impact, posts updates with their components' states, resolves it, writes the
postmortem and publishes it; each through the same code as the API, so the subscriber is
told by mail (the postmortem once), the audit log says who, and /status/incidents/<id>,
the v2 JSON and the mail agree. Bad input is refused on a page that says what to do, and
nothing is stored half."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, insert, select

from infradex.alerting.dispatcher import Dispatcher
from infradex.channels.registry import notifiers_for
from infradex.clock import utcnow
from infradex.statuspage.incident_store import list_public
from infradex.statuspage.incidents import PublicIncident
from infradex.store import Database
from infradex.store.audit import audit_entries
from infradex.store.tables import incidents, notifications
from infradex.store.tokens import create_token
from infradex.store.users import create_user

from .alerting_harness import Inbox, inbox
from .subscriber_harness import draft, public_components, receiver, status_app

__all__ = ["inbox", "receiver", "status_app"]  # fixtures

HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'


async def sign_in(client: httpx.AsyncClient, db: Database) -> None:
    await create_user(db, "ee", "correct horse battery", utcnow())
    form = await client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]  # type: ignore[index]
    done = await client.post(
        "/login", data={"username": "ee", "password": "correct horse battery", "csrf": csrf}
    )
    assert done.status_code == 303


async def subscribe(client: httpx.AsyncClient, dispatcher: Dispatcher, inbox: Inbox) -> None:
    """ada@example.org, confirmed through her link, for every component."""
    signed = await client.post(
        "/status/subscribe", data={"kind": "email", "address": "ada@example.org"}
    )
    assert signed.status_code == 200, signed.text
    await dispatcher.run_once()
    (confirmation,) = inbox.to("ada@example.org")
    token = re.search(r"token=([^\s&]+)", confirmation.link("Confirm"))
    assert token is not None
    shown = await client.get(f"/status/confirm?token={token[1]}")
    value = re.search(r'name="token" value="([^"]+)"', shown.text)
    assert value is not None
    confirmed = await client.post("/status/confirm", data={"token": value[1]})
    assert confirmed.status_code == 200, confirmed.text


async def internal_incident(db: Database, refs: list[str]) -> tuple[int, int]:
    """An open internal incident whose secret title must never go public, and its draft."""
    now = utcnow()
    async with db.begin(writes=True) as connection:
        made = await connection.execute(
            insert(incidents).values(
                key=refs[0], title="SECRET db7.internal disk full (ann paged)", status="open",
                root_ref=refs[0], opened_at=now, updated_at=now,
            )
        )  # fmt: skip
    key = made.inserted_primary_key
    assert key is not None
    public_id = await draft(db, refs, now, name="Problems with the site", incident_id=int(key[0]))
    return int(key[0]), public_id


async def public(db: Database) -> PublicIncident:
    async with db.begin() as connection:
        (found,) = await list_public(connection, published_only=False)
    return found


async def queued(db: Database) -> int:
    async with db.begin() as connection:
        return int(
            (await connection.execute(select(func.count()).select_from(notifications))).scalar_one()
        )


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', page)[1]  # type: ignore[index]


async def test_updates_and_the_postmortem_from_the_incident_page(
    db: Database, status_app: tuple[FastAPI, httpx.AsyncClient], inbox: Inbox
) -> None:
    app, client = status_app
    app.state.status_board.interval = 0.0  # re-derive on every request
    dispatcher = Dispatcher(db, notifiers_for(app.state.settings))
    components = public_components()
    (ref, (component_id, component_name)), (other_ref, _) = list(components.items())[:2]
    incident_id, public_id = await internal_incident(db, [ref])
    await subscribe(client, dispatcher, inbox)
    await sign_in(client, db)
    page = await client.get(f"/incidents/{incident_id}")
    csrf = csrf_of(page.text)
    assert '<select id="public-impact" name="impact">' in page.text
    assert '<option value="major" selected>major</option>' in page.text  # the draft's

    # an update before publishing: refused, nothing stored
    early = await client.post(f"/incidents/{incident_id}/public-update",
                              data={"csrf": csrf, "status": "identified", "body": "x"})  # fmt: skip
    assert early.status_code == 400 and "is a draft: publish it first" in early.text
    huge = {"csrf": csrf, "name": "n", "body": "b", "impact": "huge"}
    wrong = await client.post(f"/incidents/{incident_id}/publish", data=huge)
    assert wrong.status_code == 400 and "&#39;huge&#39; is not an impact" in wrong.text
    assert (await public(db)).published_at is None

    published = await client.post(
        f"/incidents/{incident_id}/publish",
        data={"csrf": csrf, "name": "Slow pages " + HOSTILE, "body": "We look.", "impact": "minor"},
    )
    assert published.status_code == 303, published.text
    shown = await public(db)
    assert shown.impact == "minor" and shown.published_at is not None

    page = await client.get(f"/incidents/{incident_id}")
    assert 'action="' + str(incident_id) + '/public-update"' in page.text
    assert "Post the update" in page.text and "<script>" not in page.text
    assert f'name="state:{ref}"' in page.text and component_name in page.text
    assert '<option value="identified" selected>identified</option>' in page.text  # next step

    # bad input: said on the page, nothing stored, nobody told
    before = await queued(db)
    for data, said in [
        ({"status": "fixed", "body": "x"}, "&#39;fixed&#39; is not an incident status"),
        ({"status": "identified", "body": "  "}, "an update needs words"),
        ({"status": "identified", "body": "x", f"state:{other_ref}": "major_outage"},
         f"{other_ref} is not a component of this incident"),
        ({"status": "identified", "body": "x", f"state:{ref}": "on_fire"},
         "&#39;on_fire&#39; is not a component state"),
        ({"status": "postmortem", "body": "x"}, "a postmortem is not an update"),
    ]:  # fmt: skip
        refused = await client.post(
            f"/incidents/{incident_id}/public-update", data={"csrf": csrf, **data}
        )
        assert refused.status_code == 400, data
        assert said in refused.text, (said, refused.text)
        assert "Back to the incident" in refused.text
    forgery = {"csrf": "forged", "status": "identified", "body": "x"}
    forged = await client.post(f"/incidents/{incident_id}/public-update", data=forgery)
    assert forged.status_code == 403
    assert len((await public(db)).updates) == 1 and await queued(db) == before

    words = "A disk filled up. " + HOSTILE
    posted = await client.post(
        f"/incidents/{incident_id}/public-update",
        data={
            "csrf": csrf,
            "status": "identified",
            "body": words,
            f"state:{ref}": "partial_outage",
        },
    )
    assert posted.status_code == 303 and posted.headers["location"] == f"/incidents/{incident_id}"
    await dispatcher.run_once()
    mails = inbox.to("ada@example.org")
    by_subject = {m.subject: m for m in mails[1:]}  # the dispatcher sends them side by side
    assert sorted(by_subject) == [
        f"[Status] Incident: Slow pages {HOSTILE}",
        f"[Status] Update: Slow pages {HOSTILE}",
    ]
    update_mail = by_subject[f"[Status] Update: Slow pages {HOSTILE}"]
    assert words in update_mail.text and component_name in update_mail.text
    (entry, *_) = await audit_entries(db)
    assert (entry["actor"], entry["action"], entry["target"]) == (
        "user:ee", "status.incident.update", str(public_id),
    )  # fmt: skip
    assert entry["detail"] == {"status": "identified", "components": {ref: "partial_outage"}}

    # the public sees the person's words and states, inert
    (incident,) = (await client.get("/api/v2/incidents.json")).json()["incidents"]
    latest = incident["incident_updates"][0]
    assert (latest["status"], latest["body"]) == ("identified", words)
    assert latest["affected_components"][0]["code"] == component_id
    assert latest["affected_components"][0]["new_status"] == "partial_outage"
    assert incident["impact"] == "minor" and incident["postmortem_body"] is None
    public_page = (await client.get(f"/status/incidents/{incident['id']}")).text
    assert "A disk filled up. &lt;script&gt;" in public_page
    assert "<script>" not in public_page and "<img" not in public_page
    assert "Partial outage" in public_page or "partial outage" in public_page.lower()
    assert "SECRET" not in public_page and "db7" not in json.dumps(incident)

    # the postmortem waits for the end
    early_pm = await client.post(f"/incidents/{incident_id}/postmortem",
                                 data={"csrf": csrf, "body": "x", "action": "publish"})  # fmt: skip
    assert early_pm.status_code == 400 and "resolve it first" in early_pm.text
    resolved = await client.post(
        f"/incidents/{incident_id}/public-update",
        data={"csrf": csrf, "status": "resolved", "body": "Pages are fast again.",
              f"state:{ref}": "operational"},
    )  # fmt: skip
    assert resolved.status_code == 303
    page = (await client.get(f"/incidents/{incident_id}")).text
    assert "Publish the postmortem" in page

    # saved, not public yet
    story = "At 14:02 a disk filled.\nWe added alerts. " + HOSTILE
    saved = await client.post(f"/incidents/{incident_id}/postmortem",
                              data={"csrf": csrf, "body": story, "action": "save"})  # fmt: skip
    assert saved.status_code == 303
    (incident,) = (await client.get("/api/v2/incidents.json")).json()["incidents"]
    assert incident["postmortem_body"] is None and incident["status"] == "resolved"
    assert "Postmortem" not in (await client.get(f"/status/incidents/{incident['id']}")).text
    empty = await client.post(f"/incidents/{incident_id}/postmortem",
                              data={"csrf": csrf, "body": " ", "action": "publish"})  # fmt: skip
    assert empty.status_code == 400 and "a postmortem needs words" in empty.text

    done = await client.post(f"/incidents/{incident_id}/postmortem",
                             data={"csrf": csrf, "body": story, "action": "publish"})  # fmt: skip
    assert done.status_code == 303
    edited = story + "\nCorrected: 14:03."
    again = await client.post(f"/incidents/{incident_id}/postmortem",
                              data={"csrf": csrf, "body": edited, "action": "save"})  # fmt: skip
    assert again.status_code == 303
    twice = await client.post(f"/incidents/{incident_id}/postmortem",
                              data={"csrf": csrf, "body": edited, "action": "publish"})  # fmt: skip
    assert twice.status_code == 303  # published already: saved, nobody told again
    await dispatcher.run_once()
    by_subject = {m.subject: m for m in inbox.to("ada@example.org")[3:]}
    assert len(inbox.to("ada@example.org")) == 5  # the postmortem told once
    assert sorted(by_subject) == [
        f"[Status] Postmortem: Slow pages {HOSTILE}",
        f"[Status] Resolved: Slow pages {HOSTILE}",
    ]
    told = by_subject[f"[Status] Postmortem: Slow pages {HOSTILE}"].text
    assert "We added alerts." in told and "Corrected" not in told  # the words it had then

    (incident,) = (await client.get("/api/v2/incidents.json")).json()["incidents"]
    assert incident["status"] == "postmortem" and incident["postmortem_body"] == edited
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z",
                        incident["postmortem_body_last_updated_at"])  # fmt: skip
    public_page = (await client.get(f"/status/incidents/{incident['id']}")).text
    assert '<h2 id="postmortem">Postmortem</h2>' in public_page
    assert "Corrected: 14:03." in public_page and "<script>" not in public_page
    page = (await client.get(f"/incidents/{incident_id}")).text
    assert "Post the update" not in page  # a postmortem takes no other update
    assert "subscribers are not told again" in page
    actions = [e["action"] for e in await audit_entries(db)][:4]
    assert actions == [  # newest first
        "status.incident.postmortem",
        "status.incident.postmortem",
        "status.incident.postmortem.publish",
        "status.incident.postmortem",
    ]


async def test_signed_out_no_form_and_no_update(
    db: Database, status_app: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    _, client = status_app
    (ref, _), *_ = list(public_components().items())
    incident_id, public_id = await internal_incident(db, [ref])
    write = await create_token(db, "writer", ["write"], utcnow())
    published = await client.post(f"/api/v1/status/incidents/{public_id}/publish", json={},
                                  headers={"Authorization": f"Bearer {write}"})  # fmt: skip
    assert published.status_code == 200
    page = (await client.get(f"/incidents/{incident_id}")).text
    assert "Sign in to post updates." in page and "/public-update" not in page
    for path, data in [
        ("public-update", {"status": "identified", "body": "x"}),
        ("postmortem", {"body": "x", "action": "publish"}),
    ]:
        sent = await client.post(f"/incidents/{incident_id}/{path}", data=data)
        assert sent.status_code == 303 and "/login" in sent.headers["location"]
    assert len((await public(db)).updates) == 1
    await sign_in(client, db)
    csrf = csrf_of((await client.get(f"/incidents/{incident_id}")).text)
    odd = await client.post(f"/incidents/{incident_id}/postmortem",
                            data={"csrf": csrf, "body": "x", "action": "delete"})  # fmt: skip
    assert odd.status_code == 400 and "&#39;delete&#39; is not a postmortem action" in odd.text
    too_long = {"csrf": csrf, "status": "identified", "body": "x" * 10_001}
    long = await client.post(f"/incidents/{incident_id}/public-update", data=too_long)
    assert long.status_code == 400
    assert len((await public(db)).updates) == 1 and (await public(db)).postmortem is None


async def test_the_api_writes_the_postmortem_the_same_way(
    db: Database, status_app: tuple[FastAPI, httpx.AsyncClient]
) -> None:
    app, client = status_app
    app.state.status_board.interval = 0.0
    (ref, _), *_ = list(public_components().items())
    _, public_id = await internal_incident(db, [ref])
    write = await create_token(db, "writer", ["write"], utcnow())
    auth = {"Authorization": f"Bearer {write}"}
    path = f"/api/v1/status/incidents/{public_id}"
    assert (await client.post(f"{path}/publish", json={}, headers=auth)).status_code == 200
    nope = {"service:nope": "operational"}
    bad: list[tuple[str, dict[str, Any], str]] = [
        ("updates", {"status": "identified", "body": "x", "components": nope},
         "service:nope is not a component of this incident"),
        ("updates", {"status": "postmortem", "body": "x"}, "a postmortem is not an update"),
    ]  # fmt: skip
    for where, body, said in bad:
        refused = await client.post(f"{path}/{where}", json=body, headers=auth)
        assert refused.status_code == 400 and said in refused.json()["error"], refused.text
    early = await client.put(f"{path}/postmortem", json={"body": "x", "publish": True},
                             headers=auth)  # fmt: skip
    assert early.status_code == 400 and "resolve it first" in early.json()["error"]
    resolved = await client.post(
        f"{path}/updates",
        json={"status": "resolved", "body": "Fine.", "components": {ref: "operational"}},
        headers=auth,
    )
    assert resolved.status_code == 200, resolved.text
    assert (await client.put(f"{path}/postmortem", json={"body": "x"})).status_code == 401
    written = {"body": "What happened.", "publish": True}
    first = await client.put(f"{path}/postmortem", json=written, headers=auth)
    assert first.json() == {"id": public_id, "published": True, "notified": True}
    edit = await client.put(f"{path}/postmortem", json={"body": "What happened, exactly."},
                            headers=auth)  # fmt: skip
    assert edit.json() == {"id": public_id, "published": True, "notified": False}
    reader = await create_token(db, "reader", ["read"], utcnow())
    (item,) = (
        await client.get("/api/v1/status/incidents", headers={"Authorization": f"Bearer {reader}"})
    ).json()["items"]
    assert item["status"] == "postmortem"
    assert item["postmortem"]["body"] == "What happened, exactly."
    assert item["postmortem"]["publishedAt"] is not None
