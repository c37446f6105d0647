"""The public status page on the server: ``/status``, Statuspage's v2 JSON under
``/api/v2/``, the internal view of each component's state and reason, and operator
overrides (docs/status-page.md). With ``INFRADEX_STATUS_HOST``, requests for that host get
the status page and its JSON only, public even on a private server.
"""

from __future__ import annotations

import functools
import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from markupsafe import Markup
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from infradex.background import Loop
from infradex.catalog.entities import Catalog
from infradex.catalog.refs import Ref, RefError, parse_ref
from infradex.clock import utcnow
from infradex.errors import UsageError
from infradex.runtime.live_catalog import LiveCatalog
from infradex.settings import Settings
from infradex.statuspage.board import Rendered, StatusBoard, page_info
from infradex.statuspage.components import layout
from infradex.statuspage.html import STYLESHEET, document, stylesheet
from infradex.statuspage.incident_store import add_update, list_public, publish, sync_drafts
from infradex.statuspage.incidents import PublicIncident
from infradex.statuspage.maintenance_notices import announce_maintenance
from infradex.statuspage.overrides import end_override, set_override
from infradex.statuspage.paths import (
    ATOM_PATH,
    HISTORY_PATH,
    INCIDENTS_PREFIX,
    RSS_PATH,
    STATUS_PATH,
    incident_path,
    media_type,
)
from infradex.statuspage.subscriber_messages import SubscriberLinks
from infradex.statuspage.subscriber_notices import Announce, notify_subscribers
from infradex.statuspage.v2 import ENDPOINTS
from infradex.store.audit import audit
from infradex.store.db import StoreError
from infradex.web.auth import Caller, require
from infradex.web.charts import uptime_bars
from infradex.web.errors import store_unavailable
from infradex.web.headers import SECURITY_HEADERS
from infradex.web.inputs import TextIn
from infradex.web.subscriptions import (
    SUBSCRIPTION_PATHS,
    admin_router,
    pages_router,
    subscriber_links,
)
from infradex.wire import Instant, ReadModel

__all__ = ["PublicStatusLane", "install", "public_router", "router"]

log = logging.getLogger("infradex.statuspage")
public_router = APIRouter(tags=["status page"])
router = APIRouter(prefix="/api/v1/status", tags=["status page"])

_CSS = stylesheet()
#: GET from any origin: the JSON is public, and pages elsewhere poll it (python.org's footer)
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET"}
#: shared caches may keep the JSON briefly, only where it is public (a private server's
#: signed-in answer must not land in a proxy's cache)
_CACHE = {True: "public, max-age=10", False: "private, no-cache"}
#: what a request for INFRADEX_STATUS_HOST may reach
_STATUS_HOST_PATHS = frozenset(
    {"/", "/status", "/status/", STYLESHEET, HISTORY_PATH, HISTORY_PATH + "/", ATOM_PATH, RSS_PATH}
    | {f"/api/v2/{p}" for p in ENDPOINTS}
)
_NOT_FOUND = document(
    "Not found",
    Markup(
        '<header><h1>Not found</h1></header><p>There is no such page here. See <a href="{}">'
        'the status page</a> or <a href="{}">its history</a>.</p>'
    ).format(STATUS_PATH, HISTORY_PATH),
).encode()


#: what the public lane answers (an incident's page too, checked by its shape)
_LANE_PATHS = frozenset(
    {STATUS_PATH, HISTORY_PATH, HISTORY_PATH + "/", ATOM_PATH, RSS_PATH}
    | {f"/api/v2/{p}" for p in ENDPOINTS}
)


def _status_host_path(path: str) -> bool:
    if path in _STATUS_HOST_PATHS:
        return True
    key = path.removeprefix(INCIDENTS_PREFIX).removesuffix("/")
    return path.startswith(INCIDENTS_PREFIX) and bool(key) and "/" not in key


def _board(request: Request) -> StatusBoard:
    board: StatusBoard = request.app.state.status_board
    return board


