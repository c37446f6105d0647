"""Generated documentation: the overview and its pages as Markdown, reStructuredText or HTML."""

from infradex.docs.site import FORMATS, build_site

__all__ = ["FORMATS", "build_site"]
