"""Warnings that compare the catalog's zones with what the catalog says about the names in
them (``infradex validate``; :func:`infradex.lint.lint` adds them): a record for a name no
service claims, a CDN in DNS that the service does not declare (or declared and bypassed),
an address that no host or provider has, no CAA where TLS is served, an MX that points at no
mail service, and a ``dns-drift`` check that cannot compare its zone. Pure: the catalog in,
problems out; docs/catalog.md lists what each check skips and why.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from infradex.catalog.entities import Catalog, Entity, has_spec
from infradex.catalog.models import ProviderSpec, ServiceSpec, ZoneSpec
from infradex.catalog.problems import Problem
from infradex.catalog.refs import Ref, RefError, parse_ref
from infradex.catalog.specs import spec_checks
from infradex.catalog.zones import RecordSet, record_name, record_sets
from infradex.dns.drift import drift_target

__all__ = ["dns_warnings"]

#: record types at the apex that serve the zone itself, not a service: delegation, start of
#: authority, mail routing, certificate policy, and verification or SPF text
_ZONE_ITSELF = frozenset({"NS", "SOA", "MX", "CAA", "TXT", "SPF"})
#: record types that delegate a name (a child zone), at any name
_DELEGATION = frozenset({"NS", "DS"})
#: record types that point a name at the machines that serve it
_ADDRESS = frozenset({"A", "AAAA"})
_ALIAS = frozenset({"CNAME", "ALIAS"})
_TLS_SCHEMES = frozenset({"https", "tls"})

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class _Edge:
    """Where a CDN (or any provider or service in front of others) answers: the names a
    CNAME into it ends in, and the networks an A record to it lies in."""

    ref: Ref
    domains: tuple[str, ...]
    networks: tuple[Network, ...]

    def has_name(self, name: str) -> bool:
        return any(name == d or name.endswith("." + d) for d in self.domains)

    def has_address(self, address: Address) -> bool:
        return any(address in network for network in self.networks)


def dns_warnings(catalog: Catalog) -> Iterator[Problem]:
    """Every DNS cross-check warning about ``catalog`` (zones whose records were valid)."""
    edges = _edges(catalog)
    known = _known_networks(catalog)
    targets = {t for records in catalog.zone_records.values() for r in record_sets(records)
               for t in r.targets}  # fmt: skip
    host_addresses = _host_addresses(catalog)
    tls_zones = _tls_zones(catalog)
    for zone in catalog.of_kind("zone"):
        records = catalog.zone_records.get(zone.name)
        if records is None:
            continue  # its records have errors, reported already
        sets = record_sets(records)
        yield from _unclaimed(catalog, zone, sets, targets, host_addresses)
        yield from _undeclared_cdn(catalog, zone, sets, edges)
        if known:
            yield from _unknown_addresses(catalog, zone, sets, known)
        yield from _mail(catalog, zone, sets, edges)
        if zone.name in tls_zones and not any(r.type == "CAA" and not r.name for r in sets):
            yield _zone_problem(
                zone,
                "no-caa",
                f"zone {zone.name} serves TLS ({tls_zones[zone.name]}) but has no CAA record "
                "at its apex, so any certificate authority may issue certificates for its names",
                f"add a CAA record at the apex of {zone.name} naming the authorities you use, "
                "e.g. `'': {type: CAA, value: {flags: 0, tag: issue, value: letsencrypt.org}}`",
            )
    for service in catalog.of_kind("service"):
        yield from _cdn_bypassed(catalog, service, edges)
    checked: list[Entity] = [*catalog.of_kind("service"), *catalog.of_kind("provider")]
    for entity in checked:
        yield from _drift_checks(catalog, entity)


def _fqdn(zone: str, name: str) -> str:
    return f"{name}.{zone}".lower() if name else zone.lower()


def _record_problem(
    catalog: Catalog, zone: Entity[ZoneSpec], name: str, code: str, message: str, hint: str
) -> Problem:
    """A warning located at the record's line (in the zone file, or inline in the Zone)."""
    file, line = catalog.record_places.get(zone.name, {}).get(name, (zone.file, zone.line))
    field = "spec.file" if zone.spec.file is not None else "spec.records"
    return Problem("warning", code, message, hint, file, line, None, str(zone.ref), field)