def _with_headers(response: Response, extra: dict[str, str]) -> Response:
    for name, value in {**SECURITY_HEADERS, **extra}.items():
        response.headers.setdefault(name, value)
    return response


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether an ``Accept-Encoding`` value names gzip with a quality above 0."""
    for item in accept_encoding.lower().split(","):
        name, _, params = item.partition(";")
        if name.strip() not in ("gzip", "x-gzip"):
            continue
        for param in params.split(";"):
            key, _, number = param.strip().partition("=")
            if key == "q":
                try:
                    return float(number) > 0
                except ValueError:
                    return False
        return True
    return False


def _answer(rendered: Rendered, path: str, public: bool, gzip_ok: bool = False) -> Response | None:
    """The response for one of the page's documents (``/status``, ``/api/v2/…``, the
    history, a feed, an incident's page), None when there is no such document; gzipped
    when the client takes it and the document is large."""
    if path.startswith("/api/v2/"):
        body = rendered.json.get(path.removeprefix("/api/v2/"))
        headers = {**CORS, "Cache-Control": _CACHE[public]}
    else:
        body = rendered.html if path == STATUS_PATH else rendered.pages.get(path)
        extra = CORS if path in (ATOM_PATH, RSS_PATH) else {}
        headers = {**extra, "Cache-Control": "no-cache"}
    if body is None:
        return None
    packed = rendered.gzipped.get(path)
    if packed is not None:
        headers["Vary"] = "Accept-Encoding"
        if gzip_ok:
            body, headers["Content-Encoding"] = packed, "gzip"
    return _with_headers(Response(body, media_type=media_type(path)), headers)


async def status_response(request: Request, path: str, *, public: bool | None = None) -> Response:
    """The pre-rendered bytes for ``path`` (``/status``, the stylesheet, ``/api/v2/...``,
    the history, its feeds, an incident's page); ``public``: served to anyone (default: as
    the server's reads are)."""
    if public is None:
        public = bool(request.app.state.settings.public_read)
    if path == STYLESHEET:
        return _with_headers(
            Response(_CSS, media_type="text/css", headers={"Cache-Control": "max-age=300"}), {}
        )
    try:
        rendered = await _board(request).current()
    except StoreError as exc:
        return store_unavailable(request, exc)
    found = _answer(
        rendered, path, public, accepts_gzip(request.headers.get("accept-encoding", ""))
    )
    if found is None:
        return _with_headers(
            Response(_NOT_FOUND, 404, media_type="text/html; charset=utf-8"),
            {"Cache-Control": "no-cache"},
        )
    return found


class PublicStatusLane:
    """Answers GET and HEAD for the page's public documents straight from the board's
    bytes, before the rest of the middleware (session, sign-in): on a server whose reads
    are public, and on the status host. Anything else, and any request the board cannot
    answer from a copy, goes on to the app as before. The status page is the server's
    busiest public URL (python.org's footer polls it): this keeps its cost to a dict
    lookup (docs/benchmarks.md, "Status page")."""

    def __init__(self, app: ASGIApp, *, public: bool, host: str | None) -> None:
        self.app = app
        self.public = public
        self.host = host

    def _shown_path(self, scope: Scope) -> str | None:
        path: str = scope["path"]
        on_host = False
        if self.host is not None:
            for name, value in scope.get("headers", ()):
                if name == b"host":
                    asked = value.decode("latin-1").rsplit(":", 1)[0].lower().rstrip(".")
                    on_host = asked == self.host
                    break
        if not (self.public or on_host):
            return None
        if on_host and path in ("/", "/status/"):
            return STATUS_PATH
        if path in _LANE_PATHS or (path.startswith(INCIDENTS_PREFIX) and _status_host_path(path)):
            return path.rstrip("/") if path != "/" else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path, gzip_ok = self._shown_path(scope), False
        for name, value in scope.get("headers", ()):
            if name == b"accept-encoding":
                gzip_ok = accepts_gzip(value.decode("latin-1"))
        board: StatusBoard | None = getattr(scope["app"].state, "status_board", None)
        found = None
        if path is not None and board is not None and board.has_copy:
            try:
                rendered = await board.current()
            except StoreError:
                rendered = None
            if rendered is not None:
                found = _answer(rendered, path, True, gzip_ok)
        if found is None:
            await self.app(scope, receive, send)
            return
        await found(scope, receive, send)


@public_router.get("/status", include_in_schema=False)
@public_router.get("/status/", include_in_schema=False)
async def status_page(request: Request) -> Response:
    return await status_response(request, "/status")


@public_router.get(HISTORY_PATH, include_in_schema=False)
@public_router.get(HISTORY_PATH + "/", include_in_schema=False)
async def status_history(request: Request) -> Response:
    return await status_response(request, HISTORY_PATH)


@public_router.get(ATOM_PATH, include_in_schema=False)
async def status_history_atom(request: Request) -> Response:
    return await status_response(request, ATOM_PATH)


@public_router.get(RSS_PATH, include_in_schema=False)
async def status_history_rss(request: Request) -> Response:
    return await status_response(request, RSS_PATH)


@public_router.get(INCIDENTS_PREFIX + "{key}", include_in_schema=False)
@public_router.get(INCIDENTS_PREFIX + "{key}/", include_in_schema=False)
async def status_incident(request: Request, key: str) -> Response:
    return await status_response(request, incident_path(key))


@public_router.get(STYLESHEET, include_in_schema=False)
async def status_stylesheet(request: Request) -> Response:
    return await status_response(request, STYLESHEET)


def _json_route(path: str) -> None:
    async def endpoint(request: Request) -> Response:
        return await status_response(request, f"/api/v2/{path}")

    endpoint.__name__ = "statuspage_" + path.replace("/", "_").replace("-", "_").replace(".", "_")
    public_router.add_api_route(
        f"/api/v2/{path}",
        endpoint,
        methods=["GET"],
        summary=f"Statuspage v2: {path} (public, CORS)",
        response_class=Response,
    )


for _path in ENDPOINTS:
    _json_route(_path)


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


def _announce(request: Request) -> Announce:
    """Tell the subscribers, in the transaction that publishes (docs/status-page.md)."""
    return functools.partial(notify_subscribers, links=subscriber_links(request))


def _wake_dispatcher(request: Request) -> None:
    alerter = getattr(request.app.state, "alerter", None)
    if alerter is not None:
        alerter.wake()


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
    }


