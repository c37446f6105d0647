"""Incidents in the store: load the open ones, save what the correlator changed, and the
actions people take (acknowledge, resolve, snooze, note) from the web, the API, the CLI or a
one-click link. Each action is one transaction with its timeline event."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.alerting import incident_store
from infradex.alerting.incidents import Incident, Member
from infradex.alerting.messages import IncidentView
from infradex.alerting.model import EventKind, IncidentStatus, NoticeStatus
from infradex.alerting.read_models import (
    AlertingCounts,
    EntityIncident,
    IncidentDetail,
    IncidentListItem,
    LinkAction,
    MemberRecord,
    NotificationRecord,
    TimelineEvent,
)
from infradex.errors import NotFoundError, UsageError
from infradex.store.db import Database
from infradex.store.tables import (
    action_links,
    incident_events,
    incident_members,
    incidents,
    notifications,
)

__all__ = [
    "ACTIONS",
    "LINK_LIFETIME",
    "act",
    "add_event",
    "alerting_counts",
    "create_link",
    "incident_detail",
    "incident_view",
    "last_event_kind",
    "list_incidents",
    "load_for_correlation",
    "open_incidents_of",
    "prune",
    "save",
    "use_link",
]

ACTIONS = ("acknowledge", "resolve", "snooze", "note", "unacknowledge")
LINK_LIFETIME = timedelta(hours=24)


# ----------------------------------------------------------------------------- correlation
async def load_for_correlation(db: Database, now: datetime, reopen: timedelta) -> list[Incident]:
    """The open incidents with their members, and the ones resolved within ``reopen``."""
    async with db.begin() as connection:
        rows = (
            await connection.execute(
                select(incidents).where(
                    or_(
                        incidents.c.status != IncidentStatus.RESOLVED,
                        incidents.c.resolved_at >= now - reopen,
                    )
                )
            )
        ).all()
        found = {row.id: _incident(row) for row in rows}
        if found:
            members = await connection.execute(
                select(incident_members).where(incident_members.c.incident_id.in_(list(found)))
            )
            for m in members:
                found[m.incident_id].members[m.check_id] = Member(
                    m.check_id, m.entity_ref, m.role, m.down_at, m.up_at, m.message or "",
                    saved=True, dirty=False,
                )  # fmt: skip
    return list(found.values())


def _incident(row: Any) -> Incident:
    return Incident(
        key=row.key,
        title=row.title,
        opened_at=row.opened_at,
        status=IncidentStatus(row.status),
        id=row.id,
        resolved_at=row.resolved_at,
    )


async def save(
    connection: AsyncConnection,
    incident: Incident,
    now: datetime,
    policy: dict[str, Any] | None = None,
) -> int:
    """Write what the correlator changed on ``incident``; a new or reopened one starts its
    escalation now. A status change is written only if the store still agrees (people may
    have acknowledged or resolved it meanwhile): resolving needs it unresolved, reopening
    needs it resolved. Only changed members are written. Returns its id."""
    if incident.id is None:
        incident.id = await incident_store.insert_opened(connection, incident, now, policy)
    elif incident.transition == "resolved":
        await incident_store.resolve(connection, incident.id, incident.resolved_at, now)
    elif incident.transition == "reopened":
        await incident_store.reopen(connection, incident.id, now, policy)
    incident.transition = None
    for member in incident.members.values():
        if not member.saved:
            await connection.execute(
                insert(incident_members).values(
                    incident_id=incident.id,
                    check_id=member.check_id,
                    entity_ref=member.entity,
                    role=member.role,
                    down_at=member.down_at,
                    up_at=member.up_at,
                    message=member.message[:2000],
                )
            )
        elif member.dirty:
            await connection.execute(
                update(incident_members)
                .where(
                    incident_members.c.incident_id == incident.id,
                    incident_members.c.check_id == member.check_id,
                )
                .values(
                    up_at=member.up_at,
                    down_at=member.down_at,
                    role=member.role,
                    message=member.message[:2000],
                )
            )
        member.saved, member.dirty = True, False
    if incident.events:
        await connection.execute(
            insert(incident_events),
            [
                {
                    "incident_id": incident.id,
                    "at": e.at,
                    "kind": e.kind,
                    "actor": e.actor,
                    "data": e.data,
                }
                for e in incident.events
            ],
        )
        incident.events = []
    return incident.id


async def add_event(
    connection: AsyncConnection,
    incident_id: int,
    at: datetime,
    kind: EventKind,
    data: dict[str, Any],
    actor: str | None = None,
) -> None:
    await connection.execute(
        insert(incident_events).values(
            incident_id=incident_id, at=at, kind=kind, data=data, actor=actor
        )
    )


# ----------------------------------------------------------------------------- people's actions
async def act(
    db: Database,
    incident_id: int,
    action: str,
    actor: str,
    now: datetime,
    *,
    note: str | None = None,
    snooze: timedelta | None = None,
) -> IncidentDetail:
    """Acknowledge, resolve, snooze, un-acknowledge or add a note. Returns the incident.
    Acknowledging stops the escalation; a snooze acknowledges until a time, then the
    escalation starts over; resolving by hand keeps the still-failing checks quiet until they
    recover and fail again."""
    if action not in ACTIONS:
        raise UsageError(f"{action!r} is not an action; use one of {', '.join(ACTIONS)}")
    async with db.begin(writes=True) as connection:
        row = (
            await connection.execute(select(incidents).where(incidents.c.id == incident_id))
        ).one_or_none()
        if row is None:
            raise NotFoundError(f"there is no incident #{incident_id}; `infradex incidents list`")
        await _apply(connection, row, action, actor, now, note, snooze)
        rows = await _detail_rows(connection, incident_id)
    return _detail(rows)


async def _apply(
    connection: AsyncConnection,
    row: Any,
    action: str,
    actor: str,
    now: datetime,
    note: str | None,
    snooze: timedelta | None,
) -> None:
    if action == "note":
        if not note or not note.strip():
            raise UsageError("a note needs text")
        await add_event(
            connection, row.id, now, EventKind.NOTE, {"text": note.strip()[:5000]}, actor
        )
        return
    if row.status == IncidentStatus.RESOLVED:
        raise UsageError(f"incident #{row.id} is already resolved; nothing to {action}")
    if action == "acknowledge":
        if row.status == IncidentStatus.ACKNOWLEDGED and row.snoozed_until is None:
            raise UsageError(
                f"incident #{row.id} was already acknowledged by {row.acknowledged_by}"
            )
        values: dict[str, Any] = {
            "status": IncidentStatus.ACKNOWLEDGED,
            "acknowledged_at": now,
            "acknowledged_by": actor,
            "snoozed_until": None,
            "escalation_at": None,
        }
        data: dict[str, Any] = {}
    elif action == "unacknowledge":
        if row.status != IncidentStatus.ACKNOWLEDGED:
            raise UsageError(f"incident #{row.id} is not acknowledged")
        values = {
            "status": IncidentStatus.OPEN,
            "acknowledged_at": None,
            "acknowledged_by": None,
            "snoozed_until": None,
            "escalation_step": 0,
            "escalation_started_at": now,
            "escalation_at": now,
        }
        data = {}
    elif action == "snooze":
        if snooze is None or snooze <= timedelta(0) or snooze > timedelta(days=7):
            raise UsageError("snooze for a duration between 1m and 7d, e.g. 30m or 4h")
        until = now + snooze
        values = {
            "status": IncidentStatus.ACKNOWLEDGED,
            "acknowledged_at": now,
            "acknowledged_by": actor,
            "snoozed_until": until,
            "escalation_at": until,
        }
        data = {"until": until.isoformat()}
    else:  # resolve
        values = {"status": IncidentStatus.RESOLVED, "resolved_at": now, "escalation_at": None}
        data = {"by": "hand"}
        await connection.execute(
            update(incident_members)
            .where(incident_members.c.incident_id == row.id, incident_members.c.up_at.is_(None))
            .values(up_at=now)
        )
    if note:
        data["note"] = note.strip()[:5000]
    status = values.pop("status")
    await incident_store.act(connection, row.id, row.status, status, values, now)
    kind = {
        "acknowledge": EventKind.ACKNOWLEDGED,
        "resolve": EventKind.RESOLVED,
        "snooze": EventKind.SNOOZED,
    }.get(action, EventKind.UNACKNOWLEDGED)
    await add_event(connection, row.id, now, kind, data, actor)


# ----------------------------------------------------------------------------- one-click links
def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_link(
    connection: AsyncConnection,
    incident_id: int,
    action: str,
    recipient: str,
    now: datetime,
    lifetime: timedelta = LINK_LIFETIME,
) -> str:
    """A secret for one action on one incident by one recipient: single use, expiring.
    Only its hash is stored."""
    token = secrets.token_urlsafe(24)
    await connection.execute(
        insert(action_links).values(
            token_hash=_hash(token),
            incident_id=incident_id,
            action=action,
            recipient=recipient,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


async def peek_link(db: Database, token: str, now: datetime) -> LinkAction:
    """What a link would do (the confirmation page shows it before anything happens)."""
    async with db.begin() as connection:
        link = await _live_link(connection, token, now)
        rows = await _detail_rows(connection, link.incident_id)
    return LinkAction(link.action, link.recipient, _detail(rows))


async def _live_link(connection: AsyncConnection, token: str, now: datetime) -> Any:
    link = (
        await connection.execute(
            select(action_links).where(action_links.c.token_hash == _hash(token))
        )
    ).one_or_none()
    if link is None:
        raise NotFoundError("this link is not known; open the incident from its page instead")
    if link.used_at is not None:
        raise UsageError(
            f"this link was already used ({link.used_at:%Y-%m-%d %H:%M} UTC); links work once"
        )
    if link.expires_at <= now:
        raise UsageError("this link has expired; sign in and act on the incident's page")
    return link


async def use_link(db: Database, token: str, now: datetime) -> LinkAction:
    """Do what the link says, once: the link is marked used in the same transaction (two
    clicks at once: the second finds it used)."""
    async with db.begin(writes=True) as connection:
        link = await _live_link(connection, token, now)
        claimed = await connection.execute(
            update(action_links)
            .where(action_links.c.token_hash == link.token_hash, action_links.c.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:
            raise UsageError("this link was just used; links work once")
        row = (
            await connection.execute(select(incidents).where(incidents.c.id == link.incident_id))
        ).one()
        actor = f"{link.recipient} (link)"
        await _apply(connection, row, link.action, actor, now, None, None)
        rows = await _detail_rows(connection, link.incident_id)
    return LinkAction(link.action, link.recipient, _detail(rows))


# ----------------------------------------------------------------------------- reading
def _incident_fields(row: Any) -> dict[str, Any]:
    """An incident row's fields, as :class:`IncidentSummary` names them."""
    return {
        "id": row.id,
        "key": row.key,
        "title": row.title,
        "status": row.status,
        "root": row.root_ref,
        "opened_at": row.opened_at,
        "acknowledged_at": row.acknowledged_at,
        "acknowledged_by": row.acknowledged_by,
        "resolved_at": row.resolved_at,
        "snoozed_until": row.snoozed_until,
        "policy": (row.policy or {}).get("ref"),
        **routing_of(row.policy),
        "next_escalation_at": row.escalation_at,
    }


