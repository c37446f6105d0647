"""The status page kept by the alerter as it goes (docs/status-page.md, "What happens by
itself"): a hook of the alerter's turn (:class:`~infradex.alerting.turn_hooks.TurnHook`)
that, in a fenced transaction of the turn,

- drafts a public incident for each open internal incident that reaches public components,
  and keeps the draft's components, impact and words up to date until someone publishes it
  (public names only: :func:`~infradex.statuspage.incidents.draft_for`);
- publishes a draft by itself once its internal incident has gone unacknowledged for the
  shortest ``autoPublishAfter`` of its components;
- adds an update when a provider's own status page confirms the problem after publication,
  and a resolved update when the internal incident resolves;
- tells the subscribers of each automatic publication and update, in the same transaction,
  with links to the status page's configured public address (none configured: said once in
  the log, and no notice with a broken link is queued).

Everything is read back from the store each time it acts, so a failed turn is simply done
again by the next one, on whichever server leads.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.alerting.model import EventKind, IncidentStatus
from infradex.alerting.turn_hooks import TurnWrite
from infradex.catalog.entities import Catalog
from infradex.errors import UsageError
from infradex.monitor.reads import catalog_check_ids, check_states_of, maintenance_windows_of
from infradex.statuspage.components import Layout, layout
from infradex.statuspage.derive import ComponentState, derive
from infradex.statuspage.incident_store import (
    DRAFTER,
    add_update_in,
    detach_finished,
    publish_in,
    refresh_draft,
    write_draft,
)
from infradex.statuspage.incidents import (
    STATUSES,
    draft_for,
    resolved_words,
    upstream_words,
)
from infradex.statuspage.overrides import active_overrides
from infradex.statuspage.subscriber_messages import StatusEvent, SubscriberLinks
from infradex.statuspage.subscriber_notices import notify_subscribers
from infradex.store.tables import incident_events, incidents, public_incident_updates
from infradex.store.tables import public_incidents as public

__all__ = ["AUTOMATIC", "UPSTREAM_AUTHOR", "PublicIncidentAutomation"]

log = logging.getLogger("infradex.statuspage")

#: who published or updated a public incident when nobody did (``published_by``,
#: an update's ``created_by``)
AUTOMATIC = DRAFTER
#: the author of the update that says a provider confirms the problem (at most one each)
UPSTREAM_AUTHOR = "infradex:upstream"
_DONE = ("resolved", "postmortem")


class PublicIncidentAutomation:
    """The alerter's turn hook for the public incidents. ``links``: where subscribers'
    links lead (None: no public address configured, subscribers are not told of what this
    does)."""

    def __init__(self, links: SubscriberLinks | None) -> None:
        self.links = links
        self._layout: tuple[Catalog, Layout] | None = None
        #: the earliest automatic publication still to come (a quiet turn before it reads
        #: nothing)
        self.next_due: datetime | None = None
        self._said_no_links = False
        self._queued = 0

    async def after_correlation(
        self, write: TurnWrite, catalog: Catalog, now: datetime, *, changed: bool
    ) -> int:
        if not changed and (self.next_due is None or now < self.next_due):
            return 0
        self._queued = 0
        async with write(now) as connection:
            self.next_due = await self._act(connection, catalog, now)
        return self._queued

    def _layout_of(self, catalog: Catalog) -> Layout:
        if self._layout is None or self._layout[0] is not catalog:
            self._layout = (catalog, layout(catalog))
        return self._layout[1]

    async def _announce(self, connection: AsyncConnection, event: StatusEvent) -> int:
        if self.links is None:
            if not self._said_no_links:
                self._said_no_links = True
                log.warning(
                    "status page: subscribers are not told of automatic publications and "
                    "updates: their links need the page's public address; set "
                    "INFRADEX_STATUS_URL (or INFRADEX_STATUS_HOST, or INFRADEX_BASE_URL)"
                )
            return 0
        queued = await notify_subscribers(connection, event, links=self.links)
        self._queued += queued
        return queued

    async def _act(
        self, connection: AsyncConnection, catalog: Catalog, now: datetime
    ) -> datetime | None:
        """Drafts, publications and updates as the store stands; the next publication due."""
        open_rows = (
            await connection.execute(
                select(incidents.c.id, incidents.c.root_ref, incidents.c.status).where(
                    incidents.c.status != IncidentStatus.RESOLVED
                )
            )
        ).all()
        public_rows = (
            await connection.execute(
                select(public, incidents.c.status.label("internal_status"))
                .join(incidents, incidents.c.id == public.c.incident_id)
                .where(
                    or_(
                        and_(
                            public.c.published_at.is_(None),
                            incidents.c.status != IncidentStatus.RESOLVED,
                        ),
                        and_(public.c.published_at.is_not(None), public.c.status.not_in(_DONE)),
                    )
                )
            )
        ).all()
        if not open_rows and not public_rows:
            return None
        states = await self._states(connection, catalog, now)
        by_incident = {row.incident_id: row for row in public_rows}
        confirmed = await _confirmations(connection, [r.id for r in open_rows])
        first_words = await _first_words(connection, [r.id for r in public_rows])
        due: list[datetime] = []
        for internal in open_rows:
            draft = draft_for(catalog, internal.root_ref, states, confirmed.get(internal.id, {}))
            row = by_incident.get(internal.id)
            if row is None:
                if draft is None:
                    continue
                await detach_finished(connection, internal.id)  # reopened since: a new one
                public_id = await write_draft(connection, internal.id, draft, now)
                created_at = now
            elif row.published_at is None:
                if draft is None:
                    continue
                await refresh_draft(connection, row, draft, first_words.get(row.id, ""), now)
                public_id, created_at = row.id, row.created_at
            else:
                await self._tell_upstream(connection, row, confirmed.get(internal.id, {}),
                                          states, now)  # fmt: skip
                continue
            delay = draft.auto_publish_after
            if delay is None or internal.status != IncidentStatus.OPEN:
                continue  # nobody asked, or a person took the incident: they write the words
            if now - created_at < delay:
                due.append(created_at + delay)
                continue
            try:
                await publish_in(connection, public_id, name=None, body=None, by=AUTOMATIC,
                                 at=now, states=states, announce=self._announce)  # fmt: skip
            except UsageError:
                continue  # a person published it meanwhile
            log.info("status page: public incident %s published by itself", public_id)
        for row in public_rows:
            if row.published_at is not None and row.internal_status == IncidentStatus.RESOLVED:
                await self._resolve(connection, row, states, now)
        return min(due, default=None)

    async def _states(
        self, connection: AsyncConnection, catalog: Catalog, now: datetime
    ) -> tuple[ComponentState, ...]:
        checks = await check_states_of(connection, catalog_check_ids(catalog))
        windows = await maintenance_windows_of(connection, catalog)
        overrides = await active_overrides(connection, now)
        return derive(catalog, self._layout_of(catalog), checks, windows, overrides, now)

    async def _tell_upstream(
        self,
        connection: AsyncConnection,
        row: Any,
        confirmations: Mapping[str, datetime],
        states: Sequence[ComponentState],
        now: datetime,
    ) -> None:
        """A published incident whose provider confirmed the problem after it was published
        says so in an update, once."""
        later = [ref for ref, at in confirmations.items() if at >= row.published_at]
        if not later:
            return
        told = (
            await connection.execute(
                select(public_incident_updates.c.id).where(
                    public_incident_updates.c.public_incident_id == row.id,
                    public_incident_updates.c.created_by == UPSTREAM_AUTHOR,
                )
            )
        ).first()
        if told is not None:
            return
        names = {str(s.component.ref): s.component.name for s in states if s.component.public}
        words = upstream_words([names[r] for r in sorted(later) if r in names])
        status = row.status if STATUSES.index(row.status) > 0 else "identified"
        await add_update_in(connection, row.id, status=status, body=words, states=states,
                            by=UPSTREAM_AUTHOR, at=now, announce=self._announce)  # fmt: skip

    async def _resolve(
        self,
        connection: AsyncConnection,
        row: Any,
        states: Sequence[ComponentState],
        now: datetime,
    ) -> None:
        names = {str(s.component.ref): s.component.name for s in states if s.component.public}
        words = resolved_words([names[r] for r in row.components if r in names])
        try:
            await add_update_in(connection, row.id, status="resolved", body=words,
                                states=states, by=AUTOMATIC, at=now,
                                announce=self._announce)  # fmt: skip
        except UsageError:
            return  # a person moved it on meanwhile
        log.info("status page: public incident %s resolved with its incident", row.id)


async def _confirmations(
    connection: AsyncConnection, incident_ids: Sequence[int]
) -> dict[int, dict[str, datetime]]:
    """Incident id → the entities whose own status page confirmed it, and when first."""
    if not incident_ids:
        return {}
    rows = await connection.execute(
        select(incident_events.c.incident_id, incident_events.c.at, incident_events.c.data)
        .where(
            incident_events.c.incident_id.in_(list(incident_ids)),
            incident_events.c.kind == EventKind.UPSTREAM_CONFIRMED,
        )
        .order_by(incident_events.c.id)
    )
    found: dict[int, dict[str, datetime]] = {}
    for row in rows:
        entity = (row.data or {}).get("entity")
        if isinstance(entity, str):
            found.setdefault(row.incident_id, {}).setdefault(entity, row.at)
    return found


async def _first_words(connection: AsyncConnection, public_ids: Sequence[int]) -> dict[int, str]:
    """Public incident id → its first update's words."""
    if not public_ids:
        return {}
    rows = await connection.execute(
        select(public_incident_updates.c.public_incident_id, public_incident_updates.c.body)
        .where(public_incident_updates.c.public_incident_id.in_(list(public_ids)))
        .order_by(public_incident_updates.c.id)
    )
    first: dict[int, str] = {}
    for row in rows:
        first.setdefault(row.public_incident_id, row.body)
    return first
