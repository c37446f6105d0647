"""Telling subscribers as public maintenance steps through its lifecycle
(docs/status-page.md, "Scheduled maintenance"): scheduled, a reminder its
``remind_before`` before it starts (``REMIND_BEFORE``, an hour, unless the window says;
none when it says 0), started, completed. The steps
are taken by the clock, so nothing records them as they happen: :func:`due_events` says
which steps an occurrence has reached recently (pure), and :func:`announce_maintenance`
queues them for the subscribers; the outbox's dedup key makes a second call for the same
step queue nothing, so every server may run it, as often as it likes.

A step older than ``RECENT`` is not announced: a server started after a window ended, or a
subscriber confirmed since, hears nothing about it. An upcoming window is announced as
scheduled as soon as it is seen (a new subscriber hears of it too), unless it starts within
its reminder time: then only the reminder is sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from infradex.catalog.reminders import DEFAULT_REMIND_BEFORE
from infradex.statuspage.maintenance import VERIFYING_FOR, PublicMaintenance
from infradex.statuspage.subscriber_messages import StatusEvent, SubscriberLinks
from infradex.statuspage.subscriber_notices import maintenance_event, notify_subscribers
from infradex.store.db import Database

__all__ = ["RECENT", "REMIND_BEFORE", "announce_maintenance", "due_events"]

#: how long after a step it is still announced (a server down for longer says nothing)
RECENT = timedelta(hours=1)
#: subscribers are reminded this long before an occurrence starts, unless its window says
REMIND_BEFORE = DEFAULT_REMIND_BEFORE


def _event(maintenance: PublicMaintenance, step: str, at: datetime) -> StatusEvent:
    return maintenance_event(
        window_id=int(maintenance.id, 16),  # its public id, as a number: one per occurrence
        occurrence=maintenance.scheduled_for.isoformat(),
        step=step,
        name=maintenance.name,
        body=maintenance.body,
        component_ids=[c.id for c in maintenance.components],
        at=at,
        component_names=[c.name for c in maintenance.components],
    )


def due_events(
    maintenances: Sequence[PublicMaintenance], at: datetime, recent: timedelta = RECENT
) -> list[StatusEvent]:
    """The steps the occurrences have reached that are still news at ``at``: scheduled
    (not started yet; a reminder instead once it starts within its ``remind_before``, none
    when that is 0), started
    (within ``recent`` of its start), completed (within ``recent`` of the end of its
    verification, at the latest)."""
    found = []
    for maintenance in maintenances:
        if maintenance.status == "scheduled":
            remind = maintenance.remind_before
            soon = bool(remind) and maintenance.scheduled_for - at <= remind
            found.append(_event(maintenance, "reminder" if soon else "scheduled", at))
            continue
        # each step is queued once, by the first call that sees it (within a minute of it
        # when a server runs the loop): ``at`` is when it was seen
        if at - maintenance.scheduled_for <= recent:
            found.append(_event(maintenance, "in_progress", at))
        latest_end = maintenance.scheduled_until + VERIFYING_FOR
        if maintenance.status == "completed" and at - latest_end <= recent:
            found.append(_event(maintenance, "completed", at))
    return found


async def announce_maintenance(
    db: Database, maintenances: Sequence[PublicMaintenance], at: datetime, links: SubscriberLinks
) -> int:
    """Queue the due steps' notices for the subscribers (once each); how many were queued."""
    events = due_events(maintenances, at)
    if not events:
        return 0
    queued = 0
    async with db.begin(writes=True) as connection:
        for event in events:
            queued += await notify_subscribers(connection, event, links=links)
    return queued
