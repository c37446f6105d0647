"""Rollups: counts, uptime and a p95 that survives merging."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest

from infradex.monitor.rollups import Rollup, bucket_start, uptime_percent

HOUR = datetime(2026, 11, 25, 13, 0, tzinfo=UTC)


def test_bucket_start_cuts_to_the_utc_hour_and_day() -> None:
    at = datetime(2026, 11, 25, 13, 47, 12, 5, tzinfo=UTC)
    assert bucket_start(at, "hour") == HOUR
    assert bucket_start(at, "day") == datetime(2026, 11, 25, tzinfo=UTC)
    with pytest.raises(ValueError, match="hour or day"):
        bucket_start(at, "week")


def test_uptime_counts_up_against_down_only() -> None:
    rollup = Rollup("c", "hour", HOUR)
    for status in ["up"] * 6 + ["down"] * 2 + ["maintenance"] * 5 + ["unknown"] * 3:
        rollup.add(status, 10.0)
    assert (rollup.up, rollup.down, rollup.maintenance, rollup.unknown) == (6, 2, 5, 3)
    assert rollup.uptime() == 75.0
    assert uptime_percent(0, 0) is None


def test_p95_is_within_the_bucket_width_and_survives_merging() -> None:
    rng = random.Random(7)
    latencies = [rng.lognormvariate(4, 0.8) for _ in range(5000)]
    whole = Rollup("c", "day", HOUR)
    parts = [Rollup("c", "hour", HOUR) for _ in range(24)]
    for i, ms in enumerate(latencies):
        whole.add("up", ms)
        parts[i % 24].add("up", ms)
    merged = Rollup("c", "day", HOUR)
    for part in parts:
        merged.merge(part)
    exact = sorted(latencies)[int(0.95 * len(latencies))]
    assert merged.latency_p95 == whole.latency_p95
    assert whole.latency_p95 is not None
    assert abs(whole.latency_p95 - exact) / exact < 0.08
    assert merged.latency_min == min(latencies) and merged.latency_max == max(latencies)
    assert merged.latency_avg == pytest.approx(sum(latencies) / len(latencies))


def test_results_without_latency_count_but_do_not_skew_latency() -> None:
    rollup = Rollup("c", "hour", HOUR)
    rollup.add("down", None)
    rollup.add("up", 50.0)
    assert rollup.total == 2 and rollup.latency_count == 1 and rollup.latency_p95 == 50.0


def test_a_row_round_trips() -> None:
    rollup = Rollup("c", "hour", HOUR)
    for ms in (1.0, 0.2, 30.0, 4000.0):
        rollup.add("up", ms)

    back = Rollup.from_row(rollup.to_row())
    assert back.histogram == rollup.histogram and back.latency_p95 == rollup.latency_p95
    assert (back.up, back.latency_count, back.latency_max) == (4, 4, 4000.0)
    assert back.point().latency_ms.max == 4000.0
