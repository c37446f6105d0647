"""Incidents from check state changes, correlated through the catalog's dependency graph.

Pure: a :class:`Correlator` holds the open incidents and the checks it is holding back, takes
one state change at a time and records what changed on the incidents it touched (new members,
events, a resolve to announce). The alerting service persists what :meth:`Correlator.drain`
returns, in the same transaction that marks the state changes handled.

The rules (docs/alerting.md):

- A check going **down** joins the open incident of its own entity (one incident per service or
  provider, however many of its checks fail).
- Otherwise, if something the entity needs (``upstream``: hosts, CDNs, services it depends
  on, data centers, providers) has an open incident, the check joins that one as **impacted**:
  no page of its own.
- Otherwise, if something upstream looks unwell (a check failing, not yet past its threshold),
  the check is **held** for the correlation window (default 60 s): a child never pages ahead
  of its root. A root that opens adopts the checks held below it.
- A hold ends when the window passes or nothing upstream looks unwell any more: the check then
  opens its own incident.
- A check going **up** leaves its incident; the incident resolves when its own checks are all
  up (resolves are never suppressed). Impacted checks still down then get their own incident.
- A check reading a provider's own status page (``statuspage://``) that fails in an incident
  adds an ``upstream_confirmed`` event: the provider says so too.
- An incident for the same entity that resolved less than ``reopen_window`` ago is reopened
  rather than duplicated.
- A child whose check crossed its threshold before its root's (a shorter interval) may already
  have its own incident when the root's opens: if that incident is younger than the window
  and nobody acknowledged it, it is **merged** into the root's (resolved, "merged into").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from infradex.alerting.model import EventKind, IncidentStatus, incident_move
from infradex.catalog.entities import Catalog
from infradex.catalog.queries import upstream
from infradex.catalog.refs import Ref

__all__ = [
    "CORRELATION_WINDOW",
    "REOPEN_WINDOW",
    "Correlator",
    "Event",
    "Held",
    "Incident",
    "Member",
    "ref_of",
]

CORRELATION_WINDOW = timedelta(seconds=60)
REOPEN_WINDOW = timedelta(minutes=10)

#: says whether an entity looks unwell now (one of its checks failing, even below threshold)
Unwell = Callable[[Ref], bool]


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    kind: EventKind
    data: dict[str, Any] = field(default_factory=dict)
    actor: str | None = None


@dataclass(slots=True)
class Member:
    check_id: str
    entity: str
    role: str  # "root": the incident's own entity; "impacted": downstream of it
    down_at: datetime
    up_at: datetime | None = None  # when it recovered or left for its own incident
    message: str = ""
    saved: bool = False  # written to the store already
    dirty: bool = True  # changed since it was last written

    @property
    def down(self) -> bool:
        return self.up_at is None


@dataclass(slots=True)
class Incident:
    key: str  # the root entity's ref: one open incident per key
    title: str
    opened_at: datetime
    status: IncidentStatus = IncidentStatus.OPEN
    id: int | None = None
    resolved_at: datetime | None = None
    members: dict[str, Member] = field(default_factory=dict)
    #: not yet persisted
    events: list[Event] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)  # "resolve"
    #: the status change the correlator made, written only if the store still agrees:
    #: "resolved" (from open or acknowledged) or "reopened" (from resolved)
    transition: str | None = None

    @property
    def open(self) -> bool:
        return self.status.is_open

    def down_members(self, role: str | None = None) -> list[Member]:
        return [m for m in self.members.values() if m.down and (role is None or m.role == role)]


@dataclass(frozen=True, slots=True)
class Held:
    check_id: str
    entity: str
    since: datetime
    until: datetime
    message: str


class Correlator:
    def __init__(
        self,
        window: timedelta = CORRELATION_WINDOW,
        reopen_window: timedelta = REOPEN_WINDOW,
    ) -> None:
        self.window = window
        self.reopen_window = reopen_window
        self.by_key: dict[str, Incident] = {}  # open incidents by their root's ref
        self.by_check: dict[str, Incident] = {}  # a down check → the incident it is in
        #: entity → the open incidents it has down checks in (with how many): finds an
        #: upstream entity's incident without scanning every incident
        self._by_entity: dict[str, dict[int, tuple[Incident, int]]] = {}
        self.held: dict[str, Held] = {}
        self.recent: dict[str, Incident] = {}  # key → its last resolved incident
        self._touched: dict[int, Incident] = {}
        #: checks that read a provider's own status page (``statuspage://``): one of them
        #: failing in an incident says the provider confirms the problem
        self.upstream_checks: frozenset[str] = frozenset()

    # ----------------------------------------------------------------- state from the store
    def adopt(self, incident: Incident) -> None:
        """Take an incident loaded from the store (open, or recently resolved)."""
        if incident.open:
            self.by_key[incident.key] = incident
            for member in incident.down_members():
                self._down(incident, member)
        else:
            self.recent[incident.key] = incident

    def forget(self, incident: Incident, status: IncidentStatus, at: datetime) -> None:
        """Someone resolved it by hand: the checks still down stay quiet until they recover
        and fail again (the store marked them up, so does memory)."""
        incident.status = status
        incident.resolved_at = at
        if self.by_key.get(incident.key) is incident:
            del self.by_key[incident.key]
        for member in incident.down_members():
            self._up(incident, member, at)
            member.dirty = False  # the store did it
        self.recent[incident.key] = incident

    def drain(self) -> list[Incident]:
        """The incidents touched since the last drain, in the order first touched."""
        touched, self._touched = list(self._touched.values()), {}
        return touched

    def _touch(self, incident: Incident) -> Incident:
        self._touched.setdefault(id(incident), incident)
        return incident

    def _down(self, incident: Incident, member: Member) -> None:
        self.by_check[member.check_id] = incident
        entry = self._by_entity.setdefault(member.entity, {})
        _, count = entry.get(id(incident), (incident, 0))
        entry[id(incident)] = (incident, count + 1)

    def _up(self, incident: Incident, member: Member, at: datetime) -> None:
        member.up_at, member.dirty = at, True
        if self.by_check.get(member.check_id) is incident:
            del self.by_check[member.check_id]
        entry = self._by_entity.get(member.entity, {})
        _, count = entry.get(id(incident), (incident, 1))
        if count <= 1:
            entry.pop(id(incident), None)
            if not entry:
                self._by_entity.pop(member.entity, None)
        else:
            entry[id(incident)] = (incident, count - 1)

    # ----------------------------------------------------------------- changes
    def check_down(
        self,
        catalog: Catalog,
        check_id: str,
        entity: Ref,
        at: datetime,
        message: str,
        unwell: Unwell,
    ) -> None:
        if check_id in self.by_check or check_id in self.held:
            return
        key = str(entity)
        own = self.by_key.get(key)
        if own is not None:
            self._join(own, check_id, key, "root", at, message)
            return
        above = upstream(catalog, entity) if entity in catalog else ()
        root = self._root_incident(above)
        if root is not None:
            self._join(root, check_id, key, "impacted", at, message)
            return
        if any(unwell(ref) for ref in above):
            self.held[check_id] = Held(check_id, key, at, at + self.window, message)
            return
        self._open(catalog, check_id, entity, at, message)

    def check_up(
        self, catalog: Catalog, check_id: str, at: datetime, unwell: Unwell, why: str = ""
    ) -> None:
        """The check recovered (or, with ``why``, stopped existing: a catalog reload removed
        it, and a check nobody runs must not hold an incident open forever)."""
        if self.held.pop(check_id, None) is not None:
            return
        incident = self.by_check.get(check_id)
        if incident is None:
            return
        member = incident.members[check_id]
        self._up(incident, member, at)
        data = {"check": check_id, "entity": member.entity, "role": member.role}
        if why:
            data["reason"] = why
        self._touch(incident).events.append(Event(at, EventKind.CHECK_UP, data))
        if member.role == "root" and not incident.down_members("root"):
            self._resolve(catalog, incident, at, unwell)

    def release_holds(self, catalog: Catalog, now: datetime, unwell: Unwell) -> None:
        """End the holds whose window has passed or whose upstream looks well again."""
        for held in list(self.held.values()):
            entity = ref_of(held.entity)
            above = upstream(catalog, entity) if entity in catalog else ()
            root = self._root_incident(above)
            if root is None and held.until > now and any(unwell(ref) for ref in above):
                continue
            del self.held[held.check_id]
            if root is not None:
                self._join(root, held.check_id, held.entity, "impacted", held.since, held.message)
            elif held.entity in self.by_key:
                incident = self.by_key[held.entity]
                self._join(incident, held.check_id, held.entity, "root", held.since, held.message)
            else:
                self._open(catalog, held.check_id, entity, now, held.message, held.since)

    # ----------------------------------------------------------------- helpers
    def _root_incident(self, above: tuple[Ref, ...]) -> Incident | None:
        """The open incident of the nearest upstream entity that has one (as its root or
        among its impacted members)."""
        if not self.by_key:
            return None
        for ref in above:
            text = str(ref)
            incident = self.by_key.get(text)
            if incident is not None:
                return incident
            found = self._by_entity.get(text)
            if found:
                return min((i for i, _ in found.values()), key=lambda i: i.opened_at)
        return None

    def _join(
        self, incident: Incident, check_id: str, entity: str, role: str, at: datetime, message: str
    ) -> None:
        existing = incident.members.get(check_id)
        if existing is not None and existing.down:
            return
        if existing is not None:  # back down after recovering within the same incident
            existing.up_at, existing.down_at, existing.message = None, at, message
            existing.role, existing.dirty = role, True
            member = existing
        else:
            member = incident.members[check_id] = Member(check_id, entity, role, at, None, message)
        self._down(incident, member)
        kind = EventKind.CHECK_DOWN if role == "root" else EventKind.IMPACTED
        data = {"check": check_id, "entity": entity, "message": message}
        self._touch(incident).events.append(Event(at, kind, data))
        if check_id in self.upstream_checks:
            incident.events.append(Event(at, EventKind.UPSTREAM_CONFIRMED, dict(data)))

    def _open(
        self,
        catalog: Catalog,
        check_id: str,
        entity: Ref,
        at: datetime,
        message: str,
        down_at: datetime | None = None,
    ) -> None:
        key = str(entity)
        previous = self.recent.get(key)
        if (
            previous is not None
            and previous.resolved_at is not None
            and at - previous.resolved_at <= self.reopen_window
        ):
            incident = previous
            del self.recent[key]
            incident.status = incident_move(incident.status, IncidentStatus.OPEN)
            incident.resolved_at = None
            incident.transition = "reopened"
            self._touch(incident).events.append(
                Event(at, EventKind.REOPENED, {"check": check_id, "message": message})
            )
        else:
            title = f"{catalog.title(entity) if entity in catalog else key} is down"
            incident = Incident(key, title, at)
            self._touch(incident).events.append(
                Event(at, EventKind.OPENED, {"check": check_id, "message": message})
            )
        self.by_key[key] = incident
        self._join(incident, check_id, key, "root", down_at or at, message)
        # checks held below this entity were waiting for it: they join as impacted
        for held in list(self.held.values()):
            below = ref_of(held.entity)
            if below in catalog and entity in upstream(catalog, below):
                del self.held[held.check_id]
                self._join(incident, held.check_id, held.entity, "impacted", at, held.message)
        # a child that paged moments before its root (a shorter interval): merged
        for child in list(self.by_key.values()):
            below = ref_of(child.key)
            if (
                child is not incident
                and child.status == IncidentStatus.OPEN
                and at - child.opened_at <= self.window
                and below in catalog
                and entity in upstream(catalog, below)
            ):
                self._merge(child, incident, at)

    def _merge(self, child: Incident, root: Incident, at: datetime) -> None:
        for member in child.down_members():
            self._up(child, member, at)
            self._join(root, member.check_id, member.entity, "impacted", member.down_at,
                       member.message)  # fmt: skip
        child.status = incident_move(child.status, IncidentStatus.RESOLVED)
        child.resolved_at, child.transition = at, "resolved"
        del self.by_key[child.key]
        self._touch(child).events.append(Event(at, EventKind.MERGED, {"into": root.key}))
        child.notices.append("resolve")

    def _resolve(self, catalog: Catalog, incident: Incident, at: datetime, unwell: Unwell) -> None:
        incident.status = incident_move(incident.status, IncidentStatus.RESOLVED)
        incident.resolved_at = at
        incident.transition = "resolved"
        self._touch(incident).events.append(Event(at, EventKind.RESOLVED, {"by": "recovery"}))
        incident.notices.append("resolve")
        del self.by_key[incident.key]
        self.recent[incident.key] = incident
        # impacted checks still down were hidden behind this root: now they speak for
        # themselves
        for member in incident.down_members("impacted"):
            self._up(incident, member, at)
            incident.events.append(
                Event(at, EventKind.DETACHED, {"check": member.check_id, "entity": member.entity})
            )
            self.check_down(
                catalog, member.check_id, ref_of(member.entity), at, member.message, unwell
            )

    def prune_recent(self, now: datetime) -> None:
        for key, incident in list(self.recent.items()):
            if incident.resolved_at is None or now - incident.resolved_at > self.reopen_window:
                del self.recent[key]


def ref_of(text: str) -> Ref:
    """``service:docs`` (as stored, already valid) → a Ref, without parse_ref's checks; a
    check id (``service:docs/home``) gives its owner."""
    text = text.split("/", 1)[0]
    kind, _, name = text.partition(":")
    return Ref(kind, name)
