"""The glance at every check: counts by shown state and each entity's worst state, one pass."""

from __future__ import annotations

from dataclasses import replace

from infradex.monitor.checks import CheckDef, adhoc_check
from infradex.monitor.evaluate import CheckState, Shown
from infradex.web.glance import summarise


def _check(owner: str, name: str) -> CheckDef:
    return replace(adhoc_check("http://127.0.0.1:1/"), id=f"{owner}/{name}", owner=owner)


def test_counts_every_check_and_keeps_each_entitys_worst() -> None:
    grouped = {
        "service:a": [_check("service:a", "home"), _check("service:a", "api")],
        "service:b": [_check("service:b", "home")],
    }
    states = {
        "service:a/home": CheckState("service:a/home", Shown.UP),
        "service:a/api": CheckState("service:a/api", Shown.DOWN),
    }
    seen = summarise(grouped, states, True)
    assert seen.on and dict(seen.counts) == {"up": 1, "down": 1, "pending": 1}
    assert seen.health == {"service:a": "down", "service:b": "pending"}
    quiet = summarise(grouped, {}, False)
    assert quiet.health == {"service:a": "not monitored", "service:b": "not monitored"}
