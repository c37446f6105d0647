"""Serving the status page's pre-rendered documents (docs/status-page.md, "Routes"):
``/status``, its history and feeds, each published incident's page, Statuspage's v2 JSON
and the stylesheet, through the routes and, where they are public, through a lane in front
of the session and sign-in middleware; and the status host, which reaches only these.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from markupsafe import Markup
from starlette.types import ASGIApp, Receive, Scope, Send

from infradex.statuspage.board import Rendered, StatusBoard
from infradex.statuspage.html import STYLESHEET, document, stylesheet
from infradex.statuspage.paths import (
    ATOM_PATH,
    HISTORY_PATH,
    INCIDENTS_PREFIX,
    RSS_PATH,
    STATUS_PATH,
    UPTIME_PATH,
    incident_path,
    media_type,
    uptime_page_path,
)
from infradex.statuspage.v2 import ENDPOINTS
from infradex.store.db import StoreError
from infradex.web.errors import store_unavailable
from infradex.web.headers import SECURITY_HEADERS
from infradex.web.subscriptions import SUBSCRIPTION_PATHS

__all__ = [
    "CORS",
    "PublicStatusLane",
    "accepts_gzip",
    "answer_the_status_host",
    "public_router",
    "status_response",
]

public_router = APIRouter(tags=["status page"])

_CSS = stylesheet()
#: GET from any origin: the JSON is public, and pages elsewhere poll it (python.org's footer)
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "GET"}
#: shared caches may keep the JSON briefly, only where it is public (a private server's
#: signed-in answer must not land in a proxy's cache)
_CACHE = {True: "public, max-age=10", False: "private, no-cache"}
#: what a request for INFRADEX_STATUS_HOST may reach
_STATUS_HOST_PATHS = frozenset(
    {"/", "/status", "/status/", STYLESHEET, HISTORY_PATH, HISTORY_PATH + "/", ATOM_PATH, RSS_PATH}
    | {UPTIME_PATH, UPTIME_PATH + "/"}
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
    | {UPTIME_PATH, UPTIME_PATH + "/"}
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
        if path.rstrip("/") == UPTIME_PATH and scope.get("query_string"):
            return None  # an older page (?page=N): the route reads and checks the number
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


def _uptime_refusal(status: int, words: str) -> Response:
    body = document(
        "Uptime history",
        Markup(
            '<header><h1>Uptime history</h1></header><p>{}</p><p><a href="{}">The last '
            "three months</a></p>"
        ).format(words, UPTIME_PATH),
    ).encode()
    return _with_headers(
        Response(body, status, media_type="text/html; charset=utf-8"),
        {"Cache-Control": "no-cache"},
    )


@public_router.get(UPTIME_PATH, include_in_schema=False)
@public_router.get(UPTIME_PATH + "/", include_in_schema=False)
async def status_uptime(request: Request, page: str | None = None) -> Response:
    """The uptime history: three months a page, ``?page=2`` for the three before."""
    if page is None or page.strip() == "1":
        return await status_response(request, UPTIME_PATH)
    text = page.strip()
    if not text.isdigit() or not 1 <= int(text) <= 1000:
        return _uptime_refusal(
            400,
            f"?page= takes a page number: 1 for the last three months, 2 for the three "
            f"before, and so on (not {text[:40]!r}).",
        )
    found = await status_response(request, uptime_page_path(int(text)))
    if found.status_code == 404:
        return _uptime_refusal(
            404,
            f"There is no page {int(text)}: the uptime history goes back to the first month "
            "with something observed, at most a year.",
        )
    return found


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


def answer_the_status_host(app: FastAPI, host: str) -> None:
    """Requests for the status host get the page, its JSON and its subscription paths,
    public, and a 404 for anything else."""

    @app.middleware("http")
    async def status_host_only(request: Request, call_next):  # type: ignore[no-untyped-def]
        asked = (request.headers.get("host") or "").rsplit(":", 1)[0].lower().rstrip(".")
        if asked != host:
            return await call_next(request)
        path = request.url.path
        if path in SUBSCRIPTION_PATHS or (
            path.rstrip("/") == UPTIME_PATH and request.url.query and request.method == "GET"
        ):
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
