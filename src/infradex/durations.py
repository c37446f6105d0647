"""Durations as written in the catalog: ``500ms``, ``30s``, ``5m``, ``1h``, ``14d``, ``2w``.

A pure leaf module shared by the catalog (validation), conditions and the monitor.
"""

from __future__ import annotations

import re
from datetime import timedelta

__all__ = ["DurationError", "format_duration", "parse_duration"]

_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)\s*$")


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
    return timedelta(seconds=float(number) * _UNITS[unit])


def format_duration(value: timedelta) -> str:
    """The shortest exact catalog spelling of a duration (``timedelta(minutes=5)`` → ``5m``)."""
    ms = round(value.total_seconds() * 1000)
    for unit, factor in (("w", 604800000), ("d", 86400000), ("h", 3600000), ("m", 60000)):
        if ms and ms % factor == 0:
            return f"{ms // factor}{unit}"
    if ms % 1000 == 0:
        return f"{ms // 1000}s"
    return f"{ms}ms"
