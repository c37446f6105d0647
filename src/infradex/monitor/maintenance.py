"""Maintenance windows: one-off or recurring (an RFC 5545 RRULE in the window's time zone),
aimed at a check (``service:docs/home``), a service or host, or a provider or data center.

Aimed at an entity, a window covers that entity's own checks and the checks of everything the
catalog says it takes down or degrades: maintenance on Fastly covers every service behind it.
Pure: the caller passes the time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil import rrule as dateutil_rrule
from pydantic import Field

from infradex.catalog.entities import Catalog
from infradex.catalog.queries import impact
from infradex.catalog.refs import RefError, parse_ref
from infradex.catalog.reminders import check_remind_before
from infradex.catalog.specs import spec_maintenance
from infradex.durations import DurationError, format_duration, parse_duration
from infradex.errors import UsageError
from infradex.recurrence import (
    MAX_OCCURRENCES,
    RecurrenceError,
    compile_rule,
    last_start,
    next_start,
)
from infradex.wire import Instant, ReadModel

__all__ = [
    "ActiveCoverage",
    "Reach",
    "Window",
    "WindowRecord",
    "WindowStatus",
    "active_coverage",
    "catalog_windows",
    "coverage",
    "parse_rrule",
    "reach",
    "windows_covering",
]


class WindowRecord(ReadModel):
    """A maintenance window as the API and the CLI show it."""

    id: int | None = Field(description="null for a window the catalog declares")
    target: str
    start: Instant
    end: Instant
    rrule: str | None
    timezone: str
    reason: str | None
    created_by: str = Field(description="api, cli or catalog (or who added it)")
    public: bool = Field(False, description="shown on the public status page")
    public_name: str | None = Field(
        None, description="its name there (default: Scheduled maintenance)"
    )
    remind_before: str | None = Field(
        None,
        description="subscribers are reminded this long before it starts, e.g. 2h; 0: no "
        "reminder; null: the default (1h)",
    )


class WindowStatus(WindowRecord):
    active: bool
    next_start: Instant | None


@dataclass(frozen=True, slots=True)
class Window:
    target: str  # a check id or an entity ref
    starts_at: datetime  # aware; for a recurring window, the first occurrence
    ends_at: datetime  # aware; for a recurring window, the end of the first occurrence
    rrule: str | None = None
    timezone: str = "UTC"
    reason: str | None = None
    id: int | None = None
    source: str = "api"  # api, cli or catalog
    public: bool = False  # shown on the status page (docs/status-page.md)
    public_name: str | None = None
    #: subscribers are reminded this long before an occurrence; None: the default (1 h)
    remind_before: timedelta | None = None

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    def occurrence_at(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The occurrence that contains ``at``, if any."""
        if self.rrule is None:
            return (self.starts_at, self.ends_at) if self.starts_at <= at < self.ends_at else None
        rule = self._rule()
        if rule is None:
            return None
        last = last_start(rule, at.astimezone(ZoneInfo(self.timezone)))
        if last is None:
            return None
        begin = last.astimezone(UTC)
        end = (last + self.duration).astimezone(UTC)  # wall-clock duration across DST
        return (begin, end) if begin <= at < end else None

    def active_at(self, at: datetime) -> bool:
        return self.occurrence_at(at) is not None

    def record(self) -> WindowRecord:
        """As the API and the CLI show it."""
        return WindowRecord(
            id=self.id,
            target=self.target,
            start=self.starts_at,
            end=self.ends_at,
            rrule=self.rrule,
            timezone=self.timezone,
            reason=self.reason,
            created_by=self.source,
            public=self.public,
            public_name=self.public_name,
            remind_before=None
            if self.remind_before is None
            else format_duration(self.remind_before),
        )

    def status(self, now: datetime) -> WindowStatus:
        """As the API and the CLI list it: whether it is active ``now``, when it next starts."""
        return WindowStatus(
            **dict(self.record()), active=self.active_at(now), next_start=self.next_start(now)
        )

    def occurrences_between(
        self, since: datetime, until: datetime, limit: int = 100
    ) -> list[tuple[datetime, datetime]]:
        """The occurrences that end after ``since`` and start before ``until``, oldest
        first: the last ``limit`` of them (a history, bounded)."""
        if self.rrule is None:
            inside = self.ends_at > since and self.starts_at < until
            return [(self.starts_at, self.ends_at)] if inside else []
        rule = self._rule()
        if rule is None:
            return []
        zone = ZoneInfo(self.timezone)
        high = until.astimezone(zone)
        found: deque[tuple[datetime, datetime]] = deque(maxlen=limit)
        for count, start in enumerate(rule):  # from the rule's start: dateutil cannot seek
            if start >= high or count >= MAX_OCCURRENCES:
                break
            end = start + self.duration  # wall-clock duration across DST
            if end.astimezone(UTC) > since:
                found.append((start.astimezone(UTC), end.astimezone(UTC)))
        return list(found)

    def next_start(self, after: datetime) -> datetime | None:
        if self.rrule is None:
            return self.starts_at if self.starts_at > after else None
        rule = self._rule()
        zone = ZoneInfo(self.timezone)
        found = None if rule is None else next_start(rule, after.astimezone(zone))
        return None if found is None else found.astimezone(UTC)

    def _rule(self) -> dateutil_rrule.rrule | None:
        """The compiled rule; None for one stored before rules were checked that can never
        occur (such a window is never active, rather than a scan to year 9999)."""
        assert self.rrule is not None
        try:
            return compile_rule(self.rrule, self.starts_at.astimezone(ZoneInfo(self.timezone)))
        except RecurrenceError:
            return None


