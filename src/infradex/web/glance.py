"""What the console pages (home, board, impact, an incident) read of every check's state, and
what they render from it, kept for a few seconds.

Those pages read all the checks at once (10,000 of them at scale): read on every request, the
store's rows alone would cost more than the 100 ms a page may take. So the states are read at
most every ``GLANCE_SECONDS`` (lean rows: :func:`history.load_glance_states`; an in-process
monitor's are in memory already), and a page body that depends only on them and the catalog is
rendered at most that often. While a fresh one is made, other requests get the previous one
instead of waiting (no thundering herd). The pages are at most ``GLANCE_SECONDS`` behind.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request

from infradex.monitor import history
from infradex.monitor.checks import CheckDef, checks_grouped
from infradex.monitor.evaluate import CheckState
from infradex.monitor.report import shown_state, state_rank

__all__ = ["GLANCE_SECONDS", "Glance", "glance", "glance_states", "kept", "summarise"]

GLANCE_SECONDS = 5.0
#: bodies kept (a key per page and filter); the oldest goes first
KEPT_MAX = 256

Value = TypeVar("Value")


async def kept(
    request: Request,
    key: str,
    make: Callable[[], Awaitable[Value]],
    seconds: float = GLANCE_SECONDS,
) -> Value:
    """``make()``'s value for ``key``, made at most once per ``seconds``; while a fresh one is
    being made, callers get the previous one."""
    state = request.app.state.__dict__
    store: dict[str, tuple[float, Any]] = state.setdefault("glance_kept", {})
    making: dict[str, asyncio.Task[Any]] = state.setdefault("glance_making", {})
    held = store.get(key)
    if held is not None and time.monotonic() < held[0]:
        value: Value = held[1]
        return value
    task = making.get(key)
    if task is None:

        async def run() -> Value:
            made = await make()
            if len(store) >= KEPT_MAX and key not in store:
                store.pop(next(iter(store)))
            store[key] = (time.monotonic() + seconds, made)
            return made

        task = asyncio.ensure_future(run())
        making[key] = task
        task.add_done_callback(lambda _: making.pop(key, None))
    if held is not None:
        stale: Value = held[1]
        return stale
    fresh: Value = await asyncio.shield(task)
    return fresh


async def glance_states(request: Request) -> tuple[dict[str, CheckState], bool]:
    """Every check's state (lean), and whether anything is monitored: a monitor in this
    process, or states a monitor elsewhere wrote."""
    monitor = request.app.state.monitor
    if monitor is not None:
        states: dict[str, CheckState] = monitor.states
        return states, True

    async def read() -> dict[str, CheckState]:
        return await history.load_glance_states(request.app.state.db)

    found = await kept(request, "states", read)
    return found, bool(found)


@dataclass(frozen=True, slots=True)
class Glance:
    """What every check's state adds up to: the checks by shown state, and each checked
    entity's health (the worst shown state of its checks; entities without checks absent)."""

    on: bool  # anything monitored at all
    counts: Counter[str]
    health: dict[str, str]


def summarise(
    grouped: dict[str, list[CheckDef]], states: dict[str, CheckState], on: bool
) -> Glance:
    """The glance at ``states`` for the checks ``grouped`` by owner (one pass, no sorting:
    10,000 checks in a few milliseconds)."""
    counts: Counter[str] = Counter()
    health: dict[str, str] = {}
    for owner, checks in grouped.items():
        found = None
        for check in checks:
            shown = shown_state(states.get(check.id), on)
            counts[shown] += 1
            if found is None or state_rank(shown) < state_rank(found):
                found = shown
        if found is not None:
            health[owner] = found
    return Glance(on, counts, health)


async def glance(request: Request) -> Glance:
    """The glance at the served catalog's checks, made at most every ``GLANCE_SECONDS``."""
    catalog = request.app.state.catalog.catalog
    settings = request.app.state.settings

    async def make() -> Glance:
        states, on = await glance_states(request)
        grouped = checks_grouped(catalog, settings.ca_file, settings.monitor_policy)
        return summarise(grouped, states, on)

    return await kept(request, f"glance:{id(catalog)}", make)
