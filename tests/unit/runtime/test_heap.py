"""The heap settles (collect, freeze) a while after each catalog change, and a later change
reclaims cycles frozen before."""

from __future__ import annotations

import asyncio
import gc
import weakref

from infradex.runtime.heap import HeapSettler


class _Node:
    partner: object = None


async def test_what_the_parts_derived_is_frozen_after_the_warm_up() -> None:
    settler = HeapSettler(delay=0.05)
    derived = [[index] for index in range(5_000)]  # long-lived, tracked by the collector
    before = gc.get_freeze_count()
    settler.catalog_changed()
    assert gc.get_freeze_count() == before  # not during the warm-up
    await asyncio.sleep(0.3)
    assert gc.get_freeze_count() >= before + len(derived)
    assert not any(derived[0] is o for o in gc.get_objects(generation=2))  # frozen: not scanned
    settler.stop()


async def test_a_later_catalog_change_reclaims_cycles_frozen_before() -> None:
    settler = HeapSettler(delay=0.05)
    node = _Node()
    node.partner = node  # a cycle: reference counting alone never frees it
    alive = weakref.ref(node)
    settler.catalog_changed()  # the first catalog
    await asyncio.sleep(0.3)
    del node
    gc.collect()
    assert alive() is not None  # frozen: the collector does not look at it
    settler.catalog_changed()  # another catalog: unfreeze, collect everything, freeze again
    await asyncio.sleep(0.3)
    assert alive() is None
    settler.stop()


async def test_changes_in_quick_succession_settle_once_after_the_last() -> None:
    settler = HeapSettler(delay=0.2)
    settler.catalog_changed()
    await asyncio.sleep(0.1)
    settler.catalog_changed()  # restarts the wait
    await asyncio.sleep(0.15)
    assert settler.settles == 0  # 0.25 s after the first change, 0.15 s after the second
    await asyncio.sleep(0.2)
    assert settler.settles == 1
    await asyncio.sleep(0.3)
    assert settler.settles == 1  # once
    settler.stop()
