"""Recurrence rules from a catalog or the API cannot make the server scan to year 9999: a rule
with no occurrence within the horizon is refused, and every expansion is bounded."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from infradex.errors import UsageError
from infradex.lint import load
from infradex.monitor.maintenance import Window, parse_rrule
from infradex.recurrence import HORIZON_YEARS

NEVER = [
    "FREQ=YEARLY;BYSETPOS=1;BYYEARDAY=400",
    "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=MONTHLY;BYMONTH=2;BYMONTHDAY=31",
    "FREQ=WEEKLY;BYMONTH=4;BYMONTHDAY=31",
    "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30",
    "FREQ=HOURLY;BYMONTH=2;BYMONTHDAY=30",
]
START = datetime(2024, 1, 7, 2, 0, tzinfo=UTC)

PROVIDER = """\
apiVersion: infradex/v1
kind: Provider
metadata: {name: fastly}
spec:
  type: cdn
  maintenance:
    - start: 2024-01-07T02:00
      duration: 2h
      rrule: RULE
"""


@pytest.mark.parametrize("rule", NEVER)
def test_a_rule_that_never_occurs_is_refused_quickly(rule: str) -> None:
    started = time.monotonic()
    with pytest.raises(UsageError, match=f"no occurrence within {HORIZON_YEARS} years"):
        parse_rrule(rule, START, "UTC")
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("rule", NEVER[:2])
def test_the_catalog_refuses_it_with_file_and_line(tmp_path: Path, rule: str) -> None:
    (tmp_path / "providers.yaml").write_text(PROVIDER.replace("RULE", rule))
    (error,) = load(tmp_path).errors
    assert (error.file, error.line, error.field) == ("providers.yaml", 7, "spec.maintenance[0]")
    assert "no occurrence within 5 years" in error.message


@pytest.mark.parametrize(
    "rule",
    ["FREQ=MINUTELY", "FREQ=SECONDLY;INTERVAL=3600", "FREQ=WEEKLY\nRRULE:FREQ=DAILY", "X=1"],
)
def test_rules_finer_than_hourly_or_not_one_line_are_refused(rule: str) -> None:
    with pytest.raises(UsageError):
        parse_rrule(rule, START, "UTC")


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;BYDAY=SU",
        "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29",  # leap years only: next in 2024
        "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=-1",
        "FREQ=HOURLY;INTERVAL=6",
        "FREQ=DAILY;UNTIL=20240301T000000Z",
    ],
)
def test_ordinary_rules_are_accepted(rule: str) -> None:
    assert parse_rrule("RRULE:" + rule, START, "UTC") == rule


def test_a_stored_rule_that_never_occurs_costs_nothing_to_ask_about() -> None:
    # rows written before rules were checked: never active, and asked about quickly
    window = Window("provider:fastly", START, START.replace(hour=4), NEVER[0])
    started = time.monotonic()
    shown = window.status(datetime(2026, 1, 1, tzinfo=UTC))
    assert time.monotonic() - started < 0.5
    assert (shown.active, shown.next_start) == (False, None)


def test_an_ended_rule_is_not_scanned_past_its_end() -> None:
    rule = "FREQ=DAILY;BYMONTH=2;BYMONTHDAY=29;UNTIL=20240301T000000Z"
    window = Window("provider:fastly", START, START.replace(hour=4), rule)
    started = time.monotonic()
    assert window.next_start(datetime(2030, 1, 1, tzinfo=UTC)) is None
    assert time.monotonic() - started < 0.5


def test_weekly_windows_still_work() -> None:
    window = Window("provider:fastly", START, START.replace(hour=4), "FREQ=WEEKLY;BYDAY=SU")
    assert window.active_at(datetime(2026, 3, 1, 3, 0, tzinfo=UTC))  # a Sunday
    assert not window.active_at(datetime(2026, 3, 2, 3, 0, tzinfo=UTC))
    assert window.next_start(datetime(2026, 3, 2, tzinfo=UTC)) == datetime(
        2026, 3, 8, 2, 0, tzinfo=UTC
    )
