"""The 90-day bars and the uptime history (``/status/uptime``) in Chromium, at 1280 and
390 px, against a real ``infradex serve`` on a store holding five months of state changes:
the bars show the uptime in words and link on to the history; the history shows a calendar
per component and month with the outage minutes in words, pages back to older months, and
keeps a component's markup-looking name as text. One h1, nothing wider than the screen, no
script, no console error, no WCAG 2 A/AA violation found by axe-core."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy import insert

from infradex.store import Database
from infradex.store.tables import state_changes
from system_tools import require_tool

from .conftest import _free_port, shot
from .test_console import TEXT_OUTSIDE_ITS_BOX, WIDER_THAN_VIEWPORT, WIDTHS, _axe_violations

pytestmark = pytest.mark.browser

NAME = "<b>Package uploads</b> for the index, with a rather long public name"
CATALOG = f"""\
apiVersion: infradex/v1
kind: Provider
metadata: {{name: cdn, title: The CDN}}
spec:
  type: cdn
  statusPage: {{name: Content Delivery Network, order: 1}}
  checks: [{{name: edge, url: "http://127.0.0.1:9/edge"}}]
---
apiVersion: infradex/v1
kind: Service
metadata: {{name: web}}
spec:
  frontedBy: [provider:cdn]
  checks:
    - {{name: home, url: "http://127.0.0.1:9/"}}
    - {{name: api, url: "http://127.0.0.1:9/api"}}
  status: {{group: Python Package Index, name: '{NAME}', order: 1}}
---
apiVersion: infradex/v1
kind: Service
metadata: {{name: docs}}
spec:
  frontedBy: [provider:cdn]
  status: {{group: Python Package Index, name: Documentation, order: 2}}
"""


def _history(now: datetime) -> list[dict[str, object]]:
    """Up for five months; every nine days the web's two checks down for 40 minutes (major),
    every five days one of them down for two hours (partial), and the CDN down once."""
    start = now - timedelta(days=150)
    rows: list[dict[str, object]] = [
        {"check_id": c, "at": start, "from_state": "pending", "to_state": "up", "reason": "t"}
        for c in ("service:web/home", "service:web/api", "provider:cdn/edge")
    ]

    def outage(checks: tuple[str, ...], at: datetime, minutes: int) -> None:
        for check in checks:
            rows.append({"check_id": check, "at": at, "from_state": "up", "to_state": "down",
                         "reason": "t"})  # fmt: skip
            rows.append({"check_id": check, "at": at + timedelta(minutes=minutes),
                         "from_state": "down", "to_state": "up", "reason": "t"})  # fmt: skip

    for day in range(3, 148, 9):
        outage(("service:web/home", "service:web/api"), start + timedelta(days=day, hours=9), 40)
    for day in range(1, 148, 5):
        outage(("service:web/api",), start + timedelta(days=day, hours=15), 120)
    outage(("provider:cdn/edge",), now - timedelta(days=20, hours=3), 90)
    return rows


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("uptime")
    (root / "catalog").mkdir()
    (root / "catalog" / "all.yaml").write_text(CATALOG)
    database_url = f"sqlite:///{root / 'store.db'}"

    async def seed() -> None:
        db = Database(database_url)
        try:
            await db.upgrade()
            async with db.begin(writes=True) as connection:
                await connection.execute(insert(state_changes), _history(datetime.now(UTC)))
        finally:
            await db.close()

    with ThreadPoolExecutor(1) as pool:  # Playwright's loop runs on this thread
        pool.submit(asyncio.run, seed()).result()
    env = {
        **os.environ,
        "INFRADEX_DATA_DIR": str(root / "data"),
        "INFRADEX_CATALOG": str(root / "catalog"),
        "INFRADEX_DATABASE_URL": database_url,
        "INFRADEX_MONITOR": "false",  # the history is stored; the checks aim nowhere
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
                with urllib.request.urlopen(f"{url}/readyz", timeout=2):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("infradex serve did not become ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def axe() -> str:
    return require_tool("axe-core")


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_bars_and_the_uptime_history_fit_and_read(
    server: str, browser: Browser, axe: str, size: str
) -> None:
    width, height = WIDTHS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{server}/status")
    bars = page.locator("svg.bars")
    expect(bars).to_have_count(4)  # the CDN, the group and its two components
    web = page.locator("li.component", has_text="Package uploads")
    expect(web.locator(".legend")).to_contain_text("% uptime")
    label = web.locator("svg.bars title").text_content() or ""
    assert "uptime over the last 90 days. Outages: " in label, label
    assert "min major outage" in label and "min partial outage" in label
    box = web.locator("svg.bars").bounding_box()
    assert box is not None and box["width"] > 0.8 * min(width, 832) - 64, box
    shot(page, f"status-bars-{size}", full_page=False)
    assert page.evaluate(WIDER_THAN_VIEWPORT) == []

    page.get_by_role("link", name="Uptime history").click()
    expect(page).to_have_url(f"{server}/status/uptime")
    expect(page.locator("h1")).to_have_text("Uptime history")
    section = page.locator("section.uptime-component", has_text="Package uploads")
    expect(section.locator("h3")).to_have_text(NAME)  # the markup shown as text
    assert page.locator("section.uptime-component h3 b").count() == 0
    expect(section.locator("table.calendar")).to_have_count(3)
    expect(section.locator("td.ma[title], td.mi[title], td.dn[title]").first).to_be_visible()
    expect(section.locator("ul.outage-days li", has_text="min major outage").first).to_be_visible()
    colour = section.locator("td.up").first.evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(26, 127, 55)", colour  # the stylesheet applies under the CSP
    shot(page, f"status-uptime-{size}")
    for name in ("first", "older"):
        if name == "older":
            page.get_by_role("link", name="Older months").first.click()
            expect(page).to_have_url(f"{server}/status/uptime?page=2")
            expect(page.locator("h1")).to_have_text("Uptime history")
            expect(page.get_by_role("link", name="Newer months").first).to_be_visible()
            shot(page, f"status-uptime-older-{size}")
        assert page.locator("h1").count() == 1, name
        assert page.locator("script").count() == 0, name
        assert page.evaluate(WIDER_THAN_VIEWPORT) == [], name
        assert page.evaluate(TEXT_OUTSIDE_ITS_BOX) == [], name
        assert _axe_violations(page, axe) == [], name
    assert errors == []
    context.close()
