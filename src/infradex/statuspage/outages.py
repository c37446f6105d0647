"""Outage minutes from the components' state history, as Statuspage counts uptime
(docs/status-page.md, "Uptime"): a component's day is the minutes it spent in
``major_outage`` and ``partial_outage`` (weighted 0.3), out of the minutes it was observed
and not under maintenance; ``degraded_performance`` counts as up.

The component's state over time is what :func:`~infradex.statuspage.derive.derive` gives at
each moment, replayed from the stored state changes of the checks, the maintenance windows
and the overrides, so the bars and the page's current state follow one rule. Pure: the
caller reads the store (``statuspage/outage_store.py``) and passes the time.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from infradex.catalog.entities import Catalog
from infradex.catalog.impact import impact
from infradex.catalog.specs import spec_checks
from infradex.monitor.evaluate import CheckState, Shown
from infradex.monitor.maintenance import Window
from infradex.statuspage.components import Layout
from infradex.statuspage.derive import Override, Status, derive

__all__ = [
    "PARTIAL_WEIGHT",
    "Change",
    "Day",
    "Segment",
    "Uptime",
    "day_minutes",
    "group_day",
    "relevant_checks",
    "replay",
    "span_uptime",
    "uptime_history",
]

#: Statuspage weighs a minute of partial outage as 0.3 of a minute of major outage
PARTIAL_WEIGHT = 0.3
#: the shown states that say something about a service (the others: nothing known)
_KNOWN = frozenset({Shown.UP, Shown.DOWN, Shown.FLAPPING})


@dataclass(frozen=True, slots=True)
class Change:
    """A check's shown state from ``at`` on (a stored ``state_changes`` row)."""

    check_id: str
    at: datetime
    state: Shown


@dataclass(frozen=True, slots=True)
class Segment:
    """A component in one state from ``start`` to ``end``; ``observed``: some check it
    depends on had a known state (up, down or flapping), or a person set its state."""

    start: datetime
    end: datetime
    status: Status
    observed: bool


@dataclass(frozen=True, slots=True)
class Day:
    """One UTC day of one component, in seconds."""

    day: date
    observed: float = 0.0  # known, and not under maintenance: what the uptime is out of
    major: float = 0.0
    partial: float = 0.0
    degraded: float = 0.0
    maintenance: float = 0.0  # under_maintenance (observed or not)
    #: a group's day: its members' average uptime (None: a component's own minutes)
    average: float | None = None

    @property
    def counted(self) -> float:
        """The seconds the uptime is out of: observed, not under maintenance."""
        return self.observed

    @property
    def lost(self) -> float:
        """Seconds of outage as Statuspage weighs them."""
        return self.major + PARTIAL_WEIGHT * self.partial

    def uptime(self) -> float | None:
        """The share up, 0 to 1; None when nothing was observed outside maintenance."""
        if self.average is not None:
            return self.average
        if self.counted <= 0:
            return None
        return max(0.0, 1.0 - self.lost / self.counted)

    @property
    def major_minutes(self) -> int:
        return _minutes(self.major)

    @property
    def partial_minutes(self) -> int:
        return _minutes(self.partial)

    @property
    def maintenance_minutes(self) -> int:
        return _minutes(self.maintenance)


def _minutes(seconds: float) -> int:
    """Whole minutes, a started one counted (20 s of outage is not "0 min")."""
    return math.ceil(seconds / 60 - 1e-6) if seconds > 0 else 0


def relevant_checks(catalog: Catalog, layout: Layout) -> dict[str, frozenset[str]]:
    """Component id → the checks whose state can reach it: its own, and those of every
    service or provider whose failure takes it down or degrades it (``impact``)."""
    by_ref: dict[object, set[str]] = {c.ref: set() for c in layout.components}
    for kind in ("service", "provider"):
        for entity in catalog.of_kind(kind):
            checks = [f"{entity.ref}/{check.name}" for check in spec_checks(entity)]
            if not checks:
                continue
            if entity.ref in by_ref:
                by_ref[entity.ref].update(checks)
            for affected in impact(catalog, entity.ref).affected:
                if affected.ref in by_ref:
                    by_ref[affected.ref].update(checks)
    return {c.id: frozenset(by_ref[c.ref]) for c in layout.components}


