"""How states are ranked for people: the worst first, unknown words last."""

from __future__ import annotations

from infradex.monitor.report import NOT_MONITORED, STATE_ORDER, state_rank, worst


def test_worst_state_of_an_entity() -> None:
    assert worst(["up", "maintenance", "down", "pending"]) == "down"
    assert worst(["up", "flapping"]) == "flapping"
    assert worst(["up", NOT_MONITORED]) == "up"
    assert worst([]) is None


def test_ranks_follow_the_order_and_put_strange_words_last() -> None:
    assert [state_rank(s) for s in STATE_ORDER] == list(range(len(STATE_ORDER)))
    assert state_rank("sideways") == len(STATE_ORDER)
