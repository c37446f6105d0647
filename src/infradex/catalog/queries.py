"""Questions people ask of the catalog, as pure functions of it.

- :func:`who`: whom to contact about a service, domain, host or anything else, in order, with
  the reason each is listed;
- :func:`impact`: everything that breaks, transitively, when one thing fails, with the path
  that explains it and whether it is down or only degraded (in :mod:`.impact`, re-exported);
- :func:`ownership_report`: unowned services, bus factor, stale owners;
- :func:`graph`: nodes and edges around a focus, for pictures.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from infradex.catalog.answers import (
    ChannelRecord,
    ContactRecord,
    GraphEdge,
    GraphNode,
    GraphRecord,
    WhoRecord,
)
from infradex.catalog.entities import KIND_ORDER, Catalog, Entity, has_spec
from infradex.catalog.impact import Affected, Impact, impact, upstream
from infradex.catalog.models import Contact, PersonSpec, ServiceSpec, TeamSpec
from infradex.catalog.refs import Ref
from infradex.catalog.specs import spec_contacts

__all__ = [
    "FALLBACK_TEAM",
    "GRAPH_RELATIONS",
    "Affected",
    "Channel",
    "ContactEntry",
    "Graph",
    "Impact",
    "OwnershipRow",
    "WhoAnswer",
    "channels_of",
    "fallback_team",
    "graph",
    "impact",
    "ownership_report",
    "ownership_row",
    "owning_people",
    "person_channels",
    "upstream",
    "who",
]

#: the team that answers for everything nobody else does (catalog.md: the infrastructure team)
FALLBACK_TEAM = Ref("team", "infrastructure")


# ================================================================================= who
@dataclass(frozen=True, slots=True)
class Channel:
    type: str
    address: str
    role: str | None = None
    network: str | None = None

    def record(self) -> ChannelRecord:
        return ChannelRecord(
            type=self.type, address=self.address, role=self.role, network=self.network
        )

    def to_dict(self) -> dict[str, str]:
        return self.record().to_json()

    def __str__(self) -> str:
        where = f" on {self.network}" if self.network else ""
        return f"{self.type}: {self.address}{where}"


@dataclass(frozen=True, slots=True)
class ContactEntry:
    ref: Ref
    name: str
    reason: str
    channels: tuple[Channel, ...]

    def record(self) -> ContactRecord:
        return ContactRecord(
            ref=str(self.ref),
            name=self.name,
            reason=self.reason,
            channels=[c.record() for c in self.channels],
        )

    def to_dict(self) -> dict[str, Any]:
        return self.record().to_json()


@dataclass(frozen=True, slots=True)
class WhoAnswer:
    target: Ref
    contacts: tuple[ContactEntry, ...]

    def record(self) -> WhoRecord:
        return WhoRecord(target=str(self.target), contacts=[c.record() for c in self.contacts])

    def to_dict(self) -> dict[str, Any]:
        return self.record().to_json()


_ROLE_ORDER = {"primary": 0, None: 1, "secondary": 2, "security": 3, "abuse": 4, "billing": 5}


def _contact_channels(contacts: Iterable[Contact]) -> tuple[Channel, ...]:
    channels = [Channel(c.type, c.address, c.role, c.network) for c in contacts]
    return tuple(sorted(channels, key=lambda c: _ROLE_ORDER.get(c.role, 1)))


def person_channels(person: Entity[PersonSpec]) -> tuple[Channel, ...]:
    channels = []
    if person.spec.email:
        channels.append(Channel("email", person.spec.email))
    for handle, value in sorted(person.spec.handles.items()):
        channels.append(Channel(handle, value))
    return tuple(channels)


def channels_of(entity: Entity) -> tuple[Channel, ...]:
    if has_spec(entity, PersonSpec):
        return person_channels(entity)
    return _contact_channels(spec_contacts(entity))


class _Answer:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.entries: list[ContactEntry] = []
        self.seen: set[Ref] = set()

    def add(self, ref: Ref, reason: str) -> None:
        if ref in self.seen or ref not in self.catalog:
            return
        entity = self.catalog.get(ref)
        if has_spec(entity, PersonSpec) and not entity.spec.contactable:
            return  # a member the catalog says to leave off every contact list
        if has_spec(entity, PersonSpec) and entity.spec.status == "emeritus":
            reason += " (emeritus)"
        channels = channels_of(entity)
        known = {(c.type, c.address) for e in self.entries for c in e.channels}
        if (
            entity.kind == "service"
            and channels
            and all((c.type, c.address) in known for c in channels)
        ):
            return  # a service's own contacts that an owner above already listed
        self.seen.add(ref)
        self.entries.append(ContactEntry(ref, entity.title, reason, channels))


def who(catalog: Catalog, target: Ref) -> WhoAnswer:
    """Whom to contact about ``target``, in the order to try them."""
    entity = catalog.get(target)
    answer = _Answer(catalog)
    if has_spec(entity, ServiceSpec):
        _who_service(catalog, entity, answer)
    elif entity.kind == "host":
        for service in catalog.related(target, "hosts"):
            _who_service(
                catalog, catalog.typed(service, ServiceSpec), answer, via=f"runs on {entity.title}"
            )
    elif entity.kind in ("provider", "datacenter"):
        answer.add(target, f"{entity.title}'s own contacts")
        if entity.kind == "datacenter":
            for provider in catalog.related(target, "providedBy"):
                answer.add(provider, f"provider of data center {entity.title}")
    elif entity.kind == "team":
        answer.add(target, "the team's own channels")
        for member in catalog.related(target, "hasMember"):
            answer.add(member, f"member of {entity.title}")
    elif entity.kind == "person":
        answer.add(target, "the person asked about")
    elif entity.kind == "zone":
        for service in catalog.related(target, "servesZone"):
            _who_service(
                catalog, catalog.typed(service, ServiceSpec), answer, via=f"uses zone {entity.name}"
            )
    elif entity.kind == "schedule":
        for member in catalog.related(target, "rotation"):
            answer.add(member, f"in the {entity.title} rotation")
    elif entity.kind == "escalationpolicy":
        for ref in catalog.related(target, "notifies"):
            answer.add(ref, f"notified by {entity.title}")
    _add_fallback(catalog, entity, answer)
    return WhoAnswer(target, tuple(answer.entries))


def fallback_team(catalog: Catalog) -> Ref | None:
    """The team that answers for everything: the one marked ``fallback: true``, else
    ``team:infrastructure`` if the catalog has it (catalogs written before the mark)."""
    marked = next((t.ref for t in catalog.of_kind("team") if t.spec.fallback), None)
    return marked or (FALLBACK_TEAM if FALLBACK_TEAM in catalog else None)


def _add_fallback(catalog: Catalog, entity: Entity, answer: _Answer) -> None:
    team = fallback_team(catalog)
    if team is None:
        return
    name = "the infrastructure team" if team == FALLBACK_TEAM else catalog.title(team)
    if entity.kind == "zone":
        reason = f"{name} handles DNS changes"
    elif not answer.entries:
        reason = f"nobody else is listed: {name} answers for everything"
    else:
        reason = f"fallback: {name}"
    answer.add(team, reason)


def _who_service(
    catalog: Catalog, service: Entity[ServiceSpec], answer: _Answer, via: str = ""
) -> None:
    suffix = f" of {service.title}" + (f", which {via}" if via else "")
    teams = []
    for owner in service.spec.owners:
        ref = _ref(catalog, owner.ref, "person", "team")
        if ref is None:
            continue
        if ref.kind == "person":
            answer.add(ref, f"{owner.role}{suffix}")
        else:
            teams.append((ref, owner.role))
    for ref, role in teams:
        answer.add(ref, f"owning team ({role}){suffix}")
    if service.spec.contacts:
        answer.add(service.ref, f"listed contact{suffix}")
    for team, _role in teams:
        for member in catalog.related(team, "hasMember"):
            also = f" ({via})" if via else ""
            answer.add(member, f"member of {catalog.title(team)}, which owns {service.title}{also}")


def _ref(catalog: Catalog, text: str, *kinds: str) -> Ref | None:
    from infradex.catalog.refs import RefError, parse_ref

    try:
        ref = parse_ref(text, kinds)
    except RefError:
        return None
    return ref if ref in catalog else None


def owning_people(catalog: Catalog, service: Ref) -> list[Ref]:
    """The people behind a service: person owners, then members of owning teams."""
    people: list[Ref] = []
    for ref in catalog.related(service, "ownedBy"):
        candidates = [ref] if ref.kind == "person" else catalog.related(ref, "hasMember")
        people.extend(p for p in candidates if p not in people)
    return people


# ================================================================================= ownership
@dataclass(frozen=True, slots=True)
class OwnershipRow:
    service: Ref
    title: str
    lifecycle: str
    owners: tuple[Ref, ...]
    people: tuple[Ref, ...]
    staff: int
    timezones: tuple[str, ...]
    flags: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "service": str(self.service),
            "title": self.title,
            "lifecycle": self.lifecycle,
            "owners": [str(r) for r in self.owners],
            "people": [str(r) for r in self.people],
            "staff": self.staff,
            "timezones": list(self.timezones),
            "flags": list(self.flags),
        }


def ownership_report(catalog: Catalog) -> list[OwnershipRow]:
    """One row per service with who stands behind it and what is risky about that."""
    return [ownership_row(catalog, service) for service in catalog.of_kind("service")]


def ownership_row(catalog: Catalog, service: Entity[ServiceSpec]) -> OwnershipRow:
    """Who stands behind ``service``, with flags: ``unowned``; ``no-people`` (no active person
    behind the owners, e.g. teams without members); ``single-owner``; ``all-volunteers``;
    ``one-timezone``; ``stale`` (an owner is emeritus or an owning team has neither members
    nor contacts). Only active people count."""
    owners = tuple(catalog.related(service.ref, "ownedBy"))
    people = tuple(owning_people(catalog, service.ref))
    active = [
        person
        for person in (catalog.typed(p, PersonSpec) for p in people)
        if person.spec.status == "active"
    ]
    zones = tuple(sorted({p.spec.timezone for p in active if p.spec.timezone}))
    flags = []
    if not owners:
        flags.append("unowned")
    elif not active:
        flags.append("no-people")
    else:
        if len(active) == 1:
            flags.append("single-owner")
        if not any(p.spec.staff for p in active):
            flags.append("all-volunteers")
        if len(active) > 1 and len(zones) == 1 and all(p.spec.timezone for p in active):
            flags.append("one-timezone")
    stale_team = any(
        o.kind == "team"
        and not catalog.related(o, "hasMember")
        and not catalog.typed(o, TeamSpec).spec.contacts
        for o in owners
    )
    if len(active) < len(people) or stale_team:
        flags.append("stale")
    return OwnershipRow(
        service.ref,
        service.title,
        service.spec.lifecycle,
        owners,
        tuple(p.ref for p in active),
        sum(p.spec.staff for p in active),
        zones,
        tuple(flags),
    )


# ================================================================================= graph
#: relations drawn in dependency pictures (arrows point from the dependent to what it needs)
GRAPH_RELATIONS = ("hostedOn", "frontedBy", "dependsOn", "locatedIn", "providedBy")
_GRAPH_KINDS = ("provider", "datacenter", "host", "service")


@dataclass(frozen=True, slots=True)
class Graph:
    nodes: tuple[Ref, ...]
    edges: tuple[tuple[Ref, str, Ref], ...]
    focus: Ref | None = None

    def record(self, catalog: Catalog) -> GraphRecord:
        return GraphRecord(
            focus=str(self.focus) if self.focus else None,
            nodes=[GraphNode(ref=str(n), kind=n.kind, title=catalog.title(n)) for n in self.nodes],
            edges=[GraphEdge(from_ref=str(a), relation=r, to_ref=str(b)) for a, r, b in self.edges],
        )

    def to_dict(self, catalog: Catalog) -> dict[str, Any]:
        return self.record(catalog).to_json()


def graph(catalog: Catalog, focus: Ref | None = None) -> Graph:
    """The dependency picture: everything connected (services, hosts, data centers,
    providers), or only what ``focus`` needs and what needs it, transitively."""
    if focus is None:
        nodes = {e.ref for kind in _GRAPH_KINDS for e in catalog.of_kind(kind)}
    else:
        catalog.get(focus)
        nodes = {focus}
        for relations in (GRAPH_RELATIONS, tuple(_inverse(r) for r in GRAPH_RELATIONS)):
            frontier = [focus]
            while frontier:
                node = frontier.pop()
                for relation in relations:
                    for other in catalog.related(node, relation):
                        if other not in nodes:
                            nodes.add(other)
                            frontier.append(other)
    edges = []
    for node in nodes:
        for relation in GRAPH_RELATIONS:
            for target in catalog.related(node, relation):
                if target in nodes:
                    edges.append((node, relation, target))
    if focus is None:  # leave out what nothing connects to (a registrar, a metrics service)
        nodes = {n for edge in edges for n in (edge[0], edge[2])}
    ordered = sorted(nodes, key=lambda r: (KIND_ORDER.index(r.kind), r.name))
    edges.sort(key=lambda e: (KIND_ORDER.index(e[0].kind), e[0].name, e[1], e[2].name))
    return Graph(tuple(ordered), tuple(edges), focus)


def _inverse(relation: str) -> str:
    from infradex.catalog.relations import RELATIONS

    return RELATIONS[relation]
