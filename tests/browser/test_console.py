"""The console pages in Debian's Chromium at a desk (1280×800) and on a phone (390×844): a real
`infradex serve --monitor` on a catalog whose targets this test starts (some up, some down, one
flapping), with an incident and a one-click link in its store. On every page: nothing wider than
the viewport, no text sticking out of its box, one h1, every link and button reachable with the
Tab key, and no WCAG 2 A/AA violation (contrast included) found by axe-core, loaded from the npm
package in .cache/npm (never a CDN). Screenshots go to test-artifacts/console-*.png."""

from __future__ import annotations

import http.server
import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from system_tools import require_tool

from .conftest import PASSWORD, _free_port, shot
from .test_incidents import seed_incident

pytestmark = pytest.mark.browser

WIDTHS = {"desk": (1280, 800), "phone": (390, 844)}


class Targets(http.server.BaseHTTPRequestHandler):
    """/ok answers 200, /down 503, /flaky one time in two."""

    def do_GET(self) -> None:
        if self.path.startswith("/down"):
            status = 503
        elif self.path.startswith("/flaky"):
            status = 200 if random.random() < 0.5 else 500
        else:
            status = 200
        self.send_response(status)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def _catalog(base: str) -> str:
    docs = [
        "kind: Team\nmetadata: {name: web, title: Web team}\n"
        "spec: {contacts: [{type: email, address: web@example.org}]}",
        "kind: Team\nmetadata: {name: infra, title: Infrastructure}\n"
        "spec: {contacts: [{type: email, address: infra@example.org}]}",
        "kind: Provider\nmetadata: {name: edgecdn, title: Edge CDN}\nspec:\n  type: cdn\n"
        f"  checks: [{{name: edge, url: '{base}/down/edge', interval: 1s, timeout: 500ms}}]",
    ]
    for name, path, team in (
        ("website", "ok", "web"),
        ("shop", "down/shop", "web"),
        ("docs", "flaky/docs", "web"),
        ("mail", "ok", "infra"),
        ("pypi-mirror-with-a-long-identifier", "ok", "infra"),
    ):
        docs.append(
            f"kind: Service\nmetadata: {{name: {name}, title: {name}.example.org}}\nspec:\n"
            f"  owners: [{{ref: 'team:{team}'}}]\n  frontedBy: ['provider:edgecdn']\n  checks:\n"
            f"    - {{name: home, url: '{base}/{path}', interval: 1s, timeout: 500ms}}\n"
            f"    - {{name: api, url: '{base}/ok/{name}', interval: 1s, timeout: 500ms}}"
        )
    return "\n---\n".join(f"apiVersion: infradex/v1\n{d}" for d in docs) + "\n"


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int, str]]:
    """(server URL, incident id, one-click token), the monitor running on local targets."""
    target = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Targets)
    threading.Thread(target=target.serve_forever, daemon=True).start()
    root = tmp_path_factory.mktemp("console")
    (root / "catalog").mkdir()
    (root / "catalog" / "all.yaml").write_text(
        _catalog(f"http://127.0.0.1:{target.server_address[1]}")
    )
    env = {
        **os.environ,
        "INFRADEX_DATA_DIR": str(root / "data"),
        "INFRADEX_CATALOG": str(root / "catalog"),
        "INFRADEX_MONITOR": "true",
    }
    subprocess.run(
        [sys.executable, "-m", "infradex", "user", "create", "ee", "--password-stdin"],
        input=PASSWORD + "\n", text=True, env=env, check=True, capture_output=True,
    )  # fmt: skip
    incident_id, token = seed_incident(
        env, "Edge CDN is down",
        [("provider:edgecdn/edge", "provider:edgecdn", "root"),
         ("service:shop/home", "service:shop", "impacted")],
    )  # fmt: skip
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "infradex", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/checks", timeout=2) as response:
                    states = {c["id"]: c["state"] for c in json.load(response)["items"]}
                if states.get("service:shop/home") == "down" and "pending" not in states.values():
                    break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            raise AssertionError("the checks did not settle")
        yield url, incident_id, token
    finally:
        process.terminate()
        process.wait(timeout=15)
        target.shutdown()


#: elements whose right or left edge leaves the viewport, outside a box that scrolls by design
#: (diagrams and charts scroll inside their figure); the skip link waits off-screen on purpose
WIDER_THAN_VIEWPORT = """() => {
  const width = document.documentElement.clientWidth;
  const scrolls = e => { for (let p = e.parentElement; p; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if ((x === 'auto' || x === 'scroll') && p !== document.documentElement
          && p !== document.body) return true; } return false; };
  const out = [];
  for (const e of document.querySelectorAll('body *')) {
    if (e.closest('.skip, .visually-hidden, thead')) continue;
    const r = e.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if ((r.right > width + 1 || r.left < -1) && !scrolls(e)) out.push(e.outerHTML.slice(0, 120));
  }
  return out;
}"""

