"""Stored rows back into the monitor's models: a check's state and a maintenance window.
Light on purpose (no probes, no report models), for readers such as the status page."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from infradex.monitor.evaluate import CheckState, Shown, Status
from infradex.monitor.maintenance import Window

__all__ = ["state_from_row", "window_from_row"]


def state_from_row(row: Any) -> CheckState:
    return CheckState(
        check_id=row.check_id,
        state=Shown(row.state),
        hard_state=Shown(row.hard_state),
        failures=row.failures,
        successes=row.successes,
        flapping=row.flapping,
        history=row.history,
        since=row.since,
        last_result_at=row.last_result_at,
        last_status=None if row.last_status is None else Status(row.last_status),
        last_message=row.last_message,
        last_duration_ms=row.last_duration_ms,
        last_observed=row.last_observed,
    )


def window_from_row(row: Any) -> Window:
    return Window(
        id=row.id,
        target=row.target_ref,
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        rrule=row.rrule,
        timezone=row.timezone,
        reason=row.reason,
        source=row.created_by or "api",
        public=bool(row.public),
        public_name=row.public_name,
        remind_before=None
        if row.remind_before_s is None
        else timedelta(seconds=row.remind_before_s),
    )
