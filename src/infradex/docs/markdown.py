"""Render pages as GitHub-flavoured Markdown."""

from __future__ import annotations

import re
from collections.abc import Sequence

from infradex.docs.blocks import (
    Block,
    Bullets,
    Code,
    Diagram,
    Heading,
    Inline,
    Link,
    Page,
    Para,
    Strong,
    Table,
    Text,
    relative,
)

__all__ = ["SUFFIX", "render"]

SUFFIX = ".md"
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#])")


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _inline(page: Page, inlines: Sequence[Inline]) -> str:
    out = []
    for item in inlines:
        if isinstance(item, Text):
            out.append(_escape(item.text))
        elif isinstance(item, Strong):
            stripped = item.text.strip()
            out.append(f"**{_escape(stripped)}**" + (" " if item.text.endswith(" ") else ""))
        elif isinstance(item, Link):
            target = item.url or relative(page.id, item.page or "index", SUFFIX, item.anchor)
            out.append(f"[{_escape(item.text)}](<{target}>)")
    return "".join(out)


def _block(page: Page, block: Block) -> str:
    if isinstance(block, Heading):
        anchor = f'<a id="{block.anchor}"></a>\n\n' if block.anchor else ""
        return f"{anchor}{'#' * block.level} {_escape(block.text)}"
    if isinstance(block, Para):
        return _inline(page, block.inlines)
    if isinstance(block, Bullets):
        return "\n".join(f"- {_inline(page, item)}" for item in block.items)
    if isinstance(block, Table):
        head = "| " + " | ".join(_escape(h) for h in block.headers) + " |"
        rule = "|" + "|".join("---" for _ in block.headers) + "|"
        rows = [
            "| " + " | ".join(_inline(page, cell) or " " for cell in row) + " |"
            for row in block.rows
        ]
        return "\n".join([head, rule, *rows])
    if isinstance(block, Code):
        return f"```{block.language}\n{block.text}\n```"
    if isinstance(block, Diagram):
        return f"![{_escape(block.alt)}]({relative(page.id, 'diagrams/' + block.name, '.svg')})"
    raise TypeError(f"no Markdown for {block!r}")


def render(page: Page) -> str:
    return "\n\n".join(_block(page, b) for b in page.blocks) + "\n"
