"""Which agent results the server takes: assigned checks, time limits, replays, batch size."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from agents_catalog import load_agents_catalog
from infradex.monitor.admission import (
    HORIZON,
    MAX_BATCH,
    MAX_FUTURE_SKEW,
    AgentResult,
    BatchTooLarge,
    check_batch_size,
    screen,
)
from infradex.monitor.locations import located_checks

NOW = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def checks(tmp_path_factory: pytest.TempPathFactory):
    return located_checks(load_agents_catalog(Path(tmp_path_factory.mktemp("catalog"))))


def result(check_id: str, at: datetime, success: bool = True) -> AgentResult:
    return AgentResult(check_id, at, success, 5.0)


def test_each_refusal_says_which_limit(checks) -> None:
    second = timedelta(seconds=1)
    screened = screen(
        [
            result("service:web/home", NOW),
            result("service:web/eu", NOW),  # ams1 only
            result("service:web/local", NOW),  # the server's own
            result("service:nope/x", NOW),
            result("service:web/home", NOW + MAX_FUTURE_SKEW + second),
            result("service:web/home", NOW - HORIZON - second),
        ],
        location="nyc1",
        checks=checks,
        last_at={},
        now=NOW,
    )
    assert screened.stored == 1 and list(screened.accepted) == ["service:web/home"]
    reasons = [(r.check_id, r.reason) for r in screened.refused]
    assert reasons == [
        ("service:web/home", "too-old"),
        ("service:web/eu", "not-assigned"),
        ("service:web/local", "not-assigned"),
        ("service:nope/x", "not-assigned"),
        ("service:web/home", "future"),
    ]
    assert screened.refused_counts() == {"too-old": 1, "not-assigned": 3, "future": 1}
    details = {r.reason: r.detail for r in screened.refused}
    assert "24 h" in details["too-old"] and "120 s in the future" in details["future"]


def test_results_are_taken_in_observed_order_and_a_replay_is_refused(checks) -> None:
    t = [NOW - timedelta(seconds=s) for s in (30, 20, 10)]
    screened = screen(
        [result("service:web/home", at) for at in (t[2], t[1], t[0], t[1])],
        location="ams1",
        checks=checks,
        last_at={"service:web/home": t[0]},
        now=NOW,
    )
    assert [r.observed_at for r in screened.accepted["service:web/home"]] == [t[1], t[2]]
    assert [(r.observed_at, r.reason) for r in screened.refused] == [
        (t[0], "replayed"),
        (t[1], "replayed"),  # the same moment twice: the second is a duplicate
    ]


def test_an_oversize_batch_is_refused_whole() -> None:
    check_batch_size(MAX_BATCH)
    with pytest.raises(BatchTooLarge, match=f"send at most {MAX_BATCH}"):
        check_batch_size(MAX_BATCH + 1)
