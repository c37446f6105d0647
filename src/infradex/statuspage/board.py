"""The status page of one server, kept as rendered bytes: the state is re-derived from the
store at most once per ``interval``, and the JSON and HTML are rendered again only when what
they show has changed (docs/status-page.md, "Routes"). While the store cannot be read, the
last rendered copy is served.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from markupsafe import Markup
from sqlalchemy.ext.asyncio import AsyncConnection

from infradex.catalog.entities import Catalog
from infradex.catalog.refs import Ref
from infradex.clock import utcnow
from infradex.monitor.maintenance import Window
from infradex.monitor.reads import (
    catalog_check_ids,
    last_report_at,
    maintenance_windows_of,
    shown_states_of,
)
from infradex.settings import Settings
from infradex.statuspage.bars import DAYS, render_all_bars
from infradex.statuspage.components import Layout, layout, stable_id
from infradex.statuspage.derive import PageState, Status, derive, group_states
from infradex.statuspage.feeds import atom, feed_entries, rss
from infradex.statuspage.history_html import by_month, render_history, render_incident
from infradex.statuspage.html import render_page
from infradex.statuspage.incident_store import list_public, published_signature
from infradex.statuspage.incidents import PublicIncident
from infradex.statuspage.maintenance import (
    PublicMaintenance,
    maintenance_history,
    public_maintenances,
)
from infradex.statuspage.outage_store import overrides_between, state_history
from infradex.statuspage.outages import Uptime, replay, uptime_history
from infradex.statuspage.overrides import active_overrides
from infradex.statuspage.paths import (
    ATOM_PATH,
    HISTORY_PATH,
    RSS_PATH,
    STATUS_PATH,
    incident_key,
    incident_path,
)
from infradex.statuspage.uptime_html import PAGES, page_months, render_uptime_pages
from infradex.statuspage.v2 import PageInfo, Snapshot, documents
from infradex.store.db import Database, StoreError

__all__ = ["Rendered", "StatusBoard", "page_info"]

log = logging.getLogger("infradex.statuspage")


def page_info(settings: Settings) -> PageInfo:
    """The page's name, address and id: ``https://`` + the status host when there is one,
    else the server's base URL + ``/status``."""
    url = (
        f"https://{settings.status_host}"
        if settings.status_host
        else settings.base_url.rstrip("/") + "/status"
    )
    return PageInfo(id=stable_id("page", url), name=settings.status_name, url=url)


#: how far back the history page lists maintenance (incidents: all published ones)
HISTORY_FOR = timedelta(days=365)


@dataclass(frozen=True, slots=True)
class Rendered:
    snapshot: Snapshot
    json: dict[str, bytes]  # path under /api/v2/ → body
    html: bytes
    #: the other pages by path (paths.HISTORY_PATH, the feeds, each incident's page)
    pages: dict[str, bytes] = field(default_factory=dict)
    #: gzip of the large documents, by path (``/status``, ``/api/v2/…``, the history,
    #: the feeds), for clients that accept it: compressed once per change
    gzipped: dict[str, bytes] = field(default_factory=dict)


#: documents smaller than this are sent as they are (compressing them saves nothing)
GZIP_FROM = 1024


def _gzipped(documents: Mapping[str, bytes]) -> dict[str, bytes]:
    # mtime 0: the same document gives the same bytes (an ETag or a cache can rely on it)
    return {
        path: gzip.compress(body, compresslevel=6, mtime=0)
        for path, body in documents.items()
        if len(body) >= GZIP_FROM
    }


@dataclass(frozen=True, slots=True)
class _Gathered:
    page: PageState
    maintenances: tuple[PublicMaintenance, ...]  # what matters now: running, next, ...
    history: tuple[PublicMaintenance, ...]  # occurrences that started, newest first
    incidents: tuple[PublicIncident, ...]  # published, newest first
    loaded_at: datetime


@dataclass
class _Memory:
    """What the board remembers between refreshes: when each component last changed."""

    catalog: Catalog | None = None
    layout: Layout | None = None
    check_ids: frozenset[str] = frozenset()
    statuses: dict[str, str] = field(default_factory=dict)
    changed_at: dict[str, datetime] = field(default_factory=dict)
    fingerprint: object = None
    rendered: Rendered | None = None
    refreshed: float = float("-inf")


