"""The probe agent: runs its location's checks and gets every result to the server.

Three loops and the scheduler (docs/agents.md):

- **assignments** pulls the location's checks (``If-None-Match``: one small request while the
  catalog is unchanged) and hands them to the same :class:`~infradex.monitor.scheduler.Scheduler`
  and :func:`~infradex.monitor.checks.run_check` the server's monitor uses. The last ones are
  kept next to the buffer, so an agent restarted while cut off keeps probing;
- each result goes into the on-disk :class:`~infradex.agent.buffer.ResultBuffer` first, with
  the time it was observed;
- **sender** pushes the oldest batch and forgets it once the server has answered for it; cut
  off, it keeps everything (up to the buffer's bound) and replays in order when back;
- **heartbeat** reports the agent's version and clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any

from infradex.agent.buffer import ResultBuffer
from infradex.agent.client import AgentClient, Refused, Unreachable
from infradex.background import Loop
from infradex.catalog.models import Check
from infradex.clock import utcnow
from infradex.monitor.checks import CheckDef, CheckResult, check_def, run_check
from infradex.monitor.scheduler import Scheduler
from infradex.monitor.service import observed_of
from infradex.netpolicy import DEFAULT_POLICY, AddressPolicy

__all__ = ["BATCH_SIZE", "ProbeAgent", "result_for_server"]

log = logging.getLogger("infradex.agent")

BATCH_SIZE = 500
ASSIGNMENTS_EVERY = 30.0
SEND_EVERY = 1.0
HEARTBEAT_EVERY = 30.0


def result_for_server(result: CheckResult, observed_at: datetime) -> dict[str, Any]:
    """One result as the agent API takes it (JSON-ready)."""
    return {
        "check_id": result.check_id,
        "observed_at": observed_at.isoformat(),
        "success": result.success,
        "duration_ms": result.duration_ms,
        "error_kind": result.error_kind,
        "message": result.message[:2000],
        "observed": observed_of(result),
    }


class ProbeAgent:
    def __init__(
        self,
        client: AgentClient,
        buffer: ResultBuffer,
        *,
        ca_file: str | None = None,
        policy: AddressPolicy = DEFAULT_POLICY,
        concurrency: int = 200,
        clock: Callable[[], datetime] = utcnow,
        assignments_every: float = ASSIGNMENTS_EVERY,
        send_every: float = SEND_EVERY,
        heartbeat_every: float = HEARTBEAT_EVERY,
    ) -> None:
        self.client = client
        self.buffer = buffer
        self.ca_file = ca_file
        self.policy = policy
        self._clock = clock
        self.scheduler = Scheduler(self._run, concurrency)
        self.checks: dict[str, CheckDef] = {}
        self.etag: str | None = None
        self.sent = 0  # results the server has answered for
        self.discarded = 0  # results in batches the server could not take at all
        self._saved = buffer.path.with_name(buffer.path.name + ".assignments.json")
        self._sender = Loop("agent sender", send_every, self.send, first_wait=0, log=log)
        self._loops = [
            Loop("agent assignments", assignments_every, self.pull, first_wait=0, log=log),
            self._sender,
            Loop("agent heartbeat", heartbeat_every, self.beat, first_wait=0, log=log),
        ]
        self._scheduler_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._load_saved()
        self._scheduler_task = asyncio.create_task(
            self.scheduler.run_forever(), name="agent scheduler"
        )
        for loop in self._loops:
            loop.start()
        log.info("agent for %s started", self.client.location)

    async def stop(self) -> None:
        await self.scheduler.stop()
        if self._scheduler_task is not None:
            self._scheduler_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._scheduler_task
        for loop in self._loops:
            await loop.stop()
        with contextlib.suppress(Unreachable, Refused):
            await self.send()  # what is left goes now if it can; the buffer keeps the rest
        await self.client.close()

    # ------------------------------------------------------------------ assignments
    async def pull(self) -> None:
        try:
            fetched = await self.client.assignments(self.etag)
        except (Unreachable, Refused) as exc:
            log.warning("cannot fetch assignments, running the last ones: %s", exc)
            return
        if fetched is None:
            return
        self._apply(fetched.checks)
        self.etag = fetched.etag
        self._saved.write_text(json.dumps(fetched.checks), encoding="utf-8")

    def _apply(self, assignments: list[dict[str, Any]]) -> None:
        checks = []
        for item in assignments:
            try:
                check = Check.model_validate(item["check"])
            except (KeyError, ValueError) as exc:
                log.error("assignment %s is not a check this agent can run: %s", item, exc)
                continue
            made = check_def(item["owner"], check, item.get("title", ""), self.ca_file, self.policy)
            checks.append(made)
        self.checks = {c.id: c for c in checks}
        counts = self.scheduler.update(checks)
        log.info("assignments for %s: %d checks %s", self.client.location, len(checks), counts)

    def _load_saved(self) -> None:
        if self._saved.is_file():
            with contextlib.suppress(ValueError, OSError):
                self._apply(json.loads(self._saved.read_text(encoding="utf-8")))

    # ------------------------------------------------------------------ results
    async def _run(self, check: CheckDef, due: float) -> None:
        observed_at = self._clock()
        result = await run_check(check)
        self.buffer.append([result_for_server(result, observed_at)])
        self._sender.wake()

    async def send(self) -> None:
        """Push batches until the buffer is empty or the server cannot take more."""
        while (batch := self.buffer.next_batch(BATCH_SIZE)) is not None:
            try:
                answer = await self.client.send(batch.results, batch.dropped)
            except Unreachable as exc:
                log.warning("server unreachable, %d result(s) kept: %s", len(self.buffer), exc)
                return
            except Refused as exc:
                if not exc.permanent:
                    log.error("the server refuses this agent (results kept): %s", exc)
                    return
                log.error("the server cannot take a batch; discarding it: %s", exc)
                self.discarded += len(batch.results)
                self.buffer.acknowledge(batch)
                continue
            self.buffer.acknowledge(batch)
            self.sent += len(batch.results)
            if answer.get("refused"):
                log.warning("server refused %s", answer.get("refused_counts"))

    async def beat(self) -> None:
        try:
            answer = await self.client.heartbeat(self._clock())
        except (Unreachable, Refused) as exc:
            log.warning("heartbeat failed: %s", exc)
            return
        offset = answer.get("clock_offset_ms")
        if isinstance(offset, int | float) and abs(offset) > 30_000:
            log.warning("this machine's clock is %.1f s off the server's: check NTP", offset / 1000)
