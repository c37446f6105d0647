"""Shared fixtures: the fixtures directory, the PSF example catalog, and a helper that writes a
small catalog into a temporary directory."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from infradex.catalog import Catalog, LoadedCatalog
from infradex.lint import load

FIXTURES = Path(__file__).parent / "fixtures"
PSF = Path(__file__).resolve().parents[1] / "examples" / "psf"

WriteCatalog = Callable[[Path, Mapping[str, str]], Path]


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    """``tests/fixtures``."""
    return FIXTURES


@pytest.fixture(scope="session")
def psf_dir() -> Path:
    """The PSF example catalog directory."""
    return PSF


@pytest.fixture(scope="session")
def psf_loaded() -> LoadedCatalog:
    """The PSF example, loaded and validated once per test session."""
    return load(PSF)


@pytest.fixture(scope="session")
def psf(psf_loaded: LoadedCatalog) -> Catalog:
    """The PSF example's :class:`~infradex.catalog.Catalog` (fails the test if it has errors)."""
    assert psf_loaded.catalog is not None, [str(p) for p in psf_loaded.errors]
    return psf_loaded.catalog


def _write_catalog(root: Path, files: Mapping[str, str]) -> Path:
    """Write ``{relative path: YAML text}`` under ``root`` and return ``root``.

    The text is dedented, so it can be written as an indented triple-quoted string; line
    numbers are those of the dedented text (open the string with a backslash so that line 1
    is the first line written).
    """
    root.mkdir(parents=True, exist_ok=True)
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


@pytest.fixture
def write_catalog() -> WriteCatalog:
    """``write_catalog(tmp_path, {"services.yaml": "..."})`` → ``tmp_path``."""
    return _write_catalog


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=("sqlite", "postgresql"),
        default="sqlite",
        help="the store the store and server tests run on (CI runs both)",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``postgresql_only`` are deselected (counted as such, not skipped) unless
    the run is on PostgreSQL (``--db postgresql``, as `make test-pg` runs); tests marked
    ``netns`` are deselected where network namespaces cannot be made (not root, no iproute2)."""
    from netns_topology import netns_available

    unwanted = set()
    if config.getoption("--db") != "postgresql":
        unwanted.add("postgresql_only")
    if any(item.get_closest_marker("netns") for item in items) and not netns_available():
        unwanted.add("netns")
    kept = [i for i in items if not any(i.get_closest_marker(m) for m in unwanted)]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[i for i in items if i not in kept])
        items[:] = kept