#: text nodes whose rendered text sticks out of the element that holds them, or is clipped by it
TEXT_OUTSIDE_ITS_BOX = """() => {
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const holder = node.parentElement;
    if (!node.textContent.trim() || holder.closest('svg, .skip, .visually-hidden, thead')) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    const text = range.getBoundingClientRect();
    if (text.width === 0) continue;
    let box = holder;
    while (box && getComputedStyle(box).display === 'inline') box = box.parentElement;
    const r = box.getBoundingClientRect();
    const clipped = getComputedStyle(box).overflowX !== 'visible'
      && box.scrollWidth > box.clientWidth + 1;
    if (text.right > r.right + 1 || text.left < r.left - 1 || clipped)
      out.push(node.textContent.trim().slice(0, 60) + ' in ' + box.tagName);
  }
  return out;
}"""

#: the links, buttons and fields a person can act on (visible ones)
ACTIONS = """() => [...document.querySelectorAll(
    'a[href], button, select, input:not([type=hidden]), textarea')]
  .filter(e => !e.closest('.skip') && e.getClientRects().length > 0)
  .map((e, i) => { e.dataset.actionIndex = String(i); return i; }).length"""


def _axe_violations(page: Page, axe: str) -> list[str]:
    # evaluated through the DevTools protocol, which the page's CSP (script-src 'none') does
    # not govern: the page itself still runs no script
    page.evaluate(Path(axe).read_text(encoding="utf-8"))
    found = page.evaluate(
        "async () => (await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})).violations"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', '))"
    )
    return list(found)


def _tab_reaches_every_action(page: Page) -> None:
    count = page.evaluate(ACTIONS)
    reached: set[str] = set()
    page.locator("body").focus()
    for _ in range(count + 40):
        page.keyboard.press("Tab")
        index = page.evaluate("() => document.activeElement?.dataset?.actionIndex ?? null")
        if index is not None:
            reached.add(index)
        if len(reached) == count:
            return
    missing = page.evaluate(
        "(reached) => [...document.querySelectorAll('[data-action-index]')]"
        ".filter(e => !reached.includes(e.dataset.actionIndex))"
        ".map(e => e.outerHTML.slice(0, 100))",
        sorted(reached),
    )
    raise AssertionError(f"not reachable with Tab: {missing}")


def _check(page: Page, name: str, size: str, axe: str) -> None:
    shot(page, f"console-{name}-{size}")
    shot(page, f"console-{name}-{size}-first-screen", full_page=False)  # what a glance sees
    assert page.locator("h1").count() == 1, name
    assert page.evaluate(WIDER_THAN_VIEWPORT) == [], name
    assert page.evaluate(TEXT_OUTSIDE_ITS_BOX) == [], name
    assert _axe_violations(page, axe) == [], name
    _tab_reaches_every_action(page)


@pytest.fixture(scope="module")
def axe() -> str:
    return require_tool("axe-core")


def _sign_in(page: Page, url: str) -> None:
    page.goto(f"{url}/login")
    page.get_by_label("Username").fill("ee")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("form.account")).to_contain_text("ee")


@pytest.mark.parametrize("size", list(WIDTHS))
def test_console_pages_fit_read_and_work_by_keyboard(
    console: tuple[str, int, str], browser: Browser, axe: str, size: str
) -> None:
    url, incident_id, token = console
    width, height = WIDTHS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    for name, path in (
        ("home", "/"),
        ("board", "/board"),
        ("board-filtered", "/board?state=down&team=web"),
        ("service", "/services/shop"),
        ("provider", "/providers/edgecdn"),
        ("impact", "/impact?target=provider:edgecdn"),
        ("incidents", "/incidents"),
        ("oncall", "/oncall"),
        ("search", "/search?q=example"),
        ("problems", "/problems"),
        ("link", f"/act/{token}"),
    ):
        page.goto(url + path)
        _check(page, name, size, axe)
    _sign_in(page, url)
    page.goto(f"{url}/incidents/{incident_id}")
    hero = page.locator(".incident-hero")
    expect(hero.locator(".big-state")).to_have_text(re.compile("^(open|acknowledged)$"))
    _check(page, "incident", size, axe)
    context.close()
    assert errors == []


