"""One assembly of what runs next to the catalog: the live catalog, the monitor, the alerter
and the heartbeat, wired the same way for ``infradex serve`` (the web app's lifespan) and
``infradex monitor`` (and later the probe agent).

Start order matters: the catalog is loaded first (a process with no good catalog refuses to
start), then the monitor (its checks), then the alerter (it reads the monitor's checks), then
the heartbeat (it beats only while alerting is healthy). Stop goes the other way.

On PostgreSQL several servers may share the store: each runs a :class:`Leadership` loop,
and only the leader runs the monitor and the alerter's turn (its writes fenced by the
lease's token); a server that stops leading stops its monitor. A SIGHUP
reloads through :class:`LiveCatalog`, so it is recorded like any other reload.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass, field

from infradex.alerting.heartbeat import Heartbeat
from infradex.alerting.service import Alerter, AlertSettings
from infradex.catalog.problems import CatalogInvalid
from infradex.monitor.service import Monitor
from infradex.runtime.heap import HeapSettler
from infradex.runtime.leadership import Leadership
from infradex.runtime.live_catalog import LiveCatalog, Reload
from infradex.settings import Settings
from infradex.statuspage.automatic import PublicIncidentAutomation
from infradex.statuspage.subscriber_messages import SubscriberLinks, public_root
from infradex.store.db import Database

__all__ = [
    "Runtime",
    "alerter_for",
    "assemble",
    "heartbeat_for",
    "monitor_for",
    "status_page_hook",
]

log = logging.getLogger("infradex.runtime")


def monitor_for(settings: Settings, db: Database) -> Monitor:
    return Monitor(
        db,
        retention=settings.retention,
        concurrency=settings.monitor_concurrency,
        canary_url=settings.canary_url,
        ca_file=settings.ca_file,
        policy=settings.monitor_policy,
        queue_max=settings.monitor_queue_max,
        dns_classes=settings.dns_provider_classes,
    )


def alerter_for(settings: Settings, db: Database) -> Alerter:
    """The alerter a process runs with its settings (notifiers, links, correlation window);
    the one place an alerter is built for a running process. It reads check states from the
    store, so it needs no monitor in its process (the monitor only wakes it sooner)."""
    from infradex.channels.registry import notifiers_for

    return Alerter(
        db,
        notifiers_for(settings),
        settings=AlertSettings(base_url=settings.base_url, window=settings.correlation_window),
        hooks=[status_page_hook(settings)],
    )


def status_page_hook(settings: Settings) -> PublicIncidentAutomation:
    """The status page's part of the alerter's turn: drafts, automatic publications and
    updates, and the subscribers told of them with links to the page's configured public
    address (docs/status-page.md)."""
    links = (
        SubscriberLinks.configured(settings, settings.resolved_secret_key())
        if public_root(settings) is not None
        else None
    )
    return PublicIncidentAutomation(links)


def heartbeat_for(settings: Settings, alerter: Alerter | None) -> Heartbeat | None:
    """The dead man's switch, when alerting runs and a URL is set."""
    if alerter is None or not settings.heartbeat_url:
        return None
    return Heartbeat(settings.heartbeat_url, ca_file=settings.ca_file, healthy=alerter.healthy)


