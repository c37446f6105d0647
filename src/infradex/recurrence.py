"""Recurrence rules (RFC 5545 RRULE) for maintenance windows, with bounded work.

dateutil expands a rule by stepping through periods (years, months, days...) and only stops when
a candidate matches or the year passes 9999: a rule that never matches
(``FREQ=YEARLY;BYSETPOS=1;BYYEARDAY=400``) scans thousands of years on every question asked of
it. So a rule is accepted only if it has an occurrence within ``HORIZON_YEARS`` of its start
(checked in bounded time, below), repeats at most hourly, and every expansion stops after
``MAX_OCCURRENCES`` occurrences.
"""

from __future__ import annotations

import functools
from datetime import MAXYEAR, datetime

from dateutil.rrule import HOURLY, rrule, rrulestr

__all__ = [
    "HORIZON_YEARS",
    "MAX_OCCURRENCES",
    "RecurrenceError",
    "compile_rule",
    "last_start",
    "next_start",
]

#: a rule must have an occurrence this soon after its start
HORIZON_YEARS = 5
#: the most occurrences one question walks through (hourly for 11 years)
MAX_OCCURRENCES = 100_000
#: the Gregorian calendar repeats every 400 years, weekdays and leap days included
_CYCLE_YEARS = 400


class RecurrenceError(ValueError):
    """A rule that cannot be used; the message says what to write instead."""


def compile_rule(text: str, dtstart: datetime) -> rrule:
    """The rule ``text`` (without ``RRULE:``) starting at ``dtstart``, or RecurrenceError."""
    return _compile(text, dtstart)


@functools.lru_cache(maxsize=256)  # the monitor asks about the same windows every tick
def _compile(text: str, dtstart: datetime) -> rrule:
    example = "write e.g. FREQ=WEEKLY;BYDAY=SU"
    if not text or any(c.isspace() for c in text):
        raise RecurrenceError(f"{text!r} is not a recurrence rule (one line, no spaces); {example}")
    try:
        rule = rrulestr(text, dtstart=dtstart)
    except (ValueError, TypeError, OverflowError) as exc:
        raise RecurrenceError(f"{text!r} is not a recurrence rule ({exc}); {example}") from None
    if not isinstance(rule, rrule):
        raise RecurrenceError(f"{text!r} must be a single RRULE; {example}")
    if getattr(rule, "_freq", HOURLY) > HOURLY:  # MINUTELY, SECONDLY: not a maintenance window
        raise RecurrenceError(f"{text!r} repeats more often than hourly; use FREQ=HOURLY or less")
    if not _occurs_within_horizon(rule, dtstart):
        raise RecurrenceError(
            f"{text!r} has no occurrence within {HORIZON_YEARS} years of {dtstart:%Y-%m-%d}; "
            f"check the BY* parts (e.g. BYYEARDAY is 1-366, BYMONTHDAY 1-31); {example}"
        )
    return rule


def _occurs_within_horizon(rule: rrule, dtstart: datetime) -> bool:
    """Whether the rule has an occurrence within the horizon, in bounded time: the same rule
    moved by whole 400-year cycles to just before year 9999, where dateutil's scan ends."""
    start = dtstart.replace(tzinfo=None)
    cycles = (MAXYEAR - HORIZON_YEARS - start.year) // _CYCLE_YEARS
    years = cycles * _CYCLE_YEARS
    until = _until(rule)
    if until is not None:
        if until.tzinfo is not None and dtstart.tzinfo is not None:
            until = until.astimezone(dtstart.tzinfo)
        until = _shift(until.replace(tzinfo=None), years)
    moved = rule.replace(dtstart=_shift(start, years), until=until, cache=False)
    first = moved.after(_shift(start, years), inc=True)  # scans at most ~405 years of periods
    return first is not None and first <= _shift(start, years + HORIZON_YEARS)


def _until(rule: rrule) -> datetime | None:
    until: datetime | None = getattr(rule, "_until", None)  # dateutil keeps it private
    return until


def _shift(moment: datetime, years: int) -> datetime:
    try:
        return moment.replace(year=moment.year + years)
    except ValueError:  # 29 February into a year without one (only for the horizon's end)
        return moment.replace(year=moment.year + years, day=28)


def _walk(rule: rrule, stop: datetime) -> datetime | None:
    """The last occurrence at or before ``stop``, walking at most MAX_OCCURRENCES."""
    until = _until(rule)
    last = None
    for count, occurrence in enumerate(rule):
        if occurrence > stop or count >= MAX_OCCURRENCES:
            break
        last = occurrence
        if until is not None and occurrence >= until:
            break
    return last


def last_start(rule: rrule, at: datetime) -> datetime | None:
    """The last occurrence that starts at or before ``at`` (bounded)."""
    return _walk(rule, at)


def next_start(rule: rrule, after: datetime) -> datetime | None:
    """The first occurrence strictly after ``after`` (bounded)."""
    until = _until(rule)
    if until is not None and after >= until:
        return None  # dateutil would scan on for a match past the end before giving up
    for count, occurrence in enumerate(rule):
        if occurrence > after:
            return occurrence
        if count >= MAX_OCCURRENCES:
            return None
    return None
