"""The server's overview stays light at any size: long tables show their first rows and link to
a page of their own, a zone names a few services and links to its impact, a large diagram is
linked; the static site keeps everything."""

from __future__ import annotations

from pathlib import Path

import pytest

from infradex.catalog import Catalog, load
from infradex.docs.content import (
    HOME_SECTION_ROWS,
    ZONE_SERVICES_SHOWN,
    build_page,
)
from infradex.docs.html import render_body

PROVIDERS = HOME_SECTION_ROWS + 5
SERVICES = ZONE_SERVICES_SHOWN + 3


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    root: Path = tmp_path_factory.mktemp("catalog")
    docs = [
        "apiVersion: infradex/v1\nkind: Team\nmetadata: {name: infrastructure}\n"
        "spec: {contacts: [{type: email, address: infra@example.org}]}\n"
    ]
    docs += [
        f"apiVersion: infradex/v1\nkind: Provider\nmetadata: {{name: p{i:02}, title: P {i}}}\n"
        "spec: {type: iaas}\n"
        for i in range(PROVIDERS)
    ]
    docs.append(
        "apiVersion: infradex/v1\nkind: Zone\nmetadata: {name: example.org}\n"
        "spec: {provider: p00, registrar: p01, records: {}}\n"
    )
    docs += [
        f"apiVersion: infradex/v1\nkind: Service\nmetadata: {{name: s{i:02}}}\n"
        f"spec: {{domains: [s{i:02}.example.org], "
        "owners: [{ref: team:infrastructure}]}\n"
        for i in range(SERVICES)
    ]
    (root / "catalog.yaml").write_text("---\n".join(docs))
    loaded = load(root)
    assert loaded.catalog is not None, loaded.errors[:3]
    return loaded.catalog


def test_the_live_home_caps_long_tables_and_links_their_pages(large: Catalog) -> None:
    page = build_page(large, "index", live=True)
    assert page is not None
    text = render_body(page, "")
    providers = text[text.index('id="providers"') : text.index('id="datacenters"')]
    assert providers.count('href="providers/p') == HOME_SECTION_ROWS
    assert f"The first {HOME_SECTION_ROWS} of {PROVIDERS} providers: " in providers
    assert f'<a href="providers">all {PROVIDERS} providers</a>' in providers
    whole = build_page(large, "providers", live=True)
    assert whole is not None
    assert render_body(whole, "").count('href="providers/p') == PROVIDERS


def test_a_zone_names_a_few_services_and_links_its_impact(large: Catalog) -> None:
    page = build_page(large, "dns", live=True)
    assert page is not None
    text = render_body(page, "")
    assert text.count('href="services/s') == ZONE_SERVICES_SHOWN
    assert '<a href="./impact?target=zone:example.org">3 more</a>' in text


def test_the_static_site_keeps_every_row(large: Catalog) -> None:
    page = build_page(large, "index")
    assert page is not None
    text = render_body(page, ".html")
    assert text.count('href="providers/p') >= PROVIDERS
    assert "more</a>" not in text and "all 30 providers" not in text
    assert build_page(large, "providers") is None  # the static site has no such page