@dataclass(slots=True)
class Runtime:
    live: LiveCatalog
    monitor: Monitor | None = None
    alerter: Alerter | None = None
    heartbeat: Heartbeat | None = None
    #: several servers on PostgreSQL: only the leader probes and alerts (every server
    #: serves pages and the API and dispatches the outbox)
    leadership: Leadership | None = None
    _signals: list[signal.Signals] = field(default_factory=list)
    _monitoring: bool = False
    _following: asyncio.Lock = field(default_factory=asyncio.Lock)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set)
    #: freezes what the parts derive from a catalog once their first turns are over
    heap: HeapSettler = field(default_factory=HeapSettler)

    async def start(self) -> None:
        """Load the catalog (refusing to start without a good one), then start the parts."""
        outcome = await self.live.reload(trigger="start")
        if not outcome.accepted:  # nothing good to fall back on yet: refuse to start
            raise CatalogInvalid(outcome.problems)
        catalog = self.live.catalog
        if self.monitor is not None:
            if self.leadership is None:
                await self.monitor.start(catalog)
                self._monitoring = True
            self.live.listeners.append(self.monitor.set_catalog)
        if self.alerter is not None:
            await self.alerter.start(catalog)
            # after the monitor's: the alerter takes up the monitor's new checks
            self.live.listeners.append(self.alerter.set_catalog)
            if self.monitor is not None:
                self.monitor.change_listeners.append(self.alerter.wake)
        if self.heartbeat is not None:
            self.heartbeat.start()
        if self.leadership is not None:
            self.leadership.listeners.append(self._leadership_moved)
            self.leadership.start()
        self.live.listeners.append(self.heap.catalog_changed)  # last: after the parts' own
        self.heap.catalog_changed(catalog)

    def _leadership_moved(self, leading: bool) -> None:
        task = asyncio.get_running_loop().create_task(self._follow(leading))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _follow(self, leading: bool) -> None:
        """The leader runs the server-side checks; a server that stops leading stops them
        (the alerter asks the lease itself, every turn)."""
        async with self._following:
            if self.monitor is not None and leading and not self._monitoring:
                await self.monitor.start(self.live.catalog)
                self._monitoring = True
            elif self.monitor is not None and not leading and self._monitoring:
                await self.monitor.stop()
                self._monitoring = False
            if leading and self.alerter is not None:
                self.alerter.wake()

    async def stop(self) -> None:
        self.heap.stop()
        loop = asyncio.get_running_loop()
        for sig in self._signals:
            loop.remove_signal_handler(sig)
        self._signals = []
        if self.heartbeat is not None:
            await self.heartbeat.stop()
        if self.leadership is not None:
            await self.leadership.loop.stop()  # no more moves; the lease is released below
            for task in list(self._tasks):
                await task
        if self.monitor is not None and self._monitoring:
            await self.monitor.stop()
            self._monitoring = False
        if self.alerter is not None:
            await self.alerter.stop()
        if self.leadership is not None:
            await self.leadership.stop()

    async def reload(self, trigger: str) -> Reload:
        outcome = await self.live.reload(trigger)
        verdict = "accepted" if outcome.accepted else "held" if outcome.held else "refused"
        log.info("catalog reload (%s): %s", trigger, verdict)
        return outcome

    def reload_on_sighup(self) -> bool:
        """SIGHUP reloads the catalog (trigger ``signal``); False where signals cannot be
        handled (off the main thread, as in tests, or off POSIX)."""
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(self.reload("signal")))
        except (NotImplementedError, RuntimeError, ValueError):
            return False
        self._signals.append(signal.SIGHUP)
        return True


def assemble(settings: Settings, db: Database, *, monitor: bool) -> Runtime:
    """What a process runs: the live catalog always; with ``monitor`` the checks, and the
    alerting and heartbeat the settings ask for."""
    live = LiveCatalog(settings.catalog, db, max_removed_share=settings.reload_max_removed)
    checks = monitor_for(settings, db) if monitor else None
    alerter = (
        alerter_for(settings, db)
        if checks is not None and settings.alerting_enabled(True)
        else None
    )
    # PostgreSQL may be shared by several servers: one leads (SQLite has one server, held
    # by the CLI's lock on the file: runtime.single_server)
    leadership = (
        Leadership(db, ttl=settings.leader_lease)
        if checks is not None and db.dialect == "postgresql"
        else None
    )
    if alerter is not None and leadership is not None:
        lead = leadership
        alerter.leader_lease = lambda: lead.lease if lead.leading else None
    return Runtime(live, checks, alerter, heartbeat_for(settings, alerter), leadership)
