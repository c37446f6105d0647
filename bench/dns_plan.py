"""DNS plan: `infradex dns plan` (annotated) against `octodns-sync` (plan only), same zone.

    .venv/bin/python bench/dns_plan.py [--records 5000] [--changes 100] [--services 300] [--runs 5]

A real BIND (``named`` from Debian's bind9) on 127.0.0.1 serves a zone of ``--records`` record
sets (A, AAAA, CNAME, TXT, MX at the apex), accepting RFC 2136 updates and zone transfers
signed with a TSIG key, as in ``tests/integration/dns_as_code/conftest.py``. The catalog's
desired zone differs in ``--changes`` record sets (2 % by default): repoints, TTL changes, a few
creates and deletes, some on service names. The catalog holds the Provider (an ``octodns``
block pointing at that BIND, the TSIG secret as an ``env:`` reference), the Zone (an octoDNS
YAML file inside the catalog directory) and ``--services`` services with names in the zone,
owners (a team and a person), an escalation policy paging an on-call schedule, a CDN for some,
so the annotations do real work.

The peer, in the same run: ``octodns-sync`` without ``--doit`` (plan only) on an octoDNS config
whose YamlProvider source reads the same zone file and whose target is
``octodns_bind.Rfc2136Provider`` on the same BIND. Both run as subprocesses, whole-command wall
time (Python start, imports, reading the catalog or config, AXFR of the zone, diff, output),
alternating which goes first, ``--runs`` times each after one warm-up run; medians and the
ratio. ``infradex dns plan --format text`` (the terminal table) is timed in the same rounds.
The bench fails when the plans do not count the same creates, updates and deletes.

Results: a table on stdout and ``bench/results/dns_plan.json``.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import platform
import random
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
OCTODNS_SYNC = str(Path(PYTHON).with_name("octodns-sync"))
ZONE = "bench.test"
SECRET = base64.b64encode(b"infradex-bench-tsig-secret-32byt").decode()
SECRET_ENV = "INFRADEX_BENCH_TSIG"
SEED = 15  # the number: the same zone and changes on every run

#: one octoDNS record: {"type": ..., "ttl": ..., "value" or "values": ...}
Record = dict[str, Any]
#: a zone as octoDNS YAML holds it: name -> record, or a list of them (several types)
Records = dict[str, list[Record]]


# ------------------------------------------------------------------------------ the zone


def _natural(name: str) -> list[Any]:
    """octoDNS's YamlProvider wants names in natural order (``h2`` before ``h10``)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def live_records(count: int, services: int, rng: random.Random) -> Records:
    """``count`` record sets as a hand-run BIND holds them: the apex (NS, MX, TXT), the name
    server, one A per service name (TTL 300) and hosts of several types (mostly TTL 3600)."""
    zone: Records = {
        "": [
            {"type": "NS", "ttl": 3600, "values": [f"ns1.{ZONE}."]},
            {
                "type": "MX",
                "ttl": 3600,
                "values": [
                    {"preference": 10, "exchange": f"mx1.{ZONE}."},
                    {"preference": 20, "exchange": f"mx2.{ZONE}."},
                ],
            },
            {"type": "TXT", "ttl": 3600, "values": ["v=spf1 mx -all"]},
        ],
        "ns1": [{"type": "A", "ttl": 3600, "values": ["127.0.0.1"]}],
    }
    for i in range(services):
        zone[f"svc{i:04d}"] = [{"type": "A", "ttl": 300, "values": [_ipv4(rng)]}]
    host = 0
    while sum(len(v) for v in zone.values()) < count:
        kind = host % 10
        ttl = 300 if host % 7 == 0 else 3600
        if kind <= 5:
            record: Record = {"type": "A", "ttl": ttl, "values": [_ipv4(rng)]}
        elif kind == 6:
            record = {"type": "AAAA", "ttl": ttl, "values": [f"2001:db8::{host:x}"]}
        elif kind == 7:
            record = {
                "type": "CNAME",
                "ttl": ttl,
                "value": f"svc{rng.randrange(services):04d}.{ZONE}.",
            }
        elif kind == 8:
            record = {"type": "TXT", "ttl": ttl, "values": [f"owner=team-{host % 17}"]}
        else:
            record = {"type": "A", "ttl": ttl, "values": sorted({_ipv4(rng), _ipv4(rng)})}
        zone[f"h{host:05d}"] = [record]
        host += 1
    return zone