@router.get(
    "/incidents",
    summary="Public incidents and drafts (internal)",
    response_model=PublicIncidentsOut,
)
async def list_incidents(request: Request) -> dict[str, Any]:
    """Drafts are made here for open internal incidents that reach public components."""
    board = _board(request)
    page, _, _, _ = await board.page_state()
    db = request.app.state.db
    await sync_drafts(db, _live(request).catalog, page.components, utcnow())
    async with db.begin() as connection:
        found = await list_public(connection, published_only=False)
    return {"items": [_incident_json(i) for i in found]}


class PublishIn(BaseModel):
    name: TextIn | None = Field(None, max_length=200, description="the public title")
    body: TextIn | None = Field(None, max_length=10_000, description="the first update's words")


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
    db = request.app.state.db
    now = utcnow()
    page, _, _, _ = await _board(request).page_state()
    await publish(db, incident_id, name=body.name, body=body.body, by=caller.actor, at=now,
                  states=page.components, announce=_announce(request))  # fmt: skip
    _wake_dispatcher(request)
    await audit(db, at=now, actor=caller.actor, action="status.incident.publish",
                target=str(incident_id))  # fmt: skip
    return {"id": incident_id, "published": now.isoformat()}


class UpdateIn(BaseModel):
    status: TextIn = Field(description="investigating, identified, monitoring, resolved")
    body: TextIn = Field(max_length=10_000, description="what people can expect")


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
    db = request.app.state.db
    now = utcnow()
    page, _, _, _ = await _board(request).page_state()
    await add_update(db, incident_id, status=body.status, body=body.body,
                     states=page.components, by=caller.actor, at=now,
                     announce=_announce(request))  # fmt: skip
    _wake_dispatcher(request)
    await audit(db, at=now, actor=caller.actor, action="status.incident.update",
                target=str(incident_id), detail={"status": body.status})  # fmt: skip
    return {"id": incident_id, "status": body.status}


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
        bars=uptime_bars,
        monitored=settings.monitor_enabled,
    )
    app.include_router(public_router)
    app.include_router(router)
    app.include_router(pages_router)
    app.include_router(admin_router)
    app.state.status_notices = _maintenance_notices(app, settings, live)
    host = settings.status_host
    if host is not None:
        _answer_the_status_host(app, host)
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


def _answer_the_status_host(app: FastAPI, host: str) -> None:
    """Requests for the status host get the page, its JSON and its subscription paths,
    public, and a 404 for anything else."""

    @app.middleware("http")
    async def status_host_only(request: Request, call_next):  # type: ignore[no-untyped-def]
        asked = (request.headers.get("host") or "").rsplit(":", 1)[0].lower().rstrip(".")
        if asked != host:
            return await call_next(request)
        path = request.url.path
        if path in SUBSCRIPTION_PATHS:
            # public here even on a private server (auth.reader_allowed reads the mark)
            request.scope["infradex.status_host"] = True
            return await call_next(request)
        if request.method not in ("GET", "HEAD") or not _status_host_path(path):
            return _with_headers(
                Response(
                    b"Not found: this host serves the status page only.\n",
                    404,
                    media_type="text/plain",
                ),
                {},
            )
        shown = "/status" if path in ("/", "/status/") else path.rstrip("/")
        return await status_response(request, shown, public=True)
