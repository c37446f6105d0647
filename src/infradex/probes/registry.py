"""Which probe looks at which URL scheme: one table, written out.

The table imports every probe module, so nothing else needs to (and ``base`` imports none of
them: a probe module needs ``base``, never the other way round)."""

from __future__ import annotations

from infradex.probes import dns, dns_drift, http, statuspage, tcp, tls
from infradex.probes.base import Probe

__all__ = ["PROBES", "probe_for", "schemes"]

#: URL scheme → the probe that handles it
PROBES: dict[str, Probe] = {
    "dns": dns.probe,
    "dns-drift": dns_drift.probe,
    "http": http.probe,
    "https": http.probe,
    "statuspage": statuspage.probe,
    "tcp": tcp.probe,
    "tls": tls.probe,
}


def schemes() -> list[str]:
    """The URL schemes a check may use, sorted."""
    return sorted(PROBES)


def probe_for(url: str) -> Probe:
    """The probe for this URL's scheme; ``KeyError`` (saying which schemes exist) if none."""
    scheme = url.partition(":")[0].lower()
    try:
        return PROBES[scheme]
    except KeyError:
        raise KeyError(
            f"no probe for {scheme}:// URLs; use one of "
            + ", ".join(f"{s}://" for s in sorted(PROBES))
        ) from None
