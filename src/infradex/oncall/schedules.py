"""Resolve a Schedule (``catalog.md``) at an instant, and find when nobody is on call.

Rules (PagerDuty's, which the PSF uses today):

- a layer's members take turns, one shift each; shifts change at the ``handoff`` wall-clock time
  in the schedule's time zone (``daily``: every day; ``weekly``: on the handoff's weekday;
  ``<n>d``: every n days), so a shift keeps its local hand-off time across DST changes;
- a layer covers all the week unless it has ``restrictions`` (extension: weekdays and hours);
- later layers win over earlier ones; an override wins over every layer.

:func:`shifts` lays the final schedule out as intervals. The answer changes only at override
edges, layer starts, hand-offs and restriction edges (the last two in local wall time, so also
where the wall clock jumps at a DST change); the intervals are built from those instants, each
resolved once with the same rules as :func:`on_call_at`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from infradex.catalog.models import Layer, ScheduleSpec

__all__ = [
    "HORIZON",
    "OVERRIDE",
    "Gap",
    "Shift",
    "Turn",
    "coverage_gaps",
    "next_change",
    "on_call_at",
    "shift_start",
    "shifts",
    "turn_at",
]

_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

#: the ``source`` of a shift that an override decides (otherwise: the layer's name)
OVERRIDE = "override"
#: how far :func:`next_change` looks ahead before answering "no change"
HORIZON = timedelta(days=400)
_CHUNK = timedelta(days=31)


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


@dataclass(frozen=True, slots=True)
class Shift:
    """One stretch of the final schedule: ``person`` (the reference as written, None for a
    gap) from ``start`` to ``end`` (exclusive), decided by ``source``: a layer's name,
    ``"override"``, or ``""`` for a gap. Times are in the schedule's time zone."""

    person: str | None
    start: datetime
    end: datetime
    source: str

    @property
    def duration(self) -> timedelta:
        """Real elapsed time (a shift over a DST change is 23 or 25 hours a day)."""
        return self.end.astimezone(UTC) - self.start.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Turn:
    """Whose turn it is at an instant (None: nobody), by which ``source``, ``until`` when
    (None: no change within the horizon), and who follows (``next``, None for a gap) until
    ``next_until``. Times are in the schedule's time zone."""

    person: str | None
    source: str
    until: datetime | None
    next: str | None
    next_until: datetime | None


def _local_instant(text: str, zone: ZoneInfo) -> datetime:
    value = datetime.fromisoformat(text)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value.astimezone(zone)


def _clock(text: str) -> time | None:
    hours, minutes = (int(x) for x in text.split(":"))
    return None if hours == 24 else time(hours, minutes)


def _handoff(layer: Layer) -> tuple[int | None, time]:
    parts = layer.handoff.split()
    weekday = _WEEKDAYS.index(parts[0]) if len(parts) == 2 else None
    clock = _clock(parts[-1]) or time(0)
    return weekday, clock


def _period_days(rotation: str) -> int:
    return {"daily": 1, "weekly": 7}.get(rotation) or int(rotation.rstrip("d"))


def _anchor(layer: Layer, zone: ZoneInfo) -> datetime:
    """The last hand-off at or before the layer's start, as naive local wall time."""
    start = _local_instant(layer.start, zone).replace(tzinfo=None)
    weekday, clock = _handoff(layer)
    anchor = datetime.combine(start.date(), clock)
    if layer.rotation == "weekly" and weekday is not None:
        anchor -= timedelta(days=(anchor.weekday() - weekday) % 7)
    while anchor > start:
        anchor -= timedelta(days=_period_days(layer.rotation))
    return anchor


def _in_restrictions(layer: Layer, local: datetime) -> bool:
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


def _layer_member(layer: Layer, zone: ZoneInfo, when: datetime) -> str | None:
    if not layer.members:
        return None
    local = when.astimezone(zone)
    # compared in UTC: two times in the same zone compare by wall clock, fold ignored
    if when.astimezone(UTC) < _local_instant(layer.start, zone).astimezone(UTC):
        return None
    if not _in_restrictions(layer, local):
        return None
    elapsed = local.replace(tzinfo=None) - _anchor(layer, zone)
    shift = math.floor(elapsed / timedelta(days=_period_days(layer.rotation)))
    return str(layer.members[shift % len(layer.members)])


def _resolve(spec: ScheduleSpec, zone: ZoneInfo, when: datetime) -> tuple[str | None, str]:
    """Who is on call at ``when`` and why: ``"override"``, a layer's name, or ``""`` (gap)."""
    when = when.astimezone(UTC)  # in the schedule's zone it would compare by wall clock
    for override in spec.overrides:
        if _local_instant(override.start, zone) <= when < _local_instant(override.end, zone):
            return str(override.person), OVERRIDE
    for layer in reversed(spec.layers):
        member = _layer_member(layer, zone, when)
        if member is not None:
            return member, str(layer.name)
    return None, ""


def on_call_at(spec: ScheduleSpec, when: datetime) -> str | None:
    """The reference (as written) of whoever is on call at ``when``, or None for a gap."""
    return _resolve(spec, ZoneInfo(spec.timezone), when)[0]


def coverage_gaps(spec: ScheduleSpec, now: datetime, days: int = 7) -> list[Gap]:
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


# ============================================================================ the final schedule
def _aware(value: datetime, what: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} needs a time zone (e.g. 2026-03-29T09:00+02:00): {value}")
    return value.astimezone(UTC)


