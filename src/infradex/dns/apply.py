"""Apply exactly the plan that was reviewed: the checksum of a fresh plan must equal the one
given, octoDNS's safety thresholds hold unless overridden, and a failure says which zones
were applied and which were left untouched."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from infradex.dns.plan import DnsPlan
from infradex.dns.providers import error_text
from infradex.errors import InfradexError

__all__ = ["Applied", "DnsApplyError", "apply_plan"]


class DnsApplyError(InfradexError):
    """Nothing (or only the zones named) was applied; the message says what to do."""


@dataclass(frozen=True, slots=True)
class Applied:
    zones: tuple[str, ...]  # the zones changed, in order
    changes: int


def apply_plan(
    plan: DnsPlan,
    checksum: str,
    *,
    force: bool = False,
    before: Callable[[], None] | None = None,
) -> Applied:
    """Apply ``plan`` (computed just now against the live zones) if it is the plan whose
    checksum was reviewed. Zones are applied one at a time, as octoDNS does. ``before`` runs
    once every check has passed and before the first change (maintenance windows)."""
    given = checksum.strip().lower()
    if plan.checksum != given:
        raise DnsApplyError(
            f"the plan is now {plan.checksum}, not {given}: the live zones or the catalog "
            "changed since it was reviewed; nothing was applied. Run `infradex dns plan` "
            "again, review it, and apply its checksum"
        )
    unsafe = [z for z in plan.zones if z.unsafe]
    if unsafe and not force:
        reasons = "; ".join(f"{z.zone}: {z.unsafe}" for z in unsafe)
        raise DnsApplyError(
            f"the plan is unsafe by octoDNS's thresholds ({reasons}); nothing was applied. "
            "If the changes are meant, apply again with --force"
        )
    read_only = [z.zone for z in plan.zones if z.changes and z.octodns_provider is None]
    if read_only:
        raise DnsApplyError(
            f"{', '.join(read_only)} are read through a source that cannot write (AXFR); "
            "nothing was applied. Give their provider an octoDNS class that writes, e.g. "
            "octodns_bind.Rfc2136Provider"
        )
    done: list[str] = []
    if before is not None:
        before()
    pending = [z for z in plan.zones if z.changes]
    for index, zone in enumerate(pending):
        try:
            zone.octodns_provider.apply(zone.octodns_plan)
        except Exception as exc:  # each provider raises its own errors
            rest = [z.zone for z in pending[index + 1 :]]
            raise DnsApplyError(
                f"applying {zone.zone} failed: {error_text(exc)}. Applied before "
                f"it: {', '.join(done) or 'none'}; not touched: {', '.join(rest) or 'none'}. "
                f"{zone.zone} itself may be partly applied: run `infradex dns plan` to see "
                "where it stands"
            ) from None
        done.append(zone.zone)
    return Applied(tuple(done), sum(len(z.changes) for z in pending))
