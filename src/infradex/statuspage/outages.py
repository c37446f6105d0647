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
from infradex.statuspage.components import Component, Layout
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
_TROUBLE = frozenset({Shown.DOWN, Shown.FLAPPING})


def relevant_all(relevant: Mapping[str, frozenset[str]]) -> set[str]:
    """Every check some component depends on."""
    return {c for checks in relevant.values() for c in checks}


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


@dataclass(slots=True)
class Day:
    """One UTC day of one component, in seconds (not changed once made, and shared: the
    days a component was up all day are one object per date for every component; not
    frozen only because a year of a thousand components is 400,000 of them, made every few
    minutes)."""

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
    after; ``overrides`` with their real end (expiry or when ended).

    At each change only the components the changed check can reach are derived again
    (a component's state depends on its relevant checks, its windows and its override
    only); at each start or end of a public window or an override, all of them."""
    relevant = relevant_checks(catalog, layout)
    watching: dict[str, list[str]] = {}
    for component_id, checks in relevant.items():
        for check_id in checks:
            watching.setdefault(check_id, []).append(component_id)
    by_id = {c.id: c for c in layout.components}
    states: dict[str, Shown] = dict(initial)
    shown = {c: CheckState(c, s) for c, s in states.items()}
    known = {
        cid: sum(1 for c in checks if states.get(c) in _KNOWN) for cid, checks in relevant.items()
    }
    # a component no check reaches (no check of its own, nothing checked upstream) is
    # observed whenever the monitor reports on any check of the page
    unreached = [c.id for c in layout.components if not relevant[c.id]]
    reporting = sum(1 for s in states.values() if s in _KNOWN)
    manual: dict[str, list[Override]] = {}
    for override in overrides:
        manual.setdefault(override.ref, []).append(override)

    def observed(component: Component, at: datetime) -> bool:
        checked = known[component.id] > 0 if relevant[component.id] else reporting > 0
        return checked or any(o.active_at(at) for o in manual.get(str(component.ref), ()))

    # derive looks only at the checks of entities with a check down or flapping: it is given
    # those (the rest would cost a scan of every check at every change)
    siblings: dict[str, list[str]] = {}
    for check_id in sorted(relevant_all(relevant) | set(states)):
        siblings.setdefault(check_id.split("/", 1)[0], []).append(check_id)
    trouble = {c for c, s in states.items() if s in _TROUBLE}

    public_windows = [w for w in windows if w.public]

    def derived(components: Sequence[Component], at: datetime) -> dict[str, Status]:
        quiet = not trouble and not any(o.active_at(at) for o in overrides)
        if quiet and not any(w.active_at(at) for w in public_windows):
            # nothing down or flapping, no override, no public window: what derive gives
            # then, without it (most changes of a year are recoveries)
            return dict.fromkeys((c.id for c in components), Status.OPERATIONAL)
        part = Layout(tuple(components), ())
        owners = {c.split("/", 1)[0] for c in trouble}
        given = {c: shown[c] for o in owners for c in siblings.get(o, ()) if c in shown}
        found = derive(catalog, part, given, windows, overrides, at, reasons=False)
        return {d.component.id: d.status for d in found}

    pending = sorted((c for c in changes if since < c.at <= until), key=lambda c: c.at)
    boundaries = _boundaries(windows, overrides, since, until)
    moments = sorted(boundaries | {c.at for c in pending})
    first = derived(layout.components, since)
    current = {c.id: (first[c.id], observed(c, since), since) for c in layout.components}
    segments: dict[str, list[Segment]] = {c.id: [] for c in layout.components}
    position = 0
    for moment in moments:
        touched: set[str] = set()
        while position < len(pending) and pending[position].at <= moment:
            change = pending[position]
            before = states.get(change.check_id) in _KNOWN
            states[change.check_id] = change.state
            shown[change.check_id] = CheckState(change.check_id, change.state)
            if change.state in _TROUBLE:
                trouble.add(change.check_id)
            else:
                trouble.discard(change.check_id)
            after = change.state in _KNOWN
            if before != after:
                was = reporting > 0
                reporting += 1 if after else -1
                if was != (reporting > 0):
                    touched.update(unreached)
            for component_id in watching.get(change.check_id, ()):
                touched.add(component_id)
                if before != after:
                    known[component_id] += 1 if after else -1
            position += 1
        components = (
            layout.components if moment in boundaries else [by_id[i] for i in sorted(touched)]
        )
        if not components:
            continue
        statuses = derived(components, moment)
        for component in components:
            status, seen, begun = current[component.id]
            now_status, now_seen = statuses[component.id], observed(component, moment)
            if (now_status, now_seen) != (status, seen):
                if moment > begun:
                    segments[component.id].append(Segment(begun, moment, status, seen))
                current[component.id] = (now_status, now_seen, moment)
    for component_id, (status, seen, begun) in current.items():
        if until > begun:
            segments[component_id].append(Segment(begun, until, status, seen))
    return segments


#: the field of :class:`Day` a state's observed seconds also go to
#: (its index in _FIELDS)
_COUNTED_AS = {
    Status.MAJOR_OUTAGE: 1,
    Status.PARTIAL_OUTAGE: 2,
    Status.DEGRADED_PERFORMANCE: 3,
}


def _day_start(value: date) -> datetime:
    return datetime(value.year, value.month, value.day, tzinfo=UTC)


_FIELDS = ("observed", "major", "partial", "degraded", "maintenance")
_DAY = 86400.0


def day_minutes(segments: Iterable[Segment], first: date, last: date) -> list[Day]:
    """One :class:`Day` per UTC day from ``first`` to ``last`` (both included), from the
    segments (cut at midnight; what falls outside is left out; they do not overlap, as
    :func:`replay` gives them)."""
    return _Days(first, last).of(segments)[0]


class _Days:
    """Counts the days of many components over the same span. Most of a component's days
    are whole days of one operational, observed segment: those share one :class:`Day`
    per date (``clear``) across components, and only the others are added up (a year
    of a thousand components is 400,000 days, made every few minutes)."""

    __slots__ = ("base", "clear", "count", "empty", "first", "top")

    def __init__(self, first: date, last: date) -> None:
        self.first = first
        self.count = (last - first).days + 1
        self.base = _day_start(first).timestamp()
        self.top = self.count * _DAY
        dates = [first + timedelta(days=i) for i in range(self.count)]
        self.clear = [Day(d, _DAY) for d in dates]  # observed whole, nothing else
        self.empty = [Day(d) for d in dates]  # nothing observed

    def of(self, segments: Iterable[Segment]) -> tuple[list[Day], int]:
        """The days, and a bit mask of those that are the shared ``clear`` ones."""
        base, top = self.base, self.top
        sums: dict[int, list[float]] = {}  # day → the fields' seconds, in _FIELDS' order
        whole: list[tuple[int, int]] = []  # runs of days wholly in one clear segment
        for segment in segments:
            if segment.status is Status.UNDER_MAINTENANCE:
                fields: tuple[int, ...] = (4,)
            elif segment.observed:
                extra = _COUNTED_AS.get(segment.status)
                fields = (0,) if extra is None else (0, extra)
            else:
                continue  # not observed: counts for nothing
            start = max(0.0, segment.start.timestamp() - base)
            end = min(top, segment.end.timestamp() - base)
            if fields == (0,):
                low, high = int(start // _DAY), int(end // _DAY)
                inner = low if start <= low * _DAY else low + 1
                if inner < high:  # whole days inside: the shared ones, and the two ends
                    if inner > low:
                        _add(sums, low, fields, inner * _DAY - start)
                    whole.append((inner, high))
                    if end > high * _DAY:
                        _add(sums, high, fields, end - high * _DAY)
                    continue
            at, index = start, int(start // _DAY)
            while at < end:  # seconds since the first midnight: a day is 86,400 of them
                stop = min(end, (index + 1) * _DAY)
                _add(sums, index, fields, stop - at)
                at, index = stop, index + 1
        days = self.empty[:]
        mask = 0
        for low, high in whole:
            days[low:high] = self.clear[low:high]
            mask |= ((1 << (high - low)) - 1) << low
        for index, values in sums.items():
            if mask >> index & 1:  # overlapping segments: the whole day too
                values[0] += _DAY
                mask &= ~(1 << index)
            days[index] = Day(self.first + timedelta(days=index), *values)
        return days, mask


def _add(sums: dict[int, list[float]], index: int, fields: tuple[int, ...], seconds: float) -> None:
    values = sums.get(index)
    if values is None:
        values = sums[index] = [0.0, 0.0, 0.0, 0.0, 0.0]
    for name in fields:
        values[name] += seconds


def group_day(members: Sequence[Day]) -> Day:
    """A group's day: its members' (the average of their uptimes, as Statuspage shows a
    group; the minutes are the members' summed). The members all have the same day."""
    if not members:
        raise ValueError("a group's day needs its members' days")
    # one pass, adding in the members' order as sum() would (the same floats); a member's
    # uptime as Day.uptime() gives it
    observed: float = 0
    major: float = 0
    partial: float = 0
    degraded: float = 0
    maintenance: float = 0
    known = []
    for member in members:
        observed += member.observed
        major += member.major
        partial += member.partial
        degraded += member.degraded
        maintenance += member.maintenance
        if member.average is not None:
            known.append(member.average)
        elif member.observed > 0:
            lost = member.major + PARTIAL_WEIGHT * member.partial
            known.append(max(0.0, 1.0 - lost / member.observed))
    return Day(
        members[0].day,
        observed=observed,
        major=major,
        partial=partial,
        degraded=degraded,
        maintenance=maintenance,
        average=sum(known) / len(known) if known else None,
    )


def span_uptime(days: Sequence[Day]) -> float | None:
    """The uptime over several days: the outage seconds over the counted seconds (a
    group's: the average of its days')."""
    counted: float = 0  # added up in order, as sum() would (the same floats)
    lost = 0.0
    for day in days:
        if day.average is not None:
            known = [u for d in days if (u := d.uptime()) is not None]
            return sum(known) / len(known) if known else None
        counted += day.observed  # Day.counted and Day.lost, without two property calls
        lost += day.major + PARTIAL_WEIGHT * day.partial
    if counted <= 0:
        return None
    return max(0.0, 1.0 - lost / counted)


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
    """Each component's days, and each group's from its public members'. Days that are the
    same (a whole day up, most of them) are one shared :class:`Day`."""
    counter = _Days(first, last)
    days: dict[str, Sequence[Day]] = {}
    clear: dict[str, int] = {}  # the bit mask of each component's shared clear days
    for component in layout.components:
        days[component.id], clear[component.id] = counter.of(segments.get(component.id, ()))
    alike: dict[tuple[int, int], Day] = {}  # (members, day) → a group's day of clear members
    for group in layout.groups:
        members = [m.id for m in group.public_members]
        if not members:
            continue
        both = -1
        for member in members:
            both &= clear[member]
        columns = [days[m] for m in members]
        found = []
        for index in range(counter.count):
            if both >> index & 1:
                key = (len(members), index)
                day = alike.get(key)
                if day is None:
                    day = alike[key] = group_day([counter.clear[index]] * len(members))
                found.append(day)
            else:
                found.append(group_day([column[index] for column in columns]))
        days[group.id] = found
    return Uptime(first, last, days)
