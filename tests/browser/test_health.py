"""The monitor's Health section in a real browser: a local catalog whose target this test
starts, served with the monitor on; the state, the failed condition and the SVG charts render
under the strict CSP (no console errors) and fit a phone."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import _free_port, shot

pytestmark = pytest.mark.browser


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status = 200 if self.path == "/ok" else 503
        self.send_response(status)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    target = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{target.server_address[1]}"
    root = tmp_path_factory.mktemp("monitored")
    (root / "catalog").mkdir()
    (root / "catalog" / "web.yaml").write_text(
        "apiVersion: infradex/v1\nkind: Service\nmetadata: {name: web, title: Web}\nspec:\n"
        "  checks:\n"
        f'    - {{name: home, url: "{base}/ok", interval: 1s, timeout: 500ms}}\n'
        f'    - {{name: api, url: "{base}/api", interval: 1s, timeout: 500ms,'
        ' conditions: ["[STATUS] == 200"], failureThreshold: 2}\n'
    )
    env = {
        **os.environ,
        "INFRADEX_DATA_DIR": str(root / "data"),
        "INFRADEX_CATALOG": str(root / "catalog"),
        "INFRADEX_MONITOR": "true",
    }
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infradex", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/checks", timeout=2) as response:
                    states = {c["id"]: c["state"] for c in json.load(response)["items"]}
                if states == {"service:web/home": "up", "service:web/api": "down"}:
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("the checks did not settle")
        time.sleep(1.5)  # one flush, so the page's history has rows
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        target.shutdown()


def test_health_section_renders_under_the_csp(monitored: str, page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(monitored + "/services/web")
    health = page.locator("#check-api")
    expect(health.locator(".state")).to_have_text("down")
    expect(health).to_contain_text("[STATUS] == 200: got 503")
    expect(page.locator("#check-home .state")).to_have_text("up")
    bars = page.locator("#check-home figure.chart svg").first
    box = bars.bounding_box()
    assert box is not None and box.get("width", 0) > 300 and box.get("height", 0) > 20
    # the stylesheet colours the bars: today's bar is green, not the browser's default black
    fill = page.locator("#check-home svg rect").last.evaluate("e => getComputedStyle(e).fill")
    assert fill == "rgb(22, 163, 74)", fill
    shot(page, "10-health")
    assert errors == []


def test_health_fits_a_phone(monitored: str, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(monitored + "/services/web")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    shot(page, "11-health-phone")
    context.close()