async def list_incidents(
    db: Database, status: str | None = None, limit: int = 50, offset: int = 0
) -> tuple[list[IncidentListItem], int]:
    """Newest first, with the number of impacted entities; ``status`` ``open`` means open or
    acknowledged (not resolved)."""
    condition: ColumnElement[bool] = (
        incidents.c.status != IncidentStatus.RESOLVED
        if status == IncidentStatus.OPEN
        else incidents.c.status == status
        if status
        else true()
    )
    impacted = (
        select(func.count(func.distinct(incident_members.c.entity_ref)))
        .where(
            incident_members.c.incident_id == incidents.c.id,
            incident_members.c.role == "impacted",
        )
        .scalar_subquery()
    )
    async with db.begin() as connection:
        total = (
            await connection.execute(select(func.count()).select_from(incidents).where(condition))
        ).scalar_one()
        rows = (
            await connection.execute(
                select(incidents, impacted.label("impacted"))
                .where(condition)
                .order_by(incidents.c.id.desc())
                .limit(limit)
                .offset(offset)
            )
        ).all()
    items = [IncidentListItem(**_incident_fields(r), impacted_count=r.impacted) for r in rows]
    return items, int(total)


async def _members(connection: AsyncConnection, incident_id: int) -> list[Any]:
    return list(
        (
            await connection.execute(
                select(incident_members)
                .where(incident_members.c.incident_id == incident_id)
                .order_by(incident_members.c.down_at, incident_members.c.id)
            )
        ).all()
    )


