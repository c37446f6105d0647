"""Start `infradex serve` as a real process (PYTHONPATH passes on with the environment)."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request

__all__ = ["free_port", "free_udp_tcp_port", "serve", "wait_ready"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_tcp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1 (a DNS server listens on both)."""
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


def serve(environment: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "infradex", "serve", "--port", str(port)]
    return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)  # fmt: skip


def wait_ready(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Until /readyz says ready (a fresh PostgreSQL store takes a while to migrate on a
    loaded machine), or the process exits, or ``seconds`` pass."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(process.stdout.read().decode() if process.stdout else "exited")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as r:
                if json.load(r)["status"] == "ready":
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the server did not become ready in {seconds} s")
