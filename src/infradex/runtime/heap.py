"""The garbage collector and a large catalog (docs/benchmarks.md, "Console pages").

A catalog of 20,000 entities is millions of long-lived objects; :mod:`infradex.catalog.loading`
and :class:`~infradex.runtime.live_catalog.LiveCatalog` freeze them once loaded, so the
collector stops scanning them. What the running parts derive from the catalog in their first
turns (the monitor's checks, the status page's components, the pages' caches: hundreds of
thousands of objects at that size) is built after that freeze; every full collection then
walks it and, through it, touches the frozen catalog it points into: 100-350 ms pauses every
few seconds under load, whatever the request. :class:`HeapSettler` freezes again once those
first turns are over, after each catalog change.

Frozen objects are still freed by reference counting when they are replaced; only garbage in
reference cycles would stay. So a settle after a catalog *change* (not the first) unfreezes
everything first and collects it all once, which reclaims the previous catalog's cycles if it
had any: one pause of about a second at 20,000 entities per catalog change, instead of
pauses of a tenth of that every few seconds."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from typing import Any

__all__ = ["WARM_UP", "HeapSettler", "settle_heap"]

log = logging.getLogger("infradex.runtime.heap")

#: seconds after a catalog change before what the parts derived from it is frozen: their
#: first turns (monitor, alerter, glance, status board) are over by then
WARM_UP = 30.0


def settle_heap(*, reclaim: bool = False) -> float:
    """Collect once, then freeze what survives (the collector will not scan it again);
    ``reclaim``: unfreeze everything first, so that the collection covers what was frozen
    before. Returns the seconds it took."""
    started = time.perf_counter()
    if reclaim:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
    took = time.perf_counter() - started
    log.info("heap settled in %.0f ms: %d objects frozen", took * 1000, gc.get_freeze_count())
    return took


class HeapSettler:
    """Settles the heap :data:`WARM_UP` seconds after the last catalog change (a listener of
    :class:`~infradex.runtime.live_catalog.LiveCatalog`, called in the event loop)."""

    def __init__(self, delay: float = WARM_UP) -> None:
        self.delay = delay
        self._handle: asyncio.TimerHandle | None = None
        self._changes = 0
        self.settles = 0  # how many times it has settled the heap

    def catalog_changed(self, _catalog: Any = None) -> None:
        self._changes += 1
        if self._handle is not None:
            self._handle.cancel()
        self._handle = asyncio.get_running_loop().call_later(self.delay, self._settle)

    def _settle(self) -> None:
        self._handle = None
        settle_heap(reclaim=self._changes > 1)
        self.settles += 1

    def stop(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
