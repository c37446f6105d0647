"""``dns-drift://ZONE``: does the live zone still serve what the catalog says? Down when it
differs, with the differing records in the message (a hand edit in the provider's console,
or catalog changes not applied yet); docs/dns.md#drift-as-a-check.

The zone, its provider and its records come with the request (``ProbeRequest.zone``, built
by the monitor from the catalog: ``infradex.dns.drift``), so the probe imports nothing of
``dns``. octoDNS reads the live zone synchronously, so the probe
runs it in a worker thread; the provider's own ``timeout`` bounds that thread, the check's
``timeout`` bounds the wait for it.
"""

from __future__ import annotations

import asyncio
import time

from infradex.errors import InfradexError
from infradex.probes.base import ErrorKind, Observation, ProbeRequest

__all__ = ["probe"]


async def probe(request: ProbeRequest) -> Observation:
    started = time.monotonic()
    observation = Observation()
    zone = request.zone
    try:
        if zone is None:
            return observation.fail(
                ErrorKind.ERROR,
                "a dns-drift check compares a catalog zone with its provider: declare it in "
                "the catalog (a check with url: dns-drift://ZONE) and let the monitor run it",
            )
        try:
            changes, said = await asyncio.to_thread(zone.differences, request.policy)
        except InfradexError as exc:  # the provider cannot be built or read: the text says why
            return observation.fail(ErrorKind.ERROR, str(exc))
        observation.details["changes"] = changes
        observation.values["DRIFT"] = len(changes)
        if changes:
            return observation.fail(ErrorKind.DRIFT, said)
        return observation
    finally:
        observation.phases["total"] = time.monotonic() - started
