"""What breaks when one thing fails, as pure functions of the catalog.

- :func:`impact`: everything affected, transitively, with the path that explains it, whether
  it is down or only degraded, and notes on what the graph cannot show (a registrar);
- :func:`upstream`: everything one entity needs, transitively (the inverse question, which
  alerting asks to fold a failure into the incident of what it needs).

How a need fails its dependent: a group of hosts a service runs on (or CDNs in front of it)
needs only one working member; a hard ``dependsOn`` is needed, each one; a soft one
(``effect: degraded``) only degrades the service however badly it fails.
"""

from __future__ import annotations

import weakref
from collections import deque
from dataclasses import dataclass
from typing import Any, Literal

from infradex.catalog.answers import AffectedRecord, ImpactRecord
from infradex.catalog.entities import Catalog, Entity
from infradex.catalog.models import ServiceSpec
from infradex.catalog.refs import Ref, RefError, parse_ref
from infradex.catalog.relations import DEPENDENCY_KINDS

__all__ = ["Affected", "Impact", "impact", "soft_dependencies", "upstream"]

Effect = Literal["down", "degraded"]
State = Literal["up", "degraded", "down"]
#: how a group of needs fails its dependent: "any" (one working member is enough), "each"
#: (every member is needed), "soft" (needed, but losing it only degrades)
Redundancy = Literal["any", "each", "soft"]


@dataclass(frozen=True, slots=True)
class Affected:
    ref: Ref
    effect: Effect
    path: tuple[Ref, ...]  # from the failed root to this entity
    relations: tuple[str, ...]  # relation of each step: path[i+1] <relation> path[i]
    served_by: tuple[Ref, ...] = ()  # for "degraded": the members of that need still up
    soft: bool = False  # the last step is a soft dependency (effect: degraded)

    def why(self, catalog: Catalog) -> str:
        """One sentence on the last step, e.g. "docs.python.org hostedOn docs0.nyc1.psf.io;
        still served by docs1.nyc1.psf.io"."""
        text = f"{catalog.title(self.ref)} {self.relations[-1]} {catalog.title(self.path[-2])}"
        if self.soft:
            return text + " (soft: degraded without it)"
        if self.effect == "degraded" and self.served_by:
            return text + "; still served by " + ", ".join(catalog.title(r) for r in self.served_by)
        if self.effect == "degraded":
            return text + ", which is degraded"
        return text

    def record(self, catalog: Catalog) -> AffectedRecord:
        return AffectedRecord(
            ref=str(self.ref),
            effect=self.effect,
            path=[str(r) for r in self.path],
            relations=list(self.relations),
            why=self.why(catalog),
        )

    def to_dict(self, catalog: Catalog) -> dict[str, Any]:
        return self.record(catalog).to_json()


@dataclass(frozen=True, slots=True)
class Impact:
    root: Ref
    affected: tuple[Affected, ...]
    notes: tuple[str, ...] = ()  # what the dependency graph cannot say, in sentences

    def record(self, catalog: Catalog) -> ImpactRecord:
        return ImpactRecord(
            root=str(self.root),
            affected=[a.record(catalog) for a in self.affected],
            notes=list(self.notes),
        )

    def to_dict(self, catalog: Catalog) -> dict[str, Any]:
        return self.record(catalog).to_json()


#: (relation from the dependent to what it needs, redundancy) per kind of dependent
_NEEDS: dict[str, tuple[tuple[str, Redundancy], ...]] = {
    "service": (
        ("hostedOn", "any"),
        ("frontedBy", "any"),
        ("dependsOn", "each"),  # split into "each" and "soft" by each entry's effect
        ("zoneOf", "any"),
    ),
    "host": (("locatedIn", "each"),),
    "datacenter": (("providedBy", "each"),),
    "zone": (("hostedOn", "any"),),
}
#: inverse relation → walks from what fails to what needs it
_DEPENDENTS = ("hosts", "fronts", "dependencyOf", "servesZone", "contains", "provides")
_SEVERITY = {"up": 0, "degraded": 1, "down": 2}

_Needs = tuple[tuple[str, Redundancy, tuple[Ref, ...]], ...]