def _ipv4(rng: random.Random) -> str:
    return f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"


@dataclass(frozen=True)
class Mix:
    """How many changes of each kind the desired zone carries."""

    repoints: int
    ttls: int
    creates: int
    deletes: int

    @property
    def updates(self) -> int:
        return self.repoints + self.ttls

    @property
    def total(self) -> int:
        return self.updates + self.creates + self.deletes


def mix_of(changes: int) -> Mix:
    """A realistic 2 %: half repoints, a quarter TTL changes, the rest creates and deletes."""
    repoints, ttls = changes // 2, changes // 4
    creates = (changes - repoints - ttls + 1) // 2
    return Mix(repoints, ttls, creates, changes - repoints - ttls - creates)


def desired_records(live: Records, mix: Mix, rng: random.Random) -> Records:
    """The catalog's zone: ``live`` with ``mix`` applied to single-record names (never the
    apex or the name server). A fifth of repoints, TTL changes and deletes hit service names."""
    desired = {name: [dict(r) for r in records] for name, records in live.items()}
    services = sorted(n for n in live if n.startswith("svc"))
    hosts = sorted(n for n in live if n.startswith("h") and live[n][0]["type"] != "CNAME")

    def pick(count: int) -> list[str]:
        on_services = count // 5
        chosen = rng.sample(services, on_services) + rng.sample(hosts, count - on_services)
        for name in chosen:  # each name changes once
            (services if name in services else hosts).remove(name)
        return chosen

    for name in pick(mix.repoints):
        record = desired[name][0]
        if record["type"] == "A":
            record["values"] = [_ipv4(rng)]
        elif record["type"] == "AAAA":
            record["values"] = ["2001:db8:ffff::" + format(rng.randrange(1, 65535), "x")]
        else:
            record["values"] = [record["values"][0] + " moved"]
    for name in pick(mix.ttls):
        record = desired[name][0]
        # lowering ahead of a move is the usual TTL change; the rest are raised back
        record["ttl"] = 60 if record["ttl"] > 300 else 3600
    for name in pick(mix.deletes):
        del desired[name]
    for i in range(mix.creates):
        desired[f"new{i:03d}"] = [{"type": "A", "ttl": 300, "values": [_ipv4(rng)]}]
    return {name: desired[name] for name in sorted(desired, key=_natural)}


def zone_file_text(records: Records) -> str:
    """The zone as BIND reads it, with an SOA (which octoDNS leaves to the server)."""
    lines = [
        "$TTL 3600",
        f"@ IN SOA ns1.{ZONE}. hostmaster.{ZONE}. 1 3600 600 86400 300",
    ]
    for name, items in records.items():
        owner = name or "@"
        for record in items:
            values = record.get("values", [record.get("value")])
            for value in values:
                if record["type"] == "MX":
                    value = f"{value['preference']} {value['exchange']}"
                elif record["type"] == "TXT":
                    value = f'"{value}"'
                lines.append(f"{owner} {record['ttl']} IN {record['type']} {value}")
    return "\n".join(lines) + "\n"


def zone_yaml(records: Records) -> str:
    """The zone as an octoDNS YAML file: one mapping per name, a list for several types."""
    # octoDNS also wants each record's keys sorted; the names keep their natural order
    out = {
        name: _sorted(items[0]) if len(items) == 1 else [_sorted(r) for r in items]
        for name, items in records.items()
    }
    return yaml.safe_dump(out, sort_keys=False, default_flow_style=False)


def _sorted(record: Record) -> Record:
    return {
        key: [_sorted(v) if isinstance(v, dict) else v for v in value]
        if isinstance(value, list)
        else value
        for key, value in sorted(record.items())
    }


# ------------------------------------------------------------------------------ the catalog


