"""Alert latency: from a target going down to the first page accepted by a mail server.

    .venv/bin/python bench/alert_latency.py [--rounds 10] [--seed 1] [--no-peer]

Everything runs on 127.0.0.1, in a temporary directory, on free ports, as children of this
script, and stops at the end:

* the **target**, an HTTP server in this process (aiohttp) answering ``200`` on every path
  until it is flipped to ``503`` at a recorded instant; it logs every request (time, path,
  status), so each system's failing probes can be placed in time;
* the **mail servers**, two aiosmtpd servers in this process (one for infradex, one for the
  peer) that record when they accept each message (after ``DATA``, as they answer ``250``);
* **infradex**: ``infradex serve`` as a subprocess, ``INFRADEX_MONITOR=true`` (alerting runs
  with the monitor), SQLite in a temporary data directory, ``INFRADEX_SMTP_URL`` the first
  mail server, and a catalog of one service with one check of ``/infradex`` on the target
  (interval 10 s, timeout 2 s, failureThreshold 3, successThreshold 1), one person with an
  email address, a weekly schedule of that person and an EscalationPolicy with
  ``default: true`` whose one step (after 0m) pages the schedule;
* the **peer**, Prometheus + blackbox_exporter + Alertmanager (Debian), set up as nearly the
  same as they allow: Prometheus scrapes the exporter's ``/probe`` (module ``http_2xx``) every
  10 s, the rule ``probe_success == 0`` with ``for: 20s`` (the third failed scrape in a row,
  as failureThreshold 3), Alertmanager ``group_wait: 0s`` and an email receiver on the second
  mail server. Two Prometheus servers run side by side, each probing its own path of the same
  target: ``evaluation_interval: 10s`` (the interval of the check, the usual setting) and
  ``1s`` (fairer: the rule sees a failed scrape within a second). Alertmanager also routes the
  10 s server's alert, with ``continue: true``, to a second receiver that keeps the default
  ``group_wait: 30s``. Prometheus runs with ``--rules.alert.resend-delay=1h`` so that it does
  not resend the previous round's resolved alert into the next round (a resend would
  recreate the Alertmanager group, and a new alert joining a group that has already sent waits
  for its ``group_interval``); this changes no first notification.

Each round (``--rounds``, default 10): wait until every system sees the target up (infradex's
check ``up`` in ``GET /api/v1/checks`` and no open incident; Prometheus ``probe_success 1``
and no pending or firing alert; no aggregation group left in Alertmanager), wait a random
0-10 s (``--seed``: the phase within the interval), flip the target to 503 and wait for each
system's first page (infradex: subject ``[infradex] DOWN…``; Alertmanager: ``[FIRING…``);
then, after another random 0-10 s, flip it back and wait for the resolve mails. infradex
reopens an incident of the same entity resolved less than 10 minutes ago: from the second round
on its page is a reopen, which pages like a new incident.

Reported per system: latency from the flip to the page (median, p90 with linear
interpolation, max), against the target of interval × threshold + 2 s = 32 s, and the ratio
to the peer; where it comes from: flip → first failing probe (the phase), first → third
failing probe (two intervals), third failing probe → page accepted (the pipeline).

Results: tables on stdout (``--report FILE --markdown`` prints them again for
docs/benchmarks.md) and ``bench/results/alert_latency.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))
from report_tables import print_table

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEFAULT_OUT = ROOT / "bench" / "results" / "alert_latency.json"
INTERVAL = 10.0  # seconds, the check's interval and Prometheus' scrape_interval
THRESHOLD = 3  # failureThreshold; for: 20s in Prometheus
TARGET_S = INTERVAL * THRESHOLD + 2  # the bound: interval × threshold + 2 s
PAGE_TIMEOUT = 150.0  # seconds after the flip before a page counts as missed
CLEAR_TIMEOUT = 180.0  # seconds for everything to be up and quiet again
CHECK_ID = "service:bench-target/http"
ONCALL = "oncall@bench.example"
PROMETHEUS = "/usr/bin/prometheus"
BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
ALERTMANAGER = "/usr/bin/prometheus-alertmanager"
APT = (
    "DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "
    "prometheus prometheus-blackbox-exporter prometheus-alertmanager"
)


@dataclass(frozen=True)
class Stream:
    """One system's pages: who receives them, how their subjects start, which target path
    its probes ask for."""

    name: str
    label: str
    inbox: str  # "infradex" or "peer"
    recipient: str
    page_prefix: str
    resolve_prefix: str
    path: str


INFRADEX = Stream(
    "infradex",
    "infradex (interval 10 s, failureThreshold 3)",
    "infradex",
    ONCALL,
    "[infradex] DOWN",
    "[infradex] RESOLVED",
    "/infradex",
)
PEERS = (
    Stream(
        "prom-eval1s",
        "Prometheus + Alertmanager, evaluation 1 s, group_wait 0s",
        "peer",
        "eval1s@peer.example",
        "[FIRING",
        "[RESOLVED]",
        "/eval1s",
    ),
    Stream(
        "prom-eval10s",
        "Prometheus + Alertmanager, evaluation 10 s, group_wait 0s",
        "peer",
        "eval10s@peer.example",
        "[FIRING",
        "[RESOLVED]",
        "/eval10s",
    ),
    Stream(
        "prom-eval10s-gw30",
        "Prometheus + Alertmanager, evaluation 10 s, group_wait 30s (default)",
        "peer",
        "eval10s-gw30@peer.example",
        "[FIRING",
        "[RESOLVED]",
        "/eval10s",
    ),
)


# ------------------------------------------------------------------------------ local parts
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mail:
    at: float  # time.time() when the server accepted it
    to: list[str]
    subject: str


class Inbox:
    """An SMTP server on 127.0.0.1 (aiosmtpd, in its own thread) recording acceptance times."""

    def __init__(self) -> None:
        self.port = free_port()
        self.mails: list[Mail] = []
        self.controller: Any = None

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content)
        subject = str(make_header(decode_header(parsed.get("Subject", ""))))
        self.mails.append(Mail(time.time(), list(envelope.rcpt_tos), " ".join(subject.split())))
        return "250 OK queued"

    def start(self) -> None:
        from aiosmtpd.controller import Controller

        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def first(self, recipient: str, prefix: str, after: float) -> Mail | None:
        for mail in list(self.mails):
            if mail.at >= after and recipient in mail.to and mail.subject.startswith(prefix):
                return mail
        return None


@dataclass
class Hit:
    at: float
    path: str
    status: int


class Target:
    """The HTTP target: 200 everywhere, or 503 while ``down``; logs every request."""

    def __init__(self) -> None:
        self.down = False
        self.hits: list[Hit] = []
        self.port = 0
        self.runner: Any = None

    async def handle(self, request: Any) -> Any:
        from aiohttp import web

        status = 503 if self.down else 200
        self.hits.append(Hit(time.time(), request.path, status))
        return web.Response(status=status, text="down\n" if self.down else "up\n")

    async def start(self) -> None:
        from aiohttp import web

        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self.handle)
        self.runner = web.AppRunner(app, shutdown_timeout=0.1, access_log=None)
        await self.runner.setup()
        self.port = free_port()
        site = web.TCPSite(self.runner, "127.0.0.1", self.port)
        await site.start()

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def failures(self, path: str, after: float) -> list[float]:
        return [
            h.at for h in list(self.hits) if h.path == path and h.at >= after and h.status >= 500
        ]

    def last_before(self, path: str, before: float) -> float | None:
        times = [h.at for h in list(self.hits) if h.path == path and h.at < before]
        return times[-1] if times else None


CATALOG = """\
apiVersion: infradex/v1
kind: Person
metadata: {{name: oncall, title: On Call}}
spec: {{email: {email}, staff: true, timezone: UTC}}
---
apiVersion: infradex/v1
kind: Schedule
metadata: {{name: primary, title: Primary on call}}
spec:
  timezone: UTC
  layers:
    - {{name: primary, members: [person:oncall], rotation: weekly, handoff: "Mon 09:00",
       start: "2024-01-01"}}
