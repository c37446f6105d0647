"""Incidents as people and programs read them: typed read models the store's reads return
(``alerting.records``) and the API answers with (camelCase on the wire, ``infradex.wire``).
The pages and the CLI use their attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from infradex.alerting.model import IncidentStatus
from infradex.wire import Instant, ReadModel

__all__ = [
    "AlertingCounts",
    "EntityIncident",
    "IncidentDetail",
    "IncidentListItem",
    "IncidentSummary",
    "LinkAction",
    "MemberRecord",
    "NotificationRecord",
    "TimelineEvent",
]


class IncidentSummary(ReadModel):
    """An incident's own row: what it is, where it stands, whom it pages."""

    id: int
    key: str = Field(description="the root's ref: one open incident per key")
    title: str
    status: IncidentStatus
    root: str
    opened_at: Instant
    acknowledged_at: Instant | None
    acknowledged_by: str | None
    resolved_at: Instant | None
    snoozed_until: Instant | None
    policy: str | None = Field(description="the escalation policy followed, if any")
    unrouted: bool = Field(description="true: no policy step reaches it, nobody was paged")
    routing: str | None = Field(description="why it pages whom it pages, or what to fix")
    next_escalation_at: Instant | None


class IncidentListItem(IncidentSummary):
    impacted_count: int = Field(description="entities impacted (not the root)")


class MemberRecord(ReadModel):
    """A check in the incident, as its root or impacted."""

    check: str
    entity: str
    role: str = Field(description="root or impacted")
    down_at: Instant
    up_at: Instant | None
    message: str | None


class TimelineEvent(ReadModel):
    at: Instant
    kind: str = Field(description="opened, check_down, escalated, notified, note, ...")
    actor: str | None
    data: dict[str, Any]


class NotificationRecord(ReadModel):
    """A message in the outbox for this incident."""

    id: int
    kind: str
    channel: str
    recipient: str | None
    target: str | None = Field(description="an email address; other targets are secrets")
    status: str
    attempts: int
    last_error: str | None
    sent_at: Instant | None


class IncidentDetail(IncidentSummary):
    members: list[MemberRecord]
    timeline: list[TimelineEvent]
    notifications: list[NotificationRecord]


class EntityIncident(ReadModel):
    """An unresolved incident in which an entity has a failing check (entity pages)."""

    id: int
    title: str
    status: IncidentStatus
    root: str
    role: str = Field(description="root or impacted: the entity's part in it")


@dataclass(frozen=True, slots=True)
class AlertingCounts:
    """What ``/metrics`` counts: incidents not resolved by status, how many of them page
    nobody, and the outbox by status."""

    incidents: dict[str, int]
    unrouted: int
    outbox: dict[str, int]


@dataclass(frozen=True, slots=True)
class LinkAction:
    """What a one-click link does (or did): the action, for whom, on which incident."""

    action: str
    recipient: str
    incident: IncidentDetail