def catalog_documents(services: int, port: int, rng: random.Random) -> list[dict[str, Any]]:
    """Provider, Zone, 12 teams with a schedule and an escalation policy each, 60 people,
    ``services`` services with a name in the zone (a CDN in front of ~30 %)."""
    docs: list[dict[str, Any]] = [
        {
            "kind": "Provider",
            "metadata": {"name": "bind", "title": "Our BIND"},
            "spec": {
                "type": "dns",
                "octodns": {
                    "class": "octodns_bind.Rfc2136Provider",
                    "host": "127.0.0.1",
                    "port": port,
                    "key_name": "infradex",
                    "key_secret": f"env:{SECRET_ENV}",
                    "key_algorithm": "hmac-sha256",
                    "timeout": 30,
                },
            },
        },
        {
            "kind": "Provider",
            "metadata": {"name": "cdn", "title": "The CDN"},
            "spec": {"type": "cdn"},
        },
        {
            "kind": "Zone",
            "metadata": {"name": ZONE},
            "spec": {"provider": "provider:bind", "file": f"zones/{ZONE}.yaml"},
        },
    ]
    teams = [f"team{t:02d}" for t in range(12)]
    people = [f"person{p:02d}" for p in range(60)]
    for p, person in enumerate(people):
        docs.append(
            {
                "kind": "Person",
                "metadata": {"name": person, "title": f"Person {p}"},
                "spec": {
                    "email": f"{person}@example.test",
                    "staff": True,
                    "memberOf": [f"team:{teams[p % len(teams)]}"],
                },
            }
        )
    for t, team in enumerate(teams):
        members = [f"person:{p}" for i, p in enumerate(people) if i % len(teams) == t]
        docs.append(
            {
                "kind": "Schedule",
                "metadata": {"name": team, "title": f"Rotation {t}"},
                "spec": {
                    "timezone": "Europe/Amsterdam",
                    "layers": [
                        {
                            "name": "primary",
                            "members": members,
                            "rotation": "weekly",
                            "handoff": "Mon 09:00",
                            "start": "2024-01-01",
                        }
                    ],
                },
            }
        )
        docs.append(
            {
                "kind": "EscalationPolicy",
                "metadata": {"name": team, "title": f"Policy {t}"},
                "spec": {
                    "steps": [
                        {"after": "0m", "notify": [f"schedule:{team}"]},
                        {"after": "15m", "notify": [f"team:{team}"]},
                    ]
                },
            }
        )
        docs.append(
            {
                "kind": "Team",
                "metadata": {"name": team, "title": f"Team {t}"},
                "spec": {"escalation": f"escalationpolicy:{team}"},
            }
        )
    for s in range(services):
        team = teams[s % len(teams)]
        spec: dict[str, Any] = {
            "domains": [f"svc{s:04d}.{ZONE}"],
            "owners": [{"ref": f"team:{team}"}, {"ref": f"person:{rng.choice(people)}"}],
            "lifecycle": "production" if s % 5 else "experimental",
            "escalation": f"escalationpolicy:{team}",
        }
        if s % 10 < 3:
            spec["frontedBy"] = ["provider:cdn"]
        docs.append(
            {
                "kind": "Service",
                "metadata": {"name": f"svc{s:04d}", "title": f"Service {s}"},
                "spec": spec,
            }
        )
    return [{"apiVersion": "infradex/v1", **d} for d in docs]


def write_inputs(work: Path, args: argparse.Namespace, port: int) -> tuple[Path, Path, Mix]:
    """The catalog directory and the octoDNS config; the BIND zone file goes in ``work``."""
    rng = random.Random(SEED)
    live = live_records(args.records, args.services, rng)
    mix = mix_of(args.changes)
    desired = desired_records(live, mix, rng)
    (work / "bind").mkdir()
    (work / "bind" / f"{ZONE}.zone").write_text(zone_file_text(live))
    catalog = work / "catalog"
    (catalog / "zones").mkdir(parents=True)
    (catalog / "zones" / f"{ZONE}.yaml").write_text(zone_yaml(desired))
    docs = catalog_documents(args.services, port, rng)
    (catalog / "catalog.yaml").write_text(yaml.safe_dump_all(docs, sort_keys=False))
    config = work / "octodns.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "providers": {
                    "catalog": {
                        "class": "octodns.provider.yaml.YamlProvider",
                        "directory": str(catalog / "zones"),
                        "default_ttl": 3600,
                    },
                    "bind": {
                        "class": "octodns_bind.Rfc2136Provider",
                        "host": "127.0.0.1",
                        "port": port,
                        "key_name": "infradex",
                        "key_secret": f"env/{SECRET_ENV}",
                        "key_algorithm": "hmac-sha256",
                        "timeout": 30,
                    },
                },
                "zones": {f"{ZONE}.": {"sources": ["catalog"], "targets": ["bind"]}},
            },
            sort_keys=False,
        )
    )
    return catalog, config, mix


