"""Soft and hard states, flapping, maintenance and the canary, with time passed in."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from infradex.monitor.evaluate import (
    FLAP_LOW,
    CheckState,
    Circumstances,
    Shown,
    Status,
    advance,
    flap_percent,
)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
NORMAL = Circumstances(failure_threshold=3, success_threshold=2)


def run(outcomes: str, circumstances: Circumstances = NORMAL, state: CheckState | None = None):
    """Feed "u"/"d" outcomes one minute apart; return the final state, statuses, changes."""
    state = state or CheckState("service:docs/home")
    statuses, changes = [], []
    for i, outcome in enumerate(outcomes):
        state, status, change = advance(
            state, outcome == "u", T0 + timedelta(minutes=i), f"result {i}", 12.0, circumstances
        )
        statuses.append(status)
        if change:
            changes.append(change)
    return state, statuses, changes


def test_a_new_check_is_pending_then_up_at_its_first_success() -> None:
    state, _, changes = run("u")
    assert state.state is Shown.UP
    assert [(c.from_state, c.to_state) for c in changes] == [(Shown.PENDING, Shown.UP)]


def test_failures_below_the_threshold_are_soft() -> None:
    state, statuses, changes = run("uudd")
    assert state.state is Shown.UP and state.failures == 2
    assert statuses[-1] is Status.DOWN  # the result itself failed
    assert len(changes) == 1


def test_the_threshold_th_consecutive_failure_makes_it_down_with_the_reason() -> None:
    state, _, changes = run("uuddd")
    assert state.state is Shown.DOWN and state.hard_state is Shown.DOWN
    assert changes[-1].to_state is Shown.DOWN
    assert changes[-1].at == T0 + timedelta(minutes=4)
    assert "3 consecutive failures: result 4" in changes[-1].reason


def test_a_success_between_failures_resets_the_count() -> None:
    state, _, _ = run("uddudd")
    assert state.state is Shown.UP


def test_recovery_needs_success_threshold_successes() -> None:
    state, _, _ = run("udddu")
    assert state.state is Shown.DOWN
    state, _, changes = run("uddduu")
    assert state.state is Shown.UP and changes[-1].to_state is Shown.UP
    assert state.since == T0 + timedelta(minutes=5)


def test_alternating_results_are_shown_as_flapping_not_toggled() -> None:
    # threshold 1 so each result would toggle the hard state
    quick = Circumstances(failure_threshold=1, success_threshold=1)
    state, _, changes = run("ud" * 6, quick)
    assert state.flapping and state.state is Shown.FLAPPING
    shown = [c.to_state for c in changes]
    assert shown.count(Shown.FLAPPING) == 1
    # once flapping, no more up/down changes are emitted
    assert shown[shown.index(Shown.FLAPPING) + 1 :] == []


def test_flapping_stops_when_the_check_settles_and_shows_the_hard_state() -> None:
    quick = Circumstances(failure_threshold=1, success_threshold=1)
    state, _, _ = run("ud" * 6, quick)
    state, _, changes = run("u" * 20, quick, state)
    assert not state.flapping and state.state is Shown.UP
    assert changes[-1].from_state is Shown.FLAPPING


def test_one_outage_and_recovery_is_not_flapping() -> None:
    state, _, _ = run("uuuudddduuuu")
    assert not state.flapping


def test_flap_percent_weights_recent_changes_more() -> None:
    old_change = "ud" + "d" * 19
    new_change = "u" * 20 + "d"
    assert flap_percent(new_change) > flap_percent(old_change) > 0
    assert flap_percent("ud" * 11) == 100.0
    assert flap_percent("") == 0.0


def test_maintenance_marks_results_and_state_but_counters_keep_running() -> None:
    state, _, _ = run("uu")
    state, statuses, changes = run("ddd", Circumstances(maintenance=True), state)
    assert statuses == [Status.MAINTENANCE] * 3
    assert state.state is Shown.MAINTENANCE and state.hard_state is Shown.DOWN
    assert [c.to_state for c in changes] == [Shown.MAINTENANCE]
    # the window ends while the target is still down: down at the next result
    state, _, changes = run("d", NORMAL, state)
    assert state.state is Shown.DOWN and changes[-1].from_state is Shown.MAINTENANCE


def test_a_failing_canary_turns_failures_into_unknown_and_moves_no_counter() -> None:
    state, _, _ = run("uu")
    state, statuses, changes = run("ddddd", Circumstances(canary_down=True), state)
    assert statuses == [Status.UNKNOWN] * 5
    assert state.state is Shown.UNKNOWN and state.failures == 0 and state.hard_state is Shown.UP
    assert [c.to_state for c in changes] == [Shown.UNKNOWN]
    assert "canary" in changes[0].reason
    # successes still count while the canary fails
    state, statuses, _ = run("u", Circumstances(canary_down=True), state)
    assert statuses == [Status.UP] and state.state is Shown.UP


@given(st.text(alphabet="ud", max_size=60))
def test_state_always_follows_the_rules(outcomes: str) -> None:
    state, _statuses, changes = run(outcomes)
    assert len(state.history) <= 21
    assert 0.0 <= flap_percent(state.history) <= 100.0
    for before, after in itertools.pairwise(changes):
        assert before.to_state == after.from_state  # changes chain
        assert before.to_state != after.to_state
    if not outcomes:
        assert state.state is Shown.PENDING
    elif not state.flapping and state.hard_state is Shown.DOWN:
        assert state.state is Shown.DOWN
        assert outcomes.rfind("ddd") >= 0
    if state.state is Shown.FLAPPING:
        assert flap_percent(state.history) >= FLAP_LOW
    elif "u" in outcomes or "ddd" in outcomes:
        assert state.state in (Shown.UP, Shown.DOWN)
    else:  # only one or two failures so far
        assert state.state is Shown.PENDING
