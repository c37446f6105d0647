"""Probes: look at one target once and report what was seen.

``probe_for(url)`` picks the probe by URL scheme (``http``/``https``, ``tcp``, ``tls``,
``dns``); ``await probe(ProbeRequest(url, ...))`` returns an :class:`Observation` and never
raises for anything the target does: failures come back as an :class:`ErrorKind` with the
real reason's text. Judging the observation (conditions, incidents) happens elsewhere.
"""

from infradex.probes.base import ErrorKind, Observation, ProbeRequest
from infradex.probes.registry import probe_for

__all__ = ["ErrorKind", "Observation", "ProbeRequest", "probe_for"]
