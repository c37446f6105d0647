"""The pass over the whole catalog: duplicate names, one default policy and one fallback team,
references (malformed, of the wrong kind, dangling) turned into relation edges, and cycles of
needs. Every problem is collected; nothing stops at the first."""

from __future__ import annotations

import difflib
from typing import Any

from infradex.catalog.entities import Entity, has_spec
from infradex.catalog.models import EscalationPolicySpec, ServiceSpec, TeamSpec
from infradex.catalog.problems import Problem
from infradex.catalog.refs import KINDS, Ref, RefError, parse_ref
from infradex.catalog.relations import reference_fields

__all__ = [
    "SUPPORT_RELATIONS",
    "one_default_policy",
    "one_fallback_team",
    "report_cycles",
    "resolve_references",
    "serves_zone_edges",
    "unique_entities",
]

#: relations along which one entity needs another to work; a cycle here is an error
SUPPORT_RELATIONS = ("hostedOn", "frontedBy", "dependsOn")


def unique_entities(entities: list[Entity], problems: list[Problem]) -> dict[Ref, Entity]:
    seen: dict[Ref, Entity] = {}
    for entity in entities:
        first = seen.get(entity.ref)
        if first is None:
            seen[entity.ref] = entity
            continue
        for here, there in ((entity, first), (first, entity)):
            line = there.where(("metadata", "name"))[0]
            problems.append(
                here.problem(
                    "error",
                    "duplicate-name",
                    f"{entity.ref} is defined twice: here and at {there.file}:{line}",
                    "rename one of them or delete the copy",
                    ("metadata", "name"),
                )
            )
    return seen


def one_fallback_team(entities: dict[Ref, Entity], problems: list[Problem]) -> None:
    marked = [e for e in entities.values() if has_spec(e, TeamSpec) and e.spec.fallback]
    for extra in marked[1:]:
        problems.append(
            extra.problem(
                "error",
                "two-fallbacks",
                f"{len(marked)} teams say `fallback: true` "
                f"({', '.join(e.name for e in marked)}); `who` names one fallback team",
                "keep `fallback: true` on one team only",
                ("spec", "fallback"),
            )
        )


def one_default_policy(entities: dict[Ref, Entity], problems: list[Problem]) -> None:
    defaults = [
        e for e in entities.values() if has_spec(e, EscalationPolicySpec) and e.spec.default
    ]
    for extra in defaults[1:]:
        problems.append(
            extra.problem(
                "error",
                "two-defaults",
                f"{len(defaults)} escalation policies say `default: true` "
                f"({', '.join(e.name for e in defaults)}); incidents need one default",
                "keep `default: true` on one policy only",
                ("spec", "default"),
            )
        )


def resolve_references(
    entities: dict[Ref, Entity], problems: list[Problem]
) -> list[tuple[Ref, str, Ref]]:
    edges: list[tuple[Ref, str, Ref]] = []
    by_name: dict[str, list[Ref]] = {}
    for ref in entities:
        by_name.setdefault(ref.name, []).append(ref)
    for entity in entities.values():
        for field_ref in reference_fields(entity.kind, entity.spec):
            try:
                target = parse_ref(field_ref.text, field_ref.allowed)
            except RefError as exc:
                problems.append(
                    entity.problem(
                        "error",
                        "bad-reference",
                        str(exc),
                        "references are kind:name",
                        field_ref.path,
                    )
                )
                continue
            if target.kind not in field_ref.allowed:
                problems.append(
                    entity.problem(
                        "error",
                        "wrong-kind",
                        f"{target} is a {KINDS[target.kind]}, but this field "
                        "takes " + " or ".join(KINDS[k] for k in field_ref.allowed),
                        "point it at an entity of an allowed kind",
                        field_ref.path,
                    )
                )
                continue
            if target not in entities:
                others = [r for r in by_name.get(target.name, []) if r.kind != target.kind]
                if others:
                    hint = f"{others[0]} exists; did you mean that kind?"
                else:
                    names = [r.name for r in entities if r.kind == target.kind]
                    close = difflib.get_close_matches(target.name, names, n=1, cutoff=0.6)
                    hint = (
                        f"did you mean {target.kind}:{close[0]}?"
                        if close
                        else f"define {KINDS[target.kind]} {target.name!r} or fix the name"
                    )
                problems.append(
                    entity.problem(
                        "error",
                        "dangling-reference",
                        f"{target} does not exist",
                        hint,
                        field_ref.path,
                    )
                )
                continue
            if field_ref.relation is not None:
                edge = (
                    (target, field_ref.relation, entity.ref)
                    if field_ref.reverse
                    else (entity.ref, field_ref.relation, target)
                )
                edges.append(edge)
    return edges


def report_cycles(
    entities: dict[Ref, Entity], edges: list[tuple[Ref, str, Ref]], problems: list[Problem]
) -> None:
    """Report each cycle of needs (hostedOn, frontedBy, dependsOn) once, showing the cycle."""
    graph: dict[Ref, list[tuple[str, Ref]]] = {}
    for source, relation, target in edges:
        if relation in SUPPORT_RELATIONS:
            graph.setdefault(source, []).append((relation, target))
    white, grey, black = 0, 1, 2
    color: dict[Ref, int] = {}
    reported: set[frozenset[Ref]] = set()
    for start in sorted(graph):
        if color.get(start, white) != white:
            continue
        stack: list[tuple[Ref, int]] = [(start, 0)]
        path: list[Ref] = []
        via: list[str] = []
        color[start] = grey
        path.append(start)
        while stack:
            node, index = stack[-1]
            successors = graph.get(node, [])
            if index < len(successors):
                stack[-1] = (node, index + 1)
                relation, nxt = successors[index]
                state = color.get(nxt, white)
                if state == white:
                    color[nxt] = grey
                    stack.append((nxt, 0))
                    path.append(nxt)
                    via.append(relation)
                elif state == grey:
                    at = path.index(nxt)
                    members = path[at:]
                    if frozenset(members) not in reported:
                        reported.add(frozenset(members))
                        relations = [*via[at:], relation]
                        shown = str(members[0]) + "".join(
                            f" --{rel}--> {ref}"
                            for rel, ref in zip(relations, [*members[1:], members[0]], strict=True)
                        )
                        problems.append(
                            entities[node].problem(
                                "error",
                                "cycle",
                                f"dependency cycle: {shown}",
                                "break the cycle: one of these cannot need the other",
                                ("spec", relation),
                            )
                        )
            else:
                color[node] = black
                stack.pop()
                path.pop()
                if via:
                    via.pop()


def serves_zone_edges(
    entities: dict[Ref, Entity], zone_records: dict[str, dict[str, Any]]
) -> list[tuple[Ref, str, Ref]]:
    """servesZone: the zone whose name is the longest suffix of a service's domain serves it."""
    zones = {e.name for e in entities.values() if e.kind == "zone"}
    edges = []
    for entity in entities.values():
        if not has_spec(entity, ServiceSpec):
            continue
        for domain in entity.spec.domains:
            labels = domain.lower().rstrip(".").split(".")
            for start in range(len(labels)):  # the longest suffix first
                zone = ".".join(labels[start:])
                if zone in zones:
                    edges.append((Ref("zone", zone), "servesZone", entity.ref))
                    break
    return edges