---
apiVersion: infradex/v1
kind: EscalationPolicy
metadata: {{name: page-primary, title: Page the primary}}
spec:
  default: true
  steps:
    - {{after: 0m, notify: [schedule:primary]}}
---
apiVersion: infradex/v1
kind: Service
metadata: {{name: bench-target, title: Bench target}}
spec:
  owners: [{{ref: person:oncall}}]
  checks:
    - {{name: http, url: "{url}", interval: 10s, timeout: 2s, failureThreshold: 3,
       successThreshold: 1}}
"""


class Children:
    """The processes this script started; stopped (by their own pid) at the end."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.work / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=self.work
        )

    def alive(self, name: str) -> None:
        process = self.processes[name]
        if process.poll() is not None:
            tail = (self.work / f"{name}.log").read_text(errors="replace")[-3000:]
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{tail}")

    def stop(self) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def get(session: Any, url: str) -> tuple[int, str]:
    async with session.get(url) as response:
        return response.status, await response.text()


async def until(what: str, test: Callable[[], Awaitable[bool]], timeout: float) -> None:
    import aiohttp

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError, TimeoutError, ValueError, KeyError, aiohttp.ClientError):
            if await test():
                return
        await asyncio.sleep(0.1)
    raise TimeoutError(f"{what}: not within {timeout:.0f} s")


