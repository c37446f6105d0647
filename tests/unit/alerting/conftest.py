"""The alerting fixture catalog (tests/fixtures/alerting), loaded with dummy check URLs."""

from __future__ import annotations

from pathlib import Path

import pytest

from infradex.catalog import Catalog, load

FIXTURE = Path(__file__).resolve().parents[2] / "fixtures" / "alerting" / "catalog.yaml"


def alerting_catalog(directory: Path, urls: dict[str, str] | None = None) -> Path:
    """Write the fixture catalog into ``directory`` with its placeholders replaced."""
    urls = {
        "__CDN_URL__": "http://127.0.0.1:9/edge",
        "__APP_URL__": "http://127.0.0.1:9",
        "__SOLO_URL__": "http://127.0.0.1:9/solo",
        **(urls or {}),
    }
    text = FIXTURE.read_text(encoding="utf-8")
    for placeholder, url in urls.items():
        text = text.replace(placeholder, url)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "catalog.yaml").write_text(text, encoding="utf-8")
    return directory


@pytest.fixture(scope="session")
def org(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    loaded = load(alerting_catalog(tmp_path_factory.mktemp("org")))
    assert loaded.catalog is not None, [str(p) for p in loaded.errors]
    return loaded.catalog