# ------------------------------------------------------------------------------ BIND


def free_port() -> int:
    """A port free for both UDP and TCP: BIND listens on both."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket() as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port


@contextlib.contextmanager
def named(directory: Path, port: int) -> Iterator[None]:
    """BIND serving the zone in ``directory``: updates and transfers with the TSIG key."""
    binary = shutil.which("named") or "/usr/sbin/named"
    (directory / "named.conf").write_text(
        f"""
key "infradex" {{ algorithm hmac-sha256; secret "{SECRET}"; }};
options {{
  directory "{directory}";
  listen-on port {port} {{ 127.0.0.1; }};
  listen-on-v6 {{ none; }};
  pid-file "{directory}/named.pid";
  session-keyfile "{directory}/session.key";
  managed-keys-directory "{directory}";
  recursion no;
  dnssec-validation no;
}};
controls {{ }};
zone "{ZONE}" {{ type primary; file "{directory}/{ZONE}.zone";
  allow-update {{ key infradex; }}; allow-transfer {{ key infradex; }}; }};
"""
    )
    log = (directory / "named.log").open("wb")
    process = subprocess.Popen(
        [binary, "-g", "-n", "1", "-c", str(directory / "named.conf")],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while b"running" not in (directory / "named.log").read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"named did not start: {(directory / 'named.log').read_text()}")
            time.sleep(0.05)
        yield
    finally:
        process.terminate()
        process.wait(10)
        log.close()


# ------------------------------------------------------------------------------ the commands


@dataclass(frozen=True)
class Counts:
    creates: int
    updates: int
    deletes: int


def infradex_command(catalog: Path, fmt: str) -> list[str]:
    return [PYTHON, "-m", "infradex", "--catalog", str(catalog), "dns", "plan", "--format", fmt]


def octodns_command(config: Path) -> list[str]:
    return [OCTODNS_SYNC, "--config-file", str(config)]


def run_timed(
    command: list[str], env: dict[str, str]
) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Wall seconds and CPU seconds (user + system: steadier on a busy machine) of one run."""
    cpu_before = _children_cpu()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return seconds, _children_cpu() - cpu_before, done


def _children_cpu() -> float:
    # only children that have exited count, so the running named is not included
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def infradex_counts(stdout: str) -> Counts:
    actions = [c["action"] for c in json.loads(stdout)["changes"]]
    return Counts(actions.count("create"), actions.count("update"), actions.count("delete"))


def annotation_summary(stdout: str) -> dict[str, Any]:
    """How much the annotations had to say: changes that touch a service, and the grades."""
    changes = json.loads(stdout)["changes"]
    grades = [c["risk"]["grade"] for c in changes]
    return {
        "touching_a_service": sum(1 for c in changes if c["services"]),
        "with_someone_on_call": sum(1 for c in changes if any(s["onCall"] for s in c["services"])),
        "grades": {g: grades.count(g) for g in ("high", "medium", "low")},
    }


_SUMMARY = re.compile(r"Summary: Creates=(\d+), Updates=(\d+), Deletes=(\d+)")


def octodns_counts(output: str) -> Counts:
    """From the summary line octoDNS's default plan output (its logger) writes."""
    found = _SUMMARY.findall(output)
    if len(found) != 1:
        raise RuntimeError(f"octodns-sync printed {len(found)} plan summaries:\n{output[-3000:]}")
    creates, updates, deletes = (int(n) for n in found[0])
    return Counts(creates, updates, deletes)


def plan_counts(name: str, done: subprocess.CompletedProcess[str]) -> Counts | None:
    """The changes a command's plan counts (the text table is not parsed)."""
    if name == "infradex json":
        return infradex_counts(done.stdout)
    if name == "octodns-sync":
        return octodns_counts(done.stdout + done.stderr)
    return None


