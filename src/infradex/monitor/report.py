"""How a check is described to people and programs: one dict shared by the API, the pages
and ``/metrics``. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infradex.monitor.checks import CheckDef
from infradex.monitor.evaluate import CheckState

__all__ = [
    "DEGRADED_STATES",
    "NOT_MONITORED",
    "STATE_ORDER",
    "check_summary",
    "shown_state",
    "state_rank",
    "worst",
]

NOT_MONITORED = "not monitored"
#: shown states from the worst to the best, the order a console lists checks in
STATE_ORDER = ("down", "flapping", "unknown", "maintenance", "pending", "up", NOT_MONITORED)
#: states counted as "degraded" at a glance: failing on and off, or not known to work
DEGRADED_STATES = frozenset({"flapping", "unknown"})


def state_rank(state: str) -> int:
    """0 for the worst state (down); unknown words after every known one."""
    return STATE_ORDER.index(state) if state in STATE_ORDER else len(STATE_ORDER)


def worst(states: Iterable[str]) -> str | None:
    """The worst of ``states`` (an entity's health from its checks'), None if there are none."""
    return min(states, key=state_rank, default=None)


def shown_state(state: CheckState | None, monitored: bool) -> str:
    """The state people see; without a state row, the check has not run: ``pending`` if a
    monitor runs, ``not monitored`` if none does."""
    return str(state.state) if state else ("pending" if monitored else NOT_MONITORED)


def check_summary(check: CheckDef, state: CheckState | None, monitored: bool) -> dict[str, Any]:
    """The check's definition and its current state. Without a state row the check has not
    run: ``pending`` if a monitor runs, ``not monitored`` if none does."""
    shown = shown_state(state, monitored)
    observed = (state.last_observed if state else None) or {}
    return {
        "id": check.id,
        "owner": check.owner,
        "name": check.name,
        "url": check.request.url,
        "intervalSeconds": check.interval,
        "timeoutSeconds": check.timeout,
        "conditions": [c.text for c in check.conditions],
        "failureThreshold": check.failure_threshold,
        "successThreshold": check.success_threshold,
        "state": shown,
        "hardState": str(state.hard_state) if state else None,
        "flapping": state.flapping if state else False,
        "since": state.since.isoformat() if state and state.since else None,
        "lastResultAt": (
            state.last_result_at.isoformat() if state and state.last_result_at else None
        ),
        "lastStatus": str(state.last_status) if state and state.last_status else None,
        "lastMessage": state.last_message if state else None,
        "lastDurationMs": state.last_duration_ms if state else None,
        "lastPhases": observed.get("phases", {}),
        "consecutiveFailures": state.failures if state else 0,
    }
