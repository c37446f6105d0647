"""Incidents on the web: the API (a write token acts), the pages (a signed-in person acts, with
CSRF), and the one-click links in messages (the secret in the link acts, once).

A link's GET only shows what it would do and a button: mail scanners and link previews
fetch GETs, and must not acknowledge anything by doing so. The POST acts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from infradex.alerting import records
from infradex.alerting.model import IncidentStatus
from infradex.alerting.read_models import IncidentDetail
from infradex.clock import utcnow
from infradex.docs.blocks import Cell, Heading, Link, Page, Para, Strong, Table, Text
from infradex.durations import DurationError, parse_duration
from infradex.errors import InfradexError, NotFoundError, UsageError
from infradex.store.audit import audit
from infradex.web.auth import Caller, require
from infradex.web.incident_public import postmortem_from_page, publish_draft, update_from_page
from infradex.web.incident_view import confirm_body, incident_body, when
from infradex.web.inputs import TextIn, check_text
from infradex.web.render import page_response
from infradex.web.schemas import IncidentPage
from infradex.web.sessions import read_session

__all__ = ["api_router", "pages_router"]

api_router = APIRouter(prefix="/api/v1", tags=["incidents"])
pages_router = APIRouter(include_in_schema=False)

IncidentId = Annotated[int, Path(ge=1, le=2**63 - 1)]
#: the id link pages render as: one level down (/act/TOKEN), so relative links climb one level
LINK_PAGE = "act/link"
STATUSES = tuple(IncidentStatus)


class ActionIn(BaseModel):
    note: TextIn | None = Field(default=None, max_length=5000, description="Optional note")
    duration: TextIn | None = Field(
        default=None, max_length=20, description="For snooze: how long, e.g. 30m or 4h"
    )


def _snooze(duration: str | None) -> Any:
    if not duration:
        return None
    try:
        return parse_duration(duration)
    except DurationError as exc:
        raise UsageError(f"duration: {exc}") from None


async def _act(
    request: Request,
    incident_id: int,
    action: str,
    actor: str,
    note: str | None,
    duration: str | None,
) -> IncidentDetail:
    db = request.app.state.db
    now = utcnow()
    detail = await records.act(
        db, incident_id, action, actor, now, note=note, snooze=_snooze(duration)
    )
    await audit(db, at=now, actor=actor, action=f"incident.{action}", target=str(incident_id),
                detail={"note": note, "duration": duration},
                remote_addr=request.client.host if request.client else None)  # fmt: skip
    alerter = getattr(request.app.state, "alerter", None)
    if alerter is not None:
        alerter.wake()  # tell PagerDuty/Slack of the acknowledgement now, not in a second
    return detail


# ----------------------------------------------------------------------------- API
@api_router.get("/incidents", response_model=IncidentPage, summary="Incidents, newest first")
async def list_incidents(
    request: Request,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|resolved)$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> IncidentPage:
    """``status=open`` lists everything not resolved (open or acknowledged)."""
    items, total = await records.list_incidents(request.app.state.db, status, limit, offset)
    return IncidentPage(items=items, total=total, limit=limit, offset=offset)


@api_router.get(
    "/incidents/{incident_id}",
    response_model=IncidentDetail,
    summary="One incident: members, timeline, messages",
)
async def get_incident(request: Request, incident_id: IncidentId) -> IncidentDetail:
    return await records.incident_detail(request.app.state.db, incident_id)


def _api_action(action: str) -> Any:
    async def endpoint(
        request: Request,
        incident_id: IncidentId,
        caller: Annotated[Caller, Depends(require("write"))],
        body: ActionIn | None = None,
    ) -> IncidentDetail:
        body = body or ActionIn()
        return await _act(request, incident_id, action, caller.actor, body.note, body.duration)

    endpoint.__name__ = f"{action}_incident"
    return endpoint


for _action, _summary in (
    ("acknowledge", "Acknowledge: stop the escalation (write token)"),
    ("unacknowledge", "Undo an acknowledgement: the escalation starts over (write token)"),
    ("resolve", "Resolve by hand (write token)"),
    ("snooze", "Acknowledge until `duration` has passed, then escalate again (write token)"),
):
    api_router.post(
        f"/incidents/{{incident_id}}/{_action}", response_model=IncidentDetail, summary=_summary
    )(_api_action(_action))


@api_router.post(
    "/incidents/{incident_id}/notes",
    response_model=IncidentDetail,
    summary="Add a note (write token)",
)
async def add_note(
    request: Request,
    incident_id: IncidentId,
    body: ActionIn,
    caller: Annotated[Caller, Depends(require("write"))],
) -> IncidentDetail:
    return await _act(request, incident_id, "note", caller.actor, body.note, None)


# ----------------------------------------------------------------------------- pages
def _status_cell(status: str) -> Cell:
    return [Strong(status)] if status == IncidentStatus.OPEN else [Text(status)]


@pages_router.get("/incidents")
async def incidents_page(
    request: Request,
    status: Annotated[str | None, Query(pattern="^(open|acknowledged|resolved)$")] = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    per_page = 50
    items, total = await records.list_incidents(
        request.app.state.db, status, per_page, (page - 1) * per_page
    )
    result = Page("incidents", "Incidents")
    result.add(Heading(1, "Incidents"))
    filters: list[Any] = [Text("Show: ")]
    for i, (label, value) in enumerate(
        (
            ("all", None),
            ("not resolved", "open"),
            ("acknowledged", "acknowledged"),
            ("resolved", "resolved"),
        )
    ):
        if i:
            filters.append(Text(" · "))
        target = "incidents" + (f"?status={value}" if value else "")
        filters.append(Strong(label) if value == status else Link(label, page=target))
    result.add(Para(filters))
    if not items:
        result.add(Para([Text("No incidents" + (f" with status {status}." if status else "."))]))
    else:
        rows: list[list[Cell]] = [
            [
                [Link(f"#{i.id}", page=f"incidents/{i.id}")],
                _status_cell(i.status),
                [Text(i.title)],
                [Text(str(i.impacted_count))],
                [Text(when(i.opened_at))],
                [Text(i.acknowledged_by or "")],
                [Text(when(i.resolved_at))],
            ]
            for i in items
        ]
        result.add(
            Table(
                ["Incident", "Status", "What", "Impacted", "Opened", "Acknowledged by", "Resolved"],
                rows,
            )
        )
        if total > page * per_page:
            more = f"incidents?page={page + 1}" + (f"&status={status}" if status else "")
            result.add(Para([Link("Older incidents", page=more)]))
    return page_response(request, result)


@pages_router.get("/incidents/{incident_id}")
async def incident_page(request: Request, incident_id: IncidentId) -> HTMLResponse:
    try:
        detail = await records.incident_detail(request.app.state.db, incident_id)
    except NotFoundError as exc:
        page = Page("incidents/missing", "No such incident")
        page.add(Heading(1, "No such incident"), Para([Text(str(exc))]))
        return page_response(request, page, status=404)
    session = read_session(request)
    result = Page(f"incidents/{incident_id}", f"#{incident_id} {detail.title}")
    body = await incident_body(request, detail, session)
    return page_response(request, result, session, body=body)


@pages_router.post("/incidents/{incident_id}/act")
async def incident_action(
    request: Request,
    incident_id: IncidentId,
    action: Annotated[TextIn, Form(max_length=20)],
    csrf: Annotated[TextIn, Form(max_length=100)] = "",
    note: Annotated[TextIn | None, Form(max_length=5000)] = None,
    duration: Annotated[TextIn | None, Form(max_length=20)] = None,
) -> Response:
    async def act(actor: str) -> None:
        await _act(request, incident_id, action, actor, note, duration)

    return await _signed_in_form(request, incident_id, csrf, "Could not do that", act)


async def _signed_in_form(
    request: Request,
    incident_id: int,
    csrf: str,
    failure: str,
    act: Callable[[str], Awaitable[None]],
) -> Response:
    """An incident page's form: signed in (else to the sign-in page), its CSRF token valid,
    ``act(actor)`` done, then back to the incident; what it refuses is said on a page."""
    session = read_session(request)
    if not session.user:
        return RedirectResponse(f"/login?next=/incidents/{incident_id}", 303)
    if not session.csrf_ok(csrf):
        raise HTTPException(403, "the form has expired; reload the page and try again")
    try:
        await act(f"user:{session.user}")
    except InfradexError as exc:
        page = Page(f"incidents/{incident_id}", failure)
        page.add(
            Heading(1, failure),
            Para([Text(str(exc))]),
            Para([Link("Back to the incident", page=f"incidents/{incident_id}")]),
        )
        return page_response(request, page, session, status=400)
    return RedirectResponse(f"/incidents/{incident_id}", 303)


@pages_router.post("/incidents/{incident_id}/publish")
async def incident_publish(
    request: Request,
    incident_id: IncidentId,
    name: Annotated[TextIn, Form(max_length=200)],
    body: Annotated[TextIn, Form(max_length=10_000)],
    csrf: Annotated[TextIn, Form(max_length=100)] = "",
    impact: Annotated[TextIn | None, Form(max_length=20)] = None,
) -> Response:
    """The incident page's one click: publish its public draft with the words in the form."""

    async def publish(actor: str) -> None:
        await publish_draft(request, incident_id, name=name, body=body, impact=impact or None,
                            actor=actor)  # fmt: skip

    return await _signed_in_form(request, incident_id, csrf, "Could not publish", publish)


