"""The API's response schemas: what every JSON route under ``/api/v1`` answers, declared as
``response_model`` so ``/openapi.json`` describes it. The items inside are the read models the
rooms return (a check's summary, an incident, a catalog load); these are the envelopes around
them. Keys are camelCase on the wire, derived from the field names (``infradex.wire``)."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from infradex.alerting.read_models import IncidentListItem
from infradex.catalog.problems import Problem
from infradex.monitor.maintenance import WindowRecord, WindowStatus
from infradex.monitor.report import CheckSummary, MonitorStats, ResultRecord, UptimeReport
from infradex.monitor.rollups import RollupPoint
from infradex.store.catalog_loads import LoadRecord
from infradex.store.reload_plans import HeldPlan, PlanRecord
from infradex.wire import Instant, ReadModel

__all__ = [
    "CatalogLoads",
    "CatalogPlan",
    "CatalogProblems",
    "CheckPage",
    "CheckResults",
    "CheckSeries",
    "CheckUptime",
    "CoveredWindow",
    "EntityDocument",
    "EntityPage",
    "IncidentPage",
    "MaintenanceList",
    "MaintenanceRemoved",
    "MonitorIdle",
    "MonitorRunning",
    "ReloadAnswer",
    "WindowRecord",
]


# ----------------------------------------------------------------------------- catalog
class EntityDocument(ReadModel):
    """The catalog document (``apiVersion``, ``kind``, ``metadata``, ``spec``, as written,
    secrets redacted below admin) plus where it comes from and its relations both ways."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    ref: str = Field(description="kind:name")
    source: str = Field(description="file:line in the catalog")
    relations: dict[str, list[str]] = Field(description="relation name → refs, both ways")


class EntityPage(ReadModel):
    items: list[EntityDocument]
    total: int
    limit: int
    offset: int


class CatalogProblems(ReadModel):
    """The last load attempt: accepted or not, held or not, its errors and warnings."""

    accepted: bool
    checked_at: Instant | None
    serving_since: Instant | None = Field(description="when the catalog served now was loaded")
    held: bool
    held_plan: HeldPlan | None
    errors: list[Problem]
    warnings: list[Problem]


class CatalogLoads(ReadModel):
    items: list[LoadRecord]
    total: int


class CatalogPlan(ReadModel):
    plan: HeldPlan | None = Field(description="the reload held for confirmation, if any")


class ReloadAnswer(ReadModel):
    """What a reload did: accepted (200), refused for errors (422) or held (409)."""

    accepted: bool
    held: bool
    errors: list[Problem]
    diff: dict[str, list[str]] = Field(description="added, removed and changed entities")
    plan: PlanRecord | None


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


class MonitorRunning(MonitorStats):
    """The in-process monitor's counters."""

    running: Literal[True]


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
