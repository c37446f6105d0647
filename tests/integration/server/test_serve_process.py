"""`infradex serve` as a real process: starts on SQLite, reloads on SIGHUP, stops on SIGTERM,
and refuses to start on an invalid catalog."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from infradex.catalog import load
from infradex.settings import default_store, embedded_example


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=5) as response:
        data: dict[str, object] = json.load(response)
        return data


@pytest.fixture
def environment(tmp_path: Path) -> dict[str, str]:
    catalog = tmp_path / "catalog"
    shutil.copytree(embedded_example(), catalog)
    return {
        **os.environ,
        "INFRADEX_CATALOG": str(catalog),
        "INFRADEX_DATA_DIR": str(tmp_path / "data"),
        # a copy of the PSF example: its checks aim at real sites, never run them here
        "INFRADEX_MONITOR": "false",
    }


def _serve(environment: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "infradex", "serve", "--port", str(port)]
    return subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )


def _wait_ready(port: int, process: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        if process.poll() is not None:
            raise AssertionError(process.stdout.read().decode() if process.stdout else "exited")
        try:
            if _get(f"http://127.0.0.1:{port}/readyz")["status"] == "ready":
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("the server did not become ready")


def test_serve_reload_on_sighup_and_stop_on_sigterm(environment: dict[str, str]) -> None:
    port = _free_port()
    process = _serve(environment, port)
    try:
        _wait_ready(port, process)
        catalog = Path(environment["INFRADEX_CATALOG"])
        (catalog / "extra.yaml").write_text(
            "apiVersion: infradex/v1\nkind: Person\nmetadata: {name: new-volunteer}\n",
            encoding="utf-8",
        )
        process.send_signal(signal.SIGHUP)
        for _ in range(100):
            loads = _get(f"http://127.0.0.1:{port}/api/v1/catalog/loads")
            if loads["total"] == 2:
                break
            time.sleep(0.1)
        items = loads["items"]
        assert isinstance(items, list)
        assert items[0]["trigger"] == "signal" and items[0]["diff"]["added"] == [
            "person:new-volunteer"
        ]
        ready = _get(f"http://127.0.0.1:{port}/readyz")
        example = load(embedded_example()).catalog
        assert example is not None
        assert ready["entities"] == len(example.entities) + 1
    finally:
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
    # uvicorn shuts the application down cleanly, then re-raises the signal it caught
    assert process.returncode in (0, -signal.SIGTERM)
    assert b"Application shutdown complete" in output


def test_serve_refuses_an_invalid_catalog(environment: dict[str, str]) -> None:
    catalog = Path(environment["INFRADEX_CATALOG"])
    (catalog / "broken.yaml").write_text("kind: Servce\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "infradex", "serve", "--port", str(_free_port())],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "broken.yaml:1:1" in result.stderr and "did you mean Service?" in result.stderr


def test_cli_writes_are_audited(environment: dict[str, str]) -> None:
    def infradex(*args: str, stdin: str | None = None) -> str:
        return subprocess.run(
            [sys.executable, "-m", "infradex", *args],
            env=environment,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    infradex("token", "create", "--name", "bot", "--scope", "read")
    infradex("token", "revoke", "bot")
    infradex("user", "create", "ee", "--password-stdin", stdin="a long enough password\n")
    import sqlite3

    database = default_store(
        Path(environment["INFRADEX_DATA_DIR"]), Path(environment["INFRADEX_CATALOG"])
    )
    with sqlite3.connect(database) as connection:
        actions = [row[0] for row in connection.execute("SELECT action FROM audit_log ORDER BY id")]
    assert actions == ["token.create", "token.revoke", "user.create"]


def test_reload_held_exits_3_and_an_admin_confirms_it(environment: dict[str, str]) -> None:
    def infradex(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "infradex", *args],
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )

    def token(name: str, scope: str) -> str:
        created = infradex("token", "create", "--name", name, "--scope", scope)
        return created.stdout.strip().splitlines()[-1]  # printed last, on its own line

    writer, admin = token("deploy", "write"), token("ops", "admin")
    port = _free_port()
    process = _serve(environment, port)
    try:
        _wait_ready(port, process)
        catalog = Path(environment["INFRADEX_CATALOG"])
        shutil.rmtree(catalog)  # a bad checkout: only one file left
        catalog.mkdir()
        (catalog / "people.yaml").write_text(
            "apiVersion: infradex/v1\nkind: Person\nmetadata: {name: last-one}\n",
            encoding="utf-8",
        )
        url = f"http://127.0.0.1:{port}"
        held = infradex("reload", "--url", url, "--token", writer)
        assert held.returncode == 3, held.stdout + held.stderr
        assert "held: the server keeps serving" in held.stderr
        assert "INFRADEX_RELOAD_MAX_REMOVED" in held.stderr and "--force" in held.stderr
        assert _get(f"{url}/api/v1/catalog/plan")["plan"] is not None
        not_admin = infradex("reload", "--url", url, "--token", writer, "--force")
        assert not_admin.returncode == 1 and "admin" in not_admin.stderr
        confirmed = infradex("reload", "--url", url, "--token", admin, "--force")
        assert confirmed.returncode == 0, confirmed.stdout + confirmed.stderr
        assert "reloaded: 1 added" in confirmed.stdout
        assert _get(f"{url}/readyz")["entities"] == 1
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=15)
