"""Hourly and daily rollups of results: counts by status and a latency summary whose p95
survives merging (a sparse log-scale histogram, about 4 % wide per bucket).

Pure: :class:`Rollup` is built up one result at a time or merged from stored rows; the store
writes and reads it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from infradex.wire import Instant, ReadModel

__all__ = [
    "GROWTH",
    "PERIODS",
    "LatencySummary",
    "Rollup",
    "RollupPoint",
    "bucket_start",
    "span",
    "uptime_band",
    "uptime_percent",
]

GROWTH = 1.08  # each latency bucket is 8 % wider than the one below
PERIODS = ("hour", "day")


def bucket_start(at: datetime, period: str) -> datetime:
    """The start of the UTC hour or day ``at`` falls in."""
    if period == "hour":
        return at.replace(minute=0, second=0, microsecond=0)
    if period == "day":
        return at.replace(hour=0, minute=0, second=0, microsecond=0)
    raise ValueError(f"unknown period {period!r}; use hour or day")


def _bucket_of(ms: float) -> int:
    return 0 if ms <= 1.0 else int(math.log(ms, GROWTH)) + 1


def _bucket_value(index: int) -> float:
    """A bucket's representative latency (its geometric middle)."""
    if index == 0:
        return 1.0
    return float(GROWTH ** (index - 0.5))


@dataclass(slots=True)
class Rollup:
    check_id: str
    period: str
    bucket: datetime
    up: int = 0
    down: int = 0
    unknown: int = 0
    maintenance: int = 0
    latency_count: int = 0
    latency_sum: float = 0.0
    latency_min: float | None = None
    latency_max: float | None = None
    histogram: dict[int, int] = field(default_factory=dict)
    #: the p95 as stored, for rollups read without their histogram (charts)
    stored_p95: float | None = None

    def add(self, status: str, latency_ms: float | None) -> None:
        if status == "up":
            self.up += 1
        elif status == "down":
            self.down += 1
        elif status == "maintenance":
            self.maintenance += 1
        else:
            self.unknown += 1
        if latency_ms is not None:
            self.latency_count += 1
            self.latency_sum += latency_ms
            self.latency_min = (
                latency_ms if self.latency_min is None else min(self.latency_min, latency_ms)
            )
            self.latency_max = (
                latency_ms if self.latency_max is None else max(self.latency_max, latency_ms)
            )
            index = _bucket_of(latency_ms)
            self.histogram[index] = self.histogram.get(index, 0) + 1

    def merge(self, other: Rollup) -> None:
        self.up += other.up
        self.down += other.down
        self.unknown += other.unknown
        self.maintenance += other.maintenance
        self.latency_count += other.latency_count
        self.latency_sum += other.latency_sum
        for attr, pick in (("latency_min", min), ("latency_max", max)):
            mine, theirs = getattr(self, attr), getattr(other, attr)
            values = [v for v in (mine, theirs) if v is not None]
            setattr(self, attr, pick(values) if values else None)
        for index, count in other.histogram.items():
            self.histogram[index] = self.histogram.get(index, 0) + count

    @property
    def total(self) -> int:
        return self.up + self.down + self.unknown + self.maintenance

    @property
    def latency_avg(self) -> float | None:
        return self.latency_sum / self.latency_count if self.latency_count else None

    def latency_quantile(self, q: float) -> float | None:
        """The q-quantile from the histogram, clamped to the observed min and max."""
        if not self.latency_count:
            return None
        rank = q * self.latency_count
        seen = 0
        for index in sorted(self.histogram):
            seen += self.histogram[index]
            if seen >= rank:
                value = _bucket_value(index)
                low = self.latency_min if self.latency_min is not None else value
                high = self.latency_max if self.latency_max is not None else value
                return min(max(value, low), high)
        return self.latency_max

    @property
    def latency_p95(self) -> float | None:
        if not self.histogram and self.latency_count:
            return self.stored_p95
        return self.latency_quantile(0.95)

    def uptime(self) -> float | None:
        return uptime_percent(self.up, self.down)

    def to_row(self) -> dict[str, Any]:
        return {
            "check_id": self.check_id,
            "period": self.period,
            "bucket": self.bucket,
            "up": self.up,
            "down": self.down,
            "unknown": self.unknown,
            "maintenance": self.maintenance,
            "latency_count": self.latency_count,
            "latency_sum": self.latency_sum,
            "latency_min": self.latency_min,
            "latency_max": self.latency_max,
            "latency_p95": self.latency_p95,
            "latency_histogram": {str(k): v for k, v in sorted(self.histogram.items())},
        }

    @classmethod
    def from_row(cls, row: Any) -> Rollup:
        """From a stored row (a mapping or a SQLAlchemy row); a row selected without
        ``latency_histogram`` (charts, uptime) keeps its stored p95 and cannot be merged
        exactly."""
        m = row._mapping if hasattr(row, "_mapping") else row
        raw = m.get("latency_histogram")
        return cls(
            check_id=m["check_id"],
            period=m["period"],
            bucket=m["bucket"],
            up=m.get("up", 0),
            down=m.get("down", 0),
            unknown=m.get("unknown", 0),
            maintenance=m.get("maintenance", 0),
            latency_count=m.get("latency_count", 0),
            latency_sum=m.get("latency_sum", 0.0),
            latency_min=m.get("latency_min"),
            latency_max=m.get("latency_max"),
            histogram={int(k): int(v) for k, v in (raw or {}).items()},
            stored_p95=m.get("latency_p95"),
        )

    def point(self) -> RollupPoint:
        """As the API shows one bucket of a series (latencies rounded to 0.1 ms)."""

        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 1)

        return RollupPoint(
            bucket=self.bucket,
            up=self.up,
            down=self.down,
            unknown=self.unknown,
            maintenance=self.maintenance,
            uptime=self.uptime(),
            latency_ms=LatencySummary(
                avg=r(self.latency_avg),
                min=r(self.latency_min),
                max=r(self.latency_max),
                p95=r(self.latency_p95),
            ),
        )


class LatencySummary(ReadModel):
    avg: float | None
    min: float | None
    max: float | None
    p95: float | None


class RollupPoint(ReadModel):
    """One hour or day of a check's history: results by status, uptime, latency in ms."""

    bucket: Instant
    up: int
    down: int
    unknown: int
    maintenance: int
    uptime: float | None
    latency_ms: LatencySummary


def uptime_percent(up: int, down: int) -> float | None:
    """Up against down only: maintenance and unknown results do not count either way."""
    return None if up + down == 0 else round(100.0 * up / (up + down), 3)


def uptime_band(share: float) -> str:
    """How good an uptime (a share of 1) is, for its colour on the console's and the status
    page's bars: ``up`` (at least 99.9 %), ``minor`` (99 %), ``major`` (90 %), else ``down``."""
    if share >= 0.999:
        return "up"
    if share >= 0.99:
        return "minor"
    if share >= 0.9:
        return "major"
    return "down"


def span(period: str) -> timedelta:
    return timedelta(hours=1) if period == "hour" else timedelta(days=1)
