"""k of n across locations: down needs the quorum, one failing location is a location
problem, stale locations never count as down, maintenance wins."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infradex.monitor.evaluate import CheckState, Circumstances, Shown, advance
from infradex.monitor.quorum import LocationHealth, combine, location_health

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
STALE_AFTER = timedelta(minutes=3)
LOCATIONS = ("ams1", "nyc1", "sfo1")


def fed(outcomes: str, *, last_at: datetime = NOW, maintenance: bool = False) -> CheckState:
    """A location's state after these "u"/"d" outcomes, the last one at ``last_at``."""
    state = CheckState("service:www/home")
    circumstances = Circumstances(failure_threshold=2, success_threshold=1, maintenance=maintenance)
    for i, outcome in enumerate(outcomes):
        at = last_at - timedelta(minutes=len(outcomes) - 1 - i)
        state, _, _ = advance(state, outcome == "u", at, f"r{i}", 10.0, circumstances)
    return state


def verdict(states, quorum=2, locations=LOCATIONS):
    return combine(states, locations=locations, quorum=quorum, now=NOW, stale_after=STALE_AFTER)


def test_all_up_is_up() -> None:
    v = verdict({loc: fed("uu") for loc in LOCATIONS})
    assert v.state is Shown.UP
    assert v.up == LOCATIONS and not v.down and not v.location_problem


def test_one_location_down_of_three_is_a_location_problem_not_an_outage() -> None:
    v = verdict({"ams1": fed("uu"), "nyc1": fed("udd"), "sfo1": fed("uu")})
    assert v.state is Shown.UP
    assert v.location_problem
    assert v.down == ("nyc1",)
    assert "location problem" in v.reason and "nyc1" in v.reason


def test_two_of_three_down_reaches_quorum_two() -> None:
    v = verdict({"ams1": fed("uu"), "nyc1": fed("dd"), "sfo1": fed("dd")})
    assert v.state is Shown.DOWN
    assert v.down == ("nyc1", "sfo1")
    assert "2 of 3" in v.reason and "quorum 2" in v.reason


def test_soft_failures_do_not_count_until_the_location_is_hard_down() -> None:
    # one failure after success: the location's hard state is still up (threshold 2)
    v = verdict({"ams1": fed("uud"), "nyc1": fed("uud"), "sfo1": fed("uu")})
    assert v.state is Shown.UP and not v.down


def test_a_stale_location_is_never_down_and_does_not_make_the_quorum() -> None:
    old = NOW - STALE_AFTER - timedelta(seconds=1)
    v = verdict({"ams1": fed("dd", last_at=old), "nyc1": fed("dd"), "sfo1": fed("uu")})
    assert v.state is Shown.UP  # only one fresh location down: a location problem
    assert v.stale == ("ams1",) and v.down == ("nyc1",)
    assert location_health(fed("dd", last_at=old), NOW, STALE_AFTER) == LocationHealth.STALE


def test_all_locations_stale_is_unknown_not_down_nor_up() -> None:
    old = NOW - timedelta(hours=1)
    v = verdict({loc: fed("dd", last_at=old) for loc in LOCATIONS})
    assert v.state is Shown.UNKNOWN
    assert v.stale == LOCATIONS
    assert "ams1, nyc1, sfo1" in v.reason


def test_nothing_reported_is_pending() -> None:
    v = verdict({})
    assert v.state is Shown.PENDING
    assert v.pending == LOCATIONS


def test_maintenance_wins() -> None:
    v = verdict(
        {
            "ams1": fed("dd", maintenance=True),
            "nyc1": fed("dd", maintenance=True),
            "sfo1": fed("dd", maintenance=True),
        }
    )
    assert v.state is Shown.MAINTENANCE


def test_states_from_locations_the_check_does_not_list_are_ignored() -> None:
    v = verdict({"ams1": fed("uu"), "osl1": fed("dd"), "lon1": fed("dd")}, quorum=1)
    assert v.state is Shown.UP
    assert v.down == ()


def test_quorum_one_is_down_when_any_fresh_location_is_down() -> None:
    v = verdict({"ams1": fed("uu"), "nyc1": fed("dd"), "sfo1": fed("uu")}, quorum=1)
    assert v.state is Shown.DOWN


@pytest.mark.parametrize("quorum", [0, 4])
def test_a_quorum_outside_the_locations_is_refused(quorum: int) -> None:
    with pytest.raises(ValueError, match="quorum"):
        verdict({}, quorum=quorum)


@given(
    st.lists(st.sampled_from(["up", "down", "stale", "none"]), min_size=1, max_size=5),
    st.integers(min_value=1, max_value=5),
)
def test_down_exactly_when_quorum_fresh_locations_are_down(kinds, quorum) -> None:
    quorum = min(quorum, len(kinds))
    locations = tuple(f"dc{i}" for i in range(len(kinds)))
    old = NOW - timedelta(hours=1)
    make = {
        "up": lambda: fed("uu"),
        "down": lambda: fed("dd"),
        "stale": lambda: fed("dd", last_at=old),
    }
    states = {loc: make[k]() for loc, k in zip(locations, kinds, strict=True) if k != "none"}
    v = verdict(states, quorum=quorum, locations=locations)
    fresh_down = kinds.count("down")
    assert (v.state is Shown.DOWN) == (fresh_down >= quorum)
    # stale never counts as down
    assert len(v.down) == fresh_down
    if v.state is not Shown.DOWN and fresh_down:
        assert v.location_problem