def _zone_problem(zone: Entity[ZoneSpec], code: str, message: str, hint: str) -> Problem:
    path = ("spec", "file") if zone.spec.file is not None else ("spec", "records")
    return zone.problem("warning", code, message, hint, path)


def _shown(name: str) -> str:
    return f"record {name!r}" if name else "the apex record"


# ----------------------------------------------------------------------- unclaimed names
def _unclaimed(
    catalog: Catalog,
    zone: Entity[ZoneSpec],
    sets: Sequence[RecordSet],
    targets: set[str],
    host_addresses: set[Address],
) -> Iterator[Problem]:
    """A name with records that no service claims, none of the catalog's records points at,
    and whose addresses are no host's: left over, or a service missing from the catalog."""
    by_name: dict[str, list[RecordSet]] = {}
    for record in sets:
        by_name.setdefault(record.name, []).append(record)
    for name, records in by_name.items():
        fqdn = _fqdn(zone.name, name)
        if name.split(".")[0].startswith("_"):
            continue  # an underscored name (DKIM, DMARC, ACME, SRV) describes its parent
        if catalog.service_for_domain(fqdn) is not None or fqdn in targets:
            continue
        kept = {
            r.type
            for r in records
            if r.type not in _DELEGATION
            and not (not name and r.type in _ZONE_ITSELF)
            and not (r.type in _ADDRESS and _all_in(r.values, host_addresses))
        }
        if not kept:
            continue
        yield _record_problem(
            catalog,
            zone,
            name,
            "unclaimed-record",
            f"{_shown(name)} ({', '.join(sorted(kept))}): no service claims {fqdn}, "
            "and no record in the catalog points at it",
            f"add {fqdn} to the `domains` of the service it serves, or remove the record if "
            "nothing uses it any more",
        )


def _all_in(values: Sequence[object], addresses: set[Address]) -> bool:
    parsed = [_address(v) for v in values]
    return bool(parsed) and all(a is not None and a in addresses for a in parsed)


def _address(value: object) -> Address | None:
    try:
        return ipaddress.ip_address(str(value))
    except ValueError:
        return None


def _host_addresses(catalog: Catalog) -> set[Address]:
    return {
        ipaddress.ip_interface(a).ip
        for host in catalog.of_kind("host")
        for a in host.spec.addresses
    }


# ------------------------------------------------------------------------- CDNs
def _provider_edge(provider: Entity[ProviderSpec]) -> _Edge:
    spec = provider.spec
    return _Edge(
        provider.ref,
        tuple(d.rstrip(".").lower() for d in spec.edge_domains),
        tuple(ipaddress.ip_network(a, strict=False) for a in spec.addresses),
    )


def _edges(catalog: Catalog) -> dict[Ref, _Edge]:
    """Every provider that says where it answers (``edgeDomains``, ``addresses``)."""
    return {
        p.ref: _provider_edge(p)
        for p in catalog.of_kind("provider")
        if p.spec.edge_domains or p.spec.addresses
    }


def _front_edges(catalog: Catalog, service: Entity[ServiceSpec]) -> list[_Edge]:
    """Where the service's ``frontedBy`` answer: a provider's edge, or a service's domains."""
    out = []
    for text in service.spec.fronted_by:
        try:
            ref = parse_ref(text, ("provider", "service"))
        except RefError:
            continue  # an error of the reference pass already
        entity = catalog.entities.get(ref)
        if entity is not None and has_spec(entity, ProviderSpec):
            out.append(_provider_edge(entity))
        elif entity is not None and has_spec(entity, ServiceSpec):
            domains = tuple(d.rstrip(".").lower() for d in entity.spec.domains)
            out.append(_Edge(ref, domains, ()))
    return out


