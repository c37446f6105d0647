"""Which escalation policies an incident follows, and why (pure: catalog + incident).

1. The root's **own** policy: its ``escalation`` (a service or provider), else that of a team
   that owns it.
2. Otherwise the policies of what it takes down (**impacted**): the entities the catalog says
   go down with it, and those the incident records as impacted, each with its own policy as
   in 1; the catalog's default policy is followed too, if there is one. A CDN has no owner to
   page, the services behind it do.
3. Otherwise the catalog's **default** policy (``default: true``).
4. Otherwise **nobody**: the incident is recorded and flagged unrouted.

Several policies become one :class:`PolicySnapshot` (:func:`merged`): their steps with the same
``after`` are one step, so each person is paged once and gets one message naming every
impacted service.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from infradex.catalog.entities import Catalog, Entity
from infradex.catalog.models import EscalationPolicySpec, TeamSpec
from infradex.catalog.queries import impact
from infradex.catalog.refs import Ref, RefError, parse_ref
from infradex.catalog.specs import spec_escalation
from infradex.oncall.escalation import PolicySnapshot, StepSnapshot

__all__ = [
    "Route",
    "default_policy",
    "merged",
    "own_policy",
    "route",
    "routing_json",
    "unrouted_fix",
    "unrouted_reason",
    "unrouted_why",
]

Source = Literal["own", "impacted", "default", "nobody"]


@dataclass(frozen=True, slots=True)
class Route:
    """The policies to follow, in order, and one sentence saying why."""

    policies: tuple[Entity[EscalationPolicySpec], ...]
    source: Source
    reason: str

    @property
    def refs(self) -> list[str]:
        return [str(p.ref) for p in self.policies]


def _policy(catalog: Catalog, text: str | None) -> Entity[EscalationPolicySpec] | None:
    if not text:
        return None
    try:
        ref = parse_ref(text, ("escalationpolicy",))
    except RefError:
        return None
    return catalog.find(ref, EscalationPolicySpec)


def own_policy(catalog: Catalog, ref: Ref) -> tuple[Entity[EscalationPolicySpec], str] | None:
    """The entity's own policy, else an owning team's, with how it was found."""
    entity = catalog.entities.get(ref)
    if entity is None:
        return None
    own = _policy(catalog, spec_escalation(entity))
    if own is not None:
        return own, f"{ref}'s own"
    for owner in catalog.related(ref, "ownedBy"):
        if owner.kind == "team":
            team = _policy(catalog, catalog.typed(owner, TeamSpec).spec.escalation)
            if team is not None:
                return team, f"{owner}'s, which owns {ref}"
    return None


def default_policy(catalog: Catalog) -> Entity[EscalationPolicySpec] | None:
    return next((p for p in catalog.of_kind("escalationpolicy") if p.spec.default), None)


def _taken_down(catalog: Catalog, root: Ref) -> list[Ref]:
    """What the catalog says fails with ``root`` (not what is merely degraded: another
    member of its group still serves it)."""
    if root not in catalog:
        return []
    return [a.ref for a in impact(catalog, root).affected if a.effect == "down"]


def route(catalog: Catalog, root: Ref, impacted: Iterable[Ref] = ()) -> Route:
    """The policies an incident rooted at ``root`` follows; ``impacted``: the entities the
    incident records as impacted (beyond what the catalog says ``root`` takes down)."""
    own = own_policy(catalog, root)
    if own is not None:
        policy, how = own
        return Route((policy,), "own", f"{policy.ref} is {how} policy")
    policies: dict[Ref, Entity[EscalationPolicySpec]] = {}
    named: list[str] = []
    for ref in dict.fromkeys([*_taken_down(catalog, root), *impacted]):
        found = own_policy(catalog, ref)
        if found is not None:
            policies.setdefault(found[0].ref, found[0])
            named.append(str(ref))
    default = default_policy(catalog)
    if policies:
        if default is not None:
            policies.setdefault(default.ref, default)
        shown = ", ".join(named[:5]) + (f" and {len(named) - 5} more" if len(named) > 5 else "")
        return Route(
            tuple(policies.values()),
            "impacted",
            f"{root} has no escalation policy of its own: paging the policies of what it "
            f"takes down ({shown})" + (" and the default policy" if default else ""),
        )
    if default is not None:
        return Route(
            (default,),
            "default",
            f"{root} and what it takes down have no escalation policy: the default, {default.ref}",
        )
    return Route((), "nobody", unrouted_reason(root))


def unrouted_why(root: Ref) -> str:
    return (
        f"{root} has no escalation policy, nothing it takes down has one, and no policy is "
        "marked `default: true`"
    )


def unrouted_fix(root: Ref) -> str:
    where = root if root.kind in ("service", "provider") else f"the services on {root}"
    return f"mark a policy `default: true` or give {where} `escalation: …`"


def unrouted_reason(root: Ref) -> str:
    return f"nobody was paged: {unrouted_why(root)}; {unrouted_fix(root)}"


def merged(catalog: Catalog, policies: tuple[Entity[EscalationPolicySpec], ...]) -> PolicySnapshot:
    """One snapshot for several policies: steps with the same ``after`` become one (each person
    once per step), the longest cycle and the most repeats win, every policy's channels."""
    snapshots = [PolicySnapshot.of(catalog, p) for p in policies]
    if len(snapshots) <= 1:
        return snapshots[0] if snapshots else PolicySnapshot.of(catalog, None)
    steps: dict[Any, list[str]] = {}
    for snapshot in snapshots:
        for step in snapshot.steps:
            steps.setdefault(step.after, []).extend(step.notify)
    channels = {(c.type, c.address): c for s in snapshots for c in s.channels}
    return PolicySnapshot(
        snapshots[0].ref,
        " + ".join(s.title for s in snapshots),
        tuple(StepSnapshot(a, tuple(dict.fromkeys(n))) for a, n in sorted(steps.items())),
        max(s.repeat for s in snapshots),
        max(s.cycle for s in snapshots),
        tuple(channels.values()),
    )


def routing_json(catalog: Catalog, found: Route) -> dict[str, Any]:
    """What an incident stores as its policy: the merged snapshot and how it was routed."""
    data = merged(catalog, found.policies).to_dict()
    data["routing"] = {"source": found.source, "reason": found.reason, "policies": found.refs}
    return data
