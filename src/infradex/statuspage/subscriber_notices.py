"""Telling subscribers: one entry point, :func:`notify_subscribers`, called in the
transaction that publishes an incident, adds an update or moves a maintenance window, so the
event and its notices are stored together or not at all (docs/status-page.md,
"Subscribers").

Each confirmed subscriber whose components the event touches (or who chose none: all) gets
one outbox row, keyed ``subscriber:<id>:<event key>``: calling again for the same update
queues nothing (the outbox's unique key decides, on both engines, between servers too). The
dispatcher sends the rows with the server's other notifications: email through the email
channel, webhooks signed (``X-Infradex-Signature``) through the subscriber webhook channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.alerting import outbox
from infradex.statuspage.components import stable_id
from infradex.statuspage.subscriber_messages import (
    EVENT_KINDS,
    StatusEvent,
    SubscriberLinks,
    notice_message,
)
from infradex.statuspage.subscribers import SUBSCRIBER_WEBHOOK, dedup_prefix
from infradex.store.tables import subscribers

__all__ = [
    "EVENT_KINDS",
    "Announce",
    "StatusEvent",
    "incident_event",
    "maintenance_event",
    "notify_subscribers",
]

#: what the publishing code calls with its connection and the event (``notify_subscribers``
#: with the page's links bound)
Announce = Callable[[AsyncConnection, StatusEvent], Awaitable[int]]


def incident_event(
    *,
    incident_id: int,
    update_id: int | str,
    name: str,
    status: str,
    body: str,
    component_refs: Sequence[str],
    first: bool,
    at: datetime,
    names: Mapping[str, str] | None = None,
) -> StatusEvent:
    """The event of a public incident's update: ``first`` (its publication),
    ``resolved``, ``postmortem`` (its postmortem published: ``update_id`` "postmortem"), or
    any other update. ``names``: component ref → public name."""
    kind = (
        "incident.published"
        if first
        else "incident.resolved"
        if status == "resolved"
        else "incident.postmortem"
        if status == "postmortem"
        else "incident.updated"
    )
    return StatusEvent(
        kind=kind,
        subject_id=incident_id,
        update_id=str(update_id),
        component_ids=tuple(stable_id("component", ref) for ref in component_refs),
        title=name,
        body=body,
        status=status,
        at=at,
        component_names=tuple(names[r] for r in component_refs if r in names) if names else (),
    )


#: a maintenance window's step → its event kind and the status subscribers are told
MAINTENANCE_STEPS = {
    "scheduled": ("maintenance.scheduled", "scheduled"),
    "reminder": ("maintenance.reminder", "scheduled"),
    "in_progress": ("maintenance.started", "in_progress"),
    "completed": ("maintenance.completed", "completed"),
}


def maintenance_event(
    *,
    window_id: int,
    occurrence: str,
    step: str,
    name: str,
    body: str,
    component_ids: Sequence[str],
    at: datetime,
    component_names: Sequence[str] = (),
) -> StatusEvent:
    """The event of a public maintenance window's step (``scheduled``, ``in_progress`` or
    ``completed``) for one ``occurrence`` (its start, ISO 8601: a recurring window steps
    through each), for the maintenance lifecycle to pass to :func:`notify_subscribers` in
    the transaction that records the step."""
    if step not in MAINTENANCE_STEPS:
        raise ValueError(f"unknown maintenance step {step!r}; one of {tuple(MAINTENANCE_STEPS)}")
    kind, status = MAINTENANCE_STEPS[step]
    return StatusEvent(
        kind=kind,
        subject_id=window_id,
        update_id=f"{occurrence}:{step}",
        component_ids=tuple(component_ids),
        title=name,
        body=body,
        status=status,
        at=at,
        component_names=tuple(component_names),
    )


async def notify_subscribers(
    connection: AsyncConnection, event: StatusEvent, *, links: SubscriberLinks
) -> int:
    """Queue ``event`` for every confirmed subscriber it concerns, in ``connection``'s
    transaction; how many notices were queued now (0 when called again for the same
    event)."""
    rows = await connection.execute(
        select(subscribers)
        .where(subscribers.c.confirmed_at.is_not(None))
        .order_by(subscribers.c.id)
    )
    touched = set(event.component_ids)
    queued = 0
    for row in rows.all():
        chosen = set(row.components or ())
        if chosen and touched and not chosen & touched:
            continue
        message = notice_message(links, event, row.id, row.nonce)
        webhook = row.kind == "webhook"
        queued += await outbox.enqueue_once(
            connection,
            dedup_prefix(row.id) + event.key,
            channel=SUBSCRIBER_WEBHOOK if webhook else "email",
            kind="status",
            recipient=f"subscriber:{row.id}",
            address=row.address,
            options={"secret": row.secret} if webhook and row.secret else None,
            message=message,
            now=event.at,
        )
    return queued
