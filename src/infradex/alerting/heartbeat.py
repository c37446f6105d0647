"""The dead man's switch: while alerting runs, call a URL every minute (``INFRADEX_HEARTBEAT_URL``,
e.g. a healthchecks.io check or a Cronitor monitor). When the calls stop, the service outside
pages someone: the one failure infradex cannot report itself is its own death."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from infradex.background import Loop
from infradex.probes.base import ProbeRequest
from infradex.probes.registry import probe_for

__all__ = ["Heartbeat"]

log = logging.getLogger("infradex.alerting")

EVERY = 60.0


@dataclass(slots=True)
class Heartbeat:
    url: str
    every: float = EVERY
    ca_file: str | None = None
    #: whether alerting is working (a recent good turn); no beat when it is not, so the
    #: switch outside fires for a stuck alerter too, not only a dead process
    healthy: Callable[[], bool] = lambda: True
    beats: int = 0
    failures: int = 0
    last_error: str | None = None
    _loop: Loop | None = None

    @property
    def where(self) -> str:
        """The URL without its path and query (heartbeat URLs often carry a secret)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/…"

    async def beat(self) -> bool:
        if not self.healthy():
            self.failures += 1
            self.last_error = "alerting is not working: no beat"
            log.error("heartbeat withheld: alerting has not completed a turn recently")
            return False
        request = ProbeRequest(self.url, timeout=10.0, ca_file=self.ca_file)
        observation = await probe_for(self.url)(request)
        status = observation.values.get("STATUS")
        if observation.ok and isinstance(status, int) and status < 400:
            self.beats += 1
            self.last_error = None
            return True
        self.failures += 1
        self.last_error = observation.error or f"HTTP {status}"
        log.warning("heartbeat to %s failed: %s", self.where, self.last_error)
        return False

    def start(self) -> None:
        # the first beat waits a little: alerting finishes its first turn meanwhile
        self._loop = Loop("heartbeat", self.every, self.beat, first_wait=min(5.0, self.every))
        self._loop.start()

    async def stop(self) -> None:
        if self._loop is not None:
            await self._loop.stop()
            self._loop = None
