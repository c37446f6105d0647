"""A catalog with hundreds of services: the home page lists them a page at a time."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

SERVICES = 250


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    root = tmp_path / "catalog"
    root.mkdir()
    documents = [
        "apiVersion: infradex/v1\nkind: Provider\nmetadata: {name: cloud}\nspec: {type: iaas}\n"
    ]
    documents += [
        f"apiVersion: infradex/v1\nkind: Service\nmetadata: {{name: svc-{n:03d}}}\n"
        "spec: {lifecycle: experimental, hostedOn: [provider:cloud]}\n"
        for n in range(SERVICES)
    ]
    (root / "catalog.yaml").write_text("---\n".join(documents), encoding="utf-8")
    return root


async def test_home_pages_through_the_services(client: httpx.AsyncClient) -> None:
    first = await client.get("/")
    assert "Services (250)" in first.text and "Page 1 of 3" in first.text
    assert 'href="services/svc-000"' in first.text and 'href="services/svc-100"' not in first.text
    assert 'href="?page=2#services"' in first.text
    third = await client.get("/", params={"page": 3})
    assert "Page 3 of 3" in third.text and 'href="services/svc-249"' in third.text
    assert (await client.get("/", params={"page": 99})).status_code == 200  # clamped: last page
    assert (await client.get("/", params={"page": 0})).status_code == 422
