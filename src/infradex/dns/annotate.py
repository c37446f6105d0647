"""What each planned DNS change touches, by the catalog: the services whose names it changes,
who owns them, who is on call for them now, whether a CDN fronts them, and a risk grade with
its reasons. Pure: the catalog and the moment in, annotations out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from infradex.catalog import Catalog, Entity
from infradex.catalog.models import ServiceSpec
from infradex.catalog.refs import Ref
from infradex.dns.plan import RecordChange
from infradex.oncall.escalation import recipients
from infradex.oncall.routing import merged, route

__all__ = [
    "AnnotatedChange",
    "Risk",
    "ServiceNames",
    "TouchedService",
    "annotate",
    "annotate_all",
    "services_named",
]

Grade = Literal["low", "medium", "high"]
_RANK: dict[Grade, int] = {"low": 0, "medium": 1, "high": 2}
#: a TTL above this when a name is repointed: resolvers keep the old answer that long
MOVE_TTL = 300
#: record types at the apex that change the whole zone's delegation, mail or certificates
_ZONE_WIDE = {
    "NS": "changes the zone's delegation (NS): every name in it depends on this",
    "MX": "changes where the zone's mail goes (MX)",
    "CAA": "changes which certificate authorities may issue for the zone (CAA)",
}


@dataclass(frozen=True, slots=True)
class TouchedService:
    ref: str
    title: str
    lifecycle: str
    owners: tuple[str, ...]  # titles of owning teams and people
    on_call: tuple[str, ...]  # who the service's policy would page now (its first step)
    fronted_by: tuple[str, ...]  # CDN providers in front of it (``frontedBy``)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ref": self.ref,
            "title": self.title,
            "lifecycle": self.lifecycle,
            "owners": list(self.owners),
            "onCall": list(self.on_call),
            "frontedBy": list(self.fronted_by),
        }


@dataclass(frozen=True, slots=True)
class Risk:
    grade: Grade
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AnnotatedChange:
    change: RecordChange
    services: tuple[TouchedService, ...]
    risk: Risk

    def to_dict(self) -> dict[str, Any]:
        return {
            **self.change.to_dict(),
            "services": [s.to_dict() for s in self.services],
            "risk": {"grade": self.risk.grade, "reasons": list(self.risk.reasons)},
        }


def _on_call(catalog: Catalog, service: Entity, now: datetime) -> tuple[str, ...]:
    found = route(catalog, service.ref)
    if not found.policies:
        return ()
    steps = merged(catalog, found.policies).steps
    if not steps:
        return ()
    return tuple(r.title for r in recipients(catalog, steps[0].notify, now).recipients)


def _touched(catalog: Catalog, service: Entity[ServiceSpec], now: datetime) -> TouchedService:
    return TouchedService(
        ref=str(service.ref),
        title=service.title,
        lifecycle=service.spec.lifecycle,
        owners=tuple(catalog.title(r) for r in catalog.related(service.ref, "ownedBy")),
        on_call=_on_call(catalog, service, now),
        fronted_by=tuple(str(r) for r in catalog.related(service.ref, "frontedBy")),
    )


class ServiceNames:
    """The services by the names they claim, built once per plan: a change finds its
    services by one lookup instead of a scan of every service's domains."""

    def __init__(self, catalog: Catalog) -> None:
        self._services = catalog.of_kind("service")
        self._by_name: dict[str, list[Entity[ServiceSpec]]] = {}
        for service in self._services:
            for domain in dict.fromkeys(d.rstrip(".").lower() for d in service.spec.domains):
                self._by_name.setdefault(domain, []).append(service)
        self._by_zone: dict[str, list[Entity[ServiceSpec]]] = {}

    def touched_by(self, change: RecordChange) -> list[Entity[ServiceSpec]]:
        """The services whose domains the change touches: the name itself, or for a
        zone-wide record at the apex (NS, MX, CAA) every service with a name in the zone."""
        if change.name == "" and change.type in _ZONE_WIDE:
            return self.in_zone(change.zone)
        return list(self._by_name.get(change.fqdn.lower(), ()))

    def in_zone(self, zone: str) -> list[Entity[ServiceSpec]]:
        """Every service with a name in ``zone`` (the apex or below), in catalog order."""
        if zone not in self._by_zone:
            self._by_zone[zone] = [
                service
                for service in self._services
                if any(
                    d.rstrip(".").lower() == zone or d.rstrip(".").lower().endswith("." + zone)
                    for d in service.spec.domains
                )
            ]
        return list(self._by_zone[zone])


def services_named(catalog: Catalog, change: RecordChange) -> list[Entity[ServiceSpec]]:
    """The services whose domains ``change`` touches (:meth:`ServiceNames.touched_by`)."""
    return ServiceNames(catalog).touched_by(change)


def risk_of(change: RecordChange, services: Sequence[TouchedService]) -> Risk:
    """The grade and every reason for it; the grade is the highest reason's."""
    reasons: list[tuple[Grade, str]] = []
    production = [s.title for s in services if s.lifecycle == "production"]
    named = ", ".join(production)
    if change.name == "" and change.type in _ZONE_WIDE:
        reasons.append(("high" if change.type == "NS" else "medium", _ZONE_WIDE[change.type]))
    elif change.name == "":
        reasons.append(("medium", "touches the zone apex"))
    before, after = change.before, change.after
    if change.action == "delete" and production:
        reasons.append(("high", f"deletes the name of production service {named}"))
    elif change.action == "update" and before and after and before.values != after.values:
        if production:
            reasons.append(("high", f"repoints production service {named}"))
        if before.ttl > MOVE_TTL:
            reasons.append(
                (
                    "medium",
                    f"resolvers keep the old answer for up to {before.ttl} s; lower the TTL "
                    "first and move once the old TTL has passed",
                )
            )
    elif change.action == "update" and before and after and after.ttl < before.ttl:
        reasons.append(("low", f"lowers the TTL from {before.ttl} to {after.ttl} s"))
    if services and not production and change.action != "create":
        reasons.append(("medium", f"touches {', '.join(s.title for s in services)}"))
    if not reasons:
        reasons.append(("low", "touches no production service's name"))
    grade = max((g for g, _ in reasons), key=_RANK.__getitem__)
    return Risk(grade, tuple(text for _, text in reasons))


def annotate(catalog: Catalog, change: RecordChange, now: datetime) -> AnnotatedChange:
    return annotate_all(catalog, [change], now)[0]


def annotate_all(
    catalog: Catalog, changes: Sequence[RecordChange], now: datetime
) -> list[AnnotatedChange]:
    """Every change annotated; each service's owners and on-call people are worked out once
    per plan, however many changes touch it."""
    names = ServiceNames(catalog)
    touched: dict[Ref, TouchedService] = {}
    out = []
    for change in changes:
        services = []
        for service in names.touched_by(change):
            if service.ref not in touched:
                touched[service.ref] = _touched(catalog, service, now)
            services.append(touched[service.ref])
        out.append(AnnotatedChange(change, tuple(services), risk_of(change, services)))
    return out
