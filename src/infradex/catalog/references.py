"""Where references live in each kind, which kinds they may point at, and which relation each
one creates. The cross-reference check and the relation graph both read this one table."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infradex.catalog.models import (
    DatacenterSpec,
    EscalationPolicySpec,
    HostSpec,
    PersonSpec,
    ProviderSpec,
    ScheduleSpec,
    ServiceSpec,
    Spec,
    TeamSpec,
    ZoneSpec,
)

__all__ = ["DEPENDENCY_KINDS", "RELATIONS", "ReferenceField", "reference_fields"]

#: each relation and its inverse (catalog.md, plus the extensions in docs/catalog.md)
RELATIONS: dict[str, str] = {
    "ownedBy": "ownerOf",
    "dependsOn": "dependencyOf",
    "hostedOn": "hosts",
    "frontedBy": "fronts",
    "memberOf": "hasMember",
    "locatedIn": "contains",
    "providedBy": "provides",
    "escalatesTo": "escalationFor",
    "servesZone": "zoneOf",
    "registeredWith": "registrarOf",
    "inRotation": "rotation",
    "notifies": "notifiedBy",
}


@dataclass(frozen=True, slots=True)
class ReferenceField:
    """One reference as written: its path in the document, its text, the kinds it may name,
    and the relation it creates (``reverse``: the relation runs from the target to us)."""

    path: tuple[str | int, ...]
    text: Any
    allowed: tuple[str, ...]
    relation: str | None
    reverse: bool = False


_SERVICE_HOSTS = ("provider", "datacenter", "host", "service")
#: what a service's dependsOn may name: catalog.md's services and providers, plus (extension)
#: a host it needs without running on it and a zone it is reached through under another
#: service's domain
DEPENDENCY_KINDS = ("service", "provider", "host", "zone")


def reference_fields(kind: str, spec: Spec) -> Iterator[ReferenceField]:
    """Every reference in a validated spec model. The model says which kind it is; ``kind``
    (the entity's) is what the Catalog checks it against, so it is not read again here."""
    p = ("spec",)
    if isinstance(spec, ServiceSpec):
        for i, text in enumerate(spec.hosted_on):
            yield ReferenceField((*p, "hostedOn", i), text, _SERVICE_HOSTS, "hostedOn")
        for i, text in enumerate(spec.fronted_by):
            yield ReferenceField((*p, "frontedBy", i), text, ("provider", "service"), "frontedBy")
        for i, dependency in enumerate(spec.depends_on):
            yield ReferenceField(
                (*p, "dependsOn", i), dependency.ref, DEPENDENCY_KINDS, "dependsOn"
            )
        for i, owner in enumerate(spec.owners):
            yield ReferenceField((*p, "owners", i, "ref"), owner.ref, ("person", "team"), "ownedBy")
        if spec.escalation is not None:
            yield ReferenceField(
                (*p, "escalation"), spec.escalation, ("escalationpolicy",), "escalatesTo"
            )
    if isinstance(spec, ProviderSpec) and spec.escalation is not None:
        yield ReferenceField(
            (*p, "escalation"), spec.escalation, ("escalationpolicy",), "escalatesTo"
        )
    if isinstance(spec, (ServiceSpec, ProviderSpec)):
        for i, check in enumerate(spec.checks):
            for j, text in enumerate(check.locations):
                yield ReferenceField((*p, "checks", i, "locations", j), text, ("datacenter",), None)
    elif isinstance(spec, DatacenterSpec):
        yield ReferenceField((*p, "provider"), spec.provider, ("provider",), "providedBy")
    elif isinstance(spec, HostSpec):
        yield ReferenceField((*p, "datacenter"), spec.datacenter, ("datacenter",), "locatedIn")
    elif isinstance(spec, PersonSpec):
        for i, text in enumerate(spec.member_of):
            yield ReferenceField((*p, "memberOf", i), text, ("team",), "memberOf")
    elif isinstance(spec, TeamSpec):
        for i, text in enumerate(spec.members):
            yield ReferenceField((*p, "members", i), text, ("person",), "memberOf", reverse=True)
        if spec.escalation is not None:
            yield ReferenceField(
                (*p, "escalation"), spec.escalation, ("escalationpolicy",), "escalatesTo"
            )
    elif isinstance(spec, ZoneSpec):
        yield ReferenceField((*p, "provider"), spec.provider, ("provider",), "hostedOn")
        if spec.registrar is not None:
            yield ReferenceField((*p, "registrar"), spec.registrar, ("provider",), "registeredWith")
    elif isinstance(spec, ScheduleSpec):
        for i, layer in enumerate(spec.layers):
            for j, text in enumerate(layer.members):
                yield ReferenceField(
                    (*p, "layers", i, "members", j), text, ("person",), "inRotation", reverse=True
                )
        for i, override in enumerate(spec.overrides):
            yield ReferenceField(
                (*p, "overrides", i, "person"),
                override.person,
                ("person",),
                "inRotation",
                reverse=True,
            )
    elif isinstance(spec, EscalationPolicySpec):
        for i, step in enumerate(spec.steps):
            for j, text in enumerate(step.notify):
                yield ReferenceField(
                    (*p, "steps", i, "notify", j), text, ("schedule", "person", "team"), "notifies"
                )