async def incident_view(
    connection: AsyncConnection, incident_id: int, row: Any = None
) -> IncidentView:
    """What messages say about the incident (``row``: its row, if already read): the root's
    checks failing now (or, once all recovered, all of them) and the impacted entities still
    failing."""
    if row is None:
        row = (
            await connection.execute(select(incidents).where(incidents.c.id == incident_id))
        ).one()
    members = await _members(connection, incident_id)
    roots = [m for m in members if m.role == "root"]
    failing = [m for m in roots if m.up_at is None] or roots
    down = sorted({m.entity_ref for m in members if m.role == "impacted" and m.up_at is None})
    return IncidentView(
        id=row.id,
        key=row.key,
        title=row.title,
        status=row.status,
        opened_at=row.opened_at,
        failing=[(m.check_id, m.message or "") for m in failing],
        down_entities=down,
        resolved_at=row.resolved_at,
        acknowledged_by=row.acknowledged_by,
    )


async def last_event_kind(connection: AsyncConnection, incident_id: int) -> str | None:
    kind = (
        await connection.execute(
            select(incident_events.c.kind)
            .where(incident_events.c.incident_id == incident_id)
            .order_by(incident_events.c.id.desc())
            .limit(1)
        )
    ).scalar()
    return str(kind) if kind is not None else None


