"""The live "Health" section of service and provider pages: each check's state, its last
result with every condition, uptime over 24 h to a year, 90 days of bars, a latency chart."""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime
from typing import Any

from fastapi import Request
from markupsafe import Markup, escape

from infradex.alerting.records import open_incidents_of
from infradex.catalog.secrets import redact_url
from infradex.clock import utcnow
from infradex.monitor import history
from infradex.monitor.checks import CheckDef, checks_grouped
from infradex.monitor.history import CheckOverview
from infradex.monitor.report import NOT_MONITORED, CheckSummary, UptimeReport, check_summary
from infradex.web.charts import latency_chart, uptime_bars
from infradex.web.monitoring import current_states, monitored

__all__ = [
    "checks_by_owner",
    "health_section",
    "not_monitored_notice",
    "state_badge",
    "with_health",
]

PHASES = ("dns", "connect", "tls", "processing", "transfer", "total")
CHART_HOURS = 48  # the latency chart's span (the API gives up to two years)
CACHE_SECONDS = 5.0  # at most this stale; with the monitor in-process, fresh on every write


def not_monitored_notice(request: Request) -> Markup:
    """Why nothing is monitored, and how to change that (one sentence, for any page)."""
    why = (
        "the embedded example's checks aim at real sites, so they run only when asked"
        if request.app.state.settings.catalog_is_embedded
        else "monitoring is switched off (INFRADEX_MONITOR=false)"
    )
    return Markup(
        "Not monitored: {}. Start the server with <code>infradex serve --monitor</code> to run "
        "these checks."
    ).format(why)


def _when(value: datetime | None) -> str:
    if value is None:
        return "never"
    return value.strftime("%Y-%m-%d %H:%M:%S UTC")


def _percent(value: float | None) -> str:
    """Rounded down to two decimals, so 99.999 % never shows as 100 %."""
    if value is None:
        return "–"
    return f"{math.floor(value * 100) / 100:g}%"


def _uptime_cells(report: UptimeReport, now: datetime) -> Markup:
    """One cell per span the history covers; the spans it does not cover yet all measure the
    whole history, so they share one cell that says since when (not 24h … 1y all equal)."""
    uptime, first = report.uptime, report.uptime_since
    shown = [label for label in uptime if first is None or report.uptime_covers.get(label, False)]
    cells = [Markup("<td>{}</td>").format(_percent(uptime[label])) for label in shown]
    young = [label for label in uptime if label not in shown]
    if young and first is not None:
        when = first.strftime("%H:%M UTC" if first.date() == now.date() else "%Y-%m-%d %H:%M UTC")
        cells.append(
            Markup('<td colspan="{}" class="uptime-since">{} since {}</td>').format(
                len(young), _percent(uptime[young[0]]), when
            )
        )
    return Markup("").join(cells)


def state_badge(state: str) -> Markup:
    css = "state-" + state.replace(" ", "-")
    return Markup(f'<span class="state {css}">{escape(state)}</span>')


def _check_html(summary: CheckSummary, found: CheckOverview | None, now: datetime) -> Markup:
    out = [
        Markup('<div class="check-health" id="check-{}">').format(summary.name),
        Markup("<h3>{} {}</h3>").format(summary.name, state_badge(summary.state)),
        Markup("<p><code>{}</code> every {:g} s</p>").format(summary.url, summary.interval_seconds),
    ]
    if summary.state == NOT_MONITORED:
        out.append(Markup("</div>"))
        return Markup("").join(out)
    facts = [f"since {_when(summary.since)}" if summary.since else "no state change yet"]
    if summary.last_result_at:
        took = summary.last_duration_ms
        facts.append(
            f"last result {_when(summary.last_result_at)}"
            + (f" in {took:.0f} ms" if took is not None else "")
            + f": {summary.last_message}"
        )
    if summary.consecutive_failures:
        facts.append(f"{summary.consecutive_failures} consecutive failure(s)")
    out.append(Markup("<p>{}</p>").format(" · ".join(facts)))
    if found is None:
        found = CheckOverview(UptimeReport(uptime={}, uptime_since=None, uptime_covers={}))
    last = found.last
    if summary.locations:
        out.append(_locations_html(summary.locations, summary.location_states))
    if last and last.observed:
        conditions = last.observed.get("conditions") or []
        if conditions:
            items = Markup("").join(
                Markup('<li class="{}">{}: {}</li>').format(
                    "ok" if c["success"] else "failed",
                    c["condition"],
                    ("ok " if c["success"] else "got ") + str(c["actual"]),
                )
                for c in conditions
            )
            out.append(Markup('<ul class="conditions">{}</ul>').format(items))
        phases = last.observed.get("phases") or {}
        shown = [f"{p} {phases[p] * 1000:.1f} ms" for p in PHASES if p in phases]
        if shown:
            out.append(Markup("<p>Timing: {}</p>").format(" · ".join(shown)))
    cells = _uptime_cells(found.uptime, now)
    spans = found.uptime.uptime
    heads = Markup("").join(Markup('<th scope="col">{}</th>').format(k) for k in spans)
    out.append(
        Markup(
            '<div class="table" tabindex="0" role="region" aria-label="Uptime">'
            '<table><thead><tr><th scope="col">Uptime</th>{}</tr></thead>'
            '<tbody><tr><th scope="row">up / (up + down)</th>{}</tr></tbody></table></div>'
        ).format(heads, cells)
    )
    out.append(
        Markup(
            '<figure class="chart" tabindex="0" aria-label="Uptime per day">{}'
            "<figcaption>Uptime per day, last 90 days (maintenance and "
            "unknown results left out)</figcaption></figure>"
        ).format(uptime_bars(found.daily, now))
    )
    out.append(
        Markup(
            '<figure class="chart" tabindex="0" aria-label="Latency per hour">{}'
            "<figcaption>Latency per hour, last 48 hours: "
            '<span class="legend-avg">average</span> and <span class="legend-p95">95th '
            "percentile</span></figcaption></figure>"
        ).format(latency_chart(found.hourly, now, CHART_HOURS))
    )
    out.append(Markup("</div>"))
    return Markup("").join(out)