def _wall_to_utc(wall: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Both instants a naive wall time can mean (they differ in the hour the clocks repeat)."""
    return (
        wall.replace(tzinfo=zone, fold=0).astimezone(UTC),
        wall.replace(tzinfo=zone, fold=1).astimezone(UTC),
    )


def _offset_changes(zone: ZoneInfo, begin: datetime, finish: datetime) -> list[datetime]:
    """The instants in ``[begin, finish]`` where the zone's UTC offset changes (DST), found by
    bisection to the second between 6-hour steps."""
    found: list[datetime] = []
    step = timedelta(hours=6)
    left = begin
    while left < finish:
        right = min(left + step, finish)
        if left.astimezone(zone).utcoffset() != right.astimezone(zone).utcoffset():
            low, high = left, right
            offset = low.astimezone(zone).utcoffset()
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                middle = middle.replace(microsecond=0)
                if middle.astimezone(zone).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            found.append(high)
        left = right
    return found


def _change_points(
    spec: ScheduleSpec, zone: ZoneInfo, begin: datetime, finish: datetime
) -> set[datetime]:
    """Every instant in ``(begin, finish)`` where the answer may change (a superset)."""
    points: set[datetime] = set()
    for override in spec.overrides:
        points.add(_local_instant(override.start, zone).astimezone(UTC))
        points.add(_local_instant(override.end, zone).astimezone(UTC))
    # hand-offs and restriction edges are wall times; a day's margin covers any UTC offset
    low = begin.astimezone(zone).replace(tzinfo=None) - timedelta(days=1)
    high = finish.astimezone(zone).replace(tzinfo=None) + timedelta(days=1)
    walls: set[datetime] = set()
    for layer in spec.layers:
        if not layer.members:
            continue
        points.add(_local_instant(layer.start, zone).astimezone(UTC))
        anchor = _anchor(layer, zone)
        period = timedelta(days=_period_days(layer.rotation))
        first = max(0, math.floor((low - anchor) / period))
        last = math.ceil((high - anchor) / period)
        walls.update(anchor + number * period for number in range(first, last + 1))
        day = low.date()
        while layer.restrictions and day <= high.date():
            # every window's edges on every day (a superset); an end of 24:00 is the next
            # day's 00:00, which is added as that day's midnight
            walls.add(datetime.combine(day, time(0)))
            for restriction in layer.restrictions:
                walls.add(datetime.combine(day, _clock(restriction.start) or time(0)))
                walls.add(datetime.combine(day, _clock(restriction.end) or time(0)))
            day += timedelta(days=1)
    if walls:
        for wall in walls:
            points.update(_wall_to_utc(wall, zone))
        # where the wall clock jumps, it can jump over (or back across) a hand-off
        points.update(_offset_changes(zone, begin, finish))
    return {point for point in points if begin < point < finish}


def shifts(spec: ScheduleSpec, start: datetime, end: datetime) -> list[Shift]:
    """The final schedule over ``[start, end)``: consecutive shifts, gaps included (person
    None), adjacent ones merged when person and source are the same. Each shift names exactly
    whom :func:`on_call_at` names at any instant inside it. Times in the schedule's zone."""
    zone = ZoneInfo(spec.timezone)
    begin, finish = _aware(start, "start"), _aware(end, "end")
    if finish <= begin:
        return []
    edges = [begin, *sorted(_change_points(spec, zone, begin, finish)), finish]
    found: list[Shift] = []
    for left, right in pairwise(edges):
        person, source = _resolve(spec, zone, left)
        if found and found[-1].person == person and found[-1].source == source:
            found[-1] = replace(found[-1], end=right)
        else:
            found.append(Shift(person, left, right, source))
    return [replace(s, start=s.start.astimezone(zone), end=s.end.astimezone(zone)) for s in found]


def next_change(
    spec: ScheduleSpec, when: datetime, horizon: timedelta = HORIZON
) -> datetime | None:
    """The first instant after ``when`` at which :func:`on_call_at` gives another answer (the
    end of the current person's turn, or of a gap), in the schedule's zone; None if the answer
    stays the same for ``horizon``."""
    cursor = _aware(when, "when")
    current = on_call_at(spec, cursor)
    limit = cursor + horizon
    while cursor < limit:
        chunk_end = min(cursor + _CHUNK, limit)
        for shift in shifts(spec, cursor, chunk_end):
            if shift.person != current:
                return shift.start
        cursor = chunk_end
    return None


def shift_start(spec: ScheduleSpec, when: datetime) -> datetime | None:
    """When the shift holding ``when`` (same person, same source) began, in the schedule's zone;
    None for a gap that has lasted since before anything in the schedule starts. Calendar
    feeds use it so a shift keeps its real start whatever window they show."""
    zone = ZoneInfo(spec.timezone)
    current = _resolve(spec, zone, _aware(when, "when"))
    texts = [layer.start for layer in spec.layers if layer.members]
    texts += [override.start for override in spec.overrides]
    if not texts:
        return None  # nothing ever starts: a gap for ever
    first = min(_local_instant(text, zone).astimezone(UTC) for text in texts)
    floor = first - timedelta(days=1)  # before the first start, a gap for ever
    stretch = when.astimezone(UTC)
    while stretch > floor:
        low = max(stretch - _CHUNK, floor)
        for part in reversed(shifts(spec, low, stretch)):
            if (part.person, part.source) != current:
                return stretch.astimezone(zone)
            stretch = part.start.astimezone(UTC)
        stretch = low
    return None if current[0] is None else stretch.astimezone(zone)


def turn_at(spec: ScheduleSpec, when: datetime, horizon: timedelta = HORIZON) -> Turn:
    """Who is on call at ``when``, until when, and who comes next (and until when)."""
    zone = ZoneInfo(spec.timezone)
    person, source = _resolve(spec, zone, _aware(when, "when"))
    until = next_change(spec, when, horizon)
    if until is None:
        return Turn(person, source, None, None, None)
    following = on_call_at(spec, until)
    return Turn(person, source, until, following, next_change(spec, until, horizon))
