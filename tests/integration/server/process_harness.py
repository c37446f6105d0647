"""Real processes for escalation tests: a local target that fails, an SMTP server that
records when each message arrives, a small organisation's catalog (two schedules, a two-step
policy, one service whose check aims at the target) and `infradex serve` as a process.

The fixtures ``failing_target`` and ``smtp`` are in this directory's conftest."""

from __future__ import annotations

import http.server
import subprocess
import sys
import time
from email import message_from_bytes
from typing import Any

from integration_serve import free_port

__all__ = ["CATALOG", "Failing", "Inbox", "free_port", "serve_quietly", "wait_for"]


class Failing(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


class Inbox:
    def __init__(self) -> None:
        self.mails: list[tuple[float, str, str]] = []  # (arrived, to, subject)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        subject = message_from_bytes(envelope.content)["Subject"]
        self.mails.append((time.monotonic(), envelope.rcpt_tos[0], subject))
        return "250 OK"


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


def serve_quietly(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "infradex", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def wait_for(predicate: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"waited {seconds} s for {what}")
