"""Public incidents as rows: drafts made from the internal incidents that reach public
components (by the alerter's turn: :mod:`infradex.statuspage.automatic`), published by a
person or by that turn, then updated until resolved (docs/status-page.md, "Public
incidents"). Publishing claims the draft with a conditional UPDATE, so two clicks publish it
once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.errors import NotFoundError, UsageError
from infradex.statuspage.derive import ComponentState
from infradex.statuspage.incidents import (
    Draft,
    Postmortem,
    PublicIncident,
    PublicUpdate,
    check_component_states,
    check_impact,
    check_postmortem,
    check_update,
)
from infradex.statuspage.subscriber_notices import Announce, incident_event
from infradex.store.db import Database
from infradex.store.tables import public_incident_updates, public_incidents

__all__ = [
    "DRAFTER",
    "add_update",
    "add_update_in",
    "detach_finished",
    "list_public",
    "postmortem_published",
    "publish",
    "publish_in",
    "published_signature",
    "refresh_draft",
    "write_draft",
    "write_postmortem",
]


def _names(states: Sequence[ComponentState]) -> dict[str, str]:
    return {str(s.component.ref): s.component.name for s in states}


#: who wrote a draft's first words
DRAFTER = "infradex"


async def write_draft(
    connection: AsyncConnection, incident_id: int, draft: Draft, at: datetime
) -> int:
    """A new draft for internal incident ``incident_id``, with its first update; its id."""
    result = await connection.execute(
        insert(public_incidents).values(
            incident_id=incident_id,
            name=draft.name,
            status="investigating",
            impact=draft.impact,
            components=list(draft.components),
            created_at=at,
            updated_at=at,
        )
    )
    key = result.inserted_primary_key
    assert key is not None
    await connection.execute(
        insert(public_incident_updates).values(
            public_incident_id=int(key[0]),
            status="investigating",
            body=draft.body,
            components=draft.components,
            created_at=at,
            created_by=DRAFTER,
        )
    )
    return int(key[0])


async def detach_finished(connection: AsyncConnection, incident_id: int) -> None:
    """An internal incident reopened after its public incident was resolved: the finished
    public incident lets go of it (it stays on the page as it was), so a new draft can take
    it (one public incident per internal incident at a time)."""
    await connection.execute(
        update(public_incidents)
        .where(
            and_(
                public_incidents.c.incident_id == incident_id,
                public_incidents.c.status.in_(("resolved", "postmortem")),
            )
        )
        .values(incident_id=None)
    )


async def refresh_draft(
    connection: AsyncConnection, row: Any, draft: Draft, first_body: str, at: datetime
) -> bool:
    """A draft (``row``, with its first update's words ``first_body``) brought to the
    incident as it stands now: a draft is the machine's until someone publishes it, and the
    claim on ``published_at`` being null keeps a publication that won the race. Whether it
    changed."""
    if (row.name, row.impact, list(row.components), first_body) == (
        draft.name,
        draft.impact,
        list(draft.components),
        draft.body,
    ):
        return False
    claimed = await connection.execute(
        update(public_incidents)
        .where(and_(public_incidents.c.id == row.id, public_incidents.c.published_at.is_(None)))
        .values(
            name=draft.name, impact=draft.impact, components=list(draft.components), updated_at=at
        )
    )
    if claimed.rowcount != 1:
        return False
    first = (
        await connection.execute(
            select(public_incident_updates.c.id)
            .where(public_incident_updates.c.public_incident_id == row.id)
            .order_by(public_incident_updates.c.id)
            .limit(1)
        )
    ).scalar_one()
    await connection.execute(
        update(public_incident_updates)
        .where(public_incident_updates.c.id == first)
        .values(body=draft.body, components=draft.components)
    )
    return True


def _incident(row: Any, updates: list[PublicUpdate]) -> PublicIncident:
    postmortem = None
    if row.postmortem_body is not None:
        postmortem = Postmortem(
            body=row.postmortem_body,
            updated_at=row.postmortem_updated_at,
            published_at=row.postmortem_published_at,
            by=row.postmortem_by,
        )
    return PublicIncident(
        id=row.id,
        name=row.name,
        status=row.status,
        impact=row.impact,
        components=tuple(row.components),
        created_at=row.created_at,
        updated_at=row.updated_at,
        published_at=row.published_at,
        monitoring_at=row.monitoring_at,
        resolved_at=row.resolved_at,
        updates=tuple(updates),
        postmortem=postmortem,
    )


async def published_signature(connection: AsyncConnection) -> tuple[object, ...]:
    """Changes whenever what :func:`list_public` returns for the public could: a new
    publication, a new update, an edit (each moves ``updated_at`` or adds an update row).
    Two small reads, so a reader of every published incident can skip the big one."""
    published = public_incidents.c.published_at.is_not(None)
    incidents_now = (
        await connection.execute(
            select(func.count(), func.max(public_incidents.c.updated_at)).where(published)
        )
    ).one()
    newest_update = (
        await connection.execute(select(func.max(public_incident_updates.c.id)))
    ).scalar_one_or_none()
    return (*incidents_now, newest_update)


async def list_public(
    connection: AsyncConnection, *, published_only: bool, limit: int | None = 50
) -> list[PublicIncident]:
    """Newest first, with their updates: the published ones (the public), or drafts too;
    ``limit`` None: all of them."""
    query = select(public_incidents).order_by(public_incidents.c.id.desc()).limit(limit)
    if published_only:
        query = query.where(public_incidents.c.published_at.is_not(None))
    rows = (await connection.execute(query)).all()
    if not rows:
        return []
    found = await connection.execute(
        select(public_incident_updates)
        .where(public_incident_updates.c.public_incident_id.in_([r.id for r in rows]))
        .order_by(public_incident_updates.c.id)
    )
    by_incident: dict[int, list[PublicUpdate]] = {}
    for u in found:
        by_incident.setdefault(u.public_incident_id, []).append(
            PublicUpdate(u.id, u.status, u.body, dict(u.components), u.created_at)
        )
    return [_incident(r, by_incident.get(r.id, [])) for r in rows]


async def _row(connection: AsyncConnection, incident_id: int) -> Any:
    row = (
        await connection.execute(
            select(public_incidents).where(public_incidents.c.id == incident_id)
        )
    ).first()
    if row is None:
        raise NotFoundError(
            f"no public incident {incident_id}; list them at /api/v1/status/incidents"
        )
    return row


async def publish(
    db: Database,
    incident_id: int,
    *,
    name: str | None,
    body: str | None,
    by: str,
    at: datetime,
    states: Sequence[ComponentState] = (),
    announce: Announce | None = None,
    impact: str | None = None,
) -> None:
    """Publish a draft, with the person's words for its name and first update, and their
    impact, if given; ``announce`` tells subscribers in the same transaction (``states``:
    the components' public names for the message)."""
    async with db.begin(writes=True) as connection:
        await publish_in(connection, incident_id, name=name, body=body, by=by, at=at,
                         states=states, announce=announce, impact=impact)  # fmt: skip


async def publish_in(
    connection: AsyncConnection,
    incident_id: int,
    *,
    name: str | None,
    body: str | None,
    by: str,
    at: datetime,
    states: Sequence[ComponentState] = (),
    announce: Announce | None = None,
    impact: str | None = None,
) -> None:
    """:func:`publish` in the caller's transaction (the alerter's turn publishes this way)."""
    if impact is not None:
        check_impact(impact)
    if name is not None and not name.strip():
        raise UsageError("the incident's name is empty; give a few words, or leave it out")
    if body is not None and not body.strip():
        raise UsageError("the update's words are empty; write them, or leave them out")
    row = await _row(connection, incident_id)
    values: dict[str, Any] = {"published_at": at, "published_by": by, "updated_at": at}
    if name is not None:
        values["name"] = name.strip()
    if impact is not None:
        values["impact"] = impact
    claimed = await connection.execute(
        update(public_incidents)
        .where(
            and_(
                public_incidents.c.id == incident_id,
                public_incidents.c.published_at.is_(None),
            )
        )
        .values(**values)
    )
    if claimed.rowcount != 1:
        raise UsageError(f"public incident {incident_id} is already published")
    first = (
        await connection.execute(
            select(public_incident_updates)
            .where(public_incident_updates.c.public_incident_id == incident_id)
            .order_by(public_incident_updates.c.id)
            .limit(1)
        )
    ).one()
    words = first.body
    if body is not None:
        words = body.strip()
        await connection.execute(
            update(public_incident_updates)
            .where(public_incident_updates.c.id == first.id)
            .values(body=words, created_by=by, created_at=at)
        )
    if announce is not None:
        event = incident_event(
            incident_id=incident_id, update_id=first.id, name=values.get("name", row.name),
            status=first.status, body=words, component_refs=row.components, first=True,
            at=at, names=_names(states),
        )  # fmt: skip
        await announce(connection, event)


async def add_update(
    db: Database,
    incident_id: int,
    *,
    status: str,
    body: str,
    states: Sequence[ComponentState],
    by: str,
    at: datetime,
    announce: Announce | None = None,
    component_states: Mapping[str, str] | None = None,
) -> None:
    """A published incident's next update, with its components' states: as derived now,
    but for those a person gives (``component_states``, ref → state: each one of the
    incident's components); ``announce`` tells subscribers in the same transaction."""
    async with db.begin(writes=True) as connection:
        await add_update_in(connection, incident_id, status=status, body=body, states=states,
                            by=by, at=at, announce=announce,
                            component_states=component_states)  # fmt: skip


async def add_update_in(
    connection: AsyncConnection,
    incident_id: int,
    *,
    status: str,
    body: str,
    states: Sequence[ComponentState],
    by: str,
    at: datetime,
    announce: Announce | None = None,
    component_states: Mapping[str, str] | None = None,
) -> None:
    """:func:`add_update` in the caller's transaction (the alerter's turn resolves this
    way)."""
    row = await _row(connection, incident_id)
    if row.published_at is None:
        raise UsageError(f"public incident {incident_id} is a draft: publish it first")
    check_update(row.status, status, body)
    given = check_component_states(list(row.components), component_states or {}, _names(states))
    now_states = {
        str(s.component.ref): str(s.status)
        for s in states
        if str(s.component.ref) in row.components
    }
    now_states.update(given)
    added = await connection.execute(
        insert(public_incident_updates).values(
            public_incident_id=incident_id,
            status=status,
            body=body.strip(),
            components=now_states,
            created_at=at,
            created_by=by,
        )
    )
    values: dict[str, Any] = {"status": status, "updated_at": at}
    if status == "monitoring" and row.monitoring_at is None:
        values["monitoring_at"] = at
    if status == "resolved":
        values["resolved_at"] = at
    await connection.execute(
        update(public_incidents).where(public_incidents.c.id == incident_id).values(**values)
    )
    if announce is not None:
        key = added.inserted_primary_key
        assert key is not None
        event = incident_event(
            incident_id=incident_id, update_id=int(key[0]), name=row.name, status=status,
            body=body.strip(), component_refs=row.components, first=False, at=at,
            names=_names(states),
        )  # fmt: skip
        await announce(connection, event)


async def write_postmortem(
    db: Database,
    incident_id: int,
    *,
    body: str,
    publish: bool,
    by: str,
    at: datetime,
    states: Sequence[ComponentState] = (),
    announce: Announce | None = None,
) -> bool:
    """Write (or rewrite) a resolved incident's postmortem; ``publish`` makes it public, and
    the first publication moves the incident to ``postmortem`` and tells subscribers, in the
    same transaction (once: a later edit changes the public words quietly). Whether this
    call published it."""
    async with db.begin(writes=True) as connection:
        row = await _row(connection, incident_id)
        check_postmortem(row.status, row.published_at is not None, body)
        words = body.strip()
        values: dict[str, Any] = {
            "postmortem_body": words,
            "postmortem_updated_at": at,
            "postmortem_by": by,
            "updated_at": at,
        }
        first = publish and row.postmortem_published_at is None
        if first:
            values["postmortem_published_at"] = at
            values["status"] = "postmortem"
        claimed = await connection.execute(
            update(public_incidents)
            .where(
                and_(
                    public_incidents.c.id == incident_id,
                    # a publication racing this one: only one of them publishes
                    public_incidents.c.postmortem_published_at.is_(None)
                    if first
                    else public_incidents.c.id == incident_id,
                )
            )
            .values(**values)
        )
        if claimed.rowcount != 1:
            raise UsageError(f"the postmortem of public incident {incident_id} is already "
                             "published; save it to change its words")  # fmt: skip
        if first and announce is not None:
            event = incident_event(
                incident_id=incident_id, update_id="postmortem", name=row.name, status="postmortem",
                body=words, component_refs=row.components, first=False, at=at,
                names=_names(states),
            )  # fmt: skip
            await announce(connection, event)
    return first


async def postmortem_published(connection: AsyncConnection, incident_id: int) -> bool:
    """Whether public incident ``incident_id``'s postmortem is public."""
    row = await _row(connection, incident_id)
    return row.postmortem_published_at is not None
