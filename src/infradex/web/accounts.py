"""Signing in and out of the web UI, with CSRF checks and a limit on failed attempts
(store/sign_in_limits.py: backoff per source, per account and per both)."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Template
from markupsafe import Markup

from infradex.clock import utcnow
from infradex.docs.blocks import Page
from infradex.store.audit import audit
from infradex.store.sessions import end_session, start_session
from infradex.store.sign_in_limits import release, reserve
from infradex.store.users import authenticate
from infradex.web.inputs import TextIn
from infradex.web.render import page_response
from infradex.web.sessions import Session, read_session, write_session

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only same-site paths: an open redirect would make the sign-in page a phishing aid."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


_FORM = Template(
    """<h1>Sign in</h1>
{% if error %}<p class="error" role="alert">{{ error }}</p>{% endif %}
<form class="signin" method="post" action="login">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <input type="hidden" name="next" value="{{ next }}">
  <label for="username">Username</label>
  <input id="username" name="username" autocomplete="username" required maxlength="100">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
<p>Accounts are made with <code>infradex user create</code> on the server.</p>""",
    autoescape=True,
)


def _form(
    request: Request, session: Session, next_url: str, error: str | None = None, status: int = 200
) -> Response:
    body = Markup(_FORM.render(csrf=session.csrf, next=next_url, error=error))
    return page_response(request, Page("login", "Sign in"), session, body=body, status=status)


@router.get("/login")
async def login_form(request: Request, next: str | None = None) -> Response:
    return _form(request, read_session(request), _safe_next(next))


@router.post("/login")
async def login(
    request: Request,
    username: Annotated[TextIn, Form(max_length=100)],
    password: Annotated[TextIn, Form(max_length=1000)],
    csrf: Annotated[TextIn, Form(max_length=100)] = "",
    next: Annotated[TextIn, Form(max_length=2000)] = "/",
) -> Response:
    session = read_session(request)
    target = _safe_next(next)
    if not session.csrf_ok(csrf):
        return _form(request, session, target, "The form expired; try again.", 403)
    remote = request.client.host if request.client else None
    db = request.app.state.db
    # the attempt is counted before the password is checked: parallel guesses cannot all
    # pass a count read before any of them is recorded
    reservation = await reserve(db, username, remote, utcnow())
    if isinstance(reservation, timedelta):
        seconds = max(1, math.ceil(reservation.total_seconds()))
        response = _form(
            request,
            session,
            target,
            f"Too many failed attempts; try again in {_wait(seconds)}.",
            429,
        )
        response.headers["Retry-After"] = str(seconds)
        return response
    user = await authenticate(db, username, password, utcnow())
    if user is None:
        await audit(
            db,
            at=utcnow(),
            actor="anonymous",
            action="login.failure",
            target=username,
            remote_addr=remote,
        )
        return _form(request, session, target, "Wrong username or password.", 401)
    await release(db, reservation, utcnow())
    key = await start_session(db, user.username, utcnow(), remote)
    await audit(db, at=utcnow(), actor=f"user:{user.username}", action="login", remote_addr=remote)
    redirect = RedirectResponse(target, status_code=303)
    # a new CSRF token at sign-in: a token planted before cannot be used after
    write_session(request, redirect, Session(user.username, Session.new_csrf(), key=key))
    return redirect


def _wait(seconds: int) -> str:
    return f"{seconds} seconds" if seconds < 120 else f"{math.ceil(seconds / 60)} minutes"


@router.post("/logout")
async def logout(request: Request, csrf: Annotated[TextIn, Form(max_length=100)] = "") -> Response:
    session = read_session(request)
    if not session.csrf_ok(csrf):
        return HTMLResponse("The form expired; go back and try again.", status_code=403)
    if session.key:
        await end_session(request.app.state.db, session.key, utcnow())
    if session.user:
        await audit(
            request.app.state.db,
            at=utcnow(),
            actor=f"user:{session.user}",
            action="logout",
            remote_addr=request.client.host if request.client else None,
        )
    redirect = RedirectResponse("/", status_code=303)
    write_session(request, redirect, Session(None, Session.new_csrf()))
    return redirect
