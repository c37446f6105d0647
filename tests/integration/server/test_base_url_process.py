"""`infradex serve --port N` without INFRADEX_BASE_URL: the links in its messages carry port N
(they used to say 8000 whatever the port). A real server process, a check failing against a
closed local port, a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from .alerting_harness import Inbox, free_port, inbox
from .process_harness import wait_for

__all__ = ["inbox"]  # fixtures

CATALOG = """\
apiVersion: infradex/v1
kind: Person
metadata: {{name: sam}}
spec: {{email: sam@example.org, staff: true}}
---
apiVersion: infradex/v1
kind: EscalationPolicy
metadata: {{name: p}}
spec:
  default: true
  steps: [{{after: 0s, notify: [person:sam]}}]
---
apiVersion: infradex/v1
kind: Service
metadata: {{name: solo}}
spec:
  checks:
    - {{name: home, url: "tcp://127.0.0.1:{closed}", interval: 1s, timeout: 500ms,
        failureThreshold: 1}}
"""


def test_message_links_carry_the_port_the_server_listens_on(tmp_path: Path, inbox: Inbox) -> None:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "org.yaml").write_text(CATALOG.format(closed=free_port()))
    env = {k: v for k, v in os.environ.items() if k != "INFRADEX_BASE_URL"}
    env.update(
        INFRADEX_CATALOG=str(catalog),
        INFRADEX_DATA_DIR=str(tmp_path / "data"),
        INFRADEX_DATABASE_URL="",
        INFRADEX_MONITOR="true",
        INFRADEX_SMTP_URL=inbox.url,
        INFRADEX_MAIL_FROM="infradex@example.org",
    )
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "infradex", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: len(inbox.mails) >= 1, 30, "the page")
    finally:
        server.terminate()
        _, stderr = server.communicate(timeout=15)
    [page] = inbox.mails
    assert re.search(rf"^Incident: http://127\.0\.0\.1:{port}/incidents/\d+$", page.text, re.M)
    assert page.link("Acknowledge").startswith(f"http://127.0.0.1:{port}/act/")
    assert "only this machine can open" not in stderr  # loopback listener: nothing to warn
