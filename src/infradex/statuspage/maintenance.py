"""Public maintenance windows as the status page lists them: the current or next occurrence
of each catalog window marked ``public``, with the public components it covers. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from infradex.catalog.entities import Catalog
from infradex.monitor.maintenance import Window
from infradex.statuspage.components import Component, Layout, stable_id
from infradex.statuspage.derive import window_covers

__all__ = ["DEFAULT_NAME", "PublicMaintenance", "public_maintenances"]

DEFAULT_NAME = "Scheduled maintenance"
Phase = Literal["scheduled", "in_progress", "completed"]


@dataclass(frozen=True, slots=True)
class PublicMaintenance:
    id: str
    name: str
    scheduled_for: datetime
    scheduled_until: datetime
    status: Phase
    components: tuple[Component, ...]  # public ones only

    @property
    def body(self) -> str:
        """The update's text, from public names only (a window's reason is internal)."""
        names = ", ".join(c.name for c in self.components) or "our services"
        return f"{self.name}: {names}."


def public_maintenances(
    catalog: Catalog, layout: Layout, windows: Sequence[Window], at: datetime
) -> tuple[PublicMaintenance, ...]:
    """Each public window's occurrence that is running at ``at``, else its next one, else
    (a one-off in the past) the one it had; soonest first."""
    by_ref = {c.ref: c for c in layout.components if c.public}
    found = []
    for window in windows:
        if not window.public:
            continue
        phase: Phase
        current = window.occurrence_at(at)
        if current is not None:
            (starts, ends), phase = current, "in_progress"
        elif (upcoming := window.next_start(at)) is not None:
            starts, ends, phase = upcoming, upcoming + window.duration, "scheduled"
        elif window.rrule is None:
            starts, ends, phase = window.starts_at, window.ends_at, "completed"
        else:
            continue  # a rule with no occurrence left
        covered = tuple(by_ref[r] for r in window_covers(catalog, window) if r in by_ref)
        key = f"{window.target}@{window.starts_at.isoformat()}@{window.rrule or ''}"
        found.append(
            PublicMaintenance(
                id=stable_id("maintenance", key),
                name=window.public_name or DEFAULT_NAME,
                scheduled_for=starts,
                scheduled_until=ends,
                status=phase,
                components=covered,
            )
        )
    return tuple(sorted(found, key=lambda m: (m.scheduled_for, m.id)))
