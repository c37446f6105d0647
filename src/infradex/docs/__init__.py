"""Generated documentation: the overview and its pages as Markdown, reStructuredText or HTML.

``build_site`` and ``FORMATS`` are loaded on first use: the site builder brings Jinja and
every renderer, which a caller of one renderer (``infradex dns plan --format markdown``
uses ``infradex.docs.markdown``) does not need at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from infradex.docs.site import FORMATS, build_site

__all__ = ["FORMATS", "build_site"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from infradex.docs import site

        return getattr(site, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
