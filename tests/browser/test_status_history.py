"""An incident's public page and the history in Chromium, at 1280 and 390 px, against a real
``infradex serve`` (monitor and alerting on, a local catalog whose targets this test starts):
the monitor opens an incident, a person publishes it with a long title and adds an update;
the incident page shows its timeline, the history lists it under this month and links to it.
One h1, nothing wider than the screen, no script and no console error (the strict CSP holds),
no WCAG 2 A/AA violation found by axe-core."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect

from system_tools import require_tool

from .conftest import shot
from .test_console import TEXT_OUTSIDE_ITS_BOX, WIDER_THAN_VIEWPORT, WIDTHS, _axe_violations
from .test_status_subscribe import Served, served, token

__all__ = ["served"]  # fixtures

pytestmark = pytest.mark.browser

TITLE = (
    "Public API with a rather long name answers with errors for some of its users "
    "<em>not emphasised</em>"
)


@pytest.fixture(scope="module")
def published(served: Served) -> Iterator[tuple[str, str]]:
    """The server, and the public path of the incident a person published there."""
    writer = token(served, "publisher", "write")
    deadline = time.monotonic() + 30
    drafts: list[dict[str, object]] = []
    while not drafts and time.monotonic() < deadline:
        drafts = served.api("GET", "/api/v1/status/incidents", writer)["items"]
        time.sleep(0.5)
    assert drafts, "the monitor opened no incident"
    draft_id = drafts[0]["id"]
    words = {"name": TITLE, "body": "Requests to the API fail.\nWe are looking into it."}
    served.api("POST", f"/api/v1/status/incidents/{draft_id}/publish", writer, words)
    served.api("POST", f"/api/v1/status/incidents/{draft_id}/updates", writer,
               {"status": "identified", "body": "A bad deploy; rolling back."})  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the page's copy is at most a second or two old
        incidents = served.api("GET", "/api/v2/incidents.json", writer)["incidents"]
        if incidents and len(incidents[0]["incident_updates"]) == 2:
            break
        time.sleep(0.3)
    yield served.url, incidents[0]["shortlink"].split("/status/", 1)[1]


@pytest.fixture(scope="module")
def axe() -> str:
    return require_tool("axe-core")


@pytest.mark.parametrize("size", list(WIDTHS))
def test_the_incident_page_and_the_history_fit_and_read(
    published: tuple[str, str], browser: Browser, axe: str, size: str
) -> None:
    url, incident = published
    width, height = WIDTHS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)

    page.goto(f"{url}/status/{incident}")
    expect(page.locator("h1")).to_have_text(TITLE)  # the markup shown as text
    assert page.locator("em").count() == 0
    steps = page.locator("ol.timeline > li h3")
    expect(steps).to_have_text(["Identified", "Investigating"])  # newest first
    expect(page.locator(".affected")).to_contain_text("Public API with a rather long name")
    colour = page.locator(".incident-summary").evaluate("e => getComputedStyle(e).borderLeftColor")
    assert colour != "rgb(0, 0, 0)", colour  # the stylesheet applies under the CSP
    for name in ("incident", "history"):
        if name == "history":
            page.get_by_role("link", name="History").click()
            expect(page.locator("h1")).to_have_text("Incident history")
            item = page.locator("ul.history li.incident").first
            expect(item).to_contain_text("Identified")
            item.get_by_role("link").click()
            expect(page).to_have_url(f"{url}/status/{incident}")
            page.go_back()
        shot(page, f"status-{name}-{size}")
        assert page.locator("h1").count() == 1, name
        assert page.locator("script").count() == 0, name
        assert page.evaluate(WIDER_THAN_VIEWPORT) == [], name
        assert page.evaluate(TEXT_OUTSIDE_ITS_BOX) == [], name
        assert _axe_violations(page, axe) == [], name
    assert errors == []
    context.close()
