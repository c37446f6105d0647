"""The internal incident page's part about the public status page (docs/status-page.md,
"Public incidents"): the draft the alerter wrote, when it publishes by itself, and the one
click that publishes it with a person's words; once published, where the public sees it.
"""

from __future__ import annotations

import functools
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
from infradex.statuspage.incident_store import publish
from infradex.statuspage.paths import incident_key, incident_path
from infradex.statuspage.subscriber_notices import notify_subscribers
from infradex.store.audit import audit
from infradex.store.tables import public_incident_updates, public_incidents
from infradex.web.sessions import Session
from infradex.web.subscriptions import subscriber_links

__all__ = ["auto_publish_at", "public_section", "publish_draft"]

_SECTION = Template(
    """<section class="public-incident" aria-labelledby="public">
<h2 id="public">Status page</h2>
{% if published_at %}
<p>On the public status page since {{ published_at }} ({{ status }}):
<a href="{{ public_url }}">{{ name }}</a>.</p>
{% else %}
<p>A draft, not public yet: <strong>{{ name }}</strong> ({{ impact }} impact).
{% if due %}It is published by itself at {{ due }} unless someone acknowledges the incident
first.{% else %}Nobody sees it until someone publishes it.{% endif %}</p>
{% if csrf %}
<form method="post" action="{{ id }}/publish" class="publish">
  <input type="hidden" name="csrf" value="{{ csrf }}">
  <label for="public-name">Public title</label>
  <input id="public-name" name="name" value="{{ name }}" maxlength="200" required>
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
    return Markup(
        _SECTION.render(
            id=incident_id,
            name=row.name,
            impact=row.impact,
            body=body,
            status=row.status,
            published_at=_when(row.published_at) if row.published_at else None,
            public_url="../" + incident_path(incident_key(row.id)).lstrip("/"),
            due=_when(due) if due else None,
            csrf=session.csrf if session.user else None,
        )
    )


async def publish_draft(
    request: Request, incident_id: int, *, name: str, body: str, actor: str
) -> None:
    """Publish the draft of internal incident ``incident_id`` with these words, telling the
    subscribers in the same transaction; audited like the API's publish."""
    found = await _public_row(request, incident_id)
    if found is None:
        raise UsageError("this incident has no public draft: it reaches no public component")
    row, _ = found
    db = request.app.state.db
    now = utcnow()
    page, _, _, _ = await request.app.state.status_board.page_state()
    announce = functools.partial(notify_subscribers, links=subscriber_links(request))
    await publish(db, row.id, name=name, body=body, by=actor, at=now,
                  states=page.components, announce=announce)  # fmt: skip
    await audit(db, at=now, actor=actor, action="status.incident.publish", target=str(row.id),
                remote_addr=request.client.host if request.client else None)  # fmt: skip
    alerter = getattr(request.app.state, "alerter", None)
    if alerter is not None:
        alerter.wake()  # the dispatcher sends the subscribers' notices now
