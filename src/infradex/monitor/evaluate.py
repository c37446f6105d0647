"""From results to state: soft and hard states, flapping, maintenance and the canary.

Pure: :func:`advance` takes a check's state, one result's outcome and the circumstances, and
returns the new state, the status to store with the result and the state change, if any.

- **Soft and hard states** (Nagios): ``failure_threshold`` consecutive failures make a check
  down, ``success_threshold`` consecutive successes make it up again. A new check is *pending*
  until its first success (up at once) or ``failure_threshold`` failures (down).
- **Flapping** (Icinga 2's weighted window): over the last 21 outcomes, each change from the
  previous outcome counts with a weight from 0.8 (oldest) to 1.2 (newest). Above 30 % the
  check starts flapping, below 25 % it stops. A flapping check is shown as *flapping*; its
  hard state is still tracked, but the shown state does not toggle.
- **Maintenance**: results are stored with status *maintenance*, counters still run (so the
  hard state is right when the window ends), the shown state is *maintenance*.
- **Canary**: while the monitor's own connectivity check fails, a failing result is stored as
  *unknown* and moves no counter, so the monitor's outage never reads as everyone's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

__all__ = [
    "FLAP_HIGH",
    "FLAP_LOW",
    "HISTORY",
    "CheckState",
    "Circumstances",
    "Shown",
    "StateChange",
    "Status",
    "advance",
    "flap_percent",
]

HISTORY = 21  # outcomes kept: 20 transitions
FLAP_HIGH = 30.0  # percent weighted changes to start flapping (Icinga 2's default)
FLAP_LOW = 25.0  # ... and to stop


class Status(StrEnum):
    """What one stored result counts as (uptime counts ``up`` against ``down`` only)."""

    UP = "up"
    DOWN = "down"
    UNKNOWN = "unknown"
    MAINTENANCE = "maintenance"


class Shown(StrEnum):
    """The state people see."""

    PENDING = "pending"
    UP = "up"
    DOWN = "down"
    FLAPPING = "flapping"
    MAINTENANCE = "maintenance"
    UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class CheckState:
    check_id: str
    state: Shown = Shown.PENDING
    hard_state: Shown = Shown.PENDING  # pending, up or down
    failures: int = 0
    successes: int = 0
    flapping: bool = False
    history: str = ""  # "u"/"d" per outcome, oldest first, at most HISTORY
    since: datetime | None = None
    last_result_at: datetime | None = None
    last_status: Status | None = None
    last_message: str | None = None
    last_duration_ms: float | None = None
    last_observed: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Circumstances:
    maintenance: bool = False
    canary_down: bool = False
    failure_threshold: int = 3
    success_threshold: int = 2


@dataclass(frozen=True, slots=True)
class StateChange:
    check_id: str
    at: datetime
    from_state: Shown
    to_state: Shown
    reason: str


def flap_percent(history: str) -> float:
    """Weighted share of changes between consecutive outcomes, 0-100. The window always
    spans ``HISTORY - 1`` transitions (a young check's missing ones count as no change), so a
    new check's first recovery is not flapping."""
    window = HISTORY - 1
    changes = [history[i] != history[i + 1] for i in range(len(history) - 1)][-window:]
    changes = [False] * (window - len(changes)) + changes
    total = changed = 0.0
    for i, change in enumerate(changes):
        weight = 0.8 + 0.4 * i / (window - 1)
        total += weight
        if change:
            changed += weight
    return 100.0 * changed / total


def advance(
    state: CheckState,
    success: bool,
    at: datetime,
    message: str,
    duration_ms: float | None,
    circumstances: Circumstances,
    observed: dict[str, Any] | None = None,
) -> tuple[CheckState, Status, StateChange | None]:
    """One result's effect: the new state, the result's stored status, the change (if any)."""
    c = circumstances
    failures, successes, history = state.failures, state.successes, state.history
    hard, flapping = state.hard_state, state.flapping

    if not success and c.canary_down:
        status = Status.UNKNOWN
    else:
        status = Status.MAINTENANCE if c.maintenance else Status.UP if success else Status.DOWN
        if success:
            successes, failures = successes + 1, 0
        else:
            failures, successes = failures + 1, 0
        history = (history + ("u" if success else "d"))[-HISTORY:]
        if success and (hard == Shown.PENDING or successes >= c.success_threshold):
            hard = Shown.UP
        elif not success and failures >= c.failure_threshold:
            hard = Shown.DOWN
        percent = flap_percent(history)
        if not flapping and percent > FLAP_HIGH:
            flapping = True
        elif flapping and percent < FLAP_LOW:
            flapping = False

    if status is Status.UNKNOWN:
        shown = Shown.UNKNOWN
    elif c.maintenance:
        shown = Shown.MAINTENANCE
    elif flapping:
        shown = Shown.FLAPPING
    else:
        shown = hard

    change = None
    since = state.since
    if shown != state.state:
        since = at
        change = StateChange(state.check_id, at, state.state, shown, _reason(shown, message, c))
    new = replace(
        state,
        state=shown,
        hard_state=hard,
        failures=failures,
        successes=successes,
        flapping=flapping,
        history=history,
        since=since,
        last_result_at=at,
        last_status=status,
        last_message=message,
        last_duration_ms=duration_ms,
        last_observed=observed,
    )
    return new, status, change


def _reason(shown: Shown, message: str, c: Circumstances) -> str:
    if shown is Shown.UNKNOWN:
        return f"the monitor's connectivity canary is failing; not counted: {message}"
    if shown is Shown.MAINTENANCE:
        return "in a maintenance window"
    if shown is Shown.FLAPPING:
        return "changing state too often (flapping); alerts are held until it settles"
    if shown is Shown.DOWN:
        return f"{c.failure_threshold} consecutive failures: {message}"
    return message
