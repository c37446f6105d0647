"""Who the client is: the peer's address, or, behind a reverse proxy the settings trust
(``INFRADEX_TRUSTED_PROXIES``), the address that proxy saw. A forwarded header from anyone
else is ignored: believed, it would let a client pick the address sign-in limits count."""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

__all__ = ["client_address"]

Networks = Sequence[IPv4Network | IPv6Network]


def _trusted(address: str, networks: Networks) -> bool:
    try:
        ip = ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: Networks) -> str | None:
    """Walk ``X-Forwarded-For`` from the right while the hop that added the entry is a
    trusted proxy; the first entry not added by one is the client (pure)."""
    if peer is None or not trusted or not forwarded_for or not _trusted(peer, trusted):
        return peer
    address = peer
    for hop in reversed([h.strip() for h in forwarded_for.split(",")]):
        if not _trusted(address, trusted):
            break
        try:
            address = str(ip_address(hop))
        except ValueError:
            break  # garbage from before the trusted proxies: the last good hop stands
    return address