def _locations_html(locations: list[str], seen: dict[str, Any]) -> Markup:
    """Each location's view of a check run by probe agents (docs/agents.md)."""
    rows = []
    for location in locations:
        view = seen.get(location) or {}
        took = view.get("duration_ms")
        rows.append(
            Markup('<tr><th scope="row">{}</th><td>{}</td><td>{}</td></tr>').format(
                location,
                state_badge(str(view.get("health") or "no agent")),
                f"{took:.0f} ms" if isinstance(took, int | float) else "",
            )
        )
    return Markup(
        '<div class="table"><table class="locations"><thead><tr><th scope="col">Location</th>'
        '<th scope="col">State</th><th scope="col">Latency</th></tr></thead><tbody>{}'
        "</tbody></table></div>"
    ).format(Markup("").join(rows))


async def health_section(request: Request, owner: str) -> Markup | None:
    """The section for the entity ``owner`` (``service:docs``), or None if it has no checks.

    Cached per entity: with the monitor in this process, until one of its checks has new
    rows; otherwise (the monitor runs elsewhere) for ``CACHE_SECONDS``. One request renders
    a stale section again while the others get the previous one (no thundering herd)."""
    checks = checks_by_owner(request).get(owner)
    if not checks:
        return None
    monitor = request.app.state.monitor
    key = (
        tuple(monitor.versions.get(c.id, 0) for c in checks) if monitor is not None else None,
        tuple(c.id for c in checks),
        monitor.in_maintenance_key() if monitor is not None else None,
    )
    state = request.app.state.__dict__
    cache: dict[str, tuple[Any, float, Markup]] = state.setdefault("health_cache", {})
    rendering: dict[str, asyncio.Task[Markup]] = state.setdefault("health_rendering", {})
    cached = cache.get(owner)
    if cached is not None and cached[0] == key and time.monotonic() < cached[1]:
        return cached[2]
    task = rendering.get(owner)
    if task is None:
        task = asyncio.ensure_future(_render_and_keep(request, owner, checks, key, cache))
        rendering[owner] = task
        task.add_done_callback(lambda _: rendering.pop(owner, None))
    if cached is not None and cached[0][1] == key[1]:
        return cached[2]  # the same checks: the previous section while a fresh one renders
    return await asyncio.shield(task)


async def _render_and_keep(
    request: Request,
    owner: str,
    checks: list[CheckDef],
    key: Any,
    cache: dict[str, tuple[Any, float, Markup]],
) -> Markup:
    section = await _health_section(request, checks)
    if len(cache) >= 4096 and owner not in cache:
        cache.pop(next(iter(cache)))
    cache[owner] = (key, time.monotonic() + CACHE_SECONDS, section)
    return section


def checks_by_owner(request: Request) -> dict[str, list[CheckDef]]:
    settings = request.app.state.settings
    return checks_grouped(
        request.app.state.catalog.catalog, settings.ca_file, settings.monitor_policy
    )


async def _health_section(request: Request, checks: list[CheckDef]) -> Markup:
    ids = [c.id for c in checks]
    states = await current_states(request, ids)
    on = monitored(request, states)
    # the section is cached and shown to everyone: redacted (admins read the API)
    summaries = [
        summary.model_copy(update={"url": redact_url(summary.url)})
        for summary in (check_summary(c, states.get(c.id), on) for c in checks)
    ]
    parts = [Markup('<h2 id="health">Health</h2>')]
    if not on:
        parts.append(Markup('<p class="notice">{}</p>').format(not_monitored_notice(request)))
        parts.extend(_check_html(s, None, utcnow()) for s in summaries)
        return Markup("").join(parts)
    now = utcnow()
    data = await history.overview(request.app.state.db, ids, now, hours=CHART_HOURS)
    parts.extend(_check_html(summary, data[summary.id], now) for summary in summaries)
    return Markup("").join(parts)


async def _incidents_notice(request: Request, entity: str) -> Markup:
    """A line per open incident this entity is failing in: its own, or one upstream."""
    found = await open_incidents_of(request.app.state.db, entity)
    lines = [
        Markup('<p class="notice incident" role="status"><strong>Incident #{}</strong> ({}): '
               '{}{}. <a href="../incidents/{}">See the incident</a>.</p>').format(
            i.id, i.status, i.title,
            "" if i.role == "root" else Markup(": this is impacted"), i.id,
        )
        for i in found
    ]  # fmt: skip
    return Markup("").join(lines)


async def with_health(request: Request, page_id: str, body: Markup) -> Markup:
    """``body`` with the live health section put after the entity's summary, on pages of
    entities that have checks (services and providers)."""
    kind_dir, _, name = page_id.partition("/")
    kind = {"services": "service", "providers": "provider"}.get(kind_dir)
    if kind is None or not name or "/" in name:
        return body
    section = await health_section(request, f"{kind}:{name}")
    if section is None:
        return body
    section = await _incidents_notice(request, f"{kind}:{name}") + section
    text = str(body)
    for anchor in ('<h2 id="who">', '<h2 id="checks">'):
        at = text.find(anchor)
        if at >= 0:
            return Markup(text[:at] + str(section) + text[at:])
    return Markup(text + str(section))
