"""Probe cost: CPU per HTTP(S) check of infradex's probe, aiohttp, blackbox_exporter, check_http.

    .venv/bin/python bench/probe_cost.py [--seconds 2] [--repeat 3] [--concurrency 1,10]

One local target for everyone: nginx (Debian) serving a 1 KiB static file over http:// and
https:// (a trustme certificate for 127.0.0.1; every client verifies it against the trustme CA
except check_http, which cannot verify a chain), started as this script's child on its own
ports and stopped at the end (TLS 1.2 and 1.3 offered, as real sites do). Every check opens a
fresh connection; infradex's probe resumes its TLS session between checks of the same target
(``probes/resumption.py``), and the row "infradex (full handshakes)" keeps no session, so every
one of its checks is a full handshake, as every other client's is. The "resumed" column is the
share of checks that resumed.

Each client runs on its own core (``sched_setaffinity``; nginx and the drivers get the other
one) for ``--seconds`` after a warm-up, with ``--concurrency`` checks in flight, ``--repeat``
times in interleaved rounds (the table shows the median and the range), and the CPU
(user + system, so the kernel's work for its sockets is included) of exactly the process
doing the checks is counted:

* infradex's probe (``probe_for(url)``), on the default asyncio loop and on uvloop if it is
  installed, and the same request made with aiohttp (bare, and with the TraceConfig a probe
  needs for its timing phases) and with bare asyncio streams (the floor of any asyncio
  client): in a child process that reads its own ``getrusage`` before and after;
* prometheus-blackbox-exporter (``/probe?target=…&module=http_2xx``): a driver process asks
  it over one keep-alive connection per concurrent check; only the exporter's CPU counts,
  read from ``/proc/<pid>/stat`` (so serving the /probe request is part of its cost, as when
  Prometheus scrapes it);
* check_http (monitoring-plugins): one process per check, as Nagios/Icinga run it; the CPU
  of those processes is summed from ``os.wait4``.

Results: a table on stdout (``--markdown`` for docs/benchmarks.md) and
``bench/results/probe_cost.json`` (``--report FILE`` prints its tables again). Internal use:
``--child NAME --url URL`` runs one in-process client and prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BLACKBOX = "/usr/bin/prometheus-blackbox-exporter"
CHECK_HTTP = "/usr/lib/nagios/plugins/check_http"
WARMUP_CHECKS = 300
CLIENTS = (
    "infradex",
    "infradex (full handshakes)",
    "infradex + uvloop",
    "aiohttp",
    "aiohttp + trace",
    "asyncio streams (floor)",
    "blackbox_exporter",
    "check_http",
)

# a check; True/False: it resumed a TLS session or not (None: the client cannot tell)
Check = Callable[[], Awaitable[bool | None]]


# ================================================================ in-process clients (child)
def tls_context(ca_file: str) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=ca_file)


async def infradex_check(url: str, ca_file: str, resume: bool) -> Check:
    from infradex.probes import ProbeRequest, probe_for
    from infradex.probes.resumption import SESSIONS

    if not resume:
        SESSIONS.capacity = 0  # nothing kept: every https check a full handshake
    request = ProbeRequest(url, timeout=5.0, ca_file=ca_file)
    probe = probe_for(url)

    async def check() -> bool | None:
        seen = await probe(request)
        if not seen.ok or seen.values.get("STATUS") != 200:
            raise RuntimeError(f"{seen.error_kind}: {seen.error}")
        resumed: bool | None = seen.details.get("tls_resumed")
        return resumed

    return check


async def aiohttp_check(url: str, ca_file: str, trace: bool) -> Check:
    import aiohttp

    traces = []
    if trace:  # what an aiohttp-based probe needs for its phases
        config = aiohttp.TraceConfig()
        marks: dict[str, float] = {}

        async def mark(_session: Any, context: Any, _params: Any) -> None:
            context.marks = marks
            marks[str(len(marks))] = time.perf_counter()

        for signal in (
            config.on_request_start,
            config.on_connection_create_start,
            config.on_connection_create_end,
            config.on_request_headers_sent,
            config.on_response_chunk_received,
            config.on_request_end,
        ):
            signal.append(mark)
        traces.append(config)
    connector = aiohttp.TCPConnector(
        force_close=True, limit=0, ssl=tls_context(ca_file) if url.startswith("https") else False
    )
    session = aiohttp.ClientSession(
        connector=connector, trace_configs=traces, timeout=aiohttp.ClientTimeout(total=5)
    )

    async def check() -> bool | None:
        async with session.get(url, allow_redirects=False) as response:
            await response.content.read(1024 * 1024)
            if response.status != 200:
                raise RuntimeError(f"status {response.status}")
        return None

    return check


async def streams_check(url: str, ca_file: str) -> Check:
    host, _, port = url.split("/")[2].partition(":")
    context = tls_context(ca_file) if url.startswith("https") else None
    request = f"GET /index.html HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"

    async def check() -> bool | None:
        reader, writer = await asyncio.open_connection(host, int(port), ssl=context)
        writer.write(request.encode())
        data = await reader.read(1024 * 1024)
        writer.close()
        if not data.startswith(b"HTTP/1.1 200"):
            raise RuntimeError(f"unexpected answer {data[:40]!r}")
        return None

    return check


async def measure(check: Check, seconds: float, concurrency: int) -> dict[str, Any]:
    for _ in range(WARMUP_CHECKS):
        await check()
    done = errors = resumed = 0
    told = False  # the client says whether it resumed
    stop = time.monotonic() + seconds

    async def worker() -> None:
        nonlocal done, errors, resumed, told
        while time.monotonic() < stop:
            try:
                outcome = await check()
                told |= outcome is not None
                resumed += bool(outcome)
            except Exception:
                errors += 1
            done += 1

    before, started = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    after, ended = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
    return {
        "checks": done,
        "errors": errors,
        "seconds": ended - started,
        "user_s": after.ru_utime - before.ru_utime,
        "sys_s": after.ru_stime - before.ru_stime,
        "resumed": resumed if told else None,
    }


def child(args: argparse.Namespace) -> int:
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    name = args.child

    async def main() -> dict[str, Any]:
        if name.startswith("infradex"):
            check = await infradex_check(args.url, args.ca, resume="full" not in name)
        elif name.startswith("aiohttp"):
            check = await aiohttp_check(args.url, args.ca, trace="trace" in name)
        else:
            check = await streams_check(args.url, args.ca)
        return await measure(check, args.seconds, args.concurrency)

    if "uvloop" in name:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    print(json.dumps(asyncio.run(main())))
    return 0


# ====================================================================== peers (driven here)
def proc_cpu(pid: int) -> tuple[float, float]:
    """User and system CPU seconds of a process (all its threads) from /proc/<pid>/stat."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def blackbox_driver(args: argparse.Namespace) -> int:
    """Ask the exporter to probe, ``--concurrency`` at a time; count only its CPU."""
    import aiohttp

    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    pid = args.exporter_pid
    probe_url = f"{args.exporter}/probe"

    async def main() -> dict[str, Any]:
        connector = aiohttp.TCPConnector(limit=args.concurrency)  # keep-alive to the exporter
        async with aiohttp.ClientSession(connector=connector) as session:

            async def check() -> None:
                query = {"target": args.url, "module": "http_2xx"}
                async with session.get(probe_url, params=query) as response:
                    text = await response.text()
                if "\nprobe_success 1" not in text:
                    raise RuntimeError("probe_success is not 1")

            for _ in range(WARMUP_CHECKS // 3):
                await check()
            done = errors = 0
            stop = time.monotonic() + args.seconds

            async def worker() -> None:
                nonlocal done, errors
                while time.monotonic() < stop:
                    try:
                        await check()
                    except Exception:
                        errors += 1
                    done += 1

            user0, sys0 = proc_cpu(pid)
            started = time.monotonic()
            await asyncio.gather(*(worker() for _ in range(args.concurrency)))
            ended = time.monotonic()
            user1, sys1 = proc_cpu(pid)
            return {
                "checks": done,
                "errors": errors,
                "seconds": ended - started,
                "user_s": user1 - user0,
                "sys_s": sys1 - sys0,
            }

    print(json.dumps(asyncio.run(main())))
    return 0


def check_http_driver(args: argparse.Namespace) -> int:
    """Run check_http, one process per check, ``--concurrency`` at a time; sum their CPU."""
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})  # the check_http processes inherit it
    host, _, port = args.url.split("/")[2].partition(":")
    command = [CHECK_HTTP, "-I", host, "-p", port, "-u", "/index.html", "-t", "5"]
    if args.url.startswith("https"):
        command.append("-S")

    def spawn() -> int:
        return os.posix_spawn(CHECK_HTTP, command, os.environ)

    def run(seconds: float | None, count: int | None) -> dict[str, Any]:
        running: set[int] = set()
        done = errors = 0
        user = system = 0.0
        stop = time.monotonic() + (seconds or 0)
        started = time.monotonic()
        launched = 0
        while True:
            more = (time.monotonic() < stop) if seconds else launched < (count or 0)
            while more and len(running) < args.concurrency:
                running.add(spawn())
                launched += 1
                more = (time.monotonic() < stop) if seconds else launched < (count or 0)
            if not running:
                break
            pid, status, usage = os.wait4(-1, 0)
            running.discard(pid)
            done += 1
            errors += os.waitstatus_to_exitcode(status) != 0
            user += usage.ru_utime
            system += usage.ru_stime
        return {
            "checks": done,
            "errors": errors,
            "seconds": time.monotonic() - started,
            "user_s": user,
            "sys_s": system,
        }

    run(None, WARMUP_CHECKS // 10)
    print(json.dumps(run(args.seconds, None)))
    return 0


# ============================================================================ orchestration
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_ready(url: str, process: subprocess.Popen[bytes], context: ssl.SSLContext | None) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2, context=context) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within 30 s")