def _undeclared_cdn(
    catalog: Catalog, zone: Entity[ZoneSpec], sets: Sequence[RecordSet], edges: dict[Ref, _Edge]
) -> Iterator[Problem]:
    """A service's name sent to a CDN the service does not list in ``frontedBy``: the
    catalog would not know that a CDN outage takes it down, nor who to call."""
    for record in sets:
        fqdn = _fqdn(zone.name, record.name)
        owner = catalog.service_for_domain(fqdn)
        if owner is None:
            continue  # unclaimed: that warning says enough
        service = catalog.typed(owner, ServiceSpec)
        declared = {e.ref for e in _front_edges(catalog, service)}
        for edge in edges.values():
            if edge.ref in declared or not _is_cdn(catalog, edge.ref):
                continue
            via = _points_into(record, edge)
            if via:
                yield _record_problem(
                    catalog,
                    zone,
                    record.name,
                    "undeclared-cdn",
                    f"{_shown(record.name)} sends {fqdn} to {edge.ref} ({via}), but "
                    f"{owner} does not list it in `frontedBy`",
                    f"add `{edge.ref}` to the `frontedBy` of {owner}, or point {fqdn} at the "
                    "service's own hosts",
                )


def _is_cdn(catalog: Catalog, ref: Ref) -> bool:
    """A provider of type cdn, or one that fronts some service in the catalog."""
    provider = catalog.find(ref, ProviderSpec)
    return provider is not None and (
        provider.spec.type == "cdn" or bool(catalog.related(ref, "fronts"))
    )


def _points_into(record: RecordSet, edge: _Edge) -> str:
    """How ``record`` points into ``edge`` (its target or address), or '' if it does not."""
    if record.type in _ALIAS:
        return next((f"{t}." for t in record.targets if edge.has_name(t)), "")
    if record.type in _ADDRESS:
        hits = [a for a in map(_address, record.values) if a is not None and edge.has_address(a)]
        return str(hits[0]) if hits else ""
    return ""


def _cdn_bypassed(
    catalog: Catalog, service: Entity[ServiceSpec], edges: dict[Ref, _Edge]
) -> Iterator[Problem]:
    """A service that says a CDN fronts it, whose name in DNS goes elsewhere: either the CDN
    is no longer in front (and the catalog is wrong), or the name bypasses it."""
    fronts = [e for e in _front_edges(catalog, service) if e.domains or e.networks]
    if not fronts:
        return  # no fronting entity says where it answers: nothing to compare
    for i, domain in enumerate(service.spec.domains):
        fqdn = domain.rstrip(".").lower()
        found = _records_of(catalog, fqdn)
        if found is None:
            continue  # no zone serves it, or no record: unserved-domain says so
        pointing = [r for r in found if r.type in _ALIAS or r.type in _ADDRESS]
        # an address record says nothing when the CDN lists no addresses: we cannot tell
        judged = [r for r in pointing if r.type in _ALIAS or any(e.networks for e in fronts)]
        if not judged or any(_points_into(r, e) for r in judged for e in fronts):
            continue
        shown = "; ".join(f"{r.type} {', '.join(map(str, r.values))}" for r in judged)
        names = ", ".join(str(e.ref) for e in fronts)
        yield service.problem(
            "warning",
            "cdn-bypassed",
            f"{fqdn} is fronted by {names} (`frontedBy`), but its records ({shown}) do not "
            "point there",
            f"point {fqdn} at {names} (a CNAME into its edge domains), or remove it from "
            "`frontedBy` if it no longer fronts this service",
            ("spec", "domains", i),
        )


def _records_of(catalog: Catalog, fqdn: str) -> list[RecordSet] | None:
    """The records of ``fqdn`` in the zone that serves it (the longest suffix), if any."""
    labels = fqdn.split(".")
    for start in range(len(labels)):
        zone = ".".join(labels[start:])
        if zone in catalog.zone_records:
            name = record_name(zone, fqdn)
            found = [r for r in record_sets(catalog.zone_records[zone]) if r.name == name]
            return found or None
    return None


# ------------------------------------------------------------------- addresses
def _known_networks(catalog: Catalog) -> list[Network]:
    """Every address the catalog knows: hosts' ``addresses`` and providers' ``addresses``."""
    out: list[Network] = [ipaddress.ip_network(a) for a in _host_addresses(catalog)]
    for provider in catalog.of_kind("provider"):
        out.extend(ipaddress.ip_network(a, strict=False) for a in provider.spec.addresses)
    return out


