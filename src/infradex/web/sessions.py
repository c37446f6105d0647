"""Signed session cookies and CSRF tokens (no server-side session store).

The session cookie carries the username and a CSRF token, signed with the secret key and
timestamped; a visitor who is not signed in gets a signed cookie holding only a CSRF token.
Every form carries the token and every POST checks it against the cookie.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response
from itsdangerous import BadSignature, URLSafeTimedSerializer

__all__ = ["COOKIE", "MAX_AGE", "Session", "read_session", "write_session"]

COOKIE = "infradex_session"
MAX_AGE = 14 * 24 * 3600


@dataclass(frozen=True, slots=True)
class Session:
    user: str | None
    csrf: str
    fresh: bool = False  # not yet in a cookie

    @staticmethod
    def new_csrf() -> str:
        return secrets.token_urlsafe(24)

    def csrf_ok(self, submitted: str | None) -> bool:
        return bool(submitted) and hmac.compare_digest(self.csrf, str(submitted))


def _serializer(request: Request) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(request.app.state.secret_key, salt="infradex-session")


def read_session(request: Request) -> Session:
    raw = request.cookies.get(COOKIE)
    if raw:
        try:
            data = _serializer(request).loads(raw, max_age=MAX_AGE)
            return Session(data.get("u"), str(data["c"]))
        except (BadSignature, KeyError, TypeError, AttributeError):
            pass
    return Session(None, Session.new_csrf(), fresh=True)


def write_session(request: Request, response: Response, session: Session) -> None:
    value = _serializer(request).dumps({"u": session.user, "c": session.csrf})
    response.set_cookie(
        COOKIE,
        value,
        max_age=MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
