"""The application: ``create_app(settings)`` wires the store, the runtime (the live catalog,
monitor, alerter and heartbeat, assembled as for ``infradex monitor``), the API and the pages.
``infradex serve`` runs it under uvicorn."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from infradex import __version__
from infradex.clock import utcnow
from infradex.errors import NotFoundError, UsageError
from infradex.monitor.agent_rollups import PendingRollups
from infradex.runtime.assembly import assemble
from infradex.settings import Settings
from infradex.store import Database
from infradex.store.db import StoreError
from infradex.web import (
    accounts,
    agents,
    api,
    board,
    dns,
    home,
    impact,
    incidents,
    monitoring,
    oncall,
    pages,
    status,
)
from infradex.web.auth import reader_allowed
from infradex.web.clients import client_address
from infradex.web.errors import store_reason, store_unavailable
from infradex.web.headers import SECURITY_HEADERS
from infradex.web.inputs import encodable
from infradex.web.sessions import load_session

__all__ = ["create_app"]

log = logging.getLogger("infradex.web")


def create_app(settings: Settings, db: Database | None = None) -> FastAPI:
    """The server for ``settings``; pass ``db`` to use an existing store (tests do)."""
    database = db or Database(settings.database_url)
    runtime = assemble(settings, database, monitor=settings.monitor_enabled)
    state = runtime.live
    sweep = agents.stale_sweep(state, database)
    agent_rollups = PendingRollups()
    rollup_flush = agents.rollup_flush(agent_rollups, database)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await database.upgrade()
        await runtime.start()
        runtime.reload_on_sighup()
        sweep.start()
        app.state.status_notices.start()
        rollup_flush.start()
        yield
        await app.state.status_notices.stop()
        await sweep.stop()
        await rollup_flush.stop()
        try:
            await agent_rollups.flush(database)
        except StoreError as exc:
            log.warning("agents' rollups not written at shutdown: %s", exc)
        await runtime.stop()
        if db is None:
            await database.close()

    app = FastAPI(
        title="infradex",
        version=__version__,
        description="The catalog of services, providers and people, and what depends on what.",
        lifespan=lifespan,
        docs_url=None,  # the Swagger UI loads scripts from a CDN; /api/docs is ours, offline
        redoc_url=None,
        openapi_url="/openapi.json",
    )
    app.state.db = database
    app.state.catalog = state
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.monitor = runtime.monitor
    app.state.alerter = runtime.alerter
    app.state.secret_key = settings.resolved_secret_key()
    app.state.agent_refusals = agents.AgentRefusals()
    app.state.agent_rollups = agent_rollups
    trusted = settings.trusted_proxies

    if not settings.public_read:

        @app.middleware("http")
        async def sign_in_required(request: Request, call_next):  # type: ignore[no-untyped-def]
            if not await reader_allowed(request):
                if request.url.path.startswith("/api/"):
                    return JSONResponse(
                        {
                            "error": "this server is private: sign in, or send a token with the "
                            "read scope (`infradex token create --scope read`)"
                        },
                        status_code=401,
                        headers={"WWW-Authenticate": "Bearer"},
                    )
                return RedirectResponse(f"/login?next={quote(request.url.path)}", 303)
            return await call_next(request)

    @app.middleware("http")
    async def session_and_client(request: Request, call_next):  # type: ignore[no-untyped-def]
        # outside the sign-in check, which needs both: who is asking and from where
        peer = request.client.host if request.client else None
        client = client_address(peer, request.headers.get("x-forwarded-for"), trusted)
        if client != peer:
            request.scope["client"] = (client, 0)
            proto = request.headers.get("x-forwarded-proto", "").strip().lower()
            if proto in ("http", "https"):
                request.scope["scheme"] = proto
        if not request.url.path.startswith(("/static/", "/healthz")):
            try:
                request.state.session = await load_session(request)
            except StoreError as exc:
                return store_unavailable(request, exc)
        return await call_next(request)

    @app.middleware("http")
    async def security_headers(request: Request, call_next):  # type: ignore[no-untyped-def]
        response = await call_next(request)
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @app.exception_handler(NotFoundError)
    async def not_found(request: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=404)

    @app.exception_handler(UsageError)
    async def bad_request(request: Request, exc: UsageError) -> JSONResponse:
        return JSONResponse({"error": str(exc)}, status_code=400)

    @app.exception_handler(StoreError)
    async def store_down(request: Request, exc: StoreError) -> Response:
        return store_unavailable(request, exc)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for error in exc.errors():
            where = ".".join(str(part) for part in error.get("loc", ()) if part != "query")
            problems.append(f"{where}: {encodable(error.get('msg', 'invalid'))}")
        return JSONResponse(
            {
                "error": "the request is not valid: " + "; ".join(problems) + " (see /api/docs)",
                "details": [
                    {key: encodable(value) for key, value in error.items()}
                    for error in jsonable_encoder(exc.errors())
                ],
            },
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            {"error": exc.detail},
            status_code=exc.status_code,
            headers=getattr(exc, "headers", None),
        )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "alive"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> JSONResponse:
        try:
            await database.ping()
            await database.check_writable(utcnow())
        except StoreError as exc:
            # the details (with the database's address) go to the log, not to anyone asking
            log.error("not ready: %s", exc)
            return JSONResponse(
                {"status": "not ready", "store": f"cannot write: {store_reason(exc)}"}, 503
            )
        if not state.ready:
            return JSONResponse({"status": "not ready", "catalog": "not loaded"}, 503)
        return JSONResponse({"status": "ready", "entities": len(state.catalog)})

    status.install(app, settings, state)  # after the middleware above: its host runs first
    static = resources.files("infradex.docs") / "static"
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    app.include_router(api.router)
    app.include_router(dns.router)
    app.include_router(agents.router)
    app.include_router(monitoring.router)
    app.include_router(monitoring.metrics_router)
    app.include_router(incidents.api_router)
    app.include_router(incidents.pages_router)
    app.include_router(accounts.router)
    app.include_router(oncall.router)
    app.include_router(home.router)
    app.include_router(board.router)
    app.include_router(impact.router)
    app.include_router(pages.router)
    return app