class _ImpactIndex:
    """Per catalog, filled as queries reach entities: each entity's needs as (relation,
    redundancy, members) and its dependents, so repeated queries walk tuples instead of
    looking relations up."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._needs: dict[Ref, _Needs] = {}
        self._dependents: dict[Ref, tuple[Ref, ...]] = {}

    def needs(self, ref: Ref) -> _Needs:
        found = self._needs.get(ref)
        if found is None:
            groups: list[tuple[str, Redundancy, tuple[Ref, ...]]] = []
            for relation, redundancy in _NEEDS.get(ref.kind, ()):
                members = tuple(self.catalog.related(ref, relation))
                if relation == "dependsOn":
                    soft = soft_dependencies(self.catalog.typed(ref, ServiceSpec))
                    groups.append((relation, "each", tuple(m for m in members if m not in soft)))
                    groups.append((relation, "soft", tuple(m for m in members if m in soft)))
                else:
                    groups.append((relation, redundancy, members))
            found = self._needs[ref] = tuple(g for g in groups if g[2])
        return found

    def dependents(self, ref: Ref) -> tuple[Ref, ...]:
        found = self._dependents.get(ref)
        if found is None:
            related = self.catalog.related
            found = self._dependents[ref] = tuple(
                d for inverse in _DEPENDENTS for d in related(ref, inverse) if d.kind in _NEEDS
            )
        return found


def soft_dependencies(service: Entity[ServiceSpec]) -> frozenset[Ref]:
    """The dependencies a service declares with ``effect: degraded``."""
    soft = set()
    for dependency in service.spec.depends_on:
        if dependency.effect == "degraded":
            try:
                soft.add(parse_ref(dependency.ref, DEPENDENCY_KINDS))
            except RefError:  # pragma: no cover - the validator refuses such a catalog
                continue
    return frozenset(soft)


_INDEXES: weakref.WeakKeyDictionary[Catalog, _ImpactIndex] = weakref.WeakKeyDictionary()


def _index(catalog: Catalog) -> _ImpactIndex:
    return _INDEXES.get(catalog) or _INDEXES.setdefault(catalog, _ImpactIndex(catalog))


def impact(catalog: Catalog, root: Ref) -> Impact:
    """Everything affected when ``root`` fails, nearest first."""
    catalog.get(root)
    index = _index(catalog)
    order: list[Ref] = []
    queue = deque([root])
    seen = {root}
    while queue:
        for dependent in index.dependents(queue.popleft()):
            if dependent not in seen:
                seen.add(dependent)
                order.append(dependent)
                queue.append(dependent)
    states: dict[Ref, State] = {root: "down"}
    #: the need that decided each state: the path shown explains the effect, not just reach
    cause: dict[Ref, tuple[Ref, str, Redundancy]] = {}
    depth: dict[Ref, int] = {root: 0}

    def evaluate(ref: Ref) -> State:
        """The state of ``ref`` from its needs' states (all known by now; a need still being
        worked out can only be part of a cycle the validator refuses, and counts as up)."""
        worst: State = "up"
        for relation, redundancy, group_members in index.needs(ref):
            members = [(m, states.get(m, "up")) for m in group_members]
            failing = [(m, s) for m, s in members if s != "up"]
            if not failing:
                continue
            culprit, group = max(failing, key=lambda pair: _SEVERITY[pair[1]])
            if redundancy == "soft":
                group = "degraded"  # needed, but never enough to take the dependent down
            elif redundancy == "any" and len(failing) < len(members):
                group = "degraded"  # another member still serves it
            elif redundancy == "any":  # every member fails: as good as the best of them
                culprit, group = min(failing, key=lambda pair: _SEVERITY[pair[1]])
            better = _SEVERITY[group] > _SEVERITY[worst] or (
                group == worst and depth[culprit] + 1 < depth[ref]
            )  # the worst effect, explained by the shortest chain
            if better:
                worst, cause[ref] = group, (culprit, relation, redundancy)
                depth[ref] = depth[culprit] + 1
        return worst

    def state(start: Ref) -> State:
        """Needs first, then the entity: an explicit stack, so a dependency chain thousands
        long does not exhaust Python's recursion limit."""
        stack = [(start, False)]
        pending: set[Ref] = set()
        while stack:
            ref, expanded = stack.pop()
            if ref in states:
                continue
            if expanded:
                states[ref] = evaluate(ref)
                continue
            if ref in pending:  # already being worked out further down the stack
                continue
            pending.add(ref)
            depth.setdefault(ref, len(seen))
            stack.append((ref, True))
            for _, _, members in index.needs(ref):
                stack.extend((m, False) for m in members if m in seen and m not in states)
        return states[start]

    affected = []
    for ref in order:
        effect = state(ref)
        if effect == "up":
            continue
        path, relations = [ref], []
        while path[-1] != root:
            previous, relation, _ = cause[path[-1]]
            relations.append(relation)
            path.append(previous)
        path.reverse()
        relations.reverse()
        soft = cause[ref][2] == "soft"
        served_by: tuple[Ref, ...] = ()
        if effect == "degraded" and not soft:
            group = catalog.related(ref, relations[-1])
            served_by = tuple(r for r in group if states.get(r, "up") == "up")
        affected.append(Affected(ref, effect, tuple(path), tuple(relations), served_by, soft))
    return Impact(root, tuple(affected), _notes(catalog, root))


def _notes(catalog: Catalog, root: Ref) -> tuple[str, ...]:
    """What a failure of ``root`` means beyond the graph: a registrar serves no traffic, so
    its outage takes nothing down, but the zones it registers live only as long as their
    registration (expiry is not modelled yet)."""
    zones = catalog.related(root, "registrarOf")
    if not zones:
        return ()
    names = ", ".join(catalog.title(z) for z in zones)
    return (
        f"{catalog.title(root)} is the registrar of {names}. An outage at the registrar takes "
        "nothing down: the zones are served by their DNS hosts. A lapsed registration would "
        "take those zones down, and every service that uses them (see `infradex impact` of "
        "each zone).",
    )


def upstream(catalog: Catalog, ref: Ref) -> tuple[Ref, ...]:
    """Everything ``ref`` needs, transitively, nearest first: the hosts, CDNs, services, data
    centers and providers whose failure :func:`impact` would carry to ``ref``."""
    index = _index(catalog)
    order: list[Ref] = []
    seen = {ref}
    queue = deque([ref])
    while queue:
        for _, _, members in index.needs(queue.popleft()):
            for member in members:
                if member not in seen:
                    seen.add(member)
                    order.append(member)
                    queue.append(member)
    return tuple(order)