def start_nginx(work: Path, cert: Path, key: Path, cpu: int | None) -> tuple[Any, int, int]:
    site = work / "site"
    site.mkdir()
    (site / "index.html").write_text("<!doctype html><title>probe target</title>\n" + "x" * 980)
    http_port, https_port = free_port(), free_port()
    conf = work / "nginx.conf"
    conf.write_text(f"""
daemon off; worker_processes 1; pid {work}/nginx.pid; error_log {work}/nginx.log;
events {{ worker_connections 4096; }}
http {{
  access_log off; client_body_temp_path {work}/body; proxy_temp_path {work}/p;
  fastcgi_temp_path {work}/f; uwsgi_temp_path {work}/u; scgi_temp_path {work}/s;
  types {{ text/html html; }}
  server {{
    listen 127.0.0.1:{http_port}; listen 127.0.0.1:{https_port} ssl;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_certificate {cert}; ssl_certificate_key {key};
    root {site};
  }}
}}
""")
    command = ["nginx", "-c", str(conf), "-p", str(work)]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{http_port}/index.html", process, None)
    return process, http_port, https_port


def start_blackbox(work: Path, ca_file: Path, cpu: int | None) -> tuple[Any, str]:
    config = work / "blackbox.yml"
    config.write_text(f"""
modules:
  http_2xx:
    prober: http
    timeout: 5s
    http:
      preferred_ip_protocol: ip4
      ip_protocol_fallback: false
      tls_config:
        ca_file: {ca_file}
""")
    port = free_port()
    command = [
        BLACKBOX,
        f"--config.file={config}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--log.level=error",
    ]
    if cpu is not None:
        command = ["taskset", "-c", str(cpu), *command]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_ready(url + "/metrics", process, None)
    return process, url