# ------------------------------------------------------------------------------ infradex
def start_infradex(children: Children, target: Target, inbox: Inbox) -> str:
    work = children.work
    (work / "catalog").mkdir()
    (work / "catalog" / "catalog.yaml").write_text(
        CATALOG.format(email=ONCALL, url=target.url(INFRADEX.path)), encoding="utf-8"
    )
    port = free_port()
    env = {
        **os.environ,
        "INFRADEX_CATALOG": str(work / "catalog"),
        "INFRADEX_DATA_DIR": str(work / "infradex-data"),
        "INFRADEX_MONITOR": "true",
        "INFRADEX_SMTP_URL": f"smtp://127.0.0.1:{inbox.port}",
        "INFRADEX_MAIL_FROM": "infradex@bench.example",
        "INFRADEX_BASE_URL": f"http://127.0.0.1:{port}",
    }
    for name in ("INFRADEX_DATABASE_URL", "INFRADEX_ALERTING", "INFRADEX_HEARTBEAT_URL"):
        env.pop(name, None)
    children.start("infradex", [PYTHON, "-m", "infradex", "serve", "--port", str(port)], env)
    return f"http://127.0.0.1:{port}"


async def infradex_quiet(session: Any, url: str) -> bool:
    """The check is up and no incident is open."""
    status, text = await get(session, f"{url}/api/v1/checks")
    if status != 200:
        return False
    check = next((c for c in json.loads(text)["items"] if c["id"] == CHECK_ID), None)
    if check is None or check["state"] != "up":
        return False
    status, text = await get(session, f"{url}/api/v1/incidents?status=open")
    return status == 200 and json.loads(text)["total"] == 0


