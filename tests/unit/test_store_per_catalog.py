"""Two catalogs on the default store never share incidents: each catalog's default SQLite
file is its own (named after the catalog's resolved path); the embedded example keeps
``infradex.db``; INFRADEX_DATABASE_URL still wins."""

from __future__ import annotations

from pathlib import Path

from infradex.settings import Settings


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {"INFRADEX_DATA_DIR": str(tmp_path / "data"), **extra}


def test_each_catalog_has_its_own_default_store(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    one, two = tmp_path / "one" / "catalog", tmp_path / "two" / "catalog"
    one.mkdir(parents=True)
    two.mkdir(parents=True)
    first = Settings.from_env(_env(tmp_path), catalog=one).database_url
    second = Settings.from_env(_env(tmp_path), catalog=two).database_url
    assert first != second
    assert first.startswith(f"sqlite:///{tmp_path / 'data'}/infradex-catalog-")
    # the same catalog, however it is named, is the same store
    monkeypatch.chdir(tmp_path / "one")
    again = Settings.from_env(_env(tmp_path, INFRADEX_CATALOG="catalog")).database_url
    link = tmp_path / "link"
    link.symlink_to(one)
    assert again == first == Settings.from_env(_env(tmp_path), catalog=link).database_url


def test_the_embedded_example_keeps_its_store_and_a_set_url_wins(tmp_path: Path) -> None:
    embedded = Settings.from_env(_env(tmp_path))
    assert embedded.database_url == f"sqlite:///{tmp_path / 'data' / 'infradex.db'}"
    chosen = Settings.from_env(
        _env(tmp_path, INFRADEX_DATABASE_URL="sqlite:///elsewhere.db"), catalog=tmp_path
    )
    assert chosen.database_url == "sqlite:///elsewhere.db"
