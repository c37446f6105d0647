"""The internal incident page's part about the public status page (docs/status-page.md,
"Public incidents"): the draft the alerter wrote, when it publishes by itself, and the one
click that publishes it with a person's words and impact; once published, where the public
sees it, the form that posts its updates, and once resolved its postmortem. The actions
themselves are here too, shared by the API (``web/status.py``) and the page's forms.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from fastapi import Request
from jinja2 import Template
from markupsafe import Markup
from sqlalchemy import select

from infradex.alerting.model import IncidentStatus
from infradex.catalog import Catalog
from infradex.clock import utcnow
from infradex.errors import UsageError
from infradex.statuspage.components import layout
from infradex.statuspage.derive import Status
from infradex.statuspage.incident_store import add_update, publish, write_postmortem
from infradex.statuspage.incidents import IMPACTS, UPDATE_STATUSES
from infradex.statuspage.paths import incident_key, incident_path
from infradex.statuspage.subscriber_notices import Announce, notify_subscribers
from infradex.store.audit import audit
from infradex.store.tables import public_incident_updates, public_incidents
from infradex.web.sessions import Session
from infradex.web.subscriptions import subscriber_links

__all__ = [
    "auto_publish_at",
    "post_update",
    "postmortem_from_page",
    "public_section",
    "publish_draft",
    "publish_public",
    "save_postmortem",
    "update_from_page",
]

_SECTION = Template(
    """<section class="public-incident" aria-labelledby="public">
<h2 id="public">Status page</h2>
{% if published_at %}
<p>On the public status page since {{ published_at }} ({{ status }}):
<a href="{{ public_url }}">{{ name }}</a>.</p>
{% if csrf and steps %}
<form method="post" action="{{ id }}/public-update" class="publish public-update">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <h3>Post an update</h3>
  <label for="update-status">Step</label>
  <select id="update-status" name="status">
  {% for step in steps %}<option value="{{ step }}"
    {%- if step == next_step %} selected{% endif %}>{{ step }}</option>
  {% endfor %}</select>
  <label for="update-body">Update for the public</label>
  <textarea id="update-body" name="body" rows="4" maxlength="10000" required></textarea>
  {% if components %}<fieldset class="component-states">
  <legend>Components in this update</legend>
  {% for c in components %}<label for="state-{{ loop.index }}">{{ c.name }}</label>
  <select id="state-{{ loop.index }}" name="state:{{ c.ref }}">
  {% for s in states %}<option value="{{ s }}"
    {%- if s == c.state %} selected{% endif %}>{{ s }}</option>
  {% endfor %}</select>
  {% endfor %}</fieldset>{% endif %}
  <button class="big primary">Post the update</button>
</form>
{% endif %}
{% if csrf and postmortem_allowed %}
<form method="post" action="{{ id }}/postmortem" class="publish postmortem">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <h3>Postmortem</h3>
  {% if postmortem_published %}<p>Published {{ postmortem_published }}; saving changes the
  public words (subscribers are not told again).</p>
  {% elif postmortem_saved %}<p>Saved {{ postmortem_saved }}, not public yet.</p>{% endif %}
  <label for="postmortem-body">What happened, and what changes (plain text)</label>
  <textarea id="postmortem-body" name="body" rows="8" maxlength="50000" required>
  {{- postmortem }}</textarea>
  <button name="action" value="save">Save the postmortem</button>
  {% if not postmortem_published %}
  <button class="big primary" name="action" value="publish">Publish the postmortem</button>
  {% endif %}
</form>
{% endif %}
{% if not csrf %}<p>Sign in to post updates.</p>{% endif %}
{% else %}
<p>A draft, not public yet: <strong>{{ name }}</strong> ({{ impact }} impact).
{% if due %}It is published by itself at {{ due }} unless someone acknowledges the incident
first.{% else %}Nobody sees it until someone publishes it.{% endif %}</p>
{% if csrf %}
<form method="post" action="{{ id }}/publish" class="publish">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <label for="public-name">Public title</label>
  <input id="public-name" name="name" value="{{ name }}" maxlength="200" required>
  <label for="public-impact">Impact</label>
  <select id="public-impact" name="impact">
  {% for i in impacts %}<option value="{{ i }}"
    {%- if i == impact %} selected{% endif %}>{{ i }}</option>
  {% endfor %}</select>
  <label for="public-body">What people can expect</label>
  <textarea id="public-body" name="body" rows="4" maxlength="10000" required>{{ body }}</textarea>
  <button class="big primary">Publish on the status page</button>
