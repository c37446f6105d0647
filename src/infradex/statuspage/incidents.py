"""Public incidents: what a draft made from an internal incident says (pure), and the
lifecycle rules a person's update must follow (docs/status-page.md, "Public incidents").

A draft names only public components, by their public names: the internal incident's
title, hosts, people and check messages never reach it. A person edits the words and
publishes it, or the alerter does when a component asks (``autoPublishAfter``) and nobody
acknowledged the internal incident in time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from infradex.catalog.entities import Catalog
from infradex.catalog.impact import impact
from infradex.catalog.refs import RefError, parse_ref
from infradex.errors import UsageError
from infradex.statuspage.derive import ComponentState, Status, worst

__all__ = [
    "IMPACTS",
    "STATUSES",
    "UPDATE_STATUSES",
    "Draft",
    "Postmortem",
    "PublicIncident",
    "PublicUpdate",
    "auto_publish_after",
    "check_component_states",
    "check_impact",
    "check_postmortem",
    "check_update",
    "draft_for",
    "impact_of",
    "listed",
    "resolved_words",
    "upstream_words",
]

#: the order an incident's steps follow; ``postmortem`` comes after ``resolved``
STATUSES = ("investigating", "identified", "monitoring", "resolved", "postmortem")
#: what an update may say: the postmortem is no update but a body of its own
UPDATE_STATUSES = STATUSES[:-1]
#: Statuspage's incident impacts
IMPACTS = ("none", "minor", "major", "critical")
_IMPACT = {
    Status.OPERATIONAL: "none",
    Status.UNDER_MAINTENANCE: "none",
    Status.DEGRADED_PERFORMANCE: "minor",
    Status.PARTIAL_OUTAGE: "major",
    Status.MAJOR_OUTAGE: "critical",
}


@dataclass(frozen=True, slots=True)
class Draft:
    name: str
    body: str
    impact: str
    components: dict[str, str]  # component ref → its state now
    #: published by itself after this long unacknowledged (the shortest its components ask)
    auto_publish_after: timedelta | None = None


@dataclass(frozen=True, slots=True)
class PublicUpdate:
    id: int
    status: str
    body: str
    components: dict[str, str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Postmortem:
    """What happened, written after the incident: public once ``published_at`` is set."""

    body: str
    updated_at: datetime
    published_at: datetime | None
    by: str | None


@dataclass(frozen=True, slots=True)
class PublicIncident:
    id: int
    name: str
    status: str
    impact: str
    components: tuple[str, ...]  # refs
    created_at: datetime
    updated_at: datetime
    published_at: datetime | None
    monitoring_at: datetime | None
    resolved_at: datetime | None
    updates: tuple[PublicUpdate, ...]  # oldest first
    postmortem: Postmortem | None = None  # written (maybe not published yet)

    @property
    def public_postmortem(self) -> Postmortem | None:
        """The postmortem when it is published (the public sees nothing of a draft one)."""
        if self.postmortem is None or self.postmortem.published_at is None:
            return None
        return self.postmortem

    @property
    def unresolved(self) -> bool:
        return self.status not in ("resolved", "postmortem")


def impact_of(states: Sequence[ComponentState]) -> str:
    """Statuspage's impact from the worst affected component: degraded is minor, partial
    outage major, major outage critical."""
    return _IMPACT[worst(s.status for s in states)]


def listed(names: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def upstream_words(names: Sequence[str]) -> str:
    """What a public incident says when a provider's own status page confirms the problem:
    the provider by its public component name (none public: no name)."""
    if not names:
        return "Our upstream provider confirms a problem on its own status page."
    return (
        f"Our upstream provider ({listed(list(names))}) confirms a problem on its own status page."
    )


def resolved_words(names: Sequence[str]) -> str:
    """The automatic resolved update's words (its internal incident resolved)."""
    if not names:
        return "This incident has been resolved."
    return f"This incident has been resolved: {listed(list(names))} operating normally again."


