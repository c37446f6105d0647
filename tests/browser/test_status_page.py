"""The public status page in Chromium, at 1280 and 390 px: a local catalog whose targets
this test starts, served with the monitor on (one component up, one down), and the PSF
example without a monitor ("Not monitored": no outage, no "out of date", never "All
Systems Operational"). No script runs, the strict CSP holds (no console errors), the stylesheet
applies, and nothing scrolls sideways on a phone."""

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
        self.send_response(200 if self.path == "/ok" else 503)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


CATALOG = """\
apiVersion: infradex/v1
kind: Service
metadata: {{name: web, title: Website}}
spec:
  checks: [{{name: home, url: "{base}/ok", interval: 1s, timeout: 500ms}}]
  status: {{group: Example.org, name: www.example.org, description: The website, order: 1}}
---
apiVersion: infradex/v1
kind: Service
metadata: {{name: api}}
spec:
  checks: [{{name: v1, url: "{base}/api", interval: 1s, timeout: 500ms, failureThreshold: 2}}]
  status: {{group: Example.org, name: Public API with a rather long name that must wrap, order: 2}}
---
apiVersion: infradex/v1
kind: Service
metadata: {{name: mail}}
spec:
  checks: [{{name: smtp, url: "{base}/ok", interval: 1s, timeout: 500ms}}]
  status: {{name: Mailing lists, onlyShowIfDegraded: true}}
"""


@pytest.fixture(scope="module")
def monitored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    target = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{target.server_address[1]}"
    root = tmp_path_factory.mktemp("status")
    (root / "catalog").mkdir()
    (root / "catalog" / "all.yaml").write_text(CATALOG.format(base=base))
    env = {
        **os.environ,
        "INFRADEX_DATA_DIR": str(root / "data"),
        "INFRADEX_CATALOG": str(root / "catalog"),
        "INFRADEX_MONITOR": "true",
        "INFRADEX_STATUS_NAME": "Example Status",
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
                with urllib.request.urlopen(f"{url}/api/v2/components.json", timeout=2) as r:
                    states = {c["name"]: c["status"] for c in json.load(r)["components"]}
                if (
                    states.get("www.example.org") == "operational"
                    and states.get("Public API with a rather long name that must wrap")
                    == "major_outage"
                ):
                    break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("the status page did not settle")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)
        target.shutdown()


def test_the_status_page_on_a_desktop(monitored: str, page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(monitored + "/status")
    expect(page).to_have_title("Example Status")
    overall = page.locator(".overall")
    expect(overall).to_have_text("Major Service Outage")
    colour = overall.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(179, 38, 30)", colour  # the stylesheet loaded under the CSP
    group = page.locator("li.group").first
    expect(group.locator("h3 .state")).to_have_text("Major outage")  # its worst member
    expect(page.locator("li.component", has_text="www.example.org").locator(".state")).to_have_text(
        "Operational"
    )
    expect(page.locator("li.component", has_text="The website")).to_be_visible()
    # only shown if degraded (the subscribe form still offers it, folded away)
    expect(page.locator("ul.components >> text=Mailing lists")).to_have_count(0)
    expect(page.locator(".stale")).to_have_count(0)  # the monitor reports
    assert page.locator("script").count() == 0
    bars = page.locator(".uptime svg.bars")
    expect(bars).to_have_count(3)  # the group and its two members
    strokes = bars.first.locator("path").evaluate_all(
        "ps => ps.map(p => (p.getAttribute('d').match(/v34/g) || []).length)"
    )
    assert sum(strokes) == 90  # a day is one stroke of its colour's path
    # the minutes are counted every 5 minutes, so today's bar may still be grey (no data)
    # or green here; its colour from the state history is checked by test_status_path.py.
    # The stylesheet colours it:
    today = bars.last.locator("path").last
    stroke = today.evaluate("e => getComputedStyle(e).stroke")
    assert stroke in ("rgb(179, 38, 30)", "rgb(208, 215, 222)", "rgb(26, 127, 55)"), stroke
    expect(page.locator(".uptime .legend").first).to_contain_text("90 days ago")
    shot(page, "40-status-page")
    assert errors == []


def test_the_status_page_fits_a_phone(monitored: str, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(monitored + "/status")
    expect(page.locator(".overall")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width
    font = page.locator("li.component").first.evaluate("e => getComputedStyle(e).fontSize")
    assert float(font.removesuffix("px")) >= 14, font
    shot(page, "41-status-page-phone")
    context.close()


def test_without_a_monitor_the_page_says_it_is_not_monitored(server: str, page: Page) -> None:
    page.goto(server + "/status")
    expect(page.locator(".not-monitored")).to_contain_text("Not monitored")
    expect(page.locator(".stale")).to_have_count(0)
    expect(page.locator(".overall")).to_have_text("Not monitored")
    # grey, not the green of "All Systems Operational": nothing is known to be fine
    background = page.locator(".overall").evaluate("e => getComputedStyle(e).backgroundColor")
    assert background == "rgb(75, 85, 99)", background
    expect(page.locator("li.component .state").first).to_have_text("Not monitored")
    shot(page, "42-status-page-stale")
