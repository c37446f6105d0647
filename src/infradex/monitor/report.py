"""How a check is described to people and programs: one dict shared by the API, the pages
and ``/metrics``. Pure."""

from __future__ import annotations

from typing import Any

from infradex.monitor.checks import CheckDef
from infradex.monitor.evaluate import CheckState

__all__ = ["NOT_MONITORED", "NO_AGENT", "check_summary"]

NOT_MONITORED = "not monitored"
NO_AGENT = "no agent"  # a check with locations that no probe agent has reported yet


def check_summary(check: CheckDef, state: CheckState | None, monitored: bool) -> dict[str, Any]:
    """The check's definition and its current state. Without a state row the check has not
    run: ``pending`` if a monitor runs, ``not monitored`` if none does, and ``no agent`` for a
    check with locations (probe agents run it, docs/agents.md) that no agent has reported."""
    if state is not None:
        shown = str(state.state)
    elif check.locations:
        shown = NO_AGENT
    else:
        shown = "pending" if monitored else NOT_MONITORED
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
        "locations": list(check.locations),
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
        # a check with locations: each location's health and last latency (docs/agents.md)
        "locationStates": observed.get("locations", {}) if check.locations else {},
    }
