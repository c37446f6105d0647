"""The web UI: the live overview, entity pages, search, problems; safe headers and escaping."""

from __future__ import annotations

import httpx

from infradex.lint import load
from infradex.settings import embedded_example


async def test_home_is_the_overview(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Infrastructure overview" in page.text and 'href="services/docs"' in page.text
    assert '<form class="search"' in page.text


async def test_home_says_once_that_nothing_is_monitored(client: httpx.AsyncClient) -> None:
    """The embedded PSF example with the monitor off: one quiet line, no health column."""
    text = (await client.get("/")).text
    assert text.count("Not monitored:") == 1 and '<p class="quiet">' in text
    assert '<th scope="col">Health</th>' not in text and "No open incidents." in text


async def test_live_pages_do_not_send_readers_to_the_server(client: httpx.AsyncClient) -> None:
    """The static site's sentence about "the server's page" has no place on the server."""
    text = (await client.get("/services/docs")).text
    assert 'id="checks"' in text and "the server's page for this entity" not in text


async def test_entity_page_and_its_links(client: httpx.AsyncClient) -> None:
    page = await client.get("/services/docs")
    assert page.status_code == 200
    assert "Who to contact" in page.text and 'href="../providers/fastly"' in page.text
    assert (await client.get("/providers/fastly")).status_code == 200
    assert (await client.get("/static/style.css")).status_code == 200


async def test_unknown_page_is_a_friendly_404(client: httpx.AsyncClient) -> None:
    page = await client.get("/services/nope")
    assert page.status_code == 404 and "Search the catalog" in page.text


async def test_search_page(client: httpx.AsyncClient) -> None:
    page = await client.get("/search", params={"q": "fastly"})
    assert page.status_code == 200 and 'href="providers/fastly"' in page.text
    assert 'value="fastly"' in page.text


async def test_problems_page_lists_warnings(client: httpx.AsyncClient) -> None:
    page = await client.get("/problems")
    assert page.status_code == 200 and "production service has no owner" in page.text


async def test_security_headers(client: httpx.AsyncClient) -> None:
    headers = (await client.get("/")).headers
    assert "script-src 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"
    assert headers["x-content-type-options"] == "nosniff"


async def test_live_ownership_page_lists_the_catalog_warnings(client: httpx.AsyncClient) -> None:
    page = await client.get("/ownership")
    warnings = load(embedded_example()).warnings
    assert warnings and f"Catalog warnings ({len(warnings)})" in page.text
