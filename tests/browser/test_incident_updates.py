"""Posting a public incident's updates and its postmortem from the internal incident's page
in Chromium, against a real ``infradex serve`` whose monitor and alerter opened the incident
and drafted it: on a phone (390 px) a person publishes it and posts an update with a
component's state; on a desktop (1280 px) they resolve it and publish the postmortem; the
public page /status/incidents/<id> shows each, with hostile words inert. No script, no
console error, nothing scrolls sideways, no WCAG 2 A/AA violation axe-core finds."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from system_tools import require_tool

from .conftest import shot, sign_in
from .test_console import _axe_violations
from .test_incident_publish import drafted_incident
from .test_status_subscribe import Served, served

__all__ = ["served"]  # the fixture: its own server for this module

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=alert(1)><script>alert(2)</script>"


def reloaded_until_shown(page: Page, wanted: Locator) -> None:
    """The public page is a copy re-rendered in the background once something changed (at
    most once a second): reload until the change shows."""
    deadline = time.monotonic() + 15
    while not wanted.count() and time.monotonic() < deadline:
        time.sleep(0.5)
        page.reload()
    expect(wanted.first).to_be_visible()


@pytest.fixture(scope="module")
def axe() -> str:
    return require_tool("axe-core")


def test_updates_and_the_postmortem_from_the_incident_page(
    served: Served, browser: Browser, axe: str
) -> None:
    reader, drafts, incident = drafted_incident(served)
    here = f"{served.url}/incidents/{incident['id']}"

    phone = browser.new_context(viewport={"width": 390, "height": 844})
    page = phone.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, served.url, f"/incidents/{incident['id']}")
    page.goto(here)
    page.get_by_label("Impact").select_option("major")
    page.get_by_label("What people can expect").fill("The API answers errors; we look.")
    page.get_by_role("button", name="Publish on the status page").click()
    expect(page.get_by_role("heading", name="Post an update")).to_be_visible()
    expect(page.get_by_label("Step")).to_have_value("identified")
    page.get_by_label("Update for the public").fill("A bad deploy. " + HOSTILE)
    page.get_by_label("Public API with a rather long name").select_option("partial_outage")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert _axe_violations(page, axe) == []  # the forms' labels, contrast
    shot(page, "60-incident-update-phone")
    page.get_by_role("button", name="Post the update").click()
    expect(page.get_by_role("heading", name="Post an update")).to_be_visible()
    expect(page.get_by_label("Step")).to_have_value("monitoring")  # the step after
    page.get_by_role("link", name=drafts[0]["name"]).click()
    reloaded_until_shown(page, page.get_by_text("A bad deploy. " + HOSTILE))  # as text
    expect(page.get_by_text("Partial outage").first).to_be_visible()
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone.close()

    desktop = browser.new_context(viewport={"width": 1280, "height": 900})
    page = desktop.new_page()
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, served.url, f"/incidents/{incident['id']}")
    page.goto(here)
    page.get_by_label("Step").select_option("resolved")
    page.get_by_label("Update for the public").fill("The deploy is rolled back.")
    page.get_by_label("Public API with a rather long name").select_option("operational")
    page.get_by_role("button", name="Post the update").click()
    expect(page.get_by_role("heading", name="Postmortem")).to_be_visible()
    page.get_by_label("What happened, and what changes (plain text)").fill(
        "At 14:02 a deploy broke the API.\nWe now deploy in stages. " + HOSTILE
    )
    assert _axe_violations(page, axe) == []
    shot(page, "61-incident-postmortem-desktop")
    page.get_by_role("button", name="Publish the postmortem").click()
    expect(page.get_by_text("subscribers are not told again")).to_be_visible()
    page.get_by_role("link", name=drafts[0]["name"]).click()
    reloaded_until_shown(page, page.get_by_role("heading", name="Postmortem"))
    expect(page.get_by_text("We now deploy in stages. " + HOSTILE)).to_be_visible()
    assert page.locator("script").count() == 0 and page.locator("img").count() == 0
    assert _axe_violations(page, axe) == []
    shot(page, "62-status-incident-postmortem")
    summary = served.api("GET", "/api/v2/incidents.json", reader)["incidents"][0]
    assert summary["status"] == "postmortem" and summary["impact"] == "major"
    assert summary["postmortem_body"].endswith(HOSTILE)
    assert errors == []
    desktop.close()
