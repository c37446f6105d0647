"""The 90-day bars' data: a component pools its own checks' days, a group its public
members' checks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from infradex.catalog import Catalog
from infradex.monitor.rollups import Rollup
from infradex.statuspage.components import layout
from infradex.statuspage.uptime import bar_checks, pooled_days

DAY = datetime(2026, 12, 1, tzinfo=UTC)


def test_components_pool_their_own_checks_and_groups_their_public_members(
    catalog: Catalog,
) -> None:
    the_layout = layout(catalog)
    checks = bar_checks(catalog, the_layout)
    by_name = {c.name: c.id for c in the_layout.components} | {
        g.name: g.id for g in the_layout.groups
    }
    assert checks[by_name["pypi.org"]] == ("service:pypi/home", "service:pypi/simple")
    assert checks[by_name["docs.python.org"]] == ()  # no check of its own
    assert checks[by_name["Python Package Index"]] == (
        "service:pypi/home",
        "service:pypi/simple",
        "service:files/files",
    )
    assert checks[by_name["Python.org"]] == ()  # search is not public: its check is left out


def test_days_are_pooled_and_ordered() -> None:
    series = {
        "a/x": [
            Rollup("a/x", "day", DAY, up=90, down=10),
            Rollup("a/x", "day", DAY + timedelta(1), up=5),
        ],
        "a/y": [Rollup("a/y", "day", DAY, up=100, maintenance=4)],
        "b/z": [Rollup("b/z", "day", DAY, down=1000)],
    }
    days = pooled_days(["a/x", "a/y"], series)
    assert [(d.bucket, d.up, d.down, d.maintenance) for d in days] == [
        (DAY, 190, 10, 4),
        (DAY + timedelta(1), 5, 0, 0),
    ]
    assert days[0].uptime() == 95.0
    assert pooled_days([], series) == []
