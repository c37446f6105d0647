"""The API's response schemas: what every JSON route under ``/api/v1`` answers, declared as
``response_model`` so ``/openapi.json`` describes it. The items inside are the read models the
rooms return (a check's summary, an incident, a catalog load); these are the envelopes around
them. Keys are camelCase on the wire, derived from the field names (``infradex.wire``)."""

from __future__ import annotations

from typing import Literal

from infradex.alerting.read_models import IncidentListItem
from infradex.monitor.maintenance import WindowRecord, WindowStatus
from infradex.monitor.report import CheckSummary, ResultRecord, UptimeReport
from infradex.monitor.rollups import RollupPoint
from infradex.wire import Number, ReadModel

__all__ = [
    "CheckPage",
    "CheckResults",
    "CheckSeries",
    "CheckUptime",
    "CoveredWindow",
    "IncidentPage",
    "MaintenanceList",
    "MaintenanceRemoved",
    "MonitorIdle",
    "MonitorRunning",
    "WindowRecord",
]


# ----------------------------------------------------------------------------- monitor
class CheckPage(ReadModel):
    items: list[CheckSummary]
    total: int
    limit: int
    offset: int


class CheckResults(ReadModel):
    items: list[ResultRecord]


class CheckSeries(ReadModel):
    period: Literal["hour", "day"]
    items: list[RollupPoint]


class CheckUptime(UptimeReport):
    check: str


class MonitorIdle(ReadModel):
    """No monitor runs in the server's process (a separate ``infradex monitor`` may)."""

    running: Literal[False]
    checks: int


class MonitorRunning(ReadModel):
    """The in-process monitor's counters."""

    running: Literal[True]
    started: int
    finished: int
    skipped: int
    overlapping: int
    in_flight: int
    checks: int
    queued: int
    write_errors: int
    dropped: int
    canary_down: bool
    lag_p99: Number | None


class CoveredWindow(WindowStatus):
    covers: list[str]


class MaintenanceList(ReadModel):
    items: list[CoveredWindow]


class MaintenanceRemoved(ReadModel):
    deleted: int


# ----------------------------------------------------------------------------- incidents
class IncidentPage(ReadModel):
    items: list[IncidentListItem]
    total: int
    limit: int
    offset: int