def _boundaries(
    windows: Sequence[Window], overrides: Sequence[Override], since: datetime, until: datetime
) -> set[datetime]:
    """The moments a public window or an override starts or ends between the two."""
    found: set[datetime] = set()
    for window in windows:
        if window.public:
            for start, end in window.occurrences_between(since, until, limit=1000):
                found.update((start, end))
    for override in overrides:
        found.update((override.created_at, override.expires_at))
    return {moment for moment in found if since < moment < until}


def replay(
    catalog: Catalog,
    layout: Layout,
    initial: Mapping[str, Shown],
    changes: Iterable[Change],
    windows: Sequence[Window],
    overrides: Sequence[Override],
    since: datetime,
    until: datetime,
) -> dict[str, list[Segment]]:
    """Each component's states from ``since`` to ``until``: ``initial`` is every check's
    shown state at ``since`` (a check missing: no result yet), ``changes`` what changed
    after, oldest first; ``overrides`` with their real end (expiry or when ended).

    The derivation runs once per distinct set of troubled checks, maintenance and
    overrides (an up, down, up day derives twice, not three times)."""
    relevant = relevant_checks(catalog, layout)
    watching: dict[str, list[str]] = {}
    for component_id, checks in relevant.items():
        for check_id in checks:
            watching.setdefault(check_id, []).append(component_id)
    states: dict[str, Shown] = dict(initial)
    known = {
        cid: sum(1 for c in checks if states.get(c) in _KNOWN) for cid, checks in relevant.items()
    }
    pending = sorted((c for c in changes if since < c.at <= until), key=lambda c: c.at)
    moments = sorted(_boundaries(windows, overrides, since, until) | {c.at for c in pending})
    memo: dict[object, dict[str, Status]] = {}
    segments: dict[str, list[Segment]] = {c.id: [] for c in layout.components}
    manual = {o.ref for o in overrides}
    position = 0
    start = since
    for end in [*moments, until]:
        if end > start:
            statuses = _statuses_at(catalog, layout, states, windows, overrides, start, memo)
            for component in layout.components:
                status = statuses[component.id]
                observed = known[component.id] > 0 or (
                    str(component.ref) in manual
                    and any(o.ref == str(component.ref) and o.active_at(start) for o in overrides)
                )
                _extend(segments[component.id], Segment(start, end, status, observed))
        while position < len(pending) and pending[position].at <= end:
            change = pending[position]
            before = states.get(change.check_id) in _KNOWN
            states[change.check_id] = change.state
            after = change.state in _KNOWN
            if before != after:
                for component_id in watching.get(change.check_id, ()):
                    known[component_id] += 1 if after else -1
            position += 1
        start = max(start, end)
    return segments


def _statuses_at(
    catalog: Catalog,
    layout: Layout,
    states: Mapping[str, Shown],
    windows: Sequence[Window],
    overrides: Sequence[Override],
    at: datetime,
    memo: dict[object, dict[str, Status]],
) -> dict[str, Status]:
    # what derive looks at: which checks are counted and which are in trouble, the public
    # windows and the overrides active (the counted set changes rarely: it is in the key)
    counted = frozenset(c for c, s in states.items() if s in _KNOWN)
    trouble = frozenset((c, s) for c, s in states.items() if s in (Shown.DOWN, Shown.FLAPPING))
    active_windows = frozenset(i for i, w in enumerate(windows) if w.public and w.active_at(at))
    active_overrides = frozenset(i for i, o in enumerate(overrides) if o.active_at(at))
    key = (counted, trouble, active_windows, active_overrides)
    found = memo.get(key)
    if found is None:
        check_states = {c: CheckState(c, states[c]) for c in counted}
        derived = derive(catalog, layout, check_states, windows, overrides, at)
        found = {d.component.id: d.status for d in derived}
        memo[key] = found
    return found


