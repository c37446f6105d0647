"""Pages as responses: the document around a body, with the visitor's sign-in state, and the
session cookie set on the first visit (so forms have a CSRF token to carry)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from markupsafe import Markup

from infradex.docs import html
from infradex.docs.blocks import Page
from infradex.web.sessions import Session, read_session, write_session

__all__ = ["page_response"]


def page_response(request: Request, page: Page, session: Session | None = None, *,
                  body: Markup | html.CheckedBody | None = None, status: int = 200,
                  query: str = "", refresh: int | None = None) -> HTMLResponse:  # fmt: skip
    session = session or read_session(request)
    account = {"csrf": session.csrf, "user": session.user or ""}
    text = html.render(
        page, suffix="", live=True, query=query, body=body, account=account, refresh=refresh
    )
    response = HTMLResponse(text, status_code=status)
    if session.fresh:
        write_session(request, response, session)
    response.headers["Cache-Control"] = "no-store" if session.user else "no-cache"
    return response
