"""The public status page on the server: its board, the internal view of each component's
state and reason, public incidents and operator overrides, and the wiring (the documents
themselves are served by ``web/status_documents.py``; docs/status-page.md).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from infradex.background import Loop
from infradex.catalog.entities import Catalog
from infradex.catalog.refs import Ref, RefError, parse_ref
from infradex.clock import utcnow
from infradex.errors import UsageError
from infradex.runtime.live_catalog import LiveCatalog
from infradex.settings import Settings
from infradex.statuspage.board import StatusBoard, page_info
from infradex.statuspage.components import layout
from infradex.statuspage.incident_store import list_public, postmortem_published
from infradex.statuspage.incidents import PublicIncident
from infradex.statuspage.maintenance_notices import announce_maintenance
from infradex.statuspage.overrides import end_override, set_override
from infradex.statuspage.subscriber_messages import SubscriberLinks
from infradex.store.audit import audit
from infradex.web import incident_public
from infradex.web.auth import Caller, require
from infradex.web.inputs import TextIn
from infradex.web.status_documents import (
    PublicStatusLane,
    answer_the_status_host,
    public_router,
)
from infradex.web.subscriptions import (
    admin_router,
    pages_router,
)
from infradex.wire import Instant, ReadModel

__all__ = ["install", "router"]

log = logging.getLogger("infradex.statuspage")
router = APIRouter(prefix="/api/v1/status", tags=["status page"])


def _board(request: Request) -> StatusBoard:
    board: StatusBoard = request.app.state.status_board
    return board


# ----------------------------------------------------------------------------- internal
class OverrideOut(ReadModel):
    status: str
    expires_at: Instant
    reason: str | None
    by: str | None


class ComponentOut(ReadModel):
    ref: str
    id: str
    name: str
    group: str | None
    public: bool
    status: str = Field(description="operational, degraded_performance, partial_outage, ...")
    reason: str = Field(description="why (internal: never shown publicly)")
    override: OverrideOut | None


class ComponentsOut(ReadModel):
    stale: bool = Field(description="the monitor has not reported for too long")
    last_report: Instant | None
    items: list[ComponentOut]


class UpdateOut(ReadModel):
    status: str
    body: str
    components: dict[str, str] = Field(description="component ref to its state at the update")
    created_at: Instant | None


class PostmortemState(ReadModel):
    body: str
    updated_at: Instant | None
    published_at: Instant | None = Field(description="null: not public yet")


class PublicIncidentOut(ReadModel):
    id: int
    name: str
    status: str
    impact: str
    components: list[str]
    published: bool
    published_at: Instant | None
    created_at: Instant | None
    resolved_at: Instant | None
    updates: list[UpdateOut]
    postmortem: PostmortemState | None = Field(
        None, description="written after it resolved; public once published"
    )


class PublicIncidentsOut(ReadModel):
    items: list[PublicIncidentOut]


class PublishedOut(ReadModel):
    id: int
    published: Instant


class UpdatedOut(ReadModel):
    id: int
    status: str


class OverrideSetOut(ReadModel):
    ref: str
    status: str
    expires_at: Instant


class OverrideEndedOut(ReadModel):
    ref: str
    ended: Instant


def _live(request: Request) -> LiveCatalog:
    state: LiveCatalog = request.app.state.catalog
    return state


def _component_ref(request: Request, text: str) -> Ref:
    try:
        ref = parse_ref(text)
    except RefError as exc:
        raise UsageError(str(exc)) from None
    catalog = _live(request).catalog
    catalog.get(ref)  # NotFoundError with a suggestion
    if not any(c.ref == ref for c in layout(catalog).components):
        raise UsageError(
            f"{ref} is not a status-page component: give it a `status:` block in the catalog "
            "(a provider: `statusPage:`), see docs/status-page.md"
        )
    return ref


@router.get(
    "/components",
    summary="Each component's state, with why (internal)",
    response_model=ComponentsOut,
)
async def components(request: Request) -> dict[str, Any]:
    page, _, _, _ = await _board(request).page_state()
    return {
        "stale": page.stale,
        "lastReport": page.last_report.isoformat() if page.last_report else None,
        "items": [
            {
                "ref": str(c.component.ref),
                "id": c.component.id,
                "name": c.component.name,
                "group": c.component.group,
                "public": c.component.public,
                "status": str(c.status),
                "reason": c.reason,
                "override": None
                if c.override is None
                else {
                    "status": str(c.override.status),
                    "expiresAt": c.override.expires_at.isoformat(),
                    "reason": c.override.reason,
                    "by": c.override.created_by,
                },
            }
            for c in page.components
        ],
    }


def _incident_json(incident: PublicIncident) -> dict[str, Any]:
    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "id": incident.id,
        "name": incident.name,
        "status": incident.status,
        "impact": incident.impact,
        "components": list(incident.components),
        "published": incident.published_at is not None,
        "publishedAt": when(incident.published_at),
        "createdAt": when(incident.created_at),
        "resolvedAt": when(incident.resolved_at),
        "updates": [
            {
                "status": u.status,
                "body": u.body,
                "components": u.components,
                "createdAt": when(u.created_at),
            }
            for u in incident.updates
        ],
        "postmortem": None
        if incident.postmortem is None
        else {
            "body": incident.postmortem.body,
            "updatedAt": when(incident.postmortem.updated_at),
            "publishedAt": when(incident.postmortem.published_at),
        },
    }


@router.get(
    "/incidents",
    summary="Public incidents and drafts (internal)",
    response_model=PublicIncidentsOut,
)
async def list_incidents(request: Request) -> dict[str, Any]:
    """The alerter drafts them as incidents open (``statuspage.automatic``)."""
    db = request.app.state.db
    async with db.begin() as connection:
        found = await list_public(connection, published_only=False)
    return {"items": [_incident_json(i) for i in found]}


class PublishIn(BaseModel):
    name: TextIn | None = Field(None, max_length=200, description="the public title")
    body: TextIn | None = Field(None, max_length=10_000, description="the first update's words")
    impact: TextIn | None = Field(
        None, max_length=20, description="none, minor, major or critical (default: the draft's)"
    )


@router.post(
    "/incidents/{incident_id}/publish",
    summary="Publish a draft (write)",
    response_model=PublishedOut,
)
async def publish_incident(
    request: Request,
    incident_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)],
    body: PublishIn,
    caller: Annotated[Caller, Depends(require("write"))],
) -> dict[str, Any]:
    now = await incident_public.publish_public(
        request, incident_id, name=body.name, body=body.body, impact=body.impact,
        actor=caller.actor,
    )  # fmt: skip
    return {"id": incident_id, "published": now.isoformat()}


class UpdateIn(BaseModel):
    status: TextIn = Field(description="investigating, identified, monitoring, resolved")
    body: TextIn = Field(max_length=10_000, description="what people can expect")
    components: dict[Annotated[str, Field(max_length=200)], TextIn] | None = Field(
        None,
        max_length=1000,
        description="component ref to its state in this update (each one of the incident's "
        "components; the others as derived now)",
    )


@router.post(
    "/incidents/{incident_id}/updates",
    summary="Add an update (write)",
    response_model=UpdatedOut,
)
async def update_incident(
    request: Request,
    incident_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)],
    body: UpdateIn,
    caller: Annotated[Caller, Depends(require("write"))],
) -> dict[str, Any]:
    await incident_public.post_update(
        request, incident_id, status=body.status, body=body.body,
        component_states=body.components, actor=caller.actor,
    )  # fmt: skip
    return {"id": incident_id, "status": body.status}


class PostmortemIn(BaseModel):
    body: TextIn = Field(max_length=50_000, description="what happened (plain text)")
    publish: bool = Field(False, description="make it public (subscribers are told the first time)")


class PostmortemOut(ReadModel):
    id: int
    published: bool = Field(description="the postmortem is public")
    notified: bool = Field(description="this call published it and told the subscribers")


@router.put(
    "/incidents/{incident_id}/postmortem",
    summary="Write, or publish, a resolved incident's postmortem (write)",
    response_model=PostmortemOut,
)
async def put_postmortem(
    request: Request,
    incident_id: Annotated[int, PathParam(ge=1, le=2**63 - 1)],
    body: PostmortemIn,
    caller: Annotated[Caller, Depends(require("write"))],
) -> dict[str, Any]:
    first = await incident_public.save_postmortem(
        request, incident_id, body=body.body, publish_it=body.publish, actor=caller.actor
    )
    async with request.app.state.db.begin() as connection:
        published = await postmortem_published(connection, incident_id)
    return {"id": incident_id, "published": published, "notified": first}


class OverrideIn(BaseModel):
    status: TextIn = Field(description="operational, under_maintenance, degraded_performance, …")
    expires_at: datetime | None = Field(
        None, alias="expiresAt", description="required: ISO 8601 with an offset, ≤ 7 days ahead"
    )
    reason: TextIn = Field(description="why (internal: never shown publicly)", max_length=1000)


@router.put(
    "/overrides/{ref}",
    summary="Override a component's state until it expires (write)",
    response_model=OverrideSetOut,
)
async def put_override(
    request: Request,
    ref: str,
    body: OverrideIn,
    caller: Annotated[Caller, Depends(require("write"))],
) -> dict[str, Any]:
    component = _component_ref(request, ref)
    db = request.app.state.db
    now = utcnow()
    made = await set_override(
        db,
        str(component),
        body.status,
        expires_at=body.expires_at,
        reason=body.reason,
        by=caller.actor,
        at=now,
    )
    shown = {"status": str(made.status), "expiresAt": made.expires_at.isoformat()}
    await audit(db, at=now, actor=caller.actor, action="status.override",
                target=str(component), detail=shown)  # fmt: skip
    return {"ref": made.ref, **shown}


@router.delete(
    "/overrides/{ref}",
    summary="End a component's override (write)",
    response_model=OverrideEndedOut,
)
async def delete_override(
    request: Request, ref: str, caller: Annotated[Caller, Depends(require("write"))]
) -> dict[str, Any]:
    component = _component_ref(request, ref)
    db = request.app.state.db
    now = utcnow()
    await end_override(db, str(component), by=caller.actor, at=now)
    await audit(db, at=now, actor=caller.actor, action="status.override.end",
                target=str(component))  # fmt: skip
    return {"ref": str(component), "ended": now.isoformat()}


# ----------------------------------------------------------------------------- wiring
def install(app: FastAPI, settings: Settings, live: LiveCatalog) -> None:
    """The board on ``app.state``, the routes, and (with a status host) the middleware that
    answers that host before sign-in is asked for. Call it after the app's own middleware,
    so this one runs first."""

    def served() -> tuple[Catalog, datetime]:
        return live.catalog, live.good_at or utcnow()

    app.state.status_board = StatusBoard(
        app.state.db,
        served,
        page_info(settings),
        stale_after=settings.status_stale_after,
        uptime=True,
        monitored=settings.monitor_enabled,
    )
    app.include_router(public_router)
    app.include_router(router)
    app.include_router(pages_router)
    app.include_router(admin_router)
    app.state.status_notices = _maintenance_notices(app, settings, live)
    host = settings.status_host
    if host is not None:
        answer_the_status_host(app, host)
    # outermost (added last): the page's public documents skip the session and sign-in
    app.add_middleware(PublicStatusLane, public=bool(settings.public_read), host=host)


#: how often a server looks for maintenance steps to tell subscribers about
NOTICES_EVERY = 60.0


def _maintenance_notices(app: FastAPI, settings: Settings, live: LiveCatalog) -> Loop:
    """The loop that tells subscribers when public maintenance is scheduled, starts and is
    completed (``statuspage.maintenance_notices``); every server may run it: a step is
    queued once. The app's lifespan starts and stops it."""
    links = SubscriberLinks.from_settings(settings, app.state.secret_key)

    async def turn() -> None:
        if not live.ready:
            return
        board: StatusBoard = app.state.status_board
        found = await board.maintenance_now()
        if await announce_maintenance(app.state.db, found, board.clock(), links):
            alerter = getattr(app.state, "alerter", None)
            if alerter is not None:
                alerter.wake()

    return Loop("status maintenance notices", NOTICES_EVERY, turn, first_wait=5.0, log=log)