#: a component's state in the update form: ``state:<component ref>``
STATE_FIELD = "state:"


@pages_router.post("/incidents/{incident_id}/public-update")
async def incident_public_update(request: Request, incident_id: IncidentId) -> Response:
    """The incident page's update form: the public incident's next step, its words, and its
    components' states (``state:<ref>`` fields), through the same path as the API's."""
    form = await request.form(max_fields=200)
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    try:
        for key, value in fields.items():
            check_text(key)
            check_text(value)
    except ValueError as exc:
        raise HTTPException(400, f"the form's text {exc}") from None
    if len(fields.get("body", "")) > 10_000 or any(
        len(v) > 100 for k, v in fields.items() if k != "body"
    ):
        raise HTTPException(400, "a field is too long: the words take at most 10,000 "
                                 "characters, the others 100")  # fmt: skip
    states = {k.removeprefix(STATE_FIELD): v for k, v in fields.items()
              if k.startswith(STATE_FIELD)}  # fmt: skip

    async def update(actor: str) -> None:
        await update_from_page(request, incident_id, status=fields.get("status", ""),
                               body=fields.get("body", ""), component_states=states,
                               actor=actor)  # fmt: skip

    csrf = fields.get("csrf", "")[:100]
    return await _signed_in_form(request, incident_id, csrf, "Could not post the update", update)