def test_the_home_and_board_show_state_first(console: tuple[str, int, str], page: Page) -> None:
    url, incident_id, _ = console
    page.goto(url + "/")
    strip = page.locator("section.strip")
    expect(strip.locator(".tile.state-down")).to_contain_text("down")
    expect(strip.get_by_role("link", name=f"#{incident_id} Edge CDN is down")).to_be_visible()
    first = page.locator("#services ~ .table tbody tr").first
    expect(first.locator(".health")).to_have_text("down")
    # the tile is white on red, the dot takes its colour from the state
    red = strip.locator(".tile.state-down").evaluate("e => getComputedStyle(e).backgroundColor")
    assert red == "rgb(185, 28, 28)", red
    page.goto(url + "/board")
    rows = page.locator("table.board tbody tr")
    expect(rows.first.locator(".health")).to_have_text("down")
    bars = rows.first.locator("svg.heartbeat .bar-down")
    assert bars.count() == 1
    fill = bars.first.evaluate("e => getComputedStyle(e).fill")
    assert fill == "rgb(220, 38, 38)", fill  # the stylesheet's red: the check is down
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    page.get_by_label("State").select_option("up")
    page.get_by_label("Reload every 30 s").check()
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(url + "/board?state=up&team=&provider=&auto=1")
    expect(page.locator("table.board .health").first).to_have_text("up")
    assert page.locator('meta[http-equiv="refresh"]').get_attribute("content") == "30"


def test_acting_on_an_incident_with_one_thumb(
    console: tuple[str, int, str], browser: Browser
) -> None:
    """On a phone: the big buttons are at least 44 px tall and the first action is on the
    first screen; Acknowledge turns the hero from red to amber."""
    url, incident_id, _ = console
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    _sign_in(page, url)
    page.goto(f"{url}/incidents/{incident_id}")
    if page.locator(".incident-hero .big-state").inner_text() == "acknowledged":
        page.get_by_role("button", name="Un-acknowledge").click()
    button = page.get_by_role("button", name="Acknowledge", exact=True)
    box = button.bounding_box()
    assert box is not None and box["height"] >= 44 and box["y"] + box["height"] <= 844, box
    shot(page, "console-incident-phone-before")
    button.focus()
    page.keyboard.press("Enter")
    expect(page.locator(".incident-hero .big-state")).to_have_text("acknowledged")
    colour = page.locator(".incident-hero").evaluate("e => getComputedStyle(e).backgroundColor")
    assert colour == "rgb(146, 64, 14)", colour
    shot(page, "console-incident-phone-acknowledged")
    context.close()


#: every label of the diagrams in the page: its rendered font size (font-size times the scale
#: the page draws the SVG at), whether it fits its box, and whether its node is a link
DIAGRAM_LABELS = """() => [...document.querySelectorAll('figure.diagram svg g')]
  .filter(g => g.querySelector('rect') && g.querySelector('text'))
  .map(g => {
    const text = g.querySelector('text'), box = g.querySelector('rect').getBoundingClientRect();
    const scale = text.getScreenCTM().a, bounds = text.getBoundingClientRect();
    return {
      label: text.textContent, title: g.querySelector(':scope > title').textContent,
      px: parseFloat(getComputedStyle(text).fontSize) * scale,
      fits: bounds.left >= box.left && bounds.right <= box.right + 0.5,
      linked: g.closest('a') !== null,
      health: [...g.querySelectorAll('circle.node-health')].map(c => c.getAttribute('class')),
    };
  })"""


def _squeezed(text: str) -> str:
    return text.replace(" ", "").removesuffix("…")


@pytest.mark.parametrize("size", list(WIDTHS))
def test_diagrams_are_legible_linked_and_coloured_by_health(
    console: tuple[str, int, str], browser: Browser, size: str
) -> None:
    url, _, _ = console
    width, height = WIDTHS[size]
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    for path in ("/dependencies", "/services/shop", "/"):
        page.goto(url + path)
        labels = page.evaluate(DIAGRAM_LABELS)
        assert len(labels) >= 2, path
        for label in labels:
            assert label["px"] >= 12, (path, label)  # no 8 px text at any width
            assert label["fits"] and label["linked"], (path, label)
            # a long name is wrapped, not cut; one too long for two lines ends in "…" and
            # its node's tooltip names it whole
            assert _squeezed(label["title"]).startswith(_squeezed(label["label"])), label
        shop = next(x for x in labels if x["title"].endswith("(service:shop)"))
        assert shop["health"] == ["node-health state-down"], shop  # its home check fails
        cdn = next(x for x in labels if x["title"].endswith("(provider:edgecdn)"))
        assert cdn["health"] == ["node-health state-down"], cdn
        if path == "/dependencies":
            long = next(x for x in labels if "long-identifier" in x["title"])
            assert long["label"] == "pypi-mirror-with-a-long-identifier.example.org", long
    page.goto(url + "/dependencies")
    shot(page, f"console-diagram-{size}", full_page=False)
    context.close()


def test_cached_entity_pages_show_health_now(console: tuple[str, int, str], page: Page) -> None:
    """A provider's page is rendered once per catalog; its impact table's health is today's."""
    url, _, _ = console
    page.goto(url + "/providers/edgecdn")
    rows = page.locator("#impact ~ .table tbody tr")
    shop = rows.filter(has_text="shop.example.org")
    expect(shop.locator(".health")).to_have_text("down")
    website = rows.filter(has_text="website.example.org")
    expect(website.locator(".health")).to_have_text("up")