def _unknown_addresses(
    catalog: Catalog, zone: Entity[ZoneSpec], sets: Sequence[RecordSet], known: list[Network]
) -> Iterator[Problem]:
    """A/AAAA values that no host or provider of the catalog has (checked only when the
    catalog lists addresses at all: one that publishes none has nothing to compare)."""
    for record in sets:
        if record.type not in _ADDRESS:
            continue
        unknown = [
            str(v)
            for v in record.values
            if (a := _address(v)) is not None and not any(a in n for n in known)
        ]
        if unknown:
            yield _record_problem(
                catalog,
                zone,
                record.name,
                "unknown-address",
                f"{_shown(record.name)} ({record.type}) points at {', '.join(unknown)}, "
                "which no host or provider in the catalog has",
                "add the address to the `addresses` of the Host (or the Provider) that answers "
                "there, or fix the record",
            )


# ------------------------------------------------------------------- drift checks
def _drift_checks(catalog: Catalog, entity: Entity) -> Iterator[Problem]:
    """A ``dns-drift://ZONE`` check that cannot compare its zone would only ever be down."""
    for i, check in enumerate(spec_checks(entity)):
        parts = urlsplit(check.url)
        if parts.scheme != "dns-drift":
            continue
        problem = drift_target(catalog, parts.hostname or "", frozenset()).problem
        if problem is not None:
            yield entity.problem(
                "warning",
                "drift-check",
                f"check {check.name} cannot compare its zone, so it will always be down: {problem}",
                "name a zone of the catalog whose provider has `octodns` settings "
                "(docs/dns.md#drift-as-a-check)",
                ("spec", "checks", i, "url"),
            )


# ------------------------------------------------------------------- TLS and mail
def _tls_zones(catalog: Catalog) -> dict[str, str]:
    """Zones that serve TLS, each with an example why: a service with an https:// or tls://
    check has its domains there, or such a check's host is in it."""
    zones = sorted(catalog.zone_records, key=len, reverse=True)  # the longest suffix first

    def zone_of(name: str) -> str | None:
        return next((z for z in zones if name == z or name.endswith("." + z)), None)

    found: dict[str, str] = {}
    checked: list[Entity] = [*catalog.of_kind("service"), *catalog.of_kind("provider")]
    for entity in checked:
        schemes = sorted({s for c in spec_checks(entity) if (s := urlsplit(c.url).scheme)
                          in _TLS_SCHEMES})  # fmt: skip
        if not schemes:
            continue
        names = [urlsplit(c.url).hostname or "" for c in spec_checks(entity)
                 if urlsplit(c.url).scheme in _TLS_SCHEMES]  # fmt: skip
        if has_spec(entity, ServiceSpec):
            names += [d.rstrip(".").lower() for d in entity.spec.domains]
        for name in names:
            zone = zone_of(name.lower())
            if zone is not None:
                why = f"{name.lower()}, of {entity.ref}, checked over {' and '.join(schemes)}"
                found.setdefault(zone, why)
    return found


def _mail(
    catalog: Catalog, zone: Entity[ZoneSpec], sets: Sequence[RecordSet], edges: dict[Ref, _Edge]
) -> Iterator[Problem]:
    """An MX whose exchange is no service's name nor in a provider's edge domains: mail
    goes to a machine nobody in the catalog answers for (or nowhere)."""
    for record in sets:
        if record.type != "MX":
            continue
        for exchange in record.targets:
            if not exchange:
                continue  # a null MX ('.', RFC 7505): the zone takes no mail, on purpose
            if catalog.service_for_domain(exchange) is not None:
                continue
            if any(edge.has_name(exchange) for edge in edges.values()):
                continue
            yield _record_problem(
                catalog,
                zone,
                record.name,
                "mx-without-mail",
                f"{_shown(record.name)} (MX) sends mail for {_fqdn(zone.name, record.name)}"
                f" to {exchange}., which no mail service in the catalog receives",
                f"add {exchange} to the `domains` of the mail service (or the mail provider's "
                "`edgeDomains`), or remove the MX",
            )