def _extend(segments: list[Segment], segment: Segment) -> None:
    """Append, merging with the last segment when the state and observation continue."""
    if segments:
        last = segments[-1]
        if (last.end == segment.start and last.status is segment.status
                and last.observed == segment.observed):  # fmt: skip
            segments[-1] = Segment(last.start, segment.end, last.status, last.observed)
            return
    segments.append(segment)


def _day_start(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


def day_minutes(segments: Iterable[Segment], first: date, last: date) -> list[Day]:
    """One :class:`Day` per UTC day from ``first`` to ``last`` (both included), from the
    segments (cut at midnight; what falls outside is left out)."""
    totals: dict[date, dict[str, float]] = {}
    low, high = _day_start(first), _day_start(last) + timedelta(days=1)
    for segment in segments:
        start, end = max(segment.start, low), min(segment.end, high)
        while start < end:
            day = start.astimezone(UTC).date()
            stop = min(end, _day_start(day) + timedelta(days=1))
            seconds = (stop - start).total_seconds()
            bucket = totals.setdefault(day, {})
            if segment.status is Status.UNDER_MAINTENANCE:
                bucket["maintenance"] = bucket.get("maintenance", 0.0) + seconds
            elif segment.observed:
                bucket["observed"] = bucket.get("observed", 0.0) + seconds
                name = {
                    Status.MAJOR_OUTAGE: "major",
                    Status.PARTIAL_OUTAGE: "partial",
                    Status.DEGRADED_PERFORMANCE: "degraded",
                }.get(segment.status)
                if name is not None:
                    bucket[name] = bucket.get(name, 0.0) + seconds
            start = stop
    days = []
    day = first
    while day <= last:
        days.append(Day(day, **totals.get(day, {})))
        day += timedelta(days=1)
    return days


def group_day(members: Sequence[Day]) -> Day:
    """A group's day: its members' (the average of their uptimes, as Statuspage shows a
    group; the minutes are the members' summed). The members all have the same day."""
    if not members:
        raise ValueError("a group's day needs its members' days")
    known = [u for m in members if (u := m.uptime()) is not None]
    return Day(
        members[0].day,
        observed=sum(m.observed for m in members),
        major=sum(m.major for m in members),
        partial=sum(m.partial for m in members),
        degraded=sum(m.degraded for m in members),
        maintenance=sum(m.maintenance for m in members),
        average=sum(known) / len(known) if known else None,
    )


def span_uptime(days: Sequence[Day]) -> float | None:
    """The uptime over several days: the outage seconds over the counted seconds (a
    group's: the average of its days')."""
    if any(d.average is not None for d in days):
        known = [u for d in days if (u := d.uptime()) is not None]
        return sum(known) / len(known) if known else None
    counted = sum(d.counted for d in days)
    if counted <= 0:
        return None
    return max(0.0, 1.0 - sum(d.lost for d in days) / counted)


@dataclass(frozen=True, slots=True)
class Uptime:
    """Every component's and group's days, oldest first, from ``first`` to ``last``."""

    first: date
    last: date
    days: Mapping[str, Sequence[Day]] = field(default_factory=dict)

    def recent(self, key: str, count: int) -> Sequence[Day]:
        return self.days.get(key, ())[-count:]


def uptime_history(
    layout: Layout, segments: Mapping[str, Sequence[Segment]], first: date, last: date
) -> Uptime:
    """Each component's days, and each group's from its public members'."""
    days: dict[str, Sequence[Day]] = {
        c.id: day_minutes(segments.get(c.id, ()), first, last) for c in layout.components
    }
    for group in layout.groups:
        members = [days[m.id] for m in group.public_members]
        if members:
            days[group.id] = [group_day(list(same)) for same in zip(*members, strict=True)]
    return Uptime(first, last, days)
