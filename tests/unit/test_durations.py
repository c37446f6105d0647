"""Durations as written in the catalog: parse, format, round trip."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infradex.durations import DurationError, format_age, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("500ms", timedelta(milliseconds=500)),
        ("30s", timedelta(seconds=30)),
        ("5m", timedelta(minutes=5)),
        ("1h", timedelta(hours=1)),
        ("14d", timedelta(days=14)),
        ("2w", timedelta(weeks=2)),
        ("1.5h", timedelta(minutes=90)),
        ("0.5s", timedelta(milliseconds=500)),
        ("0s", timedelta(0)),
        (" 5 m ", timedelta(minutes=5)),
        ("007s", timedelta(seconds=7)),
        (30, timedelta(seconds=30)),  # a bare integer means seconds
        (0, timedelta(0)),
    ],
)
def test_parse(text: str | int, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "5", "s", "5 minutes", "5x", "-5s", "+5s", "5mm", "1h30m", "1e3s", ".5s", "5.s", "5S"],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(text)
    message = str(info.value)
    assert message.startswith(f"{text!r} is not a duration")
    assert "e.g. 30s, 5m, 1h or 14d" in message


@pytest.mark.parametrize("value", [True, False])
def test_parse_rejects_booleans(value: bool) -> None:
    with pytest.raises(DurationError, match="is not a duration"):
        parse_duration(value)


def test_duration_error_is_a_value_error() -> None:
    assert issubclass(DurationError, ValueError)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(milliseconds=1), "1ms"),
        (timedelta(milliseconds=1500), "1500ms"),
        (timedelta(seconds=30), "30s"),
        (timedelta(seconds=90), "90s"),
        (timedelta(minutes=5), "5m"),
        (timedelta(minutes=90), "90m"),
        (timedelta(hours=1), "1h"),
        (timedelta(hours=36), "36h"),
        (timedelta(days=1), "1d"),
        (timedelta(days=14), "2w"),
        (timedelta(days=15), "15d"),
        (timedelta(weeks=3), "3w"),
        (timedelta(microseconds=400), "0s"),  # below a millisecond rounds away
    ],
)
def test_format(value: timedelta, text: str) -> None:
    assert format_duration(value) == text


# up to ten years, to the millisecond
milliseconds = st.integers(min_value=0, max_value=10 * 366 * 86_400_000)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(milliseconds)
def test_format_then_parse_round_trips(ms: int) -> None:
    value = timedelta(milliseconds=ms)
    text = format_duration(value)
    assert parse_duration(text) == value
    # and the spelling is the shortest exact one: no larger unit divides it
    number = int(text.rstrip("mshdw"))
    assert number >= 0
    if text.endswith("ms"):
        assert ms % 1000 != 0 or ms == 0


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text(max_size=20))
def test_parse_raises_only_duration_error(text: str) -> None:
    try:
        value = parse_duration(text)
    except DurationError:
        return
    assert isinstance(value, timedelta)
    assert value >= timedelta(0)


def test_huge_duration_is_a_duration_error() -> None:
    with pytest.raises(DurationError):
        parse_duration("1000000000d")


def test_long_millisecond_durations_are_exact() -> None:
    value = timedelta(milliseconds=22_489_631_357_550)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(-5, "0s"), (0, "0s"), (45, "45s"), (60, "1m"), (12 * 60 + 59, "12m"), (3600, "1h"),
     (2 * 3600 + 14 * 60 + 9, "2h 14m"), (3 * 86400 + 4 * 3600 + 59, "3d 4h"), (86400 + 30, "1d")],
)  # fmt: skip
def test_format_age_gives_the_two_largest_units(seconds: int, shown: str) -> None:
    assert format_age(timedelta(seconds=seconds)) == shown