</form>
{% else %}<p>Sign in to publish it.</p>{% endif %}
{% endif %}
</section>""",
    autoescape=True,
)


def auto_publish_at(
    catalog: Catalog, components: list[str], created_at: datetime, status: str
) -> datetime | None:
    """When the alerter publishes a draft on ``components`` by itself: the shortest
    ``autoPublishAfter`` of its public components after the draft was written, while the
    incident is open (acknowledged: never)."""
    if status != IncidentStatus.OPEN:
        return None
    wanted = set(components)
    delays: list[timedelta] = [
        c.auto_publish_after
        for c in layout(catalog).components
        if str(c.ref) in wanted and c.public and c.auto_publish_after is not None
    ]
    return created_at + min(delays) if delays else None


async def _public_row(request: Request, incident_id: int) -> tuple[Any, str] | None:
    """The public incident of internal incident ``incident_id`` and its first words."""
    async with request.app.state.db.begin() as connection:
        row = (
            await connection.execute(
                select(public_incidents)
                .where(public_incidents.c.incident_id == incident_id)
                .order_by(public_incidents.c.id.desc())
                .limit(1)
            )
        ).first()
        if row is None:
            return None
        body = (
            await connection.execute(
                select(public_incident_updates.c.body)
                .where(public_incident_updates.c.public_incident_id == row.id)
                .order_by(public_incident_updates.c.id)
                .limit(1)
            )
        ).scalar_one_or_none()
    return row, body or ""


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


async def public_section(
    request: Request, incident_id: int, status: str, session: Session
) -> Markup:
    """The section (empty when the incident reaches no public component)."""
    found = await _public_row(request, incident_id)
    if found is None:
        return Markup("")
    row, body = found
    catalog = request.app.state.catalog.catalog
    due = None
    if row.published_at is None:
        due = auto_publish_at(catalog, list(row.components), row.created_at, status)
    page, _, _, _ = await request.app.state.status_board.page_state()
    derived = {str(c.component.ref): c for c in page.components}
    components = [
        {"ref": ref, "name": derived[ref].component.name, "state": str(derived[ref].status)}
        for ref in row.components
        if ref in derived
    ]
    steps: tuple[str, ...] = ()
    if row.status in UPDATE_STATUSES:
        steps = UPDATE_STATUSES[UPDATE_STATUSES.index(row.status) :]
    next_step = steps[1] if len(steps) > 1 else (steps[0] if steps else None)
    return Markup(
        _SECTION.render(
            id=incident_id,
            name=row.name,
            impact=row.impact,
            impacts=IMPACTS,
            body=body,
            status=row.status,
            published_at=_when(row.published_at) if row.published_at else None,
            public_url="../" + incident_path(incident_key(row.id)).lstrip("/"),
            due=_when(due) if due else None,
            csrf=session.csrf if session.user else None,
            steps=steps,
            next_step=next_step,
            components=components,
            states=[str(s) for s in Status],
            postmortem_allowed=row.status in ("resolved", "postmortem"),
            postmortem=row.postmortem_body or "",
            postmortem_saved=_when(row.postmortem_updated_at)
            if row.postmortem_updated_at
            else None,
            postmortem_published=_when(row.postmortem_published_at)
            if row.postmortem_published_at
            else None,
        )
    )


# ----------------------------------------------------------------------------- the actions
# One code path for each: the API (a write token) and the incident page's forms (signed in,
# with CSRF) both call these, so subscribers, the audit log and the dispatcher are told the
# same way whichever a person used.
def _announce(request: Request) -> Announce:
    """Tell the subscribers, in the transaction that publishes (docs/status-page.md)."""
    return functools.partial(notify_subscribers, links=subscriber_links(request))


def _remote(request: Request) -> str | None:
    return request.client.host if request.client else None


def _wake_dispatcher(request: Request) -> None:
    alerter = getattr(request.app.state, "alerter", None)
    if alerter is not None:
        alerter.wake()  # the dispatcher sends the subscribers' notices now


async def publish_public(
    request: Request,
    public_id: int,
    *,
    name: str | None,
    body: str | None,
    impact: str | None,
    actor: str,
) -> datetime:
    """Publish public incident ``public_id`` (a draft) with these words and impact, telling
    the subscribers in the same transaction; audited. When it was published."""
    db = request.app.state.db
    now = utcnow()
    page, _, _, _ = await request.app.state.status_board.page_state()
    await publish(db, public_id, name=name, body=body, by=actor, at=now, impact=impact,
                  states=page.components, announce=_announce(request))  # fmt: skip
    await audit(db, at=now, actor=actor, action="status.incident.publish",
                target=str(public_id), detail={"impact": impact} if impact else None,
                remote_addr=_remote(request))  # fmt: skip
    _wake_dispatcher(request)
    return now


async def post_update(
    request: Request,
    public_id: int,
    *,
    status: str,
    body: str,
    component_states: Mapping[str, str] | None,
    actor: str,
) -> None:
    """A published incident's next update (step, words, and the states a person gives its
    components; the others as derived now), telling the subscribers; audited."""
    db = request.app.state.db
    now = utcnow()
    page, _, _, _ = await request.app.state.status_board.page_state()
    await add_update(db, public_id, status=status, body=body, states=page.components,
                     by=actor, at=now, announce=_announce(request),
                     component_states=component_states)  # fmt: skip
    detail: dict[str, Any] = {"status": status}
    if component_states:
        detail["components"] = dict(component_states)
    await audit(db, at=now, actor=actor, action="status.incident.update",
                target=str(public_id), detail=detail, remote_addr=_remote(request))  # fmt: skip
    _wake_dispatcher(request)


async def save_postmortem(
    request: Request, public_id: int, *, body: str, publish_it: bool, actor: str
) -> bool:
    """Write a resolved incident's postmortem, and publish it (telling the subscribers,
    once); audited. Whether this call published it."""
    db = request.app.state.db
    now = utcnow()
    page, _, _, _ = await request.app.state.status_board.page_state()
    published = await write_postmortem(db, public_id, body=body, publish=publish_it, by=actor,
                                       at=now, states=page.components,
                                       announce=_announce(request))  # fmt: skip
    action = "status.incident.postmortem" + (".publish" if published else "")
    await audit(db, at=now, actor=actor, action=action, target=str(public_id),
                remote_addr=_remote(request))  # fmt: skip
    if published:
        _wake_dispatcher(request)
    return published


async def _public_id(request: Request, incident_id: int) -> int:
    found = await _public_row(request, incident_id)
    if found is None:
        raise UsageError("this incident has no public incident: it reaches no public component")
    return int(found[0].id)


async def publish_draft(
    request: Request, incident_id: int, *, name: str, body: str, impact: str | None, actor: str
) -> None:
    """The incident page's publish: internal incident ``incident_id``'s draft."""
    public_id = await _public_id(request, incident_id)
    await publish_public(request, public_id, name=name, body=body, impact=impact, actor=actor)


async def update_from_page(
    request: Request,
    incident_id: int,
    *,
    status: str,
    body: str,
    component_states: Mapping[str, str],
    actor: str,
) -> None:
    """The incident page's update form: internal incident ``incident_id``'s public one."""
    public_id = await _public_id(request, incident_id)
    await post_update(request, public_id, status=status, body=body,
                      component_states=component_states, actor=actor)  # fmt: skip


async def postmortem_from_page(
    request: Request, incident_id: int, *, body: str, publish_it: bool, actor: str
) -> None:
    """The incident page's postmortem form."""
    public_id = await _public_id(request, incident_id)
    await save_postmortem(request, public_id, body=body, publish_it=publish_it, actor=actor)