@pages_router.post("/incidents/{incident_id}/postmortem")
async def incident_postmortem(
    request: Request,
    incident_id: IncidentId,
    body: Annotated[TextIn, Form(max_length=50_000)] = "",
    action: Annotated[TextIn, Form(max_length=20)] = "save",
    csrf: Annotated[TextIn, Form(max_length=100)] = "",
) -> Response:
    """The incident page's postmortem form: save it, or publish it (subscribers told once)."""

    async def write(actor: str) -> None:
        if action not in ("save", "publish"):
            raise UsageError(f"{action!r} is not a postmortem action; save or publish")
        await postmortem_from_page(request, incident_id, body=body,
                                   publish_it=action == "publish", actor=actor)  # fmt: skip

    return await _signed_in_form(request, incident_id, csrf, "Could not save the postmortem",
                                 write)  # fmt: skip


# ----------------------------------------------------------------------------- one-click links
def _link_problem(request: Request, exc: InfradexError) -> HTMLResponse:
    page = Page(LINK_PAGE, "Link not usable")
    page.add(Heading(1, "This link cannot be used"), Para([Text(str(exc))]))
    status = 404 if isinstance(exc, NotFoundError) else 410
    return page_response(request, page, status=status)


@pages_router.get("/act/{token}")
async def link_confirm(request: Request, token: Annotated[str, Path(max_length=100)]) -> Response:
    try:
        found = await records.peek_link(request.app.state.db, token, utcnow())
    except InfradexError as exc:
        return _link_problem(request, exc)
    incident = found.incident
    body = confirm_body(found.action, incident, found.recipient)
    response = page_response(request, Page(LINK_PAGE, f"{found.action} #{incident.id}"), body=body)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the URL
    return response


@pages_router.post("/act/{token}")
async def link_use(request: Request, token: Annotated[str, Path(max_length=100)]) -> Response:
    db = request.app.state.db
    now = utcnow()
    try:
        done = await records.use_link(db, token, now)
    except InfradexError as exc:
        return _link_problem(request, exc)
    incident = done.incident
    await audit(db, at=now, actor=f"{done.recipient} (link)",
                action=f"incident.{done.action}", target=str(incident.id),
                remote_addr=request.client.host if request.client else None)  # fmt: skip
    alerter = getattr(request.app.state, "alerter", None)
    if alerter is not None:
        alerter.wake()
    page = Page(LINK_PAGE, "Done")
    verb = {"acknowledge": "acknowledged", "resolve": "resolved"}.get(done.action, "done")
    page.add(
        Heading(1, f"Incident #{incident.id} {verb}"),
        Para([Text(f"{incident.title}: {verb} as {done.recipient}.")]),
        Para([Link("See the incident", page=f"incidents/{incident.id}")]),
    )
    return page_response(request, page)
