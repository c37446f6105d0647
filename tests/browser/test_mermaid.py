"""The Mermaid diagrams infradex writes parse in Mermaid itself (npm's mermaid, loaded into
Debian's Chromium): the PSF example, and a catalog whose every title is an attack."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from infradex.catalog import load
from infradex.catalog.queries import graph
from infradex.docs.diagram import to_mermaid
from infradex.settings import embedded_example
from security.output_helpers import catalog_of
from security.test_output_property import ATTACKS
from system_tools import require_tool

pytestmark = pytest.mark.browser

PARSE = """async (source) => {
  try { await mermaid.parse(source); return null; } catch (error) { return String(error); }
}"""
#: the nodes and edges Mermaid read: an attack must not add any
SHAPE = """async (source) => {
  const diagram = await mermaid.mermaidAPI.getDiagramFromText(source);
  return [diagram.db.getVertices().size, diagram.db.getEdges().length];
}"""


@pytest.fixture(scope="module")
def mermaid(browser: Browser) -> Page:
    script = require_tool("mermaid")
    page = browser.new_context().new_page()
    page.set_content("<!doctype html><title>mermaid</title>")
    page.add_script_tag(path=script)
    page.evaluate("mermaid.initialize({startOnLoad: false, securityLevel: 'strict'})")
    return page


def _problem(mermaid: Page, source: str) -> str | None:
    result = mermaid.evaluate(PARSE, source)
    assert result is None or isinstance(result, str)
    return result


def test_a_broken_diagram_does_not_parse(mermaid: Page) -> None:
    # the check can fail: an unclosed label is an error to Mermaid
    assert _problem(mermaid, 'flowchart LR\n  a["open label --> b\n') is not None


def test_the_psf_example_diagram_parses(mermaid: Page) -> None:
    catalog = load(embedded_example()).catalog
    assert catalog is not None
    source = to_mermaid(catalog, graph(catalog))
    assert source.count("-->") > 20
    assert _problem(mermaid, source) is None


@pytest.mark.parametrize("attack", ATTACKS)
def test_hostile_titles_still_parse(mermaid: Page, attack: str, tmp_path: Path) -> None:
    catalog = catalog_of(
        {"kind": "Service", "metadata": {"name": "a", "title": attack}, "spec": {}},
        {
            "kind": "Service",
            "metadata": {"name": "b", "title": attack + " b"},
            "spec": {"dependsOn": ["service:a"]},
        },
    )
    source = to_mermaid(catalog, graph(catalog))
    assert _problem(mermaid, source) is None, source
    assert mermaid.evaluate(SHAPE, source) == [2, 1], source
