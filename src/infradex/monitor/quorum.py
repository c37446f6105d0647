"""k of n: one verdict for a check that runs from several locations.

Pure. A check with ``locations`` is judged per location first (each location has its own
:class:`~infradex.monitor.evaluate.CheckState`, advanced by the same
:func:`~infradex.monitor.evaluate.advance`, so thresholds and flapping work per location).
:func:`combine` then turns the locations' states into the check's verdict:

- A location whose last result is older than ``stale_after`` is **stale**. It is never
  counted as down, and it does not count toward the quorum either way: an agent that cannot
  reach the server says nothing about the target.
- The check is **down** when at least ``quorum`` fresh locations are (hard) down.
- When some fresh locations are down but fewer than ``quorum``, the check is **up**, and the
  verdict names the failing locations: a *location problem*, shown as such and routed at a
  lower severity, never an outage.
- When no location gives a fresh verdict (all stale, or unknown because their own canary
  fails), nobody can tell: the check is **unknown**, and the verdict says which are stale.
  Stale agents are incidents of their own (the infrastructure team's), not this check's.
- Maintenance on the check wins over everything (every location reports it alike).
- A check that no location has reported yet is **pending**.

Flapping at a location counts as neither up nor down for the quorum (its hard state is
still tracked and used): the quorum looks at each location's ``hard_state``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from infradex.monitor.evaluate import CheckState, Shown

__all__ = ["LocationHealth", "QuorumVerdict", "combine", "location_health"]


class LocationHealth:
    """How one location's view of a check counts (plain strings, for pages and the store)."""

    UP = "up"
    DOWN = "down"
    PENDING = "pending"
    MAINTENANCE = "maintenance"
    STALE = "stale"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class QuorumVerdict:
    """The check's state from its locations, and why."""

    state: Shown
    reason: str
    down: tuple[str, ...] = ()  # fresh locations that are hard down
    up: tuple[str, ...] = ()
    stale: tuple[str, ...] = ()
    pending: tuple[str, ...] = ()

    @property
    def location_problem(self) -> bool:
        """Some locations fail, too few to call it an outage."""
        return self.state is Shown.UP and bool(self.down)


def location_health(state: CheckState | None, now: datetime, stale_after: timedelta) -> str:
    """One location's health for the quorum (see :class:`LocationHealth`)."""
    if state is None or state.last_result_at is None:
        return LocationHealth.PENDING
    if now - state.last_result_at > stale_after:
        return LocationHealth.STALE
    if state.state is Shown.MAINTENANCE:
        return LocationHealth.MAINTENANCE
    if state.state is Shown.UNKNOWN:
        return LocationHealth.UNKNOWN
    if state.hard_state is Shown.DOWN:
        return LocationHealth.DOWN
    if state.hard_state is Shown.UP:
        return LocationHealth.UP
    return LocationHealth.PENDING


def combine(
    states: Mapping[str, CheckState | None],
    *,
    locations: tuple[str, ...] | list[str],
    quorum: int,
    now: datetime,
    stale_after: timedelta,
) -> QuorumVerdict:
    """The verdict for one check from ``states`` (location → its state, or None if that
    location has not reported). Only ``locations`` count; states from elsewhere are ignored.
    ``quorum`` must be between 1 and ``len(locations)`` (the catalog checks this)."""
    if not locations:
        raise ValueError("a quorum needs at least one location")
    if not 1 <= quorum <= len(locations):
        raise ValueError(f"quorum {quorum} must be between 1 and {len(locations)}")
    health = {loc: location_health(states.get(loc), now, stale_after) for loc in locations}

    def named(kind: str) -> tuple[str, ...]:
        return tuple(sorted(loc for loc, h in health.items() if h == kind))

    down, up, stale = (
        named(LocationHealth.DOWN),
        named(LocationHealth.UP),
        named(LocationHealth.STALE),
    )
    pending = named(LocationHealth.PENDING) + named(LocationHealth.UNKNOWN)
    maintenance = named(LocationHealth.MAINTENANCE)
    parts = dict(down=down, up=up, stale=stale, pending=pending)

    if maintenance:
        return QuorumVerdict(Shown.MAINTENANCE, "in a maintenance window", **parts)
    if len(down) >= quorum:
        return QuorumVerdict(
            Shown.DOWN,
            f"down from {len(down)} of {len(locations)} locations ({_list(down)}), quorum {quorum}",
            **parts,
        )
    if not up and not down:
        if not stale and not named(LocationHealth.UNKNOWN):
            return QuorumVerdict(Shown.PENDING, "no location has reported yet", **parts)
        return QuorumVerdict(
            Shown.UNKNOWN,
            f"no location can tell: {_list(stale + pending)} not reporting a verdict",
            **parts,
        )
    if down:
        return QuorumVerdict(
            Shown.UP,
            f"location problem: down from {_list(down)} only, fewer than the quorum of {quorum}",
            **parts,
        )
    return QuorumVerdict(Shown.UP, f"up from {len(up)} of {len(locations)} locations", **parts)


def _list(names: tuple[str, ...]) -> str:
    return ", ".join(names)
