"""Incidents in Chromium: the one-click link from an email (look, then press the button), and a
signed-in person noting and resolving on the incident's page. Screenshots in test-artifacts/."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from infradex.alerting import records
from infradex.alerting.incidents import Event, Incident, Member
from infradex.clock import utcnow
from infradex.settings import default_store
from infradex.store import Database

from .conftest import PASSWORD, _free_port, shot

pytestmark = pytest.mark.browser

DEMO = Path(__file__).resolve().parents[2] / "examples" / "outage-demo"


def seed_incident(
    env: dict[str, str], title: str, members: list[tuple[str, str, str]]
) -> tuple[int, str]:
    """An open incident (``members``: check, entity, role; the first is the root) and a
    one-click acknowledge link for person:sam, written to the store of the server ``env``
    configures (before it starts): (incident id, link token)."""
    data, catalog = Path(env["INFRADEX_DATA_DIR"]), Path(env["INFRADEX_CATALOG"])

    async def run() -> tuple[int, str]:
        db = Database(f"sqlite:///{default_store(data, catalog)}")
        await db.upgrade()
        now = utcnow()
        incident = Incident(members[0][1], title, now)
        for check, entity, role in members:
            incident.members[check] = Member(check, entity, role, now, None, "refused")
        incident.events.append(Event(now, "opened", {"check": members[0][0]}))
        try:
            async with db.begin() as connection:
                incident_id = await records.save(connection, incident, now, None)
                token = await records.create_link(
                    connection, incident_id, "acknowledge", "person:sam", now
                )
        finally:
            await db.close()
        return incident_id, token

    # Playwright's sync API runs an event loop in this thread: seed from another one
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, run()).result()


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, str]]:
    """The outage demo served (checks not run) with one incident and one link in its store."""
    data = tmp_path_factory.mktemp("incidents")
    env = {
        **os.environ,
        "INFRADEX_DATA_DIR": str(data),
        "INFRADEX_CATALOG": str(DEMO),
        "INFRADEX_MONITOR": "false",
    }
    subprocess.run(
        [sys.executable, "-m", "infradex", "user", "create", "ee", "--password-stdin"],
        input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True,
    )  # fmt: skip
    incident_id, token = seed_incident(
        env, "Edge CDN is down",
        [("provider:edgecdn/edge", "provider:edgecdn", "root"),
         ("service:www/home", "service:www", "impacted"),
         ("service:shop/home", "service:shop", "impacted")],
    )  # fmt: skip
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infradex", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                    if json.load(response)["status"] == "ready":
                        break
            except OSError:
                time.sleep(0.1)
        yield url, incident_id, token
    finally:
        process.terminate()
        process.wait(timeout=15)


def test_a_link_from_an_email_shows_then_acknowledges(
    outage: tuple[str, int, str], page: Page
) -> None:
    url, incident_id, token = outage
    page.goto(f"{url}/act/{token}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Acknowledge incident #{incident_id}?"
    )
    shot(page, "20-link-confirm")
    page.get_by_role("button", name="Acknowledge").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("acknowledged")
    page.get_by_role("link", name="See the incident").click()
    expect(page.locator("main, body").first).to_contain_text("Acknowledged by person:sam (link)")
    page.goto(f"{url}/act/{token}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("cannot be used")


def test_signed_in_note_and_resolve_on_the_incident_page(
    outage: tuple[str, int, str], page: Page
) -> None:
    url, incident_id, _ = outage
    page.goto(f"{url}/incidents")
    page.get_by_role("link", name=f"#{incident_id}").click()
    expect(page.get_by_text("(acknowledge, snooze, resolve, add a note)")).to_be_visible()
    page.get_by_role("link", name="Sign in to act").click()
    page.get_by_label("Username").fill("ee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.goto(f"{url}/incidents/{incident_id}")
    page.get_by_label("Add a note to the timeline").fill("CDN support ticket 1234 opened")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("table").last).to_be_visible()
    expect(page.get_by_text("CDN support ticket 1234 opened")).to_be_visible()
    shot(page, "21-incident-signed-in")
    page.get_by_role("button", name="Resolve").click()
    expect(page.locator(".incident-hero .big-state")).to_have_text("resolved")
    assert page.locator("h1").count() == 1
    shot(page, "22-incident-resolved")
