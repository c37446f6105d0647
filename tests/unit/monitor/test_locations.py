"""Checks with locations: names, default quorum, staleness, assignments, data centers."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from agents_catalog import load_agents_catalog
from infradex.monitor.locations import (
    assignments,
    datacenters,
    located_checks,
    location_name,
    unknown_location,
)


def test_assignments_quorum_and_staleness(tmp_path: Path) -> None:
    catalog = load_agents_catalog(tmp_path, interval="20s", timeout="5s", quorum=3)
    checks = located_checks(catalog)
    assert list(checks) == ["service:web/home", "service:web/eu"]  # not the server's own
    home, eu = checks["service:web/home"], checks["service:web/eu"]
    assert home.locations == ("ams1", "nyc1", "sfo1") and home.quorum == 3
    assert eu.locations == ("ams1",) and eu.quorum == 1  # default: a majority of one
    assert home.stale_after == timedelta(seconds=60)  # three intervals
    assert [c.id for c in assignments(catalog, "ams1")] == ["service:web/home", "service:web/eu"]
    assert [c.id for c in assignments(catalog, "sfo1")] == ["service:web/home"]
    assert assignments(catalog, "osl1") == []


def test_a_short_interval_is_stale_after_the_floor(tmp_path: Path) -> None:
    checks = located_checks(load_agents_catalog(tmp_path, interval="1s", timeout="500ms"))
    assert checks["service:web/home"].stale_after == timedelta(seconds=30)


def test_locations_are_data_centers(tmp_path: Path) -> None:
    catalog = load_agents_catalog(tmp_path)
    assert datacenters(catalog) == ["ams1", "nyc1", "sfo1"]
    assert unknown_location(catalog, "nyc1") is None
    problem = unknown_location(catalog, "mars1")
    assert problem is not None and "data centers are ams1, nyc1, sfo1" in problem
    assert location_name("datacenter:nyc1") == location_name("nyc1") == "nyc1"
