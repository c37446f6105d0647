"""Server-side SVG charts for check history: 90-day uptime bars and a latency chart. Pure
functions of rollups; no script, colours from the stylesheet (the CSP allows no inline style).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from markupsafe import Markup

from infradex.monitor.rollups import Rollup, uptime_band

__all__ = ["bar_class", "latency_chart", "uptime_bars"]


def bar_class(rollup: Rollup | None) -> str:
    """A day's colour: no data, all up, under 99.9 %, under 99 %, mostly down, maintenance."""
    if rollup is None or rollup.total == 0:
        return "bar-none"
    uptime = rollup.uptime()
    if uptime is None:
        return "bar-maintenance" if rollup.maintenance else "bar-none"
    return f"bar-{uptime_band(uptime / 100)}"  # a percent


def _day_title(day: datetime, rollup: Rollup | None) -> str:
    label = day.date().isoformat()
    if rollup is None or rollup.total == 0:
        return f"{label}: no data"
    uptime = rollup.uptime()
    parts = [f"{label}: " + ("no up/down results" if uptime is None else f"{uptime:g}% up")]
    parts.append(f"{rollup.up} up, {rollup.down} down")
    if rollup.maintenance:
        parts.append(f"{rollup.maintenance} in maintenance")
    if rollup.unknown:
        parts.append(f"{rollup.unknown} unknown")
    return "; ".join(parts)


def uptime_bars(daily: Sequence[Rollup], today: datetime, days: int = 90) -> Markup:
    """One bar per UTC day, oldest left; each bar's tooltip gives the day's counts (dates and
    numbers only: nothing to escape)."""
    by_day = {r.bucket.date(): r for r in daily}
    width, gap, height = 8, 2, 34
    total_width = days * (width + gap)
    start = today - timedelta(days=days - 1)
    bars = []
    for i in range(days):
        day = start + timedelta(days=i)
        rollup = by_day.get(day.date())
        bars.append(
            f'<rect x="{i * (width + gap)}" y="0" width="{width}" height="{height}" rx="1.5" '
            f'class="{bar_class(rollup)}"><title>{_day_title(day, rollup)}</title></rect>'
        )
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {total_width} {height + 16}" '
        f'width="{total_width}" height="{height + 16}" role="img" '
        f'aria-label="Uptime per day over {days} days">'
        + "".join(bars)
        + f'<text x="0" y="{height + 13}" class="axis-label">{days} days ago</text>'
        f'<text x="{total_width}" y="{height + 13}" text-anchor="end" class="axis-label">today'
        "</text></svg>"
    )


def _nice_ceiling(value: float) -> float:
    for step in (1, 2, 5):
        for exponent in range(0, 7):
            candidate = step * 10**exponent
            if candidate >= value:
                return float(candidate)
    return value


def latency_chart(hourly: Sequence[Rollup], end: datetime, hours: int = 48) -> Markup:
    """Average and p95 latency per hour over the last ``hours``, in milliseconds."""
    width, height, left, bottom = 720, 160, 44, 18
    plot_w, plot_h = width - left - 4, height - bottom - 6
    start = end - timedelta(hours=hours)
    points = [r for r in hourly if r.latency_count and r.bucket >= start]
    if not points:
        return Markup('<p class="muted">No latency measured in this period yet.</p>')
    top = _nice_ceiling(max((r.latency_p95 or 0.0) for r in points) * 1.1 or 1.0)

    def xy(r: Rollup, value: float) -> str:
        x = left + (r.bucket - start).total_seconds() / (hours * 3600) * plot_w
        y = 6 + plot_h - min(value, top) / top * plot_h
        return f"{x:.1f},{y:.1f}"

    def line(values: list[tuple[Rollup, float | None]], css: str) -> str:
        coords = [xy(r, v) for r, v in values if v is not None]
        dots = ""
        if len(coords) < 3:  # too few hours for a line to show: mark each point
            dots = "".join(
                f'<circle class="{css}" cx="{c.split(",")[0]}" cy="{c.split(",")[1]}" r="2.5"/>'
                for c in coords
            )
        return f'<polyline class="{css}" points="{" ".join(coords)}"/>' + dots

    avg = line([(r, r.latency_avg) for r in points], "line-avg")
    p95 = line([(r, r.latency_p95) for r in points], "line-p95")
    grid = []
    for fraction in (0.0, 0.5, 1.0):
        y = 6 + plot_h - fraction * plot_h
        grid.append(f'<line class="axis" x1="{left}" x2="{width - 4}" y1="{y:.1f}" y2="{y:.1f}"/>')
        grid.append(
            f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" class="axis-label">'
            f"{top * fraction:g} ms</text>"
        )
    labels = [
        f'<text x="{left}" y="{height - 4}" class="axis-label">{start:%a %d %b %H:00}</text>',
        f'<text x="{width - 4}" y="{height - 4}" text-anchor="end" class="axis-label">now</text>',
    ]
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="Latency per hour, average and 95th percentile">'
        + "".join(grid)
        + avg
        + p95
        + "".join(labels)
        + "</svg>"
    )
