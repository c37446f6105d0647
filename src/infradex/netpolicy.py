"""Which addresses the monitor may reach: ``INFRADEX_MONITOR_ALLOW`` / ``INFRADEX_MONITOR_DENY``.

A leaf (no infradex imports): settings parse it, validation is given it, the probes enforce it
after DNS resolution, on the very address they then connect to.

The rule, for one address: find the most specific (longest prefix) network that contains it
in each list. Denied when a deny network contains it and no allow network containing it is
*more* specific; at equal prefix length deny wins. So ``DENY=10.0.0.0/8`` with
``ALLOW=10.1.2.0/24`` reaches 10.1.2.3 and nothing else in 10/8, and ``ALLOW=0.0.0.0/0``
cannot undo a default deny of 169.254.0.0/16.

Default deny: link-local (169.254.0.0/16, fe80::/10) and the cloud metadata addresses. Everything
else is allowed, so internal monitoring and local demos on 127.0.0.1 keep working; a deployment
adds private ranges to the deny list if its monitor must not reach them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "DEFAULT_DENY",
    "DEFAULT_POLICY",
    "INTERNAL",
    "AddressPolicy",
    "PolicyError",
    "parse_networks",
]

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

#: the deny list when INFRADEX_MONITOR_DENY is not set (``default`` in the variable means these)
DEFAULT_DENY = (
    "169.254.0.0/16",  # IPv4 link-local, including 169.254.169.254 (AWS, GCP, Azure, OpenStack)
    "fe80::/10",  # IPv6 link-local
    "fd00:ec2::254/128",  # AWS metadata over IPv6
    "100.100.100.200/32",  # Alibaba Cloud metadata
    "192.0.0.192/32",  # Oracle Cloud metadata (older)
)


#: the ranges no stranger's URL may reach (a status-page subscriber's webhook): loopback,
#: private, shared, link-local, multicast and reserved networks (RFC 6890's special ranges)
INTERNAL = (
    "0.0.0.0/8",
    "10.0.0.0/8",
    "100.64.0.0/10",
    "127.0.0.0/8",
    "172.16.0.0/12",
    "192.0.0.0/24",
    "192.168.0.0/16",
    "198.18.0.0/15",
    "224.0.0.0/4",
    "240.0.0.0/4",
    "::/128",
    "::1/128",
    "64:ff9b:1::/48",
    "fc00::/7",
    "ff00::/8",
)


class PolicyError(ValueError):
    """A range that does not parse; the message says how to write it."""


def parse_networks(text: str, variable: str) -> tuple[Network, ...]:
    """``"10.0.0.0/8, fd00::/8 default"`` → networks. ``default`` stands for
    :data:`DEFAULT_DENY`, ``none`` for nothing; a bare address is a /32 or /128."""
    found: list[Network] = []
    for word in text.replace(",", " ").split():
        if word.lower() == "default":
            found.extend(ipaddress.ip_network(n) for n in DEFAULT_DENY)
            continue
        if word.lower() == "none":
            continue
        try:
            found.append(ipaddress.ip_network(word, strict=False))
        except ValueError:
            raise PolicyError(
                f"{variable}: {word!r} is not an address range; write CIDR ranges separated by "
                "commas, e.g. 10.0.0.0/8,fd00::/8 (or `default`, or `none`)"
            ) from None
    return tuple(found)


def _address(ip: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(ip.split("%", 1)[0])  # drop an IPv6 scope (fe80::1%eth0)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    return address


def _best(networks: Iterable[Network], ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> int:
    """The longest prefix among ``networks`` containing ``ip``; -1 if none does."""
    return max((n.prefixlen for n in networks if n.version == ip.version and ip in n), default=-1)


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Where the monitor may connect. Frozen and hashable: probe requests carry it."""

    allow: tuple[Network, ...] = ()
    deny: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in DEFAULT_DENY)

    @classmethod
    def from_text(cls, allow: str | None, deny: str | None) -> AddressPolicy:
        """From the two variables' values; an unset or empty deny list means the default."""
        return cls(
            allow=parse_networks(allow or "", "INFRADEX_MONITOR_ALLOW"),
            deny=parse_networks(
                deny if deny and deny.strip() else "default", "INFRADEX_MONITOR_DENY"
            ),
        )

    def without_internal(self, allow: tuple[Network, ...]) -> AddressPolicy:
        """This policy's deny list plus :data:`INTERNAL`, with ``allow`` (only) as the
        exceptions: for URLs that strangers give (a subscriber's webhook)."""
        internal = tuple(ipaddress.ip_network(n) for n in INTERNAL)
        return AddressPolicy(allow=allow, deny=self.deny + internal)

    def denied_by(self, ip: str) -> str | None:
        """The deny range that refuses ``ip`` (e.g. ``"169.254.0.0/16"``), or None if the
        monitor may connect to it. Something that is not an address is refused: a probe only
        ever asks about the address it is about to connect to."""
        address = _address(ip)
        if address is None:
            return "not an address"
        denied = _best(self.deny, address)
        if denied < 0 or _best(self.allow, address) > denied:
            return None
        return next(
            str(n)
            for n in self.deny
            if n.version == address.version and address in n and n.prefixlen == denied
        )

    def refusal(self, ip: str) -> str | None:
        """The message a probe reports for a denied address, or None when it is allowed."""
        network = self.denied_by(ip)
        if network is None:
            return None
        return (
            f"target address {ip} denied by INFRADEX_MONITOR_DENY ({network}); the monitor "
            "did not connect. Aim the check elsewhere, or allow the address with "
            "INFRADEX_MONITOR_ALLOW (a range more specific than the deny range)"
        )


#: what probes use when nobody passed a policy (the defaults above)
DEFAULT_POLICY = AddressPolicy()
