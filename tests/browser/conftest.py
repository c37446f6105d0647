"""A real `infradex serve` and Debian's Chromium driven by Playwright. Screenshots go to
``test-artifacts/`` (kept by CI)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from system_tools import require_tool

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The PSF example served by a real process on a free port, with one user: ee."""
    data = tmp_path_factory.mktemp("data")
    env = {
        **os.environ,
        "INFRADEX_DATA_DIR": str(data),
        "INFRADEX_CATALOG": "",
        "INFRADEX_MONITOR": "false",
    }
    subprocess.run(
        [sys.executable, "-m", "infradex", "user", "create", "ee", "--password-stdin"],
        input=PASSWORD + "\n",
        text=True,
        env=env,
        check=True,
        capture_output=True,
    )
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infradex", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                    if json.load(response)["status"] == "ready":
                        break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError("infradex serve did not become ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    chromium = require_tool("chromium")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=chromium,
            args=[
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    yield opened
    context.close()


def sign_in(page: Page, url: str, next_path: str) -> None:
    """Sign in as ``ee`` (the password above) through the login form, going on to ``next_path``."""
    page.goto(f"{url}/login?next={next_path}")
    page.get_by_label("Username").fill("ee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def shot(page: Page, name: str, full_page: bool = True) -> Path:
    """The page (or only its first screen) as ``test-artifacts/NAME.png``."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
