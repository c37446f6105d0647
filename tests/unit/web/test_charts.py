"""The history charts are plain SVG built from rollups: one bar per day, a colour per
uptime band, a tooltip with the day's counts, and a latency chart that copes with few points."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from infradex.monitor.rollups import Rollup
from infradex.web.charts import bar_class, latency_chart, uptime_bars

TODAY = datetime(2026, 11, 25, tzinfo=UTC)


def day(offset: int, up: int, down: int = 0, maintenance: int = 0) -> Rollup:
    rollup = Rollup("c", "day", TODAY - timedelta(days=offset))
    rollup.up, rollup.down, rollup.maintenance = up, down, maintenance
    return rollup


def test_bar_colours_follow_uptime_bands() -> None:
    assert bar_class(None) == "bar-none"
    assert bar_class(day(0, 1440)) == "bar-up"
    assert bar_class(day(0, 1439, 1)) == "bar-up"  # 99.93 %
    assert bar_class(day(0, 1430, 10)) == "bar-minor"  # 99.3 %
    assert bar_class(day(0, 1300, 140)) == "bar-major"  # 90.3 %
    assert bar_class(day(0, 100, 1340)) == "bar-down"
    assert bar_class(day(0, 0, 0, maintenance=1440)) == "bar-maintenance"


def test_ninety_bars_oldest_left_with_the_days_counts() -> None:
    svg = str(uptime_bars([day(0, 1430, 10), day(89, 1440)], TODAY))
    titles = re.findall(r"<title>([^<]*)</title>", svg)
    assert len(titles) == 90 and svg.count("<rect") == 90
    assert titles[0] == "2026-08-28: 100% up; 1440 up, 0 down"
    assert titles[-1].startswith("2026-11-25: 99.306% up; 1430 up, 10 down")
    assert titles[45] == f"{(TODAY - timedelta(days=44)).date()}: no data"
    assert "style=" not in svg  # the CSP allows no inline style


def test_latency_chart_draws_average_and_p95_lines() -> None:
    hours = []
    for h in range(48):
        rollup = Rollup("c", "hour", TODAY - timedelta(hours=47 - h))
        for ms in (10.0, 12.0, 80.0):
            rollup.add("up", ms)
        hours.append(rollup)
    svg = str(latency_chart(hours, TODAY + timedelta(hours=1)))
    assert svg.count("<polyline") == 2 and "<circle" not in svg
    points = re.search(r'class="line-avg" points="([^"]*)"', svg)
    assert points is not None and len(points.group(1).split()) == 48
    assert "100 ms" in svg  # the axis rounds the top up from p95 (80 ms) to a round number


def test_latency_chart_with_little_or_no_data() -> None:
    assert "No latency measured" in str(latency_chart([], TODAY))
    one = Rollup("c", "hour", TODAY)
    one.add("up", 5.0)
    svg = str(latency_chart([one], TODAY + timedelta(minutes=30)))
    assert svg.count("<circle") == 2  # a dot for the average and one for the p95
