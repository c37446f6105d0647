"""A zone's drift as the monitor checks it (``url: dns-drift://python.org`` on a check): the
live records compared with the catalog's, through the same octoDNS plan as ``infradex dns
drift``, and the differences said record by record, so that a hand edit in the provider's
console opens an incident that names what was edited.

:func:`drift_target` resolves a check's zone from the catalog when the monitor builds its
checks (pure); :func:`live_changes` reads the live zone (blocking I/O: the probe runs it in a
worker thread); :func:`describe` words the differences (pure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infradex.catalog import Catalog
from infradex.dns.plan import RecordChange, plan_zone
from infradex.dns.providers import (
    DEFAULT_CLASSES,
    DnsProviderError,
    ZoneTarget,
    build_provider,
    zone_targets,
)
from infradex.errors import NotFoundError
from infradex.netpolicy import AddressPolicy

__all__ = ["DriftTarget", "describe", "drift_target", "live_changes"]

#: at most this many differences are named in a check's message; the rest are counted
SHOWN = 5


@dataclass(frozen=True, slots=True, eq=False)
class DriftTarget:
    """A catalog zone as a drift check compares it: its provider and its records, or why it
    cannot be compared (``problem``, the check's error until the catalog is fixed). Compared
    by identity: a reload builds a new one."""

    zone: str
    target: ZoneTarget | None
    records: dict[str, Any]
    allowed: frozenset[str]
    problem: str | None = None

    def differences(self, policy: AddressPolicy) -> tuple[list[dict[str, Any]], str]:
        """What the ``dns-drift`` probe asks (``probes.base.ZoneComparison``): the records
        that differ now and a sentence naming them ('' when in sync). Blocking."""
        changes = live_changes(self, policy)
        return [c.to_dict() for c in changes], describe(self.zone, changes) if changes else ""


def drift_target(catalog: Catalog, zone: str, extra_classes: frozenset[str]) -> DriftTarget:
    """The zone a ``dns-drift://ZONE`` check names, with its provider and records; a zone
    that is not in the catalog, or whose provider has no ``octodns`` settings, becomes a
    target with a ``problem`` (the check fails with it) rather than an error that would stop
    the monitor taking up the rest of the catalog."""
    allowed = DEFAULT_CLASSES | extra_classes
    name = zone.rstrip(".").lower()
    try:
        [target] = zone_targets(catalog, [name])
    except (NotFoundError, DnsProviderError) as exc:
        return DriftTarget(name, None, {}, allowed, str(exc))
    if name not in catalog.zone_records:
        return DriftTarget(
            name, None, {}, allowed, f"zone {name}'s records have errors: run `infradex validate`"
        )
    return DriftTarget(name, target, catalog.zone_records[name], allowed)


def live_changes(zone: DriftTarget, policy: AddressPolicy) -> tuple[RecordChange, ...]:
    """What applying the catalog would change in the live zone now: nothing when in sync.
    Raises :class:`DnsProviderError` when the provider cannot be built or read."""
    if zone.target is None:
        raise DnsProviderError(zone.problem or f"zone {zone.zone} cannot be compared")
    provider = build_provider(zone.target.provider, allowed=zone.allowed, policy=policy)
    return plan_zone(zone.target, provider, zone.records).changes


def _values(change: RecordChange, live: bool) -> str:
    data = change.before if live else change.after
    return ", ".join(data.values) if data else ""


def describe(zone: str, changes: Sequence[RecordChange]) -> str:
    """One line naming each difference, live state first (the plan's "before" is what the
    provider serves, its "after" what the catalog says)."""
    parts = []
    for change in changes[:SHOWN]:
        record = f"{change.fqdn} {change.type}"
        if change.action == "create":
            parts.append(f"{record} is missing live (catalog: {_values(change, live=False)})")
        elif change.action == "delete":
            parts.append(f"{record} is live ({_values(change, live=True)}) but not in the catalog")
        else:
            before, after = change.before, change.after
            if before and after and before.values == after.values:
                parts.append(f"{record} has TTL {before.ttl} live, {after.ttl} in the catalog")
            else:
                parts.append(
                    f"{record} is {_values(change, live=True)} live, "
                    f"{_values(change, live=False)} in the catalog"
                )
    more = f"; and {len(changes) - SHOWN} more" if len(changes) > SHOWN else ""
    return (
        f"zone {zone} differs from the catalog in {len(changes)} record(s): "
        + "; ".join(parts)
        + more
        + " (a hand edit at the provider, or catalog changes not applied: "
        "`infradex dns plan` shows the plan that would restore the catalog's records)"
    )
