"""How a check is described to people and programs: typed read models shared by the API
(their fields are its JSON, in camelCase), the pages, the CLI and ``/metrics``. Pure."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import Field

from infradex.monitor.checks import CheckDef
from infradex.monitor.evaluate import CheckState
from infradex.monitor.maintenance import WindowRecord
from infradex.wire import Instant, Number, ReadModel

__all__ = [
    "DEGRADED_STATES",
    "NOT_MONITORED",
    "NO_AGENT",
    "STATE_ORDER",
    "CheckDetail",
    "CheckHistory",
    "CheckSummary",
    "MonitorStats",
    "ResultRecord",
    "StateChangeRecord",
    "UptimeReport",
    "check_summary",
    "shown_state",
    "state_rank",
    "worst",
]

NOT_MONITORED = "not monitored"
NO_AGENT = "no agent"  # a check with locations that no probe agent has reported yet
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


def shown_state(state: CheckState | None, monitored: bool, located: bool = False) -> str:
    """The state people see; without a state row, the check has not run: ``pending`` if a
    monitor runs, ``not monitored`` if none does, and ``no agent`` for a check with locations
    (probe agents run it, docs/agents.md) that no agent has reported."""
    if state is not None:
        return str(state.state)
    if located:
        return NO_AGENT
    return "pending" if monitored else NOT_MONITORED


class CheckSummary(ReadModel):
    """A check's definition and its current state."""

    id: str
    owner: str
    name: str
    url: str
    interval_seconds: Number
    timeout_seconds: Number
    conditions: list[str]
    failure_threshold: int
    success_threshold: int
    locations: list[str] = Field(description="where probe agents run it; empty: the server")
    state: str = Field(description="up, down, flapping, pending, maintenance, not monitored ...")
    hard_state: str | None
    flapping: bool
    since: Instant | None
    last_result_at: Instant | None
    last_status: str | None
    last_message: str | None
    last_duration_ms: Number | None
    last_phases: dict[str, Number]
    consecutive_failures: int
    location_states: dict[str, Any] = Field(
        description="a check with locations: each location's health and last latency"
    )


def check_summary(check: CheckDef, state: CheckState | None, monitored: bool) -> CheckSummary:
    """The check's definition and its current state. Without a state row the check has not
    run: ``pending`` if a monitor runs, ``not monitored`` if none does."""
    shown = shown_state(state, monitored, bool(check.locations))
    observed = (state.last_observed if state else None) or {}
    return CheckSummary(
        id=check.id,
        owner=check.owner,
        name=check.name,
        url=check.request.url,
        interval_seconds=check.interval,
        timeout_seconds=check.timeout,
        conditions=[c.text for c in check.conditions],
        failure_threshold=check.failure_threshold,
        success_threshold=check.success_threshold,
        state=shown,
        hard_state=str(state.hard_state) if state else None,
        flapping=state.flapping if state else False,
        since=state.since if state else None,
        last_result_at=state.last_result_at if state else None,
        last_status=str(state.last_status) if state and state.last_status else None,
        last_message=state.last_message if state else None,
        last_duration_ms=state.last_duration_ms if state else None,
        last_phases=observed.get("phases", {}),
        consecutive_failures=state.failures if state else 0,
        locations=list(check.locations),
        location_states=observed.get("locations", {}) if check.locations else {},
    )


class MonitorStats(ReadModel):
    """A running monitor's counters (``/api/v1/monitor``, ``/metrics``)."""

    started: int
    finished: int
    skipped: int = Field(description="runs that could not start within their interval")
    overlapping: int = Field(description="runs skipped: the previous one was still going")
    in_flight: int
    checks: int
    queued: int = Field(description="result rows and state changes not yet written")
    write_errors: int
    dropped: int = Field(description="queued rows dropped while the store refused writes")
    canary_down: bool
    lag_p99: Number | None = Field(description="99th percentile of how late runs started, s")


class ResultRecord(ReadModel):
    """One stored result of a check."""

    id: int
    check_id: str
    location: str | None
    started_at: Instant
    duration_ms: Number | None
    success: bool
    status: str | None
    error_kind: str | None
    message: str | None
    observed: dict[str, Any] | None = Field(
        description="what the probe saw: values, phases, conditions, details"
    )


class StateChangeRecord(ReadModel):
    at: Instant
    from_state: str | None = Field(alias="from")
    to_state: str = Field(alias="to")
    reason: str | None


class UptimeReport(ReadModel):
    """Uptime percent per span (24h, 7d, 30d, 90d, 1y), when the history starts, and which
    spans it covers (a span it does not cover measures the whole history)."""

    uptime: dict[str, float | None]
    uptime_since: Instant | None
    uptime_covers: dict[str, bool]


class CheckHistory(UptimeReport):
    """One check's last result, uptime and latest state changes."""

    last_result: ResultRecord | None
    state_changes: list[StateChangeRecord]


class CheckDetail(CheckSummary):
    """A check as ``GET /api/v1/checks/{owner}/{name}`` shows it."""

    last_result: ResultRecord | None
    uptime: dict[str, float | None]
    uptime_since: Instant | None
    uptime_covers: dict[str, bool]
    state_changes: list[StateChangeRecord]
    maintenance: WindowRecord | None
