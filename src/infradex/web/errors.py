"""Answers for a store that fails mid-request: 503 and what to do, as JSON for the API and
as a page for people, never a bare 500; the details (with the database's address, a server
path for SQLite) go to the log only."""

from __future__ import annotations

import logging

from fastapi import Request
from fastapi.responses import JSONResponse, Response
from markupsafe import Markup

from infradex.docs.blocks import Page
from infradex.store.db import StoreError

__all__ = ["store_reason", "store_unavailable"]

log = logging.getLogger("infradex.web")

RETRY_AFTER = "30"


def store_reason(exc: StoreError) -> str:
    """What failed, without the database's address: the SQLite error or the driver's class."""
    cause = exc.__cause__
    orig = getattr(cause, "orig", None)
    if orig is not None and type(orig).__module__.startswith("sqlite3"):
        return str(orig).splitlines()[0] if str(orig) else type(orig).__name__
    return type(orig or cause or exc).__name__


def store_unavailable(request: Request, exc: StoreError) -> Response:
    log.error("%s %s: %s", request.method, request.url.path, exc)
    message = (
        f"the store is unavailable ({store_reason(exc)}): try again in a "
        "minute; if it lasts, the server's log says what failed"
    )
    headers = {"Retry-After": RETRY_AFTER}
    if request.url.path.startswith("/api/") or "text/html" not in request.headers.get("accept", ""):
        return JSONResponse({"error": message}, status_code=503, headers=headers)
    from infradex.web.render import page_response  # pages import the app's pieces

    body = Markup("<h1>Temporarily unavailable</h1><p>{}</p>").format(message)
    response = page_response(
        request, Page("unavailable", "Temporarily unavailable"), body=body, status=503
    )
    response.headers.update(headers)
    return response