# ------------------------------------------------------------------------------ the peer
def start_peer(children: Children, target: Target, inbox: Inbox) -> dict[str, str]:
    work = children.work
    bb_port, am_port = free_port(), free_port()
    (work / "blackbox.yml").write_text(
        "modules:\n"
        "  http_2xx:\n"
        "    prober: http\n"
        "    timeout: 2s\n"
        "    http:\n"
        "      preferred_ip_protocol: ip4\n"
        "      ip_protocol_fallback: false\n"
    )
    children.start(
        "blackbox_exporter",
        [
            BLACKBOX,
            f"--config.file={work / 'blackbox.yml'}",
            f"--web.listen-address=127.0.0.1:{bb_port}",
            "--log.level=warn",
        ],
    )
    receivers = "".join(
        f"  - name: {s.name}\n"
        f"    email_configs:\n"
        f"      - {{to: {s.recipient}, send_resolved: true}}\n"
        for s in PEERS
    )
    (work / "alertmanager.yml").write_text(
        "global:\n"
        f"  smtp_smarthost: 127.0.0.1:{inbox.port}\n"
        "  smtp_from: alertmanager@bench.example\n"
        "  smtp_require_tls: false\n"
        "route:\n"
        "  receiver: nobody\n"
        "  group_by: [alertname, instance, variant]\n"
        "  group_wait: 0s\n"
        "  group_interval: 10s\n"
        "  repeat_interval: 4h\n"
        "  routes:\n"
        "    - {matchers: ['variant=\"eval1s\"'], receiver: prom-eval1s}\n"
        "    - {matchers: ['variant=\"eval10s\"'], receiver: prom-eval10s, continue: true}\n"
        "    - {matchers: ['variant=\"eval10s\"'], receiver: prom-eval10s-gw30, "
        "group_wait: 30s}\n"
        "receivers:\n"
        "  - name: nobody\n" + receivers
    )
    children.start(
        "alertmanager",
        [
            ALERTMANAGER,
            f"--config.file={work / 'alertmanager.yml'}",
            f"--storage.path={work / 'alertmanager-data'}",
            f"--web.listen-address=127.0.0.1:{am_port}",
            "--cluster.listen-address=",  # no gossip port
            "--log.level=warn",
        ],
    )
    (work / "rules.yml").write_text(
        "groups:\n"
        "  - name: bench\n"
        "    rules:\n"
        "      - alert: TargetDown\n"
        "        expr: probe_success == 0\n"
        "        for: 20s\n"
    )
    urls = {
        "blackbox": f"http://127.0.0.1:{bb_port}",
        "alertmanager": f"http://127.0.0.1:{am_port}",
    }
    for variant, evaluation in (("eval10s", "10s"), ("eval1s", "1s")):
        port = free_port()
        config = work / f"prometheus-{variant}.yml"
        config.write_text(
            "global:\n"
            "  scrape_interval: 10s\n"
            "  scrape_timeout: 5s\n"
            f"  evaluation_interval: {evaluation}\n"
            f"  external_labels: {{variant: {variant}}}\n"
            f"rule_files: [{work / 'rules.yml'}]\n"
            "alerting:\n"
            "  alertmanagers:\n"
            f"    - static_configs: [{{targets: ['127.0.0.1:{am_port}']}}]\n"
            "scrape_configs:\n"
            "  - job_name: blackbox\n"
            "    metrics_path: /probe\n"
            "    params: {module: [http_2xx]}\n"
            f"    static_configs: [{{targets: ['{target.url('/' + variant)}']}}]\n"
            "    relabel_configs:\n"
            "      - {source_labels: [__address__], target_label: __param_target}\n"
            "      - {source_labels: [__param_target], target_label: instance}\n"
            f"      - {{target_label: __address__, replacement: '127.0.0.1:{bb_port}'}}\n"
        )
        children.start(
            f"prometheus-{variant}",
            [
                PROMETHEUS,
                f"--config.file={config}",
                f"--storage.tsdb.path={work / ('tsdb-' + variant)}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--rules.alert.resend-delay=1h",
                "--log.level=warn",
            ],
        )
        urls[f"prometheus-{variant}"] = f"http://127.0.0.1:{port}"
    return urls


async def peer_quiet(session: Any, urls: dict[str, str]) -> bool:
    """Both Prometheus servers see the probe succeed and hold no pending or firing alert, and
    Alertmanager has no aggregation group left (so the next alert starts a new one)."""
    for variant in ("eval10s", "eval1s"):
        base = urls[f"prometheus-{variant}"]
        status, text = await get(session, f"{base}/api/v1/query?query=probe_success")
        result = json.loads(text)["data"]["result"] if status == 200 else []
        if len(result) != 1 or result[0]["value"][1] != "1":
            return False
        status, text = await get(session, f"{base}/api/v1/alerts")
        if status != 200 or json.loads(text)["data"]["alerts"]:
            return False
    status, text = await get(session, f"{urls['alertmanager']}/metrics")
    groups = [
        line.split()[-1]
        for line in text.splitlines()
        if line.startswith("alertmanager_dispatcher_aggregation_groups ")
    ]
    return status == 200 and groups == ["0"]


