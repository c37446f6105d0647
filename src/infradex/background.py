"""One background loop: wait ``interval`` seconds (or less, when woken), run one action, and
again, until stopped. The alerter, the outbox dispatcher, the heartbeat and the monitor's
flush, prune, maintenance and canary loops are each one of these.

An action that raises is logged and tried again after the next wait: a loop in the
background has nobody to raise to, and one bad turn must not end alerting for good.

A leaf (no infradex imports): alerting, the monitor and the runtime that assembles them all
use it, so it sits below all three.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

__all__ = ["Loop"]


class Loop:
    def __init__(
        self,
        name: str,
        interval: float,
        action: Callable[[], Awaitable[object]],
        *,
        first_wait: float | None = None,
        log: logging.Logger | None = None,
    ) -> None:
        self.name = name
        self.interval = interval
        self.action = action
        #: the wait before the first run (the interval when None)
        self.first_wait = interval if first_wait is None else first_wait
        self.log = log or logging.getLogger("infradex.runtime")
        self.turns = 0
        self.failures = 0
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def wake(self) -> None:
        """Run the action now instead of at the end of the wait."""
        self._woken.set()

    def start(self) -> None:
        if self.running:
            raise RuntimeError(f"the {self.name} loop is already running")
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Cancel the loop and wait until it has ended (a run in progress is cut off)."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run(self) -> None:
        wait = self.first_wait
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), wait)
            self._woken.clear()
            wait = self.interval
            try:
                await self.action()
            except asyncio.CancelledError:
                raise
            except Exception:
                self.failures += 1
                self.log.exception("%s failed; trying again in %s s", self.name, self.interval)
            self.turns += 1
