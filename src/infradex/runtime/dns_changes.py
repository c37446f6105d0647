"""The books of a DNS apply, for ``infradex dns apply`` and the server's DNS API alike: the
maintenance windows of the services it touches, written before its first change, and its
audit entry, after. It joins two rooms (``dns`` says what a plan touches, ``monitor`` keeps
windows), which is the runtime's part: ``dns`` itself imports no monitor, so that the monitor
can import ``dns`` to build its DNS drift checks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from infradex.dns.annotate import AnnotatedChange
from infradex.dns.plan import DnsPlan
from infradex.monitor import history
from infradex.monitor.maintenance import Window
from infradex.store.audit import audit
from infradex.store.db import Database

__all__ = ["APPLY_ALLOWANCE", "maintenance_windows", "record_apply", "record_windows"]

#: how long an apply itself is allowed in a maintenance window, before the old TTLs run out
APPLY_ALLOWANCE = timedelta(minutes=2)


def maintenance_windows(
    annotated: Sequence[AnnotatedChange], now: datetime, checksum: str, source: str = "cli"
) -> list[Window]:
    """One window per service the plan touches, from now until the apply has had its
    allowance and the longest old TTL among that service's changes has passed (resolvers may
    serve the old answer until then, so its checks may fail for a while without an outage)."""
    longest: dict[str, int] = {}
    for item in annotated:
        ttl = item.change.before.ttl if item.change.before else 0
        for service in item.services:
            longest[service.ref] = max(longest.get(service.ref, 0), ttl)
    return [
        Window(
            target=ref,
            starts_at=now,
            ends_at=now + APPLY_ALLOWANCE + timedelta(seconds=ttl),
            reason=f"DNS change {checksum} (infradex dns apply)",
            source=source,
        )
        for ref, ttl in sorted(longest.items())
    ]


async def record_windows(
    db: Database, windows: Sequence[Window], actor: str, now: datetime
) -> None:
    """Write an apply's maintenance windows before its first change (the monitor picks them
    up within 15 s; the apply and the old TTLs take longer)."""
    for window in windows:
        await history.add_window(db, window, actor, now)


async def record_apply(
    db: Database,
    plan: DnsPlan,
    zones: Sequence[str],
    *,
    force: bool,
    actor: str,
    now: datetime,
    remote_addr: str | None = None,
) -> None:
    """The audit entry of an apply: who, which zones, the checksum and every change."""
    await audit(
        db,
        at=now,
        actor=actor,
        action="dns.apply",
        target=", ".join(zones) or None,
        detail={
            "checksum": plan.checksum,
            "force": force,
            "changes": [c.to_dict() for c in plan.changes],
        },
        remote_addr=remote_addr,
    )
