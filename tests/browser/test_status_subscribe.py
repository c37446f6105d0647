"""Subscribing to the status page in Chromium, at 1280 and 390 px, against a real
``infradex serve`` (monitor and alerting on, a local catalog whose targets this test starts)
and a real SMTP server (aiosmtpd): sign up with the page's form, confirm with the link from
the mail, get a notice when a person publishes the incident the monitor opened, unsubscribe
with the notice's link; the used link then does nothing. No script, no console error (the
strict CSP holds), nothing scrolls sideways on a phone."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import Browser, Page, expect

from .conftest import _free_port, shot
from .test_status_page import CATALOG, Handler

pytestmark = pytest.mark.browser


class Mailbox:
    def __init__(self) -> None:
        self.mails: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(message_from_bytes(envelope.content))
        return "250 OK"

    def wait_for(self, test: Callable[[Message], bool], timeout: float = 20.0) -> Message:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for mail in self.mails:
                if test(mail):
                    return mail
            time.sleep(0.2)
        raise AssertionError(f"no such mail; got {[m['Subject'] for m in self.mails]}")


def text_of(mail: Message) -> str:
    for part in mail.walk():
        if part.get_content_type() == "text/plain":
            return str(part.get_payload(decode=True).decode())  # type: ignore[union-attr]
    return ""


def link(mail: Message, label: str) -> str:
    found = re.search(rf"^{label}: (\S+)$", text_of(mail).replace("\r\n", "\n"), re.M)
    assert found, text_of(mail)
    return found[1]


class Served:
    def __init__(self, url: str, mailbox: Mailbox, env: dict[str, str]) -> None:
        self.url, self.mailbox, self.env = url, mailbox, env

    def api(self, method: str, path: str, token: str, body: object = None) -> Any:
        request = urllib.request.Request(
            self.url + path,
            method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    target = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    mailbox = Mailbox()
    smtp_port = _free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=smtp_port)
    controller.start()
    root: Path = tmp_path_factory.mktemp("subscribe")
    (root / "catalog").mkdir()
    base = f"http://127.0.0.1:{target.server_address[1]}"
    (root / "catalog" / "all.yaml").write_text(CATALOG.format(base=base))
    env = {
        **os.environ,
        "INFRADEX_DATA_DIR": str(root / "data"),
        "INFRADEX_CATALOG": str(root / "catalog"),
        "INFRADEX_MONITOR": "true",
        "INFRADEX_STATUS_NAME": "Example Status",
        "INFRADEX_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "INFRADEX_MAIL_FROM": "status@example.org",
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
                with urllib.request.urlopen(f"{url}/readyz", timeout=2) as response:
                    if json.load(response)["status"] == "ready":
                        break
            except OSError:
                time.sleep(0.2)
        else:
            raise AssertionError("infradex serve did not become ready")
        yield Served(url, mailbox, env)
    finally:
        process.terminate()
        process.wait(timeout=15)
        controller.stop()
        target.shutdown()


def token(served: Served, name: str, scope: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "infradex", "token", "create", "--name", name, "--scope", scope],
        env=served.env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    return done.stdout.strip().splitlines()[-1]


def subscribe(page: Page, url: str, address: str, component: str | None) -> None:
    page.goto(url + "/status")
    page.get_by_text("Subscribe to updates").click()
    page.get_by_label("Email address or webhook URL").fill(address)
    if component is not None:
        page.get_by_label(component).check()
    page.get_by_role("button", name="Subscribe").click()
    expect(page.get_by_role("heading", name="Almost there")).to_be_visible()


def test_subscribe_confirm_and_unsubscribe_on_a_desktop(served: Served, page: Page) -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    subscribe(page, served.url, "ada@example.org", "Public API with a rather long name")
    assert page.locator("script").count() == 0
    shot(page, "43-status-subscribed")

    mail = served.mailbox.wait_for(lambda m: m["To"] == "ada@example.org")
    assert mail["Subject"] == "Confirm your subscription to Example Status"
    page.goto(link(mail, "Confirm"))
    expect(page.get_by_role("heading", name="Confirm your subscription")).to_be_visible()
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("You are subscribed")

    # the monitor has opened an incident for the failing API: a person publishes its draft
    writer = token(served, "writer", "write")
    deadline = time.monotonic() + 30
    drafts: list[dict[str, Any]] = []
    while not drafts and time.monotonic() < deadline:
        drafts = served.api("GET", "/api/v1/status/incidents", writer)["items"]
        time.sleep(0.5)
    assert drafts, "no draft was made"
    served.api("POST", f"/api/v1/status/incidents/{drafts[0]['id']}/publish", writer,
               {"body": "The API is down; we are on it."})  # fmt: skip
    notice = served.mailbox.wait_for(
        lambda m: m["To"] == "ada@example.org" and "Incident" in str(m["Subject"])
    )
    assert "The API is down; we are on it." in text_of(notice)
    assert notice["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    unsubscribe = link(notice, "Unsubscribe")
    assert notice["List-Unsubscribe"] == f"<{unsubscribe}>"

    page.goto(unsubscribe)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("status")).to_contain_text("You are unsubscribed")
    shot(page, "44-status-unsubscribed")
    assert errors == []
    page.goto(unsubscribe)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("alert")).to_contain_text("used already")
    assert [e for e in errors if "410 (Gone)" not in e] == []  # the used link's answer


def test_the_subscribe_form_fits_a_phone(served: Served, browser: Browser) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(served.url + "/status")
    page.get_by_text("Subscribe to updates").click()
    expect(page.get_by_label("Email address or webhook URL")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "45-status-subscribe-phone")
    subscribe(page, served.url, "bob@example.org", None)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    mail = served.mailbox.wait_for(lambda m: m["To"] == "bob@example.org")
    page.goto(link(mail, "Confirm"))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("status")).to_contain_text("You are subscribed")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.goto(served.url + "/status/confirm?token=confirm.1.2.abcdefgh.forged")
    expect(page.get_by_role("alert")).to_contain_text("This link is not valid")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "46-status-link-forged-phone")
    context.close()