def run_child(argv: list[str]) -> dict[str, Any]:
    output = subprocess.run(
        [PYTHON, __file__, *argv], capture_output=True, text=True, check=False, timeout=600
    )
    if output.returncode != 0:
        raise RuntimeError(f"{argv[:2]} failed: {output.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(output.stdout.strip().splitlines()[-1])
    return result


def versions() -> dict[str, str]:
    def first_line(command: list[str]) -> str:
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        return (done.stdout or done.stderr).strip().splitlines()[0]

    import aiohttp

    found = {
        "python": platform.python_version(),
        "openssl": ssl.OPENSSL_VERSION,
        "aiohttp": aiohttp.__version__,
        "nginx": first_line(["nginx", "-v"]),
        "blackbox_exporter": first_line([BLACKBOX, "--version"]),
        "check_http": first_line([CHECK_HTTP, "-V"]),
        "cpus": str(os.cpu_count()),
    }
    try:
        import uvloop

        found["uvloop"] = uvloop.__version__
    except ImportError:
        pass
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="measured seconds per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per client (median shown)")
    parser.add_argument("--concurrency", default="1,10", help="checks in flight, e.g. 1,10")
    parser.add_argument("--clients", default=",".join(CLIENTS))
    parser.add_argument("--schemes", default="http,https")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "probe_cost.json")
    parser.add_argument("--report", type=Path, help="print the tables of an earlier run's JSON")
    parser.add_argument("--markdown", action="store_true", help="print Markdown tables")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--ca", help=argparse.SUPPRESS)
    parser.add_argument("--cpu", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--exporter", help=argparse.SUPPRESS)
    parser.add_argument("--exporter-pid", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        args.concurrency = int(args.concurrency)
    if args.child == "blackbox_exporter":
        return blackbox_driver(args)
    if args.child == "check_http":
        return check_http_driver(args)
    if args.child:
        return child(args)

    console = Console(width=120)
    if args.report:
        report(json.loads(args.report.read_text()), console, args.markdown)
        return 0
    for tool in ("nginx", BLACKBOX, CHECK_HTTP, "taskset"):
        if shutil.which(tool) is None:
            console.print(
                f"{tool} is missing: apt-get install nginx prometheus-blackbox-exporter "
                "monitoring-plugins-basic util-linux",
                style="red",
            )
            return 2
    import trustme

    clients = [c for c in args.clients.split(",") if c]
    try:
        import uvloop  # noqa: F401
    except ImportError:
        console.print("uvloop is not installed: skipping 'infradex + uvloop'")
        clients = [c for c in clients if "uvloop" not in c]
    # the target and the drivers on one core, the client measured on the other
    target_cpu, client_cpu = (0, 1) if (os.cpu_count() or 1) >= 2 else (None, None)
    levels = [int(c) for c in str(args.concurrency).split(",")]
    results: dict[str, Any] = {"versions": versions(), "seconds": args.seconds, "runs": []}
    with tempfile.TemporaryDirectory(prefix="infradex-probe-cost-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # nginx's worker (user www-data) reads the site from here
        ca = trustme.CA()
        leaf = ca.issue_cert("127.0.0.1")
        ca_file, cert, key = work / "ca.pem", work / "cert.pem", work / "key.pem"
        ca.cert_pem.write_to_path(str(ca_file))
        leaf.private_key_pem.write_to_path(str(key))
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        nginx, http_port, https_port = start_nginx(work, cert, key, target_cpu)
        blackbox, exporter_url = start_blackbox(work, ca_file, client_cpu)
        cpus = {
            "target": target_cpu,
            "client": client_cpu,
            "exporter_url": exporter_url,
            "exporter_pid": blackbox.pid,
        }
        try:
            urls = {
                "http": f"http://127.0.0.1:{http_port}/index.html",
                "https": f"https://127.0.0.1:{https_port}/index.html",
            }
            for scheme in args.schemes.split(","):
                for concurrency in levels:
                    for round_ in range(args.repeat):  # interleaved: noise hits every client
                        for client in clients:
                            run = measure_client(
                                client, urls[scheme], ca_file, args, concurrency, cpus
                            )
                            run.update(
                                client=client, scheme=scheme, concurrency=concurrency, round=round_
                            )
                            results["runs"].append(run)
                            console.print(
                                f"{scheme:5} c={concurrency:<3} {client:24} "
                                f"{run['cpu_ms_per_check']:.3f} CPU-ms/check, "
                                f"{run['checks_per_s']:.0f} checks/s, {run['errors']} errors"
                            )
        finally:
            for process in (blackbox, nginx):
                process.terminate()
                process.wait(10)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2))
    report(results, console, args.markdown)
    console.print(f"results in {args.out}")
    return 0


def measure_client(
    client: str,
    url: str,
    ca_file: Path,
    args: argparse.Namespace,
    concurrency: int,
    cpus: dict[str, Any],
) -> dict[str, Any]:
    argv = ["--child", client, "--url", url, "--ca", str(ca_file)]
    argv += ["--seconds", str(args.seconds), "--concurrency", str(concurrency)]
    if client == "blackbox_exporter":
        argv += ["--exporter", cpus["exporter_url"], "--exporter-pid", str(cpus["exporter_pid"])]
        cpu = cpus["target"]  # the driver; the exporter itself runs on the client core
    else:
        cpu = cpus["client"]
    if cpu is not None:
        argv += ["--cpu", str(cpu)]
    run = run_child(argv)
    run["cpu_ms_per_check"] = (run["user_s"] + run["sys_s"]) * 1000 / max(run["checks"], 1)
    run["checks_per_s"] = run["checks"] / run["seconds"]
    return run


def summarize(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per scheme, concurrency and client: medians over the rounds, and the range."""
    groups: dict[tuple[str, int, str], list[dict[str, Any]]] = {}
    for run in results["runs"]:
        groups.setdefault((run["scheme"], run["concurrency"], run["client"]), []).append(run)
    rows = []
    for (scheme, concurrency, client), runs in groups.items():
        cpu = [r["cpu_ms_per_check"] for r in runs]
        rows.append(
            {
                "scheme": scheme,
                "concurrency": concurrency,
                "client": client,
                "cpu_ms": statistics.median(cpu),
                "cpu_min": min(cpu),
                "cpu_max": max(cpu),
                "user_ms": statistics.median(
                    r["user_s"] * 1000 / max(r["checks"], 1) for r in runs
                ),
                "sys_ms": statistics.median(r["sys_s"] * 1000 / max(r["checks"], 1) for r in runs),
                "checks_per_s": statistics.median(r["checks_per_s"] for r in runs),
                "errors": sum(r["errors"] for r in runs),
                "rounds": len(runs),
                # the share of checks that resumed a TLS session (None: the client cannot tell)
                "resumed": None
                if any(r.get("resumed") is None for r in runs)
                else sum(r["resumed"] for r in runs) / max(sum(r["checks"] for r in runs), 1),
            }
        )
    return rows


def report(results: dict[str, Any], console: Console, markdown: bool) -> None:
    rows = summarize(results)
    by_name = {(r["scheme"], r["concurrency"], r["client"]): r["cpu_ms"] for r in rows}
    headings = ("scheme", "in flight", "client", "CPU ms/check", "(min–max)", "user", "sys")
    headings += ("checks/s", "resumed")
    cells = [
        (
            row["scheme"],
            str(row["concurrency"]),
            row["client"],
            f"{row['cpu_ms']:.3f}",
            f"{row['cpu_min']:.3f}–{row['cpu_max']:.3f}",
            f"{row['user_ms']:.3f}",
            f"{row['sys_ms']:.3f}",
            f"{row['checks_per_s']:,.0f}" + (f" ({row['errors']} errors)" if row["errors"] else ""),
            "—" if row["resumed"] is None or row["scheme"] == "http" else f"{row['resumed']:.0%}",
        )
        for row in rows
    ]
    if markdown:
        print("| " + " | ".join(headings) + " |")
        print("|" + "|".join("---" if h == "client" else "---:" for h in headings) + "|")
        for line in cells:
            print("| " + " | ".join(line) + " |")
        return
    rounds = max((row["rounds"] for row in rows), default=0)
    table = Table(
        title=f"probe cost per check, fresh connections; median of {rounds} runs of "
        f"{results['seconds']:g} s"
    )
    for heading in headings:
        table.add_column(heading, justify="left" if heading == "client" else "right")
    for line in cells:
        table.add_row(*line)
    console.print(table)
    for (scheme, concurrency, client), cpu in by_name.items():
        peer = by_name.get((scheme, concurrency, "blackbox_exporter"))
        if client.startswith("infradex") and peer:
            console.print(
                f"{scheme} c={concurrency} {client}: {cpu / peer:.2f}× blackbox_exporter's CPU"
            )


if __name__ == "__main__":
    raise SystemExit(main())
