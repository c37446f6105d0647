"""`infradex serve` killed with SIGKILL in the middle of an escalation: after a restart the
escalation carries on at the right step, at the right time, and nothing is sent twice.

Real everything: a local HTTP target that fails, an SMTP server (aiosmtpd) recording when each
message arrives, and the server as a process on SQLite."""

from __future__ import annotations

import http.server
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

STEP_2_AFTER = 20  # seconds


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def failing_target() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Failing)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[float, str, str]] = []  # (arrived, to, subject)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        subject = message_from_bytes(envelope.content)["Subject"]
        self.mails.append((time.monotonic(), envelope.rcpt_tos[0], subject))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    box, port = Inbox(), _free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


CATALOG = """\
apiVersion: infradex/v1
kind: Person
metadata: {{name: sam}}
spec: {{email: sam@example.org, staff: true}}
---
apiVersion: infradex/v1
kind: Person
metadata: {{name: val}}
spec: {{email: val@example.org}}
---
apiVersion: infradex/v1
kind: Schedule
metadata: {{name: staff}}
spec:
  layers: [{{name: l, members: [person:sam], start: "2024-01-01"}}]
---
apiVersion: infradex/v1
kind: Schedule
metadata: {{name: volunteers}}
spec:
  layers: [{{name: l, members: [person:val], start: "2024-01-01"}}]
---
apiVersion: infradex/v1
kind: EscalationPolicy
metadata: {{name: p}}
spec:
  default: true
  steps:
    - {{after: 0s, notify: [schedule:staff]}}
    - {{after: {after}s, notify: [schedule:volunteers]}}
---
apiVersion: infradex/v1
kind: Service
metadata: {{name: solo}}
spec:
  checks:
    - {{name: home, url: "{url}", interval: 1s, timeout: 500ms, failureThreshold: 2}}
"""


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "infradex", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_for(predicate: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds} s for {what}")


def test_kill_9_mid_escalation_resumes_at_the_right_step_without_resending(
    tmp_path: Path, failing_target: str, smtp: tuple[Inbox, int]
) -> None:
    inbox, smtp_port = smtp
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "org.yaml").write_text(CATALOG.format(url=failing_target, after=STEP_2_AFTER))
    env = {
        **os.environ,
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(tmp_path / "data"),
        "INFRADEX_DATABASE_URL": "",
        "INFRADEX_MONITOR": "true",
        "INFRADEX_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "INFRADEX_MAIL_FROM": "infradex@example.org",
    }
    port = _free_port()
    first = _serve(env, port)
    try:
        _wait_for(lambda: len(inbox.mails) >= 1, 30, "the first page")
        paged_at = inbox.mails[0][0]
        time.sleep(8)  # inside step 2's delay, long enough that a restarted clock would show
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
    assert [(to, s.split(":")[0]) for _, to, s in inbox.mails] == [
        ("sam@example.org", "[infradex] DOWN #1")
    ]
    second = _serve(env, port)
    try:
        _wait_for(lambda: len(inbox.mails) >= 2, STEP_2_AFTER + 30, "step 2 after the restart")
        time.sleep(3)  # anything re-sent would arrive now
    finally:
        second.send_signal(signal.SIGTERM)
        try:
            second.wait(15)
        except subprocess.TimeoutExpired:
            second.kill()
    recipients = [to for _, to, _ in inbox.mails]
    assert recipients == ["sam@example.org", "val@example.org"], inbox.mails
    assert all(s.startswith("[infradex] DOWN #1:") for _, _, s in inbox.mails)
    # step 2 came on its schedule, counted from the incident's opening, not from the restart
    waited = inbox.mails[1][0] - paged_at
    assert STEP_2_AFTER - 1 <= waited <= STEP_2_AFTER + 5, waited