# ------------------------------------------------------------------------------ rounds
async def one_round(
    index: int,
    rng: random.Random,
    target: Target,
    inboxes: dict[str, Inbox],
    streams: tuple[Stream, ...],
    quiet: Callable[[], Awaitable[bool]],
    say: Callable[[str], None],
) -> dict[str, Any]:
    await until("every system up and quiet", quiet, CLEAR_TIMEOUT)
    await asyncio.sleep(rng.uniform(0, INTERVAL))
    flip_at = time.time()
    target.down = True
    pages: dict[str, Mail | None] = {s.name: None for s in streams}
    deadline = time.monotonic() + PAGE_TIMEOUT
    while time.monotonic() < deadline and any(m is None for m in pages.values()):
        for s in streams:
            if pages[s.name] is None:
                pages[s.name] = inboxes[s.inbox].first(s.recipient, s.page_prefix, flip_at)
        await asyncio.sleep(0.05)
    await asyncio.sleep(rng.uniform(0, INTERVAL))  # the recovery too at a random phase
    up_at = time.time()
    target.down = False
    resolves: dict[str, Mail | None] = {s.name: None for s in streams if pages[s.name]}
    deadline = time.monotonic() + CLEAR_TIMEOUT
    while time.monotonic() < deadline and any(m is None for m in resolves.values()):
        for name in resolves:
            s = next(s for s in streams if s.name == name)
            if resolves[name] is None:
                resolves[name] = inboxes[s.inbox].first(s.recipient, s.resolve_prefix, up_at)
        await asyncio.sleep(0.1)
    result: dict[str, Any] = {"round": index, "flip_at": flip_at, "up_at": up_at, "streams": {}}
    parts = []
    for s in streams:
        page, resolve = pages[s.name], resolves.get(s.name)
        failing = target.failures(s.path, flip_at)
        failing = [t for t in failing if t < up_at]
        last_up = target.last_before(s.path, flip_at)
        third = failing[THRESHOLD - 1] if len(failing) >= THRESHOLD else None
        entry = {
            "page_s": page.at - flip_at if page else None,
            "page_subject": page.subject if page else None,
            "resolve_s": resolve.at - up_at if resolve else None,
            "last_probe_before_flip_s": flip_at - last_up if last_up else None,
            "first_failure_s": failing[0] - flip_at if failing else None,
            "third_failure_s": third - flip_at if third else None,
            "page_after_third_failure_s": page.at - third if page and third else None,
        }
        result["streams"][s.name] = entry
        shown = f"{entry['page_s']:.1f}" if entry["page_s"] is not None else "MISSED"
        parts.append(f"{s.name} {shown}")
    say(f"round {index + 1}: " + ", ".join(parts) + " s")
    return result


def _versions(peer: bool) -> dict[str, str]:
    import aiohttp
    import aiosmtpd

    def first_line(command: list[str]) -> str:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0]

    found = {
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
        "aiosmtpd": aiosmtpd.__version__,
        "pythonpath": os.environ.get("PYTHONPATH", ""),
        "commit": subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
    }
    if peer:
        found["prometheus"] = first_line([PROMETHEUS, "--version"])
        found["alertmanager"] = first_line([ALERTMANAGER, "--version"])
        found["blackbox_exporter"] = first_line([BLACKBOX, "--version"])
    return found


async def run(args: argparse.Namespace) -> dict[str, Any]:
    import aiohttp
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console()
    streams = (INFRADEX, *PEERS) if args.peer else (INFRADEX,)
    results: dict[str, Any] = {
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join(sys.argv),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_start": Path("/proc/loadavg").read_text().split()[:3],
        },
        "versions": _versions(args.peer),
        "interval_s": INTERVAL,
        "threshold": THRESHOLD,
        "target_s": TARGET_S,
        "seed": args.seed,
        "streams": {s.name: s.label for s in streams},
        "rounds": [],
    }
    rng = random.Random(args.seed)
    work = Path(tempfile.mkdtemp(prefix="infradex-alert-latency-"))
    children = Children(work)
    target = Target()
    inboxes = {"infradex": Inbox(), "peer": Inbox()}
    await target.start()
    for inbox in inboxes.values():
        inbox.start()
    try:
        infradex_url = start_infradex(children, target, inboxes["infradex"])
        peer_urls = start_peer(children, target, inboxes["peer"]) if args.peer else {}
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session:

            async def quiet() -> bool:
                for name in children.processes:
                    children.alive(name)
                if not await infradex_quiet(session, infradex_url):
                    return False
                return not args.peer or await peer_quiet(session, peer_urls)

            console.print(
                f"infradex at {infradex_url}"
                + (f", Prometheus at {peer_urls['prometheus-eval10s']}" if args.peer else "")
                + f"; work directory {work}"
            )
            progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TextColumn("{task.completed}/{task.total} rounds"),
                TimeElapsedColumn(),
                console=console,
            )
            with progress:
                task = progress.add_task("alert latency", total=args.rounds)
                for index in range(args.rounds):
                    result = await one_round(
                        index, rng, target, inboxes, streams, quiet, progress.console.print
                    )
                    results["rounds"].append(result)
                    progress.advance(task)
                    args.out.parent.mkdir(parents=True, exist_ok=True)
                    args.out.write_text(json.dumps(results, indent=2))
    finally:
        children.stop()
        for inbox in inboxes.values():
            inbox.stop()
        await target.stop()
        if args.keep:
            console.print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    results["machine"]["loadavg_end"] = Path("/proc/loadavg").read_text().split()[:3]
    return results


