"""The monitor over HTTP: checks with state, results, history, uptime and maintenance under
``/api/v1``, and ``/metrics`` in Prometheus text format with blackbox_exporter-style names."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector
from pydantic import BaseModel, Field

from infradex.alerting.model import IncidentStatus, NoticeStatus
from infradex.alerting.read_models import AlertingCounts
from infradex.catalog.refs import RefError, parse_ref
from infradex.clock import utcnow
from infradex.errors import NotFoundError, UsageError
from infradex.monitor import history
from infradex.monitor.checks import CheckDef, checks_of
from infradex.monitor.evaluate import CheckState
from infradex.monitor.locations import located_checks
from infradex.monitor.maintenance import (
    Window,
    catalog_windows,
    coverage,
    parse_rrule,
    remind_before_from,
)
from infradex.monitor.report import (
    CheckDetail,
    CheckSummary,
    MonitorStats,
    ResultRecord,
    check_summary,
)
from infradex.monitor.service import Monitor
from infradex.runtime.live_catalog import LiveCatalog
from infradex.store.audit import audit
from infradex.web.agent_metrics import agents_collector
from infradex.web.audience import observed_for_reader, sees_secrets, url_for_reader
from infradex.web.auth import Caller, require
from infradex.web.inputs import TextIn
from infradex.web.schemas import (
    CheckPage,
    CheckResults,
    CheckSeries,
    CheckUptime,
    CoveredWindow,
    MaintenanceList,
    MaintenanceRemoved,
    MonitorIdle,
    MonitorRunning,
    WindowRecord,
)

__all__ = ["metrics_router", "router"]

router = APIRouter(prefix="/api/v1", tags=["monitor"])
metrics_router = APIRouter()


def _catalog_state(request: Request) -> LiveCatalog:
    state: LiveCatalog = request.app.state.catalog
    return state


def _monitor(request: Request) -> Monitor | None:
    monitor: Monitor | None = request.app.state.monitor
    return monitor


def all_checks(request: Request) -> list[CheckDef]:
    settings = request.app.state.settings
    return checks_of(_catalog_state(request).catalog, settings.ca_file, settings.monitor_policy)


async def current_states(request: Request, ids: list[str] | None = None) -> dict[str, CheckState]:
    """The in-process monitor's states, else the store's (a separate `infradex monitor`).
    Checks with locations come from the store either way: agents' results are ingested there
    (docs/agents.md), by whichever server received them."""
    monitor = _monitor(request)
    if monitor is None:
        return await history.load_states(request.app.state.db, ids)
    located = located_checks(_catalog_state(request).catalog)
    wanted = monitor.states if ids is None else ids
    states = {i: monitor.states[i] for i in wanted if i in monitor.states and i not in located}
    from_agents = [i for i in (located if ids is None else ids) if i in located]
    if from_agents:
        states.update(await history.load_states(request.app.state.db, from_agents))
    return states


def monitored(request: Request, states: dict[str, CheckState]) -> bool:
    return _monitor(request) is not None or bool(states)


def _find(request: Request, owner: str, name: str) -> CheckDef:
    check_id = f"{owner}/{name}"
    checks = all_checks(request)
    for check in checks:
        if check.id == check_id:
            return check
    close = [c.id for c in checks if c.owner == owner] or [c.id for c in checks if c.name == name]
    hint = f"; checks there: {', '.join(close[:5])}" if close else "; list them at /api/v1/checks"
    raise NotFoundError(f"no check {check_id!r} in the catalog{hint}")


def _shown(summary: CheckSummary, admin: bool) -> CheckSummary:
    """A check summary as this reader may see it (the URL without credentials)."""
    return summary.model_copy(update={"url": url_for_reader(summary.url, admin)})


def _result_shown(result: ResultRecord, admin: bool) -> ResultRecord:
    """A result as this reader may see it (response excerpts for admins only)."""
    return result.model_copy(update={"observed": observed_for_reader(result.observed, admin)})


@router.get("/checks", response_model=CheckPage, summary="Checks with their current state")
async def list_checks(
    request: Request,
    state: Annotated[str | None, Query(description="up, down, flapping, pending, ...")] = None,
    owner: Annotated[str | None, Query(description="e.g. service:docs")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> CheckPage:
    checks = all_checks(request)
    if owner is not None:
        checks = [c for c in checks if c.owner == owner]
    states = await current_states(request)
    on = monitored(request, states)
    admin = await sees_secrets(request)
    items = [_shown(check_summary(c, states.get(c.id), on), admin) for c in checks]
    if state is not None:
        items = [item for item in items if item.state == state]
    return CheckPage(
        items=items[offset : offset + limit], total=len(items), limit=limit, offset=offset
    )


@router.get(
    "/checks/{owner}/{name}",
    response_model=CheckDetail,
    summary="One check: definition, state, uptime, changes",
)
async def one_check(request: Request, owner: str, name: str) -> CheckDetail:
    check = _find(request, owner, name)
    db = request.app.state.db
    states = await current_states(request, [check.id])
    admin = await sees_secrets(request)
    summary = _shown(check_summary(check, states.get(check.id), monitored(request, states)), admin)
    found = await history.check_detail(db, check.id, utcnow())
    if found.last_result is not None:
        shown = _result_shown(found.last_result, admin)
        found = found.model_copy(update={"last_result": shown})
    monitor = _monitor(request)
    window = monitor.in_maintenance(check.id) if monitor is not None else None
    return CheckDetail(
        **dict(summary), **dict(found), maintenance=window.record() if window else None
    )


@router.get(
    "/checks/{owner}/{name}/results",
    response_model=CheckResults,
    summary="Raw results, newest first",
)
async def check_results(
    request: Request,
    owner: str,
    name: str,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    failures: Annotated[bool, Query(description="only failing results")] = False,
) -> CheckResults:
    check = _find(request, owner, name)
    items = await history.latest_results(request.app.state.db, check.id, limit, failures)
    admin = await sees_secrets(request)
    return CheckResults(items=[_result_shown(i, admin) for i in items])


@router.get(
    "/checks/{owner}/{name}/history",
    response_model=CheckSeries,
    summary="Hourly or daily rollups, oldest first",
)
async def check_history(
    request: Request,
    owner: str,
    name: str,
    period: Annotated[str, Query(pattern="^(hour|day)$")] = "day",
    days: Annotated[int, Query(ge=1, le=730)] = 90,
) -> CheckSeries:
    check = _find(request, owner, name)
    since = utcnow() - timedelta(days=days)
    series = await history.rollup_series(request.app.state.db, [check.id], period, since)
    return CheckSeries(period=period, items=[r.point() for r in series[check.id]])


@router.get(
    "/checks/{owner}/{name}/uptime",
    response_model=CheckUptime,
    summary="Uptime over 24 h, 7 d, 30 d, 90 d, 1 y",
)
async def check_uptime(request: Request, owner: str, name: str) -> CheckUptime:
    check = _find(request, owner, name)
    report = await history.uptime_report(request.app.state.db, check.id, utcnow())
    return CheckUptime(check=check.id, **dict(report))


@router.get(
    "/monitor",
    response_model=MonitorRunning | MonitorIdle,
    summary="The in-process monitor's counters",
)
async def monitor_stats(request: Request) -> MonitorRunning | MonitorIdle:
    monitor = _monitor(request)
    if monitor is None:
        return MonitorIdle(running=False, checks=len(all_checks(request)))
    return MonitorRunning(running=True, **dict(monitor.stats()))


# ----------------------------------------------------------------------------- maintenance
class WindowIn(BaseModel):
    target: TextIn = Field(description="a check (service:docs/home), service, host or provider")
    start: datetime = Field(description="ISO 8601 with an offset, e.g. 2026-12-01T02:00:00Z")
    end: datetime
    rrule: TextIn | None = Field(None, description="repeat, e.g. FREQ=WEEKLY;BYDAY=SU")
    timezone: TextIn = Field("UTC", description="the zone the rule repeats in")
    reason: TextIn | None = Field(None, description="why (internal: never shown publicly)")
    public: bool = Field(False, description="show it on the public status page")
    public_name: TextIn | None = Field(
        None, alias="publicName", max_length=200,
        description="its public name (default: Scheduled maintenance); the reason stays internal",
    )  # fmt: skip
    remind_before: TextIn | None = Field(
        None, alias="remindBefore", max_length=20,
        description="remind subscribers this long before it starts, e.g. 2h (default 1h; 0: no "
        "reminder); public windows only",
    )  # fmt: skip


def validate_window(catalog_state: LiveCatalog, checks: list[CheckDef], body: WindowIn) -> Window:
    """A window from user input, or a ``UsageError`` saying what to fix."""
    if body.start.tzinfo is None or body.end.tzinfo is None:
        raise UsageError("give start and end with a time zone offset, e.g. 2026-12-01T02:00Z")
    if body.end <= body.start:
        raise UsageError("end must be after start")
    target = body.target.strip()
    if "/" in target:
        if not any(c.id == target for c in checks):
            raise UsageError(f"{target!r} is not a check; list them at /api/v1/checks")
    else:
        try:
            ref = parse_ref(target)
        except RefError as exc:
            raise UsageError(str(exc)) from None
        catalog_state.catalog.get(ref)  # NotFoundError with a suggestion
        target = str(ref)
    rrule = parse_rrule(body.rrule, body.start, body.timezone) if body.rrule else None
    name = body.public_name.strip() if body.public_name else None
    if name is not None and not body.public:
        raise UsageError('publicName names a public window: add "public": true, or leave it out')
    remind = remind_before_from(body.remind_before, public=body.public, name="remindBefore")
    return Window(target, body.start, body.end, rrule, body.timezone, body.reason,
                  public=body.public, public_name=name or None,
                  remind_before=remind)  # fmt: skip


@router.get(
    "/maintenance",
    response_model=MaintenanceList,
    summary="Maintenance windows and the checks each covers",
)
async def list_maintenance(request: Request) -> MaintenanceList:
    catalog = _catalog_state(request).catalog
    windows = await history.list_windows(request.app.state.db) + catalog_windows(catalog)
    ids = [c.id for c in all_checks(request)]
    now = utcnow()

    def describe() -> list[CoveredWindow]:
        return [
            CoveredWindow(
                **dict(window.status(now)), covers=sorted(coverage(catalog, window.target, ids))
            )
            for window in windows
        ]

    # expanding recurrence rules is bounded, but not free: off the event loop, so /healthz
    # and every other request keep answering meanwhile
    return MaintenanceList(items=await asyncio.to_thread(describe))


@router.post(
    "/maintenance",
    status_code=201,
    response_model=WindowRecord,
    summary="Add a maintenance window (write token)",
)
async def add_maintenance(
    request: Request, body: WindowIn, caller: Annotated[Caller, Depends(require("write"))]
) -> WindowRecord:
    window = await asyncio.to_thread(  # checks the rule: up to ~0.4 s, off the event loop
        validate_window, _catalog_state(request), all_checks(request), body
    )
    db = request.app.state.db
    now = utcnow()
    window_id = await history.add_window(db, window, caller.actor, now)
    await audit(db, at=now, actor=caller.actor, action="maintenance.add", target=window.target,
                detail={"id": window_id, "rrule": window.rrule,
                        "public": window.public})  # fmt: skip
    if (monitor := _monitor(request)) is not None:
        await monitor.refresh_maintenance()
    return window.record().model_copy(update={"id": window_id})


@router.delete(
    "/maintenance/{window_id}",
    response_model=MaintenanceRemoved,
    summary="Remove a maintenance window (write token)",
)
async def delete_maintenance(
    request: Request,
    window_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    caller: Annotated[Caller, Depends(require("write"))],
) -> MaintenanceRemoved:
    db = request.app.state.db
    if not await history.delete_window(db, window_id):
        raise NotFoundError(f"no maintenance window {window_id}; list them at /api/v1/maintenance")
    await audit(db, at=utcnow(), actor=caller.actor, action="maintenance.delete",
                target=str(window_id))  # fmt: skip
    if (monitor := _monitor(request)) is not None:
        await monitor.refresh_maintenance()
    return MaintenanceRemoved(deleted=window_id)


# ----------------------------------------------------------------------------- /metrics
class _ChecksCollector(Collector):
    def __init__(
        self, checks: list[CheckDef], states: dict[str, CheckState], stats: MonitorStats | None
    ) -> None:
        self.checks, self.states, self.stats = checks, states, stats

    def collect(self):  # type: ignore[no-untyped-def]
        labels = ["check", "owner", "scheme"]
        success = GaugeMetricFamily(
            "probe_success", "Whether the last probe succeeded (conditions included)", labels=labels
        )
        duration = GaugeMetricFamily(
            "probe_duration_seconds",
            "Seconds the last probe spent per phase (dns, connect, tls, processing, "
            "transfer; total: the whole probe)",
            labels=[*labels, "phase"],
        )
        status = GaugeMetricFamily(
            "probe_http_status_code", "HTTP status code of the last response", labels=labels
        )
        expiry = GaugeMetricFamily(
            "probe_ssl_earliest_cert_expiry", "Unix time the certificate expires", labels=labels
        )
        up = GaugeMetricFamily(
            "infradex_check_up", "1 if the check's state is up, 0 otherwise", labels=labels
        )
        state = GaugeMetricFamily(
            "infradex_check_state",
            "The check's shown state (1 for the current one)",
            labels=[*labels, "state"],
        )
        failures = GaugeMetricFamily(
            "infradex_check_consecutive_failures", "Consecutive failed results", labels=labels
        )
        for check in self.checks:
            values = [check.id, check.owner, check.scheme]
            current = self.states.get(check.id)
            if current is None:
                continue
            success.add_metric(values, 1.0 if current.last_status == "up" else 0.0)
            up.add_metric(values, 1.0 if current.state == "up" else 0.0)
            state.add_metric([*values, str(current.state)], 1.0)
            failures.add_metric(values, float(current.failures))
            observed = current.last_observed or {}
            for phase, seconds in (observed.get("phases") or {}).items():
                duration.add_metric([*values, phase], float(seconds))
            probe_values = observed.get("values") or {}
            if isinstance(probe_values.get("STATUS"), int | float):
                status.add_metric(values, float(probe_values["STATUS"]))
            if (
                isinstance(probe_values.get("CERTIFICATE_EXPIRATION"), int | float)
                and current.last_result_at
            ):
                expires = (
                    current.last_result_at.timestamp() + probe_values["CERTIFICATE_EXPIRATION"]
                )
                expiry.add_metric(values, expires)
        yield from (success, duration, status, expiry, up, state, failures)
        monitor = GaugeMetricFamily("infradex_monitor_checks", "Checks the catalog declares")
        monitor.add_metric([], float(len(self.checks)))
        yield monitor
        if self.stats is not None:
            started = CounterMetricFamily("infradex_monitor_runs", "Check runs started")
            started.add_metric([], float(self.stats.started))
            skipped = CounterMetricFamily(
                "infradex_monitor_skipped_runs",
                "Runs skipped (paused, or the previous run still going)",
            )
            skipped.add_metric([], float(self.stats.skipped + self.stats.overlapping))
            running = GaugeMetricFamily("infradex_monitor_running", "Checks running now")
            running.add_metric([], float(self.stats.in_flight))
            queued = GaugeMetricFamily(
                "infradex_monitor_queued_rows", "Result rows and state changes not yet written"
            )
            queued.add_metric([], float(self.stats.queued))
            dropped = CounterMetricFamily(
                "infradex_monitor_dropped_rows",
                "Queued rows dropped, oldest first, while the store refused writes",
            )
            dropped.add_metric([], float(self.stats.dropped))
            yield from (started, skipped, running, queued, dropped)
            if self.stats.lag_p99 is not None:
                lag = GaugeMetricFamily(
                    "infradex_monitor_start_lag_p99_seconds",
                    "99th percentile of how late runs started",
                )
                lag.add_metric([], float(self.stats.lag_p99))
                yield lag


class _AlertingCollector(Collector):
    """Incidents not resolved and the outbox by status, from the store (any process), and
    this process's dispatcher's deliveries."""

    def __init__(self, counts: AlertingCounts, sent: dict[str, int] | None) -> None:
        self.counts, self.sent = counts, sent

    def collect(self):  # type: ignore[no-untyped-def]
        incidents = GaugeMetricFamily(
            "infradex_incidents", "Incidents not resolved, by status", labels=["status"]
        )
        for status in (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED):
            incidents.add_metric([status], float(self.counts.incidents.get(status, 0)))
        unrouted = GaugeMetricFamily(
            "infradex_incidents_unrouted",
            "Incidents not resolved that page nobody (no escalation policy reaches them)",
        )
        unrouted.add_metric([], float(self.counts.unrouted))
        queued = GaugeMetricFamily(
            "infradex_outbox_notifications",
            "Notifications in the outbox by status (pending and failed need attention)",
            labels=["status"],
        )
        for notice in (
            NoticeStatus.PENDING,
            NoticeStatus.SENDING,
            NoticeStatus.SENT,
            NoticeStatus.FAILED,
        ):
            queued.add_metric([notice], float(self.counts.outbox.get(notice, 0)))
        yield from (incidents, unrouted, queued)
        if self.sent is not None:
            sent = CounterMetricFamily(
                "infradex_notifications_sent",
                "Notifications this process delivered, by channel",
                labels=["channel"],
            )
            for channel, count in sorted(self.sent.items()):
                sent.add_metric([channel], float(count))
            yield sent


@metrics_router.get("/metrics", include_in_schema=False)
async def metrics(request: Request) -> Response:
    from infradex.alerting.records import alerting_counts

    monitor = _monitor(request)
    states = await current_states(request)
    registry = CollectorRegistry(auto_describe=False)
    registry.register(
        _ChecksCollector(all_checks(request), states, monitor.stats() if monitor else None)
    )
    registry.register(await agents_collector(request))
    alerter = getattr(request.app.state, "alerter", None)
    registry.register(
        _AlertingCollector(
            await alerting_counts(request.app.state.db),
            dict(alerter.dispatcher.totals.by_channel) if alerter is not None else None,
        )
    )
    return Response(
        generate_latest(registry), media_type="text/plain; version=0.0.4; charset=utf-8"
    )