# ------------------------------------------------------------------------------ main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=5000, help="record sets in the live zone")
    parser.add_argument("--changes", type=int, default=100, help="record sets the catalog changes")
    parser.add_argument("--services", type=int, default=300, help="services named in the zone")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each command")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "dns_plan.json")
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    args = parser.parse_args()
    console = Console()

    work = Path(tempfile.mkdtemp(prefix="infradex-dns-bench-"))
    port = free_port()
    catalog, config, mix = write_inputs(work, args, port)
    env = {
        **os.environ,
        SECRET_ENV: SECRET,
        "INFRADEX_DATA_DIR": str(work / "data"),
        # the worktree's code, whatever is installed in the venv
        "PYTHONPATH": os.pathsep.join(
            p for p in (str(ROOT / "src"), os.environ.get("PYTHONPATH", "")) if p
        ),
        "COLUMNS": "200",
    }
    commands = {
        "infradex json": infradex_command(catalog, "json"),
        "infradex text": infradex_command(catalog, "text"),
        "octodns-sync": octodns_command(config),
    }
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "commit": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
        "zone": {"records": args.records, "services": args.services, "mix": mix.__dict__},
        "commands": {k: " ".join(v) for k, v in commands.items()},
        "seconds": {k: [] for k in commands},
        "cpu_seconds": {k: [] for k in commands},
    }
    expected = Counts(mix.creates, mix.updates, mix.deletes)
    try:
        with named(work / "bind", port):
            # one warm-up each (byte-compiled modules, page cache), also checking the plans
            first = run_timed(commands["infradex json"], env)[2]
            found = plan_counts("infradex json", first)
            results["annotations"] = annotation_summary(first.stdout)
            peer = plan_counts("octodns-sync", run_timed(commands["octodns-sync"], env)[2])
            if not found == peer == expected or found is None:
                raise RuntimeError(
                    f"the plans differ: infradex {found}, octodns-sync {peer}, "
                    f"the bench changed {expected}"
                )
            run_timed(commands["infradex text"], env)
            results["changes"] = found.__dict__
            progress = Progress(
                TextColumn("  {task.description:>14}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=console,
            )
            with progress:
                task = progress.add_task("rounds", total=args.runs)
                names = list(commands)
                for round_ in range(args.runs):
                    # the order turns each round, so no command always runs first (or after
                    # the same neighbour)
                    shift = round_ % len(names)
                    for name in names[shift:] + names[:shift]:
                        seconds, cpu, done = run_timed(commands[name], env)
                        counts = plan_counts(name, done)
                        if counts is not None and counts != found:
                            raise RuntimeError(f"{name}'s plan changed between runs: {counts}")
                        results["seconds"][name].append(seconds)
                        results["cpu_seconds"][name].append(cpu)
                    progress.update(task, advance=1)
    finally:
        if args.keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)

    results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    medians = {k: statistics.median(v) for k, v in results["seconds"].items()}
    results["median_s"] = medians
    peer_s = medians["octodns-sync"]
    results["ratio"] = {k: v / peer_s for k, v in medians.items()}
    results["goal_ratio"] = 1.2
    cpu = {k: statistics.median(v) for k, v in results["cpu_seconds"].items()}
    results["median_cpu_s"] = cpu
    results["cpu_ratio"] = {k: v / cpu["octodns-sync"] for k, v in cpu.items()}

    table = Table(
        title=f"DNS plan: {args.records:,} records, {mix.total} changes "
        f"({mix.repoints} repoints, {mix.ttls} TTL, {mix.creates} creates, {mix.deletes} "
        f"deletes), {args.services} services; {args.runs} runs each",
        title_justify="left",
    )
    headings = ("command", "median s", "min s", "max s", "× octodns-sync", "CPU s", "CPU ×")
    for heading in headings:
        table.add_column(heading, justify="left" if heading == "command" else "right")
    for name, runs in results["seconds"].items():
        table.add_row(
            name,
            f"{medians[name]:.2f}",
            f"{min(runs):.2f}",
            f"{max(runs):.2f}",
            f"{results['ratio'][name]:.2f}",
            f"{cpu[name]:.2f}",
            f"{results['cpu_ratio'][name]:.2f}",
        )
    console.print(table)
    console.print(f"annotations: {results['annotations']}")
    ratio = results["ratio"]["infradex json"]
    verdict = "meets" if ratio <= 1.2 else "misses"
    console.print(f"infradex json / octodns-sync = {ratio:.2f}: {verdict} the goal (≤ 1.2×)")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    console.print(f"results: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
