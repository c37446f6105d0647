"""The books of a DNS apply, for ``infradex dns apply`` and the server's DNS API alike: its
maintenance windows, written before the first change, and its audit entry, after."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from infradex.dns.plan import DnsPlan
from infradex.monitor import history
from infradex.monitor.maintenance import Window
from infradex.store.audit import audit
from infradex.store.db import Database

__all__ = ["record_apply", "record_windows"]


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
