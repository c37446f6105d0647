"""Session cookies and CSRF tokens.

The cookie carries a session key and a CSRF token, signed with the secret key and
timestamped; who the key signs in is looked up in the store on every request (store/
sessions.py), so signing out, disabling or deleting a user ends the session at once. A
visitor who is not signed in gets a signed cookie holding only a CSRF token. Every form
carries the token and every POST checks it against the cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

from infradex.clock import utcnow
from infradex.store.sessions import session_user

__all__ = ["COOKIE", "MAX_AGE", "Session", "load_session", "read_session", "write_session"]

COOKIE = "infradex_session"
MAX_AGE = 14 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    user: str | None
    csrf: str
    fresh: bool = False  # not yet in a cookie
    key: str | None = None  # the store's session, when signed in
    admin: bool = False

    @staticmethod
    def new_csrf() -> str:
        return secrets.token_urlsafe(24)

    def csrf_ok(self, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(self.csrf, str(submitted))


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="infradex-session")


def _cookie(request: Request) -> tuple[str | None, str | None]:
    """(session key, CSRF token) from a cookie whose signature holds."""
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = _serializer(request).loads(raw, max_age=MAX_AGE)
            key = data.get("k")
            return (key if isinstance(key, str) else None), str(data["c"])
        except (BadSignature, KeyError, TypeError, AttributeError):
            pass
    return None, None


async def load_session(request: Request) -> Session:
    """The request's session, checked against the store (a middleware calls this once per
    request and keeps the answer for :func:`read_session`)."""
    key, csrf = _cookie(request)
    if csrf is None:
        return Session(None, Session.new_csrf(), fresh=True)
    if key is not None:
        signed_in = await session_user(request.app.state.db, key, utcnow())
        if signed_in is not None:
            return Session(signed_in.username, csrf, key=key, admin=signed_in.is_admin)
    return Session(None, csrf)  # signed out, revoked or disabled: the CSRF token still holds


def read_session(request: Request) -> Session:
    session = getattr(request.state, "session", None)
    if isinstance(session, Session):
        return session
    _, csrf = _cookie(request)  # outside the middleware (never signed in)
    return Session(None, csrf) if csrf else Session(None, Session.new_csrf(), fresh=True)


def write_session(request: Request, response: Response, session: Session) -> None:
    value = _serializer(request).dumps({"k": session.key, "c": session.csrf})
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
