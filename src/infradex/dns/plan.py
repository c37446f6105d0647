"""Plans: what applying the catalog's zones would change at their providers, fingerprinted.

A plan is computed by octoDNS (the provider reads its live zone and compares it with the
desired one) and turned into :class:`RecordChange` values: zone, name, type, and the record
before and after in DNS text form. The checksum covers exactly those, so ``dns apply
--checksum`` applies only the plan that was reviewed: if the live zone or the catalog moved
since, the checksum differs and nothing is applied.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from infradex.catalog import Catalog, Entity
from infradex.catalog.models import ProviderSpec
from infradex.dns.desired import desired_zone
from infradex.dns.providers import (
    DnsProviderError,
    ZoneTarget,
    error_text,
    provider_factory,
    zone_targets,
)
from infradex.settings import Settings

__all__ = [
    "DnsPlan",
    "ProviderFactory",
    "RecordChange",
    "RecordData",
    "ZonePlan",
    "checksum_of",
    "compute_plan",
    "plan_zone",
    "plan_zones",
]

Action = Literal["create", "update", "delete"]
#: builds the octoDNS provider of a catalog Provider (providers.build_provider, configured)
ProviderFactory = Callable[[Entity[ProviderSpec]], Any]


@dataclass(frozen=True, slots=True)
class RecordData:
    """One record set as DNS text: its TTL and its values (``10 mail.python.org.``)."""

    ttl: int
    values: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"ttl": self.ttl, "values": list(self.values)}


@dataclass(frozen=True, slots=True)
class RecordChange:
    zone: str  # python.org (no trailing dot)
    name: str  # the record's key in the zone: '' for the apex
    type: str
    action: Action
    before: RecordData | None
    after: RecordData | None

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.zone}" if self.name else self.zone

    def to_dict(self) -> dict[str, Any]:
        return {
            "zone": self.zone,
            "name": self.name,
            "fqdn": self.fqdn,
            "type": self.type,
            "action": self.action,
            "before": self.before.to_dict() if self.before else None,
            "after": self.after.to_dict() if self.after else None,
        }


@dataclass(frozen=True, slots=True)
class ZonePlan:
    zone: str
    provider: str  # provider:route53
    changes: tuple[RecordChange, ...]
    unsafe: str | None = None  # octoDNS's safety verdict (too many updates/deletes, root NS)
    # octoDNS's own plan and the provider that made it, for ``apply``; not in the checksum
    octodns_plan: Any = field(default=None, compare=False, repr=False)
    octodns_provider: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class DnsPlan:
    zones: tuple[ZonePlan, ...]

    @property
    def changes(self) -> list[RecordChange]:
        return [c for z in self.zones for c in z.changes]

    @property
    def checksum(self) -> str:
        return checksum_of(self.zones)


def checksum_of(zones: Sequence[ZonePlan]) -> str:
    """A fingerprint of exactly what would be applied: every zone planned (with no changes
    too, so a plan for one zone is not a plan for two) and every change, before and after."""
    canonical = [
        {"zone": z.zone, "provider": z.provider, "changes": [c.to_dict() for c in z.changes]}
        for z in sorted(zones, key=lambda z: z.zone)
    ]
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _data(record: Any) -> RecordData | None:
    if record is None:
        return None
    rrset = record.to_rrset()
    return RecordData(int(rrset.ttl), tuple(sorted(str(v) for v in rrset.rdatas)))


def _change(zone: str, change: Any) -> RecordChange:
    kind = type(change).__name__.lower()
    action: Action = "create" if kind == "create" else "delete" if kind == "delete" else "update"
    record = change.record
    return RecordChange(
        zone=zone,
        name=str(record.name),
        type=str(record._type),
        action=action,
        before=_data(change.existing),
        after=_data(change.new),
    )


def _order(change: RecordChange) -> tuple[str, str, str]:
    return (change.zone, change.name, change.type)


def plan_zone(target: ZoneTarget, provider: Any, records: dict[str, Any]) -> ZonePlan:
    """Ask ``provider`` (octoDNS) what it would change to serve ``records`` for the zone."""
    from octodns.provider.plan import UnsafePlan

    logging.getLogger("octodns").setLevel(logging.WARNING)
    zone = target.name.rstrip(".")
    desired = desired_zone(target.name, records)
    try:
        if not hasattr(provider, "plan"):  # a source (AXFR): it can be read, not written
            return _read_only(target, provider, desired)
        plan = provider.plan(desired)
    except Exception as exc:  # each provider raises its own (DNS, botocore, HTTP) errors
        raise _unreadable(target, exc) from None
    if plan is None:
        return ZonePlan(zone, str(target.provider.ref), ())
    unsafe = None
    try:
        plan.raise_if_unsafe()
    except UnsafePlan as exc:
        unsafe = str(exc)
    changes = tuple(sorted((_change(zone, c) for c in plan.changes), key=_order))
    return ZonePlan(zone, str(target.provider.ref), changes, unsafe, plan, provider)


def _read_only(target: ZoneTarget, source: Any, desired: Any) -> ZonePlan:
    """The differences between a source's live zone and the desired one, for ``drift``;
    ``apply`` refuses it (no provider to write with)."""
    from octodns.zone import Zone

    live = Zone(target.name, [])
    source.populate(live, lenient=True)
    zone = target.name.rstrip(".")
    changes = tuple(sorted((_change(zone, c) for c in live.changes(desired, source)), key=_order))
    return ZonePlan(zone, str(target.provider.ref), changes)


def _unreadable(target: ZoneTarget, exc: Exception) -> DnsProviderError:
    reason = error_text(exc)
    return DnsProviderError(
        f"cannot read the live zone {target.zone.name} from {target.provider.ref}: {reason}; "
        "check its octodns settings (host, credentials) and that the zone exists there"
    )


def compute_plan(
    catalog: Catalog, targets: Sequence[ZoneTarget], build: ProviderFactory
) -> DnsPlan:
    """The plan for every zone in ``targets``, each against its provider's live state."""
    providers: dict[str, Any] = {}
    zones = []
    for target in targets:
        key = str(target.provider.ref)
        if key not in providers:
            providers[key] = build(target.provider)
        records = catalog.zone_records.get(target.zone.name, {})
        zones.append(plan_zone(target, providers[key], records))
    return DnsPlan(tuple(zones))


def plan_zones(catalog: Catalog, zones: Sequence[str], settings: Settings) -> DnsPlan:
    """The plan for the zones named (all when none), each against its live provider, built
    as the operator allows. Blocking (octoDNS is synchronous): the server runs it in a
    worker thread."""
    return compute_plan(catalog, zone_targets(catalog, zones), provider_factory(settings))