# ------------------------------------------------------------------------------ report
def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the ranked values (numpy's default)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarise(results: dict[str, Any]) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for name in results["streams"]:
        entries = [r["streams"][name] for r in results["rounds"] if name in r["streams"]]
        pages = [e["page_s"] for e in entries if e["page_s"] is not None]

        def med(key: str, entries: list[dict[str, Any]] = entries) -> float | None:
            values = [e[key] for e in entries if e[key] is not None]
            return statistics.median(values) if values else None

        spans = [
            e["third_failure_s"] - e["first_failure_s"]
            for e in entries
            if e["third_failure_s"] is not None and e["first_failure_s"] is not None
        ]
        out[name] = {
            "rounds": len(entries),
            "missed": len(entries) - len(pages),
            "min": min(pages) if pages else None,
            "median": statistics.median(pages) if pages else None,
            "p90": percentile(pages, 0.9) if pages else None,
            "max": max(pages) if pages else None,
            "mean": statistics.fmean(pages) if pages else None,
            "within_target": sum(p <= results["target_s"] for p in pages),
            "first_failure": med("first_failure_s"),
            "first_to_third": statistics.median(spans) if spans else None,
            "after_third": med("page_after_third_failure_s"),
            "after_third_max": max(
                (
                    e["page_after_third_failure_s"]
                    for e in entries
                    if e["page_after_third_failure_s"]
                ),
                default=None,
            ),
            "resolve": med("resolve_s"),
        }
    return out


def _s(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def tables(results: dict[str, Any]) -> list[tuple[str, list[str], list[list[str]]]]:
    summary = summarise(results)
    mine = summary.get("infradex", {})
    latency = []
    for name, label in results["streams"].items():
        s = summary[name]
        ratio = (
            f"{mine['median'] / s['median']:.2f}×"
            if name != "infradex" and s["median"] and mine.get("median")
            else "-"
        )
        latency.append(
            [
                label,
                f"{s['rounds'] - s['missed']}/{s['rounds']}",
                _s(s["min"]),
                _s(s["median"]),
                _s(s["p90"]),
                _s(s["max"]),
                f"{s['within_target']}/{s['rounds']}",
                ratio,
            ]
        )
    parts = [
        [
            label,
            _s(summary[name]["first_failure"]),
            _s(summary[name]["first_to_third"]),
            _s(summary[name]["after_third"], 2),
            _s(summary[name]["after_third_max"], 2),
            _s(summary[name]["resolve"]),
        ]
        for name, label in results["streams"].items()
    ]
    target = f"≤ {results['target_s']:.0f} s"
    return [
        (
            f"alert latency, target down → first page accepted by the mail server (s; "
            f"{len(results['rounds'])} rounds)",
            [
                "system",
                "pages",
                "min",
                "median",
                "p90",
                "max",
                f"rounds {target}",
                "infradex ÷ it (median)",
            ],
            latency,
        ),
        (
            "where the time goes (medians, s)",
            [
                "system",
                "flip → 1st failing probe",
                "1st → 3rd failing probe",
                "3rd failing probe → page",
                "(max)",
                "target up → resolve mail",
            ],
            parts,
        ),
    ]


def report(results: dict[str, Any], markdown: bool) -> None:
    for title, headings, rows in tables(results):
        print_table(title, headings, rows, markdown)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--seed", type=int, default=1, help="seeds the phase of each flip")
    parser.add_argument(
        "--no-peer", dest="peer", action="store_false", help="infradex only (no Prometheus)"
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--report", type=Path, help="print the tables of an earlier run")
    parser.add_argument("--markdown", action="store_true")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.report:
        report(json.loads(args.report.read_text()), args.markdown)
        return 0
    if args.peer:
        missing = [p for p in (PROMETHEUS, BLACKBOX, ALERTMANAGER) if shutil.which(p) is None]
        if missing:
            print(f"{', '.join(missing)} missing: {APT}; or --no-peer", file=sys.stderr)
            return 2
    results = asyncio.run(run(args))
    results["summary"] = summarise(results)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    report(results, markdown=False)
    print(f"results in {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
