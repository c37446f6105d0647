"""The generated overview: golden files, determinism, working links, Sphinx, escaping."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from infradex.catalog import LoadedCatalog
from infradex.docs import build_site
from infradex.docs.site import render_site
from infradex.lint import load
from infradex.settings import embedded_example

GOLDEN = Path(__file__).parents[2] / "golden" / "psf"
UPDATE = os.environ.get("INFRADEX_UPDATE_GOLDEN") == "1"


@pytest.fixture(scope="module")
def psf() -> LoadedCatalog:
    loaded = load(embedded_example())
    assert loaded.catalog is not None
    return loaded


@pytest.mark.parametrize("fmt", ["markdown", "rst"])
def test_matches_golden_files(psf: LoadedCatalog, fmt: str) -> None:
    """Generated docs are reviewed as diffs: regenerate with INFRADEX_UPDATE_GOLDEN=1."""
    assert psf.catalog is not None
    files = render_site(psf.catalog, fmt, psf.problems)
    golden = GOLDEN / fmt
    if UPDATE:
        for relative, text in files.items():
            (golden / relative).parent.mkdir(parents=True, exist_ok=True)
            (golden / relative).write_text(text, encoding="utf-8")
    expected = {
        p.relative_to(golden).as_posix(): p.read_text(encoding="utf-8")
        for p in sorted(golden.rglob("*"))
        if p.is_file()
    }
    assert sorted(files) == sorted(expected)
    for relative, text in files.items():
        assert text == expected[relative], f"{relative} differs from its golden file"


@pytest.mark.parametrize("fmt", ["markdown", "rst", "html"])
def test_output_is_byte_identical_across_builds(tmp_path: Path, fmt: str) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for out in (first, second):
        loaded = load(embedded_example())  # a fresh load each time, as a new process would
        assert loaded.catalog is not None
        build_site(loaded.catalog, out, fmt, loaded.problems)
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    for relative in files:
        assert (first / relative).read_bytes() == (second / relative).read_bytes(), relative


def test_overview_has_what_the_psf_page_has(psf: LoadedCatalog) -> None:
    assert psf.catalog is not None
    index = render_site(psf.catalog, "markdown")["index.md"]
    for needle in (
        "## Infrastructure Team",
        "infrastructure-staff@python.org",
        "irc \\#python-infra on libera",
        "## Providers",
        "## Data centers",
        "| [ams1](<datacenters/ams1.md>) | [DigitalOcean](<providers/digitalocean.md>) | AMS3 |",
        "### docs.python.org",
        "**CDN:** [Fastly](<providers/fastly.md>)",
        "![Dependency diagram",
        "## On call",
    ):
        assert needle in index, needle


def test_the_overview_and_gandis_page_say_what_gandi_is_for(psf: LoadedCatalog) -> None:
    assert psf.catalog is not None
    pages = render_site(psf.catalog, "markdown")
    (row,) = [line for line in pages["index.md"].splitlines() if line.startswith("| [Gandi]")]
    assert "Registrar of python.org, pypi.org, jython.org" in row
    gandi = " ".join(pages["providers/gandi.md"].split())  # paragraphs are wrapped
    assert "**Registrar for:** python.org, pypi.org" in gandi
    assert "A lapsed registration would take those zones down" in gandi


def test_a_service_page_says_which_dependencies_only_degrade_it(psf: LoadedCatalog) -> None:
    assert psf.catalog is not None
    speed = render_site(psf.catalog, "markdown")["services/speed.md"]
    assert (
        "- **Depends on:** [speed-python (OSUOSL)](<../hosts/speed-python-osl1.md>) (degraded "
        "without it), [Buildbot](<../services/buildbot.md>) (degraded without it)\n"
    ) in speed


def test_every_internal_html_link_resolves(psf: LoadedCatalog, tmp_path: Path) -> None:
    assert psf.catalog is not None
    written = build_site(psf.catalog, tmp_path / "site", "html", psf.problems)
    pages = [p for p in written if p.suffix == ".html"]
    assert len(pages) > 50
    checked = 0
    for page in pages:
        html = page.read_text(encoding="utf-8")
        ids = set(re.findall(r' id="([^"]+)"', html))
        for href in re.findall(r'href="([^"]+)"', html):
            if href.startswith(("http://", "https://", "mailto:")):
                continue
            target, _, anchor = href.partition("#")
            path = (page.parent / target).resolve() if target else page
            assert path.is_file(), f"{page.name}: broken link {href}"
            if anchor:
                target_ids = (
                    ids
                    if not target
                    else set(re.findall(r' id="([^"]+)"', path.read_text(encoding="utf-8")))
                )
                assert anchor in target_ids, f"{page.name}: missing anchor {href}"
            checked += 1
    assert checked > 500


def test_every_markdown_link_and_image_resolves(psf: LoadedCatalog, tmp_path: Path) -> None:
    assert psf.catalog is not None
    written = build_site(psf.catalog, tmp_path / "md", "markdown", psf.problems)
    for page in (p for p in written if p.suffix == ".md"):
        for target in re.findall(r"\]\(<([^>]+)>\)|\]\(([^)<]+)\)", page.read_text("utf-8")):
            link = (target[0] or target[1]).partition("#")[0]
            if link.startswith(("http", "mailto:")) or not link:
                continue
            assert (page.parent / link).resolve().is_file(), f"{page}: broken link {link}"


def test_rst_fragments_build_in_sphinx_without_warnings(psf: LoadedCatalog, tmp_path: Path) -> None:
    assert psf.catalog is not None
    source = tmp_path / "src"
    build_site(psf.catalog, source / "infra", "rst", psf.problems)
    (source / "conf.py").write_text('project = "host"\n', encoding="utf-8")
    (source / "index.rst").write_text(
        "Host\n====\n\n.. toctree::\n   :glob:\n\n   infra/index\n   infra/ownership\n"
        "   infra/dependencies\n   infra/*/*\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "sphinx",
            "-q",
            "-W",
            "--keep-going",
            "-b",
            "html",
            str(source),
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "out" / "infra" / "services" / "docs.html").is_file()


def test_catalog_text_is_escaped(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "apiVersion: infradex/v1\nkind: Service\nmetadata:\n  name: web\n"
        '  title: "<script>alert(1)</script>"\n'
        '  description: "*bold* [x](javascript:alert(1)) `code` | pipe"\n'
        "spec: {}\n",
        encoding="utf-8",
    )
    loaded = load(tmp_path)
    assert loaded.catalog is not None
    html = render_site(loaded.catalog, "html")["services/web.html"]
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = render_site(loaded.catalog, "markdown")["services/web.md"]
    assert "\\*bold\\* \\[x\\](javascript:alert(1)) \\`code\\` \\| pipe" in md
    rst = render_site(loaded.catalog, "rst")["services/web.rst"]
    assert "\\*bold\\* \\[x\\](javascript\\:alert(1)) \\`code\\` \\| pipe" in rst
