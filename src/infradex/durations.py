"""Durations as written in the catalog: ``500ms``, ``30s``, ``5m``, ``1h``, ``14d``, ``2w``.

A pure leaf module shared by the catalog (validation), conditions and the monitor.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["DurationError", "format_age", "format_duration", "parse_duration"]

#: microseconds in each unit: integer arithmetic, so "22489631357550ms" stays exact
_UNITS = {
    "ms": 1_000,
    "s": 1_000_000,
    "m": 60_000_000,
    "h": 3_600_000_000,
    "d": 86_400_000_000,
    "w": 604_800_000_000,
}
_PATTERN = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h|d|w)\s*$", re.ASCII)


class DurationError(ValueError):
    """Text that is not a duration; the message shows the accepted forms."""


def parse_duration(text: str | int) -> timedelta:
    """Parse ``"30s"`` into ``timedelta(seconds=30)``; a bare integer means seconds."""
    if isinstance(text, bool):
        raise DurationError(f"{text!r} is not a duration; write e.g. 30s, 5m, 1h or 14d")
    if isinstance(text, int):
        return timedelta(seconds=text)
    match = _PATTERN.match(str(text))
    if not match:
        raise DurationError(
            f"{text!r} is not a duration; write a number and a unit (ms, s, m, h, d, w), "
            "e.g. 30s, 5m, 1h or 14d"
        )
    number, unit = match.groups()
    whole, _, fraction = number.partition(".")
    micros = int(whole) * _UNITS[unit]
    if fraction:
        micros += int(fraction) * _UNITS[unit] // 10 ** len(fraction)
    try:
        return timedelta(microseconds=micros)
    except OverflowError:
        raise DurationError(
            f"{text!r} is too long; durations stop short of 2.7 million years"
        ) from None


def format_duration(value: timedelta) -> str:
    """The shortest exact catalog spelling of a duration (``timedelta(minutes=5)`` → ``5m``)."""
    ms = round(value.total_seconds() * 1000)
    for unit, factor in (("w", 604800000), ("d", 86400000), ("h", 3600000), ("m", 60000)):
        if ms and ms % factor == 0:
            return f"{ms // factor}{unit}"
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"


def format_age(value: timedelta) -> str:
    """How long something has lasted, for people: ``45s``, ``12m``, ``2h 14m``, ``3d 4h`` (days
    and hours carry the next unit; a negative span, from clocks apart, reads ``0s``)."""
    seconds = max(0, int(value.total_seconds()))
    units = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))
    for index, (unit, size) in enumerate(units):
        if seconds < size and unit != "s":
            continue
        whole, rest = divmod(seconds, size)
        text = f"{whole}{unit}"
        if unit in ("d", "h") and rest >= units[index + 1][1]:
            text += f" {rest // units[index + 1][1]}{units[index + 1][0]}"
        return text
    raise AssertionError("unreachable: seconds is the last unit")
