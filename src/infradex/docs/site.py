"""Write the generated site to a directory: pages, diagrams and (for HTML) the stylesheet.

Writing is all-or-nothing: the site is rendered into a temporary directory beside the target
and swapped in at the end, so a failure never leaves half a site behind.
"""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path

from infradex.catalog import Catalog, Problem
from infradex.docs import html, markdown, rst
from infradex.docs.blocks import Diagram, Page
from infradex.docs.content import build_pages
from infradex.errors import UsageError

__all__ = ["FORMATS", "build_site", "render_site"]

#: format → (file suffix, renderer)
FORMATS: dict[str, tuple[str, Callable[[Page], str]]] = {
    "markdown": (markdown.SUFFIX, markdown.render),
    "rst": (rst.SUFFIX, rst.render),
    "html": (html.SUFFIX, html.render),
}


def render_site(catalog: Catalog, fmt: str, problems: Sequence[Problem] = ()) -> dict[str, str]:
    """Every file of the site as {relative path: text}, without touching the disk."""
    if fmt not in FORMATS:
        raise UsageError(f"unknown docs format {fmt!r}; use " + ", ".join(FORMATS))
    suffix, render = FORMATS[fmt]
    files: dict[str, str] = {}
    for page in build_pages(catalog, problems):
        files[page.id + suffix] = render(page)
        if fmt != "html":  # HTML inlines its pictures (with links); the others point at files
            for block in page.blocks:
                if isinstance(block, Diagram):
                    name = f"diagrams/{block.name}.svg"
                    if name not in files:  # the overview and its own page share one
                        files[name] = block.draw(None)
    if fmt == "html":
        css = resources.files("infradex.docs") / "static" / "style.css"
        files["static/style.css"] = css.read_text(encoding="utf-8")
        icon = resources.files("infradex.docs") / "static" / "favicon.svg"
        files["static/favicon.svg"] = icon.read_text(encoding="utf-8")
    return dict(sorted(files.items()))


def build_site(
    catalog: Catalog, out: Path, fmt: str = "html", problems: Sequence[Problem] = ()
) -> list[Path]:
    """Write the site into ``out`` (replacing what a previous build wrote there)."""
    files = render_site(catalog, fmt, problems)
    out = out.resolve()
    if out.exists() and not out.is_dir():
        raise UsageError(f"{out} is a file; give a directory to write the site into")
    if out.exists() and any(out.iterdir()) and not (out / ".infradex-site").exists():
        raise UsageError(
            f"{out} is not empty and was not written by infradex; choose an empty or new "
            "directory so nothing of yours is overwritten"
        )
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        # not tempfile.mkdtemp: its 0700 would make the site unreadable to a web server
        staging = out.parent / f".infradex-{secrets.token_hex(8)}"
        staging.mkdir()
    except OSError as exc:
        raise UsageError(
            f"cannot write the site to {out}: {exc.strerror or exc}; choose a directory you "
            "can write to"
        ) from None
    try:
        for relative, text in files.items():
            target = staging / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        (staging / ".infradex-site").write_text(f"format: {fmt}\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return [out / relative for relative in files]