def _maintenance_now(
    catalog: Catalog,
    the_layout: Layout,
    windows: Sequence[Window],
    now: datetime,
    states: Mapping[Ref, Status],
) -> tuple[tuple[PublicMaintenance, ...], tuple[PublicMaintenance, ...]]:
    """What the page lists now, and the history's occurrences (rules expanded: pure, CPU)."""
    current = public_maintenances(catalog, the_layout, windows, now, states)
    since = now - HISTORY_FOR
    return current, maintenance_history(catalog, the_layout, windows, now, since, states)


class StatusBoard:
    def __init__(
        self,
        db: Database,
        catalog: Callable[[], tuple[Catalog, datetime]],
        info: PageInfo,
        *,
        stale_after: timedelta,
        interval: float = 1.0,
        clock: Callable[[], datetime] = utcnow,
        uptime: bool = False,
        uptime_every: float = 300.0,
        monitored: bool = True,
        compress: bool = True,
    ) -> None:
        self.db = db
        self.catalog = catalog  # the catalog being served and when it was loaded
        self.info = info
        self.stale_after = stale_after
        self.interval = interval
        self.clock = clock
        self._memory = _Memory()
        self._lock = asyncio.Lock()
        self.renders = 0  # how often the bytes were rendered (a change, or a new catalog)
        #: count outage minutes: the 90-day bars and the uptime history (False: neither)
        self.uptime = uptime
        self.uptime_every = uptime_every  # seconds between two counts of the outage minutes
        self._bars: dict[str, Markup] = {}
        self._uptime_pages: dict[str, bytes] = {}
        self._uptime_gzipped: dict[str, bytes] = {}
        self._bars_read = float("-inf")
        self._bars_version = 0
        self._bars_catalog: Catalog | None = None  # the catalog the bars were counted for
        #: a monitor runs with this board (False: the page is not monitored until a
        #: monitor elsewhere reports)
        self.monitored = monitored
        #: keep gzip of the large documents (a server: yes; a static export: no need)
        self.compress = compress
        self._published_key: tuple[object, ...] | None = None
        self._published_list: tuple[PublicIncident, ...] = ()
        self._incident_pages: dict[int, tuple[object, bytes]] = {}
        self._background: asyncio.Task[None] | None = None

    @property
    def has_copy(self) -> bool:
        """A copy is rendered: :meth:`current` answers without waiting for the store."""
        return self._memory.rendered is not None and self.interval > 0

    async def current(self) -> Rendered:
        """The rendered page, about ``interval`` seconds old at most (older while the store
        is down and a copy exists; a StoreError when there is none yet).

        Once a copy exists, a request never waits for the store: an old copy is answered at
        once while one refresh runs in the background (``interval`` 0, as tests use it:
        every call re-derives and waits for it)."""
        memory = self._memory
        rendered = memory.rendered
        if rendered is not None and time.monotonic() - memory.refreshed < self.interval:
            return rendered
        if rendered is not None and self.interval > 0:
            if self._background is None or self._background.done():
                self._background = asyncio.create_task(self._refresh_once())
            return rendered
        await self._refresh_once()
        assert memory.rendered is not None
        return memory.rendered

    async def close(self) -> None:
        """Wait for a background refresh still running (the server is stopping)."""
        task, self._background = self._background, None
        if task is not None:
            with contextlib.suppress(Exception):
                await task

    async def _refresh_once(self) -> None:
        """Refresh unless another call just did; keep the last copy if the store fails."""
        memory = self._memory
        async with self._lock:
            if memory.rendered is not None and time.monotonic() - memory.refreshed < self.interval:
                return
            try:
                await self._refresh()
            except StoreError as exc:
                if memory.rendered is None:
                    raise
                log.warning("status page: serving the last copy, the store failed: %s", exc)
            except Exception:
                if memory.rendered is None:
                    raise
                log.exception("status page: serving the last copy, the refresh failed")
            memory.refreshed = time.monotonic()

    async def page_state(
        self,
    ) -> tuple[PageState, tuple[PublicMaintenance, ...], tuple[PublicIncident, ...], datetime]:
        """The page derived now from the store (with each state's reason: internal callers
        use this; the public gets :meth:`current`), its public maintenance, the published
        incidents (newest first) and when the catalog was loaded."""
        found = await self._gather()
        return found.page, found.maintenances, found.incidents, found.loaded_at

    async def maintenance_now(self) -> tuple[PublicMaintenance, ...]:
        """Every public occurrence that matters now: running, verifying, next, and those of
        the history (for the maintenance notices)."""
        found = await self._gather()
        unique = {m.id: m for m in (*found.history, *found.maintenances)}
        return tuple(unique.values())

    async def _gather(self) -> _Gathered:
        memory = self._memory
        catalog, loaded_at = self.catalog()
        if memory.catalog is not catalog:
            memory.catalog, memory.layout = catalog, layout(catalog)
            memory.check_ids = frozenset(catalog_check_ids(catalog))
        the_layout = memory.layout
        assert the_layout is not None
        now = self.clock()
        async with self.db.begin() as connection:
            states = await shown_states_of(connection, memory.check_ids)
            windows = await maintenance_windows_of(connection, catalog)
            overrides = await active_overrides(connection, now)
            last_report = await last_report_at(connection)
            published = await self._published(connection)
        # pure and CPU-bound (a thousand components: tens of ms): off the event loop, so the
        # requests answered from the last copy meanwhile do not wait for it
        components = await asyncio.to_thread(
            derive, catalog, the_layout, states, windows, overrides, now
        )
        for state in components:
            key = state.component.id
            if memory.statuses.get(key) != state.status:
                if key in memory.statuses:
                    memory.changed_at[key] = now
                memory.statuses[key] = state.status
        # nothing monitors a page whose server runs no monitor and whose store has never
        # had a result: "not monitored", not "out of date" (docs/status-page.md)
        monitored = self.monitored or last_report is not None
        stale = monitored and (last_report is None or now - last_report > self.stale_after)
        by_ref = {c.component.ref: c.status for c in components}
        maintenances, history = await asyncio.to_thread(
            _maintenance_now, catalog, the_layout, windows, now, by_ref
        )
        changed = [memory.changed_at.get(c.component.id, loaded_at) for c in components]
        page = PageState(
            components,
            group_states(the_layout, components),
            max(changed, default=loaded_at),
            last_report,
            stale,
            monitored,
        )
        return _Gathered(page, maintenances, history, published, loaded_at)

    async def _published(self, connection: AsyncConnection) -> tuple[PublicIncident, ...]:
        """Every published incident, read again only when one changed."""
        signature = await published_signature(connection)
        if signature != self._published_key:
            found = await list_public(connection, published_only=True, limit=None)
            self._published_list, self._published_key = tuple(found), signature
        return self._published_list

    async def _refresh(self) -> None:
        memory = self._memory
        found = await self._gather()
        page, maintenances, published = found.page, found.maintenances, found.incidents
        components, last_report, stale = page.components, page.last_report, page.stale
        # the minute of the last report is on the page: a new one re-renders at most per minute
        report_minute = last_report.replace(second=0, microsecond=0) if last_report else None
        fingerprint = (
            id(memory.catalog),
            tuple((c.component.id, c.status, c.override is not None) for c in components),
            stale,
            page.monitored,
            report_minute,
            maintenances,
            found.history,
            tuple((i.id, i.status, i.updated_at, i.name, len(i.updates)) for i in published),
            # the history's months run to this one
            self.clock().strftime("%Y-%m"),
        )
        await self._read_uptime()
        if (fingerprint, self._bars_version) == memory.fingerprint and memory.rendered is not None:
            return
        snapshot = Snapshot(
            page, found.loaded_at, dict(memory.changed_at), maintenances, published, found.history
        )
        memory.rendered = await asyncio.to_thread(self._render, snapshot)
        memory.fingerprint = (fingerprint, self._bars_version)
        self.renders += 1

    def _render(self, snapshot: Snapshot) -> Rendered:
        """Every document's bytes (pure but CPU-bound: the caller runs it in a thread)."""
        bodies = {
            path: json.dumps(document, separators=(",", ":")).encode()
            for path, document in documents(self.info, snapshot).items()
        }
        html = render_page(self.info, snapshot, self.stale_after, self._bars).encode()
        pages = self._pages(snapshot)
        large = {f"/api/v2/{path}": body for path, body in bodies.items()}
        large[STATUS_PATH] = html
        large.update({p: pages[p] for p in (HISTORY_PATH, ATOM_PATH, RSS_PATH)})
        gzipped = {**_gzipped(large), **self._uptime_gzipped} if self.compress else {}
        pages.update(self._uptime_pages)  # rendered when counted (every few minutes)
        return Rendered(snapshot, bodies, html, pages, gzipped)

    def _pages(self, snapshot: Snapshot) -> dict[str, bytes]:
        """The history, its feeds and each published incident's page; an incident's page
        is rendered again only when it or the catalog changed."""
        now = self.clock()
        incidents = snapshot.incidents
        months = by_month(incidents, snapshot.history, now)
        entries = feed_entries(
            self.info, incidents, (*snapshot.maintenances, *snapshot.history), snapshot.created_at
        )
        pages = {
            HISTORY_PATH: render_history(self.info, months).encode(),
            ATOM_PATH: atom(self.info, entries, snapshot.page.updated_at),
            RSS_PATH: rss(self.info, entries, snapshot.page.updated_at),
        }
        public = {str(c.component.ref): c.component for c in snapshot.page.public_components}
        kept: dict[int, tuple[object, bytes]] = {}
        for incident in incidents:
            key = (id(self._memory.catalog), incident.status, incident.updated_at, incident.name,
                   len(incident.updates))  # fmt: skip
            cached = self._incident_pages.get(incident.id)
            body = (
                cached[1]
                if cached is not None and cached[0] == key
                else render_incident(self.info, incident, public).encode()
            )
            kept[incident.id] = (key, body)
            pages[incident_path(incident_key(incident.id))] = body
        self._incident_pages = kept
        return pages

    async def count(self) -> Uptime:
        """Every component's and group's days, counted now from the store: the year's
        state changes, windows and overrides replayed through ``derive`` (the CPU-bound
        part in a thread). Not kept: a year of a thousand components is some 60 MB."""
        found, _, _, _ = await self._count(draw=False)
        return found

    async def _count(
        self, draw: bool = True
    ) -> tuple[Uptime, dict[str, Markup], dict[str, bytes], dict[str, bytes]]:
        """The count, and (``draw``) the bars, the history's pages and their gzip."""
        memory = self._memory
        if memory.catalog is None:
            await self._gather()  # the catalog and its layout
        catalog, the_layout = memory.catalog, memory.layout
        assert catalog is not None and the_layout is not None
        now = self.clock()
        last = now.date()
        # back to the first day of the oldest month the history shows, at least 90 days
        year, month = page_months(last, PAGES)[-1]
        first = min(date(year, month, 1), last - timedelta(days=DAYS - 1))
        since = datetime(first.year, first.month, first.day, tzinfo=UTC)
        async with self.db.begin() as connection:
            initial, changes = await state_history(connection, memory.check_ids, since, now)
            overrides = await overrides_between(connection, since, now)
            windows = await maintenance_windows_of(connection, catalog)
        info, compress = self.info, self.compress

        def counted() -> tuple[Uptime, dict[str, Markup], dict[str, bytes], dict[str, bytes]]:
            # a year of a thousand components: a few seconds of CPU, off the loop
            segments = replay(catalog, the_layout, initial, changes, windows, overrides,
                              since, now)  # fmt: skip
            found = uptime_history(the_layout, segments, first, last)
            if not draw:
                return found, {}, {}, {}
            bars = render_all_bars(found.days)
            pages = render_uptime_pages(info, the_layout, found)
            return found, bars, pages, (_gzipped(pages) if compress else {})

        return await asyncio.to_thread(counted)

    async def _read_uptime(self) -> None:
        """Count the outage minutes again every ``uptime_every`` seconds (or for a new
        catalog), then draw the bars and the uptime history once; requests only ever get
        the bytes (docs/status-page.md, "Uptime")."""
        memory = self._memory
        fresh = time.monotonic() - self._bars_read < self.uptime_every
        if not self.uptime or (fresh and self._bars_catalog is memory.catalog):
            return
        catalog = memory.catalog
        _, bars, pages, gzipped = await self._count()
        self._bars, self._uptime_pages, self._uptime_gzipped = bars, pages, gzipped
        self._bars_read = time.monotonic()
        self._bars_catalog = catalog
        self._bars_version += 1
