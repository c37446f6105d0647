"""A client that sends its request head slowly is dropped within a few seconds by a real
`infradex serve` (measured before: still connected after 25 s)."""

from __future__ import annotations

import os
import socket
import time
from pathlib import Path

from integration_serve import free_port, serve, wait_ready


def test_a_slow_request_head_is_dropped(tmp_path: Path) -> None:
    environment = {
        **os.environ,
        "INFRADEX_DATA_DIR": str(tmp_path),
        "INFRADEX_CATALOG": "",
        "INFRADEX_HEADER_TIMEOUT": "2",
    }
    port = free_port()
    process = serve(environment, port)
    try:
        wait_ready(port, process)
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            started = time.monotonic()
            sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
            closed_after = None
            while time.monotonic() - started < 12:
                try:
                    sock.sendall(b"X-a: b\r\n")  # one header line a second, never the end
                    sock.settimeout(1)
                    if sock.recv(1024) == b"":
                        closed_after = time.monotonic() - started
                        break
                except TimeoutError:
                    continue
                except OSError:
                    closed_after = time.monotonic() - started
                    break
        assert closed_after is not None and closed_after < 5, closed_after
    finally:
        process.terminate()
        process.wait(timeout=15)
