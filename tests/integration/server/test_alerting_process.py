"""`infradex serve` killed with SIGKILL in the middle of an escalation: after a restart the
escalation carries on at the right step, at the right time, and nothing is sent twice.

Real everything: a local HTTP target that fails, an SMTP server (aiosmtpd) recording when each
message arrives, and the server as a process on SQLite."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from .process_harness import CATALOG, Inbox, free_port, serve_quietly, wait_for

STEP_2_AFTER = 20  # seconds


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
    port = free_port()
    first = serve_quietly(env, port)
    try:
        wait_for(lambda: len(inbox.mails) >= 1, 30, "the first page")
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
    second = serve_quietly(env, port)
    try:
        wait_for(lambda: len(inbox.mails) >= 2, STEP_2_AFTER + 30, "step 2 after the restart")
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
