"""Resolve a Schedule (``catalog.md``) at an instant, and find when nobody is on call.

Rules (PagerDuty's, which the PSF uses today):

- a layer's members take turns, one shift each; shifts change at the ``handoff`` wall-clock time
  in the schedule's time zone (``daily``: every day; ``weekly``: on the handoff's weekday;
  ``<n>d``: every n days), so a shift keeps its local hand-off time across DST changes;
- a layer covers all the week unless it has ``restrictions`` (extension: weekdays and hours);
- later layers win over earlier ones; an override wins over every layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

__all__ = ["Gap", "coverage_gaps", "on_call_at"]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch with nobody on call, in the schedule's time zone."""

    start: datetime
    end: datetime

    def describe(self) -> str:
        """``Sun 01:00–08:00 CET``; ``Fri 17:00–Mon 09:00 CEST`` across days."""
        if self.end.date() == self.start.date():
            end = self.end.strftime("%H:%M")
        elif self.end.time() == time(0) and self.end.date() == self.start.date() + timedelta(1):
            end = "24:00"
        else:
            end = self.end.strftime("%a %H:%M")
        return f"{self.start.strftime('%a %H:%M')}–{end} {self.start.tzname()}"


def _local_instant(text: str, zone: ZoneInfo) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def _clock(text: str) -> time | None:
    hours, minutes = (int(x) for x in text.split(":"))
    return None if hours == 24 else time(hours, minutes)


def _handoff(layer: Any) -> tuple[int | None, time]:
    parts = layer.handoff.split()
    weekday = _WEEKDAYS.index(parts[0]) if len(parts) == 2 else None
    clock = _clock(parts[-1]) or time(0)
    return weekday, clock


def _period_days(rotation: str) -> int:
    return {"daily": 1, "weekly": 7}.get(rotation) or int(rotation.rstrip("d"))


def _anchor(layer: Any, zone: ZoneInfo) -> datetime:
    """The last hand-off at or before the layer's start, as naive local wall time."""
    start = _local_instant(layer.start, zone).replace(tzinfo=None)
    weekday, clock = _handoff(layer)
    anchor = datetime.combine(start.date(), clock)
    if layer.rotation == "weekly" and weekday is not None:
        anchor -= timedelta(days=(anchor.weekday() - weekday) % 7)
    while anchor > start:
        anchor -= timedelta(days=_period_days(layer.rotation))
    return anchor


def _in_restrictions(layer: Any, local: datetime) -> bool:
    if not layer.restrictions:
        return True
    day = _WEEKDAYS[local.weekday()]
    now = local.time()
    for restriction in layer.restrictions:
        if day not in restriction.days:
            continue
        start = _clock(restriction.start) or time(0)
        end = _clock(restriction.end)
        if start <= now and (end is None or now < end):
            return True
    return False


def _layer_member(layer: Any, zone: ZoneInfo, when: datetime) -> str | None:
    if not layer.members:
        return None
    local = when.astimezone(zone)
    if local < _local_instant(layer.start, zone) or not _in_restrictions(layer, local):
        return None
    elapsed = local.replace(tzinfo=None) - _anchor(layer, zone)
    shift = math.floor(elapsed / timedelta(days=_period_days(layer.rotation)))
    return str(layer.members[shift % len(layer.members)])


def on_call_at(spec: Any, when: datetime) -> str | None:
    """The reference (as written) of whoever is on call at ``when``, or None for a gap."""
    zone = ZoneInfo(spec.timezone)
    for override in spec.overrides:
        if _local_instant(override.start, zone) <= when < _local_instant(override.end, zone):
            return str(override.person)
    for layer in reversed(spec.layers):
        member = _layer_member(layer, zone, when)
        if member is not None:
            return member
    return None


def coverage_gaps(spec: Any, now: datetime, days: int = 7) -> list[Gap]:
    """Every stretch in ``[now, now + days)`` with nobody on call, merged and in order.

    Coverage changes only at restriction edges, layer starts and override edges, so the
    covered intervals are built from those directly rather than by sampling.
    """
    zone = ZoneInfo(spec.timezone)
    begin = now.astimezone(zone)
    finish = begin + timedelta(days=days)
    covered: list[tuple[datetime, datetime]] = []
    for override in spec.overrides:
        covered.append((_local_instant(override.start, zone), _local_instant(override.end, zone)))
    for layer in spec.layers:
        if not layer.members:
            continue
        layer_start = _local_instant(layer.start, zone)
        if not layer.restrictions:
            covered.append((layer_start, finish))
            continue
        day: date = begin.date() - timedelta(days=1)
        while day <= finish.date():
            for restriction in layer.restrictions:
                if _WEEKDAYS[day.weekday()] not in restriction.days:
                    continue
                start = datetime.combine(day, _clock(restriction.start) or time(0), zone)
                end_clock = _clock(restriction.end)
                end = (
                    datetime.combine(day + timedelta(days=1), time(0), zone)
                    if end_clock is None
                    else datetime.combine(day, end_clock, zone)
                )
                if end > max(start, layer_start):  # windows before the layer starts cover nothing
                    covered.append((max(start, layer_start), end))
            day += timedelta(days=1)
    gaps: list[Gap] = []
    cursor = begin
    for start, end in sorted((s.astimezone(UTC), e.astimezone(UTC)) for s, e in covered):
        if end <= cursor:
            continue
        if start > cursor:
            gaps.append(Gap(cursor.astimezone(zone), min(start, finish).astimezone(zone)))
        cursor = max(cursor, end)
        if cursor >= finish:
            break
    if cursor < finish:
        gaps.append(Gap(cursor.astimezone(zone), finish.astimezone(zone)))
    return [gap for gap in gaps if gap.end > gap.start]
