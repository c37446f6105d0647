"""A deterministic, realistic synthetic infradex catalog of any size, for benchmarks.

    python bench/synthetic_catalog.py OUT_DIR --entities 10000 [--seed 1] [--layout multi]

Shape (for N entities in total; the counts add up to N exactly):

- providers 1 % (at least 8): provider ``cdn-0000`` is *the* CDN, in front of ~30 % of the
  services; the rest are IaaS (owning the data centers), PaaS, DNS hosts, registrars,
  metrics/error trackers, a few more CDNs and others;
- data centers 1 %, each at an IaaS provider; hosts 25 %, spread uniformly over data centers;
  one host in 50 is a "shared" host that receives 20 times more services than the others;
- people 15 % (email, IANA time zone, 20 % staff, 5 % emeritus, member of 1-2 teams);
- teams 3 % (team ``infrastructure`` first, as infradex's fallback team);
- zones 3 % with inline octoDNS ``records`` (keys in natural sort order, as octoDNS wants):
  every service domain has a record; zone sizes follow a Zipf law, so a few zones are large
  (like python.org in the PSF catalog) and most are small;
- schedules and escalation policies: max(2, N // 5000) of each;
- services: the rest (~52 %). Each is hosted on 1-2 hosts (30 % on two, i.e. load balanced),
  on a PaaS provider (5 %) or on the platform service ``svc-00000`` (5 %); ~35 % are fronted by
  a CDN; owners are a team and/or 1-2 people; one check each; an escalation policy for most.
  ``dependsOn`` only ever points at lower-numbered services, so there is no cycle: the first
  2 % of services are "core" services (auth, databases, mail...) that a quarter of the others
  depend on, and the rest form product groups of 20 in which a service may depend on earlier
  members of its own group. Dependency depth therefore stays bounded as N grows.

The same (N, seed) always gives the same bytes. Two layouts of the same documents:
``multi`` (one file per kind, split into files of ``--per-file`` documents, like a real
catalog) and ``single`` (one document per file, ``KIND/NAME.yaml``, for tools that read only
single-document YAML files, such as check-jsonschema).
"""

from __future__ import annotations

import argparse
import itertools
import random
import shutil
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

try:
    from natsort import natsort_keygen  # installed with octoDNS, which infradex requires

    _record_key = natsort_keygen()
except ImportError:  # pragma: no cover - zero-padded names sort the same either way
    _record_key = None  # type: ignore[assignment]

__all__ = ["Counts", "SyntheticCatalog", "counts_for", "generate", "write_catalog"]

API_VERSION = "infradex/v1"
#: kind → file stem (multi layout) or directory (single layout)
FILE_STEMS = {
    "Provider": "providers",
    "Datacenter": "datacenters",
    "Host": "hosts",
    "Person": "people",
    "Team": "teams",
    "Service": "services",
    "Zone": "zones",
    "Schedule": "schedules",
    "EscalationPolicy": "escalation-policies",
}
TIMEZONES = (
    "Europe/Amsterdam",
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Asia/Tokyo",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Africa/Lagos",
    "UTC",
)
OPERATING_SYSTEMS = ("Ubuntu 22.04", "Ubuntu 24.04", "Debian 12", "Rocky Linux 9", "FreeBSD 14")
ROLES = ("web", "db", "cache", "worker", "mail", "search", "build", "proxy", "storage", "ci")
SOFTWARE = ("Django", "Flask", "PostgreSQL", "Redis", "nginx", "Buildbot", "Mailman", "Roundup")
MANAGED_BY = ("salt", "salt", "salt", "terraform", "ansible", "chef", "manual")
#: provider types after the fixed first few, with their weights
OTHER_PROVIDER_TYPES = (
    ("iaas", 25),
    ("cdn", 5),
    ("dns", 10),
    ("registrar", 5),
    ("paas", 10),
    ("metrics", 10),
    ("errors", 10),
    ("storage", 10),
    ("other", 15),
)
FIXED_PROVIDER_TYPES = ("cdn", "iaas", "dns", "registrar", "paas", "metrics", "errors", "iaas")
SHARED_HOST_EVERY, SHARED_HOST_WEIGHT = 50, 20
GROUP_SIZE = 20
#: written into every generated catalog (hidden, so catalog loaders skip it); only directories
#: holding it are ever replaced
MARKER = ".synthetic-catalog"
CORE_SHARE = 50  # one service in 50 is a core service


