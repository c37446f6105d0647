"""The status page's 90 daily uptime bars per component and group: a day of a component is
its own checks' results that day, pooled (docs/status-page.md, "Uptime bars"). Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from infradex.catalog.entities import Catalog
from infradex.catalog.specs import spec_checks
from infradex.monitor.rollups import Rollup
from infradex.statuspage.components import Layout

__all__ = ["DAYS", "bar_checks", "pooled_days"]

DAYS = 90


def bar_checks(catalog: Catalog, layout: Layout) -> dict[str, tuple[str, ...]]:
    """Component or group id → the check ids its bars pool: a component's own checks, a
    group's public members' checks."""
    own = {
        c.id: tuple(f"{c.ref}/{check.name}" for check in spec_checks(catalog.get(c.ref)))
        for c in layout.components
    }
    found = dict(own)
    for group in layout.groups:
        found[group.id] = tuple(i for m in group.public_members for i in own[m.id])
    return found


def pooled_days(check_ids: Sequence[str], series: Mapping[str, Sequence[Rollup]]) -> list[Rollup]:
    """One rollup per UTC day with every listed check's counts added up, oldest first."""
    by_day: dict[datetime, Rollup] = {}
    for check_id in check_ids:
        for rollup in series.get(check_id, ()):
            by_day.setdefault(rollup.bucket, Rollup("pooled", "day", rollup.bucket)).merge(rollup)
    return [by_day[day] for day in sorted(by_day)]
