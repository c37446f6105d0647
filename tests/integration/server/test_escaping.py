"""Catalog text is data: markup in titles and descriptions is shown, never run."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    root.mkdir()
    (root / "s.yaml").write_text(
        "apiVersion: infradex/v1\nkind: Service\nmetadata:\n  name: web\n"
        '  title: "<script>alert(1)</script>"\n'
        '  description: "<img src=x onerror=alert(1)>"\nspec: {lifecycle: experimental}\n',
        encoding="utf-8",
    )
    return root


async def test_catalog_text_is_inert_in_pages_and_search(client: httpx.AsyncClient) -> None:
    for path, params in (("/services/web", {}), ("/search", {"q": "<script>"}), ("/", {})):
        page = await client.get(path, params=params)
        assert "<script>alert(1)</script>" not in page.text
        assert "<img src=x" not in page.text
    assert "&lt;script&gt;" in (await client.get("/services/web")).text
