"""The octoDNS provider behind each DNS Provider of the catalog.

Catalog text arrives by pull request, so it may not choose what code runs: a Provider names
an octoDNS class (``octodns: {class: octodns_route53.Route53Provider, ...}``), and the class
is imported only when the server allows it (:data:`DEFAULT_CLASSES`, plus the operator's
``INFRADEX_DNS_PROVIDER_CLASSES``). Credentials are ``env:``/``file:`` references resolved
here, at use; a provider that names a ``host`` is held to the monitor's address policy, since
the catalog chose that address too.
"""

from __future__ import annotations

import importlib
import logging
import socket
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from infradex.catalog import Catalog, Entity
from infradex.catalog.models import ProviderSpec, ZoneSpec
from infradex.catalog.refs import parse_ref
from infradex.errors import InfradexError, NotFoundError
from infradex.netpolicy import AddressPolicy
from infradex.secretrefs import MissingSecret, is_reference, resolve
from infradex.settings import Settings

__all__ = [
    "DEFAULT_CLASSES",
    "DnsProviderError",
    "ZoneTarget",
    "build_provider",
    "error_text",
    "provider_factory",
    "zone_targets",
]

#: the octoDNS classes a server runs without being told: BIND over RFC 2136 and AXFR, Route 53
DEFAULT_CLASSES = frozenset(
    {
        "octodns_bind.Rfc2136Provider",
        "octodns_bind.AxfrSource",
        "octodns_route53.Route53Provider",
    }
)


class DnsProviderError(InfradexError):
    """A DNS provider cannot be built or reached; the message says what to fix."""


@dataclass(frozen=True, slots=True)
class ZoneTarget:
    """A catalog zone and the Provider that hosts it."""

    zone: Entity[ZoneSpec]
    provider: Entity[ProviderSpec]

    @property
    def name(self) -> str:
        """The zone's DNS name with octoDNS's trailing dot (``python.org.``)."""
        return self.zone.name.rstrip(".") + "."


def zone_targets(catalog: Catalog, names: Sequence[str] = ()) -> list[ZoneTarget]:
    """The zones to work on (all, or those named, with or without the trailing dot), each
    with its provider; a zone whose provider has no ``octodns`` settings is an error that
    says what to write."""
    zones = {z.name.rstrip("."): z for z in catalog.of_kind("zone")}
    wanted = [n.rstrip(".") for n in names] or sorted(zones)
    out = []
    for name in wanted:
        zone = zones.get(name)
        if zone is None:
            known = ", ".join(sorted(zones)) or "none"
            raise NotFoundError(f"no zone {name!r} in the catalog (zones: {known})")
        provider = catalog.typed(parse_ref(zone.spec.provider, ("provider",)), ProviderSpec)
        if provider.spec.octodns is None:
            raise DnsProviderError(
                f"{zone.ref} is hosted by {provider.ref}, which has no `octodns` settings; "
                "add e.g. `octodns: {class: octodns_route53.Route53Provider, access_key_id: "
                "env:AWS_ACCESS_KEY_ID, secret_access_key: env:AWS_SECRET_ACCESS_KEY}` to its "
                "spec (docs/dns.md)"
            )
        out.append(ZoneTarget(zone, provider))
    return out


def error_text(exc: BaseException) -> str:
    """A foreign error as a reader can place it: ``KeyError: 'IsTruncated'``, not a bare
    ``'IsTruncated'``; errors whose message says enough on its own keep only the message."""
    message = str(exc)
    if not message:
        return type(exc).__name__
    if isinstance(exc, (LookupError, AttributeError, TypeError, ValueError)):
        return f"{type(exc).__name__}: {message}"
    return message


def _setting(provider: Entity, key: str, value: Any, environ: Mapping[str, str] | None) -> Any:
    if not is_reference(value):
        return value
    try:
        return resolve(value, f"{provider.ref}'s octodns.{key}", environ)
    except MissingSecret as exc:
        raise DnsProviderError(str(exc)) from None


def _addresses(host: str) -> Iterable[str]:
    try:
        return {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
    except OSError as exc:
        raise DnsProviderError(f"cannot resolve the DNS provider's host {host!r}: {exc}") from None


def build_provider(
    provider: Entity[ProviderSpec],
    *,
    allowed: frozenset[str] = DEFAULT_CLASSES,
    policy: AddressPolicy | None = None,
    environ: Mapping[str, str] | None = None,
) -> Any:
    """The octoDNS provider (or source) instance ``provider``'s ``octodns`` settings
    describe, with references resolved. Raises :class:`DnsProviderError` when the class is
    not allowed or not installed, a secret is missing, the settings do not fit the class, or
    its host is an address the policy denies."""
    config = provider.spec.octodns
    if config is None:
        raise DnsProviderError(f"{provider.ref} has no `octodns` settings (docs/dns.md)")
    name = config.provider_class
    if name not in allowed:
        raise DnsProviderError(
            f"{provider.ref} names the octoDNS class {name}, which this server does not run "
            f"(allowed: {', '.join(sorted(allowed))}); an operator can allow it with "
            "INFRADEX_DNS_PROVIDER_CLASSES (the catalog cannot: it comes by pull request)"
        )
    settings = {k: _setting(provider, k, v, environ) for k, v in config.settings.items()}
    host = settings.get("host")
    if isinstance(host, str) and policy is not None:
        for address in sorted(_addresses(host)):
            refused = policy.denied_by(address)
            if refused is not None:
                raise DnsProviderError(
                    f"{provider.ref}'s host {host} is {address}, which INFRADEX_MONITOR_DENY "
                    f"refuses ({refused}); allow it with INFRADEX_MONITOR_ALLOW if it is "
                    "really your DNS server"
                )
    module_name, _, class_name = name.rpartition(".")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError):
        package = module_name.split(".")[0].replace("_", "-")
        raise DnsProviderError(
            f"{provider.ref} needs {name}, which is not installed; pip install {package}"
        ) from None
    try:
        return cls(provider.name, **settings)
    except TypeError as exc:
        raise DnsProviderError(
            f"{provider.ref}'s octodns settings do not fit {name}: {exc}; see that "
            "provider's documentation for its settings"
        ) from None


def provider_factory(settings: Settings) -> Callable[[Entity[ProviderSpec]], Any]:
    """Builds each zone's octoDNS provider as the operator allows: the classes of
    :data:`DEFAULT_CLASSES` and ``INFRADEX_DNS_PROVIDER_CLASSES``, the monitor's address
    policy."""
    allowed = DEFAULT_CLASSES | settings.dns_provider_classes
    # octoDNS logs notes (an unmanaged root NS, say) to the root logger; problems reach the
    # user as errors, so its chatter stays off the terminal and out of the server's log
    logging.getLogger().addHandler(logging.NullHandler())

    def build(provider: Entity[ProviderSpec]) -> Any:
        return build_provider(provider, allowed=allowed, policy=settings.monitor_policy)

    return build
