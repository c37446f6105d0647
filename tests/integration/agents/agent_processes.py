"""Real `infradex serve` and `infradex agent` processes for the agents' end-to-end tests."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from integration_serve import wait_ready

__all__ = ["Fleet", "checks_of", "poll"]


class Fleet:
    """A server and its agents, each a subprocess; stopped (and their output kept) at the end."""

    def __init__(self, tmp_path: Path, catalog: Path, port: int) -> None:
        self.tmp_path = tmp_path
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.env = {
            **os.environ,
            "INFRADEX_CATALOG": str(catalog),
            "INFRADEX_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}",
            "INFRADEX_DATA_DIR": str(tmp_path / "data"),
            "INFRADEX_SECRET_KEY": "test-secret",
            "INFRADEX_MONITOR": "true",
        }
        self.server: subprocess.Popen[bytes] | None = None
        self.agents: dict[str, subprocess.Popen[bytes]] = {}
        self.tokens: dict[str, str] = {}

    def token(self, location: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "infradex", "token", "create", "--name", f"agent-{location}",
             "--scope", "agent", "--location", location],
            env=self.env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        self.tokens[location] = done.stdout.strip().splitlines()[-1]
        return self.tokens[location]

    async def start_server(self, *, host: str = "127.0.0.1", prefix: Sequence[str] = ()) -> None:
        """Start the server (in a network namespace with ``prefix``; then readiness is the
        caller's to wait for, as this process cannot reach it)."""
        log = (self.tmp_path / "server.log").open("ab")  # a file: a full pipe would block it
        self.server = subprocess.Popen(
            [*prefix, sys.executable, "-m", "infradex", "serve", "--host", host,
             "--port", str(self.port)],
            env=self.env, stdout=log, stderr=log,
        )  # fmt: skip
        if not prefix:
            await asyncio.to_thread(wait_ready, self.port, self.server)

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.terminate()
            self.server.wait(timeout=30)
            self.server = None

    def start_agent(
        self, location: str, *, server: str | None = None, prefix: Sequence[str] = ()
    ) -> None:
        env = self.env | {"INFRADEX_TEST_PROBE_KEY": f"key-of-{location}"}
        command = [
            *prefix, sys.executable, "-m", "infradex", "agent", "--server", server or self.url,
            "--location", location, "--token", self.tokens[location],
            "--buffer", str(self.tmp_path / f"buffer-{location}.db"),
        ]  # fmt: skip
        log = (self.tmp_path / f"agent-{location}.log").open("ab")
        self.agents[location] = subprocess.Popen(command, env=env, stdout=log, stderr=log)

    def stop(self) -> None:
        for process in self.agents.values():
            process.terminate()
        for process in self.agents.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self.stop_server()

    def agent_log(self, location: str) -> str:
        return (self.tmp_path / f"agent-{location}.log").read_text(errors="replace")

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as answer:
            return json.load(answer)


async def checks_of(fleet: Fleet) -> dict[str, dict[str, Any]]:
    body = await asyncio.to_thread(fleet.get, "/api/v1/checks")
    return {item["id"]: item for item in body["items"]}


async def poll(condition: Any, timeout: float = 30.0, every: float = 0.25) -> Any:
    """Await ``condition()`` until it returns something truthy; fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        try:
            last = await condition()
        except OSError as exc:  # the server restarting
            last = exc
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"not within {timeout} s; last: {last!r}")
