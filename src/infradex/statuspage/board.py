"""The status page of one server, kept as rendered bytes: the state is re-derived from the
store at most once per ``interval``, and the JSON and HTML are rendered again only when what
they show has changed (docs/status-page.md, "Routes"). While the store cannot be read, the
last rendered copy is served.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from markupsafe import Markup

from infradex.catalog.entities import Catalog
from infradex.clock import utcnow
from infradex.monitor.history import rollup_series
from infradex.monitor.reads import (
    catalog_check_ids,
    check_states_of,
    last_report_at,
    maintenance_windows_of,
)
from infradex.monitor.rollups import Rollup, bucket_start
from infradex.settings import Settings
from infradex.statuspage.components import Layout, layout, stable_id
from infradex.statuspage.derive import PageState, derive, group_states
from infradex.statuspage.html import render_page
from infradex.statuspage.incident_store import list_public
from infradex.statuspage.incidents import PublicIncident
from infradex.statuspage.maintenance import PublicMaintenance, public_maintenances
from infradex.statuspage.overrides import active_overrides
from infradex.statuspage.uptime import DAYS, bar_checks, pooled_days
from infradex.statuspage.v2 import PageInfo, Snapshot, documents
from infradex.store.db import Database, StoreError

__all__ = ["Rendered", "StatusBoard", "page_info"]

log = logging.getLogger("infradex.statuspage")

#: draws one component's bars from its pooled daily rollups (``web.charts.uptime_bars``)
BarRenderer = Callable[[Sequence[Rollup], datetime], Markup]


def page_info(settings: Settings) -> PageInfo:
    """The page's name, address and id: ``https://`` + the status host when there is one,
    else the server's base URL + ``/status``."""
    url = (
        f"https://{settings.status_host}"
        if settings.status_host
        else settings.base_url.rstrip("/") + "/status"
    )
    return PageInfo(id=stable_id("page", url), name=settings.status_name, url=url)


@dataclass(frozen=True, slots=True)
class Rendered:
    snapshot: Snapshot
    json: dict[str, bytes]  # path under /api/v2/ → body
    html: bytes


@dataclass
class _Memory:
    """What the board remembers between refreshes: when each component last changed."""

    catalog: Catalog | None = None
    layout: Layout | None = None
    statuses: dict[str, str] = field(default_factory=dict)
    changed_at: dict[str, datetime] = field(default_factory=dict)
    fingerprint: object = None
    rendered: Rendered | None = None
    refreshed: float = float("-inf")


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
        bars: BarRenderer | None = None,
        bars_every: float = 300.0,
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
        self.bars = bars  # the 90-day bars' renderer (the web's charts), None: no bars
        self.bars_every = bars_every  # seconds between reads of the daily rollups
        self._bars: dict[str, Markup] = {}
        self._bars_read = float("-inf")
        self._bars_version = 0
        self._bars_catalog: Catalog | None = None  # the catalog the bars were read for

    async def current(self) -> Rendered:
        """The rendered page, at most ``interval`` seconds old (older while the store is
        down and a copy exists; a StoreError when there is none yet)."""
        memory = self._memory
        if memory.rendered is not None and time.monotonic() - memory.refreshed < self.interval:
            return memory.rendered
        async with self._lock:
            if memory.rendered is None or time.monotonic() - memory.refreshed >= self.interval:
                try:
                    await self._refresh()
                except StoreError as exc:
                    if memory.rendered is None:
                        raise
                    log.warning("status page: serving the last copy, the store failed: %s", exc)
                memory.refreshed = time.monotonic()
            assert memory.rendered is not None
            return memory.rendered

    async def page_state(
        self,
    ) -> tuple[PageState, tuple[PublicMaintenance, ...], tuple[PublicIncident, ...], datetime]:
        """The page derived now from the store (with each state's reason: internal callers
        use this; the public gets :meth:`current`), its public maintenance and when the
        catalog was loaded."""
        memory = self._memory
        catalog, loaded_at = self.catalog()
        if memory.catalog is not catalog:
            memory.catalog, memory.layout = catalog, layout(catalog)
        the_layout = memory.layout
        assert the_layout is not None
        now = self.clock()
        async with self.db.begin() as connection:
            states = await check_states_of(connection, catalog_check_ids(catalog))
            windows = await maintenance_windows_of(connection, catalog)
            overrides = await active_overrides(connection, now)
            last_report = await last_report_at(connection)
            published = tuple(await list_public(connection, published_only=True))
        components = derive(catalog, the_layout, states, windows, overrides, now)
        for state in components:
            key = state.component.id
            if memory.statuses.get(key) != state.status:
                if key in memory.statuses:
                    memory.changed_at[key] = now
                memory.statuses[key] = state.status
        stale = last_report is None or now - last_report > self.stale_after
        maintenances = public_maintenances(catalog, the_layout, windows, now)
        changed = [memory.changed_at.get(c.component.id, loaded_at) for c in components]
        page = PageState(
            components,
            group_states(the_layout, components),
            max(changed, default=loaded_at),
            last_report,
            stale,
        )
        return page, maintenances, published, loaded_at

    async def _refresh(self) -> None:
        memory = self._memory
        page, maintenances, published, loaded_at = await self.page_state()
        components, last_report, stale = page.components, page.last_report, page.stale
        # the minute of the last report is on the page: a new one re-renders at most per minute
        report_minute = last_report.replace(second=0, microsecond=0) if last_report else None
        fingerprint = (
            id(memory.catalog),
            tuple((c.component.id, c.status, c.override is not None) for c in components),
            stale,
            report_minute,
            maintenances,
            tuple((i.id, i.status, i.updated_at, i.name, len(i.updates)) for i in published),
        )
        await self._read_bars()
        if (fingerprint, self._bars_version) == memory.fingerprint and memory.rendered is not None:
            return
        snapshot = Snapshot(page, loaded_at, dict(memory.changed_at), maintenances, published)
        bodies = {
            path: json.dumps(document, separators=(",", ":")).encode()
            for path, document in documents(self.info, snapshot).items()
        }
        html = render_page(self.info, snapshot, self.stale_after, self._bars).encode()
        memory.rendered = Rendered(snapshot, bodies, html)
        memory.fingerprint = (fingerprint, self._bars_version)
        self.renders += 1

    async def _read_bars(self) -> None:
        """The bars from the daily rollups, read again every ``bars_every`` seconds (a day's
        bar changes slowly; the read covers 90 days of every check)."""
        memory = self._memory
        fresh = time.monotonic() - self._bars_read < self.bars_every
        if self.bars is None or (fresh and self._bars_catalog is memory.catalog):
            return
        assert memory.catalog is not None and memory.layout is not None
        now = self.clock()
        today = bucket_start(now, "day")
        pooled = bar_checks(memory.catalog, memory.layout)
        ids = sorted({i for checks in pooled.values() for i in checks})
        series = await rollup_series(self.db, ids, "day", today - timedelta(days=DAYS - 1))
        self._bars = {
            key: self.bars(pooled_days(checks, series), today) for key, checks in pooled.items()
        }
        self._bars_read = time.monotonic()
        self._bars_catalog = memory.catalog
        self._bars_version += 1