@dataclass(frozen=True, slots=True)
class Counts:
    providers: int
    datacenters: int
    hosts: int
    people: int
    teams: int
    zones: int
    schedules: int
    policies: int
    services: int

    @property
    def total(self) -> int:
        return sum(
            (
                self.providers,
                self.datacenters,
                self.hosts,
                self.people,
                self.teams,
                self.zones,
                self.schedules,
                self.policies,
                self.services,
            )
        )


def counts_for(entities: int) -> Counts:
    """How many of each kind for ``entities`` in total (services take what is left)."""
    if entities < 100:
        raise ValueError("ask for at least 100 entities")
    providers = max(len(FIXED_PROVIDER_TYPES), round(entities * 0.01))
    datacenters = max(2, round(entities * 0.01))
    hosts = round(entities * 0.25)
    people = round(entities * 0.15)
    teams = max(2, round(entities * 0.03))
    zones = max(2, round(entities * 0.03))
    schedules = policies = max(2, entities // 5000)
    rest = providers + datacenters + hosts + people + teams + zones + schedules + policies
    return Counts(
        providers, datacenters, hosts, people, teams, zones, schedules, policies, entities - rest
    )


@dataclass(slots=True)
class SyntheticCatalog:
    """The documents, kind by kind, plus the names a benchmark wants to query."""

    documents: list[dict[str, Any]] = field(default_factory=list)
    counts: Counts | None = None
    cdn: str = "provider:cdn-0000"
    shared_hosts: list[str] = field(default_factory=list)


def _doc(kind: str, metadata: dict[str, Any], spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": kind, "metadata": metadata, "spec": spec}


def _pick(rng: random.Random, items: Sequence[str], k: int) -> list[str]:
    """``k`` distinct items (fewer if there are not that many), in a stable order."""
    return rng.sample(list(items), min(k, len(items)))


def generate(entities: int, seed: int = 1) -> SyntheticCatalog:
    """Build the documents of a catalog of ``entities`` entities (deterministic for a seed)."""
    rng = random.Random(seed)
    counts = counts_for(entities)
    out = SyntheticCatalog(counts=counts)
    docs = out.documents

    # ---------------------------------------------------------------- providers
    provider_types: list[str] = list(FIXED_PROVIDER_TYPES)
    types, weights = zip(*OTHER_PROVIDER_TYPES, strict=True)
    while len(provider_types) < counts.providers:
        provider_types.append(rng.choices(types, weights)[0])
    providers: dict[str, list[str]] = {}
    for i, ptype in enumerate(provider_types):
        name = f"{ptype}-{i:04d}"
        providers.setdefault(ptype, []).append(name)
        spec: dict[str, Any] = {
            "type": ptype,
            "donated": rng.random() < 0.3,
            "website": f"https://{name}.example.com/",
            "status": "active" if rng.random() < 0.95 or i < 8 else "retired",
            "contacts": [
                {"type": "email", "address": f"support@{name}.example.com", "role": "primary"}
            ],
        }
        if ptype == "cdn":
            spec["checks"] = [
                {
                    "name": "edge",
                    "url": f"https://status.{name}.example.com/api/v2/status.json",
                    "interval": "5m",
                    "timeout": "10s",
                    "conditions": ["[STATUS] == 200", "[BODY] contains 'operational'"],
                }
            ]
        metadata = {
            "name": name,
            "title": f"{ptype.upper()} provider {i}",
            "description": f"A {ptype} provider used by the organisation.",
            "tags": [ptype] + (["donated"] if spec["donated"] else []),
        }
        docs.append(_doc("Provider", metadata, spec))
    cdns = [f"provider:{n}" for n in providers["cdn"]]
    out.cdn = cdns[0]

    # ---------------------------------------------------------------- datacenters
    datacenters = []
    for i in range(counts.datacenters):
        name = f"dc-{i:04d}"
        provider = rng.choice(providers["iaas"])
        region = f"{rng.choice(('NYC', 'AMS', 'SFO', 'FRA', 'SGP', 'LON'))}{rng.randint(1, 9)}"
        datacenters.append(name)
        docs.append(
            _doc(
                "Datacenter",
                {"name": name, "title": f"{provider} {region}"},
                {"provider": provider, "region": region},
            )
        )

    # ---------------------------------------------------------------- hosts
    hosts: list[str] = []
    host_fqdn: dict[str, str] = {}
    for i in range(counts.hosts):
        name = f"host-{i:05d}"
        dc = rng.choice(datacenters)
        fqdn = f"{name}.{dc}.example.net"
        hosts.append(name)
        host_fqdn[name] = fqdn
        spec = {
            "datacenter": dc,
            "role": rng.choice(ROLES),
            "os": rng.choice(OPERATING_SYSTEMS),
            "managedBy": rng.choice(MANAGED_BY),
            "addresses": [f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"],
        }
        if rng.random() < 0.3:
            spec["addresses"].append(f"2001:db8::{i:x}")
        docs.append(_doc("Host", {"name": name, "title": fqdn}, spec))
    host_weights = [
        SHARED_HOST_WEIGHT if i % SHARED_HOST_EVERY == 0 else 1 for i in range(len(hosts))
    ]
    host_cum = list(itertools.accumulate(host_weights))
    out.shared_hosts = [f"host:{h}" for i, h in enumerate(hosts) if i % SHARED_HOST_EVERY == 0]

    # ---------------------------------------------------------------- teams and people
    teams = ["infrastructure"] + [f"team-{i:04d}" for i in range(1, counts.teams)]
    policies = [f"policy-{i:02d}" for i in range(counts.policies)]
    schedules = [f"schedule-{i:02d}" for i in range(counts.schedules)]
    people = [f"person-{i:05d}" for i in range(counts.people)]
    members: dict[str, list[str]] = {t: [] for t in teams}
    person_docs = []
    for i, name in enumerate(people):
        member_of = _pick(rng, teams, 1 if rng.random() < 0.7 else 2)
        for team in member_of:
            members[team].append(name)
        spec = {
            "email": f"{name}@example.org",
            "timezone": rng.choice(TIMEZONES),
            "staff": rng.random() < 0.2,
            "status": "emeritus" if rng.random() < 0.05 else "active",
            "memberOf": [f"team:{t}" for t in member_of],
            "handles": {"github": f"gh-{name}"},
        }
        if rng.random() < 0.3:
            spec["handles"]["irc"] = f"irc{i}"
        person_docs.append(
            _doc("Person", {"name": name, "title": f"Person {i}", "tags": ["people"]}, spec)
        )
    for i, name in enumerate(teams):
        spec = {
            "contacts": [
                {"type": "email", "address": f"{name}@lists.example.org", "role": "primary"}
            ]
        }
        if rng.random() < 0.2 and members[name]:  # some teams also list members themselves
            spec["members"] = [f"person:{p}" for p in members[name][:2]]
        if rng.random() < 0.5:
            spec["escalation"] = f"escalationpolicy:{rng.choice(policies)}"
        title = "Infrastructure Team" if i == 0 else f"Team {i}"
        docs.append(_doc("Team", {"name": name, "title": title}, spec))
    docs.extend(person_docs)

    # ---------------------------------------------------------------- services
    zones = [f"zone-{i:04d}.org" for i in range(counts.zones)]
    zone_cum = list(itertools.accumulate(1 / (rank + 1) for rank in range(len(zones))))
    records: dict[str, dict[str, Any]] = {z: {} for z in zones}
    services = [f"svc-{i:05d}" for i in range(counts.services)]
    core = max(3, len(services) // CORE_SHARE)
    paas = [f"provider:{n}" for n in providers["paas"]]
    watchers = [f"provider:{n}" for n in providers["metrics"] + providers["errors"]]
    cdn_target = {c: f"global.{c.split(':')[1]}.example.net." for c in cdns}
    for i, name in enumerate(services):
        # where it runs
        roll = rng.random()
        if i == 0 or roll < 0.9 or i < core:
            count = 2 if rng.random() < 0.3 else 1
            chosen: list[str] = []
            while len(chosen) < count:
                host = rng.choices(hosts, cum_weights=host_cum)[0]
                if host not in chosen:
                    chosen.append(host)
            hosted_on = [f"host:{h}" for h in chosen]
        elif roll < 0.95:
            hosted_on = [rng.choice(paas)]
        else:
            hosted_on = ["service:svc-00000"]  # the platform service
        roll = rng.random()
        fronted_by = [cdns[0]] if roll < 0.3 else [rng.choice(cdns)] if roll < 0.35 else []
        # what it needs
        depends_on: list[str] = []
        if i >= core:
            if rng.random() < 0.25:
                depends_on.append(f"service:{services[rng.randrange(1, core)]}")
            group_start = core + (i - core) // GROUP_SIZE * GROUP_SIZE
            earlier = services[group_start:i]
            if earlier and rng.random() < 0.4:
                depends_on.extend(f"service:{s}" for s in _pick(rng, earlier, rng.randint(1, 2)))
        if rng.random() < 0.1:
            depends_on.append(rng.choice(watchers))
        # names
        domains = []
        for extra in range(2 if rng.random() < 0.1 else 1):
            zone = rng.choices(zones, cum_weights=zone_cum)[0]
            label = name if extra == 0 else f"{name}-api"
            domains.append(f"{label}.{zone}")
            if fronted_by:
                record: dict[str, Any] = {"type": "CNAME", "value": cdn_target[fronted_by[0]]}
            elif hosted_on[0].startswith("host:"):
                record = {"type": "CNAME", "value": host_fqdn[hosted_on[0][5:]] + "."}
            else:
                record = {"type": "A", "values": [f"192.0.2.{rng.randint(1, 254)}"]}
            records[zone][label] = record
        # who
        owners = []
        roll = rng.random()
        if roll < 0.97:
            if rng.random() < 0.75:
                owners.append({"ref": f"team:{rng.choice(teams)}", "role": "owner"})
            for person in _pick(rng, people, rng.randint(1, 2) if owners else 2):
                owners.append({"ref": f"person:{person}", "role": "maintainer"})
        check: dict[str, Any]
        if rng.random() < 0.9:
            check = {
                "name": "home",
                "url": f"https://{domains[0]}/healthz",
                "interval": rng.choice(("30s", "60s", "5m")),
                "timeout": "10s",
                "conditions": ["[STATUS] == 200", "[RESPONSE_TIME] < 1500"],
            }
        else:
            check = {
                "name": "tls",
                "url": f"tls://{domains[0]}:443",
                "interval": "1h",
                "timeout": "10s",
                "conditions": ["[CONNECTED] == true", "[CERTIFICATE_EXPIRATION] > 14d"],
            }
        if rng.random() < 0.2 and len(datacenters) >= 2:
            check["locations"] = _pick(rng, datacenters, 2)
            check["quorum"] = 2
        roll = rng.random()
        lifecycle = (
            "production"
            if roll < 0.85
            else "experimental"
            if roll < 0.9
            else "deprecated"
            if roll < 0.97
            else "archived"
        )
        spec = {
            "lifecycle": lifecycle,
            "domains": domains,
            "software": rng.choice(SOFTWARE),
            "hostedOn": hosted_on,
        }
        if fronted_by:
            spec["frontedBy"] = fronted_by
        if depends_on:
            spec["dependsOn"] = depends_on
        if owners:
            spec["owners"] = owners
        if rng.random() < 0.3:
            spec["contacts"] = [
                {"type": "email", "address": f"{name}-admins@example.org", "role": "primary"},
                {"type": "irc", "address": f"#{name}", "network": "libera", "role": "secondary"},
            ]
        spec["source"] = f"https://git.example.org/infra/{name}"
        spec["issueTracker"] = f"https://git.example.org/infra/{name}/issues"
        spec["configManagement"] = {"tool": "salt", "repo": "https://git.example.org/infra/salt"}
        spec["checks"] = [check]
        spec["status"] = {
            "group": f"Group {i // GROUP_SIZE}",
            "name": f"Service {i}",
            "public": rng.random() < 0.8,
        }
        if rng.random() < 0.7:
            spec["escalation"] = rng.choice(policies)
        kind_of = "core" if i < core else f"group-{(i - core) // GROUP_SIZE}"
        metadata = {
            "name": name,
            "title": f"Service {i}",
            "description": f"Synthetic {spec['software']} service ({kind_of}).",
            "tags": [kind_of if i < core else "product", lifecycle],
            "links": [{"url": f"https://wiki.example.org/{name}", "title": "Runbook"}],
            "annotations": {"example.org/cost-center": f"cc-{i % 17}"},
        }
        docs.append(_doc("Service", metadata, spec))

    # ---------------------------------------------------------------- zones
    dns = providers["dns"]
    registrars = providers["registrar"]
    for i, zone in enumerate(zones):
        zone_records = {"": {"type": "A", "values": [f"198.51.100.{i % 250 + 1}"]}, **records[zone]}
        ordered = sorted(zone_records, key=_record_key) if _record_key else sorted(zone_records)
        docs.append(
            _doc(
                "Zone",
                {"name": zone, "description": f"{len(records[zone])} service names"},
                {
                    "provider": rng.choice(dns),
                    "registrar": rng.choice(registrars),
                    "records": {k: zone_records[k] for k in ordered},
                },
            )
        )

    # ---------------------------------------------------------------- on call
    staff = people[: max(10, len(people) // 10)]
    for i, name in enumerate(schedules):
        layers = [
            {
                "name": "primary",
                "members": [f"person:{p}" for p in _pick(rng, staff, rng.randint(3, 5))],
                "rotation": "weekly",
                "handoff": "Mon 09:00",
                "start": "2024-01-01",
            }
        ]
        if i % 2:
            layers.append(
                {
                    "name": "business-hours",
                    "members": [f"person:{p}" for p in _pick(rng, staff, 3)],
                    "rotation": "daily",
                    "handoff": "09:00",
                    "start": "2024-01-01",
                    "restrictions": [
                        {
                            "days": ["Mon", "Tue", "Wed", "Thu", "Fri"],
                            "start": "09:00",
                            "end": "17:00",
                        }
                    ],
                }
            )
        spec = {
            "timezone": rng.choice(TIMEZONES),
            "layers": layers,
            "overrides": [
                {
                    "person": f"person:{rng.choice(staff)}",
                    "start": "2024-03-01T09:00",
                    "end": "2024-03-02T09:00",
                }
            ],
        }
        docs.append(_doc("Schedule", {"name": name, "title": f"Rotation {i}"}, spec))
    for i, name in enumerate(policies):
        spec = {
            "steps": [
                {"after": "0m", "notify": [f"schedule:{schedules[i % len(schedules)]}"]},
                {"after": "15m", "notify": [f"schedule:{schedules[(i + 1) % len(schedules)]}"]},
                {"after": "30m", "notify": ["team:infrastructure"]},
            ],
            "repeat": 2,
        }
        docs.append(_doc("EscalationPolicy", {"name": name, "title": f"Policy {i}"}, spec))
    assert len(docs) == counts.total == entities, (len(docs), counts)
    return out


def _dump(documents: Sequence[dict[str, Any]]) -> str:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    return yaml.dump_all(
        documents,
        Dumper=dumper,
        sort_keys=False,
        default_flow_style=False,
        allow_unicode=True,
        width=100,
        explicit_start=True,
    )


def _by_kind(documents: Sequence[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for doc in documents:
        grouped.setdefault(doc["kind"], []).append(doc)
    for kind in FILE_STEMS:
        if kind in grouped:
            yield kind, grouped[kind]


def write_catalog(
    out: Path | str,
    entities: int,
    seed: int = 1,
    layout: str = "multi",
    per_file: int = 500,
    catalog: SyntheticCatalog | None = None,
) -> list[Path]:
    """Write a fresh catalog into ``out``; return the files written.

    ``out`` must be new, empty, or a catalog this function wrote before (it is replaced)."""
    out = Path(out)
    if out.exists():
        if (out / MARKER).is_file():
            shutil.rmtree(out)
        elif out.is_dir() and not any(out.iterdir()):
            out.rmdir()
        else:
            raise FileExistsError(f"{out} exists and was not written by {Path(__file__).name}")
    out.mkdir(parents=True)
    (out / MARKER).write_text(f"entities: {entities}\nseed: {seed}\nlayout: {layout}\n")
    catalog = catalog or generate(entities, seed)
    written: list[Path] = []
    for kind, docs in _by_kind(catalog.documents):
        stem = FILE_STEMS[kind]
        if layout == "multi":
            for chunk in range(0, len(docs), per_file):
                path = out / f"{stem}-{chunk // per_file + 1:03d}.yaml"
                path.write_text(_dump(docs[chunk : chunk + per_file]), encoding="utf-8")
                written.append(path)
        elif layout == "single":
            (out / stem).mkdir()
            for doc in docs:
                path = out / stem / f"{doc['metadata']['name']}.yaml"
                path.write_text(_dump([doc]), encoding="utf-8")
                written.append(path)
        else:
            raise ValueError(f"unknown layout {layout!r}; use multi or single")
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="directory to write (new, empty or generated)")
    parser.add_argument("--entities", type=int, default=10_000, help="entities in total")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--layout", choices=("multi", "single"), default="multi")
    parser.add_argument("--per-file", type=int, default=500, help="documents per file (multi)")
    args = parser.parse_args(argv)
    catalog = generate(args.entities, args.seed)
    try:
        files = write_catalog(
            args.out, args.entities, args.seed, args.layout, args.per_file, catalog
        )
    except FileExistsError as exc:
        parser.error(str(exc))
    print(f"{args.entities} entities ({catalog.counts}) in {len(files)} files under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
