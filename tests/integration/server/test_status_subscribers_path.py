"""Subscribers, the whole path on the real server app: a real SMTP server (aiosmtpd) and a
real webhook receiver on 127.0.0.1. Sign up by email (the confirmation is the only mail an
unconfirmed address gets), confirm through the link, sign up a webhook (its secret shown
once); a person publishes and updates an incident through the API; the dispatcher sends the
mail, with RFC 8058's headers, and the webhook, whose HMAC verifies with the secret; the
mail client's one-click POST unsubscribes, once; the admin's list shows who is left."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI

from infradex.alerting.dispatcher import Dispatcher
from infradex.channels.registry import notifiers_for
from infradex.channels.webhook import verify_signature
from infradex.clock import utcnow
from infradex.store import Database
from infradex.store.tokens import create_token
from infradex.web.app import create_app

from .alerting_harness import Inbox, inbox
from .subscriber_harness import (
    Receiver,
    draft,
    public_components,
    receiver,
    status_app,
    status_settings,
)

__all__ = ["inbox", "receiver", "status_app"]  # fixtures


def local(url: str) -> str:
    """The path and query of a link (the test client speaks to the app directly)."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def test_sign_up_confirm_notify_unsubscribe(
    db: Database,
    status_app: tuple[FastAPI, httpx.AsyncClient],
    inbox: Inbox,
    receiver: Receiver,
) -> None:
    app, client = status_app
    dispatcher = Dispatcher(db, notifiers_for(app.state.settings))
    components = public_components()
    (ref, (component_id, component_name)), (other_ref, _) = list(components.items())[:2]
    write = await create_token(db, "writer", ["write"], utcnow())
    admin = await create_token(db, "admin", ["admin"], utcnow())

    page = (await client.get("/status")).text
    assert '<form method="post" action="/status/subscribe">' in page
    assert f'name="component" value="{component_id}"' in page

    signed = await client.post(
        "/status/subscribe",
        data={"kind": "email", "address": "ada@example.org", "component": [component_id]},
    )
    assert signed.status_code == 200, signed.text
    assert "Check your inbox" in signed.text
    assert signed.headers["cache-control"] == "no-store"
    await dispatcher.run_once()
    (confirmation,) = inbox.to("ada@example.org")
    assert confirmation.subject == "Confirm your subscription to Status"
    assert confirmation.headers["List-Unsubscribe"] is None  # not subscribed yet
    assert component_name in confirmation.text
    link = confirmation.link("Confirm")
    assert link.startswith("https://infra.example.org/status/confirm?token=confirm.")

    # published while unconfirmed: nothing for ada
    first = await draft(db, [ref], utcnow(), name="Problems with the site")
    auth = {"Authorization": f"Bearer {write}"}
    published = await client.post(
        f"/api/v1/status/incidents/{first}/publish", json={}, headers=auth
    )
    assert published.status_code == 200, published.text
    await dispatcher.run_once()
    assert len(inbox.to("ada@example.org")) == 1

    shown = await client.get(local(link))  # a mail scanner's GET changes nothing
    assert shown.status_code == 200 and '<button type="submit">Confirm</button>' in shown.text
    token = re.search(r'name="token" value="([^"]+)"', shown.text)
    assert token is not None
    confirmed = await client.post("/status/confirm", data={"token": token[1]})
    assert confirmed.status_code == 200 and "You are subscribed" in confirmed.text
    again = await client.post("/status/confirm", data={"token": token[1]})
    assert again.status_code == 410 and "used already" in again.text

    hooked = await client.post(
        "/status/subscribe", data={"kind": "webhook", "address": receiver.url}
    )
    assert hooked.status_code == 200, hooked.text
    secret = re.search(r'id="webhook-secret">([^<]+)<', hooked.text)
    assert secret is not None and len(secret[1]) >= 40

    update = await client.post(
        f"/api/v1/status/incidents/{first}/updates",
        json={"status": "identified", "body": "A <b>disk</b> filled up."},
        headers=auth,
    )
    assert update.status_code == 200, update.text
    await dispatcher.run_once()
    (notice,) = inbox.to("ada@example.org")[1:]
    assert notice.subject == "[Status] Update: Problems with the site"
    assert "A <b>disk</b> filled up." in notice.text  # plain text: the words as written
    assert notice.html == ""
    unsubscribe = notice.headers["List-Unsubscribe"]
    assert re.fullmatch(r"<https://infra\.example\.org/status/unsubscribe\?token=\S+>", unsubscribe)
    assert notice.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert notice.link("Unsubscribe") == unsubscribe[1:-1]

    (delivery,) = receiver.got
    assert verify_signature(
        secret[1],
        delivery.headers["X-Infradex-Timestamp"],
        delivery.body,
        delivery.headers["X-Infradex-Signature"],
        time.time(),
    )
    assert not verify_signature(
        secret[1] + "x", delivery.headers["X-Infradex-Timestamp"], delivery.body,
        delivery.headers["X-Infradex-Signature"], time.time(),
    )  # fmt: skip
    body = json.loads(delivery.body)
    assert delivery.headers["X-Infradex-Event"] == "incident.updated"
    assert body["incident"]["status"] == "identified"
    assert body["incident"]["components"] == [component_id]
    assert body["links"]["unsubscribe"].startswith("https://infra.example.org/status/unsubscribe")

    # the mail client's one-click unsubscribe (RFC 8058), then the same link again
    one_click = await client.post(
        local(unsubscribe[1:-1]),
        content=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200 and "You are unsubscribed" in one_click.text
    reused = await client.post(local(unsubscribe[1:-1]), data={"List-Unsubscribe": "One-Click"})
    assert reused.status_code == 410 and "used already" in reused.text

    resolved = await client.post(
        f"/api/v1/status/incidents/{first}/updates",
        json={"status": "resolved", "body": "Fixed."},
        headers=auth,
    )
    assert resolved.status_code == 200
    # an incident elsewhere: the webhook chose no components, so it hears of it too
    second = await draft(db, [other_ref], utcnow(), name="Slow downloads")
    await client.post(f"/api/v1/status/incidents/{second}/publish", json={}, headers=auth)
    await dispatcher.run_once()
    assert len(inbox.to("ada@example.org")) == 2  # nothing after unsubscribing
    events = [d.headers["X-Infradex-Event"] for d in receiver.got]
    assert events == ["incident.updated", "incident.resolved", "incident.published"]

    denied = await client.get("/api/v1/status/subscribers", headers=auth)
    assert denied.status_code == 403
    anonymous = await client.get("/api/v1/status/subscribers")
    assert anonymous.status_code == 401
    listed = await client.get(
        "/api/v1/status/subscribers", headers={"Authorization": f"Bearer {admin}"}
    )
    assert listed.status_code == 200
    (left,) = listed.json()["items"]
    assert left["kind"] == "webhook" and left["address"] == receiver.url
    assert secret[1] not in listed.text and "ada@example.org" not in listed.text
    removed = await client.delete(
        f"/api/v1/status/subscribers/{left['id']}", headers={"Authorization": f"Bearer {admin}"}
    )
    assert removed.status_code == 200
    assert (await client.get("/api/v1/status/subscribers", headers={
        "Authorization": f"Bearer {admin}"})).json()["items"] == []  # fmt: skip


async def test_on_the_status_host_of_a_private_server(
    db: Database, tmp_path: Path, database_url: str, inbox: Inbox
) -> None:
    """The status host takes sign-ups from anyone although the server is private, and the
    links in the mail lead to the status host; on the main host, signing up needs sign-in
    but a link still works (its token is the permission)."""
    settings = status_settings(
        tmp_path, database_url, inbox, status_host="status.example.org", public_read=False
    )
    app = create_app(settings, db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=("203.0.113.5", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            status = {"Host": "status.example.org"}
            page = await c.get("/", headers=status)
            assert page.status_code == 200 and 'action="/status/subscribe"' in page.text
            refused = await c.post(
                "/status/subscribe", data={"address": "ada@example.org"}, follow_redirects=False
            )
            assert refused.status_code == 303  # the main host: sign in first
            signed = await c.post(
                "/status/subscribe", data={"address": "ada@example.org"}, headers=status
            )
            assert signed.status_code == 200, signed.text
            bad = await c.post("/status/subscribe", data={"address": "nope"}, headers=status)
            assert bad.status_code == 400 and "is not an email address" in bad.text
            assert "Content-Security-Policy" in bad.headers
            await Dispatcher(db, notifiers_for(settings)).run_once()
            (mail,) = inbox.to("ada@example.org")
            link = mail.link("Confirm")
            assert link.startswith("https://status.example.org/status/confirm?token=")
            for host in (status, {}):
                shown = await c.get(local(link), headers=host, follow_redirects=False)
                assert shown.status_code == 200, (host, shown.text)
            forged = await c.post("/status/confirm", data={"token": "x"}, headers=status)
            assert forged.status_code == 400 and "This link is not valid" in forged.text
            elsewhere = await c.get("/api/v1/status/subscribers", headers=status)
            assert elsewhere.status_code == 404  # the status host serves the page only
