"""Public maintenance windows as the status page lists them, with Statuspage's lifecycle
(docs/status-page.md, "Scheduled maintenance"): each occurrence of a window marked
``public`` is ``scheduled`` until it starts, ``in_progress`` while it runs, ``verifying``
after it ends while a component it covered is not yet operational (for at most
``VERIFYING_FOR``), then ``completed``. All by the clock: nobody has to press a button.
Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from infradex.catalog.entities import Catalog
from infradex.catalog.refs import Ref
from infradex.catalog.reminders import DEFAULT_REMIND_BEFORE
from infradex.monitor.maintenance import Window
from infradex.statuspage.components import Component, Layout, stable_id
from infradex.statuspage.derive import Status, window_covers

__all__ = [
    "DEFAULT_NAME",
    "PHASES",
    "VERIFYING_FOR",
    "PublicMaintenance",
    "maintenance_history",
    "phase_at",
    "public_maintenances",
]

DEFAULT_NAME = "Scheduled maintenance"
Phase = Literal["scheduled", "in_progress", "verifying", "completed"]
PHASES: tuple[Phase, ...] = ("scheduled", "in_progress", "verifying", "completed")
#: the longest a finished window waits for its components to be operational again; still
#: failing after that is an incident, not maintenance
VERIFYING_FOR = timedelta(minutes=30)
_LABELS = {
    "scheduled": "Scheduled",
    "in_progress": "In progress",
    "verifying": "Verifying",
    "completed": "Completed",
}


@dataclass(frozen=True, slots=True)
class PublicMaintenance:
    id: str
    name: str
    scheduled_for: datetime
    scheduled_until: datetime
    status: Phase
    components: tuple[Component, ...]  # public ones only
    #: its subscribers are reminded this long before it starts (0: not at all)
    remind_before: timedelta = DEFAULT_REMIND_BEFORE

    @property
    def body(self) -> str:
        """The update's text, from public names only (a window's reason is internal)."""
        names = ", ".join(c.name for c in self.components) or "our services"
        return f"{self.name}: {names}."

    @property
    def label(self) -> str:
        return _LABELS[self.status]

    @property
    def started(self) -> bool:
        return self.status != "scheduled"

    @property
    def ended(self) -> bool:
        return self.status in ("verifying", "completed")


def phase_at(starts: datetime, ends: datetime, at: datetime, *, settled: bool) -> Phase:
    """An occurrence's step at ``at``; ``settled``: every component it covers is
    operational again."""
    if at < starts:
        return "scheduled"
    if at < ends:
        return "in_progress"
    if not settled and at < ends + VERIFYING_FOR:
        return "verifying"
    return "completed"


def _occurrence_id(window: Window, starts: datetime) -> str:
    """One id per occurrence (Statuspage has one maintenance per occurrence), the same in
    every process: from the window and, for a recurring one, the occurrence's start."""
    key = f"{window.target}@{window.starts_at.isoformat()}@{window.rrule or ''}"
    if window.rrule is not None:
        key += f"@{starts.isoformat()}"
    return stable_id("maintenance", key)


class _Windows:
    """The public windows with what each covers, worked out once per call."""

    def __init__(
        self, catalog: Catalog, layout: Layout, states: Mapping[Ref, Status] | None
    ) -> None:
        self.catalog = catalog
        self.by_ref = {c.ref: c for c in layout.components if c.public}
        self.states = states or {}

    def covered(self, window: Window) -> tuple[Component, ...]:
        refs = window_covers(self.catalog, window)
        return tuple(self.by_ref[r] for r in refs if r in self.by_ref)

    def occurrence(
        self, window: Window, covered: tuple[Component, ...], starts: datetime, ends: datetime,
        at: datetime,
    ) -> PublicMaintenance:  # fmt: skip
        settled = all(
            self.states.get(c.ref, Status.OPERATIONAL) is Status.OPERATIONAL for c in covered
        )
        return PublicMaintenance(
            id=_occurrence_id(window, starts),
            name=window.public_name or DEFAULT_NAME,
            scheduled_for=starts,
            scheduled_until=ends,
            status=phase_at(starts, ends, at, settled=settled),
            components=covered,
            remind_before=DEFAULT_REMIND_BEFORE
            if window.remind_before is None
            else window.remind_before,
        )


def public_maintenances(
    catalog: Catalog,
    layout: Layout,
    windows: Sequence[Window],
    at: datetime,
    states: Mapping[Ref, Status] | None = None,
) -> tuple[PublicMaintenance, ...]:
    """Each public window's occurrence that matters at ``at``: the one running, else one
    just ended and still verifying, else the next, else (a one-off in the past) the one it
    had; soonest first. ``states``: each component's derived state (verifying needs it)."""
    known = _Windows(catalog, layout, states)
    found = []
    for window in windows:
        if not window.public:
            continue
        covered = known.covered(window)
        current = window.occurrence_at(at)
        recent = [
            (starts, ends)
            for starts, ends in window.occurrences_between(at - VERIFYING_FOR, at, limit=2)
            if ends <= at
        ]
        shown = None
        if current is not None:
            shown = known.occurrence(window, covered, *current, at)
        elif recent:
            ended = known.occurrence(window, covered, *recent[-1], at)
            shown = ended if ended.status == "verifying" else None
        if shown is None and (upcoming := window.next_start(at)) is not None:
            shown = known.occurrence(window, covered, upcoming, upcoming + window.duration, at)
        if shown is None and window.rrule is None:
            shown = known.occurrence(window, covered, window.starts_at, window.ends_at, at)
        if shown is not None:
            found.append(shown)
    return tuple(sorted(found, key=lambda m: (m.scheduled_for, m.id)))


def maintenance_history(
    catalog: Catalog,
    layout: Layout,
    windows: Sequence[Window],
    at: datetime,
    since: datetime,
    states: Mapping[Ref, Status] | None = None,
) -> tuple[PublicMaintenance, ...]:
    """Every occurrence of a public window that started between ``since`` and ``at`` (the
    last 100 of each window), newest first: the history page and the feeds list them."""
    known = _Windows(catalog, layout, states)
    found = []
    for window in windows:
        if not window.public:
            continue
        covered = known.covered(window)
        for starts, ends in window.occurrences_between(since, at):
            if starts <= at:
                found.append(known.occurrence(window, covered, starts, ends, at))
    return tuple(sorted(found, key=lambda m: (m.scheduled_for, m.id), reverse=True))
