"""SQLite serves one running server: a second `infradex serve --monitor` or `infradex
monitor` on the same store file is refused with what to do; a pages-only server may share
it, and once the first process ends (even killed), the next one starts."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from integration_serve import free_port, serve, wait_ready


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    catalog = tmp_path / "catalog"
    catalog.mkdir()
    closed = free_port()  # nothing listens: the check is simply down, on 127.0.0.1 only
    (catalog / "web.yaml").write_text(
        "apiVersion: infradex/v1\nkind: Service\nmetadata: {name: web}\nspec:\n  checks:\n"
        f'    - {{name: home, url: "http://127.0.0.1:{closed}/", interval: 30s}}\n',
        encoding="utf-8",
    )
    return {
        **os.environ,
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(tmp_path / "data"),
        "INFRADEX_DATABASE_URL": "",
        "INFRADEX_MONITOR": "true",
    }


@pytest.fixture
def first_server(environment: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    port = free_port()
    process = serve(environment, port)
    try:
        wait_ready(port, process)
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
        process.wait(timeout=20)


def _run(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infradex", *args],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_monitoring_server_on_one_sqlite_file_is_refused(
    environment: dict[str, str], first_server: subprocess.Popen[bytes]
) -> None:
    second = _run(environment, "serve", "--port", str(free_port()))
    assert second.returncode != 0
    said = second.stdout + second.stderr
    assert f"pid {first_server.pid}" in said
    assert "already runs the monitor" in said and "--no-monitor" in said
    assert "PostgreSQL" in said

    alone = _run(environment, "monitor")
    assert alone.returncode != 0
    assert f"pid {first_server.pid}" in alone.stdout + alone.stderr


def test_a_pages_only_server_may_share_the_file(
    environment: dict[str, str], first_server: subprocess.Popen[bytes]
) -> None:
    port = free_port()
    pages = serve({**environment, "INFRADEX_MONITOR": "false"}, port)
    try:
        wait_ready(port, pages)
    finally:
        pages.terminate()
        pages.wait(timeout=20)


def test_after_the_first_is_killed_the_next_starts(
    environment: dict[str, str], first_server: subprocess.Popen[bytes]
) -> None:
    first_server.send_signal(signal.SIGKILL)
    first_server.wait(timeout=20)
    port = free_port()
    nxt = serve(environment, port)
    try:
        wait_ready(port, nxt)
    finally:
        nxt.terminate()
        nxt.wait(timeout=20)
