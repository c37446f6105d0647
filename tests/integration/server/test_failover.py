"""Two `infradex serve` processes on one PostgreSQL store, mid-escalation: kill -9 the leader
and the other takes over and sends step 2 once; pause the leader (SIGSTOP) past its lease and
resume it, and nothing is sent twice. Real processes, a real SMTP server, a local failing
target (process_harness and this directory's conftest)."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from integration_serve import wait_ready
from live_server import POSTGRES

from .process_harness import CATALOG, Inbox, free_port, serve_quietly, wait_for

pytestmark = pytest.mark.postgresql_only

STEP_2_AFTER = 8  # seconds
LEASE = "2s"


@pytest.fixture
def store_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the two servers."""
    name = f"{make_url(POSTGRES).database}_ha_{secrets.token_hex(4)}"
    admin = create_engine(
        make_url(POSTGRES).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _holder(store_url: str) -> str | None:
    engine = create_engine(make_url(store_url).set(drivername="postgresql+psycopg"))
    try:
        with engine.connect() as connection:
            row = connection.execute(
                text("SELECT holder FROM leases WHERE name = 'alerter' AND expires_at > now()")
            ).first()
    finally:
        engine.dispose()
    return None if row is None else str(row[0])


def _two_servers(
    tmp_path: Path, failing_target: str, smtp_port: int, store_url: str
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    (catalog / "org.yaml").write_text(CATALOG.format(url=failing_target, after=STEP_2_AFTER))
    env = {
        **os.environ,
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(tmp_path / "data"),
        "INFRADEX_DATABASE_URL": store_url,
        "INFRADEX_MONITOR": "true",
        "INFRADEX_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "INFRADEX_MAIL_FROM": "infradex@example.org",
        "INFRADEX_LEADER_LEASE": LEASE,
    }
    port = free_port()
    first = serve_quietly(env, port)
    wait_ready(port, first)  # the first has migrated the store
    return first, serve_quietly(env, free_port())


def _leader_and_follower(
    servers: tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]], store_url: str
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    holder = _holder(store_url)
    assert holder is not None, "nobody leads"
    pid = int(holder.split(":")[1])
    a, b = servers
    assert pid in (a.pid, b.pid), holder
    return (a, b) if a.pid == pid else (b, a)


def _stop(*processes: subprocess.Popen[bytes]) -> None:
    for process in processes:
        if process.poll() is None:
            process.send_signal(signal.SIGCONT)
            process.terminate()
    for process in processes:
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()


def kill_the_leader(
    tmp_path: Path, failing_target: str, smtp: tuple[Inbox, int], store_url: str
) -> None:
    inbox, smtp_port = smtp
    servers = _two_servers(tmp_path, failing_target, smtp_port, store_url)
    try:
        wait_for(lambda: len(inbox.mails) >= 1, 40, "the first page")
        leader, follower = _leader_and_follower(servers, store_url)
        leader.send_signal(signal.SIGKILL)
        leader.wait(10)
        wait_for(lambda: len(inbox.mails) >= 2, STEP_2_AFTER + 30, "step 2 from the other")
        time.sleep(4)  # anything sent twice would arrive now
        holder = _holder(store_url)
        assert holder is not None and int(holder.split(":")[1]) == follower.pid
    finally:
        _stop(*servers)
    assert [to for _, to, _ in inbox.mails] == ["sam@example.org", "val@example.org"]


def pause_the_leader(
    tmp_path: Path, failing_target: str, smtp: tuple[Inbox, int], store_url: str
) -> None:
    inbox, smtp_port = smtp
    servers = _two_servers(tmp_path, failing_target, smtp_port, store_url)
    try:
        wait_for(lambda: len(inbox.mails) >= 1, 40, "the first page")
        leader, follower = _leader_and_follower(servers, store_url)
        leader.send_signal(signal.SIGSTOP)
        # past its lease: the other takes over, and sends step 2 on schedule
        wait_for(lambda: len(inbox.mails) >= 2, STEP_2_AFTER + 30, "step 2 from the other")
        leader.send_signal(signal.SIGCONT)
        time.sleep(6)  # the old leader wakes, finds itself demoted; a late send would show
        holder = _holder(store_url)
        assert holder is not None and int(holder.split(":")[1]) == follower.pid
        assert leader.poll() is None  # demoted, not dead: it still serves pages
    finally:
        _stop(*servers)
    assert [to for _, to, _ in inbox.mails] == ["sam@example.org", "val@example.org"]


def test_kill_9_of_the_leader_mid_escalation_step_2_goes_out_once(
    tmp_path: Path, failing_target: str, smtp: tuple[Inbox, int], store_url: str
) -> None:
    kill_the_leader(tmp_path, failing_target, smtp, store_url)


def test_a_paused_leader_is_replaced_and_sends_nothing_when_it_wakes(
    tmp_path: Path, failing_target: str, smtp: tuple[Inbox, int], store_url: str
) -> None:
    pause_the_leader(tmp_path, failing_target, smtp, store_url)


@pytest.mark.slow
@pytest.mark.parametrize("round_", range(20))
def test_failover_twenty_times(
    round_: int,
    tmp_path: Path,
    failing_target: str,
    smtp: tuple[Inbox, int],
    store_url: str,
) -> None:
    """Twenty failovers, each on a fresh store, kill -9 and SIGSTOP in turn (`make
    test-slow`, run by CI)."""
    scenario = kill_the_leader if round_ % 2 == 0 else pause_the_leader
    scenario(tmp_path, failing_target, smtp, store_url)