async def incident_detail(db: Database, incident_id: int) -> IncidentDetail:
    async with db.begin() as connection:
        rows = await _detail_rows(connection, incident_id)
    return _detail(rows)


async def _detail_rows(connection: AsyncConnection, incident_id: int) -> tuple[Any, ...]:
    """The incident's row, members, events and messages (read in the caller's transaction;
    :func:`_detail` makes the model once it has committed, so no lock waits on pydantic)."""
    row = (
        await connection.execute(select(incidents).where(incidents.c.id == incident_id))
    ).one_or_none()
    if row is None:
        raise NotFoundError(f"there is no incident #{incident_id}; `infradex incidents list`")
    members = await _members(connection, incident_id)
    events = (
        await connection.execute(
            select(incident_events)
            .where(incident_events.c.incident_id == incident_id)
            .order_by(incident_events.c.at, incident_events.c.id)
        )
    ).all()
    sent = (
        await connection.execute(
            select(notifications)
            .where(notifications.c.incident_id == incident_id)
            .order_by(notifications.c.id)
        )
    ).all()
    return row, members, events, sent


def _detail(rows: tuple[Any, ...]) -> IncidentDetail:
    row, members, events, sent = rows
    return IncidentDetail(
        **_incident_fields(row),
        members=[
            MemberRecord(
                check=m.check_id,
                entity=m.entity_ref,
                role=m.role,
                down_at=m.down_at,
                up_at=m.up_at,
                message=m.message,
            )
            for m in members
        ],
        timeline=[
            TimelineEvent(at=e.at, kind=e.kind, actor=e.actor, data=e.data or {}) for e in events
        ],
        notifications=[
            NotificationRecord(
                id=n.id,
                kind=n.kind,
                channel=n.channel,
                recipient=n.recipient,
                # webhook URLs and routing keys are secrets; addresses are in the catalog
                target=n.target if n.channel == "email" else None,
                status=n.status,
                attempts=n.attempts,
                last_error=n.last_error,
                sent_at=n.sent_at,
            )
            for n in sent
        ],
    )