def parse_rrule(text: str, starts_at: datetime, timezone: str) -> str:
    """Check an RRULE (``FREQ=WEEKLY;BYDAY=SU``); return it without an ``RRULE:`` prefix."""
    rule = text.strip()
    if rule.upper().startswith("RRULE:"):
        rule = rule[6:]
    try:
        zone = ZoneInfo(timezone)
    except Exception:
        raise UsageError(f"{timezone!r} is not an IANA time zone, e.g. Europe/Amsterdam") from None
    try:
        compile_rule(rule, starts_at.astimezone(zone))
    except RecurrenceError as exc:
        raise UsageError(str(exc)) from None
    return rule


@dataclass(frozen=True, slots=True)
class Reach:
    """What a window aimed at one target covers: that one check, or every check of these
    entities (the target and all it takes down or degrades)."""

    checks: frozenset[str] = frozenset()
    owners: frozenset[str] = frozenset()

    def covers(self, check_id: str) -> bool:
        return check_id in self.checks or check_id.rsplit("/", 1)[0] in self.owners


def reach(catalog: Catalog, target: str) -> Reach:
    """What a window aimed at ``target`` (a check id or an entity ref) covers."""
    if "/" in target:
        return Reach(checks=frozenset({target}))
    try:
        root = parse_ref(target)
    except RefError:
        return Reach()
    if root not in catalog:
        return Reach()
    owners = {str(root)} | {str(a.ref) for a in impact(catalog, root).affected}
    return Reach(owners=frozenset(owners))


def coverage(catalog: Catalog, target: str, check_ids: Iterable[str]) -> set[str]:
    """The check ids a window aimed at ``target`` covers."""
    found = reach(catalog, target)
    return {check_id for check_id in check_ids if found.covers(check_id)}


def windows_covering(
    windows: Sequence[Window], catalog: Catalog, check_ids: Iterable[str], at: datetime
) -> dict[str, Window]:
    """Check id → the active window that covers it, at ``at``."""
    return active_coverage(windows, catalog, at).covering(check_ids)


@dataclass(frozen=True, slots=True)
class ActiveCoverage:
    """The windows active at one instant and what each covers, worked out once (an impact
    query per window) and then asked about any number of checks: the alerter asks once per
    incident in a turn that may escalate thousands."""

    active: tuple[tuple[Window, Reach], ...]

    def covering(self, check_ids: Iterable[str]) -> dict[str, Window]:
        """Check id → the first active window that covers it, for those of ``check_ids``."""
        covered: dict[str, Window] = {}
        if not self.active:
            return covered
        ids = list(check_ids)
        for window, found in self.active:
            for check_id in ids:
                if found.covers(check_id):
                    covered.setdefault(check_id, window)
        return covered


def active_coverage(windows: Sequence[Window], catalog: Catalog, at: datetime) -> ActiveCoverage:
    """The windows of ``windows`` active at ``at``, each with what it covers."""
    return ActiveCoverage(
        tuple((window, reach(catalog, window.target)) for window in windows if window.active_at(at))
    )


def remind_before_from(text: str | None, *, public: bool, name: str) -> timedelta | None:
    """A stored window's reminder time from the API's or the CLI's text (``name``: the
    field or flag as the person wrote it); None when not given. ``UsageError`` saying what
    to write."""
    if text is None:
        return None
    try:
        value = parse_duration(text.strip() if text.strip() != "0" else 0)
        check_remind_before(value, public=public, name=name)
    except DurationError as exc:
        raise UsageError(f"{name}: {exc}; 0 for no reminder") from None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return value


def catalog_windows(catalog: Catalog) -> list[Window]:
    """The windows written in the catalog (on services, providers and hosts)."""
    found: list[Window] = []
    for kind in ("service", "provider", "host"):
        for entity in catalog.of_kind(kind):
            for spec in spec_maintenance(entity):
                starts, ends = spec.bounds()
                target = str(entity.ref) + (f"/{spec.check}" if spec.check else "")
                rule = spec.rrule.removeprefix("RRULE:") if spec.rrule else None
                found.append(
                    Window(
                        target,
                        starts.astimezone(UTC),
                        ends.astimezone(UTC),
                        rule,
                        spec.timezone,
                        spec.reason,
                        source="catalog",
                        public=spec.public,
                        public_name=spec.public_name,
                        remind_before=None
                        if spec.remind_before is None
                        else parse_duration(spec.remind_before),
                    )
                )
    return found
