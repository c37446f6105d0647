"""Subscribing to the status page on the server (docs/status-page.md, "Subscribers"): the
form's POST, the confirm and unsubscribe links (a GET shows a button, the POST acts; the
unsubscribe POST is also RFC 8058's one-click), and the admin's list. On
``INFRADEX_STATUS_HOST`` these paths are public like the page; elsewhere the links are open
(their signed token is the permission) and signing up is for those who may read the page.

No CSRF token on the sign-up form: the page is pre-rendered for everyone and nobody is
signed in there. A forged cross-site sign-up can only make the server send one
confirmation mail, which the rate limit bounds and the recipient ignores.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import HTMLResponse
from pydantic import Field

from infradex.clock import utcnow
from infradex.errors import UsageError
from infradex.settings import Settings
from infradex.statuspage.board import StatusBoard
from infradex.statuspage.subscriber_messages import (
    CONFIRM_PATH,
    SUBSCRIBE_PATH,
    UNSUBSCRIBE_PATH,
    SubscriberLinks,
)
from infradex.statuspage.subscriber_tokens import LinkError, read_token
from infradex.statuspage.subscribers import (
    SignUpRefused,
    confirm,
    list_subscribers,
    remove_subscriber,
    sign_up,
    unsubscribe,
)
from infradex.statuspage.subscription_html import action_page, outcome_page, signed_up_page
from infradex.store.audit import audit
from infradex.web.auth import Caller, require
from infradex.wire import Instant, ReadModel

__all__ = ["SUBSCRIPTION_PATHS", "admin_router", "pages_router", "subscriber_links"]

log = logging.getLogger("infradex.statuspage")

pages_router = APIRouter(include_in_schema=False)
admin_router = APIRouter(prefix="/api/v1/status", tags=["status page"])

SUBSCRIPTION_PATHS = frozenset({SUBSCRIBE_PATH, CONFIRM_PATH, UNSUBSCRIBE_PATH})
_FIELD_LIMIT = 2000  # characters of any one form field read
_LINK_STATUS = {"forged": 400, "expired": 410, "used": 410}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def subscriber_links(request: Request) -> SubscriberLinks:
    """Where subscribers' links lead: the status page's own public address."""
    return SubscriberLinks.from_settings(_settings(request), request.app.state.secret_key)


def _html(text: str, status: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    # personal: an answer about one address is never cached, nor its secret
    return HTMLResponse(text, status, headers={"Cache-Control": "no-store", **(headers or {})})


async def _form(request: Request) -> dict[str, list[str]]:
    """The form's fields (each value cut at a sane length), or empty for a body that is no
    form: a malformed body is a missing field, answered in words."""
    try:
        form = await request.form(max_files=0, max_fields=200)
    except Exception:  # starlette raises several kinds for a body that does not parse
        return {}
    fields: dict[str, list[str]] = {}
    for name, value in form.multi_items():
        if isinstance(value, str):
            fields.setdefault(name, []).append(value[:_FIELD_LIMIT])
    return fields


def _wake(request: Request) -> None:
    alerter = getattr(request.app.state, "alerter", None)
    if alerter is not None:
        alerter.wake()  # its dispatcher sends the mail now, not on its next look


@pages_router.post(SUBSCRIBE_PATH)
async def subscribe(request: Request) -> HTMLResponse:
    name = _settings(request).status_name
    fields = await _form(request)
    board: StatusBoard = request.app.state.status_board
    page, _, _, _ = await board.page_state()
    known = {c.component.id: c.component.name for c in page.components if c.component.public}
    kind = (fields.get("kind") or ["email"])[0]
    try:
        done = await sign_up(
            request.app.state.db,
            subscriber_links(request),
            kind=kind,
            address=(fields.get("address") or [""])[0],
            components=fields.get("component", []),
            known=known,
            source=request.client.host if request.client else None,
            now=utcnow(),
            policy=_settings(request).subscriber_policy,
        )
    except UsageError as exc:
        return _html(outcome_page(name, "Not subscribed", str(exc), error=True), 400)
    except SignUpRefused as exc:
        page_text = outcome_page(name, "Not subscribed", str(exc), error=True)
        return _html(page_text, 429, {"Retry-After": str(exc.wait)})
    _wake(request)
    return _html(signed_up_page(name, done.kind, done.secret))


def _link_error(name: str, exc: LinkError) -> HTMLResponse:
    return _html(
        outcome_page(name, "This link does nothing", str(exc), error=True),
        _LINK_STATUS.get(exc.reason, 400),
    )


def _token(request: Request, fields: dict[str, list[str]] | None = None) -> str:
    given = (fields or {}).get("token") or [request.query_params.get("token", "")]
    return given[0][:_FIELD_LIMIT]


@pages_router.get(CONFIRM_PATH)
async def confirm_page(request: Request) -> HTMLResponse:
    name, token = _settings(request).status_name, _token(request)
    try:
        read_token(request.app.state.secret_key, token, "confirm", utcnow())
    except LinkError as exc:
        return _link_error(name, exc)
    text = "Confirm to get email about incidents and maintenance on this status page."
    return _html(action_page(name, "Confirm your subscription", text, CONFIRM_PATH, token,
                             "Confirm"))  # fmt: skip


@pages_router.post(CONFIRM_PATH)
async def confirm_link(request: Request) -> HTMLResponse:
    name = _settings(request).status_name
    token = _token(request, await _form(request))
    try:
        await confirm(request.app.state.db, request.app.state.secret_key, token, utcnow())
    except LinkError as exc:
        return _link_error(name, exc)
    text = (
        "You are subscribed: incidents and maintenance on this status page will be sent to "
        "you. Every message has a link to unsubscribe."
    )
    return _html(outcome_page(name, "Subscribed", text))


@pages_router.get(UNSUBSCRIBE_PATH)
async def unsubscribe_page(request: Request) -> HTMLResponse:
    name, token = _settings(request).status_name, _token(request)
    try:
        read_token(request.app.state.secret_key, token, "unsubscribe", utcnow())
    except LinkError as exc:
        return _link_error(name, exc)
    text = "Unsubscribe to get no more messages from this status page."
    return _html(action_page(name, "Unsubscribe", text, UNSUBSCRIBE_PATH, token,
                             "Unsubscribe"))  # fmt: skip


@pages_router.post(UNSUBSCRIBE_PATH)
async def unsubscribe_link(request: Request) -> HTMLResponse:
    """The page's button, and a mail client's one-click POST (RFC 8058: the token in the
    header's URL, ``List-Unsubscribe=One-Click`` as the body)."""
    name = _settings(request).status_name
    token = _token(request, await _form(request))
    try:
        await unsubscribe(request.app.state.db, request.app.state.secret_key, token, utcnow())
    except LinkError as exc:
        return _link_error(name, exc)
    text = "You are unsubscribed: nothing more will be sent, and your address is deleted."
    return _html(outcome_page(name, "Unsubscribed", text))


# ----------------------------------------------------------------------------- admin
class SubscriberOut(ReadModel):
    id: int
    kind: str = Field(description="email or webhook")
    address: str = Field(description="the email address or webhook URL (personal data)")
    components: list[str] = Field(description="component ids; empty: every component")
    created_at: Instant
    confirmed_at: Instant | None = Field(description="null: the email is not confirmed yet")


class SubscribersOut(ReadModel):
    items: list[SubscriberOut]


class SubscriberRemovedOut(ReadModel):
    id: int
    removed: Instant


@admin_router.get(
    "/subscribers",
    summary="The status page's subscribers (admin: addresses are personal data)",
    response_model=SubscribersOut,
)
async def subscribers_list(
    request: Request, caller: Annotated[Caller, Depends(require("admin"))]
) -> dict[str, Any]:
    async with request.app.state.db.begin() as connection:
        found = await list_subscribers(connection)
    return {
        "items": [
            {
                "id": s.id,
                "kind": s.kind,
                "address": s.address,
                "components": list(s.components),
                "createdAt": s.created_at.isoformat(),
                "confirmedAt": s.confirmed_at.isoformat() if s.confirmed_at else None,
            }
            for s in found
        ]
    }


@admin_router.delete(
    "/subscribers/{subscriber_id}",
    summary="Remove a subscriber (admin)",
    response_model=SubscriberRemovedOut,
)
async def subscriber_remove(
    request: Request,
    subscriber_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)],
    caller: Annotated[Caller, Depends(require("admin"))],
) -> dict[str, Any]:
    db = request.app.state.db
    now = utcnow()
    await remove_subscriber(db, subscriber_id)
    await audit(db, at=now, actor=caller.actor, action="status.subscriber.remove",
                target=str(subscriber_id))  # fmt: skip
    return {"id": subscriber_id, "removed": now.isoformat()}