async def notified_targets(
    connection: AsyncConnection, incident_id: int
) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(recipient, channel, target, options) of every page that reached (or may have
    reached: still being sent) its target, once each: whom a resolve must reach."""
    rows = await connection.execute(
        select(
            notifications.c.recipient,
            notifications.c.channel,
            notifications.c.target,
            notifications.c.payload,
        )
        .where(
            and_(
                notifications.c.incident_id == incident_id,
                notifications.c.kind == "trigger",
                notifications.c.status.in_((NoticeStatus.SENT, NoticeStatus.SENDING)),
            )
        )
        .order_by(notifications.c.id)
    )
    seen: set[tuple[str, str, str]] = set()
    out = []
    for r in rows:
        key = (r.recipient or "", r.channel, r.target)
        if key not in seen:
            seen.add(key)
            out.append((*key, (r.payload or {}).get("options", {})))
    return out


def routing_of(policy: dict[str, Any] | None) -> dict[str, Any]:
    """``unrouted``: the incident follows no policy step, nobody was paged; ``routing``: why
    it pages whom it pages (incidents from before routing was recorded have none)."""
    policy = policy or {}
    return {
        "unrouted": not policy.get("steps"),
        "routing": (policy.get("routing") or {}).get("reason"),
    }


async def alerting_counts(db: Database) -> AlertingCounts:
    """Incidents not resolved by status (and how many of them page nobody), and the outbox
    by status (for /metrics)."""
    async with db.begin() as connection:
        open_ = await connection.execute(
            select(incidents.c.status, func.count())
            .where(incidents.c.status != IncidentStatus.RESOLVED)
            .group_by(incidents.c.status)
        )
        counts = {str(status): int(n) for status, n in open_}
        policies = await connection.execute(
            select(incidents.c.policy).where(incidents.c.status != IncidentStatus.RESOLVED)
        )
        unrouted = sum(routing_of(p)["unrouted"] for (p,) in policies)
        queued = await connection.execute(
            select(notifications.c.status, func.count()).group_by(notifications.c.status)
        )
        return AlertingCounts(counts, unrouted, {status: int(n) for status, n in queued})


async def open_incidents_of(db: Database, entity: str) -> list[EntityIncident]:
    """The incidents not resolved in which ``entity`` has a failing check, as its root or
    impacted (an entity page shows them)."""
    async with db.begin() as connection:
        rows = await connection.execute(
            select(
                incidents.c.id,
                incidents.c.title,
                incidents.c.status,
                incidents.c.key,
                func.min(incident_members.c.role).label("role"),
            )
            .join(incident_members, incident_members.c.incident_id == incidents.c.id)
            .where(
                incidents.c.status != IncidentStatus.RESOLVED,
                incident_members.c.entity_ref == entity,
                incident_members.c.up_at.is_(None),
            )
            .group_by(incidents.c.id, incidents.c.title, incidents.c.status, incidents.c.key)
            .order_by(incidents.c.id)
        )
        return [
            EntityIncident(id=r.id, title=r.title, status=r.status, root=r.key, role=r.role)
            for r in rows
        ]


KEEP_MESSAGES = timedelta(days=90)


async def prune(db: Database, now: datetime, keep: timedelta = KEEP_MESSAGES) -> dict[str, int]:
    """Forget what no one needs any more: delivered, cancelled and failed messages older than
    ``keep`` (the timeline still says who was told), and links that expired a week ago."""
    async with db.begin() as connection:
        messages = await connection.execute(
            delete(notifications).where(
                notifications.c.status.in_(
                    (NoticeStatus.SENT, NoticeStatus.CANCELLED, NoticeStatus.FAILED)
                ),
                notifications.c.created_at < now - keep,
            )
        )
        links = await connection.execute(
            delete(action_links).where(action_links.c.expires_at < now - timedelta(days=7))
        )
    return {"messages": int(messages.rowcount or 0), "links": int(links.rowcount or 0)}
