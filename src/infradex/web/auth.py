"""Who is asking: bearer tokens with scopes for the API (sign-in for people comes next)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from infradex.clock import utcnow
from infradex.store.tokens import Token, verify_token
from infradex.web.sessions import read_session

__all__ = ["OPEN_PATHS", "Caller", "is_admin", "reader_allowed", "require"]

_bearer = HTTPBearer(auto_error=False, description="An API token: `infradex token create`")


class Caller:
    """The authenticated caller of a request."""

    def __init__(self, token: Token) -> None:
        self.token = token

    @property
    def actor(self) -> str:
        return f"token:{self.token.name}"


def require(scope: str) -> Callable[..., Awaitable[Caller]]:
    """A dependency that admits only a live token holding ``scope`` (401 without a token,
    403 with one that lacks the scope or was revoked)."""

    async def dependency(
        request: Request,
        credentials: HTTPAuthorizationCredentials | None = Depends(_bearer),  # noqa: B008
    ) -> Caller:
        if credentials is None:
            raise HTTPException(
                401,
                "this needs an API token: send `Authorization: Bearer <token>` (create one "
                f"with `infradex token create --name NAME --scope {scope}`)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        token = await verify_token(request.app.state.db, credentials.credentials, utcnow())
        if token is None:
            raise HTTPException(403, "this token is unknown or revoked; ask for a new one")
        if not token.allows(scope):
            raise HTTPException(403, f"token {token.name!r} lacks the {scope!r} scope this needs")
        return Caller(token)

    return dependency


#: reachable without signing in even on a private server
# /act/: the link's secret; /api/agent/: agent tokens, checked by the agent API itself
# /status/confirm, /status/unsubscribe: a subscriber's signed link (web/subscriptions.py)
OPEN_PATHS = (
    "/login",
    "/healthz",
    "/readyz",
    "/static/",
    "/act/",
    "/api/agent/",
    "/status/confirm",
    "/status/unsubscribe",
)


async def reader_allowed(request: Request) -> bool:
    """On a private server: a signed-in person, or a live token with the read scope."""
    path = request.url.path
    if path.startswith(OPEN_PATHS) or request.scope.get("infradex.status_host"):
        return True
    if path.startswith("/oncall/") and path.endswith(".ics"):
        return True  # a calendar feed: the token in its URL is checked by the feed itself
    if read_session(request).user:
        return True
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = await verify_token(request.app.state.db, header[7:].strip(), utcnow())
        return token is not None and token.allows("read")
    return False


async def is_admin(request: Request) -> bool:
    """A signed-in admin, or a live token with the admin scope (server paths and secrets
    are shown to them only)."""
    if read_session(request).admin:
        return True
    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        token = await verify_token(request.app.state.db, header[7:].strip(), utcnow())
        return token is not None and token.allows("admin")
    return False