def auto_publish_after(states: Iterable[ComponentState], refs: Iterable[str]) -> timedelta | None:
    """How long a draft on ``refs`` waits for a person: the shortest ``autoPublishAfter`` of
    its public components; None when none asks."""
    wanted = set(refs)
    delays = [
        s.component.auto_publish_after
        for s in states
        if str(s.component.ref) in wanted
        and s.component.public
        and s.component.auto_publish_after is not None
    ]
    return min(delays) if delays else None


def draft_for(
    catalog: Catalog,
    root: str,
    states: Sequence[ComponentState],
    confirmed_by: Iterable[str] = (),
) -> Draft | None:
    """The draft for an internal incident rooted at ``root``: the public components it
    reaches (the root itself and what ``impact`` says it takes down or degrades); None when
    it reaches none. ``confirmed_by``: the entities (refs) whose own status page confirms the
    problem, named by their public component name."""
    try:
        ref = parse_ref(root)
    except RefError:
        return None
    if ref not in catalog:
        return None
    reached = {ref} | {a.ref for a in impact(catalog, ref).affected}
    affected = [s for s in states if s.component.public and s.component.ref in reached]
    if not affected:
        return None
    names = listed([s.component.name for s in affected])
    body = f"We are investigating problems with {names}."
    upstream = set(confirmed_by)
    if upstream:
        public = {str(s.component.ref): s.component.name for s in states if s.component.public}
        body += " " + upstream_words([public[r] for r in sorted(upstream) if r in public])
    refs = [str(s.component.ref) for s in affected]
    return Draft(
        name=f"Problems with {names}",
        body=body,
        impact=impact_of(affected),
        components={str(s.component.ref): str(s.status) for s in affected},
        auto_publish_after=auto_publish_after(affected, refs),
    )


def check_update(current: str, status: str, body: str) -> None:
    """A person's update: a known status that does not go back (resolved stays resolved),
    and words. The postmortem is not an update: :func:`check_postmortem`."""
    if status == "postmortem":
        raise UsageError(
            "a postmortem is not an update: write it in the incident's postmortem (the "
            "incident page's Postmortem form, or PUT …/postmortem)"
        )
    if status not in UPDATE_STATUSES:
        raise UsageError(
            f"{status!r} is not an incident status; use one of {', '.join(UPDATE_STATUSES)}"
        )
    if current == "postmortem":
        raise UsageError("the incident has its postmortem; it takes no other update")
    if STATUSES.index(status) < STATUSES.index(current):
        raise UsageError(
            f"the incident is {current}; an update cannot go back to {status} (open a new "
            "incident if the problem is back)"
        )
    if not body.strip():
        raise UsageError("an update needs words: say what people can expect")


def check_impact(impact: str) -> str:
    """A person's impact for a draft: one of Statuspage's four."""
    if impact not in IMPACTS:
        raise UsageError(f"{impact!r} is not an impact; use one of {', '.join(IMPACTS)}")
    return impact


def check_component_states(
    affected: Sequence[str], given: Mapping[str, str], names: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The states a person gives an update's components (ref → state): each one of the
    incident's components (``affected``) and one of the five states; returned as given."""
    states = {str(s) for s in Status}
    shown = names or {}
    for ref, state in given.items():
        if ref not in affected:
            on = ", ".join(f"{shown.get(r, r)} ({r})" for r in affected) or "none"
            raise UsageError(f"{ref} is not a component of this incident; its components are: {on}")
        if state not in states:
            raise UsageError(
                f"{state!r} is not a component state for {shown.get(ref, ref)}; use one of "
                + ", ".join(str(s) for s in Status)
            )
    return dict(given)


def check_postmortem(status: str, published: bool, body: str) -> None:
    """A postmortem: words, on a published incident that is resolved."""
    if not published:
        raise UsageError("the incident is a draft: publish it first; a postmortem follows it")
    if status not in ("resolved", "postmortem"):
        raise UsageError(
            f"the incident is {status}: resolve it first (a resolved update); a postmortem "
            "says what happened once it is over"
        )
    if not body.strip():
        raise UsageError("a postmortem needs words: say what happened and what changes")
