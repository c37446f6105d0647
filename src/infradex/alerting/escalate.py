"""One escalation step of one incident, as a pure function: given the incident as escalation
sees it, the catalog (who is on call) and ``now``, the actions to take, in order. The alerter
(:mod:`infradex.alerting.service`) reads the inputs from the store, applies the actions in
one transaction (incident rows through :mod:`infradex.alerting.incident_store`, pages through
the outbox) and nothing else decides.

What a step does (docs/alerting.md, "Escalation"):

- an acknowledged incident waits for its snooze to end (no snooze: it waits for ever); when
  the snooze ends the escalation starts over from the first step;
- when every failing check is in a maintenance window, the due step is held until the next
  look (the later steps keep their delays) and the timeline says so once;
- an incident no policy reaches says so; the policy's own channels hear of the trigger when
  the escalation begins;
- after a pause (the server was down) only the latest overdue step is sent;
- each due step pages its recipients on each of their channels; a step that reaches nobody
  lets the next one go at once.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from infradex.alerting.incidents import ref_of
from infradex.alerting.model import EventKind, IncidentStatus
from infradex.catalog.entities import Catalog
from infradex.channels.config import ChannelSpec
from infradex.oncall.escalation import (
    PolicySnapshot,
    catch_up,
    held_until,
    recipients,
)
from infradex.oncall.routing import unrouted_reason

__all__ = [
    "MAINTENANCE_RECHECK",
    "Action",
    "EndSnooze",
    "Escalation",
    "Page",
    "Record",
    "Reschedule",
    "TellPolicyChannels",
    "WaitForSnooze",
    "escalation_step",
]

#: how soon an incident held by maintenance is looked at again
MAINTENANCE_RECHECK = timedelta(seconds=30)


@dataclass(frozen=True, slots=True)
class Escalation:
    """An incident as escalation sees it (read from the store)."""

    key: str  # the root entity's ref
    status: IncidentStatus
    position: int  # the next step over every round (``incidents.escalation_step``)
    started: datetime  # when this round began (``escalation_started_at``, or opened)
    snoozed_until: datetime | None
    policy: dict[str, Any] | None  # the policy snapshot taken when it opened
    failing: tuple[str, ...] = ()  # the ids of its checks still down


@dataclass(frozen=True, slots=True)
class WaitForSnooze:
    """Still acknowledged: look again when the snooze ends (never, without one)."""

    until: datetime | None


@dataclass(frozen=True, slots=True)
class EndSnooze:
    """The snooze is over: open again, nobody's acknowledgement, escalation from step 1."""


@dataclass(frozen=True, slots=True)
class Record:
    """A timeline event; ``once``: not if the incident's last event is already this kind."""

    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)
    once: bool = False


@dataclass(frozen=True, slots=True)
class TellPolicyChannels:
    """The policy's own channels (PagerDuty, a team's Slack) hear of the incident."""

    kind: str  # trigger


@dataclass(frozen=True, slots=True)
class Page:
    """Tell one recipient on one of their channels, saying why they are told."""

    recipient: str
    channel: ChannelSpec
    reason: str


@dataclass(frozen=True, slots=True)
class Reschedule:
    """Where the escalation stands now, and when to look again (None: it is over)."""

    position: int
    started: datetime
    at: datetime | None


Action = WaitForSnooze | EndSnooze | Record | TellPolicyChannels | Page | Reschedule


def escalation_step(
    incident: Escalation, catalog: Catalog, now: datetime, in_maintenance: Collection[str]
) -> list[Action]:
    """The actions for ``incident``'s due step(s) at ``now``; ``in_maintenance``: the check
    ids a maintenance window covers now. Ends with a :class:`Reschedule`, or is a single
    :class:`WaitForSnooze`."""
    actions: list[Action] = []
    position, started = incident.position, incident.started
    if incident.status == IncidentStatus.ACKNOWLEDGED:
        if incident.snoozed_until is None or incident.snoozed_until > now:
            return [WaitForSnooze(incident.snoozed_until)]
        position, started = 0, now
        actions += [EndSnooze(), Record(EventKind.SNOOZE_ENDED)]
    snapshot = PolicySnapshot.from_dict(incident.policy)
    if incident.failing and all(check in in_maintenance for check in incident.failing):
        # hold the due step until the window ends; the later steps keep their delays
        recheck = now + MAINTENANCE_RECHECK
        reason = "in a maintenance window: recorded, nobody paged"
        return [
            *actions,
            Record(EventKind.PAGING_HELD, {"reason": reason}, once=True),
            Reschedule(position, held_until(snapshot, started, position, recheck), recheck),
        ]
    if snapshot.positions == 0:
        reason = (incident.policy or {}).get("routing", {}).get("reason")
        reason = reason or unrouted_reason(ref_of(incident.key))
        actions.append(Record(EventKind.UNROUTED, {"reason": reason}))
    if position == 0:
        actions.append(TellPolicyChannels("trigger"))
    caught = catch_up(snapshot, started, position, now)
    if caught.skipped:  # the server was down: the latest overdue step, not all of them
        skipped = [p % len(snapshot.steps) + 1 for p in caught.skipped]
        actions.append(Record(EventKind.CAUGHT_UP, {"skipped": skipped}))
    position, started = caught.position, caught.started
    skip_wait = False
    while True:
        due = snapshot.due_at(started, position)
        if due is None or (due > now and not skip_wait):
            break
        step = snapshot.step(position)
        round_, index = divmod(position, len(snapshot.steps))
        resolution = recipients(catalog, step.notify, now)
        for recipient in resolution.recipients:
            reason = (
                f"You are told as {recipient.title}, named by {recipient.via} in step "
                f"{index + 1} of {snapshot.title}" + (f" (round {round_ + 1})." if round_ else ".")
            )
            actions += [Page(recipient.ref, channel, reason) for channel in recipient.channels]
        actions.append(
            Record(
                EventKind.ESCALATED,
                {
                    "step": index + 1,
                    "round": round_ + 1,
                    "notify": list(step.notify),
                    "recipients": [r.to_dict() for r in resolution.recipients],
                    "problems": resolution.problems,
                },
            )
        )
        position += 1
        # nobody could be reached at this step: the next one does not wait
        skip_wait = not resolution.recipients
    actions.append(Reschedule(position, started, snapshot.due_at(started, position)))
    return actions
