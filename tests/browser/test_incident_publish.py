"""Publishing a public incident from the internal incident's page in Chromium, on a phone
(390 px), against a real ``infradex serve`` whose monitor and alerter opened the incident
and drafted it: sign in, change the words, press the one button; the public page then shows
them. No script, no console error, nothing scrolls sideways."""

from __future__ import annotations

import subprocess
import sys
import time
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from .conftest import PASSWORD, shot, sign_in
from .test_status_subscribe import Served, served, token

__all__ = ["served"]  # the fixture: its own server for this module

pytestmark = pytest.mark.browser


def drafted_incident(served: Served) -> tuple[str, list[dict[str, Any]], dict[str, Any]]:
    """Once the user ``ee`` is made: a read token, the public drafts (waited for: the
    alerter drafts as it opens the incident) and the open incident of ``service:api``."""
    subprocess.run(
        [sys.executable, "-m", "infradex", "user", "create", "ee", "--password-stdin"],
        input=PASSWORD + "\n", text=True, env=served.env, check=True, capture_output=True,
    )  # fmt: skip
    reader = token(served, "reader", "read")
    deadline = time.monotonic() + 30
    drafts: list[dict[str, Any]] = []
    while not drafts and time.monotonic() < deadline:
        drafts = served.api("GET", "/api/v1/status/incidents", reader)["items"]
        time.sleep(0.5)
    assert drafts, "no draft was made"
    incidents = served.api("GET", "/api/v1/incidents?status=open", reader)["items"]
    (incident,) = [i for i in incidents if i["root"] == "service:api"]
    return reader, drafts, incident


def test_publish_the_draft_from_the_incident_page_on_a_phone(
    served: Served, browser: Browser
) -> None:
    _, drafts, incident = drafted_incident(served)

    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    sign_in(page, served.url, f"/incidents/{incident['id']}")
    page.goto(f"{served.url}/incidents/{incident['id']}")
    expect(page.get_by_role("heading", name="Status page")).to_be_visible()
    expect(page.get_by_label("Public title")).to_have_value(drafts[0]["name"])
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("What people can expect").fill("The API answers errors; we are on it.")
    shot(page, "47-incident-publish-phone")
    page.get_by_role("button", name="Publish on the status page").click()
    expect(page.get_by_text("On the public status page since")).to_be_visible()
    assert page.locator("script").count() == 0
    page.get_by_role("link", name=drafts[0]["name"]).click()
    expect(page.get_by_text("The API answers errors; we are on it.")).to_be_visible()
    page.goto(f"{served.url}/status")
    expect(page.get_by_text("The API answers errors; we are on it.")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    assert errors == []
    context.close()
